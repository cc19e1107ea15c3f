"""Engine.IO connections that open on a websocket: one small object each, written to directly.

**Fenced** (``fair.fence``, path ``live``): this module uses private parts of
uvicorn, python-engineio and python-socketio, and is imported only when the
installed versions are those it was tested with and ``FAIR_FENCED_PATHS`` is
on; tests/test_fence.py checks the names it relies on.  Otherwise
``fair.live.fanout`` and ``fair.middleware.uvicorn_options`` use those
libraries' public APIs instead, and nothing here runs.

python-engineio gives every connection an ``asyncio.Queue`` and a writer task
that waits on it, reads the websocket through one more task per message
(``asyncio.wait_for``), sleeps in a task of its own until each ping, and keeps
a class object made for the request's body (``translate_request``).  Idle,
that is about 20 KB of the 41 KB an idle board cost, beside uvicorn's 17 KB
(``docs/performance.md``).

A screen's connection that asks for the websocket transport from the start
(every screen does: ``transports: ["websocket"]``) is served here instead:

- every packet, pings and the close included, is written as a frame on the
  connection's transport the moment it is sent, so packets leave in the order
  they were sent with no queue between, and a room's broadcast can write one
  shared frame on every connection (``fair.live.fanout``);
- the connection's own task (uvicorn's) reads the websocket and hands each
  packet to Engine.IO, as python-engineio's would;
- the next ping waits on a timer handle, not a task; a screen that stops
  answering is closed by Engine.IO's service task, which checks every
  connection's last ping, as it does for python-engineio's own sockets.

The wire is Engine.IO 4 as python-engineio speaks it.  This holds only under
uvicorn's ``websockets-sansio`` protocol with no extension (permessage-deflate
would need a frame per connection); any other connection, and one that came
by long-polling and upgraded, is python-engineio's own.  The fair serves
with that protocol (``Protocol``, ``fair.middleware.uvicorn_options``), whose
receive queue is a list and a future (``Mailbox``) rather than uvicorn's
``asyncio.Queue``, another 3.3 KB a connection.  Writing never waits:
a screen that reads slowly has its frames buffered by the event loop until
the ping timeout closes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
import sys
import time
from collections.abc import Awaitable, Collection
from typing import Any

import engineio
import socketio
from engineio import async_socket
from engineio import exceptions as eio_exceptions
from engineio import packet as eio_packet
from engineio.async_drivers import asgi as engineio_asgi
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

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


def packet_frame(pkt: eio_packet.Packet) -> bytes:
    encoded = pkt.encode()
    return frame(encoded, BINARY) if isinstance(encoded, bytes) else frame(encoded.encode())


def direct_protocol(environ: dict) -> Any | None:
    """uvicorn's sansio websocket protocol behind this request, if frames may be written to its transport as
    they are: no extension will be agreed on it."""
    protocol = getattr(environ.get("asgi.send"), "__self__", None)
    if not isinstance(protocol, WebSocketsSansIOProtocol) or protocol.config.ws_per_message_deflate:
        return None
    return protocol


class Mailbox:
    """What uvicorn asks of a connection's receive queue (one reader), in a list and a future: an
    ``asyncio.Queue`` is four deques, 3.3 KB for each idle connection."""

    __slots__ = ("items", "waiter")

    def __init__(self) -> None:
        self.items: list[Any] = []
        self.waiter: asyncio.Future | None = None

    def put_nowait(self, item: Any) -> None:
        self.items.append(item)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def empty(self) -> bool:
        return not self.items

    async def get(self) -> Any:
        while not self.items:
            self.waiter = asyncio.get_running_loop().create_future()
            try:
                await self.waiter
            finally:
                self.waiter = None
        return self.items.pop(0)


class Protocol(WebSocketsSansIOProtocol):
    """uvicorn's sansio websocket protocol (``uvicorn_options``), with a :class:`Mailbox` for its queue."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = Mailbox()


class DirectSocket(async_socket.AsyncSocket):
    """An Engine.IO socket whose packets are written on its websocket's transport as they are sent."""

    def __init__(self, server: engineio.AsyncServer, sid: str, protocol: Any) -> None:
        # Not BaseSocket's __init__: it makes the queue this socket has no use for.
        self.server, self.sid, self.session = server, sid, {}
        self.queue = None
        self.last_ping = time.time()
        self.connected = self.upgrading = self.upgraded = self.closing = self.closed = False
        self.protocol = protocol
        self.early: list[bytes] | None = []  # frames sent before the websocket is accepted (the open packet)
        self.ping_timer: asyncio.TimerHandle | None = None

    def write(self, data: bytes) -> None:
        """Write a frame now, keep it until the websocket is accepted, or drop it once the websocket is ending."""
        if self.early is not None:
            self.early.append(data)
            return
        protocol = self.protocol
        if not (protocol.close_sent or protocol.disconnected or protocol.transport.is_closing()):
            protocol.transport.write(data)

    async def send(self, pkt: eio_packet.Packet) -> None:
        if await self.check_ping_timeout():
            self.write(packet_frame(pkt))

    def schedule_ping(self) -> None:
        if self.last_ping:  # only once the previous ping was answered, as python-engineio does
            self.last_ping = None
            self.ping_timer = asyncio.get_running_loop().call_later(self.server.ping_interval, self._ping)

    def _ping(self) -> None:
        self.ping_timer = None
        if not self.closing and not self.closed:
            self.last_ping = time.time()
            self.write(packet_frame(eio_packet.Packet(eio_packet.PING)))

    async def close(self, wait: bool = True, abort: bool = False, reason: Any = None) -> None:
        """Close as python-engineio does, then end the websocket, which also ends :meth:`serve`'s reading."""
        if self.closed or self.closing:
            return
        self.closing = True
        if self.ping_timer is not None:
            self.ping_timer.cancel()
        await self.server._trigger_event(
            "disconnect", self.sid, reason or self.server.reason.SERVER_DISCONNECT, run_async=False
        )
        if not abort:
            self.write(packet_frame(eio_packet.Packet(eio_packet.CLOSE)))
        self.closed = True
        if self.early is None and not (self.protocol.close_sent or self.protocol.disconnected):
            with contextlib.suppress(Exception):  # the peer went first: nothing is left to end
                await self.protocol.send({"type": "websocket.close"})

    async def serve(self, receive: Any) -> None:
        """Accept the websocket, send what was waiting, and read the screen's packets until either side ends."""
        try:
            await self.protocol.send({"type": "websocket.accept"})
            early, self.early = self.early, None
            self.connected = self.upgraded = True
            for data in early:
                self.write(data)
            limit = self.server.max_http_buffer_size
            while not self.closed:
                event = await receive()
                if event["type"] != "websocket.receive":
                    break
                data = event.get("text")
                if data is None:
                    data = event.get("bytes")
                if data is None or len(data) > limit:
                    break
                try:
                    await self.receive(eio_packet.Packet(encoded_packet=data))
                except eio_exceptions.UnknownPacketError:
                    pass
                except eio_exceptions.SocketIsClosedError:
                    break
                except Exception:
                    self.server.logger.exception("Unknown receive error")
        finally:  # however it ended (the peer gone before the accept, too), the socket is closed and forgotten
            await self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)


class EngineServer(engineio.AsyncServer):
    """python-engineio's server, whose connections that open on a websocket are :class:`DirectSocket`\\ s."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._async = {**self._async, "translate_request": translate_request, "websocket": UpgradedWebSocket}

    async def _handle_connect(self, environ: dict, transport: str, jsonp_index: int | None = None) -> Any:
        protocol = direct_protocol(environ) if transport == "websocket" else None
        if protocol is None:
            return await super()._handle_connect(environ, transport, jsonp_index)
        if self.start_service_task:  # the task that closes connections whose pings go unanswered
            self.start_service_task = False
            self.service_task_handle = self.start_background_task(self._service_task)
        sid = self.generate_id()
        socket = self.sockets[sid] = DirectSocket(self, sid, protocol)
        opened = {
            "sid": sid,
            "upgrades": [],
            "pingTimeout": int(self.ping_timeout * 1000),
            "pingInterval": int(self.ping_interval + self.ping_interval_grace_period) * 1000,
            "maxPayload": self.max_http_buffer_size,
        }
        await socket.send(eio_packet.Packet(eio_packet.OPEN, opened))
        answer = await self._trigger_event("connect", sid, environ, run_async=False)
        if answer is not None and answer is not True:
            del self.sockets[sid]
            self.logger.warning("Application rejected connection")
            return self._unauthorized(answer or None)
        socket.schedule_ping()
        try:
            await socket.serve(environ["asgi.receive"])
        finally:
            if socket.closed and self.sockets.get(sid) is socket:
                del self.sockets[sid]
        return None  # nothing more to send: what handle_request returns is what the ASGI call returns


class UpgradedWebSocket(engineio_asgi.WebSocket):
    """python-engineio's websocket for a connection that upgrades from long-polling, whose end returns None:
    ``ASGIApp`` hands what Engine.IO returns to uvicorn as the ASGI call's own result."""

    async def __call__(self, environ: dict) -> None:
        await super().__call__(environ)


async def translate_request(scope: dict, receive: Any, send: Any) -> dict:
    """python-engineio's ASGI request translation, without the class it defines on every call for an HTTP
    body when the request is a websocket's (kept, with the environ, for the connection's life)."""
    if scope["type"] != "websocket":
        return await engineio_asgi.translate_request(scope, receive, send)
    if (await receive())["type"] != "websocket.connect":
        return {}
    query_string = scope.get("query_string", b"").decode("utf-8", "replace")
    environ = {
        "wsgi.input": None,
        "wsgi.errors": sys.stderr,
        "wsgi.async": True,
        "REQUEST_METHOD": "GET",
        "PATH_INFO": scope["path"],
        "QUERY_STRING": query_string,
        "RAW_URI": scope["path"] + ("?" + query_string if query_string else ""),
        "SCRIPT_NAME": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "0",
        "asgi.receive": receive,
        "asgi.send": send,
        "asgi.scope": scope,
    }
    for name, value in scope["headers"]:
        try:
            key, value = "HTTP_" + name.decode("utf-8").upper().replace("-", "_"), value.decode("utf-8")
        except UnicodeDecodeError:
            continue
        environ[key] = f"{environ[key]},{value}" if key in environ else value
    environ["wsgi.url_scheme"] = environ.get("HTTP_X_FORWARDED_PROTO", "http")
    return environ


class AsyncServer(socketio.AsyncServer):
    """python-socketio's server whose websocket connections are written to directly (``emit``)."""

    fenced = True  # fair.live.fanout: this server's rooms are sent to by ``emit`` below

    def _engineio_server_class(self):
        return EngineServer

    def handle_request(self, *args: Any, **kwargs: Any) -> Awaitable[Any]:
        """Engine.IO's coroutine itself, not one awaiting it: a websocket runs inside it for its whole life."""
        return self.eio.handle_request(*args, **kwargs)


class ASGIApp(socketio.ASGIApp):
    """python-socketio's ASGI application, which hands a websocket to Engine.IO without a coroutine frame of its
    own: the connection runs inside this call for its whole life, and every frame left open is kept per screen."""

    def __call__(self, scope: dict, receive: Any, send: Any) -> Awaitable[Any]:
        if scope["type"] == "websocket" and self._ensure_trailing_slash(scope["path"]).startswith(self.engineio_path):
            return self.engineio_server.handle_request(scope, receive, send)
        return super().__call__(scope, receive, send)


async def emit(sio: AsyncServer, text: str, members: dict[str, str], skip: Collection[str]) -> int:
    """Send the Engine.IO text ``text`` to ``members`` (sid -> Engine.IO sid) but ``skip``: one frame for all the
    connections that opened on the websocket, python-engineio's ``send_packet`` for the others.

    Returns how many connections it was sent to.
    """
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
