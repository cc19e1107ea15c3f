"""Negotiation: a buyer team and a supplier agree on numbered versions of terms.

States: open (no terms yet) → proposed (first terms) → countered (any later
terms) → confirmed, or declined, withdrawn, expired.

Whoever puts terms on the table accepts them by doing so; the other side's
earlier acceptance lapses.  When the other side accepts that same version,
the order is confirmed in the same transaction (``fair.core.orders``): there
is no resting "agreed" state.  If confirmation is refused (capacity, dates,
budget, subsidy pool, fair not open) nothing is taken, the acceptance does
not count, and the refusal is noted on the negotiation for both parties.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select

from fair.core import orders
from fair.core.actors import Role
from fair.core.commands import Refusal, Tx, command
from fair.core.errors import N_, Code, FairError
from fair.core.guards import (
    acting_supplier,
    acting_team,
    current_fair,
    get,
    mirror,
    not_found,
    require_not_closed,
    require_open,
)
from fair.core.inputs import Accept, Counter, NegotiationRef, OpenNegotiation, Propose, TermsInput
from fair.core.labels import NEGOTIATION_STATES
from fair.core.views import negotiation_view
from fair.models import (
    ACTIVE_NEGOTIATION_STATES,
    Negotiation,
    NegotiationState,
    Offering,
    Side,
    Supplier,
    Team,
    Terms,
)

PARTIES = (Role.team, Role.supplier)


class Loaded:
    """A negotiation with everything its rules and its view need, read in one query."""

    def __init__(
        self, negotiation: Negotiation, terms: Terms | None, offering: Offering, team: Team, supplier: Supplier
    ):
        self.negotiation, self.terms, self.offering, self.team, self.supplier = (
            negotiation,
            terms,
            offering,
            team,
            supplier,
        )

    def view(self) -> dict[str, Any]:
        return negotiation_view(self.negotiation, self.terms, self.offering, self.team, self.supplier)


async def load(tx: Tx, negotiation_id: int) -> Loaded:
    statement = (
        select(Negotiation, Terms, Offering, Team, Supplier)
        .join(Offering, Offering.id == Negotiation.offering_id)
        .join(Team, Team.id == Negotiation.team_id)
        .join(Supplier, Supplier.id == Negotiation.supplier_id)
        .outerjoin(Terms, (Terms.negotiation_id == Negotiation.id) & (Terms.version == Negotiation.version))
        .where(Negotiation.id == negotiation_id, Negotiation.fair_id == tx.fair_id)
    )
    row = (await tx.session.exec(statement)).first()
    if row is None:
        raise not_found("negotiation", negotiation_id)
    return Loaded(*row)


def side_of(tx: Tx, loaded: Loaded) -> Side:
    """The actor's side in this negotiation; anyone else is refused."""
    negotiation = loaded.negotiation
    if tx.actor.role == Role.team and tx.actor.party_id == negotiation.team_id:
        return Side.team
    if tx.actor.role == Role.supplier and tx.actor.party_id == negotiation.supplier_id:
        return Side.supplier
    raise FairError(Code.not_a_party, N_("This negotiation is between other parties."))


def require_active(negotiation: Negotiation) -> None:
    if negotiation.state not in ACTIVE_NEGOTIATION_STATES:
        raise FairError(
            Code.invalid_state,
            N_("This negotiation is already %(state_label)s."),
            state_label=NEGOTIATION_STATES[negotiation.state],
        )


async def _load_as_party(tx: Tx, negotiation_id: int) -> tuple[Loaded, Side]:
    loaded = await load(tx, negotiation_id)
    side = side_of(tx, loaded)
    if side == Side.team:
        await acting_team(tx)
    else:
        await acting_supplier(tx)
    require_not_closed(await current_fair(tx))
    require_active(loaded.negotiation)
    return loaded, side


@command("negotiation.open", OpenNegotiation, Role.team)
async def open_negotiation(tx: Tx, data: OpenNegotiation) -> dict[str, Any]:
    team = await acting_team(tx)
    require_not_closed(await current_fair(tx))
    offering = await get(tx, Offering, data.offering_id)
    orders.require_published(offering)
    existing = (
        await tx.session.exec(
            select(Negotiation.id).where(
                Negotiation.team_id == team.id,
                Negotiation.offering_id == offering.id,
                col(Negotiation.state).in_(ACTIVE_NEGOTIATION_STATES),
            )
        )
    ).first()
    if existing is not None:
        raise FairError(
            Code.invalid_state,
            N_("Your team is already negotiating this offering (negotiation %(id)s)."),
            id=existing,
        )
    negotiation = Negotiation(
        fair_id=tx.fair_id,
        offering_id=offering.id,
        team_id=team.id,
        supplier_id=offering.supplier_id,
        created_at=tx.now,
        updated_at=tx.now,
    )
    tx.session.add(negotiation)
    await tx.session.flush()
    if data.terms is not None:
        loaded = await load(tx, negotiation.id)
        return await _put_terms(tx, loaded, Side.team, data.terms, change="opened")
    loaded = await load(tx, negotiation.id)
    return _announce(tx, loaded, "opened")


@command("negotiation.propose", Propose, *PARTIES)
async def propose(tx: Tx, data: Propose) -> dict[str, Any]:
    loaded, side = await _load_as_party(tx, data.negotiation_id)
    if loaded.negotiation.state != NegotiationState.open:
        raise FairError(Code.invalid_state, N_("Terms are already on the table: make a counter-offer instead."))
    return await _put_terms(tx, loaded, side, data.terms, change="proposed")


@command("negotiation.counter", Counter, *PARTIES)
async def counter(tx: Tx, data: Counter) -> dict[str, Any]:
    loaded, side = await _load_as_party(tx, data.negotiation_id)
    if loaded.negotiation.state == NegotiationState.open:
        raise FairError(Code.invalid_state, N_("There are no terms to counter yet: make a proposal."))
    _require_current(loaded, data.base_version)
    return await _put_terms(tx, loaded, side, data.terms, change="countered")


@command("negotiation.accept", Accept, *PARTIES)
async def accept(tx: Tx, data: Accept) -> dict[str, Any]:
    loaded, side = await _load_as_party(tx, data.negotiation_id)
    if loaded.terms is None:
        raise FairError(Code.invalid_state, N_("There are no terms to accept yet."))
    _require_current(loaded, data.version)
    if loaded.terms.author == side:
        raise FairError(Code.invalid_state, N_("You made these terms: the other side has to accept them."))
    try:
        fair = await current_fair(tx)
        require_open(fair)
        order = await orders.confirm(tx, fair, loaded)
    except FairError as error:
        note = functools.partial(_note_refusal, negotiation_id=data.negotiation_id, side=side, error=error)
        raise Refusal(error, after=note) from error
    result = _announce(tx, loaded, "confirmed")
    tx.emit("order.confirmed", order)
    return {**result, "order": order}


@command("negotiation.decline", NegotiationRef, *PARTIES)
async def decline(tx: Tx, data: NegotiationRef) -> dict[str, Any]:
    loaded, _ = await _load_as_party(tx, data.negotiation_id)
    await _close(tx, loaded, NegotiationState.declined)
    return _announce(tx, loaded, "declined")


@command("negotiation.withdraw", NegotiationRef, Role.team)
async def withdraw(tx: Tx, data: NegotiationRef) -> dict[str, Any]:
    loaded, _ = await _load_as_party(tx, data.negotiation_id)
    await _close(tx, loaded, NegotiationState.withdrawn)
    return _announce(tx, loaded, "withdrawn")


async def expire(tx: Tx, *where: Any, reason: str) -> int:
    """Expire the active negotiations matching ``where`` (the fair closed, an offering withdrawn)."""
    ids = (
        await tx.session.exec(
            select(Negotiation.id).where(col(Negotiation.state).in_(ACTIVE_NEGOTIATION_STATES), *where)
        )
    ).all()
    for negotiation_id in ids:
        loaded = await load(tx, negotiation_id)
        await _close(tx, loaded, NegotiationState.expired)
        _announce(tx, loaded, "expired", reason=reason)
    return len(ids)


def _require_current(loaded: Loaded, version: int) -> None:
    if version != loaded.negotiation.version:
        raise FairError(
            Code.stale_terms,
            N_("These terms were replaced: version %(current)s is on the table now, not %(given)s."),
            current=loaded.negotiation.version,
            given=version,
        )


async def _put_terms(tx: Tx, loaded: Loaded, side: Side, data: TermsInput, change: str) -> dict[str, Any]:
    orders.check_terms_fit(loaded.offering, await orders.free_dates(tx, loaded.offering.id), data)
    negotiation = loaded.negotiation
    version = negotiation.version + 1
    state = NegotiationState.proposed if version == 1 else NegotiationState.countered
    accepted = {"team_accepted": version, "supplier_accepted": 0}
    if side == Side.supplier:
        accepted = {"team_accepted": 0, "supplier_accepted": version}
    claimed = await tx.session.exec(
        update(Negotiation)
        .where(
            Negotiation.id == negotiation.id,
            Negotiation.version == negotiation.version,
            col(Negotiation.state).in_(ACTIVE_NEGOTIATION_STATES),
        )
        .values(version=version, state=state, updated_at=tx.now, **accepted)
    )
    if claimed.rowcount != 1:
        raise FairError(Code.stale_terms, N_("Someone changed these terms at the same moment. Reload and try again."))
    mirror(negotiation, version=version, state=state, updated_at=tx.now, **accepted)
    terms = Terms(negotiation_id=negotiation.id, version=version, author=side, created_at=tx.now, **data.model_dump())
    tx.session.add(terms)
    loaded.terms = terms
    return _announce(tx, loaded, change)


async def _close(tx: Tx, loaded: Loaded, state: NegotiationState) -> None:
    negotiation = loaded.negotiation
    closed = await tx.session.exec(
        update(Negotiation)
        .where(Negotiation.id == negotiation.id, col(Negotiation.state).in_(ACTIVE_NEGOTIATION_STATES))
        .values(state=state, updated_at=tx.now)
    )
    if closed.rowcount != 1:
        raise FairError(Code.invalid_state, N_("This negotiation was closed at the same moment."))
    mirror(negotiation, state=state, updated_at=tx.now)


async def _note_refusal(tx: Tx, *, negotiation_id: int, side: Side, error: FairError) -> None:
    """Leave a refused confirmation on the negotiation, so that both parties learn why."""
    refusal = {**error.to_record(), "by": str(side), "at": tx.now.isoformat()}
    await tx.session.exec(
        update(Negotiation).where(Negotiation.id == negotiation_id).values(refusal=refusal, updated_at=tx.now)
    )
    loaded = await load(tx, negotiation_id)
    _announce(tx, loaded, "refused")


def _announce(tx: Tx, loaded: Loaded, change: str, **extra: Any) -> dict[str, Any]:
    view = loaded.view()
    tx.emit("negotiation.updated", {"change": change, **extra, "negotiation": view})
    return {"negotiation": view}
