"""What a team is looking for and what a booth does best: categories and audiences, both ways in the matching.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 22:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = {"team": ("wanted_categories", "wanted_audiences"), "supplier": ("best_categories", "best_audiences")}


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
