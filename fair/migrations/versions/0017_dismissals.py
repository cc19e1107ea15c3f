"""Recommendations a team or a booth set aside ("not interested", or snoozed for some hours).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 21:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fair.models

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Text = sqlmodel.sql.sqltypes.AutoString
Time = fair.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "dismissal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fair_id", sa.Integer(), nullable=False),
        sa.Column("by", Text(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("offering_id", sa.Integer(), nullable=False),
        sa.Column("until", Time(timezone=True), nullable=True),
        sa.Column("created_at", Time(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["fair_id"], ["fair.id"]),
        sa.ForeignKeyConstraint(["supplier_id"], ["supplier.id"]),
        sa.ForeignKeyConstraint(["team_id"], ["team.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "supplier_id", "offering_id", "by"),
    )
    for column in ("fair_id", "team_id", "supplier_id"):
        op.create_index(f"ix_dismissal_{column}", "dismissal", [column])


def downgrade() -> None:
    op.drop_table("dismissal")
