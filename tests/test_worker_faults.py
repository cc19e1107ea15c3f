"""Faults with several workers: one killed while its screens are busy, and Redis gone and back.

A worker killed with SIGKILL takes its sockets with it: its screens come back
on the other worker (as a load balancer sends them) with their last sequence
number and converge, a request that was in flight has one effect when it is
sent again, and the screens of the surviving worker never notice.  With Redis
gone each worker serves its own screens, says it is degraded and finds the
others' commits by its poll; when Redis is back they share again, without a
restart.  Every wait is for a condition, bounded in time.
"""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
from pathlib import Path

import httpx
import pytest
import socketio

from fair.core import Actor
from tests.screens import Screen, converged
from tests.test_scaleout import RUNNING, Workers, two_workers
from tests.test_shared_limits import RedisProcess, _until_redis, free_port

pytestmark = pytest.mark.postgres


async def moved(screen: Screen, url: str) -> Screen:
    """The screen connects again, to ``url``, keeping its view and its last sequence number."""
    screen.url, screen.client = url, socketio.AsyncClient(reconnection=False)
    screen.client.on("live", screen._on_live)
    return await screen.connect()


def books(g, quantity: int) -> dict:
    return {"offering_id": g.books, "terms": {"quantity": quantity, "unit_price_fen": 3_000}}


async def test_a_killed_workers_screens_move_to_the_other_and_converge_and_its_screens_never_notice():
    async with two_workers() as workers:
        await _kill_one(workers)


async def _kill_one(workers: Workers) -> None:
    g, public = workers.ground, Actor.public(workers.ground.fair_id)
    survivor, doomed = workers.urls
    staying = await workers.screen(None, on=0)
    dropped = []
    staying.client.on("disconnect", lambda *_: dropped.append(True))
    moving = await workers.screen(None, on=1)
    tablet = await workers.screen("library", on=1)
    booth = await workers.screen("bookseller", on=1)
    opened = await tablet.call("negotiation.open", books(g, 10))
    assert opened["ok"], opened
    negotiation = opened["data"]["negotiation"]
    accept = {"negotiation_id": negotiation["id"], "version": negotiation["version"]}

    # The booth accepts, and the worker is killed before the answer is read: the order may or may not be in.
    envelope = {"request_id": "accept-in-flight", "payload": accept}
    in_flight = asyncio.create_task(booth.client.call("negotiation.accept", envelope, timeout=10))
    await asyncio.sleep(0)
    os.kill(RUNNING[doomed].pid, signal.SIGKILL)
    await RUNNING[doomed].wait()
    await asyncio.gather(in_flight, return_exceptions=True)  # lost with the worker, or answered just before

    for screen in (moving, tablet, booth):
        await moved(screen, survivor)
    again = await booth.call("negotiation.accept", accept, request_id="accept-in-flight")
    assert again["ok"], again  # the first answer if it committed, else the accept made now: one order either way
    state = await g.state()
    assert len(state["purchase_order"]) == 1

    second = await tablet.call("negotiation.open", books(g, 20))
    assert second["ok"], second
    ref = {"negotiation_id": second["data"]["negotiation"]["id"], "version": second["data"]["negotiation"]["version"]}
    assert (await booth.call("negotiation.accept", ref))["ok"]
    for board in (moving, staying):
        await converged(workers.app, board, public, timeout=10)
        assert len(board.applied) == len(set(board.applied))
    assert moving.view["tally"]["headline"]["book_volumes"] == 30
    assert staying.client.connected and dropped == []  # the surviving worker's screen never noticed
    for screen in (staying, moving, tablet, booth):
        await screen.disconnect()


async def test_with_redis_gone_each_worker_serves_its_screens_says_degraded_and_shares_again_when_it_is_back():
    redis = RedisProcess(free_port(), Path(tempfile.mkdtemp(prefix="fair-redis-")))
    await redis.start()
    try:
        own = f"redis://127.0.0.1:{redis.port}/0"
        async with two_workers(FAIR_REDIS_URL=own) as hall:
            g, public = hall.ground, Actor.public(hall.ground.fair_id)
            board = await hall.screen(None, on=1)
            tablet = await hall.screen("library", on=0)
            booth = await hall.screen("bookseller", on=0)
            await redis.stop()
            for url in hall.urls:
                await _until_redis(url, "degraded")

            # Each worker goes on serving; the order made on one reaches the board on the other by its poll.
            opened = await tablet.call("negotiation.open", books(g, 10))
            assert opened["ok"], opened
            ref = {"negotiation_id": opened["data"]["negotiation"]["id"], "version": 1}
            assert (await booth.call("negotiation.accept", ref))["ok"]
            await converged(hall.app, board, public, timeout=15)

            await redis.start()
            for url in hall.urls:
                await _until_redis(url, "ok")
            # Shared again: an address's failed sign-ins count across both workers, with no restart.
            wrong = {"username": "organiser", "password": "not the password at all"}
            async with httpx.AsyncClient(timeout=10) as client:
                answers = [
                    (await client.post(f"{hall.urls[n % 2]}/api/login", json=wrong)).status_code for n in range(5)
                ]
                assert answers == [403] * 5
                for url in hall.urls:
                    assert (await client.post(f"{url}/api/login", json=wrong)).status_code == 429
            for screen in (board, tablet, booth):
                await screen.disconnect()
    finally:
        await redis.stop()
