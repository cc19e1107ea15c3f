"""Residents rate a delivery they attended, through the QR code shown at the event; moderated like wishes.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 17:57:30.034465
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fair.models

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "resident_rating",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fair_id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("device", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", fair.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["delivery.id"],
        ),
        sa.ForeignKeyConstraint(
            ["fair_id"],
            ["fair.id"],
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["supplier.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("delivery_id", "device"),
    )
    with op.batch_alter_table("resident_rating", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_resident_rating_delivery_id"), ["delivery_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_resident_rating_fair_id"), ["fair_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_resident_rating_supplier_id"), ["supplier_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("resident_rating", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resident_rating_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_resident_rating_fair_id"))
        batch_op.drop_index(batch_op.f("ix_resident_rating_delivery_id"))

    op.drop_table("resident_rating")
