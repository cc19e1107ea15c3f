"""Uploads: the organiser's spreadsheets of teams, suppliers and offerings, checked and imported.

``POST /import/{teams|suppliers|offerings}`` takes the file itself as the
body (CSV or XLSX), with the page's CSRF token in ``X-CSRFToken`` and a
request id in ``X-Request-Id``; ``?preview=1`` runs every row and writes
nothing.  The rules are the core's (``fair.core.registers``): this adapter
reads the file into rows and translates the per-row errors.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fair import sheets
from fair.core import execute, registers
from fair.core.errors import N_, Code, FairError
from fair.pages import locale_of
from fair.web import caller_of, error_response


async def import_register(request: Request) -> Response:
    kind = request.path_params["kind"]
    locale = locale_of(request)
    try:
        if kind not in registers.REGISTERS:
            raise FairError(Code.not_found, N_("There is no such register."))
        actor = await caller_of(request)
        try:
            header, rows = sheets.read_table(await request.body(), registers.MAX_ROWS)
        except sheets.Unreadable:
            raise FairError(
                Code.invalid_input, N_("This file is not a CSV or XLSX spreadsheet with a header row.")
            ) from None
        if len(rows) > registers.MAX_ROWS:
            raise FairError(Code.invalid_input, N_("A file may hold at most %(count)s rows."), count=registers.MAX_ROWS)
        payload = {
            "kind": kind,
            "header": header,
            "rows": [[_cell(cell) for cell in row] for row in rows],
            "preview": request.query_params.get("preview") == "1",
        }
        outcome = await execute(
            request.app.state.db, actor, "register.import", payload, request.headers.get("x-request-id")
        )
    except FairError as error:
        return error_response(request, error)
    data = dict(outcome.data)
    data["errors"] = [
        {"line": e["line"], "code": e["code"], "message": FairError.from_record(e).message(locale)}
        for e in data["errors"]
    ]
    return JSONResponse({"ok": True, "data": data})


def _cell(cell):
    """A cell as JSON carries it: dates and times as text (the registers read dates as text)."""
    if cell is None or isinstance(cell, str | int | float | bool):
        return cell
    if hasattr(cell, "date") and callable(cell.date):
        return cell.date().isoformat() if hasattr(cell, "hour") else cell.isoformat()
    return str(cell)


routes = [Route("/import/{kind}", import_register, methods=["POST"])]
