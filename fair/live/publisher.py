"""The publisher: reads the event log after each commit and sends it to the rooms.

One cycle reads every event committed since the last cycle, routes each one
(``fair.core.visibility``) and sends each room one ``live`` message holding
its events in sequence order, ``upto`` (the last sequence number the cycle
covered) and, when an order was confirmed, the tally.  Cycles run right
after a commit when the hall is quiet, and at most once per interval when it
is busy: a busy fair sends one message per screen per interval instead of one
per order, each room's message encoded once for all its screens (``fanout``).

The tally is read once, at start, and then carried forward over the events
published (``fair.core.tally.carry``, microseconds an order), so a cycle
costs the same at the first order of the day as at the ten-thousandth; an
event that changes the tally in a way ``carry`` does not know is recounted
from the cycle's own snapshot.  Screens are sent what changed since the last
tally they were told of (``tally_patch``, ``tally.changes``: a few hundred
bytes an order instead of the whole tally's 6 KB), or the whole tally when a
void took an order off the ticker.  The database stays the truth: a screen that
syncs reads it, and each of several workers runs a publisher of its own over
the same log, for its own screens (docs/deploy.md): a commit on another
worker wakes this one through ``fair.live.crossing``, or else the poll finds
it.  Every board still converges on the exact tally, which carries the
sequence number it reflects.

Because cycles run one at a time and each room gets at most one message per
cycle, every screen receives its events in sequence order.  A screen that
(re)joins does so under the same lock (``joining``), so no cycle slips
between the state it is given and the room it joins.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

import socketio
from sqlmodel import select

from fair.core import tally
from fair.core.visibility import HALL, ORGANISER, PUBLIC, RESIDENTS, route
from fair.db import Database, Unavailable
from fair.live import fanout
from fair.models import Event, Fair

log = logging.getLogger(__name__)
BATCH = 2000  # events read per cycle at most; a longer backlog takes several cycles
SHARDS = 8  # a broadcast goes out shard by shard, so that commands are answered in between
BROADCAST_ROOMS = frozenset({PUBLIC, HALL, RESIDENTS})


def shard(room: str, number: int) -> str:
    """One of the parts a broadcast room is sent in; every screen of the room is in exactly one."""
    return f"{room}#{number % SHARDS}"


BUSY_SHARE = 1 / 3  # of the time, at most, that publishing takes in a busy hall
SMOOTHING = 0.8  # of the cycles' mean time, carried from one cycle to the next (the new cycle weighs the rest)
POLL_SECONDS = 1.0  # also look for commits made by other processes (the command line; other workers, unnudged)
TALLY_EVENTS = frozenset(tally.TALLY_EVENTS)


class Publisher:
    def __init__(
        self,
        db: Database,
        sio: socketio.AsyncServer,
        fair_id: int,
        interval: float,
        on_event: Callable[[Event], Awaitable[None]],
    ) -> None:
        self.db, self.sio, self.fair_id, self.interval = db, sio, fair_id, interval
        self.on_event = on_event
        self.published = 0
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self._stopping = False

    async def start(self) -> None:
        async with self.db.read() as session:  # one snapshot: the tally belongs to the sequence number
            self.published = (await session.exec(select(Fair.last_seq).where(Fair.id == self.fair_id))).one()
            self.tally = await tally.snapshot(session, self.fair_id)
        self.sent = copy.deepcopy(self.tally)  # the tally the screens were last told of: patches start from it
        self._task = asyncio.create_task(self._run(), name="fair-publisher")

    async def stop(self) -> None:
        """Finish the cycle in progress, then stop: cancelling it mid-read would strand a connection."""
        self._stopping = True
        self.db.committed.set()
        if self._task:
            await self._task

    @asynccontextmanager
    async def joining(self):
        """Hold off cycles while a screen reads its state and joins its rooms."""
        async with self._lock:
            yield

    async def _run(self) -> None:
        last = spent = 0.0
        while not self._stopping:
            with suppress(TimeoutError):
                await asyncio.wait_for(self.db.committed.wait(), POLL_SECONDS)
            if self._stopping:
                return
            # A cycle to thousands of screens takes a while (about 20 µs a screen): cycles then come further
            # apart, so that they take at most BUSY_SHARE of the time and commands keep the rest.  On average:
            # one cycle slowed by something else (a garbage collection, a burst of commands between its parts)
            # must not hold the next back three times as long, which every board would see (scripts/bench:
            # one 167-ms cycle in 30 s put the next 500 ms later, and the last board's p99 at 307 ms).
            wait = last + max(self.interval, spent / BUSY_SHARE) - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self.db.committed.clear()
            last = time.monotonic()
            try:
                await self.cycle()
            except Unavailable as error:  # a stalled database: the next cycle, after it, catches up
                log.warning("publishing waits for the database (%s)", error)
                self.db.committed.set()
            except Exception:  # a failed cycle must not stop the hall; the next one retries from `published`
                log.exception("publishing failed; retrying in the next cycle")
            spent = SMOOTHING * spent + (1 - SMOOTHING) * (time.monotonic() - last)

    async def cycle(self) -> None:
        async with self._lock:
            async with self.db.read() as session:
                events = (
                    await session.exec(
                        select(Event)
                        .where(Event.fair_id == self.fair_id, Event.seq > self.published)
                        .order_by(Event.seq)
                        .limit(BATCH)
                    )
                ).all()
                if not events:
                    return
                fresh_tally = None
                if any(event.type in TALLY_EVENTS for event in events):
                    fresh_tally = await self._carry(session, events)
            await self._send(events, fresh_tally)
            self.published = events[-1].seq
            if fresh_tally is not None:
                self.tally, self.sent = fresh_tally, copy.deepcopy(fresh_tally)
        for event in events:
            await self.on_event(event)

    async def _carry(self, session, events: list[Event]) -> dict[str, Any]:
        """The tally carried over this cycle's events; recounted only for a change it cannot carry.

        What it costs does not grow with the day (a recount read every order); ``session`` is the
        cycle's snapshot, in which the recount would belong to the same events.
        """
        carried = self.tally
        for event in events:
            if event.type not in TALLY_EVENTS or event.seq <= carried["seq"]:
                continue  # already counted: by a cycle that failed after carrying, or a recount past a batch
            if not tally.carry(carried, event.seq, event.type, event.payload):
                return await tally.snapshot(session, self.fair_id)
        return carried

    async def _send(self, events: list[Event], fresh_tally: dict | None) -> None:
        upto = events[-1].seq
        routes = [(event, route(event.type, event.payload)) for event in events]
        manager = self.sio.manager
        members = {}  # room -> {sid: eio_sid}, through python-socketio's public get_participants, once a room

        def occupied(room: str) -> dict[str, str]:
            if room not in members:
                members[room] = dict(manager.get_participants("/", room))
            return members[room]

        counted: dict[str, Any] = {}  # the tally's part of every message: what changed, or the whole
        if fresh_tally is not None:
            patch = tally.changes(self.sent, fresh_tally)
            counted = {"tally": fresh_tally} if patch is None else {"tally_patch": patch}

        def message(room: str) -> dict[str, Any] | None:
            shown = []
            for event, r in routes:
                payload = r.for_room(room)
                if payload is not None:
                    shown.append({"seq": event.seq, "type": event.type, "data": payload})
            if not shown and not counted:
                return None
            return {"upto": upto, "events": shown} | counted

        parties = {room for _, r in routes for room in r.parties if occupied(room)}
        for room in (ORGANISER, *sorted(parties)):
            if occupied(room) and (body := message(room)) is not None:
                await fanout.emit(self.sio, "live", body, room)
        personal = {sid for room in parties for sid in occupied(room)}
        for room in (PUBLIC, RESIDENTS, HALL):
            if occupied(room) and (body := message(room)) is not None:
                # Sending to hundreds of screens takes tens of milliseconds; in parts, with
                # the commands that arrived meanwhile served between them.
                for number in range(SHARDS):
                    part = shard(room, number)
                    if occupied(part):
                        await fanout.emit(self.sio, "live", body, part, personal)
                        await asyncio.sleep(0)
