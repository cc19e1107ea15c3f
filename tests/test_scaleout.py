"""Two real workers, each a `run.py` process, serving one fair from the local PostgreSQL with the local Redis.

What one worker does must be seen on the other: an order confirmed on one
reaches the boards on the other (each event once), a revoked card or an
ended session closes its screens on both, and the sign-in back-off counts an
address's failures wherever they were made.  Every wait is for a condition,
bounded in time.  Without PostgreSQL or Redis the tests skip and say why.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import socketio
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlmodel import func, select

from fair import accounts, migrate
from fair.auth import enrol, sign_in
from fair.core import Actor
from fair.core.access import DevicePolicy
from fair.db import Database
from fair.models import PhoneCode, TextMessage, Wish, WishSupport
from fair.sms import last_code
from fair.tokens import Tokens
from tests.conftest import ORGANISER_PASSWORD, postgres_database
from tests.fairground import Fairground
from tests.phones import csrf_of
from tests.screens import Screen, converged
from tests.test_wishes import WISH

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("FAIR_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
SECRET = "a test secret shared by the two workers"
STARTUP_SECONDS = 60.0
RUNNING: dict[str, asyncio.subprocess.Process] = {}  # each running worker's process, by its URL (to kill one)


@asynccontextmanager
async def redis_space() -> AsyncIterator[tuple[Redis, str]]:
    """The local Redis and a key prefix of this test's own, whose keys are deleted afterwards."""
    redis = Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        await redis.ping()
    except (RedisError, OSError) as error:
        await redis.aclose()
        pytest.skip(f"no Redis answers at {REDIS_URL}: {error}")
    prefix = f"fair-test-{uuid.uuid4().hex[:12]}"
    try:
        yield redis, prefix
    finally:
        keys = [key async for key in redis.scan_iter(f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@asynccontextmanager
async def worker(environment: dict[str, str], *arguments: str) -> AsyncIterator[str]:
    """`python run.py` as a process of its own, until the block ends; yields its URL once it answers."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="fair-worker-", suffix=".log", delete=False)  # noqa: SIM115
    process = await asyncio.create_subprocess_exec(
        sys.executable, "run.py", "--port", str(port), *arguments, cwd=ROOT, env=environment, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    RUNNING[url] = process
    try:
        async with httpx.AsyncClient(timeout=2) as client:
            deadline = asyncio.get_running_loop().time() + STARTUP_SECONDS
            while True:
                if process.returncode is not None:
                    raise AssertionError(f"the worker stopped ({process.returncode}): {Path(log.name).read_text()}")
                try:
                    if (await client.get(f"{url}/healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise AssertionError(f"the worker did not answer: {Path(log.name).read_text()}")
                await asyncio.sleep(0.1)
        yield url
    finally:
        RUNNING.pop(url, None)
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 20)
            except TimeoutError:
                process.kill()
                await process.wait()
        log.close()
        os.unlink(log.name)


class Workers:
    """Two workers serving the small fair, and screens to join either with."""

    def __init__(self, db: Database, ground: Fairground, credentials: dict[str, int], redis: Redis, prefix: str):
        self.db, self.ground, self.credentials, self.redis, self.prefix = db, ground, credentials, redis, prefix
        self.tokens = Tokens(SECRET)
        self.app = SimpleNamespace(state=SimpleNamespace(db=db))  # what tests.screens reads the truth from
        self.urls: list[str] = []
        self.devices: dict[str, tuple[str, int]] = {}

    async def enrol(self, who: str) -> str:
        token, actor = await enrol(
            self.db, self.tokens, self.credentials[who], label="test", address="127.0.0.1", policy=DevicePolicy()
        )
        self.devices[who] = (token, actor.session_id)
        return token

    async def screen(self, who: str | None, on: int) -> Screen:
        if who is None:
            token = None
        elif who == "organiser":
            account = await accounts.verify(self.db, "organiser", ORGANISER_PASSWORD)
            token, _ = await sign_in(self.db, self.tokens, account, label="test", address="127.0.0.1")
        else:
            token = self.devices[who][0] if who in self.devices else await self.enrol(who)
        return await Screen(self.urls[on], token).connect()


@pytest.fixture
async def workers() -> AsyncIterator[Workers]:
    async with two_workers() as hall:
        yield hall


@asynccontextmanager
async def two_workers(**settings: str) -> AsyncIterator[Workers]:
    """The small fair, served by two `run.py` processes (``settings``: more FAIR_* variables for both)."""
    async with AsyncExitStack() as stack:
        url = await stack.enter_async_context(postgres_database())
        redis, prefix = await stack.enter_async_context(redis_space())
        db = Database(url)
        stack.push_async_callback(db.dispose)
        await migrate.upgrade(db)
        ground = Fairground(db)
        await ground.build()
        credentials = {}
        for who in ("bookseller", "library", "community"):
            actor = getattr(ground, who)
            kind = "supplier" if who == "bookseller" else "team"
            issued = await ground.do(ground.organiser, "access.issue", {"kind": kind, "party_id": actor.party_id})
            credentials[who] = issued["credential"]["id"]
        environment = {
            **os.environ,
            "FAIR_DATABASE_URL": url,
            "FAIR_SECRET_KEY": SECRET,
            "FAIR_ORGANISER_PASSWORD": ORGANISER_PASSWORD,
            "FAIR_REDIS_URL": REDIS_URL,
            "FAIR_REDIS_PREFIX": prefix,
            "FAIR_LIVE_INTERVAL_MS": "30",
            **settings,
        }
        hall = Workers(db, ground, credentials, redis, prefix)
        # Started together, as a process manager starts them: they take turns to set the database up.
        started = [worker(environment), worker(environment)]
        hall.urls = list(await asyncio.gather(*(stack.enter_async_context(w) for w in started)))
        hall.environment = environment
        yield hall


async def disconnected(screen: Screen, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while screen.client.connected:
        assert asyncio.get_running_loop().time() < deadline, "the screen is still connected"
        await asyncio.sleep(0.05)


async def test_an_order_on_one_worker_reaches_the_boards_on_the_other_exactly_once(workers: Workers):
    g = workers.ground
    tablet = await workers.screen("library", on=0)
    booth = await workers.screen("bookseller", on=0)
    boards = [await workers.screen(None, on=1), await workers.screen(None, on=0)]
    before = boards[0].view["tally"]["headline"]

    for quantity in (10, 20, 30):
        opening = {"offering_id": g.books, "terms": {"quantity": quantity, "unit_price_fen": 3_000}}
        opened = await tablet.call("negotiation.open", opening, request_id=f"open-{quantity}")
        assert opened["ok"], opened
        negotiation = opened["data"]["negotiation"]
        accepted = await booth.call(
            "negotiation.accept", {"negotiation_id": negotiation["id"], "version": negotiation["version"]}
        )
        assert accepted["ok"], accepted

    for board in boards:
        await converged(workers.app, board, Actor.public(g.fair_id), timeout=10)
        assert len(board.applied) == len(set(board.applied))  # no event twice, though two workers publish
    headline = boards[0].view["tally"]["headline"]
    assert headline["book_volumes"] == before["book_volumes"] + 60
    assert boards[0].view["tally"] == boards[1].view["tally"]

    # The tablet retries its last request on the other worker (it reconnected there): the first answer, no second
    # negotiation, because the record of a request id is a row.
    again = await workers.screen("library", on=1)
    replayed = await again.call("negotiation.open", opening, request_id="open-30")
    assert replayed == opened
    state = await g.state()
    assert len([n for n in state["negotiation"] if n["team_id"] == g.library.party_id]) == 3
    for screen in (tablet, booth, again, *boards):
        await screen.disconnect()


async def test_a_revoked_card_and_an_ended_session_close_their_screens_on_every_worker(workers: Workers):
    organiser = await workers.screen("organiser", on=0)
    revoked_tablet = await workers.screen("community", on=1)
    signed_out = [await workers.screen("library", on=1), await workers.screen("library", on=0)]
    staying = await workers.screen("bookseller", on=1)

    revoked = await organiser.call("access.revoke", {"credential_id": workers.credentials["community"]})
    assert revoked["ok"], revoked
    await disconnected(revoked_tablet)  # the revocation is in the log, which the other worker reads too

    _, device_id = workers.devices["library"]
    ended = await organiser.call("device.sign_out", {"device_id": device_id})
    assert ended["ok"], ended
    for screen in signed_out:  # its event is for the history: the workers' channel sends the screens away
        await disconnected(screen)
    assert staying.client.connected
    reply = await staying.client.call("sync", {"since": staying.cursor}, timeout=10)
    assert reply["ok"]
    for screen in (organiser, staying):
        await screen.disconnect()


async def test_the_sign_in_back_off_counts_an_address_across_workers(workers: Workers):
    wrong = {"username": "organiser", "password": "not the password at all"}
    async with httpx.AsyncClient(timeout=10) as client:
        answers = []
        for attempt in range(5):  # five free failures, alternately on each worker
            reply = await client.post(f"{workers.urls[attempt % 2]}/api/login", json=wrong)
            answers.append(reply.status_code)
        assert answers == [403] * 5
        # Each worker alone has seen two or three failures; together they have seen five, and both wait.
        for url in workers.urls:
            reply = await client.post(f"{url}/api/login", json=wrong)
            assert reply.status_code == 429, reply.text
            assert reply.json()["error"]["code"] == "rate_limited"


async def test_an_address_may_open_so_many_connections_across_workers():
    async with two_workers(FAIR_CONNECTIONS_PER_ADDRESS="3") as hall:
        boards = [await hall.screen(None, on=0), await hall.screen(None, on=0), await hall.screen(None, on=1)]
        refused = Screen(hall.urls[1])
        reasons = []
        refused.client.on("connect_error", reasons.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await refused.connect()
        assert reasons[0]["data"] == {"code": "rate_limited"}
        await boards[0].disconnect()  # a place is free again, on whichever worker
        await _eventually(lambda: _connects(hall.urls[1]))
        for board in boards[1:]:
            await board.disconnect()


async def _connects(url: str) -> bool:
    try:
        screen = await Screen(url).connect()
    except socketio.exceptions.ConnectionError:
        return False
    await screen.disconnect()
    return True


async def _eventually(condition, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await condition():
        assert asyncio.get_running_loop().time() < deadline, "the condition never held"
        await asyncio.sleep(0.1)


async def test_a_resident_is_one_person_on_either_worker_and_the_residents_limits_count_across_them():
    """Issue 21 with two workers: a number confirmed on one is the same person on the other (one support, a
    recount), and the codes' limit per address is one bucket in Redis, not one per worker."""
    async with two_workers(FAIR_CODE_BURST="5", FAIR_CODE_RATE="0.000001") as hall:
        g = hall.ground
        wish = (await g.do(Actor.resident(g.fair_id, "author"), "wish.submit", WISH))["wish"]
        await g.do(g.organiser, "wish.moderate", {"wish_id": wish["id"], "decision": "approve"})
        cookies = []
        for on in (0, 1):  # the same number, confirmed by two phones: asked on one worker, typed on the other
            async with httpx.AsyncClient(timeout=10) as phone:
                form = await phone.get(f"{hall.urls[on]}/phone")
                sent = await phone.post(
                    f"{hall.urls[on]}/phone", data={"csrftoken": csrf_of(form), "step": "send", "phone": "13712345678"}
                )
                assert sent.status_code == 200 and "phone-error" not in sent.text, sent.text
                code = await last_code(hall.db, "13712345678")
                typed = {"csrftoken": csrf_of(sent), "step": "confirm", "phone": "13712345678", "code": code}
                confirmed = await phone.post(f"{hall.urls[1 - on]}/phone", data=typed)
                assert confirmed.status_code == 303, confirmed.text
                cookies.append(phone.cookies["fair_resident"])
            if on == 0:  # a minute between two codes to one number: the second phone comes a minute later
                async with hall.db.read() as session:
                    assert len((await session.exec(select(PhoneCode))).all()) == 1
                await _a_minute_later(hall.db)
        answers = []
        for on, cookie in enumerate(cookies):
            screen = await Screen(hall.urls[on], resident=cookie).connect()
            answers.append(await screen.call("wish.support", {"wish_id": wish["id"]}))
            await screen.disconnect()
        assert answers[0]["ok"] and answers[0]["data"]["wish"]["supports"] == 1, answers
        assert (answers[1]["ok"], answers[1]["error"]["code"]) == (False, "duplicate")
        async with hall.db.read() as session:
            assert (await session.exec(select(func.count()).select_from(WishSupport))).one() == 1
            assert (await session.get(Wish, wish["id"])).supports == 1

        # Four code steps so far, two on each worker.  The fifth is the last of the bucket's five; the sixth is
        # only its worker's third, and refused: both workers draw on one bucket in Redis.
        refused = []
        async with httpx.AsyncClient(timeout=10) as phone:
            for on, number in ((0, "13700000001"), (1, "13700000002")):
                form = await phone.get(f"{hall.urls[on]}/phone")
                sent = await phone.post(
                    f"{hall.urls[on]}/phone", data={"csrftoken": csrf_of(form), "step": "send", "phone": number}
                )
                refused.append("phone-error" in sent.text)
        assert refused == [False, True]
        async with hall.db.read() as session:
            texted = (await session.exec(select(TextMessage.phone))).all()
        assert sorted(texted) == ["13700000001", "13712345678", "13712345678"]


async def _a_minute_later(db: Database) -> None:
    """Move the codes sent so far a minute into the past, as if the next phone came a minute later."""

    def back(connection) -> None:
        connection.exec_driver_sql("UPDATE phone_code SET created_at = created_at - interval '1 minute'")

    await db.transact(back)


async def test_run_py_starts_several_workers_that_serve_websockets_only(workers: Workers):
    """`run.py --workers 2` on one port: whichever worker a screen reaches, it is the same fair."""
    g = workers.ground
    async with worker(workers.environment, "--workers", "2") as url:
        boards = [await Screen(url).connect() for _ in range(6)]
        await g.order(g.library, g.bookseller, g.books, quantity=5)
        for board in boards:
            await converged(workers.app, board, Actor.public(g.fair_id), timeout=10)
        async with httpx.AsyncClient(timeout=5) as client:  # long-polling would need sticky sessions: refused
            polling = await client.get(f"{url}/socket.io/", params={"EIO": "4", "transport": "polling"})
        assert polling.status_code == 400
        for board in boards:
            await board.disconnect()
