"""An order's confirmation (订单确认书), to print: both parties, the terms, and the amount in figures and in words.

Whoever may see the order may print it: its team, its booth and the organiser
(the core's own reading of "their orders", ``queries.orders``).
"""

from __future__ import annotations

import datetime as dt

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fair.core import FairError, capital, queries
from fair.core.errors import N_, Code
from fair.core.labels import CATEGORY_NAMES, FUNDINGS
from fair.core.views import fair_view
from fair.i18n import SHANGHAI, format_money
from fair.models import Fair, Supplier, Team
from fair.pages import caller, locale_of, path_id, refusal_page, render


async def confirmation(request: Request) -> Response:
    actor = await caller(request)
    if actor is None:
        return RedirectResponse("/", status_code=303)
    order_id = path_id(request, "order_id")
    async with request.app.state.db.read() as session:
        try:
            order = next((o for o in await queries.orders(session, actor) if o["id"] == order_id), None)
        except FairError as error:
            return refusal_page(request, error)
        if order is None:
            return refusal_page(request, FairError(Code.not_found, N_("There is no such order of yours.")), 404)
        team = await session.get(Team, order["team_id"])
        supplier = await session.get(Supplier, order["supplier_id"])
        fair = fair_view(await session.get(Fair, actor.fair_id))
    locale = locale_of(request)
    return render(
        request,
        "confirmation.html",
        order=order,
        team=team,
        supplier=supplier,
        fair=fair,
        category=CATEGORY_NAMES[order["category"]],
        funding=FUNDINGS[order["funding"]],
        money=lambda fen: format_money(fen, locale),
        in_words=capital.money(order["amount_fen"]),
        printed_at=dt.datetime.now(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
    )


routes = [Route("/orders/{order_id}/confirmation", confirmation)]
