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
    await migrate.downgrade(db, "base")
    await migrate.upgrade(db)
    async with db.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: sync.dialect.get_table_names(sync))
    assert {"fair", "event", "purchase_order", "credential"} <= set(tables)


async def test_a_fair_full_of_data_survives_going_down_and_up_again(db: Database):
    """SQLite alters a table by copying it: that must work with rows that others refer to, both ways."""
    from tests.fairground import Fairground

    g = Fairground(db)
    await g.build()
    await g.order(g.centre, g.troupe, g.lecture)
    before = await g.state()
    await migrate.downgrade(db, "0002")
    await migrate.upgrade(db)
    assert await g.state() == before
