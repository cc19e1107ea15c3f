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

from fair.core import Actor, FairError, Role, deliveries, execute, presence, queries, signups
from fair.core.errors import N_, Code
from fair.live.server import TOO_MANY_RESIDENTS
from fair.models import Delivery, Fair, utcnow
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
from fair.phones import actor_of, keep, resident_of

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
    """The audience's QR code at an event: the code shown there proves the phone was there, then 1 to 5 stars.

    Only a confirmed resident (``/phone``) rates; the core refuses anyone not recorded at the event,
    so a link passed around is worth nothing without the code of the moment.
    """
    state = request.app.state
    token = request.path_params["token"]
    delivery_id = state.tokens.read_rating_link(token)
    delivery = None if delivery_id is None else await _delivery(request, delivery_id)
    if delivery is None:
        return refusal_page(request, FairError(Code.forbidden, NOT_A_LINK))
    me = resident_of(request)
    code = request.query_params.get("code", "")[:6]
    done = error = None
    if request.method == "POST" and me is not None:
        form = await form_of(request)
        code = form.get("code", "").strip()[:20]
        if not await state.limits.resident("rating", address_of(request)):
            error = TOO_MANY_RESIDENTS
        else:
            payload = {
                "delivery_id": delivery_id,
                "rating": _whole(form.get("rating")),
                "comment": form.get("comment", ""),
            }
            if code:
                payload["code"] = code
            try:
                await execute(state.db, actor_of(request, me), "rating.submit", payload, _request_id("rate"))
                done = True
            except FairError as refused:
                error = refused
    async with state.db.read() as session:
        mine = await queries.rating_of(session, delivery_id, me.resident_id if me else None)
        summary = await queries.rating_summary(session, delivery_id)
    response = render(
        request,
        "rate.html",
        delivery=delivery,
        done=done,
        error=error.message(locale_of(request)) if error else None,
        state_labels=deliveries.STATES,
        confirmed=me is not None and me.resident_id is not None,
        mine=mine,
        summary=summary,
        code=code if code.isdigit() else "",
        here=f"{request.url.path}?code={code}" if code.isdigit() else request.url.path,
    )
    return keep(request, response, me)


def _whole(text: str | None) -> int | str:
    return int(text) if text and text.isdigit() and len(text) < 3 else (text or "")


async def event(request: Request) -> Response:
    """An event's public page: what, where and when, its live stream, its ratings, and seats to take or give back."""
    state = request.app.state
    delivery_id = path_id(request, "delivery_id")
    me = resident_of(request)
    done = error = None
    if request.method == "POST" and me is not None and await _delivery(request, delivery_id) is not None:
        form = await form_of(request)
        step = {"take": "signup.take", "cancel": "signup.cancel"}.get(form.get("step", ""))
        if step is None:
            return RedirectResponse(request.url.path, status_code=303)
        if not await state.limits.resident("seat", address_of(request)):
            error = TOO_MANY_RESIDENTS
        else:
            payload = {"delivery_id": delivery_id}
            if step == "signup.take":
                payload |= {"name": form.get("name", ""), "seats": _whole(form.get("seats", "1"))}
            try:
                await execute(state.db, actor_of(request, me), step, payload, _request_id("seat"))
                done = step
            except FairError as refused:
                error = refused
    delivery = await _delivery(request, delivery_id)
    if delivery is None:
        return refusal_page(request, FairError(Code.not_found, N_("There is no such event.")), 404)
    async with state.db.read() as session:
        mine = await queries.signup_of(session, delivery_id, me.resident_id if me else None)
        summary = await queries.rating_summary(session, delivery_id)
        most = (await session.get(Fair, state.fair_id)).seats_per_resident
    response = render(
        request,
        "event.html",
        live=True,  # its seats move as residents sign up and give seats back (static/js/event.js)
        event=signups.public_event(delivery, mine),
        done=done,
        error=error.message(locale_of(request)) if error else None,
        state_labels=deliveries.STATES,
        confirmed=me is not None and me.resident_id is not None,
        summary=summary,
        most=most,
    )
    return keep(request, response, me)


async def code(request: Request) -> Response:
    """The screen at the event: the code residents type (or scan) to show they are there; it changes by itself.

    Opened from the venue's link, so whoever holds the venue card can put it on a screen at the door.
    """
    state = request.app.state
    delivery_id = state.tokens.read_venue_link(request.path_params["token"])
    async with state.db.read() as session:
        row = None if delivery_id is None else await session.get(Delivery, delivery_id)
    if row is None or row.fair_id != state.fair_id:
        return refusal_page(request, FairError(Code.forbidden, NOT_A_LINK))
    delivery = await _delivery(request, delivery_id)
    shown = presence.current_code(row, utcnow())
    link = qr = None
    if shown is not None:
        link = f"{public_base(request)}/rate/{state.tokens.rating_link(delivery_id)}?code={shown['code']}"
        qr = _qr(link)
    return render(
        request,
        "presence_code.html",
        delivery=delivery,
        shown=shown,
        link=link,
        qr=qr,
        refresh=presence.refresh_seconds(utcnow()),
    )


def _request_id(kind: str) -> str:
    """Each tap is a request of its own: taking a seat after giving it back, rating again, is a new change."""
    return f"{kind}-{secrets.token_hex(8)}"


routes = [
    Route("/events/{delivery_id}", event, methods=["GET", "POST"]),
    Route("/venue/{token}/code", code),
    Route("/rate/{token}", rate, methods=["GET", "POST"]),
    Route("/venue/{token}", venue, methods=["GET", "POST"]),
    Route("/deliveries/{delivery_id}/card", card),
]
