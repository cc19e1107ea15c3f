"""After the fair: an order is delivered to the grassroots, piece by piece, under whole-process supervision.

An order becomes deliveries: each performance, session or lecture is one,
a book order one or more shipments of some volumes.  The team schedules each
at one of its venues (a register it keeps) on a day and a time; a venue never
hosts two deliveries at once, checked under a lock on the venue, as orders are
raced.  Dated orders are delivered on the dates agreed at the fair.

The timeline, and who moves it (the permission matrix tests every pair):

    scheduled --confirm--> confirmed --check in--> under way --deliver--> delivered --evaluate--> evaluated
    scheduled / confirmed --reschedule (a reason)--> scheduled
    scheduled / confirmed / under way --miss (a reason)--> missed
    scheduled / confirmed --the order voided (its reason)--> cancelled

The team schedules, confirms for its venue, marks delivered and rates; the
venue's contact confirms and checks in through the delivery's signed link
(``fair.venues``: the link acts for the team, and only on its delivery); the
booth may reschedule or report a miss as the team may.  A missed delivery
gives its units back to the order, to be scheduled again.  Voiding an order
(``fair.core.corrections``) cancels its deliveries still to come, freeing
their venues' times, in the same transaction; once one has begun, the order
can no longer be voided: the service was given.

Lock order: the delivery, the order (its units), the venue (its calendar).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import Field, StrictInt, StrictStr
from sqlalchemy import bindparam, func, select, update
from sqlmodel import col

from fair.core.actors import Role
from fair.core.commands import Tx, command
from fair.core.errors import N_, Code, FairError
from fair.core.guards import current_fair
from fair.core.inputs import Clock, Day, Id, Input, Line, Lines, Name, Units
from fair.core.rows import Row, get, insert_row, new, returned
from fair.i18n import SHANGHAI
from fair.models import (
    HOLDING_DELIVERY_STATES,
    Delivery,
    DeliveryState,
    FairState,
    Order,
    Supplier,
    Team,
    Venue,
)

S = DeliveryState


class AddVenue(Input):
    name: Name
    address: Line(120) = ""
    contact: Line(60) = ""


class ScheduleDelivery(Input):
    order_id: Id
    venue_id: Id
    day: Day
    starts: Clock
    ends: Clock
    quantity: Units = 1
    contact: Line(60) = ""


class DeliveryRef(Input):
    delivery_id: Id


class Reschedule(Input):
    delivery_id: Id
    day: Day
    starts: Clock
    ends: Clock
    venue_id: Id | None = None
    reason: Line(200, min_length=2)


class Miss(Input):
    delivery_id: Id
    reason: Line(200, min_length=2)


class AttachPhoto(Input):
    delivery_id: Id
    photo: Annotated[StrictStr, Field(pattern=r"^[0-9]+-[0-9a-f]{32}\.(jpg|png|webp)$")]  # as fair.photos names it


class Evaluate(Input):
    delivery_id: Id
    rating: Annotated[StrictInt, Field(ge=1, le=5)]
    comment: Lines(500) = ""


VENUE_LOCK = select(Venue.id).where(Venue.id == bindparam("venue_id")).with_for_update()
CLASHES = select(Delivery.id).where(
    Delivery.venue_id == bindparam("venue_id"),
    col(Delivery.state).in_(HOLDING_DELIVERY_STATES),
    Delivery.id != bindparam("delivery_id"),
    Delivery.starts_at < bindparam("ends_at"),
    Delivery.ends_at > bindparam("starts_at"),
)
ORDER_LOCK = select(Order.__table__).where(Order.id == bindparam("order_id")).with_for_update()
ENDED = (S.missed, S.cancelled)  # these give their units and dates back to the order
PLANNED = select(func.coalesce(func.sum(Delivery.quantity), 0)).where(
    Delivery.order_id == bindparam("order_id"), col(Delivery.state).not_in(ENDED)
)
SCORE = select(func.sum(Delivery.rating), func.count(Delivery.rating)).where(
    Delivery.supplier_id == bindparam("supplier_id"), col(Delivery.rating).is_not(None)
)
DAYS_TAKEN = select(Delivery.starts_at).where(
    Delivery.order_id == bindparam("order_id"), col(Delivery.state).not_in(ENDED)
)
OF_THE_ORDER = (
    select(Delivery.__table__).where(Delivery.order_id == bindparam("order_id")).order_by(Delivery.id).with_for_update()
)
BEGUN = (S.under_way, S.delivered, S.evaluated)
TO_COME = (S.scheduled, S.confirmed)


def delivery_view(delivery: Any, order: Any, venue: Any, team_name: str, supplier_name: str) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "order_id": delivery.order_id,
        "team_id": delivery.team_id,
        "team_name": team_name,
        "supplier_id": delivery.supplier_id,
        "supplier_name": supplier_name,
        "offering_title": order.offering_title,
        "category": order.category,
        "district": order.district,
        "unit": order.unit,
        "quantity": delivery.quantity,
        "venue_id": delivery.venue_id,
        "venue_name": venue.name,
        "venue_address": venue.address,
        "starts_at": delivery.starts_at.isoformat(),
        "ends_at": delivery.ends_at.isoformat(),
        "contact": delivery.contact or venue.contact,
        "state": delivery.state,
        "reschedules": delivery.reschedules,
        "reason": delivery.reason,
        "checked_in_at": delivery.checked_in_at.isoformat() if delivery.checked_in_at else None,
        "rating": delivery.rating,
        "comment": delivery.comment,
        "seats": delivery.seats,
        "taken": delivery.taken,
        "waiting": delivery.waiting,
        "stream_url": delivery.stream_url,
        "photo": bool(delivery.photo),
    }


def venue_view(venue: Any) -> dict[str, Any]:
    return {
        "id": venue.id,
        "team_id": venue.team_id,
        "name": venue.name,
        "address": venue.address,
        "contact": venue.contact,
    }


@command("venue.add", AddVenue, Role.team)
def add_venue(tx: Tx, data: AddVenue) -> dict[str, Any]:
    current_fair(tx)
    taken = tx.run(select(Venue.id).where(Venue.team_id == tx.actor.party_id, Venue.name == data.name)).first()
    if taken is not None:
        raise FairError(Code.invalid_input, N_("You already have a venue called %(name)s."), name=data.name)
    venue = insert_row(tx, Venue, new(Venue, fair_id=tx.fair_id, team_id=tx.actor.party_id, **data.model_dump()))
    view = venue_view(venue)
    tx.emit("venue.updated", {"venue": view})
    return {"venue": view}


@command("delivery.schedule", ScheduleDelivery, Role.team)
def schedule(tx: Tx, data: ScheduleDelivery) -> dict[str, Any]:
    fair = current_fair(tx)
    _require_after_the_fair(fair)
    order = returned(tx.run(ORDER_LOCK, {"order_id": data.order_id}))
    if order is None or order.fair_id != tx.fair_id:
        get(tx, Order, data.order_id)  # refused as not found
    if order.team_id != tx.actor.party_id:
        raise FairError(Code.not_a_party, N_("This order is another team's."))
    if order.voided_at is not None:
        raise FairError(Code.invalid_state, N_("This order was voided: there is nothing to deliver."))
    planned = tx.run(PLANNED, {"order_id": order.id}).scalar_one()
    if planned + data.quantity > order.quantity:
        raise FairError(
            Code.invalid_input,
            N_("Only %(left)s %(unit)s of this order are left to schedule."),
            left=order.quantity - planned,
            unit=order.unit,
        )
    if order.dates and data.quantity != 1:
        raise FairError(Code.invalid_input, N_("A dated order is delivered one %(unit)s per date."), unit=order.unit)
    starts, ends = _times(data.day, data.starts, data.ends)
    _require_an_agreed_day(tx, order, data.day, ignore=None)
    _book_venue(tx, data.venue_id, None, starts, ends)
    delivery = insert_row(
        tx,
        Delivery,
        new(
            Delivery,
            fair_id=tx.fair_id,
            order_id=order.id,
            team_id=order.team_id,
            supplier_id=order.supplier_id,
            venue_id=data.venue_id,
            quantity=data.quantity,
            starts_at=starts,
            ends_at=ends,
            contact=data.contact,
            created_at=tx.now,
            updated_at=tx.now,
        ),
    )
    return announce(tx, delivery)


@command("delivery.confirm", DeliveryRef, Role.team)
def confirm(tx: Tx, data: DeliveryRef) -> dict[str, Any]:
    """The venue says yes: through its link, or the team for it."""
    return announce(tx, _move(tx, owned(tx, data.delivery_id), (S.scheduled,), S.confirmed))


@command("delivery.check_in", DeliveryRef, Role.team)
def check_in(tx: Tx, data: DeliveryRef) -> dict[str, Any]:
    """The venue's contact, at the event, says it has begun; the time is recorded."""
    delivery = owned(tx, data.delivery_id)
    if tx.now < delivery.starts_at - dt.timedelta(hours=2):
        raise FairError(Code.invalid_state, N_("Check in on the day, at the event: it starts at a later time."))
    return announce(tx, _move(tx, delivery, (S.confirmed,), S.under_way, checked_in_at=tx.now))


@command("delivery.attach_photo", AttachPhoto, Role.team)
def attach_photo(tx: Tx, data: AttachPhoto) -> dict[str, Any]:
    """The venue's photo of the event, once it has checked in (the file is stored by the adapter, under its hash)."""
    delivery = owned(tx, data.delivery_id)
    if delivery.checked_in_at is None:
        raise FairError(Code.invalid_state, N_("A photo is added at the event, after checking in."))
    return announce(tx, _move(tx, delivery, (delivery.state,), delivery.state, photo=data.photo))


@command("delivery.complete", DeliveryRef, Role.team)
def complete(tx: Tx, data: DeliveryRef) -> dict[str, Any]:
    return announce(tx, _move(tx, owned(tx, data.delivery_id), (S.under_way,), S.delivered))


@command("delivery.evaluate", Evaluate, Role.team)
def evaluate(tx: Tx, data: Evaluate) -> dict[str, Any]:
    """The team's rating, 1–5; the booth's score (sum and count, exact) is read again under its lock and sent."""
    delivery = owned(tx, data.delivery_id)
    rated = _move(tx, delivery, (S.delivered,), S.evaluated, rating=data.rating, comment=data.comment)
    result = announce(tx, rated)
    tx.run(select(Supplier.id).where(Supplier.id == rated.supplier_id).with_for_update())
    total, count = tx.run(SCORE, {"supplier_id": rated.supplier_id}).one()
    score = {"supplier_id": rated.supplier_id, "ratings": count, "total": int(total or 0)}
    tx.emit("score.updated", {"score": score})
    return {**result, "score": score}


@command("delivery.reschedule", Reschedule, Role.team, Role.supplier)
def reschedule(tx: Tx, data: Reschedule) -> dict[str, Any]:
    delivery = owned(tx, data.delivery_id)
    order = returned(tx.run(ORDER_LOCK, {"order_id": delivery.order_id}))
    starts, ends = _times(data.day, data.starts, data.ends)
    _require_an_agreed_day(tx, order, data.day, ignore=delivery.id)
    venue_id = data.venue_id or delivery.venue_id
    if venue_id != delivery.venue_id and get(tx, Venue, venue_id).team_id != delivery.team_id:
        raise FairError(Code.not_a_party, N_("This venue is another team's."))
    _book_venue(tx, venue_id, delivery.id, starts, ends, team_id=delivery.team_id)
    moved = _move(
        tx,
        delivery,
        (S.scheduled, S.confirmed),
        S.scheduled,
        starts_at=starts,
        ends_at=ends,
        venue_id=venue_id,
        reason=data.reason,
        reschedules=Delivery.reschedules + 1,
    )
    return announce(tx, moved)


@command("delivery.miss", Miss, Role.team, Role.supplier)
def miss(tx: Tx, data: Miss) -> dict[str, Any]:
    delivery = owned(tx, data.delivery_id)
    return announce(tx, _move(tx, delivery, HOLDING_DELIVERY_STATES, S.missed, reason=data.reason))


def hold_of_the_order(tx: Tx, order_id: int) -> None:
    """Lock the order's deliveries before the order itself, in this module's lock order (delivery, order)."""
    tx.run(OF_THE_ORDER, {"order_id": order_id}).all()


def cancel_with_the_order(tx: Tx, order: Row) -> None:
    """The order was voided (its row is locked): cancel its deliveries still to come, or refuse if one has begun.

    Read again under the order's lock, so that a delivery scheduled while the
    void waited for the order is cancelled too.
    """
    deliveries = tx.run(OF_THE_ORDER, {"order_id": order.id}).all()
    begun = [d for d in deliveries if d.state in BEGUN]
    if begun:
        raise FairError(
            Code.invalid_state,
            N_("%(count)s deliveries of this order have begun or taken place: it can no longer be voided."),
            count=len(begun),
        )
    for delivery in deliveries:
        if delivery.state in TO_COME:
            announce(tx, _move(tx, delivery, TO_COME, S.cancelled, reason=order.void_reason))


def _require_after_the_fair(fair: Row) -> None:
    if fair.state in (FairState.setup, FairState.preview):
        raise FairError(Code.invalid_state, N_("Deliveries are scheduled once orders are confirmed at the fair."))


def _times(day: str, starts: str, ends: str) -> tuple[dt.datetime, dt.datetime]:
    date = dt.date.fromisoformat(day)
    begin = dt.datetime.combine(date, dt.time.fromisoformat(starts), SHANGHAI).astimezone(dt.UTC)
    end = dt.datetime.combine(date, dt.time.fromisoformat(ends), SHANGHAI).astimezone(dt.UTC)
    if end <= begin:
        raise FairError(Code.invalid_input, N_("The end must come after the start."))
    return begin, end


def _require_an_agreed_day(tx: Tx, order: Row, day: str, ignore: int | None) -> None:
    """A dated order is delivered on its dates, each once."""
    if not order.dates:
        return
    if day not in order.dates:
        raise FairError(Code.invalid_input, N_("%(day)s is not one of the dates agreed for this order."), day=day)
    taken = tx.run(DAYS_TAKEN.where(Delivery.id != (ignore or 0)), {"order_id": order.id}).scalars()
    if any(start.astimezone(SHANGHAI).date().isoformat() == day for start in taken):
        raise FairError(Code.date_unavailable, N_("A delivery of this order is already set for %(day)s."), day=day)


def _book_venue(
    tx: Tx, venue_id: int, delivery_id: int | None, starts: dt.datetime, ends: dt.datetime, team_id: int | None = None
) -> None:
    """Hold the venue's calendar (its row, locked) and refuse a time it is already booked for."""
    venue = get(tx, Venue, venue_id)
    if venue.team_id != (team_id or tx.actor.party_id):
        raise FairError(Code.not_a_party, N_("This venue is another team's."))
    tx.run(VENUE_LOCK, {"venue_id": venue_id})
    window = {"venue_id": venue_id, "delivery_id": delivery_id or 0, "starts_at": starts, "ends_at": ends}
    if tx.run(CLASHES, window).first() is not None:
        raise FairError(Code.date_unavailable, N_("%(venue)s is already booked at that time."), venue=venue.name)


def owned(tx: Tx, delivery_id: int) -> Row:
    """The delivery, locked, if the actor is its team or its booth."""
    delivery = returned(tx.run(select(Delivery.__table__).where(Delivery.id == delivery_id).with_for_update()))
    if delivery is None or delivery.fair_id != tx.fair_id:
        get(tx, Delivery, delivery_id)  # refused as not found
    party = delivery.team_id if tx.actor.role == Role.team else delivery.supplier_id
    if party != tx.actor.party_id:
        raise FairError(Code.not_a_party, N_("This delivery is not yours."))
    return delivery


def _move(tx: Tx, delivery: Row, sources: tuple[str, ...], target: str, **also: Any) -> Row:
    moved = returned(
        tx.run(
            update(Delivery)
            .where(Delivery.id == delivery.id, col(Delivery.state).in_(sources))
            .values(state=target, updated_at=tx.now, **also)
            .returning(Delivery.__table__)
        )
    )
    if moved is None:
        raise FairError(
            Code.invalid_state,
            N_("This delivery is %(state_label)s: it cannot become %(target_label)s."),
            state_label=STATES[delivery.state],
            target_label=STATES[target],
        )
    return moved


STATES = {
    S.scheduled: N_("scheduled"),
    S.confirmed: N_("confirmed by the venue"),
    S.under_way: N_("under way"),
    S.delivered: N_("delivered"),
    S.evaluated: N_("evaluated"),
    S.missed: N_("missed"),
    S.cancelled: N_("cancelled: the order was voided"),
}


def announce(tx: Tx, delivery: Row) -> dict[str, Any]:
    order = get(tx, Order, delivery.order_id)
    venue = get(tx, Venue, delivery.venue_id)
    team = get(tx, Team, delivery.team_id)
    supplier = get(tx, Supplier, delivery.supplier_id)
    view = delivery_view(delivery, order, venue, team.name, supplier.name)
    tx.emit("delivery.updated", {"delivery": view})
    return {"delivery": view}


def is_late(delivery: dict[str, Any], now: dt.datetime) -> bool:
    return delivery["state"] in (S.scheduled, S.confirmed) and dt.datetime.fromisoformat(delivery["ends_at"]) < now


def flags(delivery: dict[str, Any], now: dt.datetime) -> list[str]:
    """What the supervision must look at, as of ``now`` (time moves, so these are read, never pushed)."""
    shown = []
    if is_late(delivery, now):
        shown.append("late")
    starts = dt.datetime.fromisoformat(delivery["starts_at"])
    if delivery["state"] == S.scheduled and now <= starts <= now + dt.timedelta(days=7):
        shown.append("unconfirmed")
    if delivery["state"] == S.missed:
        shown.append("missed")
    if delivery["reschedules"] >= 2:
        shown.append("rescheduled_twice")
    return shown
