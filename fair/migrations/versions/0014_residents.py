"""Residents are people: confirmed phones, one support per person, seats with a waiting list, proven ratings.

Supports given before this were per cookie and per day: they counted clicks,
not people, so they are dropped and every wish's count restarts at zero
(docs/security.md).  Seats and ratings given before it are kept, marked as
from before (no resident); their seats stay taken, their ratings count nowhere.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 18:10:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import fair.models

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Text = sqlmodel.sql.sqltypes.AutoString
Time = fair.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "resident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", Text(), nullable=False),
        sa.Column("created_at", Time(timezone=True), nullable=False),
        sa.Column("confirmed_at", Time(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("phone"),
    )
    op.create_table(
        "phone_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", Text(), nullable=False),
        sa.Column("digest", Text(), nullable=False),
        sa.Column("salt", Text(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("used_at", Time(timezone=True), nullable=True),
        sa.Column("expires_at", Time(timezone=True), nullable=False),
        sa.Column("created_at", Time(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_phone_code_phone", "phone_code", ["phone"])
    op.create_table(
        "text_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", Text(), nullable=False),
        sa.Column("text", Text(), nullable=False),
        sa.Column("created_at", Time(timezone=True), nullable=False),
        sa.Column("sent_at", Time(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_text_message_phone", "text_message", ["phone"])
    op.create_table(
        "presence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fair_id", sa.Integer(), nullable=False),
        sa.Column("delivery_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("created_at", Time(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["delivery_id"], ["delivery.id"]),
        sa.ForeignKeyConstraint(["fair_id"], ["fair.id"]),
        sa.ForeignKeyConstraint(["resident_id"], ["resident.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("delivery_id", "resident_id"),
    )
    for column in ("delivery_id", "fair_id", "resident_id"):
        op.create_index(f"ix_presence_{column}", "presence", [column])

    with op.batch_alter_table("fair", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seats_per_resident", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("waiting", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("presence_secret", Text(), nullable=False, server_default=""))
    delivery = sa.table("delivery", sa.column("id", sa.Integer), sa.column("presence_secret", Text))
    bind = op.get_bind()
    for (delivery_id,) in bind.execute(sa.select(delivery.c.id)).all():  # each event's code has a secret of its own
        bind.execute(
            delivery.update().where(delivery.c.id == delivery_id).values(presence_secret=secrets.token_hex(16))
        )
    with op.batch_alter_table("fair", schema=None) as batch_op:  # the defaults were for existing rows only
        batch_op.alter_column("seats_per_resident", server_default=None)
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.alter_column("waiting", server_default=None)
        batch_op.alter_column("presence_secret", server_default=None)

    with op.batch_alter_table("wish", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resident_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_wish_resident_id", ["resident_id"])
        batch_op.create_foreign_key("fk_wish_resident_id", "resident", ["resident_id"], ["id"])
    op.drop_table("wish_support")  # cookies' supports counted clicks, not people
    op.execute("UPDATE wish SET supports = 0")
    op.create_table(
        "wish_support",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wish_id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.Integer(), nullable=False),
        sa.Column("created_at", Time(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["resident_id"], ["resident.id"]),
        sa.ForeignKeyConstraint(["wish_id"], ["wish.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("wish_id", "resident_id"),
    )
    op.create_index("ix_wish_support_wish_id", "wish_support", ["wish_id"])
    op.create_index("ix_wish_support_resident_id", "wish_support", ["resident_id"])

    for table in ("signup", "resident_rating"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("resident_id", sa.Integer(), nullable=True))
            batch_op.alter_column("device", existing_type=Text(), nullable=True)
            batch_op.create_index(f"ix_{table}_resident_id", ["resident_id"])
            batch_op.create_unique_constraint(f"uq_{table}_resident", ["delivery_id", "resident_id"])
            batch_op.create_foreign_key(f"fk_{table}_resident_id", "resident", ["resident_id"], ["id"])
    with op.batch_alter_table("signup", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seats", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("waiting", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("signup", schema=None) as batch_op:
        batch_op.alter_column("seats", server_default=None)
        batch_op.alter_column("waiting", server_default=None)
    with op.batch_alter_table("resident_rating", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_at", Time(timezone=True), nullable=True))
    op.execute("UPDATE resident_rating SET updated_at = created_at")
    with op.batch_alter_table("resident_rating", schema=None) as batch_op:
        batch_op.alter_column("updated_at", existing_type=Time(timezone=True), nullable=False)


def downgrade() -> None:
    """Back to cookies: the rows of confirmed residents go, since the old tables cannot say who they were."""
    op.execute("DELETE FROM resident_rating WHERE resident_id IS NOT NULL")
    op.execute("DELETE FROM signup WHERE resident_id IS NOT NULL")
    op.execute(  # the seats left are the cookies' rows, one seat each, as before
        "UPDATE delivery SET taken = (SELECT count(*) FROM signup WHERE signup.delivery_id = delivery.id)"
    )
    with op.batch_alter_table("resident_rating", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
    with op.batch_alter_table("signup", schema=None) as batch_op:
        batch_op.drop_column("waiting")
        batch_op.drop_column("seats")
    for table in ("signup", "resident_rating"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_resident_id", type_="foreignkey")
            batch_op.drop_constraint(f"uq_{table}_resident", type_="unique")
            batch_op.drop_index(f"ix_{table}_resident_id")
            batch_op.drop_column("resident_id")
            batch_op.alter_column("device", existing_type=Text(), nullable=False)
    op.drop_table("wish_support")
    op.execute("UPDATE wish SET supports = 0")
    op.create_table(
        "wish_support",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wish_id", sa.Integer(), nullable=False),
        sa.Column("device", Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("created_at", Time(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["wish_id"], ["wish.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("wish_id", "device", "day"),
    )
    op.create_index("ix_wish_support_wish_id", "wish_support", ["wish_id"])
    with op.batch_alter_table("wish", schema=None) as batch_op:
        batch_op.drop_constraint("fk_wish_resident_id", type_="foreignkey")
        batch_op.drop_index("ix_wish_resident_id")
        batch_op.drop_column("resident_id")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("presence_secret")
        batch_op.drop_column("waiting")
    with op.batch_alter_table("fair", schema=None) as batch_op:
        batch_op.drop_column("seats_per_resident")
    op.drop_table("presence")
    op.drop_table("text_message")
    op.drop_table("phone_code")
    op.drop_table("resident")
