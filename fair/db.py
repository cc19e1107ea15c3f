"""The database: one way to write, one way to read.

``transact(work)`` runs ``work(session)`` as one write transaction: it commits
if ``work`` returns and rolls back if it raises.  The fair's rules are plain
synchronous functions over a SQLModel ``Session``, so a whole command costs one
hand-off between the event loop and the database, not one per statement:

- on SQLite, a single writer thread owns the only write connection (SQLite
  has one writer anyway) and starts every transaction with ``BEGIN
  IMMEDIATE``, so what a command reads is what it writes against.  Going
  statement by statement through aiosqlite costs four thread hand-offs per
  statement, about 0.45 ms each time on this machine kind, against 0.1 ms for
  the statement itself (``docs/performance.md``);
- on PostgreSQL, async SQLAlchemy over asyncpg runs the same function with
  ``AsyncSession.run_sync``, at READ COMMITTED; the core guards every check
  with a conditional update and takes row locks in a fixed order.

``read()`` is an async snapshot for everything else (screens, the tally,
resync): aiosqlite on SQLite, asyncpg on PostgreSQL.  A deferred SQLite
transaction or REPEATABLE READ makes a tally and the sequence number it
reflects belong together.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session
from sqlmodel.ext.asyncio.session import AsyncSession

SQLITE_BUSY_TIMEOUT_MS = 5000
SETUP_LOCK = 0x6661_6972  # "fair": the advisory lock of the workers' start (Database.exclusively)
T = TypeVar("T")


class Database:
    def __init__(self, url: str, *, echo: bool = False, connect_args: dict | None = None) -> None:
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite and self.url.database and self.url.database != ":memory:":
            _private_database(Path(self.url.database))
        self.engine: AsyncEngine = create_async_engine(self.url, echo=echo, connect_args=connect_args or {})
        self.committed = asyncio.Event()  # set after every write commit; the live publisher waits on it
        self.on_commit: list[Callable[[], None]] = []  # called after every write commit (fair.live.crossing)
        self._writer: SQLiteWriter | None = None
        if self.is_sqlite:
            _sqlite_pragmas(self.engine.sync_engine, begin="DEFERRED")
            self._writer = SQLiteWriter(self.url, echo=echo)

    async def transact(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one write transaction, committed when it returns."""
        if self._writer is not None:
            result = await self._writer.run(work)
        else:
            async with self.engine.connect() as connection:
                session = AsyncSession(bind=connection, expire_on_commit=False, autoflush=False)
                async with session, session.begin():
                    result = await session.run_sync(work)
        self.committed.set()
        for listener in self.on_commit:
            listener()
        return result

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only snapshot; whatever it reads belongs to one committed state."""
        async with self.engine.connect() as connection:
            if not self.is_sqlite:
                await connection.execution_options(isolation_level="REPEATABLE READ")
            session = AsyncSession(bind=connection, expire_on_commit=False, autoflush=False)
            async with session, session.begin():
                yield session

    @asynccontextmanager
    async def exclusively(self) -> AsyncIterator[None]:
        """One process at a time in the block, of all that share the database: several workers starting at
        once migrate, load the demo and create the first organiser one after the other, not all together.

        On PostgreSQL a session-level advisory lock; SQLite serves one worker, which needs no lock.
        """
        if self.is_sqlite:
            yield
            return
        async with self.engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.exec_driver_sql(f"SELECT pg_advisory_lock({SETUP_LOCK})")
            try:
                yield
            finally:
                await connection.exec_driver_sql(f"SELECT pg_advisory_unlock({SETUP_LOCK})")

    async def ping(self) -> None:
        """Raise unless the database answers with the fair's own tables."""
        async with self.engine.connect() as connection:
            await connection.exec_driver_sql("SELECT count(*) FROM fair")

    async def dispose(self) -> None:
        if self._writer is not None:
            await self._writer.close()
        await self.engine.dispose()


class SQLiteWriter:
    """The one thread that writes to a SQLite database, one whole transaction per hand-off."""

    def __init__(self, url: URL, *, echo: bool) -> None:
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fair-sqlite-writer")
        # One connection, made and used only by the writer thread.
        self._engine: Engine = create_engine(url.set(drivername="sqlite"), echo=echo, poolclass=StaticPool)
        _sqlite_pragmas(self._engine, begin="IMMEDIATE")

    async def run(self, work: Callable[[Session], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._transaction, work)

    def _transaction(self, work: Callable[[Session], T]) -> T:
        with Session(self._engine, expire_on_commit=False, autoflush=False) as session, session.begin():
            return work(session)

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self._engine.dispose)
        self._thread.shutdown()


def _private_database(path: Path) -> None:
    """The database file (and SQLite's journal files) readable by this user only; a new folder private too."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            file.chmod(0o600)


def _sqlite_pragmas(engine: Engine, *, begin: str) -> None:
    """Let SQLAlchemy, not the sqlite3 module, say BEGIN, so that we choose its kind.

    This is SQLAlchemy's documented recipe for SQLite transactions (the driver's
    own implicit BEGIN comes late and breaks SAVEPOINT).  WAL lets readers go on
    while the writer writes; FULL makes a commit durable before an order is
    announced; the busy timeout covers writers in other processes.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        connection.exec_driver_sql(f"BEGIN {begin}")
