"""Join cards enrol devices; devices and organisers act in server-side sessions (issue 8, findings 6, 7, 11, 13)."""

from __future__ import annotations

import asyncio
import json
import logging
import re

import httpx
import pytest
import socketio
from itsdangerous import URLSafeSerializer
from sqlmodel import select

from fair import accounts
from fair.core import Actor, FairError
from fair.models import DeviceSession, OrganiserSession
from fair.tokens import Tokens, derive
from tests.conftest import ORGANISER_PASSWORD, Hall, open_hall, sqlite
from tests.screens import Screen


async def join(http: httpx.AsyncClient, card: str, *, confirm: bool = True) -> httpx.Response:
    """What the join page does: ask who the card is for, then (if ``confirm``) sign in."""
    page = await http.get("/join")
    assert page.status_code == 200 and "fair_session" not in page.cookies
    csrf = http.cookies["csrftoken"]
    asked = await http.post("/join", data={"card": card, "csrftoken": csrf})
    if not confirm or asked.status_code != 200:
        return asked
    return await http.post("/join", data={"card": card, "csrftoken": csrf, "confirm": "yes"})


def session_of(response: httpx.Response) -> str:
    return response.cookies["fair_session"]


async def connects(hall: Hall, token: str) -> bool:
    client = socketio.AsyncClient(reconnection=False)
    try:
        await client.connect(hall.url, auth={"token": token}, transports=["websocket"], wait_timeout=5)
    except socketio.exceptions.ConnectionError:
        return False
    await client.disconnect()
    return True


async def test_joining_asks_who_before_it_signs_in_and_needs_the_csrf_token(hall: Hall):
    """Finding 11: /join/<token> switched the device's identity on a plain GET."""
    card = hall.card("library")
    async with httpx.AsyncClient(base_url=hall.url) as http:
        asked = await join(http, card, confirm=False)
        assert asked.status_code == 200 and "fair_session" not in asked.cookies
        assert "以“玄武区图书馆”的身份登录？" in asked.text  # Sign in as 玄武区图书馆?
        forged = await http.post("/join", data={"card": card, "confirm": "yes", "csrftoken": "forged"})
        assert forged.status_code == 403 and "fair_session" not in forged.cookies
    async with httpx.AsyncClient(base_url=hall.url) as stranger:  # a page elsewhere, posting with no cookie at all
        posted = await stranger.post("/join", data={"card": card, "confirm": "yes"})
        assert posted.status_code == 403 and "fair_session" not in posted.cookies
    async with httpx.AsyncClient(base_url=hall.url) as http:
        joined = await join(http, card)
        assert joined.status_code == 303 and joined.headers["location"] == "/tablet"
        tablet = await http.get("/tablet")
        assert tablet.status_code == 200


async def test_a_typed_code_may_be_full_width_and_odd_signs_are_refused_not_an_error(hall: Hall):
    """A Chinese keyboard types ``ＡＢ２３``; the fuzzer typed ``¨2000ª\x9f…`` and got a 500 (hmac on non-ASCII)."""
    code = hall.tokens.join_code(hall.credentials["library"])
    full_width = "".join(chr(ord(sign) + 0xFEE0) if sign != "-" else "－" for sign in code)
    async with httpx.AsyncClient(base_url=hall.url) as http:
        await http.get("/join")
        csrf = http.cookies["csrftoken"]
        odd = await http.post("/join", data={"code": "¨2000ª\x9f\x05´J÷®", "csrftoken": csrf})
        assert odd.status_code == 403 and "没有与此登录码对应的卡片" in odd.text, odd.text[:300]
        asked = await http.post("/join", data={"code": full_width, "csrftoken": csrf})
        assert asked.status_code == 200 and "以“玄武区图书馆”的身份登录？" in asked.text


async def test_a_revoked_card_s_code_typed_right_says_the_card_is_revoked_not_to_retype_it(hall: Hall):
    """Issue 25: the typed code of a revoked card said 'no card has this code, check and type it again'."""
    g = hall.ground
    code = hall.tokens.join_code(hall.credentials["community"])
    await g.do(g.organiser, "access.revoke", {"credential_id": hall.credentials["community"]})
    async with httpx.AsyncClient(base_url=hall.url) as http:
        await http.get("/join")
        answer = await http.post("/join", data={"code": code, "csrftoken": http.cookies["csrftoken"]})
    said = re.search(r'<p class="notice error" role="alert">([^<]*)</p>', answer.text).group(1)
    assert (answer.status_code, said) == (403, "此加入链接已失效，请向组织方索取新的链接。")


async def test_a_card_enrols_a_device_whose_session_is_not_the_card(hall: Hall):
    """Finding 6: the session cookie was the card's token, a permanent bearer credential."""
    card = hall.card("centre")
    async with httpx.AsyncClient(base_url=hall.url) as http:
        session = session_of(await join(http, card))
    assert session != card and card not in session and session.startswith("d_")
    assert not await connects(hall, card), "a card must not open a connection by itself"
    assert await connects(hall, session)
    async with httpx.AsyncClient(base_url=hall.url) as http:
        refused = await http.get("/api/view", headers={"authorization": f"Bearer {card}"})
        assert refused.status_code == 403
    async with hall.app.state.db.read() as db:
        stored = (await db.exec(select(DeviceSession.token_hash))).all()
    assert session not in stored and all(len(digest) == 64 for digest in stored)  # kept as a keyed hash only


async def test_a_card_enrols_at_most_the_devices_the_organiser_allows(hall: Hall):
    card = hall.card("library")  # three devices a card by default; the hall enrolled one already
    async with httpx.AsyncClient(base_url=hall.url) as first, httpx.AsyncClient(base_url=hall.url) as second:
        assert (await join(first, card)).status_code == 303
        assert (await join(second, card)).status_code == 303
    async with httpx.AsyncClient(base_url=hall.url) as photographed:
        full = await join(photographed, card)
        assert full.status_code == 403 and "已登录 3 台设备" in full.text and "fair_session" not in full.cookies
        organiser = await hall.screen("organiser")
        limit = {"credential_id": hall.credentials["library"], "max_devices": 4}
        assert (await organiser.call("access.limit", limit))["ok"]
        assert (await join(photographed, card)).status_code == 303
        await organiser.disconnect()


async def test_signing_one_device_out_keeps_the_cards_other_devices(hall: Hall):
    """Finding 6: revoking a photographed card also signed out the genuine tablet."""
    genuine = await hall.screen("library")
    async with httpx.AsyncClient(base_url=hall.url) as http:
        stranger_token = session_of(await join(http, hall.card("library")))
    stranger = await Screen(hall.url, stranger_token).connect()
    organiser = await hall.screen("organiser")
    register = (await organiser.client.call("sessions", {}, timeout=10))["data"]
    devices = next(c for c in register["cards"] if c["credential_id"] == hall.credentials["library"])["devices"]
    assert len(devices) == 2
    stranger_device = max(device["id"] for device in devices)
    ack = await organiser.call("device.sign_out", {"device_id": stranger_device})
    assert ack["ok"] and ack["data"]["device"]["signed_in"] is False
    for _ in range(100):
        if not stranger.client.connected:
            break
        await asyncio.sleep(0.05)
    assert not stranger.client.connected  # its screens are sent away ...
    assert not await connects(hall, stranger_token)  # ... and it cannot come back
    # The core refuses its commands too: the same session, straight to the write path.
    signed_out = Actor(hall.ground.library.role, hall.ground.fair_id, hall.ground.library.party_id,
                       hall.credentials["library"], stranger_device)  # fmt: skip
    with pytest.raises(FairError) as refused:
        await hall.ground.do(signed_out, "negotiation.open", {"offering_id": hall.ground.books})
    assert refused.value.code == "forbidden"
    ack = await genuine.call("negotiation.open", {"offering_id": hall.ground.books})  # the genuine tablet goes on
    assert ack["ok"], ack
    for screen in (genuine, organiser):
        await screen.disconnect()


async def test_revoking_the_card_signs_out_every_device_it_enrolled(hall: Hall):
    async with httpx.AsyncClient(base_url=hall.url) as http:
        second = session_of(await join(http, hall.card("troupe")))
    organiser = await hall.screen("organiser")
    assert (await organiser.call("access.revoke", {"credential_id": hall.credentials["troupe"]}))["ok"]
    assert not await connects(hall, hall.token("troupe")) and not await connects(hall, second)
    async with httpx.AsyncClient(base_url=hall.url) as http:
        assert (await join(http, hall.card("troupe"))).status_code == 403
    await organiser.disconnect()


async def test_a_card_expires_after_the_fair(tmp_path):
    """Finding 6: cards never expired.  Here they stop the moment the fair closes (no hours after)."""
    async with open_hall(sqlite(tmp_path), card_hours_after_close=0) as hall:
        async with httpx.AsyncClient(base_url=hall.url) as http:
            assert (await join(http, hall.card("centre"))).status_code == 303
        await hall.ground.do(hall.ground.organiser, "fair.close")
        async with httpx.AsyncClient(base_url=hall.url) as http:
            expired = await join(http, hall.card("library"))
            assert expired.status_code == 403 and "已失效" in expired.text
        assert not await connects(hall, hall.token("library"))
        organiser = await hall.screen("organiser")
        register = (await organiser.client.call("sessions", {}, timeout=10))["data"]
        assert register["cards_expire_at"] is not None
        await organiser.disconnect()


async def test_signing_out_ends_the_organisers_session(hall: Hall):
    """Finding 7: signing out only dropped the cookie; the token worked on for 12 hours."""
    async with httpx.AsyncClient(base_url=hall.url) as http:
        token = (await http.post("/api/login", json={"username": "organiser", "password": ORGANISER_PASSWORD})).json()
        token = token["data"]["token"]
        bearer = {"authorization": f"Bearer {token}"}
        assert (await http.get("/api/view", headers=bearer)).json()["role"] == "organiser"
        console = await Screen(hall.url, token).connect()
        assert (await http.post("/api/logout", headers=bearer)).json()["data"]["signed_out"] is True
        assert (await http.get("/api/view", headers=bearer)).status_code == 403
        for _ in range(100):
            if not console.client.connected:
                break
            await asyncio.sleep(0.05)
        assert not console.client.connected
        assert not await connects(hall, token)
        # The form's sign-out, with the cookie, ends the session on the server too.
        page = await http.get("/login")
        form = {"username": "organiser", "password": ORGANISER_PASSWORD, "csrftoken": page.cookies["csrftoken"]}
        signed_in = await http.post("/login", data=form)
        cookie = session_of(signed_in)
        assert (await http.get("/console")).status_code == 200
        await http.post("/logout", data={"csrftoken": page.cookies["csrftoken"]})
        assert not await connects(hall, cookie)
        again = await http.get("/api/view", headers={"authorization": f"Bearer {cookie}"})
        assert again.status_code == 403


async def test_the_console_ends_another_organisers_session(hall: Hall):
    laptop = await hall.organiser_token()
    console = await hall.screen("organiser")
    register = (await console.client.call("sessions", {}, timeout=10))["data"]
    other = next(s for s in register["organisers"] if not s["current"])
    assert (await console.call("organiser.sign_out", {"session_id": other["id"]}))["ok"]
    assert not await connects(hall, laptop)
    await console.disconnect()


def test_cards_sessions_and_forms_are_signed_with_keys_of_their_own():
    """Finding 7: one key signed both cards and sessions."""
    secret = "s" * 40
    keys = {purpose: derive(secret, purpose) for purpose in ("card", "session", "csrf")}
    assert len(set(keys.values())) == 3 and secret.encode() not in keys.values()
    tokens = Tokens(secret)
    card = tokens.card(7)
    assert tokens.read_card(card) == 7 and tokens.read_session(card) is None
    session, _digest = tokens.new_session("d")
    assert tokens.read_card(session) is None
    signed_with_another_key = URLSafeSerializer(keys["csrf"], salt="fair.card").dumps({"c": 7})
    assert tokens.read_card(signed_with_another_key) is None
    assert Tokens("t" * 40).read_card(card) is None


def test_a_card_whose_payload_is_bad_is_refused_not_an_error():
    """Finding 13: itsdangerous.BadPayload escaped (HTTP 500; a socket connect never answered)."""
    tokens = Tokens("s" * 40)
    signer = URLSafeSerializer(derive("s" * 40, "card"), salt="fair.card").make_signer("fair.card")
    for payload in (b"!!!not-base64", b"eyJjIjoid2F0In0", b"bm90IGpzb24"):  # garbage, {"c": "wat"}, not JSON
        assert tokens.read_card(signer.sign(payload).decode()) is None
    for odd in (None, 5, "", "x" * 10_000, "a.b.c"):
        assert tokens.read_card(odd) is None and tokens.read_session(odd) is None


async def test_odd_tokens_get_an_answer_not_an_error(hall: Hall):
    signer = URLSafeSerializer(derive("a test secret", "card"), salt="fair.card").make_signer("fair.card")
    bad_payload = signer.sign(b"!!!not-base64").decode()
    async with httpx.AsyncClient(base_url=hall.url) as http:
        page = await http.get("/join")
        for card in (bad_payload, "forged", "d_" + "x" * 43):
            response = await http.post("/join", data={"card": card, "csrftoken": page.cookies["csrftoken"]})
            assert response.status_code == 403, card
    for token in (bad_payload, "o_" + "y" * 43, {"nested": "object"}):
        client = socketio.AsyncClient(reconnection=False)
        reasons = []
        client.on("connect_error", reasons.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(hall.url, auth={"token": token}, transports=["websocket"], wait_timeout=5)
        assert reasons and reasons[0]["data"]["code"] == "forbidden"


async def test_join_cards_never_reach_the_access_log(hall: Hall):
    """Finding 6: GET /join/<token> wrote every card into the access log.  A card is now in the fragment."""
    access = logging.getLogger("uvicorn.access")
    lines: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: lines.append(record.getMessage())
    access.addHandler(handler)
    level = access.level
    access.setLevel(logging.INFO)
    try:
        links = [hall.card(who) for who in hall.credentials]
        async with httpx.AsyncClient(base_url=hall.url) as http:
            for card in links:
                await join(http, card)  # what a browser sends for /join#<card>: the fragment stays on the device
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
    assert any("/join" in line for line in lines), "the access log saw the joins"
    for card in links:
        assert not any(card in line or card[:20] in line for line in lines)


def test_a_cards_link_holds_the_card_in_its_fragment(tmp_path):
    from types import SimpleNamespace

    from fair.pages import join_link

    tokens = Tokens("s" * 40)
    public = "https://fair.nanjing.example"
    for public_url, base in ((None, "http://10.0.0.5:8000"), (public + "/", public)):
        state = SimpleNamespace(settings=SimpleNamespace(public_url=public_url), tokens=tokens)
        request = SimpleNamespace(app=SimpleNamespace(state=state), base_url="http://10.0.0.5:8000/")
        assert join_link(request, 9) == f"{base}/join#{tokens.card(9)}"


async def test_a_device_scanning_its_own_card_again_keeps_its_session(hall: Hall):
    async with httpx.AsyncClient(base_url=hall.url) as http:
        first = session_of(await join(http, hall.card("community")))
        again = await join(http, hall.card("community"))
        assert again.status_code == 303 and "fair_session" not in again.cookies
        assert http.cookies["fair_session"] == first and await connects(hall, first)
        # Another card replaces the session; the old one is signed out, not left open.
        switched = session_of(await join(http, hall.card("library")))
        assert switched != first and not await connects(hall, first) and await connects(hall, switched)
        # A card that cannot enrol leaves the session this device had.
        await hall.ground.do(hall.ground.organiser, "access.revoke", {"credential_id": hall.credentials["troupe"]})
        refused = await join(http, hall.card("troupe"))
        assert refused.status_code == 403 and await connects(hall, switched)


async def test_sessions_in_the_core_on_both_engines(fairground):
    """The core's rules for devices and sign-ins, on SQLite and PostgreSQL: limits, sign-outs, the share lock's SQL."""
    from fair.core import access, sessions
    from fair.core.access import DevicePolicy

    g = fairground
    issued = await g.do(g.organiser, "access.issue", {"kind": "team", "party_id": g.library.party_id, "max_devices": 2})
    card = issued["credential"]["id"]
    one = await access.enrol(g.db, card, "a" * 64, label="one", address="10.0.0.1", policy=DevicePolicy())
    two = await access.enrol(g.db, card, "b" * 64, label="two", address="10.0.0.2", policy=DevicePolicy())
    with pytest.raises(FairError) as full:
        await access.enrol(g.db, card, "c" * 64, label="three", address="10.0.0.3", policy=DevicePolicy())
    assert full.value.code == "forbidden" and full.value.params == {"count": 2}
    assert one.session_id != two.session_id and one == g.library  # the same team, another device
    await g.do(one, "negotiation.open", {"offering_id": g.lecture})
    await g.do(g.organiser, "device.sign_out", {"device_id": one.session_id})
    with pytest.raises(FairError) as signed_out:
        await g.do(one, "negotiation.open", {"offering_id": g.books})
    assert signed_out.value.code == "forbidden"
    await g.do(two, "negotiation.open", {"offering_id": g.books})  # the card's other device goes on
    three = await access.enrol(g.db, card, "c" * 64, label="three", address="10.0.0.3", policy=DevicePolicy())
    await g.do(g.organiser, "access.revoke", {"credential_id": card})
    for device in (two, three):
        with pytest.raises(FairError):
            await g.do(device, "negotiation.withdraw", {"negotiation_id": 1})
    async with g.db.read() as session:
        with pytest.raises(FairError):
            await access.admit(session, "b" * 64, DevicePolicy())
    # An organiser's sign-in: its commands stop with it.
    account = await accounts.create(g.db, "organiser", "correct horse battery staple")
    session_id = await sessions.open_session(g.db, account, "d" * 64, label="laptop", address="10.0.0.9")
    async with g.db.read() as session:
        organiser, _ = await sessions.admit(session, "d" * 64, g.fair_id)
    await g.do(organiser, "fair.configure", {"subsidy_rate_bp": 2000})
    assert await sessions.close_session(g.db, "d" * 64) == session_id
    with pytest.raises(FairError) as ended:
        await g.do(organiser, "fair.configure", {"subsidy_rate_bp": 1000})
    assert ended.value.code == "forbidden"


async def test_a_generated_first_password_acts_on_nothing_until_it_is_changed_whatever_the_way_in(hall: Hall):
    """Issue 24: /api/login then team.set_budget over the socket worked with the generated first password; the
    rule lived in the console's pages only.  Now the core refuses every command of such a session."""
    g = hall.ground
    account = await accounts.create(g.db, "newcomer", "a generated first password", must_change_password=True)
    async with httpx.AsyncClient(base_url=hall.url, cookies={"fair_locale": "zh_CN"}) as http:
        answer = await http.post("/api/login", json={"username": "newcomer", "password": "a generated first password"})
        token = answer.json()["data"]["token"]
    console = await Screen(hall.url, token, locale="zh_CN").connect()
    before = await g.state()
    budget = {"team_id": g.community.party_id, "budget_fen": 99_999_900}
    refused = await console.call("team.set_budget", budget)
    assert (refused["ok"], refused["error"]["code"]) == (False, "forbidden")
    assert "初始密码" in refused["error"]["message"]
    assert await g.state() == before
    await accounts.set_password(g.db, account, "a password of the newcomer's own")
    assert (await console.call("team.set_budget", budget))["ok"]
    await console.disconnect()


async def test_api_login_takes_json_only_so_that_no_other_site_can_post_to_it_unasked(hall: Hall):
    """Issue 24: /api/login accepted text/plain, which a page of any site may post without a preflight."""
    g = hall.ground
    async with g.db.read() as session:
        sessions = len((await session.exec(select(OrganiserSession))).all())
    body = json.dumps({"username": "organiser", "password": ORGANISER_PASSWORD})
    async with httpx.AsyncClient(base_url=hall.url) as http:
        for kind in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
            headers = {"content-type": kind} if kind else {}
            answer = await http.post("/api/login", content=body, headers=headers)
            assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_input", (kind, answer.text)
        assert (await http.post("/api/login", content=body, headers={"content-type": "application/json"})).json()["ok"]
    async with g.db.read() as session:
        assert len((await session.exec(select(OrganiserSession))).all()) == sessions + 1
