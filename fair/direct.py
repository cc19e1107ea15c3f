"""The write path's statements run straight on the driver: SQLite's cursor, or asyncpg through SQLAlchemy's adapter.

**Fenced** (``fair.fence``, path ``store``): this module uses private parts of
SQLAlchemy's compiler, its asyncpg adapter and its connection, and runs only
when the installed SQLAlchemy and asyncpg are the versions it was tested
with and ``FAIR_FENCED_PATHS`` is on; tests/test_fence.py checks the names it
relies on.  Otherwise ``available`` says no and ``plain`` goes through
``exec_driver_sql``: the core then runs every statement through
``Connection.execute``, SQLAlchemy's public API.

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

On PostgreSQL the statement goes to SQLAlchemy's asyncpg adapter as its
cursor would send it (the adapter's lock, its lazy ``BEGIN`` at the
connection's isolation level, its cache of prepared statements, its
translation of asyncpg's errors), without the execution context and result
around it; a driver error then goes through SQLAlchemy's own handling, which
wraps it and invalidates a connection that was lost.

Anything this does not know to do the same way goes through
``Connection.execute`` unchanged: another dialect, Python-side column
defaults, values rendered into the SQL, and any connection with cursor-level
event listeners (the benchmark that captures statements; ``tests/pauses.py``
holds a transaction in the adapter instead, so that the races run this
path).  Driver errors are wrapped as SQLAlchemy wraps them, so an
``IntegrityError`` still tells a replayed request id, and "database is
locked" still reads as unavailable (``fair.db.unavailable``).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Executable
from sqlalchemy.exc import DBAPIError, MultipleResultsFound, NoResultFound

from fair import fence

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
    expanding: tuple[str, ...]  # the parameters that are ``IN`` lists: the SQL depends on their lengths
    row: type[Row] | None  # None: the statement returns no rows
    readers: tuple[Callable[[Any], Any] | None, ...]
    expansions: dict[tuple[int, ...], tuple[str, tuple[str, ...], dict]] = field(default_factory=dict)

    def parameters(
        self, values: dict[str, Any] | None, extracted: Sequence, filling: Filling | None = None
    ) -> tuple[str, tuple]:
        """The SQL to send and its parameters, in order."""
        if filling is None:
            given = self.compiled.construct_params(values, escape_names=False, extracted_parameters=extracted)
        else:
            given = filling.fill(values)
        sql, names, binds = self.sql, self.names, self.binds
        if self.expanding:
            sql, names, binds = self._expand(given)
        return sql, tuple(binds[name](given[name]) if name in binds else given[name] for name in names)

    def _expand(self, given: dict[str, Any]) -> tuple[str, tuple[str, ...], dict]:
        """Each ``IN`` list as one placeholder per item, named as SQLAlchemy names them (``states_1``, …).

        SQLAlchemy renders the SQL anew for every execution; it depends only on the lists' lengths, so
        it is rendered once per length and kept.
        """
        lengths = tuple(len(given[name]) for name in self.expanding)
        known = self.expansions.get(lengths)
        if known is None:
            expanded = self.compiled._process_parameters_for_postcompile(dict(given))
            processors = {**self.binds, **expanded.processors}
            known = self.expansions[lengths] = (expanded.statement, tuple(expanded.positiontup), processors)
        for name in self.expanding:
            given.update({f"{name}_{number}": value for number, value in enumerate(given.pop(name), 1)})
        return known

    def read(self, raw: list[tuple]) -> list[Row]:
        row, readers = self.row, self.readers
        return [row(v if read is None else read(v) for read, v in zip(readers, each, strict=True)) for each in raw]


@dataclass(frozen=True, slots=True)
class Filling:
    """How one statement built once fills its parameters: what SQLAlchemy's ``construct_params`` works out
    on every execution (its literals' values, which value given goes to which bound name), worked out once.
    """

    base: dict[str, Any]
    targets: tuple[tuple[str, tuple[str, ...]], ...]  # a key given, and the bound names it fills

    def fill(self, values: dict[str, Any] | None) -> dict[str, Any]:
        given = self.base.copy()
        for key, names in self.targets:
            value = values[key]
            for name in names:
                given[name] = value
        return given

    @classmethod
    def of(cls, prepared: Prepared, extracted: Sequence, keys: tuple[str, ...]) -> Filling | None:
        """None where SQLAlchemy decides per execution: a value computed by a callable, a value missing."""
        compiled, targets = prepared.compiled, {}
        for bindparam, name in compiled.bind_names.items():
            target = bindparam.key if bindparam.key in keys else name if name in keys else None
            if bindparam.callable is not None or (target is None and bindparam.required):
                return None
            if target is not None:
                targets.setdefault(target, []).append(name)
        base = compiled.construct_params(escape_names=False, extracted_parameters=extracted, _check=False)
        return cls(base, tuple((key, tuple(names)) for key, names in targets.items()))


_shapes: dict[tuple, Prepared | None] = {}  # by cache key and parameter names; None: Connection.execute runs it
_statements: dict[int, tuple[Executable, Any, dict]] = {}  # by id: the statement, its cache key, its shapes seen


def available(connection: Connection) -> bool:
    """Whether ``run`` may serve this connection's transaction: the fenced path runs (``fair.fence``), SQLite or
    asyncpg, nobody listening to its cursor."""
    if not fence.active("store"):
        return False
    dialect = connection.dialect
    return (dialect.name == "sqlite" or dialect.driver == "asyncpg") and not _listened(connection)


def run(connection: Connection, statement: Executable, params: Params = None) -> Any:
    """``connection.execute(statement, params)``, straight on the driver where that is the same.

    Only for a connection that is ``available``; statements this cannot run the same way go to
    ``connection.execute``.
    """
    many = isinstance(params, list) and len(params) > 1
    first = (params[0] if params else None) if isinstance(params, list) else params
    # A statement built once (most of the core's) is known by identity: no cache key to compute or hash.
    known = _statements.get(id(statement))
    if known is None or known[0] is not statement:
        key = statement._generate_cache_key()
        if key is None:
            return connection.execute(statement, params)
        known = _statements[id(statement)] = (statement, key, {})
        if len(_statements) > MAX_SHAPES:  # statements built per call come and go
            _statements.clear()
    _, key, shapes = known
    dialect = connection.dialect
    asked = (tuple(first) if first else (), many, dialect.driver)  # SQL and processors are the driver's own
    seen = shapes.get(asked)
    if seen is None:
        shape = (key.key, tuple(sorted(asked[0])), many, dialect.driver)
        prepared = _shapes.get(shape, False)
        if prepared is False:
            prepared = _shapes[shape] = _prepare(connection, statement, key, shape[1], many)
            if len(_shapes) > MAX_SHAPES:
                _shapes.clear()
        # Seen once, a statement may be one built per call: its filling is worked out when it comes again.
        seen = shapes[asked] = (prepared, None)
    elif seen[0] is not None and seen[1] is None:
        seen = shapes[asked] = (seen[0], Filling.of(seen[0], key.bindparams, asked[0]) or False)
    prepared, filling = seen[0], seen[1] or None
    if prepared is None:
        return connection.execute(statement, params)
    if dialect.driver == "asyncpg":
        return _on_asyncpg(connection, prepared, key.bindparams, filling, first, params if many else None)
    cursor = connection.connection.driver_connection.cursor()
    values = None
    sql = prepared.sql
    try:
        if many:
            values = [prepared.parameters(each, key.bindparams, filling)[1] for each in params]
            cursor.executemany(sql, values)
            return Result([], cursor.rowcount)
        sql, values = prepared.parameters(first, key.bindparams, filling)
        cursor.execute(sql, values)
        raw = cursor.fetchall() if cursor.description is not None else []
        return Result(prepared.read(raw) if prepared.row is not None else raw, cursor.rowcount)
    except sqlite3.Error as error:
        raise DBAPIError.instance(sql, values, error, sqlite3.Error, dialect=dialect) from error
    finally:
        cursor.close()


STATUS = re.compile(r"(?:SELECT|UPDATE|DELETE|INSERT \d+) (\d+)")  # asyncpg's status: how many rows


def _on_asyncpg(
    connection: Connection, prepared: Prepared, extracted: Sequence, filling: Filling | None, first, many
) -> Result:
    """The statement through SQLAlchemy's asyncpg adapter, as its cursor would run it (its lock, its lazy
    ``BEGIN``, its cache of prepared statements), without the execution context and result around it."""
    from sqlalchemy.util import await_  # (imported here: only the fenced path may need it)

    adapted = connection.connection.dbapi_connection
    asof = connection.dialect._invalidate_schema_cache_asof
    sql, values = prepared.sql, None
    try:
        if many is not None:
            values = [prepared.parameters(each, extracted, filling)[1] for each in many]
            await_(_asyncpg_many(adapted, sql, values))
            return Result([], -1)  # as SQLAlchemy's cursor says after executemany
        sql, values = prepared.parameters(first, extracted, filling)
        raw, status = await_(_asyncpg_fetch(adapted, sql, values, asof))
    except Exception as error:  # wrapped, and a lost connection invalidated, as Connection.execute does
        connection._handle_dbapi_exception(error, sql, values, None, None)
    counted = STATUS.match(status or "")
    rows = prepared.read(raw) if prepared.row is not None else raw
    return Result(rows, int(counted.group(1)) if counted else -1)


async def _asyncpg_fetch(adapted: Any, sql: str, values: tuple, asof: float) -> tuple[list, str | None]:
    async def fetch() -> tuple[list, str | None]:
        statement, _ = await adapted._prepare(sql, asof)
        return await statement.fetch(*values), statement.get_statusmsg()

    return await _in_adapter(adapted, fetch)


async def _asyncpg_many(adapted: Any, sql: str, values: list) -> None:
    return await _in_adapter(adapted, lambda: adapted._connection.executemany(sql, values))


async def _in_adapter(adapted: Any, call: Callable[[], Any]) -> Any:
    """``call()`` as the adapter's cursor runs a statement: under its lock, in its transaction (begun lazily at
    the connection's isolation level), its errors raised as the adapter's DBAPI errors."""
    async with adapted._execute_mutex:
        if adapted._transaction is None:
            await adapted._start_transaction()
        try:
            return await call()
        except Exception as error:
            adapted._handle_exception(error)  # raises


def plain(connection: Connection, sql: str) -> None:
    """``connection.exec_driver_sql(sql)`` for a statement without parameters or rows (``BEGIN IMMEDIATE``)."""
    if not fence.active("store") or _listened(connection):
        connection.exec_driver_sql(sql)
        return
    try:
        connection.connection.driver_connection.execute(sql)
    except sqlite3.Error as error:
        raise DBAPIError.instance(sql, (), error, sqlite3.Error, dialect=connection.dialect) from error


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
        or any(param.type._is_tuple_type for param in compiled.post_compile_params)  # IN of tuples: named apart
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
    expanding = tuple(sorted(compiled.bind_names[param] for param in compiled.post_compile_params))
    names = tuple(compiled.positiontup)
    return Prepared(compiled, compiled.string, names, compiled._bind_processors, expanding, row, readers)
