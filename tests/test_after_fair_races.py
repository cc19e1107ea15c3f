"""After the fair, raced with a transaction held mid-way on PostgreSQL: the venue's calendar, the last seat and the
booth's score each stay right whichever command commits first (on SQLite the commands run one after the other)."""

from __future__ import annotations

from sqlmodel import select

from fair.core import Code, FairError
from fair.models import Delivery, Signup
from tests.fairground import Fairground
from tests.pauses import hold_then_race
from tests.test_concurrency import settle
from tests.test_deliveries import venue, when
from tests.test_signups import an_event
from tests.truth import assert_events_tell_the_truth, screens_of, views


async def test_a_venue_held_by_one_booking_refuses_the_rival_for_the_same_time(fairground: Fairground):
    g = fairground
    orders = [(await g.order(g.library, g.troupe, g.lecture))["order"] for _ in range(2)]
    hall = await venue(g, g.library, "报告厅")

    def schedule(order):
        return settle(
            g, g.library, "delivery.schedule", {"order_id": order["id"], "venue_id": hall, **when("2026-12-10")}
        )

    first, second = await hold_then_race(
        g.db, "first", r"^INSERT INTO delivery", schedule(orders[0]), schedule(orders[1])
    )
    assert not isinstance(first, FairError), first
    assert isinstance(second, FairError) and second.code == Code.date_unavailable
    async with g.db.read() as session:
        booked = (await session.exec(select(Delivery).where(Delivery.venue_id == hall))).all()
    assert [d.order_id for d in booked] == [orders[0]["id"]]


async def test_a_phone_holding_the_last_seat_leaves_none_for_the_rival(fairground: Fairground):
    g = fairground
    event = await an_event(g, seats=1)
    await g.confirm("phone-0", "phone-1")
    phones = [g.resident(f"phone-{n}") for n in range(2)]
    first, second = await hold_then_race(
        g.db,
        "first",
        r"^INSERT INTO signup",
        settle(g, phones[0], "signup.take", {"delivery_id": event}),
        settle(g, phones[1], "signup.take", {"delivery_id": event}),
    )
    assert not isinstance(first, FairError) and not first["signup"]["waiting"], first
    assert second["signup"]["waiting"], second  # the rival waits in line for a seat given back
    async with g.db.read() as session:
        held = await session.get(Delivery, event)
        seats = (await session.exec(select(Signup).where(Signup.delivery_id == event))).all()
    assert held.taken == sum(not s.waiting for s in seats) == 1 and held.waiting == 1


async def test_a_seat_given_back_while_a_newcomer_joins_the_list_goes_to_the_newcomer(fairground: Fairground):
    """The newcomer found no seat and is held before joining the waiting list; meanwhile the last seated
    resident gives theirs back (nobody waiting yet).  Joining the list, the newcomer gets that seat at once."""
    g = fairground
    event = await an_event(g, seats=1)
    await g.confirm("seated", "newcomer")
    await g.do(g.resident("seated"), "signup.take", {"delivery_id": event})
    newcomer, leaving = await hold_then_race(
        g.db,
        "newcomer",
        r"^UPDATE delivery SET taken=.*waiting=",  # ``COUNT``: onto the list, after ``TAKE`` found it full
        settle(g, g.resident("newcomer"), "signup.take", {"delivery_id": event}),
        settle(g, g.resident("seated"), "signup.cancel", {"delivery_id": event}),
    )
    assert not isinstance(leaving, FairError), leaving
    if not g.db.is_sqlite:  # (on SQLite the newcomer joins the list first, and the seat given back goes to it)
        assert newcomer["signup"]["waiting"] is False, newcomer  # not left waiting beside a free seat
    async with g.db.read() as session:
        held = await session.get(Delivery, event)
        seats = (await session.exec(select(Signup).where(Signup.delivery_id == event))).all()
    assert (held.taken, held.waiting) == (1, 0) and [s.waiting for s in seats] == [False]


async def test_two_ratings_of_one_booth_at_once_end_with_the_score_of_both_on_every_screen(fairground: Fairground):
    """The first rating is held after reading the score under the booth's lock; the second must wait for it and
    then send a score that counts both, so the last ``score.updated`` every screen applies is the true one."""
    g = fairground
    before = await views(g.db, screens_of(g))
    order = (await g.order(g.library, g.troupe, g.lecture, quantity=2))["order"]
    hall = await venue(g, g.library, "报告厅")
    refs = []
    for day in ("2023-04-01", "2023-04-02"):
        payload = {"order_id": order["id"], "venue_id": hall, **when(day)}
        ref = {"delivery_id": (await g.do(g.library, "delivery.schedule", payload))["delivery"]["id"]}
        for step in ("delivery.confirm", "delivery.check_in", "delivery.complete"):
            await g.do(g.library, step, ref)
        refs.append(ref)
    first, second = await hold_then_race(
        g.db,
        "first",
        r"^INSERT INTO event",
        settle(g, g.library, "delivery.evaluate", {**refs[0], "rating": 5}),
        settle(g, g.library, "delivery.evaluate", {**refs[1], "rating": 2}),
    )
    assert not isinstance(first, FairError) and not isinstance(second, FairError), (first, second)
    shown = await views(g.db, [g.troupe])
    assert shown[g.troupe.key]["scores"] == [{"supplier_id": g.troupe.party_id, "ratings": 2, "total": 7}]
    await assert_events_tell_the_truth(g.db, screens_of(g), before)
