"""Residents sign up for an event delivered to their street: never overbooked, with a waiting list.

The team opens sign-up for one of its deliveries with a number of seats (and
may give the event a live-stream link, shown on its public page).  A resident
(a confirmed phone, ``fair.core.residents``) takes up to the fair's
``seats_per_resident`` seats by a conditional update of the delivery
(``taken + n <= seats``), so two phones racing for the last seat get one seat
between them, on SQLite and on PostgreSQL; one row per resident and event.
When the seats are gone the resident joins the waiting list instead.  Seats
given back (a cancel, or more seats opened) go to the waiting list in the
order it was joined, in the same transaction, so every screen sees the seat
move at once; the head of the list waits for enough seats rather than being
passed over.  Seats cannot be cut below those taken.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field, StrictInt
from sqlalchemy import bindparam, delete, select, update
from sqlmodel import col

from fair.core.actors import Role
from fair.core.commands import Tx, command
from fair.core.deliveries import announce, owned
from fair.core.errors import N_, Code, FairError
from fair.core.guards import current_fair
from fair.core.inputs import Id, Input, Line, ResidentText
from fair.core.residents import require_resident
from fair.core.rows import Row, get, insert_row, new, returned
from fair.models import Delivery, DeliveryState, Signup

OPEN_FOR_SIGNUP = (DeliveryState.scheduled, DeliveryState.confirmed)


def _web_address(url: str) -> str:
    if url and not url.startswith(("https://", "http://")):
        raise ValueError("a web address starting with https://")
    return url


class OpenSignup(Input):
    delivery_id: Id
    seats: Annotated[StrictInt, Field(ge=0, le=10_000)]  # 0 closes sign-up
    stream_url: Annotated[Line(300), AfterValidator(_web_address)] = ""


class TakeSeat(Input):
    delivery_id: Id
    name: ResidentText(30, 0) = ""
    seats: Annotated[StrictInt, Field(ge=1, le=10)] = 1  # at most the fair's ``seats_per_resident``


class SignupRef(Input):
    delivery_id: Id


TAKE = (
    update(Delivery)
    .where(
        Delivery.id == bindparam("delivery_id"),
        col(Delivery.state).in_(OPEN_FOR_SIGNUP),
        Delivery.taken + bindparam("asked") <= Delivery.seats,
        Delivery.waiting == 0,  # while anyone waits, a newcomer waits behind them
    )
    .values(taken=Delivery.taken + bindparam("asked"))
    .returning(Delivery.__table__)
)
COUNT = (  # seats taken and waited for, by ``seats`` more (or fewer, negative), under the delivery's lock
    update(Delivery)
    .where(Delivery.id == bindparam("delivery_id"))
    .values(taken=Delivery.taken + bindparam("more_taken"), waiting=Delivery.waiting + bindparam("more_waiting"))
    .returning(Delivery.__table__)
)
LOCK = select(Delivery.__table__).where(Delivery.id == bindparam("delivery_id")).with_for_update()
WAITING = (
    select(Signup.id, Signup.seats)
    .where(Signup.delivery_id == bindparam("delivery_id"), col(Signup.waiting).is_(True))
    .order_by(Signup.id)
)
MINE = select(Signup.__table__).where(
    Signup.delivery_id == bindparam("delivery_id"), Signup.resident_id == bindparam("resident_id")
)


@command("delivery.open_signup", OpenSignup, Role.team)
def open_signup(tx: Tx, data: OpenSignup) -> dict[str, Any]:
    """Open (or resize, or close with 0) sign-up for a delivery of the team's, and set its live stream."""
    delivery = owned(tx, data.delivery_id)
    if delivery.state not in OPEN_FOR_SIGNUP:
        raise FairError(Code.invalid_state, N_("Sign-up opens for an event still to come."))
    changed = returned(
        tx.run(
            update(Delivery)
            .where(Delivery.id == delivery.id, Delivery.taken <= data.seats)
            .values(seats=data.seats, stream_url=data.stream_url, updated_at=tx.now)
            .returning(Delivery.__table__)
        )
    )
    if changed is None:
        raise FairError(
            Code.invalid_input,
            N_("%(taken)s residents have signed up already: there must be at least as many seats."),
            taken=delivery.taken,
        )
    return announce(tx, _seat_the_waiting(tx, changed))


@command("signup.take", TakeSeat, Role.resident)
def take(tx: Tx, data: TakeSeat) -> dict[str, Any]:
    """Seats for a resident, or a place on the waiting list when they are gone."""
    fair = current_fair(tx)
    resident_id = require_resident(tx)
    if data.seats > fair.seats_per_resident:
        raise FairError(
            Code.invalid_input, N_("One person may take %(most)s seats at most."), most=fair.seats_per_resident
        )
    delivery = get(tx, Delivery, data.delivery_id)
    mine = tx.run(MINE, {"delivery_id": delivery.id, "resident_id": resident_id}).mappings().first()
    if mine is not None:
        if mine["waiting"]:
            raise FairError(Code.duplicate, N_("You are on the waiting list already."))
        raise FairError(Code.duplicate, N_("You have a seat already."))
    held = returned(tx.run(TAKE, {"delivery_id": delivery.id, "asked": data.seats}))
    waiting = held is None
    if waiting:
        if delivery.seats == 0 or delivery.state not in OPEN_FOR_SIGNUP:
            raise FairError(Code.invalid_state, N_("Sign-up is not open for this event."))
        held = returned(tx.run(COUNT, {"delivery_id": delivery.id, "more_taken": 0, "more_waiting": data.seats}))
    row = new(
        Signup,
        fair_id=tx.fair_id,
        delivery_id=held.id,
        resident_id=resident_id,
        seats=data.seats,
        waiting=waiting,
        name=data.name,
        created_at=tx.now,
    )
    seat = insert_row(tx, Signup, row)
    if waiting:  # seats given back while this waited for the delivery's lock are handed out now, in turn
        held = _seat_the_waiting(tx, held)
        waiting = tx.run(MINE, {"delivery_id": held.id, "resident_id": resident_id}).mappings().one()["waiting"]
    result = announce(tx, held)
    return {**result, "signup": {"id": seat.id, "delivery_id": held.id, "name": seat.name, "waiting": waiting}}


@command("signup.cancel", SignupRef, Role.resident)
def cancel(tx: Tx, data: SignupRef) -> dict[str, Any]:
    """Give seats back (they go to the waiting list at once), or leave the waiting list."""
    current_fair(tx)
    resident_id = require_resident(tx)
    if returned(tx.run(LOCK, {"delivery_id": data.delivery_id})) is None:
        raise FairError(Code.not_found, N_("There is no such event."))
    gone = returned(
        tx.run(
            delete(Signup)
            .where(Signup.delivery_id == data.delivery_id, Signup.resident_id == resident_id)
            .returning(Signup.__table__)
        )
    )
    if gone is None:
        raise FairError(Code.not_found, N_("You have no seat at this event."))
    counts = (
        {"more_taken": 0, "more_waiting": -gone.seats}
        if gone.waiting
        else {"more_taken": -gone.seats, "more_waiting": 0}
    )
    delivery = returned(tx.run(COUNT, {"delivery_id": data.delivery_id, **counts}))
    return announce(tx, _seat_the_waiting(tx, delivery))


def _seat_the_waiting(tx: Tx, delivery: Row) -> Row:
    """Hand free seats to the waiting list in turn, under the delivery's lock; the delivery as it ends up."""
    if delivery.state not in OPEN_FOR_SIGNUP:
        return delivery
    free = delivery.seats - delivery.taken
    seated, seats = [], 0
    for signup_id, wanted in tx.run(WAITING, {"delivery_id": delivery.id}).all():
        if wanted > free - seats:
            break  # the head of the list waits for enough seats: nobody jumps the queue
        seated.append(signup_id)
        seats += wanted
    if not seated:
        return delivery
    tx.run(update(Signup).where(col(Signup.id).in_(seated)).values(waiting=False))
    return returned(tx.run(COUNT, {"delivery_id": delivery.id, "more_taken": seats, "more_waiting": -seats}))


PUBLIC_EVENT_FIELDS = (
    "id",
    "offering_title",
    "category",
    "supplier_name",
    "team_name",
    "district",
    "venue_name",
    "venue_address",
    "starts_at",
    "ends_at",
    "state",
    "seats",
    "taken",
    "waiting",
    "stream_url",
)


def public_event(delivery: dict[str, Any], mine: dict[str, Any] | None) -> dict[str, Any]:
    """What anyone may know of a delivered event (never its contact), this resident's seats if any, and whether
    one more would join the waiting list (``TAKE``'s rule: no seat left, or others waiting already)."""
    full = delivery["taken"] >= delivery["seats"] or delivery["waiting"] > 0
    return {key: delivery[key] for key in PUBLIC_EVENT_FIELDS} | {"mine": mine, "full": full}
