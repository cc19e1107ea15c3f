"""The venue's link: on a phone, with no sign-in, it confirms the booking and checks in, for its delivery only."""

from __future__ import annotations

import logging
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
    link = re.search(r'<code id="venue-link">([^<]+/venue/[^<]+)</code>', card.text).group(1)
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


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # its first bytes are what is checked


async def test_the_venue_adds_a_photo_after_checking_in_and_only_the_parties_see_it(hall: Hall):
    delivery = await scheduled(hall)
    path = f"/venue/{hall.tokens.venue_link(delivery['id'])}"
    async with httpx.AsyncClient(base_url=hall.url, cookies={"fair_locale": "zh_CN"}) as phone:
        page = await phone.get(path)
        csrf = {"x-csrftoken": form_token(page.text)}
        early = await phone.post(path + "/photo", content=PNG, headers=csrf)
        assert early.status_code == 409 and early.json()["error"]["message"] == "照片在活动现场签到后上传。"
        assert list(hall.app.state.settings.photos.iterdir()) == []  # refused: nothing left behind
        for step in ("scheduled", "confirmed"):
            page = await phone.post(path, data={"csrftoken": csrf["x-csrftoken"], "step": step})
        assert 'id="photo-form"' in page.text
        not_an_image = await phone.post(path + "/photo", content=b"<svg onload=alert(1)>", headers=csrf)
        assert not_an_image.status_code == 400
        too_big = await phone.post(path + "/photo", content=PNG + b"\x00" * (3 * 1024 * 1024), headers=csrf)
        assert too_big.status_code == 413
        saved = await phone.post(path + "/photo", content=PNG, headers=csrf)
        assert saved.json() == {"ok": True, "data": {"photo": True, "message": "照片已保存，谢谢！"}}
        forged = await phone.post("/venue/forged/photo", content=PNG, headers=csrf)
        assert forged.status_code == 403
    for who, status in (("library", 200), ("troupe", 200), ("community", 404), ("bookseller", 404)):
        async with httpx.AsyncClient(base_url=hall.url, cookies={"fair_session": hall.token(who)}) as http:
            shown = await http.get(f"/deliveries/{delivery['id']}/photo")
        assert shown.status_code == status, who
        if status == 200:
            assert shown.content == PNG and shown.headers["content-type"] == "image/png"
    stored = list(hall.app.state.settings.photos.iterdir())
    assert [p.name for p in stored] == [f"{delivery['id']}-{__import__('hashlib').sha256(PNG).hexdigest()[:32]}.png"]
    assert stored[0].stat().st_mode & 0o077 == 0  # private to the fair's user


async def test_the_access_log_never_holds_a_venue_or_rating_link_s_secret(hall: Hall):
    """Issue 24: venue and rating links, which check in and upload photos, were written whole to the access log."""
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    delivery = await scheduled(hall)
    token = hall.tokens.venue_link(delivery["id"])
    access = logging.getLogger("uvicorn.access")
    keep, level = Keep(), access.level
    access.addHandler(keep)
    access.setLevel(logging.INFO)  # the tests' uvicorn logs warnings only; run.py's logs every request
    try:
        async with httpx.AsyncClient(base_url=hall.url) as phone:  # new connections: uvicorn sees the handler
            for path in (f"/venue/{token}", f"/venue/{token}/code", f"/rate/{token}?code=123456", "/board"):
                await phone.get(path)
    finally:
        access.removeHandler(keep)
        access.setLevel(level)
    logged = "\n".join(records)
    assert "/venue/…" in logged and "/venue/…/code" in logged and "/rate/…?…" in logged and "/board" in logged
    assert token not in logged and "123456" not in logged
