"""What the fair does by the clock, not by anyone's command.

One job today: a team called at a booth's queue that has not come within the
fair's grace time is skipped and the next team called (``fair.core.queues``).
It runs as the system, through the same write path, every ``EVERY_SECONDS``;
a run that finds nothing late writes nothing.  Idempotent, so several
workers may each run it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from contextlib import suppress

from fair.core.commands import follow_up
from fair.core.queues import skip_late
from fair.db import Database, Unavailable

log = logging.getLogger(__name__)
EVERY_SECONDS = 10.0


class Timers:
    def __init__(self, db: Database, fair_id: int, every: float = EVERY_SECONDS) -> None:
        self.db, self.fair_id, self.every = db, fair_id, every
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="fair-timers")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    async def tick(self, now: dt.datetime | None = None) -> None:
        """Do what is due by ``now`` (the present by default)."""
        await follow_up(self.db, self.fair_id, functools.partial(skip_late, now=now))

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            try:
                await self.tick()
            except Unavailable as error:  # a stalled database, said in one line as the commands say it
                log.warning("skipping late teams: the database is unavailable (%s); again in %s s", error, self.every)
            except Exception:  # a failed run must not stop the next; the log has it
                log.exception("skipping late teams failed; trying again in %s s", self.every)
