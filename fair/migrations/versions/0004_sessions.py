"""Server-side sessions: devices enrolled by join cards, organiser sign-ins; a device limit per card.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 13:50:14.964457

Cards issued before this revision may sign in three devices each; an organiser
account created before it keeps its password (only a generated first password
must be changed at the first sign-in).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fair.models

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organiser_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", fair.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", fair.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", fair.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["organiser_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("organiser_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organiser_session_account_id"), ["account_id"], unique=False)

    op.create_table(
        "device_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", fair.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", fair.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", fair.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["credential_id"], ["credential.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("device_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_device_session_credential_id"), ["credential_id"], unique=False)

    with op.batch_alter_table("credential", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_devices", sa.Integer(), nullable=False, server_default=sa.text("3")))

    with op.batch_alter_table("organiser_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("organiser_account", schema=None) as batch_op:
        batch_op.drop_column("must_change_password")

    with op.batch_alter_table("credential", schema=None) as batch_op:
        batch_op.drop_column("max_devices")

    with op.batch_alter_table("device_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_session_credential_id"))

    op.drop_table("device_session")
    with op.batch_alter_table("organiser_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organiser_session_account_id"))

    op.drop_table("organiser_session")
