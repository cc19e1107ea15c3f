"""Interests beyond kinds and audiences: themes (words of an offering's title) both ways, and the team's days.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-08 00:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = {"team": ("wanted_themes", "wanted_dates"), "supplier": ("best_themes",)}


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in columns:
                batch_op.add_column(sa.Column(column, sa.JSON(), nullable=False, server_default="[]"))
        with op.batch_alter_table(table, schema=None) as batch_op:  # the default was for existing rows only
            for column in columns:
                batch_op.alter_column(column, server_default=None)


def downgrade() -> None:
    for table, columns in COLUMNS.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            for column in reversed(columns):
                batch_op.drop_column(column)
