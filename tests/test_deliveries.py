"""After the fair: deliveries at the teams' venues, their timeline and who may move it, venues never double-booked,
ratings that make a booth's score, and the supervision's flags."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from fair.core import Actor, Code, FairError, queries
from tests.fairground import Fairground
from tests.truth import assert_events_tell_the_truth, screens_of, views


async def venue(g: Fairground, team: Actor, name: str = "锁金村社区文化活动室") -> int:
    return (await g.do(team, "venue.add", {"name": name, "address": "锁金村 12 号", "contact": "王老师 139…"}))[
        "venue"
    ]["id"]


def when(day: str, starts: str = "14:00", ends: str = "16:00") -> dict:
    return {"day": day, "starts": starts, "ends": ends}


async def test_a_delivery_goes_from_scheduled_to_evaluated_and_every_screen_follows(fairground: Fairground):
    g = fairground
    before = await views(g.db, screens_of(g))
    order = (await g.order(g.library, g.troupe, g.show, quantity=2, dates=["2023-04-01", "2023-04-08"]))["order"]
    hall = await venue(g, g.library, "玄武区图书馆报告厅")
    first = await g.do(
        g.library, "delivery.schedule", {"order_id": order["id"], "venue_id": hall, **when("2023-04-01")}
    )
    delivery = first["delivery"]
    assert (delivery["state"], delivery["venue_name"], delivery["starts_at"]) == (
        "scheduled",
        "玄武区图书馆报告厅",
        "2023-04-01T06:00:00+00:00",  # 14:00 in Nanjing
    )
    ref = {"delivery_id": delivery["id"]}
    for actor, step, state in (
        (g.library, "delivery.confirm", "confirmed"),
        (g.library, "delivery.check_in", "under_way"),
        (g.library, "delivery.complete", "delivered"),
    ):
        assert (await g.do(actor, step, ref))["delivery"]["state"] == state
    rated = await g.do(g.library, "delivery.evaluate", {**ref, "rating": 5, "comment": "演得好"})
    assert rated["delivery"]["state"] == "evaluated" and rated["score"] == {
        "supplier_id": g.troupe.party_id,
        "ratings": 1,
        "total": 5,
    }
    shown = await views(g.db, [g.troupe, g.bookseller])
    assert shown[g.troupe.key]["deliveries"][0]["checked_in_at"] is not None
    assert shown[g.bookseller.key]["deliveries"] == [] and shown[g.bookseller.key]["scores"][0]["total"] == 5
    await assert_events_tell_the_truth(g.db, screens_of(g), before)


async def test_the_timeline_refuses_steps_out_of_order_and_parties_who_are_not_its_own(fairground: Fairground):
    g = fairground
    order = (await g.order(g.community, g.bookseller, g.books, quantity=100, funding="self_funded"))["order"]
    room = await venue(g, g.community)
    made = await g.do(
        g.community,
        "delivery.schedule",
        {"order_id": order["id"], "venue_id": room, "quantity": 60, **when("2026-12-01")},
    )
    ref = {"delivery_id": made["delivery"]["id"]}
    refusals = [
        (g.community, "delivery.complete", ref, Code.invalid_state),  # not under way yet
        (g.community, "delivery.evaluate", {**ref, "rating": 4}, Code.invalid_state),
        (g.library, "delivery.confirm", ref, Code.not_a_party),  # another team
        (g.troupe, "delivery.miss", {**ref, "reason": "不是我的"}, Code.not_a_party),  # another booth
        (g.bookseller, "delivery.confirm", ref, Code.forbidden),  # the booth does not confirm for the venue
        (
            g.organiser,
            "delivery.schedule",
            {"order_id": order["id"], "venue_id": room, **when("2026-12-02")},
            Code.forbidden,
        ),
        (
            g.community,
            "delivery.schedule",
            {"order_id": order["id"], "venue_id": room, "quantity": 41, **when("2026-12-02")},
            Code.invalid_input,
        ),
        (
            g.library,
            "delivery.schedule",
            {"order_id": order["id"], "venue_id": room, **when("2026-12-02")},
            Code.not_a_party,
        ),
        (g.community, "delivery.evaluate", {**ref, "rating": 6}, Code.invalid_input),
        (
            g.community,
            "delivery.schedule",
            {"order_id": order["id"], "venue_id": room, **when("2026-12-02", "16:00", "15:00")},
            Code.invalid_input,
        ),
    ]
    state = await g.state()
    for actor, step, payload, code in refusals:
        with pytest.raises(FairError) as refused:
            await g.do(actor, step, payload)
        assert refused.value.code == code, (step, actor.key, refused.value)
    assert await g.state() == state
    # The booth may reschedule (with a reason) and report a miss; a miss gives the units back to the order.
    moved = await g.do(g.bookseller, "delivery.reschedule", {**ref, **when("2026-12-03"), "reason": "车辆检修"})
    assert (moved["delivery"]["reschedules"], moved["delivery"]["reason"]) == (1, "车辆检修")
    await g.do(g.bookseller, "delivery.miss", {**ref, "reason": "仓库缺货"})
    again = await g.do(
        g.community,
        "delivery.schedule",
        {"order_id": order["id"], "venue_id": room, "quantity": 100, **when("2026-12-05")},
    )
    assert again["delivery"]["quantity"] == 100


async def test_a_venue_is_never_booked_twice_at_once_and_a_dated_order_keeps_its_dates(fairground: Fairground):
    g = fairground
    order = (await g.order(g.library, g.troupe, g.show, quantity=2, dates=["2023-04-01", "2023-04-08"]))["order"]
    lecture = (await g.order(g.library, g.troupe, g.lecture, quantity=2))["order"]
    hall = await venue(g, g.library, "报告厅")
    await g.do(g.library, "delivery.schedule", {"order_id": order["id"], "venue_id": hall, **when("2023-04-01")})
    for payload, code in (
        ({"order_id": lecture["id"], "venue_id": hall, **when("2023-04-01", "15:00", "17:00")}, Code.date_unavailable),
        ({"order_id": order["id"], "venue_id": hall, **when("2023-04-02")}, Code.invalid_input),  # not an agreed date
        ({"order_id": order["id"], "venue_id": hall, **when("2023-04-01", "18:00", "19:00")}, Code.date_unavailable),
    ):
        with pytest.raises(FairError) as refused:
            await g.do(g.library, "delivery.schedule", payload)
        assert refused.value.code == code
    # Back to back is fine.
    await g.do(
        g.library,
        "delivery.schedule",
        {"order_id": lecture["id"], "venue_id": hall, **when("2023-04-01", "16:00", "17:00")},
    )


async def test_two_tablets_booking_one_venue_at_the_same_time_get_one_booking(fairground: Fairground):
    g = fairground
    orders = [(await g.order(g.library, g.troupe, g.lecture))["order"] for _ in range(2)]
    hall = await venue(g, g.library, "报告厅")
    attempts = await asyncio.gather(
        *(
            g.do(g.library, "delivery.schedule", {"order_id": o["id"], "venue_id": hall, **when("2026-12-10")})
            for o in orders
        ),
        return_exceptions=True,
    )
    assert sorted(type(a).__name__ for a in attempts) == ["FairError", "dict"]
    assert next(a for a in attempts if isinstance(a, FairError)).code == Code.date_unavailable


async def test_the_supervision_flags_late_unconfirmed_missed_and_twice_rescheduled(fairground: Fairground):
    g = fairground
    order = (await g.order(g.community, g.bookseller, g.books, quantity=40, funding="self_funded"))["order"]
    room = await venue(g, g.community)
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).astimezone(dt.timezone(dt.timedelta(hours=8))).date()

    async def schedule(day: str, quantity: int = 10) -> dict:
        made = await g.do(
            g.community,
            "delivery.schedule",
            {"order_id": order["id"], "venue_id": room, "quantity": quantity, **when(day)},
        )
        return {"delivery_id": made["delivery"]["id"]}

    late = await schedule("2023-05-01")
    unconfirmed = await schedule(soon.isoformat())
    missed = await schedule("2026-12-20")
    await g.do(g.community, "delivery.miss", {**missed, "reason": "场地停电"})
    moved = await schedule("2027-01-10")
    for day in ("2027-01-11", "2027-01-12"):
        await g.do(g.bookseller, "delivery.reschedule", {**moved, **when(day), "reason": "改期"})
    async with g.db.read() as session:
        watched = await queries.supervision(session, g.organiser)
        with pytest.raises(FairError):
            await queries.supervision(session, g.community)
    flagged = {d["id"]: d["flags"] for d in watched["flagged"]}
    assert flagged == {
        late["delivery_id"]: ["late"],
        unconfirmed["delivery_id"]: ["unconfirmed"],
        missed["delivery_id"]: ["missed"],
        moved["delivery_id"]: ["rescheduled_twice"],
    }
    booth = watched["suppliers"][0]
    assert (booth["supplier_id"], booth["deliveries"], booth["flags"]["late"], booth["states"]["missed"]) == (
        g.bookseller.party_id,
        4,
        1,
        1,
    )
    assert watched["districts"] == [
        {
            "district": "玄武区",
            "deliveries": 4,
            "states": {"scheduled": 3, "missed": 1},
            "flags": {"late": 1, "unconfirmed": 1, "missed": 1, "rescheduled_twice": 1},
        }
    ]
