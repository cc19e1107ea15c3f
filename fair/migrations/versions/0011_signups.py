"""Residents sign up for a delivered event, within its seats; an event may carry a live stream.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 18:01:58.664790
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fair.models

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fair_id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("device", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", fair.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["delivery.id"],
        ),
        sa.ForeignKeyConstraint(
            ["fair_id"],
            ["fair.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("delivery_id", "device"),
    )
    with op.batch_alter_table("signup", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signup_delivery_id"), ["delivery_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_signup_fair_id"), ["fair_id"], unique=False)

    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seats", sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch_op.add_column(sa.Column("taken", sa.Integer(), nullable=False, server_default=sa.text("0")))
        batch_op.add_column(
            sa.Column("stream_url", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="")
        )
    with op.batch_alter_table("delivery", schema=None) as batch_op:  # the defaults were for existing rows only
        for column in ("seats", "taken", "stream_url"):
            batch_op.alter_column(column, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("stream_url")
        batch_op.drop_column("taken")
        batch_op.drop_column("seats")

    with op.batch_alter_table("signup", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signup_fair_id"))
        batch_op.drop_index(batch_op.f("ix_signup_delivery_id"))

    op.drop_table("signup")
