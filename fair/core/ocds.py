"""The fair as open contracting data: an OCDS 1.1.5 release package, one contracting process per order.

Each order is a process of its own, released once in its current state
(``tag`` ``award`` and ``contract``; a voided one ``awardCancellation``,
with both cancelled): the buying team is the ``buyer``, the booth the
``supplier``, the culture bureau that runs the fair the ``procuringEntity``
(and the ``funder`` of a subsidised order).  The tender is the offering as
negotiated face to face at the fair (a ``direct`` method, services); the
award and the contract carry the agreed quantity, unit price and amount in
CNY; the contract's milestones are its deliveries (met, not met or
scheduled), or, before any is scheduled, the dates agreed at the fair; its
transactions are the payments the bureau recorded (``fair.core.payments``),
the buyer paying the supplier, each with its voucher number.
Amounts are integer fen in the fair and become yuan only here, at the edge,
as JSON numbers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from fair.core.actors import Actor, Role
from fair.core.errors import N_, Code, FairError
from fair.core.labels import CATEGORY_NAMES
from fair.i18n import SHANGHAI, gettext
from fair.models import Delivery, DeliveryState, Fair, Order, Payment, Supplier, Team, Venue

OCID_PREFIX = "ocds-njfair"
BUREAU = N_("Nanjing Municipal Bureau of Culture and Tourism")
LICENSE = "https://creativecommons.org/licenses/by/4.0/"


def yuan(fen: int) -> float:
    """An amount for the JSON file: yuan with at most two decimals, exact for any fen the fair holds (< 2**53)."""
    return fen / 100


async def release_package(session: AsyncSession, actor: Actor, base_url: str, locale: str = "zh_CN") -> dict[str, Any]:
    if actor.role != Role.organiser:
        raise FairError(Code.forbidden, N_("Your role may not do this."))
    fair = await session.get(Fair, actor.fair_id)
    rows = await session.exec(
        select(Order, Team, Supplier)
        .join(Team, Team.id == Order.team_id)
        .join(Supplier, Supplier.id == Order.supplier_id)
        .where(Order.fair_id == actor.fair_id)
        .order_by(Order.id)
    )
    delivered: dict[int, list[Any]] = {}
    made = await session.exec(
        select(Delivery, Venue.name)
        .join(Venue, Venue.id == Delivery.venue_id)
        .where(Delivery.fair_id == actor.fair_id)
        .order_by(Delivery.starts_at, Delivery.id)
    )
    for delivery, venue in made:
        delivered.setdefault(delivery.order_id, []).append((delivery, venue))
    paid: dict[int, list[Payment]] = {}
    for payment in await session.exec(select(Payment).where(Payment.fair_id == actor.fair_id).order_by(Payment.id)):
        paid.setdefault(payment.order_id, []).append(payment)
    releases = [
        release(fair, order, team, supplier, locale, delivered.get(order.id, []), paid.get(order.id, []))
        for order, team, supplier in rows
    ]
    published = max((r["date"] for r in releases), default=_iso(fair.created_at))
    return {
        "uri": f"{base_url}/export/ocds.json",
        "version": "1.1",
        "publishedDate": published,
        "publisher": {"name": gettext(locale, BUREAU)},
        "license": LICENSE,
        "releases": releases,
    }


def release(
    fair: Fair,
    order: Order,
    team: Team,
    supplier: Supplier,
    locale: str,
    deliveries: list[Any] = (),
    payments: list[Payment] = (),
) -> dict[str, Any]:
    ocid = f"{OCID_PREFIX}-{fair.id}-{order.id}"
    voided = order.voided_at is not None
    moment = _iso(order.voided_at or order.confirmed_at)
    bureau = {"id": "bureau", "name": gettext(locale, BUREAU)}
    buyer = {"id": f"team-{team.id}", "name": team.name}
    seller = {"id": f"supplier-{supplier.id}", "name": supplier.name}
    category = gettext(locale, CATEGORY_NAMES[order.category])
    item = {
        "id": "1",
        "description": order.offering_title,
        "classification": {"scheme": "x_fairCategory", "id": order.category, "description": category},
        "quantity": order.quantity,
        "unit": {"name": order.unit, "value": {"amount": yuan(order.unit_price_fen), "currency": "CNY"}},
    }
    value = {"amount": yuan(order.amount_fen), "currency": "CNY"}
    status = "cancelled" if voided else "active"
    parties = [
        {**buyer, "roles": ["buyer"], "address": _address(team)},
        {**seller, "roles": ["supplier"], "details": {"booth": supplier.booth}},
        {**bureau, "roles": ["procuringEntity", *(["funder"] if order.subsidy_fen else [])]},
    ]
    contract: dict[str, Any] = {
        "id": f"{ocid}-contract",
        "awardID": f"{ocid}-award",
        "title": order.offering_title,
        "status": status,
        "value": value,
        "dateSigned": _iso(order.confirmed_at),
        "items": [item],
        "implementation": {
            "milestones": [_delivered(ocid, delivery, venue) for delivery, venue in deliveries]
            or [_milestone(ocid, n, day, voided) for n, day in enumerate(order.dates, 1)]
        },
    }
    if payments:
        contract["implementation"]["transactions"] = [_payment(ocid, p, buyer, seller) for p in payments]
    if order.venue:
        contract["description"] = order.venue
    released: dict[str, Any] = {
        "ocid": ocid,
        "id": f"{ocid}-{'voided' if voided else 'confirmed'}",
        "date": moment,
        "tag": ["awardCancellation", "contractTermination"] if voided else ["award", "contract"],
        "initiationType": "tender",
        "language": "zh",
        "parties": parties,
        "buyer": buyer,
        "tender": {
            "id": f"{ocid}-tender",
            "title": order.offering_title,
            "status": "complete",
            "procurementMethod": "direct",
            "procurementMethodDetails": gettext(locale, N_("Negotiated face to face at the procurement fair")),
            "mainProcurementCategory": "services",
            "procuringEntity": bureau,
            "items": [item],
            "value": value,
        },
        "awards": [
            {
                "id": f"{ocid}-award",
                "title": order.offering_title,
                "status": status,
                "date": _iso(order.confirmed_at),
                "value": value,
                "suppliers": [seller],
                "items": [item],
            }
        ],
        "contracts": [contract],
    }
    if order.subsidy_fen:
        released["planning"] = {
            "budget": {
                "description": gettext(locale, N_("Self-funded; the bureau subsidises it from the fair's pool")),
                "amount": {"amount": yuan(order.subsidy_fen), "currency": "CNY"},
            }
        }
    if voided:
        contract["description"] = order.void_reason
    return released


MILESTONE_STATUS = {
    DeliveryState.delivered: "met",
    DeliveryState.evaluated: "met",
    DeliveryState.missed: "notMet",
    DeliveryState.cancelled: "notMet",
}


def _delivered(ocid: str, delivery: Delivery, venue: str) -> dict[str, Any]:
    """A delivery as a milestone of the contract: met once delivered, not met if missed or cancelled, else scheduled."""
    status = MILESTONE_STATUS.get(delivery.state, "scheduled")
    milestone = {
        "id": f"{ocid}-d{delivery.id}",
        "title": f"{venue} · {delivery.quantity}",
        "type": "delivery",
        "dueDate": _iso(delivery.starts_at),
        "status": status,
        "dateModified": _iso(delivery.updated_at),
    }
    if delivery.reason:
        milestone["description"] = delivery.reason
    if status == "met":
        milestone["dateMet"] = _iso(delivery.checked_in_at or delivery.updated_at)
    return milestone


def _payment(ocid: str, payment: Payment, payer: dict[str, str], payee: dict[str, str]) -> dict[str, Any]:
    """A payment recorded by the bureau: the buyer paid the supplier, on the voucher's day, by that voucher."""
    return {
        "id": f"{ocid}-p{payment.id}",
        "date": dt.datetime.combine(payment.paid_on, dt.time(), SHANGHAI).isoformat(),
        "value": {"amount": yuan(payment.amount_fen), "currency": "CNY"},
        "payer": payer,
        "payee": payee,
        "x_voucher": payment.reference,  # OCDS has no field for it; an extension field, named as such
    }


def _milestone(ocid: str, number: int, day: str, voided: bool) -> dict[str, Any]:
    due = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(), SHANGHAI)
    return {
        "id": f"{ocid}-m{number}",
        "title": day,
        "type": "delivery",
        "dueDate": due.isoformat(),
        "status": "notMet" if voided else "scheduled",
    }


def _address(team: Team) -> dict[str, str]:
    address = {"region": team.district, "countryName": "中国"}
    if team.street:
        address["locality"] = team.street
    return address


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
