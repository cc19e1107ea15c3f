"""fair.live.fanout: a room's message encoded once, written on every connection, in order, to every kind of client;
the same messages, in the same order, through python-socketio's public API when the fenced path does not run."""

from __future__ import annotations

import asyncio

import pytest
import socketio

from fair.live import fanout, websocket
from fair.middleware import UVICORN_OPTIONS
from tests.servers import serving


def make_server(fenced: bool) -> socketio.AsyncServer:
    sio = (websocket.AsyncServer if fenced else socketio.AsyncServer)(async_mode="asgi")

    @sio.on("join")
    async def join(sid, room):
        await sio.enter_room(sid, room)
        # The ack is sent after this broadcast is written: the client must see the broadcast first.
        await fanout.emit(sio, "news", {"n": 0, "to": sid}, room)
        return {"joined": room}

    return sio


async def client(url: str, transports: list[str]) -> tuple[socketio.AsyncClient, list]:
    received: list = []
    sio = socketio.AsyncClient()
    sio.on("news", lambda data: received.append(data))
    await sio.connect(url, transports=transports, wait_timeout=5)
    return sio, received


@pytest.mark.parametrize("fenced", [True, False], ids=["fenced", "public"])
@pytest.mark.parametrize("size", [10, 125, 126, 65_535, 70_000])
async def test_every_kind_of_client_gets_every_message_in_order(size: int, fenced: bool):
    sio = make_server(fenced)
    public = {} if fenced else UVICORN_OPTIONS  # the public path: uvicorn's own websocket protocol too
    async with serving(fanout.asgi_app(sio), **public) as url:
        # Long-polling alone is left out: python-socketio's own client drops messages that arrive many to a poll,
        # whoever sends them (its emit too).  An upgraded connection keeps python-socketio's path.
        kinds = {"websocket": ["websocket"], "upgraded": ["polling", "websocket"]}
        clients = {kind: await client(url, transports) for kind, transports in kinds.items()}
        order = []
        for c, received in clients.values():
            assert await c.call("join", "hall", timeout=5) == {"joined": "hall"}
            order.append(len(received))  # the broadcast made before the ack was answered has arrived
        assert all(count >= 1 for count in order)
        skipped = clients["websocket"][0].get_sid()
        for n in range(1, 21):
            sent = await fanout.emit(sio, "news", {"n": n, "text": "x" * size}, "hall", skip={skipped})
            assert sent == 1
        await fanout.emit(sio, "news", {"n": 21}, "hall")
        for _ in range(200):
            if all(received and received[-1]["n"] == 21 for _, received in clients.values()):
                break
            await asyncio.sleep(0.02)
        for kind, (_, received) in clients.items():
            numbers = [message["n"] for message in received if "to" not in message]
            expected = [21] if kind == "websocket" else list(range(1, 22))
            assert numbers == expected, kind
            assert all(len(m["text"]) == size for m in received if "text" in m)
        direct = {eio_sid for eio_sid, s in sio.eio.sockets.items() if isinstance(s, websocket.DirectSocket)}
        assert direct == ({sio.manager.eio_sid_from_sid(clients["websocket"][0].get_sid(), "/")} if fenced else set())
        for c, _ in clients.values():
            await c.disconnect()


def test_a_frame_says_its_length_as_rfc_6455_does():
    assert websocket.frame(b"hi") == b"\x81\x02hi"
    assert websocket.frame(b"x" * 126)[:4] == b"\x81\x7e\x00\x7e"
    assert websocket.frame(b"x" * 65_536)[:10] == b"\x81\x7f" + (65_536).to_bytes(8, "big")
    assert fanout.encode_event("live", {"n": "一"}) == '42["live",{"n":"一"}]'
