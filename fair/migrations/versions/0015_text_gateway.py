"""One waiting code per number, and text messages a gateway sends, retries or gives up on.

A new number's first code asked for twice at the same moment could be sent
twice: a partial unique index now keeps one waiting code per number (older
waiting duplicates are ended first).  The outbox gets what a gateway needs
to retry and to say why it gave up.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fair.models

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Text = sqlmodel.sql.sqltypes.AutoString
Time = fair.models.UTCDateTime
WAITING = sa.text("used_at IS NULL")


def upgrade() -> None:
    op.execute(
        "UPDATE phone_code SET used_at = created_at WHERE used_at IS NULL AND id NOT IN "
        "(SELECT max(id) FROM phone_code WHERE used_at IS NULL GROUP BY phone)"
    )
    op.create_index(
        "uq_phone_code_waiting", "phone_code", ["phone"], unique=True, sqlite_where=WAITING, postgresql_where=WAITING
    )
    with op.batch_alter_table("text_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("next_try_at", Time(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("gave_up_at", Time(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("error", Text(), nullable=True))
    with op.batch_alter_table("text_message", schema=None) as batch_op:  # the default was for existing rows only
        batch_op.alter_column("attempts", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("text_message", schema=None) as batch_op:
        for column in ("error", "gave_up_at", "next_try_at", "attempts"):
            batch_op.drop_column(column)
    op.drop_index("uq_phone_code_waiting", table_name="phone_code")
