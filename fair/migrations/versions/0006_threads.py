"""Messages between the two sides of a negotiation.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fair.models

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "negotiation_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("negotiation_id", sa.Integer(), nullable=False),
        sa.Column("author", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", fair.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["negotiation_id"], ["negotiation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("negotiation_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_negotiation_message_negotiation_id"), ["negotiation_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("negotiation_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_negotiation_message_negotiation_id"))
    op.drop_table("negotiation_message")
