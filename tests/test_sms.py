"""The SMS gateway (``FAIR_SMS_URL``): a stub of an operator's service on loopback receives each code once, in
order, with the token and an idempotency key; failures are retried, refusals and stale codes given up on, and
two workers never post the same message."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlmodel import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fair.core import Actor
from fair.models import TextMessage
from fair.settings import Settings, SettingsError
from fair.sms import Gateway, outbox
from tests.conftest import open_hall, sqlite
from tests.fairground import Fairground
from tests.phones import csrf_of
from tests.servers import serving

NOW = dt.datetime(2026, 4, 18, 2, 0, tzinfo=dt.UTC)


class Operator:
    """A stand-in for the operator's SMS service: answers the statuses it is told to, in turn, then 200."""

    def __init__(self) -> None:
        self.answers: list[int] = []
        self.received: list[tuple[dict, httpx.Headers]] = []
        self.arrived = asyncio.Event()

    async def send(self, request: Request) -> JSONResponse:
        self.received.append((await request.json(), request.headers))
        self.arrived.set()
        status = self.answers.pop(0) if self.answers else 200
        return JSONResponse({"ok": status == 200, "said": "busy" if status >= 500 else "fine"}, status_code=status)

    def codes(self) -> list[str]:
        return [re.search(r"\d{6}", body["text"]).group() for body, _ in self.received]


@asynccontextmanager
async def operator() -> AsyncIterator[tuple[Operator, str]]:
    stub = Operator()
    async with serving(Starlette(routes=[Route("/send", stub.send, methods=["POST"])])) as url:
        yield stub, f"{url}/send"


async def ask(g: Fairground, phone: str, device: str = "a-phone") -> None:
    await g.do(Actor.resident(g.fair_id, device), "resident.ask_code", {"phone": phone})


async def messages(g: Fairground) -> list[TextMessage]:
    async with g.db.read() as session:
        return list((await session.exec(select(TextMessage).order_by(TextMessage.id))).all())


async def test_a_phone_confirms_its_number_with_the_code_the_operator_was_given(tmp_path):
    async with operator() as (stub, url), open_hall(sqlite(tmp_path), sms_url=url, sms_token="operator-token") as hall:
        async with httpx.AsyncClient(base_url=hall.url, cookies={"fair_locale": "zh_CN"}) as phone:
            form = await phone.get("/phone")
            sent = await phone.post("/phone", data={"csrftoken": csrf_of(form), "step": "send", "phone": "13900139000"})
            assert sent.status_code == 200
            await asyncio.wait_for(stub.arrived.wait(), 10)  # the commit wakes the gateway: no polling to wait for
            body, headers = stub.received[0]
            assert (body["to"], headers["authorization"]) == ("13900139000", "Bearer operator-token")
            assert headers["idempotency-key"] == f"fair-text-{body['id']}"
            code = stub.codes()[0]
            data = {"csrftoken": csrf_of(sent), "step": "confirm", "phone": "13900139000", "code": code}
            confirmed = await phone.post("/phone", data=data)
            assert confirmed.status_code in (200, 303), confirmed.text
            assert hall.app.state.tokens.read_resident(phone.cookies["fair_resident"]).resident_id is not None
        token = await hall.organiser_token()
        organiser = {"fair_session": token, "fair_locale": "zh_CN"}
        async with httpx.AsyncClient(base_url=hall.url, cookies=organiser) as http:
            console = (await http.get("/console/residents")).text
        assert code not in console and "您的验证码是 ******" in console  # the code is the resident's own
        assert "<p>短信经本场设置的短信网关" in console and '<p class="notice">没有短信离开这台电脑' not in console
        [sent_at] = re.findall(r'<td class="sent">([^<]*)</td>', console)
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", sent_at.strip())
    assert len(stub.received) == 1


async def test_a_failure_is_tried_again_later_and_a_refusal_or_a_stale_code_is_given_up(fairground: Fairground):
    g = fairground
    async with operator() as (stub, url):
        gateway = Gateway(g.db, url)
        try:
            await ask(g, "13900000001")
            stub.answers = [503]
            assert await gateway.send_due(NOW) == 1
            [first] = await messages(g)
            assert (first.sent_at, first.attempts, first.error) == (None, 1, 'HTTP 503: {"ok":false,"said":"busy"}')
            assert await gateway.send_due(NOW + dt.timedelta(seconds=1)) == 0  # not due again yet
            assert await gateway.send_due(NOW + dt.timedelta(seconds=3)) == 1
            [first] = await messages(g)
            assert first.sent_at is not None and first.attempts == 2
            assert await gateway.send_due(NOW + dt.timedelta(minutes=1)) == 0  # sent is sent

            await ask(g, "13900000002")
            stub.answers = [400]  # the operator refuses the message itself (a number it will not serve)
            await gateway.send_due(NOW)
            refused = (await messages(g))[-1]
            assert refused.gave_up_at is not None and refused.error.startswith("HTTP 400")

            await ask(g, "13900000003")
            stub.answers = [503] * 100
            moment = (await messages(g))[-1].created_at
            posts = len(stub.received)
            while (await messages(g))[-1].gave_up_at is None:
                moment += dt.timedelta(minutes=1)
                await gateway.send_due(moment)
            late = (await messages(g))[-1]
            assert late.sent_at is None and late.gave_up_at - late.created_at < dt.timedelta(minutes=10)
            assert len(stub.received) - posts == late.attempts  # each try was one post, backing off: 2, 4, 8 … s
            assert 5 <= late.attempts <= 9

            shown = await outbox(g.db, sending=True)
            assert all("******" in row["text"] for row in shown)
            assert [row["error"] is not None for row in shown] == [True, True, False]
        finally:
            await gateway.client.aclose()


async def test_two_workers_post_each_message_once_and_in_order(fairground: Fairground):
    g = fairground
    for n in range(12):
        await ask(g, f"1390000{n:04d}", device=f"phone-{n}")
    async with operator() as (stub, url):
        workers = [Gateway(g.db, url), Gateway(g.db, url)]
        try:
            await asyncio.gather(*(worker.send_due(NOW) for worker in workers))
            await asyncio.gather(*(worker.send_due(NOW) for worker in workers))
        finally:
            for worker in workers:
                await worker.client.aclose()
    ids = [body["id"] for body, _ in stub.received]
    assert sorted(ids) == [m.id for m in await messages(g)] and len(set(ids)) == 12
    assert all(m.sent_at is not None and m.attempts == 1 for m in await messages(g))


@pytest.mark.parametrize("url", ["ftp://sms.example", "sms.example/send", "http://[::1"])
def test_an_sms_url_that_is_not_http_is_refused_at_start(url):
    with pytest.raises(SettingsError, match="FAIR_SMS_URL"):
        Settings.load({"FAIR_SMS_URL": url})
