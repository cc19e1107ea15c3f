"""The venue's link to its delivery: on the contact's phone, no sign-in, to confirm the booking and to check in.

A team prints or sends its venue a delivery's card (``/deliveries/<id>/card``),
with a second QR code for the audience to rate the event (``/rate/<token>``):
a QR code of ``/venue/<token>``, where the token names that delivery, signed
with the fair's key, so that it serves no other delivery and cannot be made
up.  The page shows what is coming and when; its one button confirms the
booking (scheduled) or checks in at the event (confirmed), acting for the
team on that delivery only.  A second tap is the same request again
(the request id is derived from the delivery and the step): it lands once.
"""

from __future__ import annotations

import secrets

import segno
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fair.core import Actor, FairError, Role, deliveries, execute, queries, signups
from fair.core.errors import N_, Code
from fair.live.server import RESIDENT_COOKIE
from fair.models import Delivery
from fair.pages import (
    address_of,
    caller,
    form_of,
    is_loopback,
    locale_of,
    path_id,
    public_base,
    refusal_page,
    render,
)

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
    delivery_id = path_id(request, "delivery_id")
    delivery = await _delivery(request, delivery_id)
    if delivery is None or delivery["team_id"] != actor.party_id:
        return refusal_page(request, FairError(Code.not_found, N_("There is no such delivery of yours.")), 404)
    base, tokens = public_base(request), request.app.state.tokens
    link = f"{base}/venue/{tokens.venue_link(delivery_id)}"
    rating = f"{base}/rate/{tokens.rating_link(delivery_id)}"
    return render(
        request,
        "venue_card.html",
        delivery=delivery,
        link=link,
        qr=_qr(link),
        rating=rating,
        rating_qr=_qr(rating),
        base=base,
        loopback=is_loopback(base),
    )


def _qr(link: str) -> Markup:
    return Markup(segno.make(link, error="m").svg_inline(border=2, svgclass="qr", omitsize=True))


async def rate(request: Request) -> Response:
    """The audience's QR code at an event: a rating from 1 to 5 from a phone, once, moderated before it counts."""
    state = request.app.state
    delivery_id = state.tokens.read_rating_link(request.path_params["token"])
    delivery = None if delivery_id is None else await _delivery(request, delivery_id)
    if delivery is None:
        return refusal_page(request, FairError(Code.forbidden, NOT_A_LINK))
    phone = state.tokens.read_resident(request.cookies.get(RESIDENT_COOKIE))
    done = error = None
    if request.method == "POST" and phone is not None:
        form = await form_of(request)
        if not await state.limits.wish(address_of(request)):
            error = FairError(Code.rate_limited, N_("Too many at once from this network. Try again in a minute."))
        else:
            payload = {
                "delivery_id": delivery_id,
                "rating": _whole(form.get("rating")),
                "comment": form.get("comment", ""),
            }
            resident = Actor.resident(state.fair_id, phone)
            try:
                await execute(state.db, resident, "rating.submit", payload, f"rate-{delivery_id}")
                done = True
            except FairError as refused:
                error = refused
    response = render(
        request,
        "rate.html",
        delivery=delivery,
        done=done,
        error=error.message(locale_of(request)) if error else None,
        state_labels=deliveries.STATES,
    )
    return _with_resident_cookie(request, response, phone)


def _whole(text: str | None) -> int | str:
    return int(text) if text and text.isdigit() and len(text) < 3 else (text or "")


async def event(request: Request) -> Response:
    """An event's public page: what, where and when, its live stream, and a seat to take or give back."""
    state = request.app.state
    delivery_id = path_id(request, "delivery_id")
    phone = state.tokens.read_resident(request.cookies.get(RESIDENT_COOKIE))
    done = error = None
    if request.method == "POST" and phone is not None and await _delivery(request, delivery_id) is not None:
        form = await form_of(request)
        step = {"take": "signup.take", "cancel": "signup.cancel"}.get(form.get("step", ""))
        if step is None:
            return RedirectResponse(request.url.path, status_code=303)
        if not await state.limits.wish(address_of(request)):
            error = FairError(Code.rate_limited, N_("Too many at once from this network. Try again in a minute."))
        else:
            payload = {"delivery_id": delivery_id} | ({"name": form.get("name", "")} if step == "signup.take" else {})
            try:
                await execute(state.db, Actor.resident(state.fair_id, phone), step, payload, _request_id())
                done = step
            except FairError as refused:
                error = refused
    delivery = await _delivery(request, delivery_id)
    if delivery is None:
        return refusal_page(request, FairError(Code.not_found, N_("There is no such event.")), 404)
    async with state.db.read() as session:
        seat = phone is not None and await queries.has_seat(session, delivery_id, phone)
    response = render(
        request,
        "event.html",
        event=signups.public_event(delivery, seat),
        done=done,
        error=error.message(locale_of(request)) if error else None,
        state_labels=deliveries.STATES,
    )
    return _with_resident_cookie(request, response, phone)


def _request_id() -> str:
    """Each tap is a request of its own: taking a seat after giving it back is a new change."""
    return f"seat-{secrets.token_hex(8)}"


def _with_resident_cookie(request: Request, response: Response, phone: str | None) -> Response:
    """A phone that has no residents' cookie yet gets one: by it the fair tells one phone from another."""
    if phone is None:
        state = request.app.state
        response.set_cookie(
            RESIDENT_COOKIE,
            state.tokens.new_resident(),
            max_age=400 * 86400,
            httponly=True,
            samesite="lax",
            secure=state.settings.secure_cookies or request.url.scheme == "https",
        )
    return response


routes = [
    Route("/events/{delivery_id}", event, methods=["GET", "POST"]),
    Route("/rate/{token}", rate, methods=["GET", "POST"]),
    Route("/venue/{token}", venue, methods=["GET", "POST"]),
    Route("/deliveries/{delivery_id}/card", card),
]
