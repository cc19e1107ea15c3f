#!/usr/bin/env python3
"""What several workers cost and buy, on this machine: the figures of docs/deploy.md.

    python scripts/bench_workers.py [--orders 40] [--calls 3000]

Needs the local PostgreSQL (127.0.0.1:5432, database ``test``) and Redis
(127.0.0.1:6379), as the two-worker tests do, whose helpers it reuses; it
makes a database and a key prefix of its own and removes them.

- **board latency**: two real ``run.py`` workers; a tablet and a booth on
  worker 1 confirm ``--orders`` orders one after the other; from the booth's
  acknowledgement to the ``live`` message that shows the order on a board of
  worker 1 and on a board of worker 2, with the workers' Redis channel
  (FAIR_REDIS_URL) and without it (worker 2 then finds the commit by its
  1 s poll);
- **limits**: one ``Limits.event`` (two token buckets, what every socket
  event costs first) in this process's memory and in Redis;
- **nudges**: one message from a sender to a listener through Redis pub/sub
  and through PostgreSQL's NOTIFY/LISTEN, one at a time, latency and what
  sending costs the sender.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import asyncpg  # noqa: E402
from redis.asyncio import Redis  # noqa: E402

from fair import migrate  # noqa: E402
from fair.db import Database  # noqa: E402
from fair.limits import RESIDENT_KINDS, Limits, MemoryStore  # noqa: E402
from fair.shared_limits import RedisStore  # noqa: E402
from tests.conftest import ORGANISER_PASSWORD, POSTGRES_URL, postgres_database  # noqa: E402
from tests.fairground import Fairground  # noqa: E402
from tests.screens import Screen  # noqa: E402
from tests.test_scaleout import REDIS_URL, SECRET, Workers, redis_space, worker  # noqa: E402


class TimedScreen(Screen):
    """A board that notes when each live message arrives."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.arrived: list[tuple[float, dict]] = []

    async def _on_live(self, message: dict) -> None:
        self.arrived.append((time.perf_counter(), message))
        await super()._on_live(message)


async def board_latency(orders: int, nudged: bool) -> dict[str, list[float]]:
    async with postgres_database() as url, redis_space() as (redis, prefix):
        db = Database(url)
        await migrate.upgrade(db)
        ground = Fairground(db)
        await ground.build()
        credentials = {}
        for who in ("bookseller", "library"):
            issued = await ground.do(
                ground.organiser,
                "access.issue",
                {"kind": "supplier" if who == "bookseller" else "team", "party_id": getattr(ground, who).party_id},
            )
            credentials[who] = issued["credential"]["id"]
        environment = {
            **os.environ,
            "FAIR_DATABASE_URL": url,
            "FAIR_SECRET_KEY": SECRET,
            "FAIR_ORGANISER_PASSWORD": ORGANISER_PASSWORD,
            "FAIR_REDIS_URL": REDIS_URL if nudged else "",
            "FAIR_REDIS_PREFIX": prefix,
        }
        hall = Workers(db, ground, credentials, redis, prefix)
        async with worker(environment) as first, worker(environment) as second:
            hall.urls = [first, second]
            tablet = await hall.screen("library", on=0)
            booth = await hall.screen("bookseller", on=0)
            boards = {"same worker": TimedScreen(first), "other worker": TimedScreen(second)}
            for board in boards.values():
                await board.connect()
            await asyncio.sleep(1.5)  # the enrolments' events, found by polling, are out of the way
            latencies: dict[str, list[float]] = {name: [] for name in boards}
            for _ in range(orders):
                opened = await tablet.call(
                    "negotiation.open", {"offering_id": ground.books, "terms": {"quantity": 1, "unit_price_fen": 3000}}
                )
                negotiation = opened["data"]["negotiation"]
                accepted = await booth.call(
                    "negotiation.accept", {"negotiation_id": negotiation["id"], "version": negotiation["version"]}
                )
                acked = time.perf_counter()
                seq = accepted["data"]["order"]["order"]["id"]
                for name, board in boards.items():
                    async with asyncio.timeout(5):
                        while not _shows_order(board, seq):
                            await asyncio.sleep(0.001)
                    latencies[name].append(max(0.0, _arrival(board, seq) - acked))
            for screen in (tablet, booth, *boards.values()):
                await screen.disconnect()
        await db.dispose()
        return latencies


def _shows_order(board: TimedScreen, order_id: int) -> bool:
    return any(order_id in _orders(message) for _, message in board.arrived)


def _arrival(board: TimedScreen, order_id: int) -> float:
    return next(when for when, message in board.arrived if order_id in _orders(message))


def _orders(message: dict) -> set[int]:
    latest = message.get("tally", {}).get("latest", []) + message.get("tally_patch", {}).get("latest", [])
    return {row["id"] for row in latest}


async def limits_cost(calls: int) -> dict[str, tuple[float, float]]:
    costs = {}
    async with redis_space() as (redis, prefix):
        shared = RedisStore(redis, prefix)
        await shared.start()
        for name, store in (("memory", MemoryStore()), ("redis", shared)):
            limits = Limits(
                event_rate=1e6, event_burst=10**9, address_rate=1e6, address_burst=10**9, connections_per_address=1,
                connect_rate=1, connect_burst=1, residents={kind: (1, 1) for kind in RESIDENT_KINDS},
                store=store, clock=time.time,
            )  # fmt: skip
            started, cpu = time.perf_counter(), time.process_time()
            for i in range(calls):
                await limits.event(f"sender{i % 50}", "10.0.0.1")
            costs[name] = (
                (time.perf_counter() - started) / calls * 1e6,
                (time.process_time() - cpu) / calls * 1e6,
            )
        await shared.stop()
    return costs


async def nudge_latency(messages: int) -> dict[str, tuple[list[float], float]]:
    """Per transport: the one-way latencies (µs) and the sender's cost per message (µs)."""
    results = {}
    async with redis_space() as (redis, prefix):
        listener = Redis.from_url(REDIS_URL)
        async with listener.pubsub() as pubsub:
            await pubsub.subscribe(f"{prefix}:bench")
            await pubsub.get_message(timeout=1)  # the subscription's confirmation
            latencies, sending = [], 0.0
            for _ in range(messages):
                started = time.perf_counter()
                await redis.publish(f"{prefix}:bench", "x")
                sent = time.perf_counter()
                while (await pubsub.get_message(timeout=1)) is None:
                    pass
                latencies.append((time.perf_counter() - started) * 1e6)
                sending += sent - started
            results["redis pub/sub"] = (latencies, sending / messages * 1e6)
        await listener.aclose()
    dsn = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
    sender, receiver = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    arrived = asyncio.Queue()
    await receiver.add_listener("fair_bench", lambda *_: arrived.put_nowait(time.perf_counter()))
    latencies, sending = [], 0.0
    for _ in range(messages):
        started = time.perf_counter()
        await sender.execute("SELECT pg_notify('fair_bench', 'x')")
        sent = time.perf_counter()
        received = await asyncio.wait_for(arrived.get(), 5)
        latencies.append((received - started) * 1e6)
        sending += sent - started
    results["postgres notify"] = (latencies, sending / messages * 1e6)
    await sender.close()
    await receiver.close()
    return results


def summary(values: list[float], unit: str = "ms", scale: float = 1000.0) -> str:
    ordered = sorted(v * scale for v in values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"p50 {statistics.median(ordered):7.1f} {unit}   p95 {p95:7.1f} {unit}   max {ordered[-1]:7.1f} {unit}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=40)
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()
    print(f"# bench_workers, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs")
    for nudged in (True, False):
        latencies = await board_latency(args.orders, nudged)
        channel = "with the Redis channel" if nudged else "without Redis (poll)"
        for name, values in latencies.items():
            print(f"board latency, {channel:24} board on the {name:12}: {summary(values)}")
    for name, (wall, cpu) in (await limits_cost(args.calls)).items():
        print(f"Limits.event in {name:6}: {wall:6.1f} µs a socket event, of which {cpu:6.1f} µs CPU of this process")
    for name, (latencies, sending) in (await nudge_latency(args.calls // 3)).items():
        print(f"nudge through {name:16}: {summary(latencies, 'µs', 1.0)}   sender {sending:5.1f} µs a message")


if __name__ == "__main__":
    asyncio.run(main())
