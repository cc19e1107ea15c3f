"""Fixtures shared by the tests: a fresh database per test, on SQLite and on PostgreSQL.

Every database is built by the real Alembic migrations.  On SQLite they run
once a session, and each test gets a copy of that database (``migrated_sqlite``):
migrating anew took 1.8 s a test, most of the suite's time, because SQLite
rebuilds a table for each batch of changes.  tests/test_migrations.py still
runs every migration down and up.  On PostgreSQL each test has a database of
its own in the local server (FAIR_TEST_POSTGRES_URL, by default
127.0.0.1:5432), a copy of one migrated once (``postgres_database``); where no
server answers those tests skip and say why.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

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


_TEMPLATES: dict[str, Any] = {}  # the session's migrated databases: SQLite's file, PostgreSQL's name


async def migrated_sqlite(path: Path) -> str:
    """A migrated SQLite database at ``path`` (new), copied from one this session migrated once; its URL."""
    template = _TEMPLATES.get("sqlite")
    if template is None:
        template = Path(tempfile.mkdtemp(prefix="fair-migrated-")) / "fair.db"
        database = Database(f"sqlite+aiosqlite:///{template}")
        await migrate.upgrade(database)
        await database.dispose()
        _TEMPLATES["sqlite"] = template
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.closing(sqlite3.connect(template)) as source, contextlib.closing(sqlite3.connect(path)) as copy:
        source.backup(copy)  # SQLite's online backup: a whole, consistent copy, whatever the journal mode
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request, tmp_path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        database = Database(await migrated_sqlite(tmp_path / "fair.db"))
        yield database
        await database.dispose()
        return
    async with postgres_database(migrated=True) as url:
        # The application name lets tests/pauses.py tell this test's sessions waiting for a lock.
        name = make_url(url).database
        database = Database(url, connect_args={"server_settings": {"application_name": name}})
        database.application_name = name
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
    async with postgres_database(migrated=True) as url, open_hall(url) as opened:
        yield opened


def sqlite(folder: Path) -> str:
    """The URL of a SQLite database in ``folder``, for ``open_hall``."""
    return f"sqlite+aiosqlite:///{folder / 'fair.db'}"


@asynccontextmanager
async def open_hall(url: str, address: str = "127.0.0.1", **settings: object) -> AsyncIterator[Hall]:
    """Serve the small fair from ``url`` on ``address`` (loopback), with a join credential for each of its parties."""
    path = make_url(url).database
    if url.startswith("sqlite") and path and not Path(path).exists():
        await migrated_sqlite(Path(path))
    db = Database(url)
    await migrate.upgrade(db)  # a database of the test's own making, or the copy: then nothing to do
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
async def postgres_database(*, migrated: bool = False) -> AsyncIterator[str]:
    """A throw-away database in the local PostgreSQL, dropped afterwards; yields its URL.

    ``migrated``: a copy of a database this session migrated once (``CREATE DATABASE … TEMPLATE``, 0.1 s
    against 0.4 s to migrate); otherwise empty."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(_plain_dsn(POSTGRES_URL), timeout=3)
    except (OSError, asyncpg.PostgresError) as error:
        pytest.skip(f"no PostgreSQL answers at {POSTGRES_URL}: {error}")
    try:
        template = f" TEMPLATE {await _postgres_template(admin)}" if migrated else ""
        await admin.execute(f"CREATE DATABASE {name}{template}")
        yield _database_url(name)
    finally:
        await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await admin.close()


def _database_url(name: str) -> str:
    return str(make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False))


async def _postgres_template(admin: asyncpg.Connection) -> str:
    """The database this session migrated once, to be copied; dropped when the session ends."""
    if "postgres" not in _TEMPLATES:
        name = f"t_migrated_{uuid.uuid4().hex[:12]}"
        await admin.execute(f"CREATE DATABASE {name}")
        database = Database(_database_url(name))
        await migrate.upgrade(database)
        await database.dispose()  # a template is copied only while nobody is connected to it
        _TEMPLATES["postgres"] = name
    return _TEMPLATES["postgres"]


# The kinds of test, so that the suite runs in pieces (``scripts/test --fast`` leaves out all but the quick ones).
# Marked here, from where a test lives (a module, or a module's test) and what it uses, so that a new test of a
# kind is marked without a word; "slow" are those of ten seconds and more (``pytest --durations``).
KINDS = {
    "faults": (
        "test_faults",
        "test_worker_faults",
        "test_app::test_health_says_503_when_the_database_is_gone",
        "test_shared_limits::test_a_worker_whose_redis_is_away_serves_its_screens_and_says_so",
        "test_shared_limits::test_a_worker_whose_redis_comes_back_shares_again_without_a_restart",
    ),
    "fuzz": ("test_fuzz_commands", "test_fuzz_http", "test_fuzz_live"),
    "workers": (
        "test_scaleout",
        "test_worker_faults",
        "test_app::test_orders_placed_by_another_process_reach_the_boards",
    ),
    "slow": (
        "test_hammer",
        "test_app::test_reset_demo_loads_the_demo_afresh",
        "test_app::test_a_first_start_loads_the_demo_and_a_second_keeps_it",
        "test_demo::test_the_real_days_totals_fit_in_the_demo_and_small_teams_run_out",
        "test_limits::test_one_client_abusing_the_hall_is_refused_while_a_booth_and_a_board_go_on",
        "test_live_sync::test_after_every_random_operation_each_screen_equals_a_fresh_view",
    ),
}


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        module = item.module.__name__.rpartition(".")[2]
        for kind, where in KINDS.items():
            if module in where or f"{module}::{item.originalname}" in where:
                item.add_marker(kind)
        if {"screens", "browser"} & set(getattr(item, "fixturenames", ())):
            item.add_marker("browser")


def pytest_sessionfinish(session, exitstatus) -> None:
    """Drop the PostgreSQL template this session made, if it made one."""
    name = _TEMPLATES.get("postgres")
    if name is None:
        return

    async def drop() -> None:
        admin = await asyncpg.connect(_plain_dsn(POSTGRES_URL), timeout=3)
        try:
            await admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        finally:
            await admin.close()

    asyncio.run(drop())


from tests.browsers import browser, screens  # noqa: E402, F401  (fixtures for the browser tests)
