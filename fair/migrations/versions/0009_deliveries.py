"""After the fair: the teams' venues and the deliveries of each order, under supervision.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 17:38:12.273123
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fair.models

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "venue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fair_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("contact", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", fair.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["fair_id"],
            ["fair.id"],
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "name"),
    )
    with op.batch_alter_table("venue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_venue_fair_id"), ["fair_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_venue_team_id"), ["team_id"], unique=False)

    op.create_table(
        "delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fair_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("venue_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("starts_at", fair.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", fair.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("contact", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("reschedules", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("checked_in_at", fair.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("comment", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", fair.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", fair.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["fair_id"],
            ["fair.id"],
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["purchase_order.id"],
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["supplier.id"],
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
        ),
        sa.ForeignKeyConstraint(
            ["venue_id"],
            ["venue.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_fair_id"), ["fair_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_delivery_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_delivery_supplier_id"), ["supplier_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_delivery_team_id"), ["team_id"], unique=False)
        batch_op.create_index("ix_delivery_venue_time", ["venue_id", "starts_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_venue_time")
        batch_op.drop_index(batch_op.f("ix_delivery_team_id"))
        batch_op.drop_index(batch_op.f("ix_delivery_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_delivery_order_id"))
        batch_op.drop_index(batch_op.f("ix_delivery_fair_id"))

    op.drop_table("delivery")
    with op.batch_alter_table("venue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_venue_team_id"))
        batch_op.drop_index(batch_op.f("ix_venue_fair_id"))

    op.drop_table("venue")
