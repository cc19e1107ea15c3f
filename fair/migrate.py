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
    await _migrate(db, lambda sync: command.upgrade(alembic_config(sync), revision))


async def _migrate(db: Database, work) -> None:
    """Run ``work`` on a connection in one transaction; on SQLite with foreign keys off meanwhile.

    SQLite changes a table by copying it, dropping it and renaming the copy
    ("batch" migrations); dropping a table that other rows refer to fails
    while foreign keys are enforced, and the pragma only takes effect outside
    a transaction.  Alembic's documentation recommends exactly this.
    """
    async with db.engine.connect() as connection:
        if db.is_sqlite:
            await connection.run_sync(_foreign_keys, False)
        try:
            await connection.run_sync(work)
            await connection.commit()
        finally:
            if db.is_sqlite:
                await connection.rollback()
                await connection.run_sync(_foreign_keys, True)


def _foreign_keys(sync_connection, enforced: bool) -> None:
    """Set SQLite's foreign_keys pragma on the driver's connection, outside SQLAlchemy's transaction."""
    cursor = sync_connection.connection.dbapi_connection.cursor()
    cursor.execute(f"PRAGMA foreign_keys={'ON' if enforced else 'OFF'}")
    cursor.close()


async def new_revision(db: Database, message: str) -> None:
    """Write a migration for what the models changed since the database's revision."""
    async with db.engine.begin() as connection:
        await connection.run_sync(
            lambda sync: command.revision(alembic_config(sync), message=message, autogenerate=True)
        )


async def downgrade(db: Database, revision: str) -> None:
    """Undo the migrations after ``revision``; "base" undoes them all, leaving none of the fair's tables."""
    await _migrate(db, lambda sync: command.downgrade(alembic_config(sync), revision))
