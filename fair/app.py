"""The ASGI application: Socket.IO wrapping the routes, behind the shield; the lifespan that owns the database."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any

from asgi_csrf import asgi_csrf
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.routing import Mount

from fair import accounts, confirmations, demo, downloads, fence, migrate, pages, phones, photos, uploads, venues
from fair.access_log import hide_capabilities
from fair.assets import Assets
from fair.core import finish_follow_ups
from fair.core.access import DevicePolicy
from fair.db import Database, Unavailable
from fair.limits import Limits
from fair.live import Live, fanout
from fair.live.crossing import Crossing
from fair.middleware import shielded
from fair.settings import ROOT, Settings, write_private
from fair.shared_limits import RedisStore
from fair.sms import Gateway
from fair.timers import Timers
from fair.tokens import Tokens
from fair.web import routes, unavailable_response

log = logging.getLogger("fair")
FIRST_ORGANISER = "organiser"
REDIS_TIMEOUT = 2.0  # seconds: a Redis that does not answer makes a worker degraded, not stuck
FORMS = {"/join", "/login", "/logout", "/account/password"}  # checked for a CSRF token even without cookies


class FairApp:
    """The whole application as one ASGI callable, with the routes' state and the live server for tools and tests."""

    def __init__(self, asgi: Any, state: Any, live: Live) -> None:
        self.asgi, self.state, self.live = asgi, state, live

    def __call__(self, scope, receive, send) -> Awaitable[None]:
        return self.asgi(scope, receive, send)  # no frame of its own, kept for a websocket's whole life


def from_environment() -> FairApp:
    """The application of the FAIR_* environment: what each of several workers runs (``run.py --workers``)."""
    return create_app(Settings.load())


def create_app(settings: Settings) -> FairApp:
    hide_capabilities()  # the venue and rating links' secrets never reach the access log
    fence.configure(settings.fenced_paths)  # before the live server is made: which of its paths run
    tokens = Tokens(settings.secret())
    policy = DevicePolicy(settings.card_hours_after_close, settings.device_session_hours)
    redis = shared = crossing = None
    if settings.redis_url:  # several workers: what crosses them goes through Redis (docs/deploy.md)
        redis = Redis.from_url(settings.redis_url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT)
        shared, crossing = RedisStore(redis, settings.redis_prefix), Crossing(redis, settings.redis_prefix)
    limits = Limits.of(settings, store=shared, clock=time.time) if shared else Limits.of(settings)
    live = Live(
        tokens,
        interval=settings.live_interval_ms / 1000,
        limits=limits,
        policy=policy,
        origins=settings.origins(),
        crossing=crossing,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = Database(settings.database_url, timeout=settings.database_timeout_ms / 1000)
        try:
            async with db.exclusively():  # workers starting together set the database up one after the other
                await migrate.upgrade(db)
                fair_id = await demo.current_fair_id(db)
                if fair_id is None and settings.demo:
                    print("Loading the demo fair (a few seconds, the first time only)…", flush=True)
                    fair_id = await demo.load(db, settings.demo)
                    print("The demo fair is loaded.", flush=True)
                await _first_organiser(db, settings)
                if fair_id is not None:
                    await finish_follow_ups(db, fair_id)
            app.state.db, app.state.fair_id = db, fair_id
            timers = app.state.timers = Timers(db, fair_id) if fair_id is not None else None
            if shared:
                await shared.start()
            if fair_id is not None:
                await live.start(db, fair_id)
                timers.start()
            gateway = None
            if settings.sms_url:  # the residents' codes go out by text message; otherwise the console shows them
                gateway = Gateway(db, settings.sms_url, settings.sms_token)
                gateway.start()
            try:
                yield
            finally:
                if gateway:
                    await gateway.stop()
                if fair_id is not None:
                    await timers.stop()
                    await live.stop()
                if shared:
                    await shared.stop()
        finally:
            await db.dispose()
            if redis:
                await redis.aclose()

    static = [
        Mount(f"/static/{part}", Assets(directory=ROOT / "static" / part, check_dir=False), name=part)
        for part in ("css", "js", "vendor")
    ]
    starlette = Starlette(
        routes=[
            *routes,
            *pages.routes,
            *downloads.routes,
            *uploads.routes,
            *venues.routes,
            *phones.routes,
            *confirmations.routes,
            *photos.routes,
            *static,
        ],
        lifespan=lifespan,
        exception_handlers={Unavailable: unavailable_response},  # a stalled database, whatever route met it
    )
    state = starlette.state
    state.tokens, state.live, state.limits, state.policy, state.settings = tokens, live, limits, policy, settings
    # Forms (joining, signing in and out) carry a CSRF token, signed with a key of its own.  The JSON API
    # acts on what its body or bearer header says, never on a cookie, so it needs none.
    protected = asgi_csrf(
        starlette,
        signing_secret=tokens.csrf_key,
        cookie_samesite="Lax",
        cookie_secure=settings.secure_cookies,
        always_protect=FORMS,
        skip_if_scope=lambda scope: scope["path"].startswith("/api/"),
    )
    # Pages, scripts and JSON go out compressed; Engine.IO compresses what it sends itself.
    asgi = fanout.asgi_app(live.sio, other_asgi_app=GZipMiddleware(protected, minimum_size=512))
    return FairApp(shielded(asgi, settings, limits), state, live)


async def _first_organiser(db: Database, settings: Settings) -> None:
    """Make sure somebody can run the fair: the first start creates the organiser's account.

    A generated first password is never printed to the log: it goes to the terminal, if there is
    one, and to a file only this user may read; the organiser must change it at the first sign-in,
    which deletes the file.
    """
    if await accounts.any_exists(db):
        return
    if settings.organiser_password:
        await accounts.create(db, FIRST_ORGANISER, settings.organiser_password)
        return
    password = secrets.token_urlsafe(12)
    write_private(settings.first_password_file, f"username: {FIRST_ORGANISER}\npassword: {password}\n")
    await accounts.create(db, FIRST_ORGANISER, password, must_change_password=True)
    shown = _tell_the_terminal(
        f"The organiser signs in as '{FIRST_ORGANISER}' with the password {password} (once: it must be changed).\n"
    )
    where = "on this terminal and in" if shown else "in"
    print(
        f"The organiser's first password is {where} {settings.first_password_file} (readable by this user only); "
        f"it must be changed at the first sign-in, which deletes the file.",
        flush=True,
    )


def _tell_the_terminal(text: str) -> bool:
    """Write to the controlling terminal, not to stdout: what goes to stdout often ends up in a log."""
    try:
        with open("/dev/tty", "w") as terminal:
            terminal.write(text)
    except OSError:
        return False
    return True
