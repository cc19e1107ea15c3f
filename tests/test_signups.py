"""Residents sign up for a delivered event: never overbooked (raced on the last seat, SQLite and PostgreSQL),
seats per person, a waiting list served in turn when seats come back, and the public page shows the live stream."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlmodel import select

from fair.core import Actor, Code, FairError
from fair.models import Delivery, Signup
from tests.conftest import Hall
from tests.fairground import Fairground
from tests.phones import confirm_number, csrf_of


async def an_event(g: Fairground, seats: int, stream_url: str = "") -> int:
    order = (await g.order(g.library, g.troupe, g.lecture))["order"]
    venue = (await g.do(g.library, "venue.add", {"name": "报告厅", "address": "玄武门街道 8 号"}))["venue"]["id"]
    payload = {"order_id": order["id"], "venue_id": venue, "day": "2026-12-20", "starts": "14:00", "ends": "16:00"}
    delivery = (await g.do(g.library, "delivery.schedule", payload))["delivery"]["id"]
    await g.do(g.library, "delivery.open_signup", {"delivery_id": delivery, "seats": seats, "stream_url": stream_url})
    return delivery


async def test_the_last_seats_are_never_given_twice_and_the_rest_wait_in_turn(fairground: Fairground):
    g = fairground
    event = await an_event(g, seats=3)
    labels = [f"phone-{n}" for n in range(8)]
    await g.confirm(*labels)
    outcomes = await asyncio.gather(
        *(g.do(g.resident(label), "signup.take", {"delivery_id": event}) for label in labels)
    )
    seated = [o for o in outcomes if not o["signup"]["waiting"]]
    assert len(seated) == 3 and len(outcomes) == 8
    async with g.db.read() as session:
        held = await session.get(Delivery, event)
        rows = (await session.exec(select(Signup).where(Signup.delivery_id == event).order_by(Signup.id))).all()
    assert held.taken == sum(not r.waiting for r in rows) == 3 and held.waiting == sum(r.waiting for r in rows) == 5
    first_waiting = next(r for r in rows if r.waiting)
    leaving = next(label for label in labels if g.resident_ids[label] == rows[0].resident_id)
    freed = await g.do(g.resident(leaving), "signup.cancel", {"delivery_id": event})
    assert (freed["delivery"]["taken"], freed["delivery"]["waiting"]) == (3, 4)  # the seat went on at once
    async with g.db.read() as session:
        now_seated = await session.get(Signup, first_waiting.id)
    assert now_seated.waiting is False  # to the first in the list, not to whoever asks next


async def test_one_row_per_person_seats_given_back_and_taken_again_and_never_below_those_taken(fairground: Fairground):
    g = fairground
    event = await an_event(g, seats=2)
    await g.confirm("a", "b", "c")
    phone, other, third = (g.resident(name) for name in ("a", "b", "c"))
    before = await g.state()
    with pytest.raises(FairError) as unconfirmed:
        await g.do(Actor.resident(g.fair_id, "no-number"), "signup.take", {"delivery_id": event})
    assert unconfirmed.value.code == Code.unconfirmed
    with pytest.raises(FairError) as too_many:
        await g.do(phone, "signup.take", {"delivery_id": event, "seats": 2})  # the fair allows one each
    assert too_many.value.code == Code.invalid_input
    assert await g.state() == before
    await g.do(phone, "signup.take", {"delivery_id": event, "name": "李阿姨"})
    for again in (phone, Actor.resident(g.fair_id, "a fresh cookie", phone.resident_id)):
        with pytest.raises(FairError) as twice:
            await g.do(again, "signup.take", {"delivery_id": event})
        assert twice.value.code == Code.duplicate
    await g.do(other, "signup.take", {"delivery_id": event})
    waiting = await g.do(third, "signup.take", {"delivery_id": event})
    assert waiting["signup"]["waiting"] and waiting["delivery"]["waiting"] == 1
    await g.do(third, "signup.cancel", {"delivery_id": event})  # leaves the waiting list
    with pytest.raises(FairError) as fewer:
        await g.do(g.library, "delivery.open_signup", {"delivery_id": event, "seats": 1})
    assert fewer.value.code == Code.invalid_input
    freed = await g.do(other, "signup.cancel", {"delivery_id": event})
    assert freed["delivery"]["taken"] == 1
    with pytest.raises(FairError):
        await g.do(other, "signup.cancel", {"delivery_id": event})  # no seat any more
    assert (await g.do(third, "signup.take", {"delivery_id": event}))["signup"]["waiting"] is False
    for actor, code in ((g.troupe, Code.forbidden), (g.community, Code.not_a_party)):
        with pytest.raises(FairError) as refused:
            await g.do(actor, "delivery.open_signup", {"delivery_id": event, "seats": 50})
        assert refused.value.code == code
    with pytest.raises(FairError):
        await g.do(
            g.library, "delivery.open_signup", {"delivery_id": event, "seats": 5, "stream_url": "javascript:alert(1)"}
        )


async def test_more_seats_opened_go_to_the_waiting_list_and_a_grandmother_may_bring_a_grandson(fairground: Fairground):
    g = fairground
    await g.do(g.organiser, "fair.configure", {"seats_per_resident": 2})
    event = await an_event(g, seats=1)
    await g.confirm("granny", "neighbour")
    first = await g.do(g.resident("granny"), "signup.take", {"delivery_id": event, "seats": 2})
    assert first["signup"]["waiting"] and first["delivery"]["waiting"] == 2
    second = await g.do(g.resident("neighbour"), "signup.take", {"delivery_id": event})
    assert second["signup"]["waiting"]  # behind granny, although one seat is free
    opened = await g.do(g.library, "delivery.open_signup", {"delivery_id": event, "seats": 3})
    assert (opened["delivery"]["taken"], opened["delivery"]["waiting"]) == (3, 0)


async def test_the_public_page_signs_a_phone_up_and_shows_the_stream_never_the_contact(hall: Hall):
    g = hall.ground
    event = await an_event(g, seats=1, stream_url="https://live.example.cn/room/12")
    async with httpx.AsyncClient(base_url=hall.url, cookies={"fair_locale": "zh_CN"}) as phone:
        page = await phone.get(f"/events/{event}")
        assert "越剧艺术漫谈" in page.text and "共 1 个座位，剩 1 个" in page.text
        assert 'href="https://live.example.cn/room/12"' in page.text and "王老师" not in page.text
        assert 'id="confirm-phone"' in page.text  # seats are for people: the number first
        confirmed = await confirm_number(phone, g.db, "13912345678", page)
        assert confirmed.status_code == 303 and confirmed.headers["location"] == f"/events/{event}"
        page = await phone.get(f"/events/{event}")
        token = csrf_of(page)
        signed = await phone.post(f"/events/{event}", data={"csrftoken": token, "step": "take", "name": "李阿姨"})
        assert "已为您保留座位" in signed.text and "您已报名。" in signed.text
        back = await phone.post(f"/events/{event}", data={"csrftoken": token, "step": "cancel"})
        assert "已取消报名。" in back.text and "共 1 个座位，剩 1 个" in back.text
        assert (await phone.get("/events/9999")).status_code == 404
