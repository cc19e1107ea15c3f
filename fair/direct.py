"""The write path's statements on SQLite, run straight on the driver's cursor.

A command runs about 17 Core statements.  ``Connection.execute`` spends most
of a statement's CPU around the driver rather than in it: a cache key and a
compiled-cache lookup, an execution context, event dispatch, a result with
its metadata (``scripts/bench_write.py`` and py-spy of an order: SQLAlchemy
Core was most of ``Tx.run``, sqlite3 a sixth of it).  Here each statement
shape is compiled once by SQLAlchemy and kept: its SQL, the order of its
parameters and SQLAlchemy's own bind and result processors, so values go in
and come out exactly as they would through SQLAlchemy (times in UTC, JSON,
enums).  Its rows are tuples that answer by column name, in a result with the
handful of methods the core uses.

Anything this does not know to do the same way goes through
``Connection.execute`` unchanged: another dialect, Python-side column
defaults, values rendered into the SQL, and any connection with cursor-level event
listeners (the tests that pause a transaction, the benchmark that captures
statements).  Driver errors are wrapped as SQLAlchemy wraps them, so an
``IntegrityError`` still tells a replayed request id, and "database is
locked" still reads as unavailable (``fair.db.unavailable``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Executable
from sqlalchemy.exc import DBAPIError, MultipleResultsFound, NoResultFound

Params = dict[str, Any] | list[dict[str, Any]] | None
MAX_SHAPES = 2000  # statement shapes kept; the core has a few hundred, a runaway would not grow memory


class Row(tuple):
    """A result row: a tuple whose columns also answer by name, like SQLAlchemy's ``Row``."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()
    _index: dict[str, int] = {}

    def __getattr__(self, name: str) -> Any:
        try:
            return self[self._index[name]]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def _mapping(self) -> dict[str, Any]:
        return dict(zip(self._fields, self, strict=True))


class Result:
    """The rows of one statement, all fetched, and how many rows it changed."""

    __slots__ = ("rows", "rowcount")

    def __init__(self, rows: list, rowcount: int) -> None:
        self.rows, self.rowcount = rows, rowcount

    def __iter__(self) -> Iterator:
        return iter(self.rows)

    def all(self) -> list:
        return list(self.rows)

    def first(self) -> Any:
        return self.rows[0] if self.rows else None

    def one_or_none(self) -> Any:
        if len(self.rows) > 1:
            raise MultipleResultsFound("Multiple rows were found when one or none was required")
        return self.first()

    def one(self) -> Any:
        if not self.rows:
            raise NoResultFound("No row was found when one was required")
        return self.one_or_none()

    def scalar(self) -> Any:
        return self.rows[0][0] if self.rows else None

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalar_one_or_none(self) -> Any:
        row = self.one_or_none()
        return None if row is None else row[0]

    def scalars(self) -> Result:
        return Result([row[0] for row in self.rows], self.rowcount)

    def mappings(self) -> Result:
        return Result([row._mapping for row in self.rows], self.rowcount)


@dataclass(frozen=True, slots=True)
class Prepared:
    """One statement shape, compiled once: what to send and how to read what comes back."""

    compiled: Any  # SQLAlchemy's SQLCompiler: builds each execution's parameters from the values given
    sql: str
    names: tuple[str, ...]  # the parameters, in the order of the SQL's placeholders
    binds: dict[str, Callable[[Any], Any]]
    expanding: bool  # an ``IN`` list of values: its SQL depends on how many
    row: type[Row] | None  # None: the statement returns no rows
    readers: tuple[Callable[[Any], Any] | None, ...]

    def parameters(self, values: dict[str, Any] | None, extracted: Sequence) -> tuple[str, tuple]:
        """The SQL to send and its parameters, in order; an ``IN`` list's SQL is rendered for its length."""
        compiled = self.compiled
        given = compiled.construct_params(values, escape_names=False, extracted_parameters=extracted)
        sql, names, binds = self.sql, self.names, self.binds
        if self.expanding:  # as SQLAlchemy does it: one placeholder per item, each with its bind processor
            expanded = compiled._process_parameters_for_postcompile(given)
            sql, names, binds = expanded.statement, expanded.positiontup, {**binds, **expanded.processors}
        return sql, tuple(binds[name](given[name]) if name in binds else given[name] for name in names)

    def read(self, raw: list[tuple]) -> list[Row]:
        row, readers = self.row, self.readers
        return [row(v if read is None else read(v) for read, v in zip(readers, each, strict=True)) for each in raw]


_shapes: dict[tuple, Prepared | None] = {}  # None: a shape that must go through Connection.execute


def run(connection: Connection, statement: Executable, params: Params = None) -> Any:
    """``connection.execute(statement, params)``, straight on SQLite's cursor where that is the same."""
    if connection.dialect.name != "sqlite" or _listened(connection):
        return connection.execute(statement, params)
    key = statement._generate_cache_key()
    if key is None:
        return connection.execute(statement, params)
    many = isinstance(params, list) and len(params) > 1
    first = (params[0] if params else None) if isinstance(params, list) else params
    shape = (key.key, tuple(sorted(first)) if first else (), many)
    prepared = _shapes.get(shape, False)
    if prepared is False:
        prepared = _shapes[shape] = _prepare(connection, statement, key, shape[1], many)
        if len(_shapes) > MAX_SHAPES:
            _shapes.clear()
    if prepared is None:
        return connection.execute(statement, params)
    cursor = connection.connection.driver_connection.cursor()
    values = None
    sql = prepared.sql
    try:
        if many:
            values = [prepared.parameters(each, key.bindparams)[1] for each in params]
            cursor.executemany(sql, values)
            return Result([], cursor.rowcount)
        sql, values = prepared.parameters(first, key.bindparams)
        cursor.execute(sql, values)
        raw = cursor.fetchall() if cursor.description is not None else []
        return Result(prepared.read(raw) if prepared.row is not None else raw, cursor.rowcount)
    except sqlite3.Error as error:
        raise DBAPIError.instance(sql, values, error, sqlite3.Error, dialect=connection.dialect) from error
    finally:
        cursor.close()


def _listened(connection: Connection) -> bool:
    dispatch = connection.dispatch
    return bool(dispatch.before_cursor_execute or dispatch.after_cursor_execute)


def _prepare(connection: Connection, statement: Executable, key, keys: tuple, many: bool) -> Prepared | None:
    dialect = connection.dialect
    compiled = statement.compile(dialect=dialect, cache_key=key, column_keys=list(keys), for_executemany=many)
    if (
        compiled.insert_prefetch  # Python-side defaults, filled by SQLAlchemy's execution context
        or compiled.update_prefetch
        or compiled.literal_execute_params  # values rendered into the SQL itself
        or (compiled.post_compile_params and many)
        or compiled.schema_translate_map
        or not compiled.positional
    ):
        return None
    columns = compiled._result_columns
    row = None
    if columns:
        fields = tuple(column.keyname for column in columns)
        row = type("Row", (Row,), {"__slots__": (), "_fields": fields, "_index": {f: i for i, f in enumerate(fields)}})
    readers = tuple(column.type._cached_result_processor(dialect, None) for column in columns)
    expanding = bool(compiled.post_compile_params)
    names = tuple(compiled.positiontup)
    return Prepared(compiled, compiled.string, names, compiled._bind_processors, expanding, row, readers)
