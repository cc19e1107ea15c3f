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
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import col, select

from fair.core import orders
from fair.core.actors import Role
from fair.core.commands import Refusal, Tx, command
from fair.core.errors import N_, Code, FairError
from fair.core.guards import (
    require_approved_counterparty,
    require_approved_supplier,
    require_approved_team,
    require_not_closed,
    require_open,
)
from fair.core.inputs import Accept, Counter, NegotiationRef, OpenNegotiation, Propose, TermsInput
from fair.core.labels import NEGOTIATION_STATES
from fair.core.rows import Row, insert_row, labelled, new, not_found, returned, unpack
from fair.core.views import fair_view, negotiation_view
from fair.models import (
    ACTIVE_NEGOTIATION_STATES,
    Fair,
    FairState,
    Negotiation,
    NegotiationState,
    Offering,
    OfferingStatus,
    Side,
    Supplier,
    Team,
    Terms,
)

PARTIES = (Role.team, Role.supplier)

# The statements of the hot path are built once: on this stack building and
# caching a joined select costs more than running it.
PARTS = {"n_": Negotiation, "t_": Terms, "o_": Offering, "m_": Team, "s_": Supplier, "f_": Fair}
LOAD = (
    select(*(column for prefix, model in PARTS.items() for column in labelled(model, prefix)))
    .select_from(Negotiation)
    .join(Offering, Offering.id == Negotiation.offering_id)
    .join(Team, Team.id == Negotiation.team_id)
    .join(Supplier, Supplier.id == Negotiation.supplier_id)
    .join(Fair, Fair.id == Negotiation.fair_id)
    .outerjoin(Terms, (Terms.negotiation_id == Negotiation.id) & (Terms.version == Negotiation.version))
    .where(Negotiation.id == bindparam("id"), Negotiation.fair_id == bindparam("fair_id"))
)
ACTIVE_FOR_TEAM = (
    select(Negotiation.id)
    .where(
        Negotiation.team_id == bindparam("team_id"),
        Negotiation.offering_id == bindparam("offering_id"),
        col(Negotiation.state).in_(ACTIVE_NEGOTIATION_STATES),
    )
    .scalar_subquery()
    .label("existing")
)
OPENING = (
    select(
        *labelled(Team, "m_"),
        *labelled(Offering, "o_"),
        *labelled(Supplier, "s_"),
        *labelled(Fair, "f_"),
        ACTIVE_FOR_TEAM,
    )
    .select_from(Team)
    .join(Fair, Fair.id == Team.fair_id)
    .join(Offering, (Offering.id == bindparam("offering_id")) & (Offering.fair_id == Team.fair_id))
    .join(Supplier, Supplier.id == Offering.supplier_id)
    .where(Team.id == bindparam("team_id"))
)
CLAIM_VERSION = (
    update(Negotiation)
    .where(
        Negotiation.id == bindparam("negotiation_id"),
        Negotiation.version == bindparam("base_version"),
        col(Negotiation.state).in_(ACTIVE_NEGOTIATION_STATES),
    )
    .values(
        version=bindparam("new_version"),
        state=bindparam("new_state"),
        team_accepted=bindparam("new_team_accepted"),
        supplier_accepted=bindparam("new_supplier_accepted"),
        refusal=None,  # a refusal of earlier terms is news no more
        updated_at=bindparam("now"),
    )
    .returning(Negotiation.__table__)
)
CLOSE = (
    update(Negotiation)
    .where(Negotiation.id == bindparam("negotiation_id"), col(Negotiation.state).in_(ACTIVE_NEGOTIATION_STATES))
    .values(state=bindparam("new_state"), updated_at=bindparam("now"))
)
# Checked under the offering's lock as the last step of opening: an offering withdrawn meanwhile either
# waits for this negotiation (and its follow-up expires it) or has committed, and the opening is refused.
STILL_PUBLISHED = (
    select(Offering.id)
    .where(Offering.id == bindparam("offering_id"), Offering.status == OfferingStatus.published)
    .with_for_update(read=True)
)
# Active negotiations that can never be agreed any more: their fair closed, or their offering was withdrawn.
STRANDED = (
    select(Negotiation.id, Fair.state)
    .join(Offering, Offering.id == Negotiation.offering_id)
    .join(Fair, Fair.id == Negotiation.fair_id)
    .where(
        Negotiation.fair_id == bindparam("fair_id"),
        col(Negotiation.state).in_(ACTIVE_NEGOTIATION_STATES),
        (Offering.status == OfferingStatus.withdrawn) | (Fair.state == FairState.closed),
    )
    .order_by(Negotiation.id)  # locked in one order, so that two expiries never wait on each other
)


@dataclass
class Loaded:
    """A negotiation with everything its rules and its view need, read in one query."""

    negotiation: Row
    terms: Row | None
    offering: Row
    team: Row
    supplier: Row
    fair: Row

    def view(self) -> dict[str, Any]:
        return negotiation_view(self.negotiation, self.terms, self.offering, self.team, self.supplier)


def load(tx: Tx, negotiation_id: int) -> Loaded:
    row = tx.run(LOAD, {"id": negotiation_id, "fair_id": tx.fair_id}).mappings().first()
    if row is None:
        raise not_found("negotiation", negotiation_id)
    return Loaded(*(unpack(row, model, prefix) for prefix, model in PARTS.items()))


def side_of(tx: Tx, loaded: Loaded) -> Side:
    """The actor's side in this negotiation; anyone else is refused."""
    negotiation = loaded.negotiation
    if tx.actor.role == Role.team and tx.actor.party_id == negotiation.team_id:
        return Side.team
    if tx.actor.role == Role.supplier and tx.actor.party_id == negotiation.supplier_id:
        return Side.supplier
    raise FairError(Code.not_a_party, N_("This negotiation is between other parties."))


def require_active(negotiation: Row) -> None:
    if negotiation.state not in ACTIVE_NEGOTIATION_STATES:
        raise FairError(
            Code.invalid_state,
            N_("This negotiation is already %(state_label)s."),
            state_label=NEGOTIATION_STATES[negotiation.state],
        )


def _load_as_party(tx: Tx, negotiation_id: int) -> tuple[Loaded, Side]:
    """The negotiation, for one of its two parties; both must be approved to deal."""
    loaded = load(tx, negotiation_id)
    side = side_of(tx, loaded)
    if side == Side.team:
        require_approved_team(loaded.team)
        require_approved_counterparty(loaded.supplier)
    else:
        require_approved_supplier(loaded.supplier)
        require_approved_counterparty(loaded.team)
    require_not_closed(tx, loaded.fair)
    require_active(loaded.negotiation)
    return loaded, side


@command("negotiation.open", OpenNegotiation, Role.team)
def open_negotiation(tx: Tx, data: OpenNegotiation) -> dict[str, Any]:
    row = tx.run(OPENING, {"team_id": tx.actor.party_id, "offering_id": data.offering_id}).mappings().first()
    if row is None:
        raise not_found("offering", data.offering_id)  # the acting team itself always exists
    team, offering, supplier, fair = (
        unpack(row, model, prefix) for prefix, model in (("m_", Team), ("o_", Offering), ("s_", Supplier), ("f_", Fair))
    )
    require_approved_team(team)
    require_approved_counterparty(supplier)
    require_not_closed(tx, fair)
    orders.require_published(offering)
    if row["existing"] is not None:
        raise FairError(
            Code.invalid_state,
            N_("Your team is already negotiating this offering (negotiation %(id)s)."),
            id=row["existing"],
        )
    negotiation = new(
        Negotiation,
        fair_id=tx.fair_id,
        offering_id=offering.id,
        team_id=team.id,
        supplier_id=offering.supplier_id,
        offering_title=offering.title,
        created_at=tx.now,
        updated_at=tx.now,
    )
    if data.terms is not None:
        orders.check_terms_fit(offering, orders.free_dates(tx, offering.id), data.terms)
        negotiation.state, negotiation.version, negotiation.team_accepted = NegotiationState.proposed, 1, 1
    insert_row(tx, Negotiation, negotiation)
    loaded = Loaded(negotiation, None, offering, team, supplier, fair)
    if data.terms is not None:
        loaded.terms = _write_terms(tx, negotiation, Side.team, data.terms)
    if tx.run(STILL_PUBLISHED, {"offering_id": offering.id}).first() is None:
        raise FairError(Code.invalid_state, N_("This offering has been withdrawn."))
    return _announce(tx, loaded, "opened")


@command("negotiation.propose", Propose, *PARTIES)
def propose(tx: Tx, data: Propose) -> dict[str, Any]:
    loaded, side = _load_as_party(tx, data.negotiation_id)
    if loaded.negotiation.state != NegotiationState.open:
        raise FairError(Code.invalid_state, N_("Terms are already on the table: make a counter-offer instead."))
    return _put_terms(tx, loaded, side, data.terms, change="proposed")


@command("negotiation.counter", Counter, *PARTIES)
def counter(tx: Tx, data: Counter) -> dict[str, Any]:
    loaded, side = _load_as_party(tx, data.negotiation_id)
    if loaded.negotiation.state == NegotiationState.open:
        raise FairError(Code.invalid_state, N_("There are no terms to counter yet: make a proposal."))
    _require_current(loaded, data.base_version)
    return _put_terms(tx, loaded, side, data.terms, change="countered")


@command("negotiation.accept", Accept, *PARTIES)
def accept(tx: Tx, data: Accept) -> dict[str, Any]:
    loaded, side = _load_as_party(tx, data.negotiation_id)
    if loaded.terms is None:
        raise FairError(Code.invalid_state, N_("There are no terms to accept yet."))
    _require_current(loaded, data.version)
    if loaded.terms.author == side:
        raise FairError(Code.invalid_state, N_("You made these terms: the other side has to accept them."))
    try:
        require_open(tx, loaded.fair)
        confirmed = orders.confirm(tx, loaded, side)
    except FairError as error:
        shared = _shared(error)
        note = functools.partial(
            _note_refusal, negotiation_id=data.negotiation_id, version=data.version, side=side, error=shared
        )
        raise Refusal(error if side == Side.team else shared, after=note) from error
    result = _announce(tx, loaded, "confirmed")
    tx.emit("order.confirmed", confirmed.event)
    if confirmed.fair is not None:  # the subsidy pool moved: every screen showing it learns by how much
        tx.emit("fair.updated", {"fair": fair_view(confirmed.fair)})
    return {**result, "order": confirmed.event}


@command("negotiation.decline", NegotiationRef, *PARTIES)
def decline(tx: Tx, data: NegotiationRef) -> dict[str, Any]:
    loaded, _ = _load_as_party(tx, data.negotiation_id)
    return _announce(tx, _close(tx, loaded, NegotiationState.declined), "declined")


@command("negotiation.withdraw", NegotiationRef, Role.team)
def withdraw(tx: Tx, data: NegotiationRef) -> dict[str, Any]:
    loaded, _ = _load_as_party(tx, data.negotiation_id)
    return _announce(tx, _close(tx, loaded, NegotiationState.withdrawn), "withdrawn")


def expire_stranded(tx: Tx) -> None:
    """Expire the negotiations that can never be agreed: the fair closed, or the offering was withdrawn.

    The follow-up of ``fair.close`` and ``offering.withdraw``, and a sweep at
    start-up.  Each negotiation is locked in id order and read again after its
    lock for the event, so that the event shows the terms it ended with.
    """
    for negotiation_id, fair_state in tx.run(STRANDED, {"fair_id": tx.fair_id}).all():
        closed = tx.run(CLOSE, {"negotiation_id": negotiation_id, "new_state": NegotiationState.expired, "now": tx.now})
        if closed.rowcount != 1:
            continue  # confirmed or ended at the same moment: nothing left to expire
        reason = "fair_closed" if fair_state == FairState.closed else "offering_withdrawn"
        _announce(tx, load(tx, negotiation_id), "expired", reason=reason)


def _require_current(loaded: Loaded, version: int) -> None:
    if version != loaded.negotiation.version:
        raise FairError(
            Code.stale_terms,
            N_("These terms were replaced: version %(current)s is on the table now, not %(given)s."),
            current=loaded.negotiation.version,
            given=version,
        )


def _put_terms(tx: Tx, loaded: Loaded, side: Side, data: TermsInput, change: str) -> dict[str, Any]:
    """Put a new version of the terms on the table; its author accepts it, the other side's acceptance lapses."""
    orders.check_terms_fit(loaded.offering, orders.free_dates(tx, loaded.offering.id), data)
    negotiation = loaded.negotiation
    version = negotiation.version + 1
    values = {
        "version": version,
        "state": NegotiationState.proposed if version == 1 else NegotiationState.countered,
        "team_accepted": version if side == Side.team else 0,
        "supplier_accepted": version if side == Side.supplier else 0,
    }
    claimed = returned(
        tx.run(
            CLAIM_VERSION,
            {"negotiation_id": negotiation.id, "base_version": negotiation.version, "now": tx.now}
            | {f"new_{key}": value for key, value in values.items()},
        )
    )
    if claimed is None:
        raise FairError(Code.stale_terms, N_("Someone changed these terms at the same moment. Reload and try again."))
    loaded.negotiation = claimed
    loaded.terms = _write_terms(tx, claimed, side, data)
    return _announce(tx, loaded, change)


def _write_terms(tx: Tx, negotiation: Row, side: Side, data: TermsInput) -> Row:
    terms = new(
        Terms,
        negotiation_id=negotiation.id,
        version=negotiation.version,
        author=side,
        created_at=tx.now,
        **data.model_dump(),
    )
    return insert_row(tx, Terms, terms)


def _close(tx: Tx, loaded: Loaded, state: NegotiationState) -> Loaded:
    """End an active negotiation; it is read again under its lock, with the terms it ended with."""
    closed = tx.run(CLOSE, {"negotiation_id": loaded.negotiation.id, "new_state": state, "now": tx.now})
    if closed.rowcount != 1:
        raise FairError(Code.invalid_state, N_("This negotiation was closed at the same moment."))
    return load(tx, loaded.negotiation.id)


def _note_refusal(tx: Tx, *, negotiation_id: int, version: int, side: Side, error: FairError) -> None:
    """Leave a refused confirmation on the negotiation, so that both parties learn why.

    Only while the refused terms are still on the table: a refusal that lost a
    race to a confirmation or a counter-offer is news to nobody.
    """
    refusal = {**error.to_record(), "by": str(side), "at": tx.now.isoformat()}
    noted = tx.run(
        update(Negotiation)
        .where(
            Negotiation.id == negotiation_id,
            Negotiation.version == version,
            col(Negotiation.state).in_(ACTIVE_NEGOTIATION_STATES),
        )
        .values(refusal=refusal, updated_at=tx.now)
    )
    if noted.rowcount == 1:
        _announce(tx, load(tx, negotiation_id), "refused")


def _shared(error: FairError) -> FairError:
    """A refusal as both parties may read it: a team's budget is its own business."""
    if error.code == Code.budget_exceeded:
        return FairError(Code.budget_exceeded, N_("The buyer's government budget cannot cover this order."))
    return error


def _announce(tx: Tx, loaded: Loaded, change: str, **extra: Any) -> dict[str, Any]:
    view = loaded.view()
    tx.emit("negotiation.updated", {"change": change, **extra, "negotiation": view})
    return {"negotiation": view}
