"""HTTP routes: thin adapters over the core's queries; a FairError becomes a coded JSON error.

The JSON routes serve what a script or a first page load needs, under the
same permissions as the sockets: the caller is whoever its token (an
``Authorization: Bearer`` header, or the session cookie) says, else the public.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fair import accounts
from fair.auth import authenticate
from fair.core import Actor, queries
from fair.core.errors import N_, Code, FairError
from fair.i18n import normalise_locale
from fair.live.server import SESSION_COOKIE

STATUS = {
    Code.invalid_input: 400,
    Code.not_found: 404,
    Code.forbidden: 403,
    Code.not_a_party: 403,
    Code.rate_limited: 429,
}


async def healthz(request: Request) -> JSONResponse:
    """200 when the database answers; 503 otherwise, for a load balancer or a watchdog."""
    try:
        await request.app.state.db.ping()
    except Exception as error:  # any failure to reach the database is "unhealthy", whatever its kind
        return JSONResponse({"ok": False, "database": type(error).__name__}, status_code=503)
    return JSONResponse({"ok": True, "fair_id": request.app.state.fair_id})


async def tally(request: Request) -> JSONResponse:
    return await _read(request, lambda session, actor: queries.tally_snapshot(session, actor))


async def offerings(request: Request) -> JSONResponse:
    return await _read(request, lambda session, actor: queries.offerings(session, actor))


async def view(request: Request) -> JSONResponse:
    """Everything the caller's screen shows: a team's or booth's own state, the organiser's register."""
    return await _read(request, queries.view)


async def login(request: Request) -> JSONResponse:
    """An organiser signs in with a password and gets a session token (issue 4 puts it in a cookie)."""
    try:
        body = await request.json()
    except ValueError:
        body = None
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("username"), str)
        or not isinstance(body.get("password"), str)
    ):
        return error_response(request, FairError(Code.invalid_input, N_("The request must be an object.")))
    account_id = await accounts.verify(request.app.state.db, body["username"][:100], body["password"][:200])
    if account_id is None:
        return error_response(request, FairError(Code.forbidden, N_("Wrong username or password.")))
    return JSONResponse({"ok": True, "data": {"token": request.app.state.tokens.organiser(account_id)}})


async def _read(request: Request, query) -> JSONResponse:
    try:
        actor = await _caller(request)
        async with request.app.state.db.read() as session:
            return JSONResponse(await query(session, actor))
    except FairError as error:
        return error_response(request, error)


async def _caller(request: Request) -> Actor:
    state = request.app.state
    if state.fair_id is None:
        raise FairError(Code.not_found, N_("There is no fair yet."))
    header = request.headers.get("authorization", "")
    token: Any = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else None
    return await authenticate(state.db, state.tokens, state.fair_id, token or request.cookies.get(SESSION_COOKIE))


def error_response(request: Request, error: FairError) -> JSONResponse:
    locale = normalise_locale(request.headers.get("accept-language"))
    body = {"ok": False, "error": {"code": str(error.code), "message": error.message(locale)}}
    return JSONResponse(body, status_code=STATUS.get(error.code, 409))


routes = [
    Route("/healthz", healthz),
    Route("/api/tally", tally),
    Route("/api/offerings", offerings),
    Route("/api/view", view),
    Route("/api/login", login, methods=["POST"]),
]
