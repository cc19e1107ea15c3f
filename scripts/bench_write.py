"""The write path and the publisher, measured in process for scripts/bench, each against its floor.

- ``write_path``: CPU per order (a tablet's proposal and a booth's
  acceptance: two commands, two transactions) through the core, against the
  floor: the very statements the core ran for an order (captured from
  SQLAlchemy), replayed with the stdlib ``sqlite3`` module, each command in
  its own ``BEGIN IMMEDIATE … COMMIT`` at ``synchronous=FULL``, with fresh ids,
  sequence numbers and request ids for each order.  The floor checks that
  every conditional update matched and that each replayed order was written.
- ``write_path_postgres``: the same on a throw-away database of the local
  PostgreSQL: the core through async SQLAlchemy and asyncpg, against the
  statements SQLAlchemy gave asyncpg, replayed on one asyncpg connection, a
  READ COMMITTED transaction a command; with the CPU of the server's backends
  for each (``python scripts/bench_write.py write-postgres``).
- ``publisher_cost``: the publisher's cycle (read the new events, carry the
  tally) after one order, in a fair of 100 orders and of 10,000, against
  ``tally.snapshot``, the recount each cycle used to make.
"""

from __future__ import annotations

import asyncio
import os
import re
import sqlite3
import statistics
import sys
import time
import uuid
from contextlib import asynccontextmanager
from enum import Enum
from pathlib import Path

from sqlalchemy import event, make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fair import migrate  # noqa: E402
from fair.core import execute, tally  # noqa: E402
from fair.db import Database  # noqa: E402
from fair.live.publisher import Publisher  # noqa: E402
from tests.fairground import Fairground  # noqa: E402

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d[ T]")
POSTGRES_ADMIN = os.environ.get("FAIR_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
TICKS = os.sysconf("SC_CLK_TCK")


class NoPostgres(RuntimeError):
    """No PostgreSQL answers at the admin URL: its figures are skipped, not the bench."""


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


@asynccontextmanager
async def throwaway_postgres(admin_url: str = POSTGRES_ADMIN):
    """A database of the session's own in the local PostgreSQL (as tests/conftest.py's), dropped afterwards."""
    import asyncpg

    admin_url = make_url(admin_url)
    dsn = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        admin = await asyncpg.connect(dsn, timeout=3)
    except (OSError, asyncpg.PostgresError) as error:
        raise NoPostgres(f"no PostgreSQL answers at {admin_url}: {error}") from error
    name = f"bench_{uuid.uuid4().hex[:12]}"
    await admin.execute(f"CREATE DATABASE {name}")
    try:
        yield admin, name, admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


class Bench:
    def __init__(self, db: Database) -> None:
        self.db, self.numbers = db, iter(range(10**9))

    async def build(self) -> None:
        await migrate.upgrade(self.db)
        g = self.g = Fairground(self.db)
        await g.build()
        await g.do(g.organiser, "team.set_budget", {"team_id": g.centre.party_id, "budget_fen": 10**11})
        await g.do(g.bookseller, "offering.update", {"offering_id": g.books, "capacity": 10**6})

    async def order(self) -> None:
        g, number = self.g, next(self.numbers)
        terms = {"quantity": 1, "unit_price_fen": 3_000}
        opened = await execute(
            self.db, g.centre, "negotiation.open", {"offering_id": g.books, "terms": terms}, f"o{number}"
        )
        ref = {"negotiation_id": opened.data["negotiation"]["id"], "version": 1}
        await execute(self.db, g.bookseller, "negotiation.accept", ref, f"a{number}")

    async def capture(self) -> list[list[tuple[str, object, bool]]]:
        """The statements of two consecutive orders, transaction by transaction, as the driver got them.

        A transaction ends at SQLAlchemy's ``commit`` event: asyncpg says BEGIN and COMMIT itself, with no
        statement SQLAlchemy sees; on SQLite the writer's ``BEGIN IMMEDIATE`` opens each transaction."""
        captured: list[list] = [[]]

        def on_execute(conn, cursor, statement, parameters, context, executemany):
            captured[-1].append((statement, parameters, executemany))

        def on_commit(conn):
            captured.append([])

        engine = self.db._writer._engine if self.db.is_sqlite else self.db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", on_execute)
        event.listen(engine, "commit", on_commit)
        try:
            await self.order()
            await self.order()
        finally:
            event.remove(engine, "before_cursor_execute", on_execute)
            event.remove(engine, "commit", on_commit)
        return captured[:-1]


def _plain(value):
    return value.value if isinstance(value, Enum) else value


def _vary(a, b, step: int):
    """The value of a parameter that went from ``a`` to ``b`` between two orders, ``step`` orders after ``b``."""
    a, b = _plain(a), _plain(b)
    if a == b or b is None:
        return b
    if isinstance(b, int) and isinstance(a, int):
        return b + (b - a) * step  # ids and sequence numbers, as the database will hand them out
    if isinstance(b, str) and len(b) <= 64 and not TIMESTAMP.match(b) and b[:1] not in "{[":
        return f"{b}~{step}"  # request ids (unique) and their fingerprints
    return b  # payloads and times: as the core wrote them


def _params(a, b, step: int):
    if isinstance(b, (list, tuple)) and b and isinstance(b[0], (list, tuple)):
        return [_params(x, y, step) for x, y in zip(a, b, strict=True)]
    return tuple(_vary(x, y, step) for x, y in zip(a, b, strict=True))


def _plan(captured: list[list]) -> list[list]:
    """Each statement of an order with its parameters in the first and in the second captured order."""
    first, second = captured[: len(captured) // 2], captured[len(captured) // 2 :]
    return [
        [(sql, pa, pb, many) for (sql, pa, many), (_, pb, _) in zip(ta, tb, strict=True)]
        for ta, tb in zip(first, second, strict=True)
    ]


def _check(sql: str, rows: list) -> None:
    """A conditional update that matched nothing means the replay is not doing the order's work."""
    if sql.startswith("UPDATE") and "RETURNING" in sql and not rows:
        raise AssertionError(f"the replayed update matched nothing: {sql[:80]}")


class Replay:
    """The captured statements of one order, through stdlib sqlite3."""

    def __init__(self, path: str, captured: list[list], synchronous: str = "FULL") -> None:
        self.plan = _plan(captured)
        self.statements = sum(len(t) - 1 for t in self.plan)  # BEGIN is not a statement of the order
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in ("journal_mode=WAL", f"synchronous={synchronous}", "busy_timeout=5000", "foreign_keys=ON"):
            self.connection.execute(f"PRAGMA {pragma}")
        self.step = 0

    def order(self) -> None:
        self.step += 1
        cursor = self.connection.cursor()
        for transaction in self.plan:
            for sql, a, b, many in transaction:
                params = _params(a, b, self.step)
                if many:
                    cursor.executemany(sql, params)
                    continue
                cursor.execute(sql, params)
                _check(sql, cursor.fetchall())
            cursor.execute("COMMIT")

    def orders(self) -> int:
        return self.connection.execute("SELECT count(*) FROM purchase_order").fetchone()[0]

    def close(self) -> None:
        self.connection.close()


async def write_path(folder: Path, orders: int = 600) -> dict:
    path = folder / "write.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    bench = Bench(db)
    await bench.build()
    for _ in range(20):  # warm the statement caches
        await bench.order()
    cpu = time.process_time()
    for _ in range(orders):
        await bench.order()
    app = (time.process_time() - cpu) / orders
    captured = await bench.capture()  # last, so that the ids the replay extrapolates are still free
    await db.dispose()
    replay = Replay(str(path), captured)
    before = replay.orders()
    for _ in range(20):
        replay.order()
    cpu = time.process_time()
    for _ in range(orders):
        replay.order()
    floor = (time.process_time() - cpu) / orders
    written = replay.orders() - before
    replay.close()
    if written != orders + 20:
        raise AssertionError(f"the floor wrote {written} orders, not {orders + 20}")
    return {"app_ms": app * 1000, "floor_ms": floor * 1000, "statements": replay.statements}


class AsyncpgReplay:
    """The captured statements of one order, straight through asyncpg: one connection, a transaction a command.

    The statements are SQLAlchemy's asyncpg SQL (``$n`` placeholders, with its casts) and the parameters
    what SQLAlchemy handed the driver (JSON as text, times as datetimes); ``fetch`` and ``executemany`` use
    asyncpg's own cache of prepared statements, as SQLAlchemy uses its own.  The transactions begin as
    SQLAlchemy's do, at the server's default isolation (READ COMMITTED, which the core is written for)."""

    def __init__(self, connection, captured: list[list]) -> None:
        self.connection, self.plan, self.step = connection, _plan(captured), 0
        self.statements = sum(len(t) for t in self.plan)

    async def order(self) -> None:
        self.step += 1
        for transaction in self.plan:
            async with self.connection.transaction():  # a plain BEGIN, as SQLAlchemy's: READ COMMITTED
                for sql, a, b, many in transaction:
                    params = _params(a, b, self.step)
                    if many:
                        await self.connection.executemany(sql, params)
                    else:
                        _check(sql, await self.connection.fetch(sql, *params))

    async def orders(self) -> int:
        return await self.connection.fetchval("SELECT count(*) FROM purchase_order")


async def backends(admin, database: str) -> dict[int, float]:
    """The CPU seconds of each PostgreSQL backend serving ``database`` (a local server: its /proc)."""
    rows = await admin.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", database)
    return {row["pid"]: cpu_seconds(row["pid"]) for row in rows}


async def _timed(work, orders: int, admin, database: str) -> tuple[float, float]:
    """CPU seconds per order of this process and of the database's backends, over ``orders`` runs of ``work``."""
    before = await backends(admin, database)
    cpu = time.process_time()
    for _ in range(orders):
        await work()
    spent = time.process_time() - cpu
    after = await backends(admin, database)
    server = sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
    return spent / orders, server / orders


async def write_path_postgres(admin_url: str = POSTGRES_ADMIN, orders: int = 600) -> dict:
    """``write_path`` on a throw-away database of the local PostgreSQL, its floor through asyncpg.

    asyncpg runs in this process, so process CPU is the client's whole cost; the backends' CPU is the
    server's side of the same orders."""
    import asyncpg

    async with throwaway_postgres(admin_url) as (admin, name, url):
        db = Database(url)
        bench = Bench(db)
        await bench.build()
        for _ in range(20):  # warm the statement caches
            await bench.order()
        app, app_server = await _timed(bench.order, orders, admin, name)
        captured = await bench.capture()  # last, so that the ids the replay extrapolates are the next ones
        await db.dispose()
        connection = await asyncpg.connect(make_url(url).set(drivername="postgresql").render_as_string(False))
        try:
            replay = AsyncpgReplay(connection, captured)
            before = await replay.orders()
            for _ in range(20):
                await replay.order()
            floor, floor_server = await _timed(replay.order, orders, admin, name)
            written = await replay.orders() - before
        finally:
            await connection.close()
    if written != orders + 20:
        raise AssertionError(f"the floor wrote {written} orders, not {orders + 20}")
    return {
        "app_ms": app * 1000,
        "floor_ms": floor * 1000,
        "statements": replay.statements,
        "app_server_ms": app_server * 1000,
        "floor_server_ms": floor_server * 1000,
    }


class _Silent:
    """A Socket.IO server with no screens connected: no room has participants."""

    class manager:
        @staticmethod
        def get_participants(namespace: str, room: str):
            return iter(())


async def _nothing(event) -> None:
    return None


async def publisher_cost(folder: Path, sizes=(100, 10_000), cycles: int = 15) -> dict:
    """Mean CPU of a publisher cycle after one order, and of one tally.snapshot, at each size of the day."""
    path = folder / "publisher.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    bench = Bench(db)
    await bench.build()
    await bench.order()
    results = {}
    for size in sizes:
        async with db.read() as session:
            have = (await tally.snapshot(session, bench.g.fair_id))["total"]["orders"]
        filler = Replay(str(path), await bench.capture(), synchronous="OFF")
        for _ in range(max(0, size - have - 2)):
            filler.order()
        filler.close()
        publisher = Publisher(db, _Silent(), bench.g.fair_id, interval=0, on_event=_nothing)
        await publisher.start()
        await publisher.stop()  # no cycles of its own: only those measured here
        spent, recounts = [], []
        for _ in range(cycles):
            await bench.order()
            cpu = time.process_time()
            await publisher.cycle()
            spent.append(time.process_time() - cpu)
            cpu = time.process_time()
            async with db.read() as session:
                fresh = await tally.snapshot(session, bench.g.fair_id)
            recounts.append(time.process_time() - cpu)
        if publisher.tally != fresh:
            raise AssertionError("the publisher's carried tally differs from a fresh snapshot")
        results[size] = {
            "orders": fresh["total"]["orders"],
            "cycle_ms": statistics.mean(spent) * 1000,
            "snapshot_ms": statistics.mean(recounts) * 1000,
        }
    await db.dispose()
    return results


if __name__ == "__main__":
    import json
    import tempfile

    async def main(part: str) -> None:
        if part == "write-postgres":
            try:
                result = await write_path_postgres()
            except NoPostgres as error:
                result = {"skipped": str(error)}
        else:
            with tempfile.TemporaryDirectory() as folder:
                result = await (write_path if part == "write" else publisher_cost)(Path(folder))
        print(json.dumps(result))

    asyncio.run(main(sys.argv[1]))
