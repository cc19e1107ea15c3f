"""Client processes for scripts/bench: boards that listen, and tablets and booths that order.

They speak Engine.IO 4 / Socket.IO 5 over a plain websocket (the ``websockets``
library) rather than through python-socketio's client, so that hundreds of
them fit on the one core the clients get, and the figures measure the servers.

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
import itertools
import json
import signal
import sys
import time
import uuid

import websockets


class Socket:
    """One Socket.IO connection: events, acks and Engine.IO pings, nothing more."""

    def __init__(self, url: str, auth: dict | None = None, on_event=None) -> None:
        base = url.replace("http://", "ws://")
        self.url = f"{base}/socket.io/?EIO=4&transport=websocket"
        self.auth, self.on_event = auth or {}, on_event
        self._acks: dict[int, asyncio.Future] = {}
        self._ids = itertools.count()

    async def connect(self) -> None:
        self.ws = await websockets.connect(self.url, max_size=None, compression=None, ping_interval=None)
        await self.ws.recv()  # the Engine.IO open packet
        await self.ws.send("40" + json.dumps(self.auth))
        reply = await self.ws.recv()
        if not reply.startswith("40"):
            raise ConnectionError(reply)
        self._reader = asyncio.create_task(self._read())

    async def call(self, event: str, data) -> dict:
        ack = next(self._ids)
        future = asyncio.get_running_loop().create_future()
        self._acks[ack] = future
        await self.ws.send(f"42{ack}" + json.dumps([event, data]))
        try:
            return await asyncio.wait_for(future, 30)
        except TimeoutError:
            self._acks.pop(ack, None)
            return {"ok": False, "error": {"code": "no answer in 30 s"}}

    async def _read(self) -> None:
        async for message in self.ws:
            if message == "2":
                await self.ws.send("3")
            elif message.startswith("43"):
                head, _, body = message[2:].partition("[")
                future = self._acks.pop(int(head), None)
                if future is not None and not future.done():  # an answer after its timeout is dropped
                    future.set_result(json.loads("[" + body)[0])
            elif message.startswith("42") and self.on_event:
                self.on_event(time.time(), message)

    async def close(self) -> None:
        await self.ws.close()


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
            event, data = json.loads(message[2:])
            if kind == "app":
                if event != "live":
                    return
                if "tally" in data:
                    orders = data["tally"]["total"]["orders"]
                elif "orders" in data.get("tally_patch", {}).get("figures", {}).get("total", {}):
                    orders = data["tally_patch"]["figures"]["total"]["orders"]  # a patch: the figures that changed
                else:
                    return
            else:
                orders = data["orders"]
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
    if mode == "listen":
        asyncio.run(listen(url, kind, int(sys.argv[4]), sys.argv[5]))
    else:
        asyncio.run(drive(url, kind, sys.argv[4], sys.argv[5]))
