"""The screens as HTML pages: joining by QR link, signing in, and the four screens.

Pages carry no data of the fair: each screen fetches its view over the socket
(``static/js/live.js``), so what a page shows is always what the server says
now.  The session cookie holds the screen's token: HttpOnly, SameSite=Lax (a
QR link opened from a camera app is a cross-site navigation), Secure when
served over HTTPS.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jinja2
import segno
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from fair import accounts
from fair.auth import authenticate
from fair.core import Actor, FairError, Role, queries
from fair.core.errors import N_
from fair.i18n import LOCALES, gettext, translations
from fair.live.server import SESSION_COOKIE
from fair.settings import ROOT

LOCALE_COOKIE = "fair_locale"
SESSION_DAYS = 3
SCREEN_OF = {Role.team: "/tablet", Role.supplier: "/booth", Role.public: "/board", Role.organiser: "/console"}

_environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(ROOT / "templates"), autoescape=True, extensions=["jinja2.ext.i18n"]
)
_environment.install_null_translations(newstyle=True)  # each render passes its own `_`, in the reader's language
templates = Jinja2Templates(env=_environment)


def locale_of(request: Request) -> str:
    chosen = request.cookies.get(LOCALE_COOKIE)
    return chosen if chosen in LOCALES else "zh_CN"


@cache
def catalogue_json(locale: str) -> str:
    """Every translated message, for the screens' scripts: ``t(msgid)`` looks them up."""
    catalogue = translations(locale)
    messages = getattr(catalogue, "_catalog", {})
    return json.dumps(
        {key: value for key, value in messages.items() if isinstance(key, str) and key}, ensure_ascii=False
    )


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
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
        "csrftoken": csrf() if csrf else "",
        "path": request.url.path,
        **context,
    }
    return templates.TemplateResponse(request, name, context, status_code=status_code)


async def caller(request: Request) -> Actor | None:
    """The actor of the session cookie; None when there is none or it is no longer valid."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or request.app.state.fair_id is None:
        return None
    try:
        actor = await authenticate(request.app.state.db, request.app.state.tokens, request.app.state.fair_id, token)
    except FairError:
        return None
    return actor


def session_cookie(response: Response, request: Request, token: str, max_age: int) -> Response:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


async def home(request: Request) -> Response:
    return render(request, "home.html", actor=await caller(request))


async def join(request: Request) -> Response:
    """A scanned QR link: sign this device in as its booth, team or projector."""
    token = request.path_params["token"]
    state = request.app.state
    try:
        actor = await authenticate(state.db, state.tokens, state.fair_id, token)
    except FairError as error:
        return render(request, "home.html", status_code=403, error=error.message(locale_of(request)))
    if actor.credential_id is None:  # only join tokens belong in a QR link
        return RedirectResponse("/", status_code=303)
    response = RedirectResponse(SCREEN_OF[actor.role], status_code=303)
    return session_cookie(response, request, token, SESSION_DAYS * 86400)


def screen(role: Role, template: str):
    async def page(request: Request) -> Response:
        actor = await caller(request)
        if role != Role.public and (actor is None or actor.role != role):
            if role == Role.organiser:
                return RedirectResponse("/login", status_code=303)
            message = gettext(locale_of(request), N_("Scan your join code to open this screen."))
            return render(request, "home.html", status_code=403, error=message, actor=actor)
        return render(request, template, role=str(role))

    return page


async def login(request: Request) -> Response:
    if request.method == "GET":
        return render(request, "login.html")
    form = await request.form()
    username, password = str(form.get("username", ""))[:100], str(form.get("password", ""))[:200]
    account_id = await accounts.verify(request.app.state.db, username, password)
    if account_id is None:
        error = gettext(locale_of(request), N_("Wrong username or password."))
        return render(request, "login.html", status_code=403, error=error, username=username)
    response = RedirectResponse("/console", status_code=303)
    return session_cookie(response, request, request.app.state.tokens.organiser(account_id), 12 * 3600)


async def logout(request: Request) -> Response:
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


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
    async with request.app.state.db.read() as session:
        shown = await queries.view(session, actor)
    names = {("supplier", s["id"]): f"{s['booth']} {s['name']}" for s in shown["suppliers"]}
    names |= {("team", team["id"]): team["name"] for team in shown["teams"]}
    base = str(request.base_url).rstrip("/")
    printed = []
    for credential in shown["credentials"]:
        if credential["revoked"]:
            continue
        link = f"{base}/join/{request.app.state.tokens.join(credential['id'])}"
        qr = segno.make(link, error="m")
        printed.append(
            {
                "kind": credential["kind"],
                "name": names.get((credential["kind"], credential["party_id"]), credential["label"]),
                "label": credential["label"],
                "link": link,
                "svg": Markup(qr.svg_inline(border=2, svgclass="qr", omitsize=True)),  # sized by the stylesheet
            }
        )
    return render(request, "cards.html", cards=printed, fair=shown["fair"])


routes = [
    Route("/", home),
    Route("/join/{token}", join),
    Route("/tablet", screen(Role.team, "tablet.html")),
    Route("/booth", screen(Role.supplier, "booth.html")),
    Route("/board", screen(Role.public, "board.html")),
    Route("/console", screen(Role.organiser, "console.html")),
    Route("/console/cards", cards),
    Route("/login", login, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/lang/{locale}", language),
]
