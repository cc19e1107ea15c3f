"""Confirmation: the moment terms become an order, and what it takes.

Everything an order takes is taken by a conditional UPDATE that re-checks its
limit in the database (``sold + q <= capacity``, ``spent + a <= budget``,
``used + s <= pool``), in the lock order given in ``fair.core.guards``.  On
SQLite the write lock already serialises confirmations; on PostgreSQL the
same statements wait for each other's row locks and re-check, so two tablets
can never sell the last unit twice.  Both parties' approvals are checked
again under lock (a booth's by a shared lock, a team's by the charge), and the
subsidy is granted only at the rate it was computed with: if the organiser
changed the rate meanwhile, the confirmation runs again at the new one.  If
any take fails, the FairError rolls the whole transaction back: nothing is
taken.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import col, select

from fair.core.commands import Retry, Tx
from fair.core.errors import N_, Code, FairError
from fair.core.inputs import TermsInput
from fair.core.rows import Row, get, insert_row, new, returned
from fair.core.views import budget_view, order_view
from fair.models import (
    ACTIVE_NEGOTIATION_STATES,
    Fair,
    Funding,
    Negotiation,
    NegotiationState,
    Offering,
    OfferingDate,
    OfferingStatus,
    Order,
    Side,
    Supplier,
    Team,
)

BASIS_POINTS = 10_000


def split_funding(amount_fen: int, funding: str, subsidy_rate_bp: int) -> tuple[int, int]:
    """(government share, subsidy) of an order.

    A government order is charged to the team's budget in full.  A self-funded
    order is paid by the unit; the bureau subsidises it at the fair's rate,
    rounded down to the fen, from the subsidy pool.
    """
    if funding == Funding.government:
        return amount_fen, 0
    return 0, amount_fen * subsidy_rate_bp // BASIS_POINTS


FREE_DATES = select(OfferingDate.day, OfferingDate.negotiation_id).where(
    OfferingDate.offering_id == bindparam("offering_id")
)


def free_dates(tx: Tx, offering_id: int) -> dict[str, bool]:
    rows = tx.run(FREE_DATES, {"offering_id": offering_id})
    return {day.isoformat(): taken is None for day, taken in rows}


def require_published(offering: Row) -> None:
    if offering.status != OfferingStatus.published:
        raise FairError(Code.invalid_state, N_("This offering has been withdrawn."))


def require_capacity(offering: Row, quantity: int) -> None:
    left = offering.capacity - offering.sold
    if quantity > left:
        raise FairError(
            Code.capacity_exhausted,
            N_("Only %(left)s %(unit)s left of this offering."),
            left=left,
            unit=offering.unit,
        )


def check_terms_fit(offering: Row, dates: dict[str, bool], terms: TermsInput) -> None:
    """Can the offering, as it stands, deliver these terms?  Checked whenever terms are put on the table.

    Confirmation needs only the capacity and date checks again: terms never
    change once written, and an offering's dates can be added but not removed.
    """
    require_published(offering)
    require_capacity(offering, terms.quantity)
    if not dates:
        if terms.dates:
            raise FairError(Code.invalid_input, N_("This offering has no bookable dates; put wishes in the message."))
        return
    if not terms.dates:
        raise FairError(Code.invalid_input, N_("Choose the dates: this offering is booked by date."))
    for day in terms.dates:
        if day not in dates:
            raise FairError(Code.invalid_input, N_("%(day)s is not a bookable date of this offering."), day=day)
        if not dates[day]:
            raise FairError(Code.date_unavailable, N_("%(day)s is already booked."), day=day)
    if terms.quantity != len(terms.dates):
        raise FairError(
            Code.invalid_input,
            N_("A dated offering is ordered one %(unit)s per date: %(count)s dates, so the quantity is %(count)s."),
            unit=offering.unit,
            count=len(terms.dates),
        )


# Each take re-checks its limit in the database and returns the whole row as it stands under the
# lock, from which the order's events are built.
CLAIM = (
    update(Negotiation)
    .where(
        Negotiation.id == bindparam("negotiation_id"),
        Negotiation.version == bindparam("terms_version"),
        col(Negotiation.state).in_(ACTIVE_NEGOTIATION_STATES),
    )
    .values(
        state=NegotiationState.confirmed,
        team_accepted=bindparam("terms_version"),
        supplier_accepted=bindparam("terms_version"),
        refusal=None,
        updated_at=bindparam("now"),
    )
    .returning(Negotiation.__table__)
)
TAKE_UNITS = (
    update(Offering)
    .where(
        Offering.id == bindparam("offering_id"),
        Offering.status == OfferingStatus.published,
        Offering.sold + bindparam("quantity") <= Offering.capacity,
    )
    .values(sold=Offering.sold + bindparam("quantity"))
    .returning(Offering.__table__)
)
TAKE_DATES = (
    update(OfferingDate)
    .where(
        OfferingDate.offering_id == bindparam("of_offering"),
        col(OfferingDate.day).in_(bindparam("days", expanding=True)),
        col(OfferingDate.negotiation_id).is_(None),
    )
    .values(negotiation_id=bindparam("for_negotiation"))
)
SUPPLIER_APPROVED = (
    select(Supplier.id)
    .where(Supplier.id == bindparam("supplier_id"), Supplier.approved)
    .with_for_update(read=True)  # an approval withdrawn meanwhile waits for this order, or refuses it
)
CHARGE_BUDGET = (
    update(Team)
    .where(
        Team.id == bindparam("team_id"),
        Team.approved,
        Team.spent_fen + bindparam("amount") <= Team.budget_fen,
    )
    .values(spent_fen=Team.spent_fen + bindparam("amount"))
    .returning(Team.__table__)
)
CHARGE_OWN_FUNDS = (
    update(Team)
    .where(Team.id == bindparam("team_id"), Team.approved)
    .values(
        self_funded_fen=Team.self_funded_fen + bindparam("amount"),
        subsidy_fen=Team.subsidy_fen + bindparam("subsidy"),
    )
    .returning(Team.__table__)
)
# The rate is part of the condition: an order takes the subsidy at the rate in force when it commits.
GRANT_SUBSIDY = (
    update(Fair)
    .where(
        Fair.id == bindparam("fair_id"),
        Fair.subsidy_rate_bp == bindparam("rate"),
        Fair.subsidy_used_fen + bindparam("subsidy") <= Fair.subsidy_pool_fen,
    )
    .values(subsidy_used_fen=Fair.subsidy_used_fen + bindparam("subsidy"))
    .returning(Fair.__table__)
)


@dataclass
class Confirmed:
    """What a confirmation changed: the order's event, and the fair when its subsidy pool moved."""

    event: dict[str, Any]
    fair: Row | None


def confirm(tx: Tx, loaded: Any, side: Side) -> Confirmed:
    """Take capacity, dates and money for the terms on the table, and write the order.

    ``loaded`` is a ``fair.core.negotiations.Loaded``: the negotiation, its current
    terms, offering, team, supplier and fair, as read at the start of the command.
    Each take locks its row and checks again what that read suggested; ``side``
    is who accepted, for the refusal's wording.
    """
    terms, fair = loaded.terms, loaded.fair
    amount = terms.quantity * terms.unit_price_fen
    government, subsidy = split_funding(amount, terms.funding, fair.subsidy_rate_bp)

    negotiation = returned(
        tx.run(CLAIM, {"negotiation_id": loaded.negotiation.id, "terms_version": terms.version, "now": tx.now})
    )
    if negotiation is None:
        raise FairError(Code.stale_terms, N_("Someone changed these terms at the same moment. Reload and try again."))
    loaded.negotiation = negotiation

    offering = returned(tx.run(TAKE_UNITS, {"offering_id": loaded.offering.id, "quantity": terms.quantity}))
    if offering is None:
        now = get(tx, Offering, loaded.offering.id)
        require_published(now)
        require_capacity(now, terms.quantity)
        raise AssertionError("capacity refused although the offering has room")

    if terms.dates:
        days = [dt.date.fromisoformat(day) for day in terms.dates]
        taken = tx.run(TAKE_DATES, {"of_offering": offering.id, "days": days, "for_negotiation": negotiation.id})
        if taken.rowcount != len(days):
            raise FairError(Code.date_unavailable, N_("One of the chosen dates was booked at the same moment."))

    if tx.run(SUPPLIER_APPROVED, {"supplier_id": negotiation.supplier_id}).first() is None:
        raise _not_approved(side, Side.supplier)

    if government:
        team = returned(tx.run(CHARGE_BUDGET, {"team_id": negotiation.team_id, "amount": government}))
        if team is None:
            now = get(tx, Team, negotiation.team_id)
            if not now.approved:
                raise _not_approved(side, Side.team)
            raise FairError(
                Code.budget_exceeded,
                N_("This order costs %(amount_fen)s but only %(remaining_fen)s of the budget is left."),
                amount_fen=government,
                remaining_fen=now.budget_fen - now.spent_fen,
            )
    else:
        charge = {"team_id": negotiation.team_id, "amount": amount, "subsidy": subsidy}
        team = returned(tx.run(CHARGE_OWN_FUNDS, charge))
        if team is None:
            raise _not_approved(side, Side.team)

    granted = None
    if terms.funding == Funding.self_funded:
        grant = {"fair_id": fair.id, "rate": fair.subsidy_rate_bp, "subsidy": subsidy}
        granted = returned(tx.run(GRANT_SUBSIDY, grant))
        if granted is None:
            now = get(tx, Fair, fair.id)
            if now.subsidy_rate_bp != fair.subsidy_rate_bp:
                raise Retry("the subsidy rate changed since it was read")
            raise FairError(
                Code.subsidy_pool_exhausted,
                N_("The subsidy of %(subsidy_fen)s exceeds the %(left_fen)s left in the subsidy pool."),
                subsidy_fen=subsidy,
                left_fen=now.subsidy_pool_fen - now.subsidy_used_fen,
            )

    order = new(
        Order,
        fair_id=fair.id,
        negotiation_id=negotiation.id,
        offering_id=offering.id,
        team_id=team.id,
        supplier_id=negotiation.supplier_id,
        offering_title=offering.title,
        category=offering.category,
        district=team.district,
        terms_version=terms.version,
        quantity=terms.quantity,
        unit=offering.unit,
        unit_price_fen=terms.unit_price_fen,
        amount_fen=amount,
        funding=terms.funding,
        government_fen=government,
        subsidy_fen=subsidy,
        dates=list(terms.dates),
        venue=terms.venue,
        confirmed_at=tx.now,
    )
    insert_row(tx, Order, order)
    event = {
        "order": order_view(order, team, loaded.supplier),
        "offering": {
            "id": offering.id,
            "sold": offering.sold,
            "remaining": offering.capacity - offering.sold,
            "taken_dates": list(terms.dates),
        },
        "budget": budget_view(team),
    }
    return Confirmed(event, granted if subsidy else None)


def _not_approved(side: Side, party: Side) -> FairError:
    """An approval withdrawn before the order could commit, worded for whoever accepted."""
    if side != party:
        return FairError(Code.forbidden, N_("The other party is not approved at this fair."))
    if party == Side.team:
        return FairError(Code.forbidden, N_("Your team is not approved yet."))
    return FairError(Code.forbidden, N_("Your booth is not approved yet."))
