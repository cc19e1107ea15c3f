"""The residents' phones over HTTP: who a request is, and the page where a phone confirms its number.

Every residents' page reads the residents' cookie through ``resident_of``
and hands the core ``Actor.resident(fair, key, resident_id)``; a phone that
has none is given one (``keep``).  ``/phone`` asks for a mobile number, has
the core send a code (``resident.ask_code``) and checks the code typed back
(``resident.confirm``); only then does the cookie name the resident, and
only the core's answer puts a resident's id into it.  ``next`` brings the
phone back to the page it came from.  Each step draws on the address's
``code`` limit (``fair.limits``), refused while Redis is away.
"""

from __future__ import annotations

import re
import secrets

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from fair import sms
from fair.core import Actor, FairError, Role, execute, queries
from fair.live.server import RESIDENT_COOKIE, TOO_MANY_RESIDENTS
from fair.models import AUDIENCES, DISTRICTS, Category
from fair.pages import address_of, caller, form_of, locale_of, render
from fair.tokens import ResidentCookie

COOKIE_DAYS = 400  # the most browsers keep a cookie


def resident_of(request: Request) -> ResidentCookie | None:
    """The phone a request comes from, as its residents' cookie says; None if it has none the fair signed."""
    return request.app.state.tokens.read_resident(request.cookies.get(RESIDENT_COOKIE))


def actor_of(request: Request, phone: ResidentCookie) -> Actor:
    return Actor.resident(request.app.state.fair_id, phone.key, phone.resident_id)


def keep(
    request: Request, response: Response, phone: ResidentCookie | None, resident_id: int | None = None
) -> Response:
    """Give the phone its cookie: a new one if it had none, one naming ``resident_id`` once it is confirmed."""
    if phone is not None and (resident_id is None or resident_id == phone.resident_id):
        return response
    state = request.app.state
    response.set_cookie(
        RESIDENT_COOKIE,
        state.tokens.new_resident(phone, resident_id),
        max_age=COOKIE_DAYS * 86400,
        httponly=True,
        samesite="lax",
        secure=state.settings.secure_cookies or request.url.scheme == "https",
    )
    return response


LOCAL_PATH = re.compile(r"/(?![/\\])[A-Za-z0-9/_.~%?=&-]{0,200}")


def local_path(target: str | None) -> str:
    """Where to go back to: a path of this site only.  Browsers drop tabs and newlines from an address and read
    a backslash as a slash, so only plain path characters pass: never ``//evil.example`` in any disguise."""
    return target if target and LOCAL_PATH.fullmatch(target) else "/wishes"


async def phone(request: Request) -> Response:
    """Confirm a mobile number: ask for a code, type it back; or forget the number on this phone."""
    state = request.app.state
    me = resident_of(request)
    back = local_path(request.query_params.get("next"))
    sent = error = None
    number = ""
    if request.method == "POST":
        form = await form_of(request)
        step, number = form.get("step", ""), form.get("phone", "")
        if step == "forget":
            return keep(request, RedirectResponse(back, status_code=303), None)  # a new, unconfirmed cookie
        if me is None or step not in ("send", "confirm"):
            return RedirectResponse(request.url.path, status_code=303)
        if not await state.limits.resident("code", address_of(request)):
            error = TOO_MANY_RESIDENTS
        else:
            try:
                if step == "send":
                    outcome = await execute(
                        state.db, actor_of(request, me), "resident.ask_code", {"phone": number}, _request_id()
                    )
                    sent = outcome.data
                else:
                    payload = {"phone": number, "code": form.get("code", "")}
                    outcome = await execute(state.db, actor_of(request, me), "resident.confirm", payload, _request_id())
                    confirmed = RedirectResponse(back, status_code=303)
                    return keep(request, confirmed, me, outcome.data["resident_id"])
            except FairError as refused:
                error = refused
                sent = {"phone": number} if step == "confirm" else None
    response = render(
        request,
        "phone.html",
        confirmed=me is not None and me.resident_id is not None,
        sent=sent,
        number=number,
        error=error.message(locale_of(request)) if error else None,
        next=back,
    )
    return keep(request, response, me)


def _request_id() -> str:
    """Each tap is a request of its own: a second code, a second try."""
    return f"phone-{secrets.token_hex(8)}"


async def wishes(request: Request) -> Response:
    """The residents' page (点单): wishes for their street, and support for their neighbours'.

    No sign-in to read or to wish: a phone gets a signed cookie of its own the
    first time.  Supporting a wish asks for a confirmed number (``/phone``).
    """
    me = resident_of(request)
    response = render(
        request,
        "wishes.html",
        role="resident",
        live=True,
        districts=DISTRICTS,
        categories=list(Category),
        audiences=AUDIENCES,
        confirmed=me is not None and me.resident_id is not None,
    )
    return keep(request, response, me)


async def console_residents(request: Request) -> Response:
    """The organiser's view of the residents: how many, what they did, what was refused, and the text outbox.

    Without a gateway (``FAIR_SMS_URL``) this page is where the demo's codes can be read; with one, it shows
    what became of each message and hides the codes, which are the residents' own.
    """
    actor = await caller(request)
    if actor is None or actor.role != Role.organiser:
        return RedirectResponse("/login", status_code=303)
    async with request.app.state.db.read() as session:
        record = await queries.residents_record(session, actor)
    sending = request.app.state.settings.sms_url is not None
    outbox = await sms.outbox(request.app.state.db, sending=sending)
    return render(request, "residents.html", record=record, outbox=outbox, sending=sending)


routes = [
    Route("/phone", phone, methods=["GET", "POST"]),
    Route("/wishes", wishes),
    Route("/console/residents", console_residents),
]
