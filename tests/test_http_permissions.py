"""Every HTTP endpoint × every role × another party's objects (the sockets' matrix is test_live_permissions.py).

The HTTP routes take no object ids: what a caller reads is its own state, as the
core's queries shape it for its actor.  So the matrix checks, for every route and
every caller (each role, a signed-out device, a forged token, nobody), the status,
and that what comes back is the caller's own and holds nothing of another party.
"""

from __future__ import annotations

import json

import httpx
import pytest
from sqlmodel import select

from fair.auth import enrol
from fair.core import Actor
from fair.core.access import DevicePolicy
from fair.models import DeviceSession
from tests.conftest import Hall
from tests.screens import fresh_view

CALLERS = ("organiser", "troupe", "bookseller", "centre", "library", "projector", None, "signed-out", "forged")
TEAMS, BOOTHS = {"centre", "library"}, {"troupe", "bookseller"}
VALID = {"organiser", "troupe", "bookseller", "centre", "library", "projector", None}
SECRET_MESSAGE = "只给剧团看"  # in the centre × troupe negotiation: only they and the organiser may read it


def page_status(path: str, who: str | None) -> int:
    """What each page answers each caller (303 is the way to sign in)."""
    if path in ("/", "/board", "/login", "/join"):
        return 200
    if path == "/tablet":
        return 200 if who in TEAMS else 403
    if path == "/booth":
        return 200 if who in BOOTHS else 403
    # /console, /console/cards, /account/password
    return 200 if who == "organiser" else 303


PAGES = ["/", "/board", "/login", "/join", "/tablet", "/booth", "/console", "/console/cards", "/account/password"]
READS = ["/api/view", "/api/offerings", "/api/tally"]


@pytest.fixture
async def tokens(hall: Hall) -> dict[str | None, str | None]:
    g = hall.ground
    await g.propose(g.centre, g.lecture, message=SECRET_MESSAGE)
    await g.order(g.library, g.bookseller, g.books, quantity=5)
    signed_out, _ = await enrol(
        g.db, hall.tokens, hall.credentials["community"], label="lost", address="127.0.0.1", policy=DevicePolicy()
    )
    async with g.db.read() as session:
        device = (await session.exec(select(DeviceSession.id).order_by(DeviceSession.id.desc()))).first()
    await g.do(g.organiser, "device.sign_out", {"device_id": device})
    found: dict[str | None, str | None] = {who: hall.token(who) for who in CALLERS if who in hall.credentials}
    found |= {"organiser": await hall.organiser_token(), None: None, "signed-out": signed_out}
    found["forged"] = "d_" + "x" * 43
    return found


@pytest.mark.parametrize("who", CALLERS)
async def test_every_page_for_every_caller(hall: Hall, tokens, who):
    cookies = {"fair_session": tokens[who]} if tokens[who] else {}
    async with httpx.AsyncClient(base_url=hall.url, cookies=cookies) as http:
        for path in PAGES:
            response = await http.get(path)
            expected = page_status(path, who if who in VALID else "nobody")
            assert response.status_code == expected, (path, who, response.status_code)
            if expected == 303:
                assert response.headers["location"] in ("/login", "/account/password"), (path, who)
            if path == "/console/cards" and expected == 200:
                assert response.text.count('class="join-card') == 6


@pytest.mark.parametrize("who", CALLERS)
async def test_every_read_for_every_caller_shows_its_own_and_nothing_of_another_party(hall: Hall, tokens, who):
    g = hall.ground
    headers = {"authorization": f"Bearer {tokens[who]}"} if tokens[who] else {}
    actor = {
        "organiser": g.organiser,
        "projector": Actor.public(g.fair_id),
        None: Actor.public(g.fair_id),
        **{name: getattr(g, name) for name in TEAMS | BOOTHS},
    }.get(who)
    async with httpx.AsyncClient(base_url=hall.url, headers=headers) as http:
        for path in READS:
            # Asking for another party's state by name changes nothing: the caller is the token's.
            response = await http.get(path, params={"team_id": g.centre.party_id, "supplier_id": g.troupe.party_id})
            if who not in VALID:
                assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden", (path, who)
                continue
            assert response.status_code == 200, (path, who)
            shown = response.json()
            if path == "/api/view":
                assert shown == json.loads(json.dumps(await fresh_view(hall.app, actor))), who
                text = json.dumps(shown, ensure_ascii=False)
                assert (SECRET_MESSAGE in text) == (who in ("organiser", "centre", "troupe")), who
                budgets = [n for n in ("budget_fen", "spent_fen") if n in text]
                assert bool(budgets) == (who in ("organiser", "centre", "library")), who
                if who in TEAMS:
                    assert shown["me"]["id"] == getattr(g, who).party_id
                    assert all(n["team_id"] == shown["me"]["id"] for n in shown["negotiations"])
                    assert all(o["team_id"] == shown["me"]["id"] for o in shown["orders"])
                if who in BOOTHS:
                    assert all(n["supplier_id"] == shown["me"]["id"] for n in shown["negotiations"])
                    assert all(o["supplier_id"] == shown["me"]["id"] for o in shown["orders"])
                if who in ("projector", None):
                    assert set(shown) == {"seq", "role", "tally", "fair", "announcements"}
                if who == "organiser":
                    assert len(shown["credentials"]) == 6 and len(shown["teams"]) == 3
            if path == "/api/offerings":
                assert "budget" not in json.dumps(shown)


@pytest.mark.parametrize("who", CALLERS)
async def test_signing_out_over_http_ends_only_the_callers_own_session(hall: Hall, tokens, who):
    headers = {"authorization": f"Bearer {tokens[who]}"} if tokens[who] else {}
    async with httpx.AsyncClient(base_url=hall.url) as http:
        response = await http.post("/api/logout", headers=headers)
        assert response.status_code == 200
        assert response.json()["data"]["signed_out"] is (who in VALID and who is not None)
        if who in VALID and who is not None:
            after = await http.get("/api/view", headers=headers)
            assert after.status_code == 403
        # Nobody else was signed out.
        for other in ("organiser", "centre", "troupe"):
            if other != who:
                still = await http.get("/api/view", headers={"authorization": f"Bearer {tokens[other]}"})
                assert still.status_code == 200, other
