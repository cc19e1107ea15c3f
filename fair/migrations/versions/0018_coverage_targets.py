"""Coverage targets per district: the share of streets reached and of wishes answered (60 % and 50 %).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("fair", schema=None) as batch_op:
        batch_op.add_column(sa.Column("coverage_streets_pct", sa.Integer(), nullable=False, server_default="60"))
        batch_op.add_column(sa.Column("coverage_wishes_pct", sa.Integer(), nullable=False, server_default="50"))
    with op.batch_alter_table("fair", schema=None) as batch_op:  # the defaults were for existing fairs only
        batch_op.alter_column("coverage_streets_pct", server_default=None)
        batch_op.alter_column("coverage_wishes_pct", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("fair", schema=None) as batch_op:
        batch_op.drop_column("coverage_wishes_pct")
        batch_op.drop_column("coverage_streets_pct")
