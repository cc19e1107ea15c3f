"""A scripted attacker against the residents' voice: fresh cookies, forged and replayed codes, a rating with no
proof over the socket, a thousand supports in a burst; afterwards every count shown equals a recount of people."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlmodel import func, select

from fair.core import Actor, Code, FairError, queries
from fair.models import PhoneCode, TextMessage, Wish, WishSupport
from fair.phones import local_path
from fair.sms import last_code
from tests.conftest import Hall, open_hall, sqlite
from tests.fairground import Fairground
from tests.pauses import hold_then_race
from tests.phones import csrf_of
from tests.screens import Screen
from tests.test_wishes import WISH


async def refusal(coro) -> Code:
    try:
        await coro
    except FairError as error:
        return error.code
    return "ok"


@pytest.mark.parametrize(
    "target", ["//evil.example", "/\\evil.example", "/\t/evil.example", "https://evil.example", "/a\n//b", ""]
)
def test_after_confirming_a_phone_goes_back_to_this_site_only(target):
    assert local_path(target) == "/wishes"
    assert local_path("/rate/abc.D-_e?code=123456") == "/rate/abc.D-_e?code=123456"


async def test_codes_cannot_be_forged_replayed_or_guessed(fairground: Fairground):
    g = fairground
    phone = Actor.resident(g.fair_id, "attacker")
    number = "13511112222"
    await g.do(phone, "resident.ask_code", {"phone": number})
    assert await refusal(g.do(phone, "resident.ask_code", {"phone": number})) == Code.rate_limited  # a minute apart
    real = await last_code(g.db, number)
    guesses = [f"{(int(real) + n) % 10**6:06d}" for n in range(1, 7)]
    outcomes = [await refusal(g.do(phone, "resident.confirm", {"phone": number, "code": c})) for c in guesses]
    assert outcomes == [Code.invalid_input] * 5 + [Code.invalid_state]  # five tries, then the code is spent
    assert await refusal(g.do(phone, "resident.confirm", {"phone": number, "code": real})) == Code.invalid_state
    async with g.db.read() as session:
        assert (await session.exec(select(PhoneCode.tries))).all() == [5]
    assert await refusal(g.do(phone, "resident.confirm", {"phone": "13599998888", "code": real})) == Code.invalid_state
    for bad in ("12345", "1351111222", "+1 555 0100", "abc"):
        assert await refusal(g.do(phone, "resident.ask_code", {"phone": bad})) == Code.invalid_input


async def test_two_phones_asking_a_new_numbers_first_code_at_once_send_one_code(fairground: Fairground):
    """On PostgreSQL the first ask is held after writing its code, before its text message; the second finds no
    code yet and waits on the index that keeps one waiting code per number, then is refused: one message goes."""
    g = fairground
    number = "13622223333"
    first, second = await hold_then_race(
        g.db,
        "first",
        r"^INSERT INTO text_message",
        refusal(g.do(Actor.resident(g.fair_id, "one"), "resident.ask_code", {"phone": number})),
        refusal(g.do(Actor.resident(g.fair_id, "other"), "resident.ask_code", {"phone": number})),
    )
    assert first == "ok"
    # SQLite runs them one after the other: the second is told a code was just sent.  PostgreSQL ran them at once.
    assert second == (Code.invalid_state if g.db.url.get_backend_name() == "postgresql" else Code.rate_limited)
    async with g.db.read() as session:
        assert len((await session.exec(select(TextMessage).where(TextMessage.phone == number))).all()) == 1
        assert len((await session.exec(select(PhoneCode).where(PhoneCode.phone == number))).all()) == 1


async def test_a_thousand_supports_from_one_person_count_once_and_the_count_is_a_recount(fairground: Fairground):
    g = fairground
    await g.confirm("author", "neighbour")
    wish = (await g.do(g.resident("author"), "wish.submit", WISH))["wish"]
    await g.do(g.organiser, "wish.moderate", {"wish_id": wish["id"], "decision": "approve"})
    cookies = [Actor.resident(g.fair_id, f"cookie-{n}", g.resident_ids["neighbour"]) for n in range(1000)]
    strangers = [Actor.resident(g.fair_id, f"stranger-{n}") for n in range(100)]
    outcomes = await asyncio.gather(
        *(refusal(g.do(actor, "wish.support", {"wish_id": wish["id"]})) for actor in cookies + strangers)
    )
    assert outcomes.count("ok") == 1
    assert set(outcomes) == {"ok", Code.duplicate, Code.unconfirmed}
    async with g.db.read() as session:
        people = (await session.exec(select(func.count(func.distinct(WishSupport.resident_id))))).one()
        shown = (await session.get(Wish, wish["id"])).supports
        record = await queries.residents_record(session, g.organiser)
    assert people == shown == 2
    refused = {(r["command"], r["code"]): r["count"] for r in record["refused"]}
    assert refused == {("wish.support", "duplicate"): 999, ("wish.support", "unconfirmed"): 100}


async def test_over_the_socket_a_fresh_cookie_or_a_forged_one_supports_and_rates_nothing(hall: Hall):
    g = hall.ground
    await g.confirm("author")
    wish = (await g.do(g.resident("author"), "wish.submit", WISH))["wish"]
    await g.do(g.organiser, "wish.moderate", {"wish_id": wish["id"], "decision": "approve"})
    answers = []
    for _ in range(5):  # a new cookie each time, as a script would take them
        async with httpx.AsyncClient(base_url=hall.url) as client:
            await client.get("/wishes")
            cookie = client.cookies["fair_resident"]
        screen = await Screen(hall.url, resident=cookie).connect()
        answers.append(await screen.call("wish.support", {"wish_id": wish["id"]}))
        answers.append(await screen.call("rating.submit", {"delivery_id": 1, "rating": 1}))
        await screen.disconnect()
    forged = hall.tokens.new_resident(None, g.resident_ids["author"]).replace(".", "x.", 1)  # a resident id, unsigned
    screen = await Screen(hall.url, resident=forged).connect()
    answers.append(await screen.call("wish.support", {"wish_id": wish["id"]}))
    await screen.disconnect()
    codes = [a["error"]["code"] for a in answers]
    assert codes == ["unconfirmed"] * 10 + ["forbidden"]
    async with g.db.read() as session:
        assert (await session.get(Wish, wish["id"])).supports == 1


async def test_the_console_shows_the_outbox_and_the_refusals(hall: Hall):
    async with httpx.AsyncClient(base_url=hall.url, cookies={"fair_locale": "zh_CN"}) as phone:
        page = await phone.get("/phone")
        await phone.post("/phone", data={"csrftoken": csrf_of(page), "step": "send", "phone": "138 0013 8000"})
    token = await hall.organiser_token()
    async with httpx.AsyncClient(base_url=hall.url, cookies={"fair_session": token, "fair_locale": "zh_CN"}) as http:
        shown = await http.get("/console/residents")
    assert "13800138000" in shown.text and "【南京公共文化云】您的验证码是" in shown.text
    assert "没有短信离开这台电脑" in shown.text
    async with httpx.AsyncClient(base_url=hall.url) as stranger:
        assert (await stranger.get("/console/residents")).headers.get("location", "") == "/login"


async def test_fresh_cookies_flooding_wishes_from_one_address_are_held_back_and_told_so(tmp_path):
    async with open_hall(sqlite(tmp_path), anonymous_burst=3, anonymous_rate=1e-9) as hall:
        answers = []
        for n in range(5):  # a script taking a new cookie for every wish
            async with httpx.AsyncClient(base_url=hall.url) as client:
                await client.get("/wishes")
                cookie = client.cookies["fair_resident"]
            screen = await Screen(hall.url, resident=cookie, locale="zh_CN").connect()
            answers.append(await screen.call("wish.submit", WISH | {"text": f"想听养生讲座第{n}场"}))
            await screen.disconnect()
        codes = [a["error"]["code"] if not a["ok"] else "ok" for a in answers]
        assert codes == ["ok"] * 3 + ["rate_limited"] * 2
        assert "这个网络同时提交的太多" in answers[-1]["error"]["message"]
        async with hall.ground.db.read() as session:
            assert (await session.exec(select(func.count()).select_from(Wish))).one() == 3
