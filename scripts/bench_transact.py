"""CPU of one PostgreSQL write transaction's wrapping: SQLAlchemy's private ``greenlet_spawn`` (what
``fair.db.Database.transact`` used until issue 23) against the public ``AsyncConnection.run_sync`` (what it uses).

    python scripts/bench_transact.py [POSTGRES_URL]

Each transaction runs ``SELECT 1``; five rounds of 2,000 each, alternating, CPU per transaction in µs.
"""

import asyncio
import statistics
import sys
import time

from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.util import greenlet_spawn  # the private path measured, for comparison only

URL = sys.argv[1] if len(sys.argv) > 1 else "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
ROUNDS, EACH = 5, 2000


def work(connection: Connection) -> int:
    return connection.exec_driver_sql("SELECT 1").scalar()


def in_transaction(connection: Connection) -> int:
    with connection.begin():
        return work(connection)


async def main() -> None:
    engine = create_async_engine(URL)

    def whole() -> int:
        with engine.sync_engine.begin() as connection:
            return work(connection)

    async def private() -> None:
        await greenlet_spawn(whole)

    async def public() -> None:
        async with engine.connect() as connection:
            await connection.run_sync(in_transaction)

    ways = {"greenlet_spawn (private)": private, "run_sync (public)": public}
    for way in ways.values():
        for _ in range(200):
            await way()
    spent: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(ROUNDS):
        for name, way in ways.items():
            cpu = time.process_time()
            for _ in range(EACH):
                await way()
            spent[name].append((time.process_time() - cpu) / EACH * 1e6)
    for name, values in spent.items():
        low, high = min(values), max(values)
        print(f"{name:26} {statistics.median(values):6.0f} µs CPU per transaction  [{low:.0f}–{high:.0f}]")
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
