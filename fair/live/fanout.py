"""Fan-out: a room's message encoded once and written on each websocket, with no task per recipient.

python-socketio sends a room's message by making a task per recipient, each
of which puts the packet on the connection's Engine.IO queue, whose writer
task then wakes (through ``asyncio.wait_for``, one more task) and asks the
ASGI server to build a websocket frame for it.  At 500 boards that is about
three quarters of the cost of a broadcast (``docs/performance.md``).

Here the Socket.IO packet is encoded once, the websocket frame built once,
and the same bytes written on every connection of the room, in one loop.
The wire is unchanged: the same Engine.IO/Socket.IO text packets every
socket.io-client reads (``docs/protocol.md``).

How it is done without reordering anything a connection is sent:

- ``AsyncServer`` is python-socketio's server with an Engine.IO server whose
  websocket wrapper remembers each connection's transport (``Link``), when
  the server is uvicorn's ``websockets-sansio`` and no extension (such as
  permessage-deflate, which would need a frame per connection) was agreed.
- Such a connection sends *every* message directly, its acks too: the
  packets queued before the websocket was accepted (the Engine.IO open) are
  written first, then each Socket.IO message is written the moment it is sent.
  So messages go out in the order they were sent, as before.  Engine.IO's
  own packets (pings, close) still go through its queue and writer task.
- A connection that came by long-polling and upgraded, or a server other than
  uvicorn's sansio websockets, keeps python-socketio's path: ``emit`` sends
  to it one by one (still no task per recipient).

Writing to the transport never waits: a screen that reads slowly has its
frames buffered by the event loop until Engine.IO's ping timeout closes it.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Collection
from typing import Any

import engineio
import socketio
from engineio import packet as eio_packet
from engineio.async_drivers import asgi as engineio_asgi

TEXT = 0x81  # FIN + text opcode
BINARY = 0x82


def frame(payload: bytes, opcode: int = TEXT) -> bytes:
    """An unmasked server-to-client websocket frame (RFC 6455 §5.2) holding ``payload``."""
    n = len(payload)
    if n < 126:
        head = bytes((opcode, n))
    elif n < 65536:
        head = struct.pack("!BBH", opcode, 126, n)
    else:
        head = struct.pack("!BBQ", opcode, 127, n)
    return head + payload


def encode_event(event: str, data: Any) -> str:
    """The Engine.IO text of a Socket.IO event on the default namespace: ``42["event",data]``."""
    return "42" + json.dumps([event, data], separators=(",", ":"), ensure_ascii=False)


class Link:
    """A websocket connection's transport, written to directly."""

    __slots__ = ("protocol", "transport")

    def __init__(self, protocol: Any) -> None:
        self.protocol, self.transport = protocol, protocol.transport

    @classmethod
    def of(cls, asgi_send: Any) -> Link | None:
        """The link behind uvicorn's sansio websocket ``send``, if frames may be written to it as they are."""
        protocol = getattr(asgi_send, "__self__", None)
        if type(protocol).__name__ != "WebSocketsSansIOProtocol":
            return None
        if getattr(protocol, "transport", None) is None or getattr(protocol.conn, "extensions", None):
            return None  # an extension (permessage-deflate) transforms every frame: let uvicorn build them
        return cls(protocol)

    def open(self) -> bool:
        protocol = self.protocol
        return not (protocol.close_sent or protocol.disconnected or self.transport.is_closing())

    def write(self, data: bytes) -> None:
        self.transport.write(data)


def _write_packet(link: Link, pkt: eio_packet.Packet) -> None:
    encoded = pkt.encode()
    link.write(frame(encoded, BINARY) if isinstance(encoded, bytes) else frame(encoded.encode()))


class _WebSocket(engineio_asgi.WebSocket):
    """Engine.IO's ASGI websocket wrapper, which also makes a fresh websocket connection send directly."""

    async def __call__(self, environ):
        self.asgi_receive = environ["asgi.receive"]
        self.asgi_send = environ["asgi.send"]
        await self.asgi_send({"type": "websocket.accept"})
        socket = getattr(self.handler, "__self__", None)
        # Only a connection that opened on the websocket: an upgrade from polling has packets in flight.
        link = Link.of(self.asgi_send) if socket is not None and not socket.connected else None
        if link is not None:
            _go_direct(socket, link)
        await self.handler(self)
        return ""


def _go_direct(socket: Any, link: Link) -> None:
    queue = socket.queue
    while not queue.empty():  # what was sent before the websocket was accepted: the Engine.IO open packet
        pkt = queue.get_nowait()
        queue.task_done()
        if pkt is None:
            queue.put_nowait(None)
            break
        _write_packet(link, pkt)
    queued = socket.send

    async def send(pkt: eio_packet.Packet) -> None:
        if pkt.packet_type == eio_packet.MESSAGE and not socket.closing and not socket.closed and link.open():
            if await socket.check_ping_timeout():
                _write_packet(link, pkt)
            return
        await queued(pkt)  # pings, close: Engine.IO's queue and writer task

    socket.send = send
    socket.fair_link = link


class _EngineServer(engineio.AsyncServer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._async = {**self._async, "websocket": _WebSocket}


class AsyncServer(socketio.AsyncServer):
    """python-socketio's server whose websocket connections can be written to directly (``emit``)."""

    def _engineio_server_class(self):
        return _EngineServer


async def emit(sio: socketio.AsyncServer, event: str, data: Any, room: str, skip: Collection[str] = ()) -> int:
    """Send ``event`` to every connection of ``room`` but ``skip``: encoded once, one frame for all.

    Returns how many connections it was sent to.
    """
    members = sio.manager.rooms.get("/", {}).get(room)
    if not members:
        return 0
    text = encode_event(event, data)
    shared = frame(text.encode())
    sockets = sio.eio.sockets
    others = []
    sent = 0
    for sid, eio_sid in list(members.items()):
        if sid in skip:
            continue
        socket = sockets.get(eio_sid)
        if socket is None:
            continue
        link = getattr(socket, "fair_link", None)
        if link is not None and not socket.closing and not socket.closed and link.open():
            link.write(shared)
        else:
            others.append(eio_sid)
        sent += 1
    if others:
        pkt = eio_packet.Packet(eio_packet.MESSAGE, data=text[1:])
        for eio_sid in others:
            await sio.eio.send_packet(eio_sid, pkt)
    return sent
