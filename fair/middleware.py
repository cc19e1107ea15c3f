"""The fair's outer ASGI layer: what every request meets before any route, form or socket parses it.

- **Proxies.** Behind a TLS proxy, ``X-Forwarded-For`` and ``-Proto`` are
  believed only from ``FAIR_TRUSTED_PROXIES`` (uvicorn's own middleware), so
  that limits count the real address and cookies know the request was HTTPS.
- **Origins.** A browser opening the fair's sockets (websocket or polling)
  from a page of another origin is refused with 403 before Engine.IO sees
  it: the tablet's cookie would otherwise admit that page as the team.  The
  fair's origins are ``FAIR_PUBLIC_URL`` and ``FAIR_EXTRA_ORIGINS``; with
  neither, the origin the request was addressed to (its ``Host``).  An
  address opening connections too fast gets 429 on the handshake, before
  Engine.IO makes a session for it (``fair.limits``).
- **Requests.** A form or API request (anything but GET) draws on its
  address's bucket, as socket events do: a flood of sign-ins is refused with
  429 here, before anything reads it.
- **Bodies.** A body over ``MAX_BODY_BYTES`` (``MAX_MESSAGE_BYTES`` for
  Socket.IO's polling, ``MAX_UPLOAD_BYTES`` for imports and photos) is
  refused with 413 before anything buffers it, and a form, JSON or multipart
  body that cannot be read is 400, never an error page: asgi-csrf and the
  routes only ever see bodies they can parse.
- **Headers.** Every response says: scripts, styles and sockets only from
  this origin (CSP), never in a frame, no MIME sniffing, no Referer, and
  over HTTPS, HTTPS only from now on (HSTS).  uvicorn is told not to name
  itself (``uvicorn_options``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from fair import fence
from fair.core.errors import N_, Code, FairError
from fair.i18n import LOCALES, normalise_locale
from fair.limits import MAX_BODY_BYTES, MAX_MESSAGE_BYTES, MAX_UPLOAD_BYTES, MAX_WIRE_DEPTH, Limits, nesting_within
from fair.settings import Settings, origin_of

ASGIApp = Callable[[dict, Callable[[], Awaitable[dict]], Callable[[dict], Awaitable[None]]], Awaitable[None]]
SOCKETS = "/socket.io/"
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
]
# How uvicorn serves the fair (run.py, the tests): no "server" banner, proxies decided by the app, and
# no websocket message bigger than Engine.IO would take anyway.
UVICORN_OPTIONS = {
    # uvicorn's websockets-sansio (measured fastest for broadcasts, with uvloop when installed); uvicorn_options()
    # gives it a lighter receive queue for each of the hall's idle screens when the fenced live path runs.
    "ws": "websockets-sansio",
    "server_header": False,
    "proxy_headers": False,
    "ws_max_size": MAX_MESSAGE_BYTES + 1024,
    # No permessage-deflate: a compressed frame is made per connection, a plain one once for a whole room
    # (fair.live.fanout); the hall's messages are small and its network local.
    "ws_per_message_deflate": False,
    # Said, not guessed from the app: fair.app.FairApp answers each request without a coroutine of its own.
    "interface": "asgi3",
}


def uvicorn_options() -> dict[str, Any]:
    """``UVICORN_OPTIONS``, with the fenced websocket protocol (``fair.live.websocket``) when it runs (``fair.fence``),
    decided when called: at start-up."""
    if fence.active("live"):
        return {**UVICORN_OPTIONS, "ws": "fair.live.websocket:Protocol"}
    return dict(UVICORN_OPTIONS)


def origin_allowed(origin: str | None, scheme: str, host: str | None, allowed: frozenset[str] | None) -> bool:
    """Whether a browser page of ``origin`` may open the fair's sockets.

    No ``Origin`` header is no browser page (a script, or the Python client), which carries no
    tablet's cookie.  ``allowed`` None means the origin the request was addressed to.
    """
    if origin is None:
        return True
    if allowed is not None:
        return origin in allowed
    if not host:
        return False
    scheme = {"ws": "http", "wss": "https"}.get(scheme, scheme)
    return origin_of(origin) == origin_of(f"{scheme}://{host}") and origin_of(origin) == origin


class Shield:
    def __init__(self, app: ASGIApp, settings: Settings, limits: Limits) -> None:
        self.app, self.limits = app, limits
        self.allowed = settings.origins()
        self.hsts = f"max-age={settings.hsts_seconds}; includeSubDomains".encode() if settings.hsts_seconds else None

    def __call__(self, scope: dict, receive, send) -> Awaitable[None]:
        """Where the request goes, decided without a coroutine frame of its own: a screen's websocket runs
        inside this call for hours, and every frame it leaves open is kept per connection."""
        if scope["type"] == "websocket":
            if scope["path"].startswith(SOCKETS):
                return self._socket(scope, receive, send)
            return self.app(scope, receive, send)
        if scope["type"] != "http":
            return self.app(scope, receive, send)
        return self._http(scope, receive, send)

    async def _socket(self, scope: dict, receive, send) -> None:
        refusal = await self._refuse_socket(scope)
        if refusal is not None:
            await _deny_websocket(scope, receive, send, *refusal)
            return
        await self.app(scope, receive, send)

    async def _http(self, scope: dict, receive, send) -> None:
        send = self._with_headers(scope, send)
        sockets = scope["path"].startswith(SOCKETS)
        if sockets:
            refusal = await self._refuse_socket(scope)
            if refusal is not None:
                await _answer(send, scope, *refusal)
                return
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        if not sockets and not await self.limits.request(client[0] if client else "unknown"):
            await _answer(send, scope, 429, FairError(Code.rate_limited, TOO_MANY_REQUESTS))
            return
        limit = MAX_MESSAGE_BYTES if sockets else MAX_UPLOAD_BYTES if _uploads(scope["path"]) else MAX_BODY_BYTES
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > limit:
            await _answer(send, scope, 413 if declared.isdigit() else 400, FairError(Code.invalid_input, TOO_LARGE))
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            if len(body) > limit:
                await _answer(send, scope, 413, FairError(Code.invalid_input, TOO_LARGE))
                return
            if not message.get("more_body", False):
                break
        problem = None if sockets else _unreadable(headers.get(b"content-type", b""), body)
        if problem:
            await _answer(send, scope, 400, FairError(Code.invalid_input, problem))
            return
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse_socket(self, scope: dict) -> tuple[int, FairError] | None:
        """Why a request for the fair's sockets is refused before Engine.IO sees it, if it is."""
        if not self._origin_ok(scope):
            return 403, FairError(Code.forbidden, FOREIGN_ORIGIN)
        handshake = b"sid=" not in scope.get("query_string", b"")  # a new connection, not one going on
        client = scope.get("client")
        if handshake and not await self.limits.handshake(client[0] if client else "unknown"):
            return 429, FairError(Code.rate_limited, TOO_FAST)
        return None

    def _origin_ok(self, scope: dict) -> bool:
        headers = dict(scope["headers"])
        origin, host = headers.get(b"origin"), headers.get(b"host")
        return origin_allowed(
            origin.decode("latin-1") if origin is not None else None,
            scope.get("scheme", "http"),
            host.decode("latin-1") if host is not None else None,
            self.allowed,
        )

    def _with_headers(self, scope: dict, send):
        extra = list(HEADERS)
        if self.hsts and scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", self.hsts))

        async def sending(message: dict) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _REPLACED]
                message = {**message, "headers": kept + extra}
            await send(message)

        return sending


_REPLACED = frozenset({b"server", *(name for name, _ in HEADERS), b"strict-transport-security"})


def _uploads(path: str) -> bool:
    """The routes that take a file as their body: an organiser's spreadsheet, a venue's photo."""
    return path.startswith("/import/") or (path.startswith("/venue/") and path.endswith("/photo"))


def _unreadable(content_type: bytes, body: bytes) -> str | None:
    """Why a body cannot be read as what it says it is; None when it can (or says nothing we read)."""
    kind = content_type.split(b";", 1)[0].strip().lower()
    if kind == b"multipart/form-data":
        return N_("The fair's forms are not sent as multipart.")
    if kind not in (b"application/x-www-form-urlencoded", b"application/json"):
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return N_("The request body is not UTF-8.")
    if kind == b"application/json":
        if not nesting_within(text, MAX_WIRE_DEPTH):
            return N_("The request body nests too deep.")
        try:
            json.loads(text)
        except ValueError:
            return N_("The request body is not JSON.")
    else:
        try:
            parse_qsl(text, strict_parsing=False, max_num_fields=100)
        except ValueError:
            return N_("The request body is not a form.")
    return None


async def _answer(send, scope: dict, status: int, error: FairError) -> None:
    """A coded refusal, in the reader's language, as every route answers one."""
    body = json.dumps(
        {"ok": False, "error": {"code": str(error.code), "message": error.message(_locale(scope))}},
        ensure_ascii=False,
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _deny_websocket(scope: dict, receive, send, status: int, error: FairError) -> None:
    """Refuse a websocket handshake with an HTTP answer (uvicorn's denial response), else by closing it."""
    await receive()  # websocket.connect
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})  # before accept: uvicorn answers 403
        return
    body = json.dumps(
        {"ok": False, "error": {"code": str(error.code), "message": error.message(_locale(scope))}}, ensure_ascii=False
    ).encode()
    headers = [(b"content-type", b"application/json; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "websocket.http.response.start", "status": status, "headers": headers + HEADERS})
    await send({"type": "websocket.http.response.body", "body": body})


def _locale(scope: dict) -> str:
    """The fair_locale cookie's language (the pages'), else the browser's."""
    headers = dict(scope["headers"])
    for part in headers.get(b"cookie", b"").decode("latin-1").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "fair_locale" and value in LOCALES:
            return value
    return normalise_locale(headers.get(b"accept-language", b"").decode("latin-1"))


FOREIGN_ORIGIN = N_("A page of another site may not open the fair's connection.")
TOO_FAST = N_("Too many connections from this address: wait a moment.")
TOO_MANY_REQUESTS = N_("Too many requests: wait a moment.")
TOO_LARGE = N_("The request body is too large.")


def shielded(app: ASGIApp, settings: Settings, limits: Limits) -> Any:
    """``app`` behind the shield, and behind the trusted proxies' headers when there are any."""
    shield = Shield(app, settings, limits)
    if settings.trusted_proxies:
        return ProxyHeadersMiddleware(shield, trusted_hosts=list(settings.trusted_proxies))
    return shield
