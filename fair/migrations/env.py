"""Alembic's environment: runs on the connection that ``fair.migrate`` hands it."""

from alembic import context
from sqlmodel import SQLModel

import fair.models  # noqa: F401  (fills the metadata)

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=True,  # SQLite alters tables by copying them
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
