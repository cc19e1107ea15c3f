"""The migrations build exactly the schema the models describe, and undo it."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

from fair import migrate
from fair.db import Database


async def test_the_migrated_schema_is_the_models_schema(db: Database):
    async with db.engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), SQLModel.metadata)
        )
    assert differences == []


async def test_every_migration_can_be_undone_and_redone(db: Database):
    await migrate.downgrade_all(db)
    await migrate.upgrade(db)
    async with db.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: sync.dialect.get_table_names(sync))
    assert {"fair", "event", "purchase_order", "credential"} <= set(tables)
