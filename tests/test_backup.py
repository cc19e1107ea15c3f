"""``run.py backup``: a copy that opens as the same fair, private, never over an existing file."""

from __future__ import annotations

import asyncio
import shutil
import stat
import subprocess

import pytest
from sqlalchemy.engine import make_url
from sqlmodel import func, select

from fair import migrate
from fair.backup import backup
from fair.db import Database
from fair.models import Event
from tests.conftest import postgres_database
from tests.fairground import Fairground


async def _fair_in(url: str) -> int:
    """Build the small fair at ``url``; the number of events its log holds."""
    db = Database(url)
    await migrate.upgrade(db)
    await Fairground(db).build()
    count = await _events(db)
    await db.dispose()
    return count


async def _events(db: Database) -> int:
    async with db.read() as session:
        return (await session.exec(select(func.count()).select_from(Event))).one()


async def test_a_sqlite_backup_is_the_same_fair_and_private(tmp_path):
    url = f"sqlite+aiosqlite:///{tmp_path / 'fair.db'}"
    events = await _fair_in(url)
    copy = tmp_path / "copy.db"
    await asyncio.to_thread(backup, url, copy)
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    restored = Database(f"sqlite+aiosqlite:///{copy}")
    assert await _events(restored) == events
    await restored.dispose()
    with pytest.raises(FileExistsError):
        backup(url, copy)


@pytest.mark.postgres
async def test_a_postgres_backup_restores_with_pg_restore(tmp_path):
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump and pg_restore are not installed")
    async with postgres_database() as url, postgres_database() as empty:
        events = await _fair_in(url)
        archive = tmp_path / "fair.dump"
        await asyncio.to_thread(backup, url, archive)
        assert stat.S_IMODE(archive.stat().st_mode) == 0o600
        target = make_url(empty).set(drivername="postgresql").render_as_string(hide_password=False)
        await asyncio.to_thread(
            subprocess.run, ["pg_restore", "--no-owner", f"--dbname={target}", str(archive)], check=True
        )
        restored = Database(empty)
        assert await _events(restored) == events
        await restored.dispose()
