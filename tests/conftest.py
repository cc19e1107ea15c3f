"""Fixtures shared by the tests: a fresh database per test, on SQLite and on PostgreSQL.

Every database is built by the real Alembic migrations.  The PostgreSQL one
is a schema of its own in the local server (FAIR_TEST_POSTGRES_URL, by default
127.0.0.1:5432, database ``test``); where no server answers those tests skip
and say why.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from fair import accounts, migrate
from fair.app import create_app
from fair.auth import enrol, sign_in
from fair.core.access import DevicePolicy
from fair.db import Database
from fair.settings import Settings
from tests.fairground import Fairground
from tests.screens import Screen
from tests.servers import serving

POSTGRES_URL = os.environ.get("FAIR_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def _plain_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request, tmp_path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        database = Database(f"sqlite+aiosqlite:///{tmp_path / 'fair.db'}")
        await migrate.upgrade(database)
        yield database
        await database.dispose()
        return
    async with postgres_schema() as (url, schema):
        # The application name lets tests/pauses.py tell this test's sessions waiting for a lock.
        database = Database(url, connect_args={"server_settings": {"search_path": schema, "application_name": schema}})
        database.application_name = schema
        await migrate.upgrade(database)
        yield database
        await database.dispose()


class postgres_schema:
    """A throw-away schema in the local PostgreSQL, dropped afterwards."""

    async def __aenter__(self) -> tuple[str, str]:
        self.schema = f"t_{uuid.uuid4().hex[:12]}"
        try:
            self.admin = await asyncpg.connect(_plain_dsn(POSTGRES_URL), timeout=3)
        except (OSError, asyncpg.PostgresError) as error:
            pytest.skip(f"no PostgreSQL answers at {POSTGRES_URL}: {error}")
        await self.admin.execute(f"CREATE SCHEMA {self.schema}")
        return POSTGRES_URL, self.schema

    async def __aexit__(self, *exc_info) -> None:
        await self.admin.execute(f"DROP SCHEMA {self.schema} CASCADE")
        await self.admin.close()


@pytest.fixture
async def fairground(db: Database) -> Fairground:
    """A small open fair: two booths, three teams, a few offerings."""
    ground = Fairground(db)
    await ground.build()
    return ground


class Hall:
    """A real server on loopback serving a small fair, and screens to join it with."""

    def __init__(self, app, url: str, ground: Fairground, credentials: dict[str, int]) -> None:
        self.app, self.url, self.ground, self.credentials = app, url, ground, credentials
        self.tokens = app.state.tokens

    def token(self, who: str) -> str:
        """The session of a device that ``who``'s card enrolled when the hall opened (see ``enrol_all``)."""
        return self.devices[who]

    def card(self, who: str) -> str:
        """What ``who``'s join card says: it enrols a device, it is not a session."""
        return self.tokens.card(self.credentials[who])

    async def enrol_all(self) -> None:
        self.devices = {}
        for who, credential_id in self.credentials.items():
            self.devices[who], _ = await enrol(
                self.app.state.db, self.tokens, credential_id, label="test", address="127.0.0.1", policy=DevicePolicy()
            )

    async def organiser_token(self) -> str:
        account = await accounts.verify(self.app.state.db, "organiser", ORGANISER_PASSWORD)
        token, _ = await sign_in(self.app.state.db, self.tokens, account, label="test", address="127.0.0.1")
        return token

    async def screen(self, who: str | None, *, locale: str = "en") -> Screen:
        token = None if who is None else (await self.organiser_token() if who == "organiser" else self.token(who))
        return await Screen(self.url, token, locale=locale).connect()


ORGANISER_PASSWORD = "correct horse battery staple"


@pytest.fixture
async def hall(tmp_path) -> AsyncIterator[Hall]:
    async with open_hall(f"sqlite+aiosqlite:///{tmp_path / 'fair.db'}") as opened:
        yield opened


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def any_hall(request, tmp_path) -> AsyncIterator[Hall]:
    """The hall on SQLite and on the local PostgreSQL (a database of its own: the server gets only a URL)."""
    if request.param == "sqlite":
        async with open_hall(f"sqlite+aiosqlite:///{tmp_path / 'fair.db'}") as opened:
            yield opened
        return
    async with postgres_database() as url, open_hall(url) as opened:
        yield opened


def sqlite(folder: Path) -> str:
    """The URL of a SQLite database in ``folder``, for ``open_hall``."""
    return f"sqlite+aiosqlite:///{folder / 'fair.db'}"


@asynccontextmanager
async def open_hall(url: str, address: str = "127.0.0.1", **settings: object) -> AsyncIterator[Hall]:
    """Serve the small fair from ``url`` on ``address`` (loopback), with a join credential for each of its parties."""
    db = Database(url)
    await migrate.upgrade(db)
    ground = Fairground(db)
    await ground.build()
    credentials = {}
    for who in ("troupe", "bookseller", "centre", "library", "community"):
        actor = getattr(ground, who)
        kind = "supplier" if who in ("troupe", "bookseller") else "team"
        issued = await ground.do(ground.organiser, "access.issue", {"kind": kind, "party_id": actor.party_id})
        credentials[who] = issued["credential"]["id"]
    issued = await ground.do(ground.organiser, "access.issue", {"kind": "projector", "label": "主屏"})
    credentials["projector"] = issued["credential"]["id"]
    await db.dispose()
    config = Settings(
        database_url=url,
        demo=None,
        secret_key="a test secret",
        organiser_password=ORGANISER_PASSWORD,
        live_interval_ms=30,
        photos=Path(tempfile.mkdtemp(prefix="fair-photos-")),
    )
    async with _serve_hall(replace(config, **settings), ground, credentials, address) as hall:
        yield hall


@asynccontextmanager
async def reopened(hall: Hall) -> AsyncIterator[Hall]:
    """The same fair served again by a new server on the same database: a restart."""
    async with _serve_hall(hall.settings, hall.ground, hall.credentials) as again:
        yield again


@asynccontextmanager
async def _serve_hall(
    settings: Settings, ground: Fairground, credentials: dict[str, int], address: str = "127.0.0.1"
) -> AsyncIterator[Hall]:
    app = create_app(settings)
    async with serving(app, address) as base:
        ground.db = app.state.db
        hall = Hall(app, base, ground, credentials)
        hall.settings = settings
        await hall.enrol_all()
        yield hall


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    """A throw-away database in the local PostgreSQL, dropped afterwards; yields its URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(_plain_dsn(POSTGRES_URL), timeout=3)
    except (OSError, asyncpg.PostgresError) as error:
        pytest.skip(f"no PostgreSQL answers at {POSTGRES_URL}: {error}")
    try:
        await admin.execute(f"CREATE DATABASE {name}")
        yield str(make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False))
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


from tests.browsers import browser, screens  # noqa: E402, F401  (fixtures for the browser tests)
