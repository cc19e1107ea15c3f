"""The organiser's commands: the fair itself, who takes part, and the money.

Setup changes may happen while the fair runs, and never undo booked work: a
budget cannot drop below what its team has already spent, nor the subsidy
pool below what it has already granted.  A new subsidy rate applies to orders
confirmed after it; orders keep the subsidy they were confirmed with.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import update
from sqlmodel import select

from fair.core import negotiations
from fair.core.actors import Role
from fair.core.commands import Tx, command
from fair.core.errors import N_, Code, FairError
from fair.core.guards import current_fair, get, mirror
from fair.core.inputs import (
    ApproveSupplier,
    ApproveTeam,
    ConfigureFair,
    CreateFair,
    NoInput,
    RegisterSupplier,
    RegisterTeam,
    SetBudget,
)
from fair.core.labels import FAIR_STATES
from fair.core.views import fair_view, supplier_view, team_view
from fair.models import Fair, FairState, Negotiation, Supplier, Team


@command("fair.create", CreateFair, Role.organiser)
async def create_fair(tx: Tx, data: CreateFair) -> dict[str, Any]:
    fair = Fair(
        name=data.name,
        day=dt.date.fromisoformat(data.day),
        venue=data.venue,
        subsidy_rate_bp=data.subsidy_rate_bp,
        subsidy_pool_fen=data.subsidy_pool_fen,
        created_at=tx.now,
    )
    tx.session.add(fair)
    await tx.session.flush()
    tx.fair_id = fair.id
    return _announce_fair(tx, "fair.created", fair)


@command("fair.open", NoInput, Role.organiser)
async def open_fair(tx: Tx, data: NoInput) -> dict[str, Any]:
    fair = await current_fair(tx)
    await _move(tx, fair, FairState.setup, FairState.open)
    return _announce_fair(tx, "fair.opened", fair)


@command("fair.close", NoInput, Role.organiser)
async def close_fair(tx: Tx, data: NoInput) -> dict[str, Any]:
    """Close the day: what was not confirmed expires, with word to both parties."""
    fair = await current_fair(tx)
    if fair.state != FairState.open:
        raise _cannot_move(fair, FairState.closed)
    await negotiations.expire(tx, Negotiation.fair_id == fair.id, reason="fair_closed")
    await _move(tx, fair, FairState.open, FairState.closed)
    return _announce_fair(tx, "fair.closed", fair)


@command("fair.configure", ConfigureFair, Role.organiser)
async def configure(tx: Tx, data: ConfigureFair) -> dict[str, Any]:
    fair = await current_fair(tx)
    changes = data.model_dump(exclude_none=True)
    if not changes:
        raise FairError(Code.invalid_input, N_("Nothing to change."))
    where = [Fair.id == fair.id]
    if "subsidy_pool_fen" in changes:
        where.append(Fair.subsidy_used_fen <= changes["subsidy_pool_fen"])
    done = (
        await tx.session.exec(
            update(Fair)
            .where(*where)
            .values(**changes)
            .returning(Fair.subsidy_rate_bp, Fair.subsidy_pool_fen, Fair.subsidy_used_fen)
        )
    ).first()
    if done is None:
        await tx.session.refresh(fair)
        raise FairError(
            Code.invalid_input,
            N_("%(used_fen)s of subsidy is already granted: the pool cannot be smaller."),
            used_fen=fair.subsidy_used_fen,
        )
    mirror(fair, **done._asdict())
    return _announce_fair(tx, "fair.updated", fair)


@command("supplier.register", RegisterSupplier, Role.organiser)
async def register_supplier(tx: Tx, data: RegisterSupplier) -> dict[str, Any]:
    fair = await current_fair(tx)
    taken = await tx.session.exec(select(Supplier.id).where(Supplier.fair_id == fair.id, Supplier.booth == data.booth))
    if taken.first() is not None:
        raise FairError(Code.invalid_input, N_("Booth %(booth)s is already taken."), booth=data.booth)
    supplier = Supplier(fair_id=fair.id, created_at=tx.now, **data.model_dump())
    tx.session.add(supplier)
    await tx.session.flush()
    return _announce_supplier(tx, supplier)


@command("supplier.approve", ApproveSupplier, Role.organiser)
async def approve_supplier(tx: Tx, data: ApproveSupplier) -> dict[str, Any]:
    await current_fair(tx)
    supplier = await get(tx, Supplier, data.supplier_id)
    await tx.session.exec(update(Supplier).where(Supplier.id == supplier.id).values(approved=data.approved))
    mirror(supplier, approved=data.approved)
    return _announce_supplier(tx, supplier)


@command("team.register", RegisterTeam, Role.organiser)
async def register_team(tx: Tx, data: RegisterTeam) -> dict[str, Any]:
    fair = await current_fair(tx)
    team = Team(fair_id=fair.id, created_at=tx.now, **data.model_dump())
    tx.session.add(team)
    await tx.session.flush()
    return _announce_team(tx, team)


@command("team.approve", ApproveTeam, Role.organiser)
async def approve_team(tx: Tx, data: ApproveTeam) -> dict[str, Any]:
    await current_fair(tx)
    team = await get(tx, Team, data.team_id)
    await tx.session.exec(update(Team).where(Team.id == team.id).values(approved=data.approved))
    mirror(team, approved=data.approved)
    return _announce_team(tx, team)


@command("team.set_budget", SetBudget, Role.organiser)
async def set_budget(tx: Tx, data: SetBudget) -> dict[str, Any]:
    await current_fair(tx)
    team = await get(tx, Team, data.team_id)
    done = (
        await tx.session.exec(
            update(Team)
            .where(Team.id == team.id, Team.spent_fen <= data.budget_fen)
            .values(budget_fen=data.budget_fen)
            .returning(Team.budget_fen, Team.spent_fen, Team.self_funded_fen, Team.subsidy_fen)
        )
    ).first()
    if done is None:
        await tx.session.refresh(team)
        raise FairError(
            Code.invalid_input,
            N_("%(spent_fen)s is already spent: the budget cannot be smaller."),
            spent_fen=team.spent_fen,
        )
    mirror(team, **done._asdict())
    return _announce_team(tx, team)


async def _move(tx: Tx, fair: Fair, source: FairState, target: FairState) -> None:
    moved = await tx.session.exec(update(Fair).where(Fair.id == fair.id, Fair.state == source).values(state=target))
    if moved.rowcount != 1:
        raise _cannot_move(fair, target)
    mirror(fair, state=target)


def _cannot_move(fair: Fair, target: FairState) -> FairError:
    return FairError(
        Code.invalid_state,
        N_("The fair is %(state_label)s: it cannot become %(target_label)s."),
        state_label=FAIR_STATES[fair.state],
        target_label=FAIR_STATES[target],
    )


def _announce_fair(tx: Tx, type: str, fair: Fair) -> dict[str, Any]:
    view = fair_view(fair)
    tx.emit(type, {"fair": view})
    return {"fair": view}


def _announce_supplier(tx: Tx, supplier: Supplier) -> dict[str, Any]:
    view = supplier_view(supplier)
    tx.emit("supplier.updated", {"supplier": view})
    return {"supplier": view}


def _announce_team(tx: Tx, team: Team) -> dict[str, Any]:
    view = team_view(team)
    tx.emit("team.updated", {"team": view})
    return {"team": view}
