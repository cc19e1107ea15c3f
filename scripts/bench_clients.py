"""Client processes for scripts/bench: boards that listen, and tablets and booths that order.

They speak Engine.IO 4 / Socket.IO 5 over a websocket written by hand (the
client side of RFC 6455 on an asyncio protocol: every message is handled in
the callback that reads it, with no task or queue per message) rather than
through python-socketio's client or the ``websockets`` library, so that
thousands of them fit on the one core the clients get, and the figures
measure the servers.

    python scripts/bench_clients.py listen  URL[,URL…] app|reference COUNT OUT.json
    python scripts/bench_clients.py drive   URL[,URL…] app|reference PLAN.json OUT.json

With several URLs (one port per worker), the boards, tablets and booths
alternate between them, as nginx's ``least_conn`` spreads long connections.

``listen`` connects COUNT boards, prints "ready", and on SIGTERM writes, for
every order number, the time the last of its boards saw the tally count it.
``drive`` follows a plan of (rate, seconds) steps, placing orders open-loop
at each rate, and writes when each confirmation was sent and answered.
"""

import asyncio
import base64
import contextlib
import itertools
import json
import os
import signal
import struct
import sys
import time
import uuid
from urllib.parse import urlsplit


def client_frame(text: str) -> bytes:
    """A masked client-to-server text frame (RFC 6455 §5.2, §5.3)."""
    payload = text.encode()
    n = len(payload)
    if n < 126:
        head = bytes((0x81, 0x80 | n))
    elif n < 65536:
        head = struct.pack("!BBH", 0x81, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
    mask = os.urandom(4)
    key = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return head + mask + (int.from_bytes(payload, "big") ^ key).to_bytes(n, "big")


class Socket(asyncio.Protocol):
    """One Socket.IO connection: events, acks and Engine.IO pings, nothing more."""

    def __init__(self, url: str, auth: dict | None = None, on_event=None) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname, parts.port
        self.auth, self.on_event = auth or {}, on_event
        self._acks: dict[int, asyncio.Future] = {}
        self._ids = itertools.count()
        self._buffer = bytearray()
        self._upgraded = False

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        self._joined = loop.create_future()
        await loop.create_connection(lambda: self, self.host, self.port)
        key = base64.b64encode(os.urandom(16)).decode()
        self.transport.write(
            f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        await self._joined  # the handshake, Engine.IO's open and Socket.IO's connect

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        if not self._joined.done():
            self._joined.set_exception(ConnectionError("closed before joining"))
        for future in self._acks.values():
            if not future.done():
                future.set_result({"ok": False, "error": {"code": "connection lost"}})

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        if not self._upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self._joined.set_exception(ConnectionError(bytes(buffer[:end]).decode("latin-1")))
                self.transport.close()
                return
            del buffer[: end + 4]
            self._upgraded = True
        at = 0
        while len(buffer) - at >= 2:
            first, length = buffer[at], buffer[at + 1] & 0x7F
            start = at + 2
            if length == 126:
                start += 2
                length = int.from_bytes(buffer[at + 2 : start], "big")
            elif length == 127:
                start += 8
                length = int.from_bytes(buffer[at + 2 : start], "big")
            if len(buffer) < start + length:
                break
            payload = bytes(buffer[start : start + length])
            at = start + length
            opcode = first & 0x0F
            if not first & 0x80 or opcode == 0:
                raise ValueError("a fragmented message: the servers send each message in one frame")
            if opcode == 1:
                self._message(payload.decode())
            elif opcode == 8:
                self.transport.close()
            elif opcode == 9:  # a websocket ping (the servers use Engine.IO's): answered all the same
                self.transport.write(bytes((0x8A, 0x80 | len(payload))) + b"\0\0\0\0" + payload)
        del buffer[:at]

    def _message(self, message: str) -> None:
        if message == "2":
            self.transport.write(client_frame("3"))
        elif message.startswith("43"):
            head, _, body = message[2:].partition("[")
            future = self._acks.pop(int(head), None)
            if future is not None and not future.done():  # an answer after its timeout is dropped
                future.set_result(json.loads("[" + body)[0])
        elif message.startswith("42"):
            if self.on_event:
                self.on_event(time.time(), message)
        elif message.startswith("0"):
            self.transport.write(client_frame("40" + json.dumps(self.auth)))
        elif message.startswith("40"):
            self._joined.set_result(None)
        elif message.startswith("44") and not self._joined.done():
            self._joined.set_exception(ConnectionError(message))

    async def call(self, event: str, data) -> dict:
        ack = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._acks[ack] = future
        self.transport.write(client_frame(f"42{ack}" + json.dumps([event, data])))
        try:
            return await asyncio.wait_for(future, 30)
        except TimeoutError:
            self._acks.pop(ack, None)
            return {"ok": False, "error": {"code": "no answer in 30 s"}}

    async def close(self) -> None:
        self.transport.close()


DECODER = json.JSONDecoder()


def live_orders(message: str) -> int | None:
    """The tally's order count a board reads from the app's ``live`` message (``42["live",{…}]``), if it has one.

    Only the part read is decoded (the patch's figures, or the whole tally after a void): decoding every
    message whole took 60 % of the boards' core at 5,000 boards (py-spy).  The app writes its JSON without
    spaces (``fair.live.fanout.encode_event``), and the tally comes after the events.
    """
    if not message.startswith('42["live",'):
        return None
    at = message.rfind('"tally_patch":{')
    if at >= 0:
        at = message.find('"figures":', at) + len('"figures":')
        return DECODER.raw_decode(message, at)[0].get("total", {}).get("orders")
    at = message.rfind('"tally":{')
    if at >= 0:
        return DECODER.raw_decode(message, at + len('"tally":'))[0]["total"]["orders"]
    return None


async def listen(url: str, kind: str, count: int, out: str) -> None:
    seen: dict[int, float] = {}  # order number -> when the last board of this process saw it

    finals: list[int] = []  # each board's last tally: a board converged when it shows every order

    def board():
        last = 0
        index = len(finals)
        finals.append(0)

        def start(view: dict) -> None:
            """The tally the board's sync showed: where it starts (a board restarted mid-day shows the day)."""
            nonlocal last
            last = finals[index] = view["tally"]["total"]["orders"]

        def on_event(at: float, message: str) -> None:
            nonlocal last
            orders = live_orders(message) if kind == "app" else json.loads(message[2:])[1]["orders"]
            if orders is None:
                return
            for number in range(last + 1, orders + 1):
                if seen.get(number, 0) < at:
                    seen[number] = at
            last = max(last, orders)
            finals[index] = last

        on_event.start = start
        return on_event

    counts = [0] * count  # kind "count": how many messages each board received (the fan-out floors)

    def counter(index: int):
        def on_event(at: float, message: str) -> None:
            counts[index] += 1

        return on_event

    urls = url.split(",")
    sockets = [
        Socket(urls[index % len(urls)], on_event=counter(index) if kind == "count" else board())
        for index in range(count)
    ]

    refused: list[str] = []  # the boards whose sync was refused: they never join a room, so never converge

    async def join(socket: Socket) -> None:
        await socket.connect()
        if kind == "app":
            reply = await socket.call("sync", {"since": None})
            if reply.get("ok"):
                socket.on_event.start(reply["data"]["view"])
            else:
                refused.append(reply.get("error", {}).get("code", "?"))

    for start in range(0, count, 20):  # twenty at a time: a hall's boards come on together, not one by one
        await asyncio.gather(*(join(socket) for socket in sockets[start : start + 20]))
    if refused:
        print(f"{len(refused)} boards' sync refused: {sorted(set(refused))}", file=sys.stderr, flush=True)
    print("ready", flush=True)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    with open(out, "w") as handle:
        heard = {"seen": seen, "finals": finals, "refused": refused}
        json.dump({"counts": counts} if kind == "count" else heard, handle)


async def drive(url: str, kind: str, plan_file: str, out: str) -> None:
    with open(plan_file) as handle:
        plan = json.load(handle)
    results = []  # [step, sent, answered, order number or None]
    # Request ids are the server's idempotency keys: a later session on the same fair (the same devices) that
    # reused them would be answered with the earlier session's orders, and place none.
    run = uuid.uuid4().hex[:8]
    urls = url.split(",")
    if kind == "app":
        tablets = [Socket(urls[i % len(urls)], {"token": token}) for i, token in enumerate(plan["tablets"])]
        booths = {
            supplier: Socket(urls[(i + 1) % len(urls)], {"token": token})
            for i, (supplier, token) in enumerate(plan["booths"].items())
        }
        for socket in [*tablets, *booths.values()]:
            await socket.connect()
        offerings = plan["offerings"]  # [offering id, supplier id]
        pairs = itertools.count()

        async def order(step: int) -> None:
            number = next(pairs)
            tablet = tablets[number % len(tablets)]
            offering_id, supplier_id = offerings[(number // len(tablets) + number) % len(offerings)]
            terms = {"quantity": 1, "unit_price_fen": 1000}
            opened = await tablet.call(
                "negotiation.open",
                {"request_id": f"{run}-o{number}", "payload": {"offering_id": offering_id, "terms": terms}},
            )
            if not opened["ok"]:
                results.append([step, None, None, opened["error"]["code"]])
                return
            ref = {"negotiation_id": opened["data"]["negotiation"]["id"], "version": 1}
            sent = time.time()
            accepted = await booths[str(supplier_id)].call(
                "negotiation.accept", {"request_id": f"{run}-a{number}", "payload": ref}
            )
            answered = time.time()
            number = accepted["data"]["order"]["order"]["id"] if accepted["ok"] else accepted["error"]["code"]
            results.append([step, sent, answered, number])
    else:
        senders = [Socket(urls[i % len(urls)]) for i in range(8)]
        for socket in senders:
            await socket.connect()
        turns = itertools.count()

        async def order(step: int) -> None:
            socket = senders[next(turns) % len(senders)]
            sent = time.time()
            reply = await socket.call("order", {"amount_fen": 1000})
            answered = time.time()
            results.append([step, sent, answered, reply["data"]["order"] if reply["ok"] else reply["error"]["code"]])

    print("ready", flush=True)
    await asyncio.sleep(float(plan.get("settle", 1.0)))
    tasks = []
    for step, (rate, seconds) in enumerate(plan["steps"]):
        print("step", step, flush=True)
        start = time.monotonic()
        count = int(rate * seconds)
        for number in range(count):
            delay = start + number / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(order(step)))
        tasks = [task for task in tasks if not task.done()]
    print("steps done", flush=True)
    await asyncio.wait_for(asyncio.gather(*tasks), 120)
    print("answered", flush=True)  # the server's CPU is counted until here
    await asyncio.sleep(2)  # let the last boards hear of the last orders
    with open(out, "w") as handle:
        json.dump(results, handle)


if __name__ == "__main__":
    mode, url, kind = sys.argv[1:4]
    run = asyncio.run
    with contextlib.suppress(ImportError):  # uvloop (a dependency of the fair's where it builds) reads faster
        import uvloop

        run = uvloop.run
    if mode == "listen":
        run(listen(url, kind, int(sys.argv[4]), sys.argv[5]))
    else:
        run(drive(url, kind, sys.argv[4], sys.argv[5]))
