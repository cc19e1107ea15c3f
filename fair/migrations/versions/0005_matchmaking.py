"""Matchmaking: residents' wishes and supports, shortlists, meeting slots and appointments, booth queues.

Also: the team's street and the order's street (coverage), the wish an order
answers (on its terms and on the order), and the fair's grace time for a
team called in a queue.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 14:40:16.178678
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fair.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "wish",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fair_id", sa.Integer(), nullable=False),
        sa.Column("district", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("street", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("audience", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("supports", sa.Integer(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("merged_into", sa.Integer(), nullable=True),
        sa.Column("device", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", fair.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("moderated_at", fair.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["fair_id"],
            ["fair.id"],
        ),
        sa.ForeignKeyConstraint(
            ["merged_into"],
            ["wish.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("wish", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wish_fair_id"), ["fair_id"], unique=False)

    op.create_table(
        "booth_queue",
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("fair_id", sa.Integer(), nullable=False),
        sa.Column("next_number", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["fair_id"],
            ["fair.id"],
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["supplier.id"],
        ),
        sa.PrimaryKeyConstraint("supplier_id"),
    )
    with op.batch_alter_table("booth_queue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_booth_queue_fair_id"), ["fair_id"], unique=False)
    op.execute("INSERT INTO booth_queue (supplier_id, fair_id, next_number) SELECT id, fair_id, 1 FROM supplier")

    op.create_table(
        "queue_ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fair_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", fair.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("called_at", fair.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", fair.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["fair_id"],
            ["fair.id"],
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["supplier.id"],
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("queue_ticket", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_queue_ticket_fair_id"), ["fair_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_queue_ticket_supplier_id"), ["supplier_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_queue_ticket_team_id"), ["team_id"], unique=False)
        batch_op.create_index(
            "uq_ticket_active",
            ["supplier_id", "team_id"],
            unique=True,
            sqlite_where=sa.text("state IN ('waiting', 'called')"),
            postgresql_where=sa.text("state IN ('waiting', 'called')"),
        )

    op.create_table(
        "slot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fair_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", fair.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", fair.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["fair_id"],
            ["fair.id"],
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["supplier.id"],
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("supplier_id", "starts_at"),
    )
    with op.batch_alter_table("slot", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_slot_fair_id"), ["fair_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_slot_supplier_id"), ["supplier_id"], unique=False)

    op.create_table(
        "wish_support",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wish_id", sa.Integer(), nullable=False),
        sa.Column("device", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created_at", fair.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["wish_id"],
            ["wish.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("wish_id", "device", "day"),
    )
    with op.batch_alter_table("wish_support", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_wish_support_wish_id"), ["wish_id"], unique=False)

    op.create_table(
        "appointment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fair_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("offering_id", sa.Integer(), nullable=True),
        sa.Column("offering_title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("starts_at", fair.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", fair.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("ended_by", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", fair.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", fair.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["fair_id"],
            ["fair.id"],
        ),
        sa.ForeignKeyConstraint(
            ["offering_id"],
            ["offering.id"],
        ),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["slot.id"],
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["supplier.id"],
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_appointment_fair_id"), ["fair_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointment_slot_id"), ["slot_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointment_supplier_id"), ["supplier_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_appointment_team_id"), ["team_id"], unique=False)
        batch_op.create_index(
            "uq_appointment_active",
            ["slot_id"],
            unique=True,
            sqlite_where=sa.text("state IN ('invited', 'booked')"),
            postgresql_where=sa.text("state IN ('invited', 'booked')"),
        )

    op.create_table(
        "shortlist_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fair_id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.Integer(), nullable=False),
        sa.Column("offering_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("updated_at", fair.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["fair_id"],
            ["fair.id"],
        ),
        sa.ForeignKeyConstraint(
            ["offering_id"],
            ["offering.id"],
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["team.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "offering_id"),
    )
    with op.batch_alter_table("shortlist_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shortlist_item_fair_id"), ["fair_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shortlist_item_team_id"), ["team_id"], unique=False)

    # Existing rows get a default; the models give every new row its value, so the defaults go again.
    added = [
        ("fair", sa.Column("queue_grace_minutes", sa.Integer(), nullable=False, server_default="3")),
        ("purchase_order", sa.Column("street", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="")),
        ("team", sa.Column("street", sqlmodel.sql.sqltypes.AutoString(), nullable=False, server_default="")),
    ]
    for table, column in added:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(column)
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column.name, server_default=None)

    with op.batch_alter_table("purchase_order", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wish_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_purchase_order_wish_id"), ["wish_id"], unique=False)
        batch_op.create_foreign_key("fk_purchase_order_wish_id", "wish", ["wish_id"], ["id"])

    with op.batch_alter_table("terms", schema=None) as batch_op:
        batch_op.add_column(sa.Column("wish_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_terms_wish_id", "wish", ["wish_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("terms", schema=None) as batch_op:
        batch_op.drop_constraint("fk_terms_wish_id", type_="foreignkey")
        batch_op.drop_column("wish_id")

    with op.batch_alter_table("team", schema=None) as batch_op:
        batch_op.drop_column("street")

    with op.batch_alter_table("purchase_order", schema=None) as batch_op:
        batch_op.drop_constraint("fk_purchase_order_wish_id", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_purchase_order_wish_id"))
        batch_op.drop_column("wish_id")
        batch_op.drop_column("street")

    with op.batch_alter_table("fair", schema=None) as batch_op:
        batch_op.drop_column("queue_grace_minutes")

    with op.batch_alter_table("shortlist_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shortlist_item_team_id"))
        batch_op.drop_index(batch_op.f("ix_shortlist_item_fair_id"))

    op.drop_table("shortlist_item")
    with op.batch_alter_table("appointment", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_appointment_active",
            sqlite_where=sa.text("state IN ('invited', 'booked')"),
            postgresql_where=sa.text("state IN ('invited', 'booked')"),
        )
        batch_op.drop_index(batch_op.f("ix_appointment_team_id"))
        batch_op.drop_index(batch_op.f("ix_appointment_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_appointment_slot_id"))
        batch_op.drop_index(batch_op.f("ix_appointment_fair_id"))

    op.drop_table("appointment")
    with op.batch_alter_table("wish_support", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wish_support_wish_id"))

    op.drop_table("wish_support")
    with op.batch_alter_table("slot", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slot_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_slot_fair_id"))

    op.drop_table("slot")
    with op.batch_alter_table("queue_ticket", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_ticket_active",
            sqlite_where=sa.text("state IN ('waiting', 'called')"),
            postgresql_where=sa.text("state IN ('waiting', 'called')"),
        )
        batch_op.drop_index(batch_op.f("ix_queue_ticket_team_id"))
        batch_op.drop_index(batch_op.f("ix_queue_ticket_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_queue_ticket_fair_id"))

    op.drop_table("queue_ticket")
    with op.batch_alter_table("booth_queue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_booth_queue_fair_id"))

    op.drop_table("booth_queue")
    with op.batch_alter_table("wish", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_wish_fair_id"))

    op.drop_table("wish")
