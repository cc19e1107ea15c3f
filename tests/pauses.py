"""Interleavings on demand: hold one transaction at a chosen statement while others commit.

On PostgreSQL every statement of a command's transaction, whether it goes
through SQLAlchemy's cursor or straight through ``fair.direct``, is prepared
by SQLAlchemy's asyncpg adapter (``_prepare``, a coroutine run for the
transaction's greenlet in the event loop), or, run for several rows, sent by
asyncpg's ``executemany``.  A hook there can await: the
transaction stops just before the statement, holding what it has locked,
while the test runs other commands to their commit.  (A cursor-level listener
would make ``fair.direct`` step aside, and the races would test a write path
the fair does not run.)  A pause is
aimed at one party of the race by a label that the racing task carries in a
context variable (contexts flow into the greenlet), so that the same
statement run by the other party goes through.

SQLite writes one transaction at a time on a thread of its own, where nothing
can pause; there every race degenerates into the commands running one after
the other, which is one of the orders PostgreSQL may also take: the same
assertions hold.
"""

from __future__ import annotations

import asyncio
import contextvars
import re
from collections.abc import Awaitable
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

from fair.db import Database

T = TypeVar("T")
racer: contextvars.ContextVar[str | None] = contextvars.ContextVar("racer", default=None)
SAFETY_SECONDS = 20  # a guard against a hung test, not a measure: every wait below is for a condition


_racing: set[asyncio.Task] = set()


def race(label: str, work: Awaitable[T]) -> asyncio.Task[T]:
    """Run ``work`` as a task labelled ``label``, for a ``Pause`` to aim at."""

    async def labelled() -> T:
        racer.set(label)
        return await work

    task = asyncio.create_task(labelled(), name=label)
    _racing.add(task)
    task.add_done_callback(_racing.discard)
    return task


async def stop_races() -> None:
    """Cancel what a failed test left racing, so that its transactions end and its schema can be dropped."""
    for task in list(_racing):
        task.cancel()
    await asyncio.gather(*_racing, return_exceptions=True)


class Pause:
    """Hold the transaction of the racer ``label`` just before its first statement matching ``pattern``."""

    def __init__(self, db: Database, label: str, pattern: str) -> None:
        self.db, self.label, self.pattern = db, label, re.compile(pattern, re.IGNORECASE)
        self.reached = asyncio.Event()
        self._release = asyncio.Event()
        self._fired = False

    def __enter__(self) -> Pause:
        _pauses.append(self)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._release.set()
        _pauses.remove(self)

    def release(self) -> None:
        self._release.set()

    async def hold(self, statement: str) -> None:
        if self._fired or racer.get() != self.label or not self.pattern.search(statement):
            return
        self._fired = True
        self.reached.set()
        await self._release.wait()


_pauses: list[Pause] = []  # the pauses set now; labels tell whose statement each is for
_prepare = AsyncAdapt_asyncpg_connection._prepare
_executemany = asyncpg.Connection.executemany


async def _held(statement: str) -> None:
    for pause in list(_pauses):
        await pause.hold(statement)


async def _prepare_after_pauses(self, operation: str, invalidate_timestamp: float):
    await _held(operation)
    return await _prepare(self, operation, invalidate_timestamp)


async def _executemany_after_pauses(self, command: str, args, *, timeout: float | None = None):
    await _held(command)  # a statement run for several rows is not prepared through the adapter
    return await _executemany(self, command, args, timeout=timeout)


AsyncAdapt_asyncpg_connection._prepare = _prepare_after_pauses
asyncpg.Connection.executemany = _executemany_after_pauses


async def paused_or_done(pause: Pause, task: asyncio.Task) -> bool:
    """Wait until ``task`` is held by ``pause`` (True) or, on SQLite, has finished (False).

    On PostgreSQL a task that finishes without reaching its pause fails the
    test: the race it was written for did not happen.
    """
    reached = asyncio.ensure_future(pause.reached.wait())
    try:
        await asyncio.wait({reached, task}, timeout=SAFETY_SECONDS, return_when=asyncio.FIRST_COMPLETED)
    finally:
        reached.cancel()
    if not (pause.reached.is_set() or task.done()):
        raise AssertionError(f"{task.get_name()} neither reached its pause nor finished")
    if not pause.reached.is_set() and not pause.db.is_sqlite:
        raise AssertionError(f"{task.get_name()} finished without reaching {pause.pattern.pattern}: no race")
    return pause.reached.is_set()


async def blocked_or_done(db: Database, task: asyncio.Task) -> None:
    """Wait until ``task`` waits for a row lock held by another transaction, or has finished."""
    application = getattr(db, "application_name", None)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SAFETY_SECONDS
    admin = await asyncpg.connect(db.url.set(drivername="postgresql").render_as_string(False)) if application else None
    try:
        while not task.done():
            if admin is not None:
                waiting = await admin.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'",
                    application,
                )
                if waiting:
                    return
            if loop.time() > deadline:
                raise AssertionError(f"{task.get_name()} neither waited for a lock nor finished")
            await asyncio.sleep(0.01)
    finally:
        if admin is not None:
            await admin.close()


async def hold_then_race(db: Database, label: str, pattern: str, first: Awaitable[T], second: Awaitable[Any]):
    """Run ``first`` until it is held before ``pattern``, then ``second`` until it waits for a lock; release.

    On SQLite ``first`` runs to its end and ``second`` after it.  Both results (or refusals), in that order.
    """
    try:
        with Pause(db, label, pattern) as held:
            holding = race(label, first)
            if await paused_or_done(held, holding):
                rival = race("rival", second)
                await blocked_or_done(db, rival)
                held.release()
            else:
                rival = race("rival", second)
            return await holding, await rival
    finally:
        await stop_races()
