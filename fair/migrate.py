"""Schema changes through Alembic, for the demo, the tests and production alike.

The migrations run on the application's own engine (so SQLite gets the same
pragmas and PostgreSQL the same search path), from inside its event loop, as
Alembic's cookbook shows for asyncio: the sync migration code runs on the
connection handed over through ``Config.attributes``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from fair.db import Database

SCRIPTS = Path(__file__).parent / "migrations"


def alembic_config(connection=None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["connection"] = connection
    return config


async def upgrade(db: Database, revision: str = "head") -> None:
    async with db.engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(alembic_config(sync), revision))


async def new_revision(db: Database, message: str) -> None:
    """Write a migration for what the models changed since the database's revision."""
    async with db.engine.begin() as connection:
        await connection.run_sync(
            lambda sync: command.revision(alembic_config(sync), message=message, autogenerate=True)
        )


async def downgrade_all(db: Database) -> None:
    """Undo every migration: the database is left without the fair's tables."""
    async with db.engine.begin() as connection:
        await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), "base"))
