"""Fan-out: a room's message encoded once and written on each websocket, with no task per recipient.

python-socketio sends a room's message by making a task per recipient, each
of which puts the packet on the connection's Engine.IO queue, whose writer
task then wakes (through ``asyncio.wait_for``, one more task) and asks the
ASGI server to build a websocket frame for it.  At 500 boards that is about
three quarters of the cost of a broadcast (``docs/performance.md``).

Here the Socket.IO packet is encoded once, the websocket frame built once,
and the same bytes written on every connection of the room, in one loop.
The wire is unchanged: the same Engine.IO/Socket.IO text packets every
socket.io-client reads (``docs/protocol.md``).  Nothing is reordered: a
connection that opened on the websocket (``fair.live.websocket``) writes
every packet it is sent the moment it is sent, so the shared frame takes its
place among them.  Any other connection (one that came by long-polling and
upgraded, or a server other than uvicorn's sansio websockets) keeps
python-socketio's path: ``emit`` sends to it one by one, still with no task
per recipient.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Collection
from typing import Any

import socketio
from engineio import packet as eio_packet

from fair.live.websocket import DirectSocket, EngineServer, frame


def encode_event(event: str, data: Any) -> str:
    """The Engine.IO text of a Socket.IO event on the default namespace: ``42["event",data]``."""
    return "42" + json.dumps([event, data], separators=(",", ":"), ensure_ascii=False)


class ASGIApp(socketio.ASGIApp):
    """python-socketio's ASGI application, which hands a websocket to Engine.IO without a coroutine frame of its
    own: the connection runs inside this call for its whole life, and every frame left open is kept per screen."""

    def __call__(self, scope: dict, receive: Any, send: Any) -> Awaitable[Any]:
        if scope["type"] == "websocket" and self._ensure_trailing_slash(scope["path"]).startswith(self.engineio_path):
            return self.engineio_server.handle_request(scope, receive, send)
        return super().__call__(scope, receive, send)


class AsyncServer(socketio.AsyncServer):
    """python-socketio's server whose websocket connections are written to directly (``emit``)."""

    def _engineio_server_class(self):
        return EngineServer

    def handle_request(self, *args: Any, **kwargs: Any) -> Awaitable[Any]:
        """Engine.IO's coroutine itself, not one awaiting it: a websocket runs inside it for its whole life."""
        return self.eio.handle_request(*args, **kwargs)


async def emit(sio: socketio.AsyncServer, event: str, data: Any, room: str, skip: Collection[str] = ()) -> int:
    """Send ``event`` to every connection of ``room`` but ``skip``: encoded once, one frame for all.

    Returns how many connections it was sent to.
    """
    members = dict(sio.manager.get_participants("/", room))  # python-socketio's public API: a copy, sid -> eio_sid
    if not members:
        return 0
    text = encode_event(event, data)
    shared = frame(text.encode())
    sockets = sio.eio.sockets
    others = []
    sent = 0
    for sid, eio_sid in members.items():
        if sid in skip:
            continue
        socket = sockets.get(eio_sid)
        if socket is None:
            continue
        if type(socket) is DirectSocket:
            if not socket.closing:
                socket.write(shared)
        else:
            others.append(eio_sid)
        sent += 1
    if others:
        pkt = eio_packet.Packet(eio_packet.MESSAGE, data=text[1:])
        for eio_sid in others:
            await sio.eio.send_packet(eio_sid, pkt)
    return sent
