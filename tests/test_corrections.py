"""The organiser's corrections: a voided order gives back all it took, exactly, on every screen; a fair closed by
mistake reopens within its window; both refuse what they must and leave a reason in the log."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update
from sqlmodel import select

from fair.core import Actor, Code, FairError, corrections, tally
from fair.models import Event, Fair, Wish
from tests.fairground import Fairground, assert_the_books_balance
from tests.truth import assert_events_tell_the_truth, screens_of, views


async def _tally(g: Fairground) -> dict:
    async with g.db.read() as session:
        return await tally.snapshot(session, g.fair_id)


async def test_voiding_gives_back_units_dates_budget_subsidy_and_the_wish(fairground: Fairground):
    g = fairground
    wish = await g.do(
        Actor.resident(g.fair_id, "phone"),
        "wish.submit",
        {
            "district": "玄武区",
            "street": "玄武门街道",
            "category": "books",
            "audience": "少儿",
            "text": "想要少儿读物",
        },
    )
    await g.do(g.organiser, "wish.moderate", {"wish_id": wish["wish"]["id"], "decision": "approve"})
    empty_tally = await _tally(g)
    await g.order(g.library, g.troupe, g.show, quantity=2, dates=["2023-04-01", "2023-04-08"])
    before_books = await g.state()
    before_views = await views(g.db, screens_of(g))
    tally_before = await _tally(g)
    books = await g.order(
        g.community, g.bookseller, g.books, quantity=100, funding="self_funded", wish_id=wish["wish"]["id"]
    )
    show = await g.order(g.centre, g.troupe, g.show, dates=["2023-04-15"])

    voided = await g.do(g.organiser, "order.void", {"order_id": books["order"]["id"], "reason": "重复下单"})
    assert voided["order"]["order"]["void_reason"] == "重复下单"
    await g.do(g.organiser, "order.void", {"order_id": show["order"]["id"], "reason": "日期填错"})

    after = await g.state()
    assert_the_books_balance(after)
    # Everything but the two voided orders (kept, marked) and the log is as before they were placed.
    for table in ("offering", "offering_date", "team", "fair"):
        assert [_without_clock(r) for r in after[table]] == [_without_clock(r) for r in before_books[table]], table
    kept = {o["id"]: o for o in after["purchase_order"]}
    assert kept[books["order"]["id"]]["voided_at"] is not None
    assert kept[show["order"]["id"]]["void_reason"] == "日期填错"
    assert [o["wish_id"] for o in after["purchase_order"] if o["voided_at"] is None] == [None]
    async with g.db.read() as session:
        assert [(w.answers, w.status) for w in (await session.exec(select(Wish))).all()] == [(0, "approved")]

    # The tally falls back exactly, with a newer sequence number; the ticker no longer shows them.
    now = await _tally(g)
    assert {**now, "seq": None} == {**tally_before, "seq": None} != {**empty_tally, "seq": None}
    assert now["seq"] > tally_before["seq"]
    # Every screen folding the events equals a fresh read, field by field.
    await assert_events_tell_the_truth(g.db, screens_of(g), before_views)
    shown = await views(g.db, [g.community, g.bookseller])
    assert [o["void_reason"] for o in shown[g.community.key]["orders"]] == ["重复下单"]
    assert [o["voided_at"] is not None for o in shown[g.bookseller.key]["orders"]] == [True]
    free = {d["day"]: d["free"] for o in shown[g.bookseller.key]["offerings"] if o["id"] == g.show for d in o["dates"]}
    assert free == {"2023-04-01": False, "2023-04-08": False, "2023-04-15": True}  # the voided show's date is free

    # The freed date can be sold again.
    again = await g.order(g.centre, g.troupe, g.show, dates=["2023-04-15"])
    assert again["order"]["dates"] == ["2023-04-15"]


def _without_clock(row: dict) -> dict:
    return {k: v for k, v in row.items() if k not in ("last_seq",)}


async def test_a_void_is_refused_twice_for_others_and_for_an_unknown_order(fairground: Fairground):
    g = fairground
    order = (await g.order(g.library, g.troupe, g.lecture))["order"]
    for actor in (g.library, g.troupe, Actor.public(g.fair_id)):
        with pytest.raises(FairError) as refused:
            await g.do(actor, "order.void", {"order_id": order["id"], "reason": "不要了"})
        assert refused.value.code == Code.forbidden
    for payload in (
        {"order_id": order["id"], "reason": ""},
        {"order_id": order["id"]},
        {"order_id": 999, "reason": "无此单"},
    ):
        with pytest.raises(FairError):
            await g.do(g.organiser, "order.void", payload)
    await g.do(g.organiser, "order.void", {"order_id": order["id"], "reason": "试讲取消"})
    unchanged = await g.state()
    with pytest.raises(FairError) as twice:
        await g.do(g.organiser, "order.void", {"order_id": order["id"], "reason": "再来一次"})
    assert twice.value.code == Code.invalid_state
    assert await g.state() == unchanged


async def test_a_closed_fair_reopens_within_its_window_only(fairground: Fairground):
    g = fairground
    with pytest.raises(FairError) as still_open:
        await g.do(g.organiser, "fair.reopen", {"reason": "误关"})
    assert still_open.value.code == Code.invalid_state
    closed = (await g.do(g.organiser, "fair.close"))["fair"]
    offered = dt.datetime.fromisoformat(closed["reopen_until"]) - dt.datetime.fromisoformat(closed["closed_at"])
    assert offered == corrections.REOPEN_WITHIN  # what the console offers is the core's window, from the view
    with pytest.raises(FairError):
        await g.order(g.library, g.troupe, g.lecture)
    reopened = await g.do(g.organiser, "fair.reopen", {"reason": "误关，继续洽谈"})
    assert reopened["fair"]["state"] == "open"
    await g.order(g.library, g.troupe, g.lecture)  # trading goes on
    async with g.db.read() as session:
        logged = (await session.exec(select(Event).where(Event.type == "fair.reopened"))).one()
    assert logged.payload["reason"] == "误关，继续洽谈" and logged.actor == "organiser"

    await g.do(g.organiser, "fair.close")
    late = dt.datetime.now(dt.UTC) - corrections.REOPEN_WITHIN - dt.timedelta(minutes=1)
    await g.db.transact(
        lambda connection: connection.execute(update(Fair).where(Fair.id == g.fair_id).values(closed_at=late))
    )
    with pytest.raises(FairError) as too_late:
        await g.do(g.organiser, "fair.reopen", {"reason": "太晚了"})
    assert too_late.value.code == Code.invalid_state
    assert (await g.state())["fair"][0]["state"] == "closed"
