"""Residents sign up for an event delivered to their street: capacity-limited, never overbooked, cancellable.

The team opens sign-up for one of its deliveries with a number of seats (and
may give the event a live-stream link, shown on its public page).  A phone
takes a seat by a conditional update of the delivery (``taken + 1 <= seats``),
so two phones racing for the last seat get one seat between them, on SQLite
and on PostgreSQL; one seat per phone (a row per delivery and device).  A
cancel gives the seat back.  Seats cannot be cut below those taken.
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
from fair.core.rows import get, insert_row, new, returned
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


class SignupRef(Input):
    delivery_id: Id


TAKE = (
    update(Delivery)
    .where(
        Delivery.id == bindparam("delivery_id"),
        col(Delivery.state).in_(OPEN_FOR_SIGNUP),
        Delivery.taken + 1 <= Delivery.seats,
    )
    .values(taken=Delivery.taken + 1)
    .returning(Delivery.__table__)
)
GIVE_BACK = (
    update(Delivery)
    .where(Delivery.id == bindparam("delivery_id"), Delivery.taken > 0)
    .values(taken=Delivery.taken - 1)
    .returning(Delivery.__table__)
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
    return announce(tx, changed)


@command("signup.take", TakeSeat, Role.resident)
def take(tx: Tx, data: TakeSeat) -> dict[str, Any]:
    current_fair(tx)
    delivery = get(tx, Delivery, data.delivery_id)
    taken = tx.run(
        select(Signup.id).where(Signup.delivery_id == delivery.id, Signup.device == tx.actor.resident_key)
    ).first()
    if taken is not None:
        raise FairError(Code.invalid_state, N_("This phone has a seat already."))
    held = returned(tx.run(TAKE, {"delivery_id": delivery.id}))
    if held is None:
        if delivery.seats == 0 or delivery.state not in OPEN_FOR_SIGNUP:
            raise FairError(Code.invalid_state, N_("Sign-up is not open for this event."))
        raise FairError(Code.capacity_exhausted, N_("Every seat is taken."))
    seat = insert_row(
        tx,
        Signup,
        new(
            Signup,
            fair_id=tx.fair_id,
            delivery_id=held.id,
            device=tx.actor.resident_key,
            name=data.name,
            created_at=tx.now,
        ),
    )
    result = announce(tx, held)
    return {**result, "signup": {"id": seat.id, "delivery_id": held.id, "name": seat.name}}


@command("signup.cancel", SignupRef, Role.resident)
def cancel(tx: Tx, data: SignupRef) -> dict[str, Any]:
    current_fair(tx)
    gone = tx.run(
        delete(Signup)
        .where(Signup.delivery_id == data.delivery_id, Signup.device == tx.actor.resident_key)
        .returning(Signup.id)
    ).first()
    if gone is None:
        raise FairError(Code.not_found, N_("This phone has no seat at this event."))
    return announce(tx, returned(tx.run(GIVE_BACK, {"delivery_id": data.delivery_id})))


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
    "stream_url",
)


def public_event(delivery: dict[str, Any], has_seat: bool) -> dict[str, Any]:
    """What anyone may know of a delivered event (never its contact), and whether this phone has a seat."""
    return {key: delivery[key] for key in PUBLIC_EVENT_FIELDS} | {"has_seat": has_seat}
