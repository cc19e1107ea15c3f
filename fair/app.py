"""The ASGI application: Socket.IO wrapping the Starlette routes, and the lifespan that owns the database."""

from __future__ import annotations

import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import socketio
from asgi_csrf import asgi_csrf
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from fair import accounts, demo, migrate, pages
from fair.core import finish_follow_ups
from fair.db import Database
from fair.live import Live
from fair.settings import DATA, ROOT, Settings
from fair.tokens import Tokens
from fair.web import routes

log = logging.getLogger("fair")
FIRST_ORGANISER = "organiser"


def create_app(settings: Settings) -> socketio.ASGIApp:
    tokens = Tokens(settings.secret())
    live = Live(
        tokens,
        interval=settings.live_interval_ms / 1000,
        command_rate=settings.command_rate,
        command_burst=settings.command_burst,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = Database(settings.database_url)
        try:
            await migrate.upgrade(db)
            fair_id = await demo.current_fair_id(db)
            if fair_id is None and settings.demo:
                fair_id = await demo.load(db, settings.demo)
            await _first_organiser(db, settings)
            app.state.db, app.state.fair_id, app.state.tokens = db, fair_id, tokens
            if fair_id is not None:
                await finish_follow_ups(db, fair_id)
                await live.start(db, fair_id)
            try:
                yield
            finally:
                if fair_id is not None:
                    await live.stop()
        finally:
            await db.dispose()

    static = [
        Mount(f"/static/{part}", StaticFiles(directory=ROOT / "static" / part, check_dir=False), name=part)
        for part in ("css", "js", "vendor")
    ]
    starlette = Starlette(routes=[*routes, *pages.routes, *static], lifespan=lifespan)
    # Forms (sign-in, sign-out) carry a CSRF token; requests without cookies (scripts) are not at risk.
    protected = asgi_csrf(starlette, signing_secret=settings.secret(), cookie_samesite="Lax")
    asgi = socketio.ASGIApp(live.sio, other_asgi_app=protected)
    asgi.state = starlette.state  # the routes' state, reachable by tests and tools
    asgi.live = live
    return asgi


async def _first_organiser(db: Database, settings: Settings) -> None:
    """Make sure somebody can run the fair: the first start creates the organiser's account."""
    if await accounts.any_exists(db):
        return
    password = settings.organiser_password
    if not password:
        password = secrets.token_urlsafe(9)
        note = DATA / "organiser-password.txt"
        note.parent.mkdir(parents=True, exist_ok=True)
        note.touch(mode=0o600)
        note.write_text(f"username: {FIRST_ORGANISER}\npassword: {password}\n")
        print(f"The organiser signs in as '{FIRST_ORGANISER}' with password {password} (kept in {note}).", flush=True)
    await accounts.create(db, FIRST_ORGANISER, password)
