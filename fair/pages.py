"""The screens as HTML pages: joining with a card, signing in, and the four screens.

Pages carry no data of the fair: each screen fetches its view over the socket
(``static/js/core.js``), so what a page shows is always what the server says
now.  The session cookie holds the device's or the organiser's *session*
token, never a join card: HttpOnly, SameSite=Lax, Secure over HTTPS (or
always, with ``FAIR_SECURE_COOKIES``).

Joining: a card's QR code opens ``/join#<card>``.  The card is in the URL's
fragment, which browsers never send, so it appears in no access log (the
server's or a proxy's) and the page's script takes it out of the address bar
and the history at once.  The script posts it (with the CSRF token) to ask
who the card is for; the device then confirms "Sign in as 〈team〉?" with a
second POST, which enrols it (``fair.core.access``).
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import math
from functools import cache
from typing import Any
from urllib.parse import urlsplit

import jinja2
import segno
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from fair import accounts, auth
from fair.assets import asset_url, service_worker
from fair.core import Actor, FairError, Role, access, queries, reports
from fair.core.announcements import BOARD_TEXT_MAX
from fair.core.commands import CARD_NOT_VALID
from fair.core.errors import N_, Code
from fair.core.inputs import MAX_ID
from fair.core.labels import CATEGORY_NAMES
from fair.core.views import fair_view
from fair.i18n import LOCALES, SHANGHAI, format_money, gettext, messages
from fair.limits import retry_after
from fair.live.server import SESSION_COOKIE
from fair.models import AUDIENCES, CATEGORY_UNITS, CITY, DISTRICTS, Category, Fair, TeamKind
from fair.settings import MIN_PASSWORD, ROOT
from fair.tokens import normal_code

LOCALE_COOKIE = "fair_locale"
ORGANISER_HOURS = 12
SCREEN_OF = {Role.team: "/tablet", Role.supplier: "/booth", Role.public: "/board", Role.organiser: "/console"}

_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(ROOT / "templates"), autoescape=True, extensions=["jinja2.ext.i18n"]
)
_environment.install_null_translations(newstyle=True)  # each render passes its own `_`, in the reader's language


def shanghai(iso: str) -> str:
    """A time as people in the hall read it: Asia/Shanghai, to the minute (times are kept in UTC)."""
    return dt.datetime.fromisoformat(iso).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


_environment.filters["shanghai"] = shanghai
_environment.globals["asset_url"] = asset_url
_environment.globals["board_text_max"] = BOARD_TEXT_MAX  # the console's preview counts against it
templates = Jinja2Templates(env=_environment)


def locale_of(request: Request) -> str:
    chosen = request.cookies.get(LOCALE_COOKIE)
    return chosen if chosen in LOCALES else "zh_CN"


@cache
def catalogue_json(locale: str) -> str:
    """Every translated message, for the screens' scripts: ``t(msgid)`` looks them up."""
    return json.dumps(messages(locale), ensure_ascii=False)


@cache
def vocabulary_json() -> str:
    """The fair's words the screens' scripts build forms and tables from, as the server has them, never copied
    into the scripts: categories, districts (the city's first), each category's unit, kinds of team, audiences."""
    return json.dumps(
        {
            "categories": [str(category) for category in Category],
            "districts": [CITY, *DISTRICTS],
            "units": CATEGORY_UNITS,
            "team_kinds": [str(kind) for kind in TeamKind],
            "audiences": list(AUDIENCES),
        },
        ensure_ascii=False,
    )


def render(request: Request, name: str, status_code: int = 200, headers: dict | None = None, **context: Any):
    locale = locale_of(request)

    def _(msgid: str, **params: Any) -> str:
        return gettext(locale, msgid, **params)

    csrf = request.scope.get("csrftoken")
    context = {
        "_": _,
        "gettext": _,
        "locale": locale,
        "html_lang": "zh-CN" if locale == "zh_CN" else "en",
        "catalogue": Markup(catalogue_json(locale).replace("</", "<\\/")),
        "vocabulary": Markup(vocabulary_json().replace("</", "<\\/")),
        "csrftoken": csrf() if csrf else "",
        "path": request.url.path,
        **context,
    }
    return templates.TemplateResponse(request, name, context, status_code=status_code, headers=headers)


def refusal_page(request: Request, error: FairError, status_code: int = 403, **context: Any) -> HTMLResponse:
    return render(request, "home.html", status_code=status_code, error=error.message(locale_of(request)), **context)


async def caller(request: Request) -> Actor | None:
    """The actor of the session cookie; None when there is none or it is no longer valid."""
    token = request.cookies.get(SESSION_COOKIE)
    state = request.app.state
    if not token or state.fair_id is None:
        return None
    try:
        return await auth.authenticate(state.db, state.tokens, state.fair_id, token, state.policy)
    except FairError:
        return None


def session_cookie(response: Response, request: Request, token: str, max_age: int) -> Response:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.app.state.settings.secure_cookies or request.url.scheme == "https",
    )
    return response


def path_id(request: Request, name: str) -> int:
    """The id a path names (``/deliveries/{delivery_id}/...``), or 0, which names nothing, if it is no id.

    Only ASCII digits, and no more than a database column holds: ``int()`` alone takes "١" or "1_0", and a
    number past 64 bits reached the database and failed there (500).
    """
    text = request.path_params[name]
    if not (text.isascii() and text.isdigit()) or len(text) > 10 or int(text) > MAX_ID:
        return 0
    return int(text)


def address_of(request: Request) -> str:
    """The caller's address (the real one behind a trusted proxy)."""
    return request.client.host if request.client else "unknown"


async def form_of(request: Request) -> dict[str, str]:
    """A form's text fields (fair.middleware has made sure it is a readable form of modest size)."""
    form = await request.form(max_files=0, max_fields=20)
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def home(request: Request) -> Response:
    return render(request, "home.html", actor=await caller(request))


async def join(request: Request) -> Response:
    """A scanned join card (or its code, typed): who it is for, then, confirmed, this device signed in as them."""
    if request.method == "GET":
        return render(request, "join.html", join_url=public_base(request) + "/join")
    state = request.app.state
    form = await form_of(request)
    if "code" in form:
        return await _typed_code(request, form["code"])
    credential_id = state.tokens.read_card(form.get("card", ""))
    if credential_id is None or state.fair_id is None:
        return refusal_page(request, FairError(Code.forbidden, access.NOT_VALID))
    try:
        async with state.db.read() as session:
            shown = await access.card(session, credential_id, state.policy)
        if shown["fair_id"] != state.fair_id:
            raise FairError(Code.forbidden, access.NOT_VALID)
        if form.get("confirm") != "yes":
            return render(request, "join.html", card=form["card"], shown=shown)
        already = await caller(request)
        if already is not None and already.credential_id == credential_id:  # this device is signed in with it
            return RedirectResponse(SCREEN_OF[already.role], status_code=303)
        token, actor = await auth.enrol(
            state.db,
            state.tokens,
            credential_id,
            label=auth.device_label(request.headers.get("user-agent")),
            address=address_of(request),
            policy=state.policy,
        )
    except FairError as error:
        return refusal_page(request, error)
    await _leave(request)  # this browser's earlier session, if any, is replaced, not left open
    response = RedirectResponse(SCREEN_OF[actor.role], status_code=303)
    return session_cookie(response, request, token, int(state.policy.session_hours * 3600))


async def _typed_code(request: Request, typed: str) -> Response:
    """The code under a card's QR code, typed where no camera can scan it: the same question follows.

    Every wrong code makes the address wait longer before the next (``fair.limits``).
    """
    state, address = request.app.state, address_of(request)
    wait = await state.limits.code_wait(address)
    if wait > 0:
        error = FairError(Code.rate_limited, N_("Too many wrong codes: wait %(seconds)s s."), seconds=math.ceil(wait))
        return render(
            request,
            "join.html",
            status_code=429,
            headers={"Retry-After": retry_after(wait)},
            error=error.message(locale_of(request)),
            join_url=public_base(request) + "/join",
        )
    code = normal_code(typed)
    found = None
    if state.fair_id is not None:
        async with state.db.read() as session:
            cards = await access.valid_cards(session, state.fair_id)
        found = next((card for card in cards if hmac.compare_digest(state.tokens.join_code(card), code)), None)
    await state.limits.code_typed(address, found is not None)  # a revoked card's code opens nothing: a miss
    if found is None:
        message = N_("No card has this code. Check it on the card and type it again.")
        if state.fair_id is not None:
            async with state.db.read() as session:
                revoked = await access.revoked_cards(session, state.fair_id)
            if any(hmac.compare_digest(state.tokens.join_code(card), code) for card in revoked):
                message = CARD_NOT_VALID  # typed right: retyping will not help, a new card will
        error = gettext(locale_of(request), message)
        return render(request, "join.html", status_code=403, error=error, join_url=public_base(request) + "/join")
    try:
        async with state.db.read() as session:
            shown = await access.card(session, found, state.policy)
    except FairError as error:
        return refusal_page(request, error)
    return render(request, "join.html", card=state.tokens.card(found), shown=shown)


def public_base(request: Request) -> str:
    """Where tablets reach the fair: ``FAIR_PUBLIC_URL``, or else the address this request came to."""
    return (request.app.state.settings.public_url or str(request.base_url)).rstrip("/")


async def _leave(request: Request) -> None:
    """End the session of this browser's cookie (signing out, or switching to another card)."""
    state = request.app.state
    ended = await auth.sign_out(state.db, state.tokens, request.cookies.get(SESSION_COOKIE))
    if ended is not None:
        await state.live.send_away(*ended)


def screen(role: Role, template: str):
    async def page(request: Request) -> Response:
        actor = await caller(request)
        if role != Role.public and (actor is None or actor.role != role):
            if role == Role.organiser:
                return RedirectResponse("/login", status_code=303)
            message = gettext(locale_of(request), N_("Scan your join code to open this screen."))
            return render(request, "home.html", status_code=403, error=message, actor=actor)
        if role == Role.organiser:
            state = request.app.state
            account = await auth.organiser_account(state.db, state.tokens, request.cookies.get(SESSION_COOKIE))
            if account is None or await accounts.must_change_password(state.db, account):
                return RedirectResponse("/account/password", status_code=303)
        return render(request, template, role=str(role), live=True, audiences=AUDIENCES)

    return page


async def login(request: Request) -> Response:
    if request.method == "GET":
        return render(request, "login.html")
    state = request.app.state
    form = await form_of(request)
    username, password = form.get("username", "")[:100], form.get("password", "")[:200]
    try:
        account_id = await auth.check_password(state.db, state.limits, address_of(request), username, password)
    except FairError as error:
        status, headers = _status_of(error)
        return render(
            request,
            "login.html",
            status_code=status,
            headers=headers,
            error=error.message(locale_of(request)),
            username=username,
        )
    await _leave(request)
    token, _session_id = await auth.sign_in(
        state.db,
        state.tokens,
        account_id,
        label=auth.device_label(request.headers.get("user-agent")),
        address=address_of(request),
    )
    target = "/account/password" if await accounts.must_change_password(state.db, account_id) else "/console"
    response = RedirectResponse(target, status_code=303)
    return session_cookie(response, request, token, ORGANISER_HOURS * 3600)


def _status_of(error: FairError) -> tuple[int, dict[str, str] | None]:
    if error.code == Code.rate_limited:
        return 429, {"retry-after": retry_after(error.params.get("seconds", 1))}
    return 403, None


async def logout(request: Request) -> Response:
    """Sign out: the session ends on the server, and its screens are sent away."""
    await _leave(request)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


async def password(request: Request) -> Response:
    """An organiser chooses a new password (at the first sign-in, when the first one was generated)."""
    state = request.app.state
    account_id = await auth.organiser_account(state.db, state.tokens, request.cookies.get(SESSION_COOKIE))
    if account_id is None:
        return RedirectResponse("/login", status_code=303)
    first = await accounts.must_change_password(state.db, account_id)
    if request.method == "GET":
        return render(request, "password.html", min_length=MIN_PASSWORD, first=first)
    form = await form_of(request)
    chosen, again = form.get("password", ""), form.get("again", "")
    problem = None
    if len(chosen) < MIN_PASSWORD or len(chosen) > 200:
        problem = N_("A password has %(count)s characters at least.")
    elif chosen != again:
        problem = N_("The two passwords differ.")
    if problem:
        error = gettext(locale_of(request), problem, count=MIN_PASSWORD)
        return render(request, "password.html", status_code=400, error=error, min_length=MIN_PASSWORD, first=first)
    await accounts.set_password(state.db, account_id, chosen)
    state.settings.first_password_file.unlink(missing_ok=True)  # the generated first password is nobody's now
    return RedirectResponse("/console", status_code=303)


async def language(request: Request) -> Response:
    chosen = request.path_params["locale"]
    target = request.query_params.get("next", "/")
    if not target.startswith("/") or target.startswith("//"):
        target = "/"  # never redirect off this site
    response = RedirectResponse(target, status_code=303)
    if chosen in LOCALES:
        response.set_cookie(LOCALE_COOKIE, chosen, max_age=365 * 86400, samesite="lax")
    return response


async def cards(request: Request) -> Response:
    """The join cards, to print and cut: a QR code per booth, team and projector."""
    actor = await caller(request)
    if actor is None or actor.role != Role.organiser:
        return RedirectResponse("/login", status_code=303)
    state = request.app.state
    account = await auth.organiser_account(state.db, state.tokens, request.cookies.get(SESSION_COOKIE))
    if account is None or await accounts.must_change_password(state.db, account):
        return RedirectResponse("/account/password", status_code=303)
    async with request.app.state.db.read() as session:
        shown = await queries.view(session, actor)
    names = {("supplier", s["id"]): f"{s['booth']} {s['name']}" for s in shown["suppliers"]}
    names |= {("team", team["id"]): team["name"] for team in shown["teams"]}
    only = request.query_params.get("card")  # one card, e.g. reissued for a lost one
    base = public_base(request)
    printed = []
    for credential in shown["credentials"]:
        if credential["revoked"] or (only is not None and str(credential["id"]) != only):
            continue
        link = join_link(request, credential["id"])
        qr = segno.make(link, error="m")
        printed.append(
            {
                "serial": credential["id"],
                "issued": credential["created_at"],
                "code": request.app.state.tokens.join_code(credential["id"]),
                "kind": credential["kind"],
                "name": names.get((credential["kind"], credential["party_id"]), credential["label"]),
                "label": credential["label"],
                "link": link,
                "svg": Markup(qr.svg_inline(border=2, svgclass="qr", omitsize=True)),  # sized by the stylesheet
            }
        )
    return render(
        request, "cards.html", cards=printed, fair=shown["fair"], join_url=base + "/join", loopback=is_loopback(base)
    )


async def report(request: Request) -> Response:
    """The day report on one page, to print or save as PDF from the browser: the figures a bureau reports."""
    actor = await caller(request)
    if actor is None or actor.role != Role.organiser:
        return RedirectResponse("/login", status_code=303)
    async with request.app.state.db.read() as session:
        figures = await reports.analytics(session, actor)
        shown = {
            "fair": fair_view(await session.get(Fair, actor.fair_id)),
            "tally": await queries.tally_snapshot(session, actor),
        }
    locale = locale_of(request)
    return render(
        request,
        "report.html",
        figures=figures,
        categories=[str(c) for c in Category],
        category_names=CATEGORY_NAMES,
        money=lambda fen: format_money(fen, locale),
        percent=lambda bp: "—" if bp is None else f"{bp / 100:.1f}%",
        printed_at=dt.datetime.now(SHANGHAI).strftime("%Y-%m-%d %H:%M"),
        **shown,
    )


async def orders_behind(request: Request) -> Response:
    """The orders behind a figure of the board (``?district=``, ``?figure=``): public, as the board is."""
    state = request.app.state
    district, figure = request.query_params.get("district"), request.query_params.get("figure")
    try:
        if state.fair_id is None:
            raise FairError(Code.not_found, N_("There is no fair yet."))
        async with state.db.read() as session:
            shown = await queries.orders_behind(session, Actor.public(state.fair_id), district, figure)
    except FairError as error:
        return refusal_page(request, error, 400 if error.code == Code.invalid_input else 404)
    locale = locale_of(request)
    return render(
        request,
        "board_orders.html",
        orders=shown,
        district=district,
        figure=FIGURE_NAMES.get(figure),
        total=sum(order["amount_fen"] for order in shown),
        money=lambda fen: format_money(fen, locale),
        category_names=CATEGORY_NAMES,
    )


FIGURE_NAMES = {**CATEGORY_NAMES, "training_lecture_exhibition": N_("Training, lecture and exhibition orders")}


async def booth_codes(request: Request) -> Response:
    """A code for each booth's table: a tablet that scans it sees that booth's offerings."""
    actor = await caller(request)
    if actor is None or actor.role != Role.organiser:
        return RedirectResponse("/login", status_code=303)
    async with request.app.state.db.read() as session:
        shown = await queries.view(session, actor)
    base = public_base(request)
    printed = [
        {
            "booth": supplier["booth"],
            "name": supplier["name"],
            "svg": Markup(
                segno.make(f"{base}/tablet#booth={supplier['booth']}", error="m").svg_inline(
                    border=2, svgclass="qr", omitsize=True
                )
            ),
        }
        for supplier in shown["suppliers"]
        if supplier["approved"]
    ]
    return render(request, "booth-codes.html", codes=printed, fair=shown["fair"], loopback=is_loopback(base))


def is_loopback(url: str) -> bool:
    """True when ``url`` names this computer only: no tablet in the hall can reach it."""
    host = (urlsplit(url).hostname or "").lower()
    return host in ("localhost", "") or host.startswith("127.") or host == "::1"


def join_link(request: Request, credential_id: int) -> str:
    """The link a card's QR code holds: the card is in the fragment, which browsers never send to a server."""
    return f"{public_base(request)}/join#{request.app.state.tokens.card(credential_id)}"


routes = [
    Route("/", home),
    Route("/sw.js", service_worker),
    Route("/join", join, methods=["GET", "POST"]),
    Route("/tablet", screen(Role.team, "tablet.html")),
    Route("/booth", screen(Role.supplier, "booth.html")),
    Route("/board", screen(Role.public, "board.html")),
    Route("/board/orders", orders_behind),
    Route("/console", screen(Role.organiser, "console.html")),
    Route("/console/cards", cards),
    Route("/console/booth-codes", booth_codes),
    Route("/console/report", report),
    Route("/login", login, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/account/password", password, methods=["GET", "POST"]),
    Route("/lang/{locale}", language),
]
