"""The venue's link to its delivery: on the contact's phone, no sign-in, to confirm the booking and to check in.

A team prints or sends its venue a delivery's card (``/deliveries/<id>/card``):
a QR code of ``/venue/<token>``, where the token names that delivery, signed
with the fair's key, so that it serves no other delivery and cannot be made
up.  The page shows what is coming and when; its one button confirms the
booking (scheduled) or checks in at the event (confirmed), acting for the
team on that delivery only.  A second tap is the same request again
(the request id is derived from the delivery and the step): it lands once.
"""

from __future__ import annotations

import segno
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fair.core import Actor, FairError, Role, deliveries, execute, queries
from fair.core.errors import N_, Code
from fair.models import Delivery
from fair.pages import caller, form_of, locale_of, public_base, refusal_page, render

NOT_A_LINK = N_("This link is not a venue link of this fair. Ask the team for its delivery card again.")
STEPS = {"scheduled": "delivery.confirm", "confirmed": "delivery.check_in"}


async def _delivery(request: Request, delivery_id: int) -> dict | None:
    state = request.app.state
    async with state.db.read() as session:
        row = await session.get(Delivery, delivery_id)
        if row is None or row.fair_id != state.fair_id:
            return None
        shown = await queries.deliveries(session, Actor.team(state.fair_id, row.team_id))
    return next(d for d in shown if d["id"] == delivery_id)


async def venue(request: Request) -> Response:
    state = request.app.state
    token = request.path_params["token"]
    delivery_id = state.tokens.read_venue_link(token)
    delivery = None if delivery_id is None else await _delivery(request, delivery_id)
    if delivery is None:
        return refusal_page(request, FairError(Code.forbidden, NOT_A_LINK))
    done = None
    if request.method == "POST":
        form = await form_of(request)
        step = STEPS.get(form.get("step", ""))
        if step is None or form.get("step") != delivery["state"]:
            return RedirectResponse(request.url.path, status_code=303)  # the page was old: show it as it is now
        team = Actor.team(state.fair_id, delivery["team_id"])
        try:
            await execute(state.db, team, step, {"delivery_id": delivery_id}, f"venue-{delivery_id}-{step}")
        except FairError as error:
            message = error.message(locale_of(request))
            return render(request, "venue.html", delivery=delivery, error=message, state_labels=deliveries.STATES)
        delivery, done = await _delivery(request, delivery_id), step
    return render(request, "venue.html", delivery=delivery, done=done, state_labels=deliveries.STATES)


async def card(request: Request) -> Response:
    """The delivery's card for its venue: a QR code and the link, to print or send; for the team that owns it."""
    actor = await caller(request)
    if actor is None or actor.role != Role.team:
        return refusal_page(request, FairError(Code.forbidden, N_("Sign in with your team's card first.")))
    try:
        delivery_id = int(request.path_params["delivery_id"])
    except ValueError:
        delivery_id = 0
    delivery = await _delivery(request, delivery_id)
    if delivery is None or delivery["team_id"] != actor.party_id:
        return refusal_page(request, FairError(Code.not_found, N_("There is no such delivery of yours.")), 404)
    link = f"{public_base(request)}/venue/{request.app.state.tokens.venue_link(delivery_id)}"
    qr = Markup(segno.make(link, error="m").svg_inline(border=2, svgclass="qr", omitsize=True))
    return render(request, "venue_card.html", delivery=delivery, link=link, qr=qr)


routes = [
    Route("/venue/{token}", venue, methods=["GET", "POST"]),
    Route("/deliveries/{delivery_id}/card", card),
]
