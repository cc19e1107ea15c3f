"""Corrections: an order can be voided (kept, marked, with a reason) and a fair reopened soon after it closed.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 17:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fair.models

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("purchase_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("voided_at", fair.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("void_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="")
        )
    with op.batch_alter_table("purchase_order", schema=None) as batch_op:
        batch_op.alter_column("void_reason", server_default=None)
    with op.batch_alter_table("fair", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_at", fair.models.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("fair", schema=None) as batch_op:
        batch_op.drop_column("closed_at")
    with op.batch_alter_table("purchase_order", schema=None) as batch_op:
        batch_op.drop_column("void_reason")
        batch_op.drop_column("voided_at")
