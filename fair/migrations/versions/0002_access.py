"""Join credentials (the QR links), organiser accounts, and an index to find the last order event.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 01:19:45.124066
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fair.models

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organiser_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", fair.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "credential",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fair_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=True),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("revoked_at", fair.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", fair.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["fair_id"],
            ["fair.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("credential", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_credential_fair_id"), ["fair_id"], unique=False)
    op.create_index("ix_event_kind", "event", ["fair_id", "type", "seq"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_event_kind", table_name="event")

    with op.batch_alter_table("credential", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_credential_fair_id"))

    op.drop_table("credential")
    op.drop_table("organiser_account")
