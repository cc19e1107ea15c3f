"""Venues' size in the matching: the seats an offering needs at least, and the seats of a team's largest venue.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-08 00:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = {"offering": "min_seats", "team": "venue_seats"}


def upgrade() -> None:
    for table, column in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=False, server_default="0"))
        with op.batch_alter_table(table, schema=None) as batch_op:  # the default was for existing rows only
            batch_op.alter_column(column, server_default=None)


def downgrade() -> None:
    for table, column in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)
