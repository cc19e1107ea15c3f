"""The database: one way to write, one way to read.

``transact(work)`` runs ``work(connection)`` as one write transaction: it
commits if ``work`` returns and rolls back if it raises.  The fair's rules are
plain synchronous functions over a SQLAlchemy Core ``Connection`` (no ORM
session: its unit of work is not part of the write path, and its bookkeeping
cost a tenth of an order's CPU), so a whole command costs one hand-off between
the event loop and the database, not one per statement:

- on SQLite, a single writer thread owns the only write connection (SQLite
  has one writer anyway) and starts every transaction with ``BEGIN
  IMMEDIATE``, so what a command reads is what it writes against.  Going
  statement by statement through aiosqlite costs four thread hand-offs per
  statement, about 0.45 ms each time on this machine kind, against 0.1 ms for
  the statement itself (``docs/performance.md``);
- on PostgreSQL, the same function runs on the async engine's pool through
  asyncpg, at READ COMMITTED, through SQLAlchemy's public
  ``AsyncConnection.run_sync``, begin to commit inside it: three greenlets a
  transaction (checkout, the work, the return to the pool) where
  SQLAlchemy's private ``greenlet_spawn`` did it in one; measured, the
  difference is within the run-to-run noise of an order (docs/performance.md,
  "Public APIs and the fence"); the core guards every check with a conditional
  update and takes row locks in a fixed order.

``read()`` is an async snapshot for everything else (screens, the tally,
resync): aiosqlite on SQLite, asyncpg on PostgreSQL.  A deferred SQLite
transaction or REPEATABLE READ makes a tally and the sequence number it
reflects belong together.

Neither ever waits for the database without bound (``timeout``, the setting
``FAIR_DATABASE_TIMEOUT_MS``): a lock held by another session, a slow disk or
a server that went away end in ``Unavailable`` after about that long (twice
that at worst on PostgreSQL: a wait for a row lock, then a slow statement;
on SQLite, those queued behind a slow write as soon as it ends), which the
adapters answer with the code ``unavailable``.  A connection from the pool is
waited for up to SQLAlchemy's 30 s: a full pool means a burst, not a stall.  Nothing
here retries: only the command runner knows when running again is safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy import exc as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool
from sqlmodel.ext.asyncio.session import AsyncSession

from fair import direct

DEFAULT_TIMEOUT = 4.0  # seconds; FAIR_DATABASE_TIMEOUT_MS
SETUP_LOCK = 0x6661_6972  # "fair": the advisory lock of the workers' start (Database.exclusively)
T = TypeVar("T")


class Unavailable(Exception):  # noqa: N818 (a state of the database, not a bug of ours)
    """The database did not answer in time, or the connection to it was lost; the work may not have run.

    ``lost_connection``: the connection broke (a restarted server, a killed
    session), so the pool has been emptied and a new attempt gets a fresh one.
    """

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause).splitlines()[0] if str(cause) else type(cause).__name__)
        self.lost_connection = isinstance(cause, sa.DBAPIError) and cause.connection_invalidated


# PostgreSQL's answers that mean "not now" rather than "wrong": a lock or statement timeout, the server
# shutting down or ending this session, too many connections; and any connection failure (class 08).
NOT_NOW = frozenset({"55P03", "57014", "57P01", "57P02", "57P03", "53300"})
SQLITE_NOT_NOW = ("SQLITE_BUSY", "SQLITE_LOCKED")  # and their extended codes (SQLITE_BUSY_SNAPSHOT, …)


def unavailable(error: BaseException) -> bool:
    """Whether ``error`` says the database is out of reach or stalled, as opposed to a bug or a refusal."""
    if isinstance(error, (Unavailable, Stalled, sa.TimeoutError, OSError, TimeoutError)):
        return True  # (a pool with no connection free in time; a server that does not accept connections)
    if not isinstance(error, sa.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    state = getattr(error.orig, "sqlstate", None) or ""
    name = getattr(error.orig, "sqlite_errorname", None) or ""
    return state in NOT_NOW or state.startswith("08") or name.startswith(SQLITE_NOT_NOW)


class Database:
    def __init__(
        self, url: str, *, echo: bool = False, connect_args: dict | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        self.url = make_url(url)
        self.timeout = timeout
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite and self.url.database and self.url.database != ":memory:":
            _private_database(Path(self.url.database))
        connect_args = dict(connect_args or {})
        if not self.is_sqlite:  # bounded waits on the server (ms), and for a connection to it (s)
            waits = {"lock_timeout": str(int(timeout * 1000)), "statement_timeout": str(int(timeout * 1000))}
            connect_args["server_settings"] = waits | connect_args.get("server_settings", {})
            connect_args.setdefault("timeout", timeout)
        # The wait for a pooled connection keeps SQLAlchemy's 30 s: in a burst (240 confirmations at once) the
        # pool is busy, not stalled, and a stalled database frees its connections within the timeout above.
        self.engine: AsyncEngine = create_async_engine(self.url, echo=echo, connect_args=connect_args)
        self.committed = asyncio.Event()  # set after every write commit; the live publisher waits on it
        self.on_commit: list[Callable[[], None]] = []  # called after every write commit (fair.live.crossing)
        self._writer: SQLiteWriter | None = None
        if self.is_sqlite:
            _sqlite_pragmas(self.engine.sync_engine, begin="DEFERRED", busy_ms=int(timeout * 1000))
            self._writer = SQLiteWriter(self.url, echo=echo, timeout=timeout)

    async def transact(self, work: Callable[[Connection], T]) -> T:
        """Run ``work`` in one write transaction, committed when it returns; ``Unavailable`` if it cannot."""
        try:
            if self._writer is not None:
                result = await self._writer.run(work)
            else:
                async with self.engine.connect() as connection:
                    result = await connection.run_sync(_in_transaction, work)
        except Exception as error:
            if unavailable(error):
                raise Unavailable(error) from error
            raise
        self.committed.set()
        for listener in self.on_commit:
            listener()
        return result

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only snapshot; whatever it reads belongs to one committed state; ``Unavailable`` if it cannot."""
        try:
            async with self.engine.connect() as connection:
                if not self.is_sqlite:
                    await connection.execution_options(isolation_level="REPEATABLE READ")
                session = AsyncSession(bind=connection, expire_on_commit=False, autoflush=False)
                async with session, session.begin():
                    yield session
        except Exception as error:
            if unavailable(error):
                raise Unavailable(error) from error
            raise

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
            # Waiting for another worker's start (a migration, the demo) is no stall: no lock or statement
            # timeout for this wait; RESET gives the session back the connection's own timeouts.
            await connection.exec_driver_sql("SET lock_timeout = 0")
            await connection.exec_driver_sql("SET statement_timeout = 0")
            await connection.exec_driver_sql(f"SELECT pg_advisory_lock({SETUP_LOCK})")
            try:
                yield
            finally:
                await connection.exec_driver_sql(f"SELECT pg_advisory_unlock({SETUP_LOCK})")
                await connection.exec_driver_sql("RESET lock_timeout")
                await connection.exec_driver_sql("RESET statement_timeout")

    async def ping(self) -> None:
        """Raise unless the database answers with the fair's own tables."""
        async with self.engine.connect() as connection:
            await connection.exec_driver_sql("SELECT count(*) FROM fair")

    async def dispose(self) -> None:
        if self._writer is not None:
            await self._writer.close()
        await self.engine.dispose()


def _in_transaction(connection: Connection, work: Callable[[Connection], T]) -> T:
    with connection.begin():
        return work(connection)


class Stalled(Exception):  # noqa: N818
    """A transaction that queued behind a stalled one for the writer thread: it was not run."""


class SQLiteWriter:
    """The one thread that writes to a SQLite database, one whole transaction per hand-off.

    When the file is locked by another process or the disk is slow, transactions
    queue behind the one that waits.  Once a transaction has taken ``timeout``
    or more (or met the lock), those that queued longer than ``timeout`` behind
    it are given up unrun, so that a stall is answered, not queued without end.
    A burst of quick transactions is never refused, however long its queue.
    """

    def __init__(self, url: URL, *, echo: bool, timeout: float) -> None:
        self.timeout = timeout
        self._stalling = False  # the last transaction run took the timeout or more, or met a lock
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fair-sqlite-writer")
        # One connection, made and used only by the writer thread, and kept open between transactions:
        # checking it out of a pool and back cost a fifth of an order's CPU (py-spy, scripts/bench_write.py).
        self._engine: Engine = create_engine(url.set(drivername="sqlite"), echo=echo, poolclass=StaticPool)
        self._connection: Connection | None = None
        _sqlite_pragmas(self._engine, begin="IMMEDIATE", busy_ms=int(timeout * 1000), on_driver=True)

    async def run(self, work: Callable[[Connection], T]) -> T:
        queued = time.monotonic()
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._transaction, work, queued)

    def _transaction(self, work: Callable[[Connection], T], queued: float) -> T:
        began = time.monotonic()
        if self._stalling and began - queued > self.timeout:
            raise Stalled(f"queued over {self.timeout:g} s behind a stalled SQLite write")
        try:
            if self._connection is None:
                self._connection = self._engine.connect()
            with self._connection.begin():
                result = work(self._connection)
        except Exception as error:
            if isinstance(error, sa.DBAPIError):  # the driver failed: the next transaction gets a fresh connection
                self._disconnect()
            self._stalling = unavailable(error) or time.monotonic() - began >= self.timeout
            raise
        self._stalling = time.monotonic() - began >= self.timeout
        return result

    def _disconnect(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(sa.DBAPIError):
                self._connection.close()
            self._connection = None

    def _close(self) -> None:
        self._disconnect()
        self._engine.dispose()

    async def close(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._thread, self._close)
        self._thread.shutdown()


def _private_database(path: Path) -> None:
    """The database file (and SQLite's journal files) readable by this user only; a new folder private too."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            file.chmod(0o600)


def _sqlite_pragmas(engine: Engine, *, begin: str, busy_ms: int, on_driver: bool = False) -> None:
    """Let SQLAlchemy, not the sqlite3 module, say BEGIN, so that we choose its kind.

    This is SQLAlchemy's documented recipe for SQLite transactions (the driver's
    own implicit BEGIN comes late and breaks SAVEPOINT).  WAL lets readers go on
    while the writer writes; FULL makes a commit durable before an order is
    announced; the busy timeout covers writers in other processes, and bounds
    how long a stall by one of them lasts before ``database is locked``.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        if on_driver:  # the writer's thread: straight on sqlite3 (fair.direct)
            direct.plain(connection, f"BEGIN {begin}")
        else:
            connection.exec_driver_sql(f"BEGIN {begin}")
