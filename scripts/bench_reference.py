"""The naive reference for scripts/bench: every order checked, inserted, committed and broadcast.

A python-socketio server as one would write it first: for each ``order`` it
reads a counter with SQLModel on aiosqlite, checks it, inserts a row, commits,
and broadcasts the new tally to every connected screen.  The app is measured
against it in the same run, on the same machine, served the same way.

    python scripts/bench_reference.py PORT DATABASE_FILE
"""

import asyncio
import sys

import socketio
import uvicorn
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

LIMIT = 10**9  # the counter's capacity: checked on every order


class Counter(SQLModel, table=True):
    id: int = Field(primary_key=True)
    orders: int = 0
    amount_fen: int = 0


class Sale(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    amount_fen: int


engine = create_async_engine(f"sqlite+aiosqlite:///{sys.argv[2]}")
sio = socketio.AsyncServer(async_mode="asgi")
write_lock = asyncio.Lock()


@sio.on("order")
async def order(sid, data):
    # One writer at a time: without it, concurrent read-then-write transactions deadlock on SQLite.
    async with write_lock, AsyncSession(engine, expire_on_commit=False) as session:
        counter = (await session.exec(select(Counter).where(Counter.id == 1))).one()
        if counter.orders >= LIMIT:
            return {"ok": False, "error": {"code": "capacity_exhausted"}}
        session.add(Sale(amount_fen=data["amount_fen"]))
        counter.orders += 1
        counter.amount_fen += data["amount_fen"]
        session.add(counter)
        await session.commit()
        tally = {"orders": counter.orders, "amount_fen": counter.amount_fen}
    await sio.emit("tally", tally)
    return {"ok": True, "data": {"order": counter.orders}}


async def lifespan(scope, receive, send):
    message = await receive()
    async with engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)
    async with AsyncSession(engine) as session:
        session.add(Counter(id=1))
        await session.commit()
    await send({"type": "lifespan.startup.complete"})
    message = await receive()
    await engine.dispose()
    await send({"type": "lifespan.shutdown.complete"})
    return message


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        return await lifespan(scope, receive, send)
    return await sockets(scope, receive, send)


sockets = socketio.ASGIApp(sio)

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), ws="websockets-sansio", log_level="warning")
