"""Residents rate an event only if they were there: a confirmed person, the code shown at the event, one rating
each (changeable, never stacked), moderated, then counted in the booth's record; nothing else moves a score."""

from __future__ import annotations

import csv
import datetime as dt
import io

import httpx

from fair.core import Actor, Code, presence, queries
from fair.i18n import SHANGHAI
from fair.models import Delivery, utcnow
from tests.conftest import Hall
from tests.fairground import Fairground, refused
from tests.phones import confirm_number, csrf_of


async def a_delivery(g: Fairground, *, begun: bool, day: str | None = None) -> int:
    """A show at a venue of the library's, all of today (Nanjing's day) unless ``day`` says otherwise."""
    day = day or utcnow().astimezone(SHANGHAI).date().isoformat()
    order = (await g.order(g.library, g.troupe, g.lecture))["order"]
    venue = (await g.do(g.library, "venue.add", {"name": f"报告厅 {day}"}))["venue"]["id"]
    payload = {"order_id": order["id"], "venue_id": venue, "day": day, "starts": "00:00", "ends": "23:59"}
    delivery = (await g.do(g.library, "delivery.schedule", payload))["delivery"]["id"]
    if begun:
        for step in ("delivery.confirm", "delivery.check_in"):
            await g.do(g.library, step, {"delivery_id": delivery})
    return delivery


async def shown_code(g: Fairground, delivery_id: int, at: dt.datetime | None = None) -> str:
    """The code the venue's screen shows (now, or at ``at``)."""
    async with g.db.read() as session:
        row = await session.get(Delivery, delivery_id)
    return presence.code_at(row, at or utcnow())


async def test_a_rating_counts_only_from_a_confirmed_person_with_the_code_of_the_moment(fairground: Fairground):
    g = fairground
    delivery = await a_delivery(g, begun=True)
    await g.confirm("phone-1", "phone-2")
    phone, other = g.resident("phone-1"), g.resident("phone-2")
    before = await g.state()
    rate = {"delivery_id": delivery, "rating": 1}
    await refused(g.do(Actor.resident(g.fair_id, "no-number"), "rating.submit", rate), Code.unconfirmed)
    await refused(g.do(phone, "rating.submit", rate), Code.no_proof)  # a link alone proves nothing
    now = await shown_code(g, delivery)
    wrong = f"{(int(now) + 1) % 10**6:06d}"
    await refused(g.do(phone, "rating.submit", rate | {"code": wrong}), Code.no_proof)  # a forged code
    stale = await shown_code(g, delivery, utcnow() - dt.timedelta(minutes=20))  # photographed 20 minutes ago
    fresh = {now, await shown_code(g, delivery, utcnow() - dt.timedelta(minutes=5))}
    if stale not in fresh:  # one in a million: the old window's code is also the current one
        await refused(g.do(phone, "rating.submit", rate | {"code": stale}), Code.no_proof)
    for actor in (g.library, g.troupe):
        await refused(g.do(actor, "rating.submit", rate | {"code": now}), Code.forbidden)
    assert await g.state() == before
    first = await g.do(phone, "rating.submit", {"delivery_id": delivery, "rating": 5, "code": now, "comment": "好"})
    assert first["rating"]["proven"] is True
    changed = await g.do(phone, "rating.submit", {"delivery_id": delivery, "rating": 4})  # checked in: no code
    assert changed["rating"]["id"] == first["rating"]["id"] and changed["rating"]["rating"] == 4
    elsewhere = Actor.resident(g.fair_id, "a-fresh-cookie", phone.resident_id)  # the same person, another browser
    again = await g.do(elsewhere, "rating.submit", {"delivery_id": delivery, "rating": 3})
    assert again["rating"]["id"] == first["rating"]["id"]  # changed, never stacked
    await g.do(other, "presence.check_in", {"delivery_id": delivery, "code": now})
    second = await g.do(other, "rating.submit", {"delivery_id": delivery, "rating": 2})
    async with g.db.read() as session:
        ratings = await queries.resident_ratings(session, g.organiser)
    assert sorted((r["id"], r["rating"]) for r in ratings) == [(first["rating"]["id"], 3), (second["rating"]["id"], 2)]


async def test_ratings_open_at_the_start_and_close_days_after_the_end(fairground: Fairground):
    g = fairground
    await g.confirm("phone-1")
    early = await a_delivery(g, begun=False)
    await refused(g.do(g.resident(), "rating.submit", {"delivery_id": early, "rating": 5}), Code.invalid_state)
    long_ago = await a_delivery(g, begun=True, day="2023-04-01")
    error = await refused(
        g.do(g.resident(), "rating.submit", {"delivery_id": long_ago, "rating": 5}), Code.invalid_state
    )
    assert "3 天" in error.message("zh_CN")
    code = await shown_code(g, long_ago)
    await refused(g.do(g.resident(), "presence.check_in", {"delivery_id": long_ago, "code": code}), Code.no_proof)


async def test_moderation_and_the_vetting_record_count_proven_ratings_only(fairground: Fairground):
    g = fairground
    delivery = await a_delivery(g, begun=True)
    await g.confirm("phone-1", "phone-2")
    code = await shown_code(g, delivery)
    first = await g.do(g.resident("phone-1"), "rating.submit", {"delivery_id": delivery, "rating": 5, "code": code})
    second = await g.do(g.resident("phone-2"), "rating.submit", {"delivery_id": delivery, "rating": 2, "code": code})
    ref = {"rating_id": second["rating"]["id"]}
    await refused(g.do(g.organiser, "rating.moderate", {**ref, "decision": "reject"}), Code.invalid_input)
    await g.do(g.organiser, "rating.moderate", {**ref, "decision": "reject", "reason": "与活动无关"})
    approved = await g.do(g.organiser, "rating.moderate", {"rating_id": first["rating"]["id"], "decision": "approve"})
    assert approved["rating"]["status"] == "approved"
    await refused(g.do(g.organiser, "rating.moderate", {**ref, "decision": "approve"}), Code.invalid_state)


async def test_a_phone_confirms_its_number_and_rates_through_the_events_qr_code(hall: Hall):
    g = hall.ground
    delivery = await a_delivery(g, begun=True)
    code = await shown_code(g, delivery)
    path = f"/rate/{hall.tokens.rating_link(delivery)}"
    async with httpx.AsyncClient(base_url=hall.url, cookies={"fair_locale": "zh_CN"}) as phone:
        page = await phone.get(f"{path}?code={code}")
        assert "越剧艺术漫谈" in page.text and 'id="confirm-phone"' in page.text and "fair_resident" in phone.cookies
        assert 'name="rating"' not in page.text  # the number first
        back = await confirm_number(phone, g.db, "13800138000", page)
        assert back.headers["location"] == f"{path}?code={code}"
        page = await phone.get(back.headers["location"])
        assert f'value="{code}"' in page.text  # the scanned code is filled in
        sent = await phone.post(path, data={"csrftoken": csrf_of(page), "rating": "4", "comment": "好看", "code": code})
        assert "谢谢！您的评价经组织方审阅后计入" in sent.text
        again = await phone.post(path, data={"csrftoken": csrf_of(sent), "rating": "5"})
        assert "谢谢" in again.text and "您的评价：★★★★★" in again.text
        venue_link = await phone.get(f"/rate/{hall.tokens.venue_link(delivery)}")  # another purpose's token
        assert venue_link.status_code == 403
    async with httpx.AsyncClient(base_url=hall.url, cookies={"fair_locale": "zh_CN"}) as stranger:
        page = await stranger.get(path)  # a fresh cookie, no number: no form, nothing counted
        token = csrf_of(await stranger.get("/phone"))  # a form's token, as a scripted stranger would take one
        posted = await stranger.post(path, data={"csrftoken": token, "rating": "1", "code": code})
        assert 'name="rating"' not in posted.text
    organiser = await hall.screen("organiser")
    ratings = organiser.view["resident_ratings"]
    assert [(r["rating"], r["comment"], r["status"], r["proven"]) for r in ratings] == [(5, "", "pending", True)]
    assert "device" not in ratings[0] and "resident_id" not in ratings[0]
    await g.do(g.organiser, "rating.moderate", {"rating_id": ratings[0]["id"], "decision": "approve"})
    token = await hall.organiser_token()
    async with httpx.AsyncClient(base_url=hall.url, cookies={"fair_session": token, "fair_locale": "zh_CN"}) as http:
        rows = list(csv.DictReader(io.StringIO((await http.get("/export/vetting.csv")).content.decode("utf-8-sig"))))
        event = await http.get(f"/events/{delivery}")
    troupe = next(row for row in rows if row["展位"] == "A01")
    assert (troupe["居民评价数"], troupe["居民平均评分"]) == ("1", "5.00")
    assert troupe["居民评价起"] == utcnow().astimezone(SHANGHAI).date().isoformat()
    assert "1 人评价 · 平均 5.0" in event.text
    await organiser.disconnect()
