"""The fair on the wire: python-socketio's AsyncServer as a thin adapter over the core.

- **Connect.** A browser page of another origin is refused (``fair.middleware``
  and Engine.IO's own check).  Each address may open so many connections, so
  fast (``fair.limits``).  The session is checked on connect: a device's
  (enrolled by a join card), an organiser's sign-in, or none for the public
  board.  The token comes in the Socket.IO ``auth`` object or in the session
  cookie.
- **Sync.** A screen then asks for ``sync`` with the last sequence number it
  applied (or none): it gets the events it missed, or a fresh view when it is
  too far behind, and from then on the ``live`` messages of its rooms.  The
  database is read *outside* the publisher's lock; the lock is taken only to
  line the reply up with the last published cycle and join the rooms.  The
  public always gets the (small) public view, read once per publishing cycle
  for every board that asks.
- **Commands.** Every command of the core is a Socket.IO event of the same
  name, ``{request_id, payload}``, answered by an ack ``{ok: true, data}`` or
  ``{ok: false, error: {code, message}}``.  Every event, of whatever name and
  with however many arguments, is counted against the sender and its address
  and answered.  The handler translates and limits; the core decides.
- **A stalled database** (``fair.db.Unavailable``: a lock held elsewhere, a
  slow disk, a lost server) is answered ``unavailable`` within the database
  timeout, on connect, sync, reads and commands alike; the screens try again.

See docs/protocol.md for every message.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any

import socketio

from fair.auth import authenticate
from fair.core import COMMANDS, Actor, Code, FairError, Role, access, audit, execute, queries, reports, sessions
from fair.core.access import DevicePolicy
from fair.core.errors import N_, UNAVAILABLE_MSGID
from fair.core.inputs import MAX_ID, Input, parse
from fair.core.visibility import rooms_of
from fair.db import Database, Unavailable
from fair.i18n import normalise_locale
from fair.limits import MAX_MESSAGE_BYTES, Limits, resident_kind, within_budget
from fair.live import fanout
from fair.live.crossing import Crossing
from fair.live.packets import MALFORMED, BoundedPacket
from fair.live.publisher import BROADCAST_ROOMS, Publisher, shard
from fair.middleware import origin_allowed
from fair.models import Event
from fair.tokens import Tokens

log = logging.getLogger(__name__)
SESSION_COOKIE = "fair_session"
RESIDENT_COOKIE = "fair_resident"  # a phone on the wishes page (fair.pages sets it)
RESYNC_LIMIT = 500  # a screen further behind than this gets a fresh view instead of the events
ENVELOPE = frozenset({"request_id", "payload"})
SYNC_ATTEMPTS = 3  # reads outside the lock before the last one is made holding it
PERSISTENCE = 50  # rate_limited answers in a row after which a connection is closed instead of answered
SIGN_OUTS = {"device.sign_out": ("device", "device_id"), "organiser.sign_out": ("organiser", "session_id")}

FORBIDDEN = FairError(Code.forbidden, N_("Your role may not do this."))
RATE_LIMITED = FairError(Code.rate_limited, N_("Too many requests: wait a moment."))
TOO_MANY_RESIDENTS = FairError(  # an address's residents' limit (fair.limits RESIDENT), or Redis away
    Code.rate_limited, N_("Too many at once from this network. Nothing was counted: try again in a minute.")
)
TOO_MANY_CONNECTIONS = FairError(Code.rate_limited, N_("Too many connections at once: close some screens."))
ONE_ARGUMENT = FairError(Code.invalid_input, N_("An event takes one argument."))
UNAVAILABLE = FairError(Code.unavailable, UNAVAILABLE_MSGID)
MALFORMED_FRAME = FairError(
    Code.invalid_input, N_("This message could not be read: it is not JSON, or nests too deep.")
)


@dataclass
class Connection:
    actor: Actor
    token: str | None
    locale: str
    address: str
    sender: str  # whose limits it draws on: its session, or for the public the connection itself
    shard: int  # the part of the broadcast rooms this connection is sent in, fixed for its life
    waved_off: int = 0  # rate_limited answers in a row: a client that goes on regardless is disconnected


class Live:
    def __init__(
        self,
        tokens: Tokens,
        *,
        interval: float,
        limits: Limits,
        policy: DevicePolicy,
        origins: frozenset[str] | None = None,
        crossing: Crossing | None = None,
    ) -> None:
        """``crossing``: the other workers, when there are several; each then sits behind a plain load balancer
        that may send each HTTP request of a connection to another worker, so the connections are websockets
        only (Engine.IO's long-polling keeps its session in one worker's memory)."""
        self.tokens, self.interval, self.limits, self.policy = tokens, interval, limits, policy
        self.origins, self.crossing = origins, crossing
        self.sio = fanout.server(
            transports=["websocket"] if crossing else None,
            async_mode="asgi",
            cors_allowed_origins=self._origin_allowed,  # the fair's own origins only (fair.middleware says 403 first)
            max_http_buffer_size=MAX_MESSAGE_BYTES,  # beyond this the connection is dropped unread
            serializer=BoundedPacket,  # nesting is checked before a frame is decoded
            ping_interval=10,
            ping_timeout=10,
        )
        self.connections: dict[str, Connection] = {}
        self._shards = itertools.count()
        self._public: dict[str, Any] | None = None  # the public view, for the sequence number it shows
        self._public_lock = asyncio.Lock()
        self.sio.on("connect", self._connect)
        self.sio.on("disconnect", self._disconnect)
        self.sio.on("sync", self._sync)
        self.sio.on("sessions", self._sessions)
        self.sio.on("recommendations", self._reader(queries.recommendations))
        self.sio.on("coverage", self._reader(queries.coverage))
        self.sio.on("districts", self._reader(queries.districts))
        self.sio.on("analytics", self._reader(reports.analytics))
        self.sio.on("audit", self._reader(audit.history, audit.AuditQuery))
        self.sio.on("supervision", self._reader(queries.supervision))
        for name in COMMANDS:
            self.sio.on(name, self._command_handler(name))
        self.sio.on("*", self._unknown)

    async def start(self, db: Database, fair_id: int) -> None:
        """Serve ``fair_id`` from ``db``: called by the application's lifespan, which owns the database."""
        self.db, self.fair_id = db, fair_id
        self.publisher = Publisher(db, self.sio, fair_id, self.interval, on_event=self._after_event)
        await self.publisher.start()
        if self.crossing:
            await self.crossing.start(db, self._send_away_here)

    async def stop(self) -> None:
        if self.crossing:
            await self.crossing.stop()
        await self.publisher.stop()

    def _origin_allowed(self, origin: str | None, environ: dict) -> bool:
        # Engine.IO's environ takes its scheme from X-Forwarded-Proto whoever sent it: the scope's is the one
        # uvicorn set, believing only trusted proxies.
        scheme = environ.get("asgi.scope", {}).get("scheme", "http")
        return origin_allowed(origin, scheme, environ.get("HTTP_HOST"), self.origins)

    async def _connect(self, sid: str, environ: dict, auth: Any = None) -> None:
        auth = auth if isinstance(auth, dict) else {}
        asked = auth.get("locale")
        locale = normalise_locale(asked if isinstance(asked, str) else environ.get("HTTP_ACCEPT_LANGUAGE"))
        client = environ.get("asgi.scope", {}).get("client")  # Engine.IO's REMOTE_ADDR is always 127.0.0.1
        address = str(client[0]) if client else "unknown"
        token = auth.get("token") or _cookie(environ, SESSION_COOKIE)
        try:
            actor = await authenticate(self.db, self.tokens, self.fair_id, token, self.policy)
        except FairError as error:
            raise _refused(error, locale) from None
        except Unavailable:
            raise _refused(UNAVAILABLE, locale) from None
        if actor.role == Role.public and auth.get("as") == "resident":
            phone = self.tokens.read_resident(_cookie(environ, RESIDENT_COOKIE))
            if phone is not None:  # a phone that opened a residents' page: the core decides what it may do
                actor = Actor.resident(self.fair_id, phone.key, phone.resident_id)
        # A session's limits outlive its connections.  The public has no session: each board draws on its own
        # bucket, and its address's bucket and connection quota bound how many boards one address may run.
        session = f"{actor.role}:{actor.session_id}" if actor.session_id is not None else None
        if not await self.limits.connect(address, session):  # (too many too fast was refused on the handshake)
            raise _refused(TOO_MANY_CONNECTIONS, locale)
        sender = session or (actor.key if actor.role == Role.resident else f"public:{sid}")
        self.connections[sid] = Connection(actor, token or None, locale, address, sender, next(self._shards))

    async def _disconnect(self, sid: str, reason: Any = None) -> None:
        connection = self.connections.pop(sid, None)
        if connection is not None:
            actor = connection.actor
            session = f"{actor.role}:{actor.session_id}" if actor.session_id is not None else None
            await self.limits.disconnect(connection.address, session)

    async def _admit(self, sid: str, extra: tuple) -> tuple[Connection | None, dict[str, Any] | None]:
        """The connection an event came from, or the answer to give instead: every event is counted."""
        connection = self.connections.get(sid)
        if connection is None:
            return None, _refusal(FORBIDDEN, "zh_CN")
        if not await self.limits.event(connection.sender, connection.address):
            return None, await self._wave_off(sid, connection)
        connection.waved_off = 0
        if extra:
            return None, _refusal(ONE_ARGUMENT, connection.locale)
        return connection, None

    async def _wave_off(self, sid: str, connection: Connection) -> dict[str, Any]:
        """rate_limited; and a connection that ignores it for long is closed (refusing costs too)."""
        connection.waved_off += 1
        if connection.waved_off > PERSISTENCE:
            self.sio.start_background_task(self.sio.disconnect, sid)
        return _refusal(RATE_LIMITED, connection.locale)

    async def _sync(self, sid: str, data: Any = None, *extra: Any) -> dict[str, Any]:
        """Bring a screen up to date and subscribe it: the events it missed, or a fresh view."""
        connection, refusal = await self._admit(sid, extra)
        if connection is None:
            return refusal
        if not await self.limits.sync(connection.sender):
            return await self._wave_off(sid, connection)
        since = data.get("since") if isinstance(data, dict) else None
        if since is not None and (not isinstance(since, int) or isinstance(since, bool) or not 0 <= since <= MAX_ID):
            error = FairError(Code.invalid_input, N_("since is the last sequence number applied, or null."))
            return _refusal(error, connection.locale)
        try:
            return await self._subscribe(sid, connection, since)
        except FairError as error:
            return _refusal(error, connection.locale)
        except Unavailable:
            return _refusal(UNAVAILABLE, connection.locale)

    async def _subscribe(self, sid: str, connection: Connection, since: int | None) -> dict[str, Any]:
        # Signed out while this connection was being made?
        await authenticate(self.db, self.tokens, self.fair_id, connection.token, self.policy)
        reply = await self._catch_up(connection.actor, since)
        for attempt in range(SYNC_ATTEMPTS + 1):
            last = attempt == SYNC_ATTEMPTS
            async with self.publisher.joining():
                if last:  # cycles kept overtaking the reads: read holding the lock, as a last resort
                    reply = await self._catch_up(connection.actor, since, reply)
                if last or self.publisher.published <= reply["upto"]:
                    if not self.sio.manager.is_connected(sid, "/"):  # gone while its sync was read
                        return {"ok": True, "data": reply}  # (an answer nobody receives)
                    # Every event after `upto` goes out in a later cycle, which this screen will be in.
                    for room in rooms_of(connection.actor):
                        await self.sio.enter_room(sid, room)
                        if room in BROADCAST_ROOMS:
                            await self.sio.enter_room(sid, shard(room, connection.shard))
                    return {"ok": True, "data": reply}
            reply = await self._catch_up(connection.actor, since, reply)  # a cycle published past what we read
        raise AssertionError("unreachable")

    async def _catch_up(self, actor: Actor, since: int | None, before: dict | None = None) -> dict[str, Any]:
        """What a screen at ``since`` needs: the events after it, or a view; ``before``, a reply to extend."""
        if actor.role == Role.public:
            return {"mode": "view", "upto": (view := await self._public_view())["seq"], "view": view}
        if before is not None and before["mode"] == "events":
            since, earlier = before["upto"], before["events"]
        else:
            earlier = []
        async with self.db.read() as session:
            events = None
            if since is not None:
                events = await queries.events_for(session, actor, since, max(0, RESYNC_LIMIT - len(earlier)))
            if events is None:
                shown = await queries.view(session, actor)
                return {"mode": "view", "upto": shown["seq"], "view": shown}
            upto = max(since, await queries.last_seq(session, actor))
            current = await queries.tally_snapshot(session, actor)
        return {"mode": "events", "upto": upto, "events": earlier + events, "tally": current}

    async def _public_view(self) -> dict[str, Any]:
        """The public view, read once per publishing cycle however many boards ask for it.

        A view that covers what the publisher has sent is good enough without asking the database: the
        board joins its rooms before the next cycle, which sends it whatever came after (``_subscribe``).
        So a thousand boards reconnecting at once cost a read per publishing cycle, not one each (a reconnect
        storm).
        """
        if self._public is not None and self._public["seq"] >= self.publisher.published:
            return self._public
        async with self._public_lock:  # the boards that find it stale wait for one read, made by the first
            if self._public is None or self._public["seq"] < self.publisher.published:
                async with self.db.read() as session:
                    self._public = await queries.view(session, Actor.public(self.fair_id))
        return self._public

    async def _sessions(self, sid: str, data: Any = None, *extra: Any) -> dict[str, Any]:
        """The organiser's list of every card's devices and of the organisers signed in."""
        connection, refusal = await self._admit(sid, extra)
        if connection is None:
            return refusal
        try:
            async with self.db.read() as session:
                cards = await access.register(session, connection.actor, self.policy)
                signed_in = await sessions.register(session, connection.actor)
        except FairError as error:
            return _refusal(error, connection.locale)
        except Unavailable:
            return _refusal(UNAVAILABLE, connection.locale)
        return {"ok": True, "data": {**cards, "organisers": signed_in}}

    def _reader(self, query, asks: type[Input] | None = None):
        """A read that is not part of any view (recommendations, coverage): asked for, answered, not pushed.

        ``asks``: the input the read takes (the audit's filters), checked like a command's payload.
        """

        async def read(sid: str, data: Any = None, *extra: Any) -> dict[str, Any]:
            connection, refusal = await self._admit(sid, extra)
            if connection is None:
                return refusal
            if not await self.limits.sync(connection.sender):
                return await self._wave_off(sid, connection)
            try:
                arguments = () if asks is None else (parse(asks, {} if data is None else data),)
                async with self.db.read() as session:
                    return {"ok": True, "data": await query(session, connection.actor, *arguments)}
            except FairError as error:
                return _refusal(error, connection.locale)
            except Unavailable:
                return _refusal(UNAVAILABLE, connection.locale)

        return read

    def _command_handler(self, name: str):
        async def handle(sid: str, data: Any = None, *extra: Any) -> dict[str, Any]:
            connection, refusal = await self._admit(sid, extra)
            if connection is None:
                return refusal
            actor = connection.actor
            kind = resident_kind(name, actor.resident_id is not None) if actor.role == Role.resident else None
            if kind is not None and not await self.limits.resident(kind, connection.address):
                return _refusal(TOO_MANY_RESIDENTS, connection.locale)
            if not isinstance(data, dict) or not set(data) <= ENVELOPE or not within_budget(data):
                error = FairError(
                    Code.invalid_input, N_("A command is an object {request_id, payload} of modest size.")
                )
                return _refusal(error, connection.locale)
            try:
                outcome = await execute(
                    self.db, connection.actor, name, data.get("payload", {}), data.get("request_id")
                )
            except FairError as error:
                return _refusal(error, connection.locale)
            except Exception:  # a bug: the screen still gets an answer, and the log the traceback
                log.exception("command %s failed", name)
                return _refusal(
                    FairError(Code.internal_error, N_("Something went wrong on our side.")), connection.locale
                )
            if name in SIGN_OUTS:
                kind, key = SIGN_OUTS[name]
                await self.send_away(kind, data["payload"][key])
            return {"ok": True, "data": outcome.data}

        return handle

    async def _unknown(self, event: Any, sid: str, data: Any = None, *extra: Any) -> dict[str, Any]:
        connection, refusal = await self._admit(sid, ())
        if connection is None:
            return refusal
        if event == MALFORMED:
            return _refusal(MALFORMED_FRAME, connection.locale)
        return _refusal(
            FairError(Code.invalid_input, N_("Unknown command %(command)s."), command=str(event)[:64]),
            connection.locale,
        )

    async def send_away(self, kind: str, session_id: int) -> None:
        """Disconnect the screens of a session that just ended (``kind`` is "device" or "organiser"), on every
        worker."""
        await self._send_away_here(kind, session_id)
        if self.crossing:
            await self.crossing.send_away(kind, session_id)

    async def _send_away_here(self, kind: str, session_id: int) -> None:
        organiser = kind == "organiser"
        for sid, connection in list(self.connections.items()):
            actor = connection.actor
            if actor.session_id == session_id and (actor.role == Role.organiser) == organiser:
                await self.sio.disconnect(sid)

    async def _after_event(self, event: Event) -> None:
        """Send away the screens of a card the moment it is revoked."""
        if event.type == "access.revoked":
            revoked = event.payload["credential"]["id"]
            for sid, connection in list(self.connections.items()):
                if connection.actor.credential_id == revoked:
                    await self.sio.disconnect(sid)


def _refusal(error: FairError, locale: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": str(error.code), "message": error.message(locale)}}


def _refused(error: FairError, locale: str) -> socketio.exceptions.ConnectionRefusedError:
    return socketio.exceptions.ConnectionRefusedError(error.message(locale), {"code": str(error.code)})


def _cookie(environ: dict, name: str) -> str | None:
    header = environ.get("HTTP_COOKIE")
    if not header:
        return None
    cookie = SimpleCookie()
    try:
        cookie.load(header)
    except CookieError:  # a malformed Cookie header is no credential
        return None
    return cookie[name].value if name in cookie else None
