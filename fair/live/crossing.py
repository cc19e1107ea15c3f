"""What crosses between workers, over one Redis pub/sub channel: nudges and sign-outs, never the news itself.

Every worker's publisher reads the event log for itself and sends its own
screens what it reads (``fair.live.publisher``): the database is the only
truth, each broadcast goes out once per screen, from the worker that screen
is connected to.  Two things still have to cross:

- **"A commit was made."**  A worker that commits tells the others, which
  run a publishing cycle now instead of at their next poll (up to
  ``POLL_SECONDS`` later).  A nudge carries nothing but its sender: a lost or
  late one costs latency, never an event.  Commits in a burst make one nudge.
- **"This session ended."**  A sign-out from the screen itself (``/logout``)
  is no event of the log, and the console's sign-outs are events for the
  history only (the organiser's room, no screen's view changes), so the
  screens of an ended session are sent away by a message to every worker.
  (A revoked card is an event every worker acts on: it reads it in the log.)

python-socketio's ``AsyncRedisManager`` would also carry every room's
broadcast through Redis, which the log already brings to each worker: the
fair needs only these two messages (docs/deploy.md has the figures).

When Redis does not answer, each worker still serves its own screens and
finds the others' commits by polling; the listener retries every second and,
once back, runs a cycle to catch up.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from contextlib import suppress

from redis.asyncio import Redis
from redis.exceptions import RedisError

from fair.db import Database

log = logging.getLogger(__name__)
RETRY_SECONDS = 1.0
LISTEN_SECONDS = 1.0  # at most between two reads of the channel (a read that finds nothing is no error)


class Crossing:
    def __init__(self, redis: Redis, prefix: str) -> None:
        self.redis, self.channel = redis, f"{prefix}:live"
        self.worker = uuid.uuid4().hex[:16]
        self.degraded = False
        self._committed = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    async def start(self, db: Database, send_away: Callable[[str, int], Awaitable[None]]) -> None:
        """Listen for the other workers (and wait until subscribed); nudge them after each of ``db``'s commits."""
        self.db, self._send_away = db, send_away
        subscribed = asyncio.Event()
        db.on_commit.append(self._committed.set)
        self._tasks = [
            asyncio.create_task(self._listen(subscribed), name="fair-crossing-listen"),
            asyncio.create_task(self._nudge(), name="fair-crossing-nudge"),
        ]
        with suppress(TimeoutError):  # Redis away at the start: serve anyway, the listener keeps trying
            await asyncio.wait_for(subscribed.wait(), 5)

    async def stop(self) -> None:
        self.db.on_commit.remove(self._committed.set)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with suppress(asyncio.CancelledError):
                await task

    async def send_away(self, kind: str, session_id: int) -> None:
        """Ask the other workers to disconnect the screens of a session that just ended."""
        await self._publish({"away": [kind, session_id]})

    async def _publish(self, message: dict) -> None:
        try:
            await self.redis.publish(self.channel, json.dumps({"from": self.worker, **message}))
        except (RedisError, OSError) as error:  # (the listener says whether Redis is away: it reads all the time)
            if not self.degraded:
                log.warning("could not tell the other workers %s: %s", message, error)

    async def _nudge(self) -> None:
        while True:
            await self._committed.wait()
            self._committed.clear()  # commits made while publishing make one more nudge, not one each
            await self._publish({"commit": True})

    async def _listen(self, subscribed: asyncio.Event) -> None:
        while True:
            try:
                async with self.redis.pubsub(ignore_subscribe_messages=True) as pubsub:
                    await pubsub.subscribe(self.channel)
                    subscribed.set()
                    if self.degraded:
                        log.warning("Redis answers again: the workers nudge each other again")
                        self.degraded = False
                        self.db.committed.set()  # what the others committed meanwhile, now
                    while True:  # (listen() would wait on the socket past the client's timeout, and fail)
                        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=LISTEN_SECONDS)
                        if message is not None:
                            await self._received(message["data"])
            except (RedisError, OSError) as error:
                self._lost(error)
                await asyncio.sleep(RETRY_SECONDS)

    async def _received(self, data: bytes) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            return
        if not isinstance(message, dict) or message.get("from") == self.worker:
            return
        if message.get("commit"):
            self.db.committed.set()
        away = message.get("away")
        if isinstance(away, list) and len(away) == 2 and isinstance(away[1], int):
            await self._send_away(str(away[0]), away[1])

    def _lost(self, error: Exception) -> None:
        if not self.degraded:
            log.warning("Redis does not answer (%s): other workers' commits are found by polling meanwhile", error)
        self.degraded = True
