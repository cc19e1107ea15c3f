"""The fair on the wire: python-socketio's AsyncServer as a thin adapter over the core.

- **Connect.** Credentials are checked on connect: a join token (a booth, a
  team, a projector), an organiser token, or none for the public board.  The
  token comes in the Socket.IO ``auth`` object or in the session cookie.
- **Sync.** A screen then asks for ``sync`` with the last sequence number it
  applied (or none): it gets the events it missed, or a fresh view when it is
  too far behind, and from then on the ``live`` messages of its rooms.
- **Commands.** Every command of the core is a Socket.IO event of the same
  name, ``{request_id, payload}``, answered by an ack ``{ok: true, data}`` or
  ``{ok: false, error: {code, message}}``.  The handler translates and limits;
  the core decides.

See docs/protocol.md for every message.
"""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie
from typing import Any

import socketio

from fair.auth import authenticate
from fair.core import COMMANDS, Actor, Code, FairError, execute, queries
from fair.core.access import admit
from fair.core.errors import N_
from fair.core.visibility import rooms_of
from fair.db import Database
from fair.i18n import normalise_locale
from fair.live.limits import RateLimit, within_budget
from fair.live.publisher import BROADCAST_ROOMS, Publisher, shard
from fair.models import Event
from fair.tokens import Tokens

log = logging.getLogger(__name__)
SESSION_COOKIE = "fair_session"
RESYNC_LIMIT = 500  # a screen further behind than this gets a fresh view instead of the events
ENVELOPE = frozenset({"request_id", "payload"})


@dataclass
class Connection:
    actor: Actor
    locale: str
    limit: RateLimit
    shard: int  # the part of the broadcast rooms this connection is sent in, fixed for its life


class Live:
    def __init__(self, tokens: Tokens, *, interval: float, command_rate: float, command_burst: int) -> None:
        self.tokens, self.interval = tokens, interval
        self.command_rate, self.command_burst = command_rate, command_burst
        self.sio = socketio.AsyncServer(
            async_mode="asgi",
            cors_allowed_origins=[],  # the screens are served from this origin
            max_http_buffer_size=4_000_000,  # beyond this the connection is dropped; within it, limits.py refuses
            ping_interval=10,
            ping_timeout=10,
        )
        self.connections: dict[str, Connection] = {}
        self._shards = itertools.count()
        self.sio.on("connect", self._connect)
        self.sio.on("disconnect", self._disconnect)
        self.sio.on("sync", self._sync)
        for name in COMMANDS:
            self.sio.on(name, self._command_handler(name))
        self.sio.on("*", self._unknown)

    async def start(self, db: Database, fair_id: int) -> None:
        """Serve ``fair_id`` from ``db``: called by the application's lifespan, which owns the database."""
        self.db, self.fair_id = db, fair_id
        self.publisher = Publisher(db, self.sio, fair_id, self.interval, on_event=self._after_event)
        await self.publisher.start()

    async def stop(self) -> None:
        await self.publisher.stop()

    async def _connect(self, sid: str, environ: dict, auth: Any) -> None:
        auth = auth if isinstance(auth, dict) else {}
        asked = auth.get("locale")
        locale = normalise_locale(asked if isinstance(asked, str) else environ.get("HTTP_ACCEPT_LANGUAGE"))
        token = auth.get("token") or _cookie(environ, SESSION_COOKIE)
        try:
            actor = await authenticate(self.db, self.tokens, self.fair_id, token)
        except FairError as error:
            refusal = socketio.exceptions.ConnectionRefusedError(error.message(locale), {"code": str(error.code)})
            raise refusal from None
        limit = RateLimit(self.command_rate, self.command_burst)
        self.connections[sid] = Connection(actor, locale, limit, next(self._shards))

    async def _disconnect(self, sid: str, reason: Any = None) -> None:
        self.connections.pop(sid, None)

    async def _sync(self, sid: str, data: Any = None) -> dict[str, Any]:
        """Bring a screen up to date and subscribe it: the events it missed, or a fresh view."""
        connection = self.connections.get(sid)
        if connection is None:
            return _refusal(FairError(Code.forbidden, N_("Your role may not do this.")), "zh_CN")
        since = data.get("since") if isinstance(data, dict) else None
        if since is not None and (not isinstance(since, int) or isinstance(since, bool) or not 0 <= since <= 2**62):
            error = FairError(Code.invalid_input, N_("since is the last sequence number applied, or null."))
            return _refusal(error, connection.locale)
        async with self.publisher.joining():
            async with self.db.read() as session:
                if connection.actor.credential_id is not None:
                    try:  # revoked while this connection was being made
                        await admit(session, connection.actor.credential_id)
                    except FairError as error:
                        return _refusal(error, connection.locale)
                events = None
                if since is not None:
                    events = await queries.events_for(session, connection.actor, since, RESYNC_LIMIT)
                if events is None:
                    shown = await queries.view(session, connection.actor)
                    reply = {"mode": "view", "upto": shown["seq"], "view": shown}
                else:
                    upto = max(since, await queries.last_seq(session, connection.actor))
                    current = await queries.tally_snapshot(session, connection.actor)
                    reply = {"mode": "events", "upto": upto, "events": events, "tally": current}
            for room in rooms_of(connection.actor):
                await self.sio.enter_room(sid, room)
                if room in BROADCAST_ROOMS:
                    await self.sio.enter_room(sid, shard(room, connection.shard))
        return {"ok": True, "data": reply}

    def _command_handler(self, name: str):
        async def handle(sid: str, data: Any = None) -> dict[str, Any]:
            connection = self.connections.get(sid)
            if connection is None:
                return _refusal(FairError(Code.forbidden, N_("Your role may not do this.")), "zh_CN")
            if not connection.limit.take(time.monotonic()):
                return _refusal(
                    FairError(Code.rate_limited, N_("Too many requests: wait a moment.")), connection.locale
                )
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
            return {"ok": True, "data": outcome.data}

        return handle

    async def _unknown(self, event: str, sid: str, data: Any = None) -> dict[str, Any]:
        connection = self.connections.get(sid)
        locale = connection.locale if connection else "zh_CN"
        return _refusal(
            FairError(Code.invalid_input, N_("Unknown command %(command)s."), command=str(event)[:64]), locale
        )

    async def _after_event(self, event: Event) -> None:
        """Send away the screens of a credential the moment it is revoked."""
        if event.type == "access.revoked":
            revoked = event.payload["credential"]["id"]
            for sid, connection in list(self.connections.items()):
                if connection.actor.credential_id == revoked:
                    await self.sio.disconnect(sid)


def _refusal(error: FairError, locale: str) -> dict[str, Any]:
    return {"ok": False, "error": {"code": str(error.code), "message": error.message(locale)}}


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
