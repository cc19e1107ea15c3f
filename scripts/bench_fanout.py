"""Servers for the fan-out floors of scripts/bench: one message to every connected screen, four ways.

    python scripts/bench_fanout.py MODE PORT

- ``frame``: the floor.  A bare ASGI websocket app that speaks just enough
  Engine.IO/Socket.IO for the clients, builds the websocket frame once and
  writes it on each connection's transport;
- ``asgi``: the text encoded once and handed to each connection's ASGI
  ``send`` (uvicorn builds a frame per connection);
- ``fanout``: the app's way, ``fair.live.fanout.emit`` to a room of
  ``fair.live.websocket.AsyncServer`` (the fenced live path);
- ``socketio``: python-socketio's own room ``emit``, over uvicorn's own websockets-sansio: the
  public path, which the fair takes when the fenced one does not run (``fair.fence``).

``GET /go?n=N&every=S`` first sits idle for N×S seconds, then broadcasts N
messages of about 1 KB, one every S seconds, and answers the process CPU of
both windows and the number of recipients, so that CPU per recipient is
(busy − idle) / (N × recipients).
"""

import asyncio
import json
import sys
import time

import socketio
import uvicorn

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))

from fair.core import tally  # noqa: E402
from fair.live import fanout, websocket  # noqa: E402

ROOM = "boards"
MODE = sys.argv[1]


def message(number: int) -> dict:
    """About 1 KB, shaped like a board's live message."""
    body = tally.empty()
    body["latest"] = [{"id": number, "offering_title": "讲座", "team_name": "基准采购团", "amount_fen": 1000}] * 4
    return {"upto": number, "events": [], "tally": body | {"total": {"orders": number}}}


class Bare:
    """The floors: every connection in a list, sent to by hand."""

    def __init__(self) -> None:
        self.sends: dict[int, object] = {}

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            return await lifespan(receive, send)
        if scope["type"] == "http":
            return await control(scope, receive, send)
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        open_packet = {"sid": str(id(send)), "upgrades": [], "pingInterval": 25000, "pingTimeout": 20000}
        await send({"type": "websocket.send", "text": "0" + json.dumps(open_packet)})
        await receive()  # the client's Socket.IO connect
        await send({"type": "websocket.send", "text": "40" + json.dumps({"sid": str(id(send))})})
        self.sends[id(send)] = send
        try:
            while (await receive())["type"] != "websocket.disconnect":
                pass
        finally:
            self.sends.pop(id(send), None)

    async def broadcast(self, data: dict) -> int:
        text = fanout.encode_event("live", data)
        if MODE == "frame":
            shared = websocket.frame(text.encode())
            for send in self.sends.values():
                send.__self__.transport.write(shared)
        else:
            for send in list(self.sends.values()):
                await send({"type": "websocket.send", "text": text})
        return len(self.sends)


async def lifespan(receive, send):
    await receive()
    await send({"type": "lifespan.startup.complete"})
    await receive()
    await send({"type": "lifespan.shutdown.complete"})


async def control(scope, receive, send):
    query = dict(pair.split("=") for pair in scope["query_string"].decode().split("&") if pair)
    n, every = int(query.get("n", 100)), float(query.get("every", 0.05))
    cpu, wall = time.process_time(), time.monotonic()
    await asyncio.sleep(n * every)
    idle = time.process_time() - cpu
    cpu, wall = time.process_time(), time.monotonic()
    recipients = 0
    for number in range(1, n + 1):
        recipients = await BROADCAST(message(number))
        await asyncio.sleep(max(0.0, wall + number * every - time.monotonic()))
    busy = time.process_time() - cpu
    body = json.dumps({"idle_cpu": idle, "busy_cpu": busy, "recipients": recipients, "n": n}).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


if MODE in ("frame", "asgi"):
    app = Bare()
    BROADCAST = app.broadcast
else:
    sio = websocket.AsyncServer(async_mode="asgi") if MODE == "fanout" else socketio.AsyncServer(async_mode="asgi")

    @sio.on("connect")
    async def connect(sid, environ, auth=None):
        await sio.enter_room(sid, ROOM)

    async def BROADCAST(data: dict) -> int:  # noqa: N802
        if MODE == "fanout":
            return await fanout.emit(sio, "live", data, ROOM)
        await sio.emit("live", data, to=ROOM)
        return sum(1 for _ in sio.manager.get_participants("/", ROOM))

    async def other(scope, receive, send):
        if scope["type"] == "lifespan":
            return await lifespan(receive, send)
        return await control(scope, receive, send)

    app = fanout.asgi_app(sio, other_asgi_app=other)

if __name__ == "__main__":
    from fair.middleware import UVICORN_OPTIONS, uvicorn_options

    # python-socketio's own path is the public one throughout: uvicorn's own websockets-sansio protocol too.
    options = UVICORN_OPTIONS if MODE == "socketio" else uvicorn_options()
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", **options)
