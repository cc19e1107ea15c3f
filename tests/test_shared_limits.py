"""The limits' counters in the local Redis, as two workers share them; and what a worker does without Redis."""

from __future__ import annotations

import asyncio
import shutil
from types import SimpleNamespace

import httpx
import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from fair.limits import RESIDENT_KINDS, Limits
from fair.live.crossing import Crossing
from fair.shared_limits import RedisStore
from tests.conftest import open_hall, sqlite
from tests.test_scaleout import free_port, redis_space


@pytest.fixture
async def two_workers():
    """Two stores of one prefix: the counters two workers would share."""
    async with redis_space() as (redis, prefix):
        stores = [RedisStore(redis, prefix), RedisStore(redis, prefix)]
        for store in stores:
            await store.start()
        yield stores
        for store in stores:
            await store.stop()


async def test_a_bucket_is_one_across_workers(two_workers):
    first, second = two_workers
    taken = [await (first, second)[i % 2].take("event:a", rate=0.001, burst=5, now=1000.0) for i in range(7)]
    assert taken == [True] * 5 + [False] * 2
    assert await first.take("event:a", rate=1.0, burst=5, now=1003.0)  # refilled with time, whoever asks
    both = [("event:a", 1.0, 5), ("address:a", 1.0, 1)]  # a socket event's two buckets, in one round trip
    assert await second.take_each(both, now=1003.0) == [True, True]
    assert await first.take_each(both, now=1003.0) == [True, False]


async def test_open_connections_count_across_workers_until_a_worker_falls_silent(two_workers):
    first, second = two_workers
    assert await first.acquire("open:10.0.0.1", 3)
    assert await first.acquire("open:10.0.0.1", 3)
    assert await second.acquire("open:10.0.0.1", 3)
    assert not await second.acquire("open:10.0.0.1", 3)
    await second.release("open:10.0.0.1")
    assert await second.acquire("open:10.0.0.1", 3)
    await first.redis.delete(f"{first.prefix}:worker:{first.worker}")  # the first worker died: its heartbeat lapsed
    assert await second.acquire("open:10.0.0.1", 3)
    assert await second.acquire("open:10.0.0.1", 3)
    assert not await second.acquire("open:10.0.0.1", 3)


async def test_sign_in_failures_count_across_workers_and_clear(two_workers):
    first, second = two_workers
    await first.failures("login-address:10.0.0.2", 50.0, add=True)
    assert await second.failures("login-address:10.0.0.2", 60.5, add=True) == (2, 60.5)
    assert await first.failures("login-address:10.0.0.2", 61.0) == (2, 60.5)
    assert await first.failures("login-address:10.0.0.2", 60.5 + 3601) == (0, 60.5)  # forgotten after an hour
    await second.failures("login-address:10.0.0.2", 62.0, clear=True)
    assert await first.failures("login-address:10.0.0.2", 63.0) == (0, 0.0)


async def test_without_redis_a_worker_counts_alone_and_says_so():
    redis = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=1, socket_timeout=1)  # nobody there
    store = RedisStore(redis, "nowhere")
    limits = Limits(
        event_rate=0.001, event_burst=2, address_rate=100, address_burst=100, connections_per_address=1,
        connect_rate=1, connect_burst=1, residents={kind: (1, 1) for kind in RESIDENT_KINDS}, store=store,
    )  # fmt: skip
    await store.start()
    assert store.degraded

    def asked(*args, **kwargs):
        raise AssertionError("Redis was asked again at once: every event would wait for it")

    store._take = store._acquire = store._failures = asked
    assert [await limits.event("s", "10.0.0.3") for _ in range(3)] == [True, True, False]
    assert await limits.connect("10.0.0.3") and not await limits.connect("10.0.0.3")
    await limits.disconnect("10.0.0.3")
    assert await limits.connect("10.0.0.3")
    # A resident's support or rating cannot be taken back: without Redis it is refused, not counted alone.
    assert [await limits.resident(kind, "10.0.0.3") for kind in sorted(RESIDENT_KINDS)] == [False] * len(RESIDENT_KINDS)
    await store.stop()
    await redis.aclose()


async def test_the_channel_nudges_the_other_workers_and_sends_sessions_away():
    async with redis_space() as (redis, prefix):
        databases = [SimpleNamespace(committed=asyncio.Event(), on_commit=[]) for _ in range(2)]
        sent_away = [[], []]
        crossings = [Crossing(redis, prefix), Crossing(redis, prefix)]
        for crossing, db, away in zip(crossings, databases, sent_away, strict=True):
            await crossing.start(db, lambda kind, session_id, away=away: _append(away, (kind, session_id)))

        for listener in databases[0].on_commit:  # the first worker committed
            listener()
        await asyncio.wait_for(databases[1].committed.wait(), 5)
        await crossings[0].send_away("device", 7)
        await crossings[1].send_away("organiser", 8)
        async with asyncio.timeout(5):
            while sent_away != [[("organiser", 8)], [("device", 7)]]:
                await asyncio.sleep(0.01)
        assert not databases[0].committed.is_set()  # a worker is not nudged by its own commits
        for crossing in crossings:
            await crossing.stop()


async def _append(into: list, item) -> None:
    into.append(item)


async def test_a_worker_whose_redis_is_away_serves_its_screens_and_says_so(tmp_path):
    async with open_hall(sqlite(tmp_path), redis_url="redis://127.0.0.1:1/0") as hall:
        async with httpx.AsyncClient(timeout=5) as client:
            health = (await client.get(f"{hall.url}/healthz")).json()
        assert health["ok"] and health["redis"] == "degraded"
        tablet = await hall.screen("library")
        opened = await tablet.call(
            "negotiation.open", {"offering_id": hall.ground.books, "terms": {"quantity": 2, "unit_price_fen": 3_000}}
        )
        assert opened["ok"], opened
        await tablet.disconnect()


async def test_a_worker_whose_redis_comes_back_shares_again_without_a_restart(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    redis = RedisProcess(free_port(), tmp_path)
    await redis.start()
    try:
        async with open_hall(sqlite(tmp_path), redis_url=f"redis://127.0.0.1:{redis.port}/0") as hall:
            assert await _redis_health(hall.url) == "ok"
            await redis.stop()
            await _until_redis(hall.url, "degraded")
            tablet = await hall.screen("library")  # served meanwhile, its limits counted by this worker alone
            await redis.start()
            await _until_redis(hall.url, "ok")  # found again by the limits' heartbeat and the channel's listener
            assert (await tablet.call("recommendations"))["ok"]
            await tablet.disconnect()
    finally:
        await redis.stop()


class RedisProcess:
    """A Redis server of this test's own, to stop and start again."""

    def __init__(self, port: int, folder) -> None:
        self.port, self.folder, self.process = port, folder, None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", str(self.folder), stdout=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        probe = Redis(port=self.port, socket_connect_timeout=1)
        try:
            async with asyncio.timeout(10):
                while True:
                    try:
                        await probe.ping()
                        return
                    except (RedisError, OSError):
                        await asyncio.sleep(0.05)
        finally:
            await probe.aclose()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()


async def _redis_health(url: str) -> str:
    async with httpx.AsyncClient(timeout=5) as client:
        return (await client.get(f"{url}/healthz")).json()["redis"]


async def _until_redis(url: str, state: str, timeout: float = 30.0) -> None:
    """Wait until the worker's health says Redis is ``state``: the heartbeat finds it within 10 s."""
    async with asyncio.timeout(timeout):
        while await _redis_health(url) != state:
            await asyncio.sleep(0.2)
