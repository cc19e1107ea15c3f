"""Confirmation: the moment terms become an order, and what it takes.

Everything an order takes is taken by a conditional UPDATE that re-checks its
limit in the database (``sold + q <= capacity``, ``spent + a <= budget``,
``used + s <= pool``), in the lock order given in ``fair.core.guards``.  On
SQLite the write lock already serialises confirmations; on PostgreSQL the
same statements wait for each other's row locks and re-check, so two tablets
can never sell the last unit twice.  If any take fails, the FairError rolls
the whole transaction back: nothing is taken.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert, update
from sqlmodel import col, select

from fair.core.commands import Tx
from fair.core.errors import N_, Code, FairError
from fair.core.guards import mirror
from fair.core.inputs import TermsInput
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
    Team,
    Terms,
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


async def free_dates(tx: Tx, offering_id: int) -> dict[str, bool]:
    rows = await tx.session.exec(
        select(OfferingDate.day, OfferingDate.negotiation_id).where(OfferingDate.offering_id == offering_id)
    )
    return {day.isoformat(): taken is None for day, taken in rows}


def require_published(offering: Offering) -> None:
    if offering.status != OfferingStatus.published:
        raise FairError(Code.invalid_state, N_("This offering has been withdrawn."))


def require_capacity(offering: Offering, quantity: int) -> None:
    left = offering.capacity - offering.sold
    if quantity > left:
        raise FairError(
            Code.capacity_exhausted,
            N_("Only %(left)s %(unit)s left of this offering."),
            left=left,
            unit=offering.unit,
        )


def check_terms_fit(offering: Offering, dates: dict[str, bool], terms: TermsInput) -> None:
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


async def confirm(tx: Tx, fair: Fair, loaded: Any) -> dict[str, Any]:
    """Take capacity, dates and money for the terms on the table, and write the order."""
    negotiation: Negotiation = loaded.negotiation
    terms: Terms = loaded.terms
    offering: Offering = loaded.offering
    team: Team = loaded.team
    amount = terms.quantity * terms.unit_price_fen
    government, subsidy = split_funding(amount, terms.funding, fair.subsidy_rate_bp)

    claimed = await tx.session.exec(
        update(Negotiation)
        .where(
            Negotiation.id == negotiation.id,
            Negotiation.version == terms.version,
            col(Negotiation.state).in_(ACTIVE_NEGOTIATION_STATES),
        )
        .values(
            state=NegotiationState.confirmed,
            team_accepted=terms.version,
            supplier_accepted=terms.version,
            refusal=None,
            updated_at=tx.now,
        )
    )
    if claimed.rowcount != 1:
        raise FairError(Code.stale_terms, N_("Someone changed these terms at the same moment. Reload and try again."))
    mirror(
        negotiation,
        state=NegotiationState.confirmed,
        team_accepted=terms.version,
        supplier_accepted=terms.version,
        refusal=None,
        updated_at=tx.now,
    )

    sold = (
        await tx.session.exec(
            update(Offering)
            .where(
                Offering.id == offering.id,
                Offering.status == OfferingStatus.published,
                Offering.sold + terms.quantity <= Offering.capacity,
            )
            .values(sold=Offering.sold + terms.quantity)
            .returning(Offering.sold)
        )
    ).scalar_one_or_none()
    if sold is None:
        await tx.session.refresh(offering)
        require_published(offering)
        require_capacity(offering, terms.quantity)
        raise AssertionError("capacity refused although the offering has room")
    mirror(offering, sold=sold)

    if terms.dates:
        taken = await tx.session.exec(
            update(OfferingDate)
            .where(
                OfferingDate.offering_id == offering.id,
                col(OfferingDate.day).in_([dt.date.fromisoformat(day) for day in terms.dates]),
                col(OfferingDate.negotiation_id).is_(None),
            )
            .values(negotiation_id=negotiation.id)
        )
        if taken.rowcount != len(terms.dates):
            raise FairError(Code.date_unavailable, N_("One of the chosen dates was booked at the same moment."))

    if government:
        charged = (
            await tx.session.exec(
                update(Team)
                .where(Team.id == team.id, Team.spent_fen + government <= Team.budget_fen)
                .values(spent_fen=Team.spent_fen + government)
                .returning(Team.spent_fen, Team.budget_fen)
            )
        ).first()
        if charged is None:
            await tx.session.refresh(team)
            raise FairError(
                Code.budget_exceeded,
                N_("This order costs %(amount_fen)s but only %(remaining_fen)s of the budget is left."),
                amount_fen=government,
                remaining_fen=team.budget_fen - team.spent_fen,
            )
        mirror(team, spent_fen=charged.spent_fen, budget_fen=charged.budget_fen)
    else:
        totals = (
            await tx.session.exec(
                update(Team)
                .where(Team.id == team.id)
                .values(self_funded_fen=Team.self_funded_fen + amount, subsidy_fen=Team.subsidy_fen + subsidy)
                .returning(Team.self_funded_fen, Team.subsidy_fen, Team.spent_fen, Team.budget_fen)
            )
        ).one()
        mirror(team, **totals._asdict())
        if subsidy:
            granted = (
                await tx.session.exec(
                    update(Fair)
                    .where(Fair.id == fair.id, Fair.subsidy_used_fen + subsidy <= Fair.subsidy_pool_fen)
                    .values(subsidy_used_fen=Fair.subsidy_used_fen + subsidy)
                    .returning(Fair.subsidy_used_fen)
                )
            ).scalar_one_or_none()
            if granted is None:
                await tx.session.refresh(fair)
                raise FairError(
                    Code.subsidy_pool_exhausted,
                    N_("The subsidy of %(subsidy_fen)s exceeds the %(left_fen)s left in the subsidy pool."),
                    subsidy_fen=subsidy,
                    left_fen=fair.subsidy_pool_fen - fair.subsidy_used_fen,
                )
            mirror(fair, subsidy_used_fen=granted)

    order = Order(
        fair_id=fair.id,
        negotiation_id=negotiation.id,
        offering_id=offering.id,
        team_id=team.id,
        supplier_id=negotiation.supplier_id,
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
    values = order.model_dump(exclude={"id"})
    order.id = (await tx.session.exec(insert(Order).values(**values).returning(Order.id))).scalar_one()
    return {
        "order": order_view(order, team, loaded.supplier, offering),
        "offering": {
            "id": offering.id,
            "sold": offering.sold,
            "remaining": offering.capacity - offering.sold,
            "taken_dates": list(terms.dates),
        },
        "budget": budget_view(team),
    }
