"""The organiser's commands: the fair itself, who takes part, and the money.

Setup changes may happen while the fair runs, and never undo booked work: a
budget cannot drop below what its team has already spent, nor the subsidy
pool below what it has already granted.  A new subsidy rate applies to orders
confirmed after it; orders keep the subsidy they were confirmed with.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import col

from fair.core import negotiations
from fair.core.actors import Role
from fair.core.commands import Tx, command
from fair.core.errors import N_, Code, FairError
from fair.core.guards import current_fair
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
from fair.core.rows import Row, get, insert_row, new, not_found, returned
from fair.core.views import fair_view, supplier_view, team_view
from fair.models import BoothQueue, Fair, FairState, Supplier, Team


@command("fair.create", CreateFair, Role.organiser)
def create_fair(tx: Tx, data: CreateFair) -> dict[str, Any]:
    fair = new(Fair, **data.model_dump(), created_at=tx.now)
    fair.day = dt.date.fromisoformat(data.day)
    insert_row(tx, Fair, fair)
    tx.fair_id = fair.id
    return _announce_fair(tx, "fair.created", fair)


@command("fair.preview", NoInput, Role.organiser)
def preview_fair(tx: Tx, data: NoInput) -> dict[str, Any]:
    """Show the catalogue before the day: teams browse, shortlist and book meetings; nothing is confirmed yet."""
    fair = _move(tx, current_fair(tx), (FairState.setup,), FairState.preview)
    return _announce_fair(tx, "fair.previewed", fair)


@command("fair.open", NoInput, Role.organiser)
def open_fair(tx: Tx, data: NoInput) -> dict[str, Any]:
    fair = _move(tx, current_fair(tx), (FairState.setup, FairState.preview), FairState.open)
    return _announce_fair(tx, "fair.opened", fair)


@command("fair.close", NoInput, Role.organiser, then=negotiations.expire_stranded)
def close_fair(tx: Tx, data: NoInput) -> dict[str, Any]:
    """Close the day; what was not confirmed then expires, with word to both parties.

    Only the fair row is locked here: a command still in flight is refused when
    it takes the fair row to number its events (see ``fair.core.guards``), and
    the follow-up expires what is left once nothing can change it any more.
    Expiring here, before the fair row, would miss what opens meanwhile;
    after it, would lock negotiations behind the fair row, against the lock order.
    """
    fair = current_fair(tx)
    if fair.state != FairState.open:
        raise _cannot_move(fair, FairState.closed)
    fair = _move(tx, fair, (FairState.open,), FairState.closed, closed_at=tx.now)
    return _announce_fair(tx, "fair.closed", fair)


@command("fair.configure", ConfigureFair, Role.organiser)
def configure(tx: Tx, data: ConfigureFair) -> dict[str, Any]:
    fair = current_fair(tx)
    changes = data.model_dump(exclude_none=True)
    if not changes:
        raise FairError(Code.invalid_input, N_("Nothing to change."))
    where = [Fair.id == fair.id]
    if "subsidy_pool_fen" in changes:
        where.append(Fair.subsidy_used_fen <= changes["subsidy_pool_fen"])
    done = returned(tx.run(update(Fair).where(*where).values(**changes).returning(Fair.__table__)))
    if done is None:
        raise FairError(
            Code.invalid_input,
            N_("%(used_fen)s of subsidy is already granted: the pool cannot be smaller."),
            used_fen=current_fair(tx).subsidy_used_fen,
        )
    return _announce_fair(tx, "fair.updated", done)


@command("supplier.register", RegisterSupplier, Role.organiser)
def register_supplier(tx: Tx, data: RegisterSupplier) -> dict[str, Any]:
    fair = current_fair(tx)
    taken = tx.run(select(Supplier.id).where(Supplier.fair_id == fair.id, Supplier.booth == data.booth)).first()
    if taken is not None:
        raise FairError(Code.invalid_input, N_("Booth %(booth)s is already taken."), booth=data.booth)
    supplier = insert_row(tx, Supplier, new(Supplier, fair_id=fair.id, created_at=tx.now, **data.model_dump()))
    tx.run(insert(BoothQueue).values(supplier_id=supplier.id, fair_id=fair.id))  # its queue on the day
    return announce_supplier(tx, supplier)


@command("supplier.approve", ApproveSupplier, Role.organiser)
def approve_supplier(tx: Tx, data: ApproveSupplier) -> dict[str, Any]:
    current_fair(tx)
    changed = update(Supplier).where(Supplier.id == data.supplier_id, Supplier.fair_id == tx.fair_id)
    supplier = returned(tx.run(changed.values(approved=data.approved).returning(Supplier.__table__)))
    if supplier is None:
        raise not_found("supplier", data.supplier_id)
    return announce_supplier(tx, supplier)


@command("team.register", RegisterTeam, Role.organiser)
def register_team(tx: Tx, data: RegisterTeam) -> dict[str, Any]:
    fair = current_fair(tx)
    team = insert_row(tx, Team, new(Team, fair_id=fair.id, created_at=tx.now, **data.model_dump()))
    return announce_team(tx, team)


@command("team.approve", ApproveTeam, Role.organiser)
def approve_team(tx: Tx, data: ApproveTeam) -> dict[str, Any]:
    current_fair(tx)
    changed = update(Team).where(Team.id == data.team_id, Team.fair_id == tx.fair_id)
    team = returned(tx.run(changed.values(approved=data.approved).returning(Team.__table__)))
    if team is None:
        raise not_found("team", data.team_id)
    return announce_team(tx, team)


@command("team.set_budget", SetBudget, Role.organiser)
def set_budget(tx: Tx, data: SetBudget) -> dict[str, Any]:
    current_fair(tx)
    team = get(tx, Team, data.team_id)
    done = returned(
        tx.run(
            update(Team)
            .where(Team.id == team.id, Team.spent_fen <= data.budget_fen)
            .values(budget_fen=data.budget_fen)
            .returning(Team.__table__)
        )
    )
    if done is None:
        raise FairError(
            Code.invalid_input,
            N_("%(spent_fen)s is already spent: the budget cannot be smaller."),
            spent_fen=get(tx, Team, data.team_id).spent_fen,
        )
    return announce_team(tx, done)


def _move(tx: Tx, fair: Row, sources: tuple[FairState, ...], target: FairState, **also: Any) -> Row:
    """Move the fair from one of ``sources`` to ``target`` (and set ``also``); the fair as it now stands."""
    moved = tx.run(
        update(Fair)
        .where(Fair.id == fair.id, col(Fair.state).in_(sources))
        .values(state=target, **also)
        .returning(Fair.__table__)
    )
    done = returned(moved)
    if done is None:
        raise _cannot_move(current_fair(tx), target)
    return done


def _cannot_move(fair: Row, target: FairState) -> FairError:
    return FairError(
        Code.invalid_state,
        N_("The fair is %(state_label)s: it cannot become %(target_label)s."),
        state_label=FAIR_STATES[fair.state],
        target_label=FAIR_STATES[target],
    )


def _announce_fair(tx: Tx, type: str, fair: Row) -> dict[str, Any]:
    view = fair_view(fair)
    tx.emit(type, {"fair": view})
    return {"fair": view}


def announce_supplier(tx: Tx, supplier: Row) -> dict[str, Any]:
    view = supplier_view(supplier)
    tx.emit("supplier.updated", {"supplier": view})
    return {"supplier": view}


def announce_team(tx: Tx, team: Row) -> dict[str, Any]:
    view = team_view(team)
    tx.emit("team.updated", {"team": view})
    return {"team": view}
