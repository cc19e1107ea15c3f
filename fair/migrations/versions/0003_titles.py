"""Negotiations and orders keep the offering's title they were made under.

A booth may rename an offering during the fair; what was negotiated and what
was ordered keep their names, so that no screen holds a name that no event
will ever correct.  Existing rows take their offering's present title.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 14:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TITLE_OF_OFFERING = "(SELECT offering.title FROM offering WHERE offering.id = {table}.offering_id)"


def upgrade() -> None:
    for table in ("negotiation", "purchase_order"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("offering_title", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="")
            )
        op.execute(f"UPDATE {table} SET offering_title = {TITLE_OF_OFFERING.format(table=table)}")
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("offering_title", server_default=None)


def downgrade() -> None:
    for table in ("purchase_order", "negotiation"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("offering_title")
