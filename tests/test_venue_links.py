"""The venue's link: on a phone, with no sign-in, it confirms the booking and checks in, for its delivery only."""

from __future__ import annotations

import re

import httpx
from itsdangerous import URLSafeSerializer

from tests.conftest import Hall


async def scheduled(hall: Hall, day: str = "2023-04-01") -> dict:
    g = hall.ground
    order = (await g.order(g.library, g.troupe, g.show, dates=[day]))["order"]
    venue = (await g.do(g.library, "venue.add", {"name": "报告厅", "contact": "王老师"}))["venue"]
    payload = {"order_id": order["id"], "venue_id": venue["id"], "day": day, "starts": "14:00", "ends": "16:00"}
    return (await g.do(g.library, "delivery.schedule", payload))["delivery"]


def form_token(page: str) -> str:
    return re.search(r'name="csrftoken" value="([^"]+)"', page).group(1)


async def test_the_team_prints_the_card_and_the_venue_confirms_then_checks_in(hall: Hall):
    delivery = await scheduled(hall)
    async with httpx.AsyncClient(base_url=hall.url, cookies={"fair_session": hall.token("library")}) as tablet:
        card = await tablet.get(f"/deliveries/{delivery['id']}/card")
    assert card.status_code == 200 and "<svg" in card.text
    link = re.search(r"<code>([^<]+/venue/[^<]+)</code>", card.text).group(1)
    path = "/venue/" + link.rsplit("/venue/", 1)[1]
    async with httpx.AsyncClient(base_url=hall.url, cookies={"fair_locale": "zh_CN"}) as phone:
        page = await phone.get(path)
        assert "越剧《梁祝》专场" in page.text and "已安排" in page.text and "2023-04-01 14:00 – 16:00" in page.text
        confirmed = await phone.post(path, data={"csrftoken": form_token(page.text), "step": "scheduled"})
        assert "谢谢：预约已确认。" in confirmed.text and "场地已确认" in confirmed.text
        again = await phone.post(path, data={"csrftoken": form_token(page.text), "step": "scheduled"})
        assert again.status_code == 303  # an old page tapped twice: shown as it is now, nothing done twice
        checked = await phone.post(path, data={"csrftoken": form_token(confirmed.text), "step": "confirmed"})
        assert "已签到" in checked.text and "进行中" in checked.text
    shown = await hall.screen("library")
    assert shown.view["deliveries"][0]["checked_in_at"] is not None
    await shown.disconnect()


async def test_a_forged_or_foreign_link_does_nothing(hall: Hall):
    delivery = await scheduled(hall)
    token = hall.tokens.venue_link(delivery["id"])
    forged = URLSafeSerializer("not the fair's key", salt="fair.venue").dumps({"d": delivery["id"]})
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    join_card = hall.card("library")  # another kind of signed token of this fair
    before = await hall.ground.state()
    async with httpx.AsyncClient(base_url=hall.url) as phone:
        for bad in (forged, tampered, join_card, "x" * 300):
            page = await phone.get(f"/venue/{bad}")
            assert page.status_code == 403, bad
    async with httpx.AsyncClient(base_url=hall.url, cookies={"fair_session": hall.token("community")}) as other:
        assert (await other.get(f"/deliveries/{delivery['id']}/card")).status_code == 404  # another team's
    async with httpx.AsyncClient(base_url=hall.url, cookies={"fair_session": hall.token("troupe")}) as booth:
        assert (await booth.get(f"/deliveries/{delivery['id']}/card")).status_code == 403
    assert await hall.ground.state() == before
    assert hall.tokens.read_venue_link(hall.tokens.venue_link(delivery["id"] + 1)) == delivery["id"] + 1  # names one
