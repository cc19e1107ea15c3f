"""Matchmaking over real sockets: residents' phones, places in a queue, "answered by", and the reads."""

from __future__ import annotations

import datetime as dt

import httpx
from sqlmodel import func, select

from fair.core import Actor
from fair.models import Wish, WishSupport
from tests.conftest import Hall, open_hall, reopened, sqlite
from tests.phones import confirm_number
from tests.screens import Screen, converged

WISH = {
    "district": "玄武区",
    "street": "玄武门街道",
    "category": "lecture",
    "audience": "老年人",
    "text": "想听养生讲座",
}


async def resident_cookie(hall: Hall, number: str | None = None) -> str:
    """What the wishes page gives a phone the first time it opens; with ``number``, once it confirmed it."""
    async with httpx.AsyncClient(base_url=hall.url) as client:
        page = await client.get("/wishes")
        assert page.status_code == 200
        if number is not None:
            await confirm_number(client, hall.ground.db, number, page)
        return client.cookies["fair_resident"]


async def phone(hall: Hall, number: str | None = None) -> Screen:
    return await Screen(hall.url, resident=await resident_cookie(hall, number)).connect()


async def test_a_phone_wishes_and_supports_and_sees_the_answer_live(hall: Hall):
    g = hall.ground
    author, neighbour = await phone(hall, "13900000001"), await phone(hall, "13900000002")
    submitted = await author.call("wish.submit", WISH)
    assert submitted["ok"], submitted
    wish_id = submitted["data"]["wish"]["id"]
    await g.do(g.organiser, "wish.moderate", {"wish_id": wish_id, "decision": "approve"})
    supported = await neighbour.call("wish.support", {"wish_id": wish_id})
    assert supported["ok"] and supported["data"]["wish"]["supports"] == 2
    again = await neighbour.call("wish.support", {"wish_id": wish_id})
    assert again["error"]["code"] == "duplicate"
    await g.order(g.library, g.troupe, g.lecture, wish_id=wish_id)
    cookie = hall.tokens.read_resident(neighbour.resident)
    await converged(hall.app, neighbour, Actor.resident(g.fair_id, cookie.key, cookie.resident_id))
    (shown,) = neighbour.view["wishes"]
    assert [a["team_name"] for a in shown["answers"]] == ["玄武区图书馆"]
    for screen in (author, neighbour):
        await screen.disconnect()


async def test_the_board_and_a_forged_cookie_may_not_wish(hall: Hall):
    board = await hall.screen(None)
    refused = await board.call("wish.submit", WISH)
    assert refused["error"]["code"] == "forbidden"
    forged = await Screen(hall.url, resident="made-up.value").connect()
    assert (await forged.call("wish.submit", WISH))["error"]["code"] == "forbidden"
    assert (await hall.ground.state())["event"][-1]["type"] != "wish.updated"
    await board.disconnect()
    await forged.disconnect()


async def test_fresh_cookies_support_nothing_and_an_address_flooding_supports_is_held_back(tmp_path):
    async with open_hall(sqlite(tmp_path), wish_rate=1e-9, wish_burst=12) as hall:
        g = hall.ground
        wish = await g.do(Actor.resident(g.fair_id, "seed"), "wish.submit", WISH)
        await g.do(g.organiser, "wish.moderate", {"wish_id": wish["wish"]["id"], "decision": "approve"})
        answers = []
        for _ in range(4):  # a new cookie each time, no number: nobody
            screen = await phone(hall)
            answers.append(await screen.call("wish.support", {"wish_id": wish["wish"]["id"]}))
            await screen.disconnect()
        for n in range(10):  # ten people on one Wi-Fi, each with a confirmed number
            screen = await phone(hall, f"1360000{n:04d}")
            answers.append(await screen.call("wish.support", {"wish_id": wish["wish"]["id"]}))
            await screen.disconnect()
        codes = [a["error"]["code"] if not a["ok"] else "ok" for a in answers]
        assert codes == ["unconfirmed"] * 4 + ["ok"] * 8 + ["rate_limited"] * 2
        async with g.db.read() as session:
            recount = (await session.exec(select(func.count()).select_from(WishSupport))).one()
            shown = (await session.get(Wish, wish["wish"]["id"])).supports
        assert recount == shown == 8  # the count the page shows is the people behind it


async def test_a_team_watches_its_place_move_as_the_booth_calls(hall: Hall):
    g = hall.ground
    centre, library, booth = await hall.screen("centre"), await hall.screen("library"), await hall.screen("troupe")
    for tablet in (centre, library):
        joined = await tablet.call("queue.join", {"supplier_id": g.troupe.party_id})
        assert joined["ok"], joined
    await converged(hall.app, library, g.library)
    assert [(t["number"], t["position"]) for t in library.view["tickets"]] == [(2, 2)]
    called = await booth.call("queue.next")
    assert called["ok"] and called["data"]["queue"]["serving"] == 1
    await converged(hall.app, library, g.library)
    await converged(hall.app, centre, g.centre)
    await converged(hall.app, booth, g.troupe)
    assert [(t["state"], t["position"]) for t in centre.view["tickets"]] == [("called", 0)]
    assert [(t["state"], t["position"]) for t in library.view["tickets"]] == [("waiting", 1)]
    assert booth.view["queue"]["serving"] == 1
    await library.disconnect()
    await booth.call("queue.next")  # the centre is served, the library called while its tablet is away
    await library.connect()
    assert [(t["state"], t["position"]) for t in library.view["tickets"]] == [("called", 0)]
    for screen in (centre, library, booth):
        await screen.disconnect()


async def test_a_place_in_the_queue_survives_a_restart(tmp_path):
    url = sqlite(tmp_path)
    async with open_hall(url) as hall:
        g = hall.ground
        await g.do(g.centre, "queue.join", {"supplier_id": g.troupe.party_id})
        await g.do(g.library, "queue.join", {"supplier_id": g.troupe.party_id})
        ground_and_cards = hall
    async with reopened(ground_and_cards) as again:
        tablet = await again.screen("library")
        assert [(t["number"], t["position"]) for t in tablet.view["tickets"]] == [(2, 2)]
        await tablet.disconnect()


async def test_recommendations_and_coverage_are_read_by_who_may(hall: Hall):
    g = hall.ground
    tablet, booth, organiser, board = (
        await hall.screen("library"),
        await hall.screen("troupe"),
        await hall.screen("organiser"),
        await hall.screen(None),
    )
    for_team = await tablet.client.call("recommendations", {}, timeout=10)
    assert for_team["ok"] and {r["offering_id"] for r in for_team["data"]} <= {g.show, g.lecture, g.books}
    for_booth = await booth.client.call("recommendations", {}, timeout=10)
    assert for_booth["ok"] and for_booth["data"][0]["team_name"]
    assert "_fen" not in str(for_booth["data"])  # whether a budget fits, never a figure of it
    covered = await organiser.client.call("coverage", {}, timeout=10)
    assert covered["ok"] and {"streets", "unanswered"} <= set(covered["data"])
    for screen, read in ((board, "recommendations"), (tablet, "coverage"), (board, "coverage")):
        refused = await screen.client.call(read, {}, timeout=10)
        assert refused["error"]["code"] == "forbidden", (read, refused)
    for screen in (tablet, booth, organiser, board):
        await screen.disconnect()


async def test_late_teams_are_skipped_by_the_clock(tmp_path):
    """The server's timer skips a called team after the grace time; here one minute, and a clock moved on."""
    async with open_hall(sqlite(tmp_path)) as hall:
        g = hall.ground
        await g.do(g.centre, "queue.join", {"supplier_id": g.troupe.party_id})
        await g.do(g.troupe, "queue.next")
        await hall.app.state.timers.tick()  # within the grace time: nothing happens
        centre = await hall.screen("centre")
        assert [t["state"] for t in centre.view["tickets"]] == ["called"]
        await hall.app.state.timers.tick(now=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=4))
        await converged(hall.app, centre, g.centre)
        assert centre.view["tickets"] == []
        await centre.disconnect()
