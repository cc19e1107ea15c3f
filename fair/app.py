"""The ASGI application: the Starlette routes and the lifespan that owns the database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette

from fair import demo, migrate
from fair.db import Database
from fair.settings import Settings
from fair.web import routes


def create_app(settings: Settings) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db = Database(settings.database_url)
        try:
            await migrate.upgrade(db)
            fair_id = await demo.current_fair_id(db)
            if fair_id is None and settings.demo:
                fair_id = await demo.load(db, settings.demo)
            app.state.db = db
            app.state.fair_id = fair_id
            yield
        finally:
            await db.dispose()

    return Starlette(routes=routes, lifespan=lifespan)
