"""Faults survived (issue 14), the single-process server on SQLite and on PostgreSQL.

- **kill -9 under load**: the server killed while tablets and booths order,
  restarted on the same database, again; afterwards every order acked ok is
  in the database, each request id had one effect, and every screen shows the
  recounted tally (``tests/crashes.py``; ``scripts/soak`` does ten kills).
- **A stalled database** (a lock held by another session, a slow disk, the
  app's PostgreSQL sessions killed): every command and sync is answered, ok or
  ``unavailable``, never left hanging (the screens' own 10 s wait is the guard);
  and once the stall ends the same request ids go through, once each, and the
  live screens catch up by themselves.
- **A reconnect storm**: a few hundred screens in another process cut off
  and reconnecting at once, each with its last sequence number, while a
  tablet orders; every screen converges on the exact tally.

No assertion depends on timing: each wait is for a condition, bounded
generously; the times seen are printed (``pytest -s``).
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import statistics
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import httpx
import pytest
from playwright.async_api import expect
from sqlalchemy import event, text

from fair.db import Unavailable
from fair.settings import Settings, SettingsError
from fair.timers import Timers
from tests.browsers import Screens, connected, shoot
from tests.conftest import Hall, _plain_dsn, open_hall, postgres_database, sqlite
from tests.crashes import Pair, Server, Storm, books, build_fair, crash_rounds, within

STALL_TIMEOUT_MS = 1000  # the hall's FAIR_DATABASE_TIMEOUT_MS in these tests
SLOW_COMMIT_SECONDS = 2.5  # a "slow disk": longer than the timeout


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_kill_9_under_load_loses_no_acked_order_and_doubles_no_request(backend, tmp_path):
    async with database(backend, tmp_path) as url:
        seen = await crash_rounds(url, tmp_path, kills=2, pairs=5, boards=3)
    print(f"\n{backend}: {seen}")
    assert not seen.problems, seen.problems
    assert len(seen.rounds) == 2 and seen.orders > 0 and seen.orders == seen.acked


def test_the_database_timeout_is_a_setting():
    assert Settings.load({"FAIR_DATABASE_TIMEOUT_MS": "1500"}).database_timeout_ms == 1500
    with pytest.raises(SettingsError):
        Settings.load({"FAIR_DATABASE_TIMEOUT_MS": "0"})


# -- stalls ------------------------------------------------------------------------------------------------


@asynccontextmanager
async def database(backend: str, folder) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield sqlite(folder)
        return
    async with postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def stalling_hall(request, tmp_path) -> AsyncIterator[Hall]:
    """The hall, waiting at most STALL_TIMEOUT_MS for its database."""
    async with database(request.param, tmp_path) as url, open_hall(url, database_timeout_ms=STALL_TIMEOUT_MS) as hall:
        yield hall


@asynccontextmanager
async def held_lock(hall: Hall) -> AsyncIterator[None]:
    """Another session holds the lock every write needs: SQLite's write lock; on PostgreSQL the fair's table."""
    url = hall.settings.database_url
    if hall.app.state.db.is_sqlite:
        other = sqlite3.connect(url.removeprefix("sqlite+aiosqlite:///"), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            other.rollback()
            other.close()
        return
    other = await asyncpg.connect(_plain_dsn(url))
    transaction = other.transaction()
    await transaction.start()
    await other.execute("LOCK TABLE fair IN ACCESS EXCLUSIVE MODE")
    try:
        yield
    finally:
        await transaction.rollback()
        await other.close()


@asynccontextmanager
async def slow_disk(hall: Hall) -> AsyncIterator[None]:
    """Every commit (SQLite: in the writer thread) or every event written (PostgreSQL) takes seconds."""
    db = hall.app.state.db
    if db.is_sqlite:
        engine = db._writer._engine  # the one connection that writes

        def slow(_connection) -> None:
            time.sleep(SLOW_COMMIT_SECONDS)

        event.listen(engine, "commit", slow)
        try:
            yield
        finally:
            event.remove(engine, "commit", slow)
        return
    other = await asyncpg.connect(_plain_dsn(hall.settings.database_url))
    await other.execute(
        f"""CREATE FUNCTION slow_disk() RETURNS trigger LANGUAGE plpgsql AS
        $$ BEGIN PERFORM pg_sleep({SLOW_COMMIT_SECONDS}); RETURN NULL; END $$;
        CREATE TRIGGER slow_disk BEFORE INSERT ON event FOR EACH STATEMENT EXECUTE FUNCTION slow_disk()"""
    )
    try:
        yield
    finally:
        await other.execute("DROP TRIGGER slow_disk ON event; DROP FUNCTION slow_disk()")
        await other.close()


@asynccontextmanager
async def killed_sessions(hall: Hall) -> AsyncIterator[None]:
    """Every PostgreSQL session of the app ended by the server (a stand-in for a PostgreSQL restart)."""
    url = hall.settings.database_url
    other = await asyncpg.connect(_plain_dsn(url))
    try:
        killed = await other.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert killed > 0, "the app had no session to end"
        yield
    finally:
        await other.close()


STALLS = {"lock": held_lock, "slow disk": slow_disk}


@pytest.mark.parametrize("stall", list(STALLS))
async def test_a_stalled_database_is_answered_then_resumes_by_itself(stalling_hall: Hall, stall: str):
    seen = await answered_through(stalling_hall, STALLS[stall], stall, expect_unavailable=True)
    print(f"\n{stall} ({stalling_hall.app.state.db.url.get_backend_name()}): {seen}")


@pytest.mark.postgres
async def test_postgres_sessions_killed_are_replaced_by_themselves(tmp_path):
    async with postgres_database() as url, open_hall(url, database_timeout_ms=STALL_TIMEOUT_MS) as hall:
        for _ in range(3):  # bounded: the pool is emptied and refilled each time
            seen = await answered_through(hall, killed_sessions, "sessions killed", expect_unavailable=False)
            print(f"\nsessions killed: {seen}")


async def answered_through(hall: Hall, stall, what: str, *, expect_unavailable: bool) -> dict:
    """Commands and syncs during the stall: all answered, ok or ``unavailable``; after it: each request id
    sent again goes through once, and the board sees the order made after it."""
    team, booth, board = await hall.screen("centre"), await hall.screen("bookseller"), await hall.screen(None)
    tag = f"{what.replace(' ', '-')}-{time.monotonic_ns()}"
    ids = [f"{tag}-{number}" for number in range(4)]

    def publish(request_id: str):
        title = f"新书{request_id[-1]}"
        offering = {"category": "books", "title": title, "unit": "册", "unit_price_fen": 100, "capacity": 9}
        return booth.call("offering.publish", offering, request_id)

    async with _offerings(hall) as before:
        async with stall(hall):
            began = time.monotonic()
            # Screen.call waits 10 s for an answer, the screens' own patience: a hang fails here.
            answers = await asyncio.gather(*(publish(request_id) for request_id in ids))
            synced = await team.client.call("sync", {"since": team.cursor}, timeout=10)
            async with httpx.AsyncClient(timeout=10) as http:
                page = await http.get(f"{hall.url}/api/view")  # the public view reads the fair's row
            took = time.monotonic() - began
        ended = time.monotonic()
        served = "ok" if page.status_code == 200 else page.json()["error"]["code"] if page.status_code == 503 else page
        codes = [_code(answer) for answer in answers] + ["sync " + _code(synced), f"http {served}"]
        seen = {"answers": Counter(codes), "answered_s": round(took, 2)}
        assert set(codes) <= {*OK, *(f"{kind} {code}" for kind in ("sync", "http") for code in OK)}, codes
        if expect_unavailable:
            assert "unavailable" in codes, codes
        refused = [answer for answer in answers if not answer["ok"]]
        assert all(answer["error"]["message"] for answer in refused)
        # Over: the same request ids go through (or replay what went through), once each.  As a screen does,
        # each is sent again while it is answered unavailable: a commit that was slow when the stall ended
        # (a timer's, say) still holds the writer for a moment.
        again = await asyncio.gather(*(resent(publish, request_id) for request_id in ids))
        assert all(answer["ok"] for answer in again), again
        seen["resumed_s"] = round(time.monotonic() - ended, 2)  # the same request ids, through once the stall ended
        assert len({answer["data"]["offering"]["id"] for answer in again}) == len(ids)
        made = await before()
        assert made == len(ids), f"{made} offerings for {len(ids)} request ids"
    # The live screens were never told to resync: the board sees the next order by itself.
    offering = {"offering_id": again[0]["data"]["offering"]["id"], "terms": {"quantity": 1, "unit_price_fen": 100}}
    proposed = await team.call("negotiation.open", offering)
    assert proposed["ok"], proposed
    negotiation = {"negotiation_id": proposed["data"]["negotiation"]["id"], "version": 1}
    accepted = await booth.call("negotiation.accept", negotiation)
    assert accepted["ok"], accepted
    async with hall.app.state.db.read() as session:
        orders = (await session.exec(text("SELECT count(*) FROM purchase_order"))).one()[0]
    await within(lambda: board.view["tally"]["total"]["orders"] == orders, "the board showing the new order", 30)
    for screen in (team, booth, board):
        await screen.disconnect()
    return seen


@pytest.mark.browser
async def test_a_tablet_sends_a_command_answered_unavailable_again_until_it_goes_through(browser, tmp_path):
    """The buyer taps "accept" while the database is locked: the page keeps the action pending, sends it again
    with the same request id when it is answered ``unavailable``, and once the lock is gone the order is made,
    once, without the buyer doing anything."""
    async with open_hall(sqlite(tmp_path), database_timeout_ms=STALL_TIMEOUT_MS) as hall:
        g = hall.ground
        negotiation = await g.propose(g.library, g.books, quantity=10)
        terms = {"quantity": 10, "unit_price_fen": 2_800}
        await g.do(
            g.bookseller,
            "negotiation.counter",
            {"negotiation_id": negotiation["id"], "base_version": 1, "terms": terms},
        )
        screens = Screens(hall, browser)
        tablet = await screens.join("library")
        sent, answers = [], []

        def watch(socket) -> None:
            socket.on("framesent", lambda frame: sent.append(frame) if "negotiation.accept" in frame else None)
            socket.on("framereceived", lambda frame: answers.append(frame) if '"ok"' in frame else None)

        tablet.on("websocket", watch)
        await tablet.reload()  # its websocket, watched from the start
        await connected(tablet)
        await tablet.locator("[data-tab=negotiations]").click()
        async with held_lock(hall):
            await tablet.locator(".negotiation").get_by_role("button", name="接受并确认成交").click()
            await within(lambda: any('"unavailable"' in frame for frame in answers), "an unavailable answer", 30)
            await expect(tablet.locator("#pending")).to_contain_text("接受：送书下乡少儿读物")
            await shoot(tablet, "tablet-accept-pending-unavailable")
            assert (await g.state())["purchase_order"] == []
        await expect(tablet.locator("#pending")).to_be_hidden(timeout=30_000)
        await tablet.locator("[data-tab=orders]").click()
        await expect(tablet.locator("#orders tbody tr")).to_have_count(1)
        await expect(tablet.locator("#orders tbody tr")).to_contain_text("送书下乡少儿读物")
        assert len((await g.state())["purchase_order"]) == 1
        request_ids = {re.search(r'"request_id":"([^"]+)"', frame).group(1) for frame in sent}
        assert len(sent) >= 2 and len(request_ids) == 1, sent
        assert screens.errors == []


async def test_the_clock_meets_a_stalled_database_with_one_line_and_runs_again(caplog):
    """The queues' timer during a stall: a warning line, as the commands give, not a traceback; the next run
    comes as ever."""
    timers, runs = Timers(db=None, fair_id=1, every=0.001), []

    async def stalled(now=None) -> None:
        runs.append(now)
        raise Unavailable(sqlite3.OperationalError("database is locked"))

    timers.tick = stalled
    timers.start()
    await within(lambda: len(runs) >= 2, "the timer running again", 10)
    await timers.stop()
    lines = [record for record in caplog.records if record.name == "fair.timers"]
    assert lines, "the stall went unsaid"
    assert all(line.levelno == logging.WARNING and line.exc_info is None for line in lines)
    assert "database is locked" in lines[0].getMessage()


RESENDS, RESEND_PAUSE = 10, 0.5  # bounded; the screens wait 2 s between two sends


async def resent(send, request_id: str) -> dict:
    """``send(request_id)`` until it is answered otherwise than ``unavailable``, a bounded number of times."""
    for _ in range(RESENDS):
        answer = await send(request_id)
        if answer["ok"] or answer["error"]["code"] != "unavailable":
            return answer
        await asyncio.sleep(RESEND_PAUSE)
    return answer


OK = ("ok", "unavailable")


def _code(answer: dict) -> str:
    return "ok" if answer["ok"] else answer["error"]["code"]


@asynccontextmanager
async def _offerings(hall: Hall):
    """Yields a function: how many offerings were published since the block began."""

    async def count() -> int:
        async with hall.app.state.db.read() as session:
            return (await session.exec(text("SELECT count(*) FROM offering"))).one()[0]

    start = await count()

    async def made() -> int:
        return await count() - start

    yield made


# -- the reconnect storm -----------------------------------------------------------------------------------

STORM_BOARDS, STORM_TABLETS = 160, 40  # scripts/soak --storm 1000 for the full storm


async def test_a_reconnect_storm_stays_answered_and_converges(tmp_path):
    seen = await reconnect_storm(sqlite(tmp_path), tmp_path, boards=STORM_BOARDS, tablets=STORM_TABLETS)
    print(f"\nreconnect storm: {seen}")
    assert seen["rejoined"] == seen["screens"], seen
    assert seen["converged"] == seen["screens"], seen
    assert seen["refusals"] == {}, seen


async def reconnect_storm(url: str, folder, *, boards: int, tablets: int) -> dict:
    """Screens in a process of their own cut off and reconnecting at once while a tablet orders here."""
    plan = await build_fair(url, teams=max(4, -(-tablets // 19)), booths=4, spares=tablets)  # 20 devices a card
    server = Server(url, folder / "storm-server.log")
    await server.start()
    pair = Pair(server.url, plan.tablets[0], plan.booths[0], plan.offerings[0], "storm")
    try:
        await pair.join()
        async with Storm(server.url, [None] * boards + plan.spares, folder) as storm:
            for _ in range(10):  # the tally moves before the storm
                await pair.step()
            stop, latencies = asyncio.Event(), []
            ordering = asyncio.create_task(pair.run(stop, latencies))
            storm_answer = await storm.ask("cut")
            stop.set()
            await ordering
            await pair.settle()
            truth = await books(url)
            converged = await storm.ask(f"expect {len(truth.orders)} {sum(truth.orders.values())}")
    finally:
        await pair.close()
        server.stop()
    return {
        "screens": boards + len(plan.spares),
        "tablets": len(plan.spares),
        "rejoined": storm_answer["rejoined"],
        "rejoin_s": round(storm_answer["seconds"], 2),
        "acks_during_storm": len(latencies),
        "ack_p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "ack_p95_ms": round(statistics.quantiles(latencies, n=20)[-1] * 1000, 1) if len(latencies) > 1 else None,
        "ack_max_ms": round(max(latencies) * 1000, 1) if latencies else None,
        "converged": converged["converged"],
        "converge_s": converged["seconds"],
        "syncs": converged["syncs"],
        "refusals": {code: n for code, n in pair.answers.items() if code != "ok"},
        "failed": storm_answer["failed"],
    }
