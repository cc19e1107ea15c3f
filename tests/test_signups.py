"""Residents sign up for a delivered event: never overbooked (raced on the last seat, SQLite and PostgreSQL),
one seat per phone, a seat given back frees it, and the public page shows the live stream."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from sqlmodel import select

from fair.core import Actor, Code, FairError
from fair.models import Delivery, Signup
from tests.conftest import Hall
from tests.fairground import Fairground


async def an_event(g: Fairground, seats: int, stream_url: str = "") -> int:
    order = (await g.order(g.library, g.troupe, g.lecture))["order"]
    venue = (await g.do(g.library, "venue.add", {"name": "报告厅", "address": "玄武门街道 8 号"}))["venue"]["id"]
    payload = {"order_id": order["id"], "venue_id": venue, "day": "2026-12-20", "starts": "14:00", "ends": "16:00"}
    delivery = (await g.do(g.library, "delivery.schedule", payload))["delivery"]["id"]
    await g.do(g.library, "delivery.open_signup", {"delivery_id": delivery, "seats": seats, "stream_url": stream_url})
    return delivery


async def test_the_last_seats_are_never_given_twice(fairground: Fairground):
    g = fairground
    event = await an_event(g, seats=3)
    phones = [Actor.resident(g.fair_id, f"phone-{n}") for n in range(8)]
    outcomes = await asyncio.gather(
        *(g.do(phone, "signup.take", {"delivery_id": event}) for phone in phones), return_exceptions=True
    )
    seated = [o for o in outcomes if isinstance(o, dict)]
    refused = [o for o in outcomes if isinstance(o, FairError)]
    assert len(seated) == 3 and len(refused) == 5, outcomes
    assert {error.code for error in refused} == {Code.capacity_exhausted}
    assert seated[-1]["delivery"]["taken"] <= 3
    async with g.db.read() as session:
        held = await session.get(Delivery, event)
        seats = (await session.exec(select(Signup).where(Signup.delivery_id == event))).all()
    assert held.taken == len(seats) == 3


async def test_one_seat_per_phone_given_back_and_taken_again_and_seats_never_below_those_taken(fairground: Fairground):
    g = fairground
    event = await an_event(g, seats=2)
    phone, other, third = (Actor.resident(g.fair_id, name) for name in ("a", "b", "c"))
    await g.do(phone, "signup.take", {"delivery_id": event, "name": "李阿姨"})
    with pytest.raises(FairError) as twice:
        await g.do(phone, "signup.take", {"delivery_id": event})
    assert twice.value.code == Code.invalid_state
    await g.do(other, "signup.take", {"delivery_id": event})
    with pytest.raises(FairError) as full:
        await g.do(third, "signup.take", {"delivery_id": event})
    assert full.value.code == Code.capacity_exhausted
    with pytest.raises(FairError) as fewer:
        await g.do(g.library, "delivery.open_signup", {"delivery_id": event, "seats": 1})
    assert fewer.value.code == Code.invalid_input
    freed = await g.do(other, "signup.cancel", {"delivery_id": event})
    assert freed["delivery"]["taken"] == 1
    with pytest.raises(FairError):
        await g.do(other, "signup.cancel", {"delivery_id": event})  # no seat any more
    await g.do(third, "signup.take", {"delivery_id": event})
    for actor, code in ((g.troupe, Code.forbidden), (g.community, Code.not_a_party)):
        with pytest.raises(FairError) as refused:
            await g.do(actor, "delivery.open_signup", {"delivery_id": event, "seats": 50})
        assert refused.value.code == code
    with pytest.raises(FairError):
        await g.do(
            g.library, "delivery.open_signup", {"delivery_id": event, "seats": 5, "stream_url": "javascript:alert(1)"}
        )


async def test_the_public_page_signs_a_phone_up_and_shows_the_stream_never_the_contact(hall: Hall):
    g = hall.ground
    event = await an_event(g, seats=1, stream_url="https://live.example.cn/room/12")
    async with httpx.AsyncClient(base_url=hall.url, cookies={"fair_locale": "zh_CN"}) as phone:
        page = await phone.get(f"/events/{event}")
        assert "越剧艺术漫谈" in page.text and "共 1 个座位，剩 1 个" in page.text
        assert 'href="https://live.example.cn/room/12"' in page.text and "王老师" not in page.text
        token = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)
        signed = await phone.post(f"/events/{event}", data={"csrftoken": token, "step": "take", "name": "李阿姨"})
        assert "已为您保留座位" in signed.text and "您已报名。" in signed.text
        back = await phone.post(f"/events/{event}", data={"csrftoken": token, "step": "cancel"})
        assert "已取消报名。" in back.text and "共 1 个座位，剩 1 个" in back.text
        assert (await phone.get("/events/9999")).status_code == 404
