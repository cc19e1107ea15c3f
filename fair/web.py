"""HTTP routes: thin adapters over the core's queries; a FairError becomes a coded JSON error.

The JSON routes serve what a script or a first page load needs, under the
same permissions as the sockets: the caller is whoever its session token (an
``Authorization: Bearer`` header, or the session cookie) says, else the public.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fair import auth
from fair.core import Actor, queries, replay
from fair.core.errors import N_, UNAVAILABLE_MSGID, Code, FairError
from fair.i18n import normalise_locale
from fair.limits import MAX_WIRE_DEPTH, nesting_within, retry_after
from fair.live.server import SESSION_COOKIE

log = logging.getLogger(__name__)
STATUS = {
    Code.invalid_input: 400,
    Code.not_found: 404,
    Code.forbidden: 403,
    Code.not_a_party: 403,
    Code.rate_limited: 429,
    Code.unconfirmed: 403,
    Code.no_proof: 403,
    Code.unavailable: 503,
}


async def healthz(request: Request) -> JSONResponse:
    """200 when the database answers; 503 otherwise, for a load balancer or a watchdog.

    With several workers it also says whether Redis answers (``"redis": "degraded"`` when not): the worker
    still serves its own screens then, so it stays healthy for the load balancer.
    """
    state = request.app.state
    try:
        await state.db.ping()
    except Exception:  # any failure to reach the database is "unhealthy"; what it was is for the log only
        log.exception("the database does not answer")
        return JSONResponse({"ok": False}, status_code=503)
    body = {"ok": True, "fair_id": state.fair_id}
    if state.live.crossing is not None:
        body["redis"] = "degraded" if state.live.crossing.degraded or state.limits.store.degraded else "ok"
    return JSONResponse(body)


async def tally(request: Request) -> JSONResponse:
    return await _read(request, lambda session, actor: queries.tally_snapshot(session, actor))


async def replayed(request: Request) -> JSONResponse:
    """The day's board again, frame by frame (``fair.core.replay``): public, as the board is."""
    return await _read(request, replay.board)


async def offerings(request: Request) -> JSONResponse:
    return await _read(request, lambda session, actor: queries.offerings(session, actor))


async def view(request: Request) -> JSONResponse:
    """Everything the caller's screen shows: a team's or booth's own state, the organiser's register."""
    return await _read(request, queries.view)


async def login(request: Request) -> JSONResponse:
    """An organiser signs in with a password and gets a session token, for scripts (the pages use a cookie).

    JSON only, said so in its Content-Type: a page of another site can post ``text/plain`` without asking
    first, but ``application/json`` makes the browser ask (a preflight) and the fair never says yes.
    """
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return error_response(
            request, FairError(Code.invalid_input, N_("Send JSON, with Content-Type: application/json."))
        )
    body = await json_body(request)
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("username"), str)
        or not isinstance(body.get("password"), str)
    ):
        return error_response(request, FairError(Code.invalid_input, N_("The request must be an object.")))
    state = request.app.state
    address = request.client.host if request.client else "unknown"
    try:
        account_id = await auth.check_password(
            state.db, state.limits, address, body["username"][:100], body["password"][:200]
        )
    except FairError as error:
        return error_response(request, error)
    label = auth.device_label(request.headers.get("user-agent"))
    token, _session_id = await auth.sign_in(state.db, state.tokens, account_id, label=label, address=address)
    return JSONResponse({"ok": True, "data": {"token": token}})


async def logout(request: Request) -> JSONResponse:
    """End the session of the bearer token: it opens nothing any more, and its screens are sent away.

    The bearer header only, never the cookie: the JSON API takes no CSRF token (pages sign out with ``/logout``).
    """
    state = request.app.state
    header = request.headers.get("authorization", "")
    token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else None
    ended = await auth.sign_out(state.db, state.tokens, token)
    if ended is not None:
        await state.live.send_away(*ended)
    return JSONResponse({"ok": True, "data": {"signed_out": ended is not None}})


async def json_body(request: Request) -> Any:
    """The request's JSON, or None when it is not JSON (or nests deeper than any request of the fair).

    Text that is no Unicode is not JSON here either: an escaped lone surrogate (``"\\ud800"``) decodes to a
    string that cannot be encoded again, and a sign-in with one as its username failed in the database (500).
    """
    raw = await request.body()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not nesting_within(text, MAX_WIRE_DEPTH):
        return None
    try:
        value = json.loads(text)
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except ValueError:  # not JSON, or (UnicodeEncodeError) not Unicode
        return None
    return value


async def _read(request: Request, query) -> JSONResponse:
    try:
        actor = await caller_of(request)
        async with request.app.state.db.read() as session:
            return JSONResponse(await query(session, actor))
    except FairError as error:
        return error_response(request, error)


async def caller_of(request: Request) -> Actor:
    state = request.app.state
    if state.fair_id is None:
        raise FairError(Code.not_found, N_("There is no fair yet."))
    return await auth.authenticate(state.db, state.tokens, state.fair_id, _token(request), state.policy)


def _token(request: Request) -> Any:
    header = request.headers.get("authorization", "")
    token: Any = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else None
    return token or request.cookies.get(SESSION_COOKIE)


def error_response(request: Request, error: FairError) -> JSONResponse:
    locale = normalise_locale(request.headers.get("accept-language"))
    body = {"ok": False, "error": {"code": str(error.code), "message": error.message(locale)}}
    headers = None
    if error.code == Code.rate_limited:
        headers = {"retry-after": retry_after(error.params.get("seconds", 1))}
    elif error.code == Code.unavailable:
        headers = {"retry-after": "2"}
    return JSONResponse(body, status_code=STATUS.get(error.code, 409), headers=headers)


async def unavailable_response(request: Request, _exc: Exception) -> JSONResponse:
    """503 ``unavailable`` for a route whose database stalled (``fair.db.Unavailable``), never a hang or a 500."""
    return error_response(request, FairError(Code.unavailable, UNAVAILABLE_MSGID))


routes = [
    Route("/healthz", healthz),
    Route("/api/tally", tally),
    Route("/api/replay", replayed),
    Route("/api/offerings", offerings),
    Route("/api/view", view),
    Route("/api/login", login, methods=["POST"]),
    Route("/api/logout", logout, methods=["POST"]),
]
