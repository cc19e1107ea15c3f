"""Fan-out: a room's message encoded once and written on each websocket, with no task per recipient.

python-socketio sends a room's message by making a task per recipient, each
of which puts the packet on the connection's Engine.IO queue, whose writer
task then wakes (through ``asyncio.wait_for``, one more task) and asks the
ASGI server to build a websocket frame for it.  At 500 boards that is about
three quarters of the cost of a broadcast (``docs/performance.md``).

When the fenced live path runs (``fair.fence``, ``fair.live.websocket``), the
Socket.IO packet is encoded once, the websocket frame built once, and the
same bytes written on every connection of the room, in one loop.  The wire
is unchanged: the same Engine.IO/Socket.IO text packets every
socket.io-client reads (``docs/protocol.md``).  Nothing is reordered: a
connection that opened on the websocket writes every packet it is sent the
moment it is sent, so the shared frame takes its place among them.  Any
other connection (one that came by long-polling and upgraded, or a server
other than uvicorn's sansio websockets) keeps python-socketio's path.

When it does not (other library versions than those tested, or
``FAIR_FENCED_PATHS`` off), this module hands everything to python-socketio's
public API: its own server, ASGI application and room ``emit``.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

import socketio

from fair import fence


def encode_event(event: str, data: Any) -> str:
    """The Engine.IO text of a Socket.IO event on the default namespace: ``42["event",data]``."""
    return "42" + json.dumps([event, data], separators=(",", ":"), ensure_ascii=False)


def server(**options: Any) -> socketio.AsyncServer:
    """A Socket.IO server: python-socketio's, or the fenced one whose websockets are written to directly."""
    if fence.active("live"):
        from fair.live import websocket

        return websocket.AsyncServer(**options)
    return socketio.AsyncServer(**options)


def asgi_app(sio: socketio.AsyncServer, **options: Any) -> socketio.ASGIApp:
    """python-socketio's ASGI application for ``sio`` (the fenced server gets the fenced one)."""
    if getattr(sio, "fenced", False):
        from fair.live import websocket

        return websocket.ASGIApp(sio, **options)
    return socketio.ASGIApp(sio, **options)


async def emit(sio: socketio.AsyncServer, event: str, data: Any, room: str, skip: Collection[str] = ()) -> int:
    """Send ``event`` to every connection of ``room`` but ``skip``.

    Returns how many connections it was sent to.
    """
    members = dict(sio.manager.get_participants("/", room))  # python-socketio's public API: a copy, sid -> eio_sid
    if not members:
        return 0
    if getattr(sio, "fenced", False):
        from fair.live import websocket

        return await websocket.emit(sio, encode_event(event, data), members, skip)
    skipped = [sid for sid in members if sid in skip]
    if len(skipped) < len(members):
        await sio.emit(event, data, to=room, skip_sid=skipped)
    return len(members) - len(skipped)
