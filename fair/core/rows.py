"""Rows as plain objects, for the write path.

The commands read and write through Core statements and hold what they read
as simple attribute objects, not ORM instances: building a SQLModel table
instance costs about 0.4 ms on this machine kind (validation and
instrumentation), more than the statement that fills it, and a plain object
can be updated to mirror a conditional UPDATE without the session writing it
again.  The tables themselves stay defined once, in ``fair.models``.
"""

from __future__ import annotations

from functools import cache
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Insert, Label, insert, select
from sqlmodel import SQLModel

from fair.core.commands import Tx
from fair.core.errors import N_, Code, FairError
from fair.core.labels import THINGS

Row = SimpleNamespace  # a row of one table: its columns as attributes


def labelled(model: type[SQLModel], prefix: str) -> list[Label]:
    """The model's columns, labelled ``prefix + name``, for a select that joins several tables."""
    return [column.label(prefix + column.key) for column in model.__table__.columns]


def unpack(mapping: Any, model: type[SQLModel], prefix: str) -> Row | None:
    """The ``prefix``-labelled columns of a joined row as one table's row; None for a missing outer join."""
    values = {column.key: mapping[prefix + column.key] for column in model.__table__.columns}
    return None if values["id"] is None else Row(**values)


def new(model: type[SQLModel], **values: Any) -> Row:
    """A row not yet written, with the model's defaults for what ``values`` leaves out."""
    row = {
        name: field.get_default(call_default_factory=True)
        for name, field in model.model_fields.items()
        if name not in values
    }
    return Row(**row, **values)


def insert_row(tx: Tx, model: type[SQLModel], row: Row) -> Row:
    """Write ``row`` and give it its id."""
    values = {key: value for key, value in vars(row).items() if key != "id"}
    row.id = tx.run(_inserting(model), values).scalar_one()
    return row


@cache
def _inserting(model: type[SQLModel]) -> Insert:
    return insert(model).returning(model.id)


def returned(result: Any) -> Row | None:
    """The row a locking statement returned (``RETURNING table``, ``SELECT ... FOR SHARE``), if it matched one.

    Events are built from it: it is the row as it stands under the lock, with
    whatever other transactions committed before the lock was granted.
    """
    row = result.mappings().first()
    return None if row is None else Row(**row)


def get(tx: Tx, model: type[SQLModel], id: int) -> Row:
    """One row of the fair by id; a row of another fair is not found, so ids do not leak across fairs."""
    row = tx.run(select(model.__table__).where(model.id == id)).mappings().first()
    if row is None or row.get("fair_id", tx.fair_id) != tx.fair_id:
        raise not_found(model.__tablename__, id)
    return Row(**row)


def not_found(thing: str, id: int) -> FairError:
    return FairError(Code.not_found, N_("No such %(what_label)s: %(id)s."), what_label=THINGS[thing], id=id)
