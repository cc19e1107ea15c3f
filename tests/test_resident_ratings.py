"""Residents rate an event from the QR code shown there: once per phone, only once it has begun, moderated,
and then counted in the booth's record."""

from __future__ import annotations

import csv
import io
import re

import httpx
import pytest

from fair.core import Actor, Code, FairError
from tests.conftest import Hall
from tests.fairground import Fairground


async def a_delivery(g: Fairground, *, begun: bool) -> int:
    order = (await g.order(g.library, g.troupe, g.show, dates=["2023-04-01"]))["order"]
    venue = (await g.do(g.library, "venue.add", {"name": "报告厅"}))["venue"]["id"]
    payload = {"order_id": order["id"], "venue_id": venue, "day": "2023-04-01", "starts": "14:00", "ends": "16:00"}
    delivery = (await g.do(g.library, "delivery.schedule", payload))["delivery"]["id"]
    if begun:
        for step in ("delivery.confirm", "delivery.check_in"):
            await g.do(g.library, step, {"delivery_id": delivery})
    return delivery


async def test_one_rating_per_phone_once_the_event_has_begun_then_moderated(fairground: Fairground):
    g = fairground
    delivery = await a_delivery(g, begun=False)
    phone, other = Actor.resident(g.fair_id, "phone-1"), Actor.resident(g.fair_id, "phone-2")
    with pytest.raises(FairError) as early:
        await g.do(phone, "rating.submit", {"delivery_id": delivery, "rating": 5})
    assert early.value.code == Code.invalid_state
    for step in ("delivery.confirm", "delivery.check_in"):
        await g.do(g.library, step, {"delivery_id": delivery})
    first = await g.do(phone, "rating.submit", {"delivery_id": delivery, "rating": 5, "comment": "孩子们很开心"})
    with pytest.raises(FairError) as twice:
        await g.do(phone, "rating.submit", {"delivery_id": delivery, "rating": 1})
    assert twice.value.code == Code.invalid_state
    for bad in ({"delivery_id": delivery, "rating": 6}, {"delivery_id": delivery, "rating": 3, "comment": "<b>hi</b>"}):
        with pytest.raises(FairError):
            await g.do(other, "rating.submit", bad)
    second = await g.do(other, "rating.submit", {"delivery_id": delivery, "rating": 2})
    for actor in (g.library, g.troupe):
        with pytest.raises(FairError) as refused:
            await g.do(actor, "rating.submit", {"delivery_id": delivery, "rating": 5})
        assert refused.value.code == Code.forbidden
    ref = {"rating_id": second["rating"]["id"]}
    with pytest.raises(FairError):
        await g.do(g.organiser, "rating.moderate", {**ref, "decision": "reject"})  # a rejection says why
    await g.do(g.organiser, "rating.moderate", {**ref, "decision": "reject", "reason": "与活动无关"})
    approved = await g.do(g.organiser, "rating.moderate", {"rating_id": first["rating"]["id"], "decision": "approve"})
    assert approved["rating"]["status"] == "approved"
    with pytest.raises(FairError) as again:
        await g.do(g.organiser, "rating.moderate", {**ref, "decision": "approve"})
    assert again.value.code == Code.invalid_state


async def test_a_phone_rates_through_the_events_qr_code_and_the_record_counts_it_once_approved(hall: Hall):
    g = hall.ground
    delivery = await a_delivery(g, begun=True)
    path = f"/rate/{hall.tokens.rating_link(delivery)}"
    async with httpx.AsyncClient(base_url=hall.url, cookies={"fair_locale": "zh_CN"}) as phone:
        page = await phone.get(path)
        assert "越剧《梁祝》专场" in page.text and 'name="rating"' in page.text and "fair_resident" in phone.cookies
        token = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)
        sent = await phone.post(path, data={"csrftoken": token, "rating": "4", "comment": "好看"})
        assert "谢谢！您的评价经主办方审阅后计入。" in sent.text
        again = await phone.post(path, data={"csrftoken": token, "rating": "1"})
        assert "谢谢" in again.text  # the same phone's second tap is the same request: still one rating
        venue_link = await phone.get(f"/rate/{hall.tokens.venue_link(delivery)}")  # another purpose's token
        assert venue_link.status_code == 403
    organiser = await hall.screen("organiser")
    ratings = organiser.view["resident_ratings"]
    assert [(r["rating"], r["comment"], r["status"]) for r in ratings] == [(4, "好看", "pending")]
    assert "device" not in ratings[0]
    await g.do(g.organiser, "rating.moderate", {"rating_id": ratings[0]["id"], "decision": "approve"})
    token = await hall.organiser_token()
    async with httpx.AsyncClient(base_url=hall.url, cookies={"fair_session": token, "fair_locale": "zh_CN"}) as http:
        rows = list(csv.DictReader(io.StringIO((await http.get("/export/vetting.csv")).content.decode("utf-8-sig"))))
    troupe = next(row for row in rows if row["展位"] == "A01")
    assert (troupe["居民评价数"], troupe["居民平均评分"]) == ("1", "4.00")
    await organiser.disconnect()
