"""A team may hold numbers at so many booths' queues at once (two by default).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 21:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fair", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queue_numbers_per_team", sa.Integer(), nullable=False, server_default="2"))
    with op.batch_alter_table("fair", schema=None) as batch_op:  # the default was for existing fairs only
        batch_op.alter_column("queue_numbers_per_team", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("fair", schema=None) as batch_op:
        batch_op.drop_column("queue_numbers_per_team")
