"""Money statements after the fair: for a team or a booth, what was ordered, who pays it, and what was delivered.

Every line is an order (a voided one is listed, marked, and adds nothing);
the totals are sums of the lines in integer fen, so that each statement
reconciles exactly with the orders and deliveries behind it: the teams'
statements and the booths' add up to the same figures, and to the tally's.
A government order is paid from the team's budget; a self-funded one by the
unit, which the bureau owes a subsidy at the rate in force when the order
was confirmed.  Delivered means delivered or evaluated; what was delivered
is priced at the order's unit price.  Paid is what the bureau recorded as
paid to the supplier (``fair.core.payments``), never more than was
delivered; the rest of the delivered value is owed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fair.core.actors import Actor, Role
from fair.core.errors import N_, Code, FairError
from fair.core.reports import Column, Table, share
from fair.i18n import SHANGHAI
from fair.models import Delivery, DeliveryState, Order, ResidentRating, Supplier, Team, WishStatus

DELIVERED = (DeliveryState.delivered, DeliveryState.evaluated)
TOTALS = (
    "amount_fen",
    "government_fen",
    "self_funded_fen",
    "subsidy_fen",
    "delivered_fen",
    "undelivered_fen",
    "paid_fen",
    "owed_fen",
)


@dataclass
class Statement:
    party: str  # the team's or the booth's name
    lines: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TOTALS, 0))


async def statement(
    session: AsyncSession, actor: Actor, *, team_id: int | None = None, supplier_id: int | None = None
) -> Statement:
    """A team's or a booth's statement; a team and a booth read their own, whatever they ask for."""
    if actor.role == Role.team:
        team_id, supplier_id = actor.party_id, None
    elif actor.role == Role.supplier:
        team_id, supplier_id = None, actor.party_id
    elif actor.role != Role.organiser:
        raise FairError(Code.forbidden, N_("Your role may not do this."))
    if (team_id is None) == (supplier_id is None):
        raise FairError(Code.invalid_input, N_("Choose a team or a supplier for the statement."))
    party = await session.get(Team if team_id else Supplier, team_id or supplier_id)
    if party is None or party.fair_id != actor.fair_id:
        raise FairError(Code.not_found, N_("There is no such team or supplier."))
    delivered = (
        select(Delivery.order_id, func.sum(Delivery.quantity))
        .where(Delivery.fair_id == actor.fair_id, col(Delivery.state).in_(DELIVERED))
        .group_by(Delivery.order_id)
    )
    done = {order_id: int(quantity) for order_id, quantity in await session.exec(delivered)}
    rows = await session.exec(
        select(Order, Team.name, Supplier.name)
        .join(Team, Team.id == Order.team_id)
        .join(Supplier, Supplier.id == Order.supplier_id)
        .where(
            Order.fair_id == actor.fair_id, Order.team_id == team_id if team_id else Order.supplier_id == supplier_id
        )
        .order_by(Order.id)
    )
    shown = Statement(party.name)
    for order, team_name, supplier_name in rows:
        quantity = done.get(order.id, 0)
        line = {
            "order_id": order.id,
            "confirmed_at": order.confirmed_at,
            "counterparty": supplier_name if team_id else team_name,
            "offering_title": order.offering_title,
            "quantity": order.quantity,
            "unit": order.unit,
            "unit_price_fen": order.unit_price_fen,
            "amount_fen": order.amount_fen,
            "government_fen": order.government_fen,
            "self_funded_fen": order.amount_fen - order.government_fen,
            "subsidy_fen": order.subsidy_fen,
            "subsidy_rate": share(order.subsidy_fen, order.amount_fen - order.government_fen),
            "delivered_quantity": quantity,
            "delivered_fen": quantity * order.unit_price_fen,
            "undelivered_fen": order.amount_fen - quantity * order.unit_price_fen,
            "paid_fen": order.paid_fen,
            "owed_fen": quantity * order.unit_price_fen - order.paid_fen,
            "voided": order.voided_at is not None,
        }
        shown.lines.append(line)
        if not line["voided"]:
            for key in TOTALS:
                shown.totals[key] += line[key]
    return shown


def as_table(shown: Statement) -> Table:
    """The statement as a spreadsheet: a line per order, then the totals."""
    table = Table(
        N_("Statement"),
        [
            Column(N_("Order no."), "label"),
            Column(N_("Confirmed at"), "time"),
            Column(N_("With")),
            Column(N_("Offering")),
            Column(N_("Quantity"), "int"),
            Column(N_("Unit")),
            Column(N_("Unit price"), "money"),
            Column(N_("Amount"), "money"),
            Column(N_("From the government budget"), "money"),
            Column(N_("Own funds"), "money"),
            Column(N_("Subsidy owed"), "money"),
            Column(N_("Rate"), "share"),
            Column(N_("Delivered"), "int"),
            Column(N_("Delivered amount"), "money"),
            Column(N_("Not yet delivered"), "money"),
            Column(N_("Paid"), "money"),
            Column(N_("Delivered, not yet paid"), "money"),
            Column(N_("Voided"), "label"),
        ],
    )
    for line in shown.lines:
        table.rows.append(
            [
                line["order_id"],
                line["confirmed_at"],
                line["counterparty"],
                line["offering_title"],
                line["quantity"],
                line["unit"],
                line["unit_price_fen"],
                line["amount_fen"],
                line["government_fen"],
                line["self_funded_fen"],
                line["subsidy_fen"],
                line["subsidy_rate"] if line["subsidy_fen"] else None,
                line["delivered_quantity"],
                line["delivered_fen"],
                line["undelivered_fen"],
                line["paid_fen"],
                line["owed_fen"],
                N_("yes") if line["voided"] else None,
            ]
        )
    totals = shown.totals
    table.rows.append(
        [N_("Totals"), None, shown.party, None, None, None, None, *(totals[k] for k in TOTALS[:4]), None, None]
        + [totals[key] for key in ("delivered_fen", "undelivered_fen", "paid_fen", "owed_fen")]
        + [None]
    )
    return table


async def vetting(session: AsyncSession, actor: Actor) -> Table:
    """Every booth's record after the fair, kept for next year's vetting: its ratings and how its deliveries went.

    Residents' ratings count once an organiser has approved them, and only proven ones: from a confirmed
    resident recorded at the event (``fair.core.presence``); how many, and from when to when.
    """
    if actor.role != Role.organiser:
        raise FairError(Code.forbidden, N_("Your role may not do this."))
    table = Table(
        N_("Suppliers' records"),
        [
            Column(N_("Booth")),
            Column(N_("Supplier")),
            Column(N_("Ratings"), "int"),
            Column(N_("Average rating")),
            Column(N_("Deliveries"), "int"),
            Column(N_("Delivered"), "int"),
            Column(N_("missed"), "int"),
            Column(N_("Rescheduled"), "int"),
            Column(N_("Comments")),
            Column(N_("Residents' ratings"), "int"),
            Column(N_("Residents' average")),
            Column(N_("Residents' ratings from")),
            Column(N_("Residents' ratings to")),
        ],
    )
    suppliers = await session.exec(select(Supplier).where(Supplier.fair_id == actor.fair_id).order_by(Supplier.booth))
    made = await session.exec(  # a delivery cancelled with its voided order says nothing of the booth
        select(Delivery)
        .where(Delivery.fair_id == actor.fair_id, Delivery.state != DeliveryState.cancelled)
        .order_by(Delivery.id)
    )
    by_booth: dict[int, list[Delivery]] = {}
    for delivery in made:
        by_booth.setdefault(delivery.supplier_id, []).append(delivery)
    heard: dict[int, list[int]] = {}
    when: dict[int, list[dt.datetime]] = {}
    approved = select(ResidentRating.supplier_id, ResidentRating.rating, ResidentRating.updated_at).where(
        ResidentRating.fair_id == actor.fair_id,
        ResidentRating.status == WishStatus.approved,
        col(ResidentRating.resident_id).is_not(None),  # proven: a rating from before phones were confirmed is not
    )
    for supplier_id, rating, updated_at in await session.exec(approved):
        heard.setdefault(supplier_id, []).append(rating)
        when.setdefault(supplier_id, []).append(updated_at)
    for supplier in suppliers.all():
        done = by_booth.get(supplier.id, [])
        residents = heard.get(supplier.id, [])
        rated = [d.rating for d in done if d.rating is not None]
        table.rows.append(
            [
                supplier.booth,
                supplier.name,
                len(rated),
                f"{sum(rated) / len(rated):.2f}" if rated else None,
                len(done),
                sum(d.state in DELIVERED for d in done),
                sum(d.state == DeliveryState.missed for d in done),
                sum(d.reschedules for d in done),
                "；".join(d.comment for d in done if d.comment) or None,
                len(residents),
                f"{sum(residents) / len(residents):.2f}" if residents else None,
                _day(min(when[supplier.id])) if residents else None,
                _day(max(when[supplier.id])) if residents else None,
            ]
        )
    return table


def _day(moment: dt.datetime) -> str:
    return moment.astimezone(SHANGHAI).date().isoformat()
