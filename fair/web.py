"""HTTP routes: thin adapters over the core's queries; a FairError becomes a coded JSON error."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from fair.core import Actor, queries
from fair.core.errors import N_, Code, FairError
from fair.i18n import normalise_locale

STATUS = {
    Code.invalid_input: 400,
    Code.not_found: 404,
    Code.forbidden: 403,
    Code.not_a_party: 403,
}


async def healthz(request: Request) -> JSONResponse:
    """200 when the database answers; 503 otherwise, for a load balancer or a watchdog."""
    try:
        await request.app.state.db.ping()
    except Exception as error:  # any failure to reach the database is "unhealthy", whatever its kind
        return JSONResponse({"ok": False, "database": type(error).__name__}, status_code=503)
    return JSONResponse({"ok": True, "fair_id": request.app.state.fair_id})


async def tally(request: Request) -> JSONResponse:
    async with request.app.state.db.read() as session:
        try:
            return JSONResponse(await queries.tally_snapshot(session, _public(request)))
        except FairError as error:
            return error_response(request, error)


def _public(request: Request) -> Actor:
    fair_id = request.app.state.fair_id
    if fair_id is None:
        raise FairError(Code.not_found, N_("There is no fair yet."))
    return Actor.public(fair_id)


def error_response(request: Request, error: FairError) -> JSONResponse:
    locale = normalise_locale(request.headers.get("accept-language"))
    body = {"ok": False, "error": {"code": str(error.code), "message": error.message(locale)}}
    return JSONResponse(body, status_code=STATUS.get(error.code, 409))


routes = [
    Route("/healthz", healthz),
    Route("/api/tally", tally),
]
