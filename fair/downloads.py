"""Downloads: the core's reports as CSV or XLSX files, for whoever may read them.

``/export/orders.xlsx`` gives the organiser every order (``?district=``,
``?team=`` or ``?supplier=`` narrow it), a team its own and a booth its own;
``/export/budgets`` the teams' budgets (a team its own row); ``/export/pool``
the subsidy pool.  The caller is whoever the session says (the page's cookie
or a bearer token), as for every other read; a refusal is the usual coded
JSON error.
"""

from __future__ import annotations

import datetime as dt
import json
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fair import sheets
from fair.core import ocds, registers, reports
from fair.core.errors import N_, Code, FairError
from fair.i18n import SHANGHAI, gettext
from fair.models import CITY, DISTRICTS
from fair.pages import locale_of
from fair.web import caller_of, error_response

FORMATS = {"csv", "xlsx"}


async def ocds_package(request: Request) -> Response:
    """The fair's orders as an OCDS 1.1.5 release package (organiser)."""
    try:
        actor = await caller_of(request)
        async with request.app.state.db.read() as session:
            package = await ocds.release_package(session, actor, _base(request), locale_of(request))
    except FairError as error:
        return error_response(request, error)
    body = json.dumps(package, ensure_ascii=False, indent=1).encode()
    name = f"ocds-{_today()}.json"
    return Response(body, media_type="application/json", headers={"content-disposition": _attachment(name)})


def _base(request: Request) -> str:
    public = request.app.state.settings.public_url
    return (public or str(request.base_url)).rstrip("/")


async def export(request: Request) -> Response:
    what, fmt = request.path_params["what"], request.path_params["fmt"]
    try:
        if fmt not in FORMATS:
            raise FairError(Code.not_found, N_("There is no such download."))
        actor = await caller_of(request)
        async with request.app.state.db.read() as session:
            if what == "orders":
                tables = [await reports.orders(session, actor, **_narrowed(request))]
            elif what == "budgets":
                tables = [await reports.budgets(session, actor)]
            elif what == "pool":
                tables = await reports.pool(session, actor)
            elif what in registers.REGISTERS:  # in the import's format
                tables = [await registers.export(session, actor, what)]
            else:
                raise FairError(Code.not_found, N_("There is no such download."))
    except FairError as error:
        return error_response(request, error)
    locale = locale_of(request)
    if fmt == "csv":
        body, media_type = sheets.to_csv(tables[-1], locale), sheets.CSV_TYPE
    else:
        body, media_type = sheets.to_xlsx(tables, locale), sheets.XLSX_TYPE
    name = "-".join([gettext(locale, tables[-1].title), *_narrowed(request, names=True), _today()]) + f".{fmt}"
    return Response(body, media_type=media_type, headers={"content-disposition": _attachment(name)})


def _narrowed(request: Request, names: bool = False):
    """The organiser's filter from the query (``district``, ``team``, ``supplier``); bad values are refused."""
    query = request.query_params
    district = query.get("district")
    if district is not None and district not in (CITY, *DISTRICTS):
        raise FairError(Code.invalid_input, N_("There is no such district."))
    picked = {"district": district, "team_id": _id(query.get("team")), "supplier_id": _id(query.get("supplier"))}
    if names:
        return [
            f"{key.removesuffix('_id')}{value}" if key != "district" else value
            for key, value in picked.items()
            if value
        ]
    return picked


def _id(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or len(value) > 18:
        raise FairError(
            Code.invalid_input,
            N_("The field %(field)s %(problem_label)s."),
            field="id",
            problem_label=N_("is not valid"),
        )
    return int(value)


def _today() -> str:
    return dt.datetime.now(SHANGHAI).strftime("%Y%m%d-%H%M")


def _attachment(name: str) -> str:
    """A download name in any script: an ASCII fallback and the UTF-8 name (RFC 6266)."""
    fallback = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name)}"


routes = [Route("/export/ocds.json", ocds_package), Route("/export/{what}.{fmt}", export)]
