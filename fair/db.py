"""The engine, and the two kinds of transaction the core uses.

``write()`` is for check-then-write work.  On SQLite it takes the write lock
before the first read (``BEGIN IMMEDIATE``), after queueing on an in-process
lock so that concurrent writers wait on a cheap asyncio lock instead of
SQLite's sleeping busy handler.  On PostgreSQL it runs at READ COMMITTED and
the core guards every check with a conditional update or a row lock.

``read()`` is a consistent snapshot: a deferred SQLite transaction, or
REPEATABLE READ on PostgreSQL, so that a tally and the sequence number it
reflects always belong together.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

SQLITE_BUSY_TIMEOUT_MS = 5000


class Database:
    def __init__(self, url: str, *, echo: bool = False, connect_args: dict | None = None) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite and self.url.database and self.url.database != ":memory:":
            Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
        self.engine: AsyncEngine = create_async_engine(self.url, echo=echo, connect_args=connect_args or {})
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        self.committed = asyncio.Event()  # set after every write commit; the live publisher waits on it
        if self.is_sqlite:
            _take_over_sqlite_transactions(self.engine)

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """A transaction that commits on success and rolls back on any exception."""
        if self._write_lock is None:
            async with self._session({}) as session:
                yield session
        else:
            async with self._write_lock, self._session({"sqlite_begin": "IMMEDIATE"}) as session:
                yield session
        self.committed.set()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only snapshot; whatever it reads belongs to one committed state."""
        options = {} if self.is_sqlite else {"isolation_level": "REPEATABLE READ"}
        async with self._session(options) as session:
            yield session

    @asynccontextmanager
    async def _session(self, options: dict) -> AsyncIterator[AsyncSession]:
        async with self.engine.connect() as connection:
            if options:
                await connection.execution_options(**options)
            session = AsyncSession(bind=connection, expire_on_commit=False, autoflush=False)
            async with session, session.begin():
                yield session

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.exec_driver_sql("SELECT 1")

    async def dispose(self) -> None:
        await self.engine.dispose()


def _take_over_sqlite_transactions(engine: AsyncEngine) -> None:
    """Let SQLAlchemy, not the sqlite3 module, say BEGIN, so that we choose its kind.

    This is SQLAlchemy's documented recipe for SQLite transactions (the driver's
    own implicit BEGIN is deferred and breaks SAVEPOINT); it also sets WAL and
    a busy timeout for writers in other processes, such as the command line.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit is on disk before the order is announced, even across a power cut.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection) -> None:
        kind = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {kind}")
