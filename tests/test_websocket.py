"""fair.live.websocket: a screen's websocket costs one task and no queue, answers pings, and is closed when it stops."""

from __future__ import annotations

import asyncio
import contextlib
import json

import socketio
import websockets

from fair.live import websocket
from tests.servers import serving


class Raw:
    """A websocket speaking Engine.IO by hand, so that a test can choose not to answer the server's pings."""

    def __init__(self, answers_pings: bool) -> None:
        self.answers_pings = answers_pings
        self.received: list[str] = []
        self.pings = 0

    async def connect(self, url: str) -> None:
        address = url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
        self.ws = await websockets.connect(address, compression=None, ping_interval=None)
        opened = await self.ws.recv()
        assert opened.startswith("0")
        self.eio_sid = json.loads(opened[1:])["sid"]
        await self.ws.send("40")
        assert (await self.ws.recv()).startswith("40")
        self.reading = asyncio.create_task(self._read())

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for message in self.ws:
                self.received.append(message)
                if message == "2":
                    self.pings += 1
                    if self.answers_pings:
                        await self.ws.send("3")


def server(**options) -> tuple[websocket.AsyncServer, list[str]]:
    sio = websocket.AsyncServer(async_mode="asgi", **options)
    gone: list[str] = []

    @sio.on("disconnect")
    async def disconnect(sid, reason):
        gone.append(sio.manager.eio_sid_from_sid(sid, "/"))

    return sio, gone


async def until(condition, seconds: float = 20) -> None:
    """Wait for ``condition`` to hold; fail after ``seconds`` (a bound for a stalled machine, not a figure)."""
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met")


async def test_a_screen_costs_one_task_and_no_queue():
    sio, _ = server()
    async with serving(websocket.ASGIApp(sio)) as url:
        first = Raw(answers_pings=True)
        await first.connect(url)  # Engine.IO's service task starts with the first connection
        before = len(asyncio.all_tasks())
        screens = [Raw(answers_pings=True) for _ in range(20)]
        for screen in screens:
            await screen.connect(url)
        # One task per screen here is the test's own reader; the server's side is uvicorn's one task each.
        assert len(asyncio.all_tasks()) - before == 2 * len(screens)
        screens.append(first)
        sockets = [sio.eio.sockets[screen.eio_sid] for screen in screens]
        assert all(isinstance(socket, websocket.DirectSocket) and socket.queue is None for socket in sockets)
        assert all(isinstance(socket.protocol.queue, websocket.Mailbox) for socket in sockets)
        for screen in screens:
            await screen.ws.close()
        await until(lambda: not sio.eio.sockets)


async def test_a_screen_that_answers_pings_stays_and_one_that_does_not_is_closed():
    sio, gone = server(ping_interval=0.2, ping_timeout=1)
    async with serving(websocket.ASGIApp(sio)) as url:
        alive, silent = Raw(answers_pings=True), Raw(answers_pings=False)
        await alive.connect(url)
        await silent.connect(url)
        await until(lambda: silent.eio_sid in gone)
        assert silent.pings == 1 and silent.received[-1] == "1"  # pinged once, then Engine.IO's close packet
        await until(lambda: silent.reading.done())  # and the websocket itself closed by the server
        assert silent.eio_sid not in sio.eio.sockets
        await until(lambda: alive.pings >= 3)
        assert alive.eio_sid in sio.eio.sockets and alive.eio_sid not in gone
        await alive.ws.close()
        await until(lambda: alive.eio_sid in gone and not sio.eio.sockets)


async def test_a_screen_sent_away_by_the_server_is_told_and_forgotten():
    sio, gone = server()
    async with serving(websocket.ASGIApp(sio)) as url:
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(url, transports=["websocket"], wait_timeout=5)
        (eio_sid,) = sio.eio.sockets
        await sio.disconnect(sio.manager.sid_from_eio_sid(eio_sid, "/"))
        await until(lambda: not client.connected)
        await until(lambda: eio_sid in gone and not sio.eio.sockets)
        await client.wait()  # the client's own tasks end: its connection is over, not hanging


async def test_a_mailbox_hands_over_in_order_and_survives_a_cancelled_wait():
    box = websocket.Mailbox()
    box.put_nowait(1)
    box.put_nowait(2)
    assert [await box.get(), await box.get()] == [1, 2] and box.empty()
    waiting = asyncio.create_task(box.get())
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    assert box.waiter is None
    later = asyncio.create_task(box.get())
    await asyncio.sleep(0)
    box.put_nowait(3)
    assert await later == 3
