"""Voiding an order after the fair: its deliveries still to come are cancelled in the same transaction, their
venues' times freed and their sign-ups closed; once a delivery has begun the void is refused and changes nothing.
On PostgreSQL each rival command is held mid-transaction while the other runs, both ways round."""

from __future__ import annotations

from sqlmodel import select

from fair.core import Code, FairError
from fair.models import Delivery, Order
from tests.fairground import Fairground
from tests.pauses import Pause, hold_then_race, paused_or_done, race, stop_races
from tests.test_concurrency import settle
from tests.test_deliveries import venue, when
from tests.truth import assert_events_tell_the_truth, screens_of, views


async def deliveries_of(g: Fairground, order_id: int) -> list[Delivery]:
    async with g.db.read() as session:
        return list((await session.exec(select(Delivery).where(Delivery.order_id == order_id))).all())


async def voided_at(g: Fairground, order_id: int):
    async with g.db.read() as session:
        return (await session.get(Order, order_id)).voided_at


def schedule(g: Fairground, order_id: int, hall: int, day: str):
    return settle(g, g.library, "delivery.schedule", {"order_id": order_id, "venue_id": hall, **when(day)})


def void(g: Fairground, order_id: int):
    return settle(g, g.organiser, "order.void", {"order_id": order_id, "reason": "重复下单"})


async def test_voiding_cancels_the_deliveries_to_come_frees_their_venue_and_closes_their_sign_up(
    fairground: Fairground,
):
    g = fairground
    before = await views(g.db, screens_of(g))
    order = (await g.order(g.library, g.troupe, g.lecture, quantity=3))["order"]
    hall = await venue(g, g.library, "报告厅")
    first = (await schedule(g, order["id"], hall, "2026-12-10"))["delivery"]
    second = (await schedule(g, order["id"], hall, "2026-12-11"))["delivery"]
    await g.do(g.library, "delivery.confirm", {"delivery_id": second["id"]})
    await g.do(g.library, "delivery.open_signup", {"delivery_id": second["id"], "seats": 30})

    voided = await void(g, order["id"])
    assert not isinstance(voided, FairError), voided

    ended = await deliveries_of(g, order["id"])
    assert [(d.id, d.state, d.reason) for d in ended] == [
        (first["id"], "cancelled", "重复下单"),
        (second["id"], "cancelled", "重复下单"),
    ]
    # The hall is free again at both times, for another order.
    other = (await g.order(g.library, g.troupe, g.lecture))["order"]
    again = await schedule(g, other["id"], hall, "2026-12-10")
    assert not isinstance(again, FairError), again
    # Nobody signs up for a cancelled event; nothing more is scheduled for the voided order.
    await g.confirm("phone-1")
    phone = g.resident("phone-1")
    taken = await settle(g, phone, "signup.take", {"delivery_id": second["id"], "name": "李阿姨"})
    assert isinstance(taken, FairError) and taken.code == Code.invalid_state
    late = await schedule(g, order["id"], hall, "2026-12-12")
    assert isinstance(late, FairError) and late.code == Code.invalid_state
    await assert_events_tell_the_truth(g.db, screens_of(g), before)


async def test_an_order_whose_delivery_has_begun_cannot_be_voided_and_nothing_changes(fairground: Fairground):
    g = fairground
    order = (await g.order(g.library, g.troupe, g.lecture, quantity=2))["order"]
    hall = await venue(g, g.library, "报告厅")
    begun = (await schedule(g, order["id"], hall, "2023-04-01"))["delivery"]
    to_come = (await schedule(g, order["id"], hall, "2026-12-11"))["delivery"]
    await g.do(g.library, "delivery.confirm", {"delivery_id": begun["id"]})
    await g.do(g.library, "delivery.check_in", {"delivery_id": begun["id"]})
    state, deliveries = await g.state(), await deliveries_of(g, order["id"])

    refused = await void(g, order["id"])

    assert isinstance(refused, FairError) and refused.code == Code.invalid_state
    assert refused.params == {"count": 1}
    assert await g.state() == state
    assert [(d.id, d.state) for d in await deliveries_of(g, order["id"])] == [(d.id, d.state) for d in deliveries]
    assert [d.state for d in deliveries] == ["under_way", "scheduled"] and to_come["id"] == deliveries[1].id


# Races on PostgreSQL (on SQLite the commands run one after the other, one of the orders PostgreSQL may take).


async def test_a_delivery_scheduled_while_a_void_waits_is_cancelled_with_it(fairground: Fairground):
    """The void has locked the order's deliveries and is held before the order's row; the team schedules one more."""
    g, db = fairground, fairground.db
    order = (await g.order(g.library, g.troupe, g.lecture, quantity=2))["order"]
    hall = await venue(g, g.library, "报告厅")
    await schedule(g, order["id"], hall, "2026-12-10")
    try:
        with Pause(db, "void", r"^UPDATE purchase_order SET voided_at") as held:
            voiding = race("void", void(g, order["id"]))
            if await paused_or_done(held, voiding):
                scheduled = await schedule(g, order["id"], hall, "2026-12-11")
                assert not isinstance(scheduled, FairError), scheduled  # the order was not voided yet
                held.release()
            voided = await voiding
    finally:
        await stop_races()
    assert not isinstance(voided, FairError), voided
    assert await voided_at(g, order["id"]) is not None
    assert {d.state for d in await deliveries_of(g, order["id"])} == {"cancelled"}


async def test_a_void_waits_for_a_schedule_holding_the_order_and_cancels_what_it_scheduled(fairground: Fairground):
    g, db = fairground, fairground.db
    order = (await g.order(g.library, g.troupe, g.lecture, quantity=2))["order"]
    hall = await venue(g, g.library, "报告厅")
    scheduled, voided = await hold_then_race(  # the team holds the order's row when the void comes
        db, "schedule", r"^INSERT INTO delivery", schedule(g, order["id"], hall, "2026-12-10"), void(g, order["id"])
    )
    assert not isinstance(scheduled, FairError), scheduled
    assert not isinstance(voided, FairError), voided
    assert [d.state for d in await deliveries_of(g, order["id"])] == ["cancelled"]


async def test_a_check_in_in_flight_makes_the_void_wait_then_refuse(fairground: Fairground):
    g, db = fairground, fairground.db
    order = (await g.order(g.library, g.troupe, g.lecture))["order"]
    hall = await venue(g, g.library, "报告厅")
    delivery = (await schedule(g, order["id"], hall, "2023-04-01"))["delivery"]
    await g.do(g.library, "delivery.confirm", {"delivery_id": delivery["id"]})
    ref = {"delivery_id": delivery["id"]}
    checking_in = settle(g, g.library, "delivery.check_in", ref)
    checked_in, voided = await hold_then_race(  # the venue holds the delivery's row when the void comes
        db, "check_in", r"^UPDATE delivery SET state", checking_in, void(g, order["id"])
    )
    assert not isinstance(checked_in, FairError), checked_in
    assert isinstance(voided, FairError) and voided.code == Code.invalid_state
    assert await voided_at(g, order["id"]) is None
    assert [d.state for d in await deliveries_of(g, order["id"])] == ["under_way"]
