"""The fair as a process to kill, screens that outlive it, and the checks that nothing was lost.

Shared by ``tests/test_faults.py`` (a few rounds, in CI) and ``scripts/soak``
(many rounds, printed).  The server is ``run.py`` in a process of its own,
killed with SIGKILL and started again on the same database and port.  The
screens speak Engine.IO 4 / Socket.IO 5 over a plain websocket (as
``scripts/bench_clients.py`` does), so that hundreds of them fit in one
process and a connection can be cut at once; they follow the protocol's
rules for a reconnect: ``sync`` from the last sequence number applied, then
every command still unanswered sent again with its own request id.

Every wait here is for a condition, bounded by a generous time; no figure
measured here is asserted on.

    python -m tests.crashes storm URL TOKENS.json   the storm's screens, driven by lines on stdin (``Storm``)
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import websockets
from sqlalchemy import text

from fair import migrate
from fair.auth import enrol
from fair.core import Actor, execute, tally
from fair.core.access import DevicePolicy
from fair.db import Database
from fair.tokens import Tokens

ROOT = Path(__file__).resolve().parent.parent
SECRET = "a fault-testing secret key, long enough"
PATIENCE = 60.0  # seconds: the bound of every wait for a condition (a server up, screens converged)
ANSWER = 15.0  # seconds a command waits for its answer before it counts as unanswered
RETRY_SECONDS, SYNC_TRIES = 2.0, 10  # a sync answered unavailable is asked again, as static/js/core.js does
# Every screen here comes from 127.0.0.1: the limits per address and per device are lifted (fair/limits.py).
UNLIMITED = {
    "FAIR_CONNECTIONS_PER_ADDRESS": "100000",
    "FAIR_CONNECT_RATE": "100000",
    "FAIR_CONNECT_BURST": "100000",
    "FAIR_ADDRESS_RATE": "1000000",
    "FAIR_ADDRESS_BURST": "1000000",
    "FAIR_COMMAND_RATE": "100000",
    "FAIR_COMMAND_BURST": "100000",
}


async def within(condition, what: str, patience: float = PATIENCE) -> float:
    """Wait until ``condition()`` holds, polling; the seconds it took.  AssertionError after ``patience``."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > patience:
            raise AssertionError(f"not within {patience:g} s: {what}")
        await asyncio.sleep(0.02)
    return time.monotonic() - start


# -- the fair ---------------------------------------------------------------------------------------------


@dataclass
class Plan:
    """A fair of booths with roomy offerings and teams with deep budgets; their devices' session tokens."""

    tablets: list[str]  # one device of each team
    booths: list[str]  # one device of each booth
    offerings: list[int]  # each booth's offering, in the booths' order
    spares: list[str] = field(default_factory=list)  # more team devices, for the storm's tablets


async def build_fair(url: str, *, teams: int, booths: int, spares: int = 0) -> Plan:
    db = Database(url)
    await migrate.upgrade(db)
    tokens, numbers = Tokens(SECRET), itertools.count()

    async def do(actor: Actor, command: str, payload: dict) -> dict:
        return (await execute(db, actor, command, payload, f"setup-{next(numbers)}")).data

    async def devices(kind: str, party_id: int, count: int) -> list[str]:
        card = await do(organiser, "access.issue", {"kind": kind, "party_id": party_id, "max_devices": 20})
        policy = DevicePolicy()
        return [
            (await enrol(db, tokens, card["credential"]["id"], label="fault", address="127.0.0.1", policy=policy))[0]
            for _ in range(count)
        ]

    day = {"name": "故障演练", "day": "2023-03-29", "venue": "南京市文化馆"}
    fair = await do(Actor.organiser(), "fair.create", day)
    organiser = Actor.organiser(fair["fair"]["id"])
    plan = Plan([], [], [])
    for number in range(booths):
        supplier = await do(
            organiser, "supplier.register", {"name": f"演练供应商{number}", "booth": f"F{number:03d}", "approved": True}
        )
        supplier_id = supplier["supplier"]["id"]
        offering = {"category": "lecture", "title": f"讲座{number}", "unit": "讲", "unit_price_fen": 1000}
        published = await do(
            Actor.supplier(organiser.fair_id, supplier_id), "offering.publish", offering | {"capacity": 10**6}
        )
        plan.offerings.append(published["offering"]["id"])
        plan.booths += await devices("supplier", supplier_id, 1)
    for number in range(teams):
        team = {"name": f"演练采购团{number}", "kind": "community", "district": "玄武区", "budget_fen": 10**12}
        registered = await do(organiser, "team.register", team | {"approved": True})
        team_id = registered["team"]["id"]
        extra = -(-spares // teams) if number < spares else 0
        own = await devices("team", team_id, min(20, 1 + extra))
        plan.tablets.append(own[0])
        plan.spares += own[1:]
    plan.spares = plan.spares[:spares]
    await do(organiser, "fair.open", {})
    await db.dispose()
    return plan


@dataclass
class Books:
    """What the database holds after the faults."""

    orders: dict[int, int]  # order id -> amount
    negotiations: int
    accepts_ok: dict[str, int]  # recorded request id of an accepted negotiation -> its order id
    opens_ok: int
    tally_seq: int  # the sequence number of the last event that changed the tally


async def books(url: str) -> Books:
    db = Database(url)
    try:
        async with db.read() as session:
            connection = await session.connection()

            async def rows(sql: str) -> list:
                return (await connection.execute(text(sql))).all()

            orders = dict(await rows("SELECT id, amount_fen FROM purchase_order WHERE voided_at IS NULL"))
            ((negotiations,),) = await rows("SELECT count(*) FROM negotiation")
            records = await rows("SELECT request_id, command, outcome FROM request_record WHERE request_id LIKE 'r-%'")
            ((tally_seq,),) = await rows(
                "SELECT coalesce(max(seq), 0) FROM event WHERE type IN ('order.confirmed', 'order.voided')"
            )
    finally:
        await db.dispose()
    accepts, opens = {}, 0
    for request_id, command, outcome in records:
        outcome = json.loads(outcome) if isinstance(outcome, str) else outcome
        if not outcome["ok"]:
            continue
        if command == "negotiation.accept":
            accepts[request_id] = outcome["data"]["order"]["order"]["id"]
        elif command == "negotiation.open":
            opens += 1
    return Books(orders, negotiations, accepts, opens, tally_seq)


# -- the server ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``run.py`` on 127.0.0.1 in a process of its own, on this checkout's code, to start, kill -9 and restart."""

    def __init__(self, database_url: str, log: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "FAIR_DATABASE_URL": database_url,
            "FAIR_SECRET_KEY": SECRET,
            "FAIR_ORGANISER_PASSWORD": "fault organiser password",
            **UNLIMITED,
            **env,
        }
        self.log, self.process = log, None

    async def start(self) -> float:
        """Start it and wait until it answers /healthz; the seconds that took."""
        began = time.monotonic()
        with self.log.open("a") as out:
            self.process = subprocess.Popen(
                [sys.executable, str(ROOT / "run.py"), "--port", str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        await within(self._healthy, f"the server answering /healthz (see {self.log})")
        return time.monotonic() - began

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the server exited with {self.process.returncode} (see {self.log})")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                return s.recv(64).startswith(b"HTTP/1.1 200")
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, no goodbye to any socket."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=PATIENCE)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


# -- the screens --------------------------------------------------------------------------------------------


class Link:
    """One Socket.IO connection: events, acks and pings; every call unanswered when it drops gets ``None``."""

    def __init__(self, url: str, token: str | None = None, on_live=None) -> None:
        self.url = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.auth = {"token": token} if token else {}
        self.on_live = on_live
        self.ws = None
        self._acks: dict[int, asyncio.Future] = {}
        self._ids = itertools.count()
        self._reader: asyncio.Task | None = None

    @property
    def up(self) -> bool:
        return self._reader is not None and not self._reader.done()

    async def connect(self) -> None:
        self.ws = await websockets.connect(
            self.url, max_size=None, compression=None, ping_interval=None, open_timeout=PATIENCE
        )
        await self.ws.recv()  # the Engine.IO open packet
        await self.ws.send("40" + json.dumps(self.auth))
        reply = await asyncio.wait_for(self.ws.recv(), 30)
        if not reply.startswith("40"):
            await self.ws.close()
            raise ConnectionError(reply)
        self._reader = asyncio.create_task(self._read())

    async def call(self, event: str, data: Any, timeout: float = ANSWER) -> dict | None:
        if not self.up:
            return None
        ack = next(self._ids)
        future = self._acks[ack] = asyncio.get_running_loop().create_future()
        try:
            await self.ws.send(f"42{ack}" + json.dumps([event, data]))
            return await asyncio.wait_for(future, timeout)
        except (TimeoutError, websockets.ConnectionClosed):
            return None
        finally:
            self._acks.pop(ack, None)

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                if message == "2":
                    await self.ws.send("3")
                elif message.startswith("43"):
                    head, _, body = message[2:].partition("[")
                    future = self._acks.get(int(head))
                    if future is not None and not future.done():
                        future.set_result(json.loads("[" + body)[0])
                elif message.startswith("42") and self.on_live:
                    name, data = json.loads(message[2:])
                    if name == "live":
                        self.on_live(data)
        except websockets.ConnectionClosed:
            pass
        finally:
            for future in self._acks.values():
                if not future.done():
                    future.set_result(None)

    def cut(self) -> None:
        """Drop the connection at once, as a Wi-Fi drop does: no close handshake."""
        if self.ws is not None:
            self.ws.transport.abort()

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)


class Screen:
    """A screen that keeps the tally and the last sequence number, and resyncs from it on every connect."""

    def __init__(self, url: str, token: str | None = None) -> None:
        self.link = Link(url, token, self._live)
        self.cursor: int | None = None
        self.tally: dict | None = None
        self.syncs: Counter[str] = Counter()  # how each sync was answered: events, view, or an error code
        self.reply: dict | None = None  # the last sync's answer
        self.held: list[dict] | None = None  # messages that came while a sync was asked: applied after it
        self.refused_patches = 0  # tally patches to a tally older than their base: a message was lost

    def _live(self, message: dict) -> None:
        if self.held is not None:
            self.held.append(message)
            return
        if message.get("tally") and message["tally"]["seq"] >= self.tally["seq"]:
            self.tally = message["tally"]
        if message.get("tally_patch") and not tally.patched(self.tally, message["tally_patch"]):
            self.refused_patches += 1
        self.cursor = max(self.cursor or 0, message["upto"])

    async def join(self) -> None:
        """Connect (again) and sync from the last sequence number applied.

        A sync answered ``unavailable`` is asked again a little later, as the screens do.
        """
        self.held = []
        for _ in range(SYNC_TRIES):
            code = await self._try_join()
            if code is None:
                break
            self.syncs[code] += 1
            await asyncio.sleep(RETRY_SECONDS)
        else:
            raise ConnectionError(f"sync unavailable {SYNC_TRIES} times")
        data = self.reply["data"]
        self.syncs[data["mode"]] += 1
        shown = data["view"]["tally"] if data["mode"] == "view" else data["tally"]
        if self.tally is None or shown["seq"] >= self.tally["seq"]:
            self.tally = shown
        self.cursor = max(self.cursor or 0, data["upto"])
        held, self.held = self.held, None
        for message in held:
            self._live(message)

    async def _try_join(self) -> str | None:
        """Connect if need be and sync: None, or ``unavailable`` (a connect or sync refused for the database)."""
        if not self.link.up:
            try:
                await self.link.connect()
            except ConnectionError as refused:
                if '"unavailable"' not in str(refused):
                    raise
                return "unavailable (connect)"
        self.reply = await self.link.call("sync", {"since": self.cursor}, timeout=PATIENCE)
        if self.reply is not None and self.reply["ok"]:
            return None
        if self.reply is None or self.reply["error"]["code"] != "unavailable":
            raise ConnectionError(f"sync refused: {self.reply}")
        return "unavailable"

    def shows(self, orders: int, amount_fen: int) -> bool:
        return (
            self.tally is not None
            and self.tally["total"]["orders"] == orders
            and (self.tally["total"]["amount_fen"] == amount_fen)
        )


class Pair:
    """A team's tablet and a booth, making orders one after another (a proposal, then its acceptance).

    A command that gets no answer (the server died) stays pending and is sent
    again with the same request id once the pair is back, as the screens do.
    """

    def __init__(self, url: str, tablet: str, booth: str, offering_id: int, name: str) -> None:
        self.tablet, self.booth = Screen(url, tablet), Screen(url, booth)
        self.offering_id, self.name = offering_id, name
        self.numbers = itertools.count()
        self.pending: tuple[Screen, str, str, dict] | None = None
        self.acked: dict[str, int] = {}  # accept request id -> the order id its ok answer named
        self.answers: Counter[str] = Counter()
        self.resent = 0

    async def join(self) -> None:
        await asyncio.gather(self.tablet.join(), self.booth.join())

    async def run(self, stop: asyncio.Event, latencies: list[float] | None = None) -> None:
        """Order until ``stop`` is set or the server is gone (an unanswered command is kept pending)."""
        if self.pending is not None:
            self.resent += 1  # left unanswered by the last server
        while not stop.is_set() and await self.step(latencies):
            pass

    async def settle(self) -> None:
        """Send what is pending until nothing is (an open answered is followed by its accept)."""
        self.resent += self.pending is not None  # left unanswered by the last server
        for _ in range(4):
            if self.pending is None:
                return
            if not await self.step():
                raise AssertionError(f"{self.name}: {self.pending[1]} {self.pending[2]} was not answered")

    async def step(self, latencies: list[float] | None = None) -> bool:
        """Send the pending command, or a new proposal; False when it got no answer."""
        if self.pending is None:
            number = next(self.numbers)
            payload = {"offering_id": self.offering_id, "terms": {"quantity": 1, "unit_price_fen": 1000}}
            self.pending = (self.tablet, "negotiation.open", f"r-{self.name}-o{number}", payload)
        screen, command, request_id, payload = self.pending
        sent = time.monotonic()
        ack = await screen.link.call(command, {"request_id": request_id, "payload": payload})
        if ack is None:
            return False  # the server is gone: pending until the pair is back
        if latencies is not None:
            latencies.append(time.monotonic() - sent)
        self.answers["ok" if ack["ok"] else ack["error"]["code"]] += 1
        self.pending = None
        if command == "negotiation.open" and ack["ok"]:
            accept = {"negotiation_id": ack["data"]["negotiation"]["id"], "version": 1}
            self.pending = (self.booth, "negotiation.accept", request_id.replace("-o", "-a"), accept)
        elif command == "negotiation.accept" and ack["ok"]:
            self.acked[request_id] = ack["data"]["order"]["order"]["id"]
        return True

    async def close(self) -> None:
        await asyncio.gather(self.tablet.link.close(), self.booth.link.close())


# -- kill -9 under load, again and again -----------------------------------------------------------------------


@dataclass
class Crashes:
    """What the rounds saw; ``problems`` is empty when nothing was lost, doubled or left behind."""

    rounds: list[dict] = field(default_factory=list)  # per kill: orders acked before it, in flight, restart s, …
    orders: int = 0
    acked: int = 0
    resent: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    converge_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


async def crash_rounds(
    database_url: str, folder: Path, *, kills: int, pairs: int = 6, boards: int = 4, seed: int = 1
) -> Crashes:
    """Orders from ``pairs`` tablet-and-booth pairs watched by ``boards``; the server killed with SIGKILL
    ``kills`` times while they order, each time restarted, the screens back and their unanswered commands
    sent again; then the checks of issue 14: every order acked ok is in the database, each request id had
    one effect, and every screen shows the recounted tally."""
    rng = random.Random(seed)
    plan = await build_fair(database_url, teams=pairs, booths=pairs)
    server = Server(database_url, folder / "server.log")
    seen = Crashes()
    await server.start()
    work = [Pair(server.url, plan.tablets[i], plan.booths[i], plan.offerings[i], f"p{i}") for i in range(pairs)]
    watchers = [Screen(server.url) for _ in range(boards)]
    screens = [screen for pair in work for screen in (pair.tablet, pair.booth)] + watchers
    try:
        for number in range(kills + 1):
            began = time.monotonic()
            await asyncio.gather(*(pair.join() for pair in work), *(board.join() for board in watchers))
            rejoined = time.monotonic() - began
            if seen.rounds:
                seen.rounds[-1]["screens_back_s"] = rejoined
            if number == kills:
                break
            stop = asyncio.Event()
            tasks = [asyncio.create_task(pair.run(stop)) for pair in work]
            target = _acked(work) + rng.randint(5, 40)
            await within(partial(_ready_to_kill, work, target, tasks), "orders before a kill")
            await asyncio.sleep(rng.uniform(0, 0.05))  # somewhere inside a command
            server.kill()
            await asyncio.wait_for(asyncio.gather(*tasks), PATIENCE)
            for screen in screens:
                await screen.link.close()
            in_flight = sum(pair.pending is not None for pair in work)
            restart = await server.start()
            seen.rounds.append({"acked": _acked(work), "in_flight": in_flight, "restart_s": restart})
        await asyncio.gather(*(pair.settle() for pair in work))
        truth = await books(database_url)
        seen.orders, seen.acked = len(truth.orders), _acked(work)
        seen.resent = sum(pair.resent for pair in work)
        seen.answers = sum((pair.answers for pair in work), Counter())
        acked = {request_id: order for pair in work for request_id, order in pair.acked.items()}
        lost = {r: order for r, order in acked.items() if order not in truth.orders}
        if lost:
            seen.problems.append(f"orders acked ok but not in the database: {lost}")
        if acked != truth.accepts_ok:
            seen.problems.append(
                f"the acks do not match the request records: {set(acked.items()) ^ set(truth.accepts_ok.items())}"
            )
        if set(truth.orders) != set(truth.accepts_ok.values()) or len(truth.accepts_ok) != len(truth.orders):
            seen.problems.append(f"{len(truth.orders)} orders for {len(truth.accepts_ok)} accepting request ids")
        if truth.negotiations != truth.opens_ok:
            seen.problems.append(f"{truth.negotiations} negotiations for {truth.opens_ok} proposing request ids")
        if set(seen.answers) - {"ok"}:
            seen.problems.append(f"refusals: {seen.answers}")
        recount = (len(truth.orders), sum(truth.orders.values()))
        try:
            seen.converge_seconds = await within(
                lambda: all(screen.shows(*recount) and screen.tally["seq"] == truth.tally_seq for screen in screens),
                "every screen showing the recounted tally",
            )
        except AssertionError:
            behind = [screen.tally and screen.tally["total"] for screen in screens if not screen.shows(*recount)]
            seen.problems.append(f"screens not showing the recount {recount}: {behind}")
    finally:
        await asyncio.gather(*(screen.link.close() for screen in screens), return_exceptions=True)
        server.stop()
    return seen


def _acked(work: list[Pair]) -> int:
    return sum(len(pair.acked) for pair in work)


def _ready_to_kill(work: list[Pair], target: int, tasks: list[asyncio.Task]) -> bool:
    return _acked(work) >= target or all(task.done() for task in tasks)


# -- the storm: many screens in a process of their own ------------------------------------------------------


async def storm_process(url: str, tokens_file: str) -> None:
    """Connect every screen, then obey stdin: ``cut`` drops them all and reconnects them at once;
    ``expect ORDERS AMOUNT`` waits until every screen shows that tally.  Each answers one JSON line."""
    tokens = json.loads(Path(tokens_file).read_text())  # null for a public board
    screens = [Screen(url, token) for token in tokens]
    for start in range(0, len(screens), 50):
        await asyncio.gather(*(screen.join() for screen in screens[start : start + 50]))
    print(json.dumps({"ready": len(screens)}), flush=True)
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := (await reader.readline()).decode().split():
        if line[0] == "cut":
            for screen in screens:
                screen.link.cut()
            await asyncio.gather(*(screen.link._reader for screen in screens), return_exceptions=True)
            began = time.monotonic()
            joined = await asyncio.gather(*(screen.join() for screen in screens), return_exceptions=True)
            failed = [repr(result) for result in joined if isinstance(result, BaseException)]
            print(
                json.dumps(
                    {"rejoined": len(screens) - len(failed), "seconds": time.monotonic() - began, "failed": failed[:3]}
                ),
                flush=True,
            )
        elif line[0] == "expect":
            orders, amount = int(line[1]), int(line[2])
            try:
                seconds = await within(partial(_all_show, screens, orders, amount), "the storm's tally")
            except AssertionError:
                seconds = None
            modes = sum((screen.syncs for screen in screens), Counter())
            shown = sum(screen.shows(orders, amount) for screen in screens)
            print(json.dumps({"converged": shown, "of": len(screens), "seconds": seconds, "syncs": modes}), flush=True)


def _all_show(screens: list[Screen], orders: int, amount: int) -> bool:
    return all(screen.shows(orders, amount) for screen in screens)


class Storm:
    """``python -m tests.crashes storm``, driven from here."""

    def __init__(self, url: str, tokens: list[str | None], folder: Path) -> None:
        self.file = folder / "storm-tokens.json"
        self.file.write_text(json.dumps(tokens))
        self.url = url

    async def __aenter__(self) -> Storm:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.crashes",
            "storm",
            self.url,
            str(self.file),
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        await self._answer()
        return self

    async def ask(self, line: str) -> dict:
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()
        return await self._answer()

    async def _answer(self) -> dict:
        line = await asyncio.wait_for(self.process.stdout.readline(), PATIENCE * 2)
        if not line:
            raise AssertionError("the storm's process ended")
        return json.loads(line)

    async def __aexit__(self, *exc_info) -> None:
        self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), 20)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


if __name__ == "__main__":
    if sys.argv[1] == "storm":
        asyncio.run(storm_process(sys.argv[2], sys.argv[3]))
