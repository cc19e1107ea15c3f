"""Generated bad input (issue 14): strategies, a fair to throw it at, and what every answer must be.

The payload strategies are read off each command's pydantic ``Input`` model
(its JSON schema, nested models and patterns included): wholly valid, valid
but for one field at or just past its bounds, wholly at the bounds, mutated
(a field dropped, one added, one of the wrong type or arbitrary JSON), and
beside them arbitrary JSON of any shape.  Integers lean to small numbers, so
that ids name rows that exist and the handlers' own checks run, not only the
validation.

How many inputs a run makes: the CI's share by default, ten times as many
with ``FAIR_FUZZ=long`` (see docs/fuzzing.md).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlmodel import SQLModel

from fair.core import COMMANDS, Actor, Code, FairError, Role
from fair.core.registers import REGISTERS
from fair.db import Database
from fair.i18n import translations
from tests.fairground import Fairground

# Tables a refusal may write: the refusal itself, recorded under its request id so that a replay answers the same.
REFUSAL_RECORDS = frozenset({"request_record"})

# FAIR_FUZZ=long (ten times) or FAIR_FUZZ=<n> multiplies every fuzz test's number of inputs: the longer run
# (docs/fuzzing.md).  Unset, a run makes the CI's share.
_RUN = os.environ.get("FAIR_FUZZ", "ci")
SCALE = {"ci": 1, "long": 10}.get(_RUN) or int(_RUN)


def fuzz(count: int) -> settings:
    """A fuzz test's settings: ``count`` inputs in CI (``SCALE`` times as many in the longer run)."""
    return settings(
        max_examples=count * SCALE,
        deadline=None,  # no assertion on time: a slow example on a busy machine is not a failure
        # One fair serves every example of a test; whatever an example changes is put back (``Sandbox``).
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# --- What every answer must be -------------------------------------------------------------------------------


def assert_coded(error: FairError, context: Any) -> None:
    """A refusal a program can act on (a stable code) and a person can read (a translated message)."""
    assert isinstance(error.code, Code), context
    assert error.code != Code.internal_error, context
    catalogue = translations("zh_CN")
    for locale in ("en", "zh_CN"):
        message = error.message(locale)  # every parameter the msgid names is there (KeyError otherwise)
        assert isinstance(message, str) and message.strip(), (locale, context)
    assert catalogue.gettext(error.msgid) != error.msgid, ("no Chinese for", error.msgid, context)


def assert_coded_ack(ack: Any, context: Any) -> None:
    """The same for a Socket.IO acknowledgement: ``{ok: true, data}`` or ``{ok: false, error: {code, message}}``."""
    assert isinstance(ack, dict) and isinstance(ack.get("ok"), bool), (ack, context)
    if ack["ok"]:
        assert "data" in ack, (ack, context)
        return
    error = ack.get("error")
    assert isinstance(error, dict) and error.get("code") in set(Code), (ack, context)
    assert error["code"] != Code.internal_error, (ack, context)
    assert isinstance(error.get("message"), str) and error["message"].strip(), (ack, context)


# --- The whole database, read afresh -------------------------------------------------------------------------


def _tables():
    import fair.models  # noqa: F401  (every table registered)

    return [table for name, table in sorted(SQLModel.metadata.tables.items()) if name not in REFUSAL_RECORDS]


async def snapshot(db: Database) -> dict[str, list[tuple]]:
    """Every row of every table but the request records, in key order: what a refusal must leave alone.

    A SQLite file is read through a connection of its own (stdlib ``sqlite3``: a fresh read of what is
    committed, fifty times faster than through the async engine); other databases through ``db.read()``.
    """
    if db.is_sqlite:
        with contextlib.closing(sqlite3.connect(db.url.database)) as connection:
            return {
                table.name: connection.execute(
                    f"SELECT * FROM {table.name} ORDER BY "  # noqa: S608  (names from the metadata)
                    + ", ".join(column.name for column in table.primary_key.columns)
                ).fetchall()
                for table in _tables()
            }
    dump = {}
    async with db.read() as session:
        for table in _tables():
            statement = select(table).order_by(*table.primary_key.columns)
            dump[table.name] = [tuple(row) for row in (await session.exec(statement)).all()]
    return dump


def differences(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> list[str]:
    changed = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, []), after.get(name, [])
        if old != new:
            gone = [row for row in old if row not in new][:3]
            came = [row for row in new if row not in old][:3]
            changed.append(f"{name}: {len(old)} -> {len(new)} rows; gone {gone!r}; came {came!r}")
    return changed


# --- A fair with something of everything, put back after every change ----------------------------------------


WISH = {"district": "玄武区", "street": "玄武门街道", "category": "lecture", "audience": "老年人", "text": "希望有讲座"}


async def furnish(g: Fairground) -> dict[str, Actor]:
    """The small fair, plus one of each thing a command can name: an order, a proposal, slots, a delivery..."""
    await g.order(g.library, g.bookseller, g.books, quantity=5)  # order 1
    await g.propose(g.library, g.lecture)
    resident = Actor.resident(g.fair_id, "fuzz-phone")
    wish = (await g.do(resident, "wish.submit", WISH))["wish"]
    await g.do(g.organiser, "wish.moderate", {"wish_id": wish["id"], "decision": "approve"})
    await g.do(g.troupe, "slot.publish", {"starts": "09:00", "ends": "10:00", "minutes": 30})
    await g.do(g.centre, "appointment.book", {"slot_id": 1, "offering_id": g.show})
    await g.do(g.organiser, "announcement.send", {"audience": "everyone", "text": "欢迎光临"})
    await g.do(g.centre, "shortlist.put", {"offering_id": g.books})
    await g.do(g.centre, "queue.join", {"supplier_id": g.bookseller.party_id})
    order = (await g.order(g.centre, g.troupe, g.show, quantity=1, dates=["2023-04-01"]))["order"]  # order 2
    await g.order(g.centre, g.troupe, g.lecture, quantity=2)  # order 3, undated, not yet delivered
    venue = (await g.do(g.centre, "venue.add", {"name": "文化馆小剧场"}))["venue"]["id"]
    schedule = {"order_id": order["id"], "venue_id": venue, "day": "2023-04-01", "starts": "14:00", "ends": "16:00"}
    await g.do(g.centre, "delivery.schedule", schedule)
    await g.do(g.organiser, "access.issue", {"kind": "team", "party_id": g.community.party_id})
    return {
        "organiser": g.organiser,
        "team": g.centre,
        "other team": g.library,
        "supplier": g.troupe,
        "other supplier": g.bookseller,
        "resident": resident,
        "public": Actor.public(g.fair_id),
    }


_FURNISHED: dict[str, Any] = {}  # the first furnished fair of the run: its database, ids and actors


class Sandbox:
    """A furnished fair in a SQLite file, and a pristine copy of it to put back after a command that succeeds.

    SQLite's backup API writes the copy into the live file under the open connections, which see it at once.
    """

    def __init__(self, folder: Path) -> None:
        self.path = folder / "fair.db"
        self.db = Database(f"sqlite+aiosqlite:///{self.path}")
        self.pristine = None

    async def build(self) -> None:
        """Migrate, build and furnish the fair the first time; copy the first one's database after that."""
        from fair import migrate

        self.ground = Fairground(self.db)
        if not _FURNISHED:
            await migrate.upgrade(self.db)
            await self.ground.build()
            actors = await furnish(self.ground)
            template = sqlite3.connect(":memory:")
            with contextlib.closing(sqlite3.connect(self.path)) as live:
                live.backup(template)
            _FURNISHED.update(template=template, ground=dict(vars(self.ground)), actors=actors)
        self.ground.__dict__.update({**_FURNISHED["ground"], "db": self.db})
        self.actors = _FURNISHED["actors"]
        self.pristine = sqlite3.connect(":memory:")
        _FURNISHED["template"].backup(self.pristine)
        await self.restore()
        self.state = await snapshot(self.db)

    async def restore(self) -> None:
        live = sqlite3.connect(self.path)
        try:
            self.pristine.backup(live)
        finally:
            live.close()

    async def close(self) -> None:
        if self.pristine is not None:
            self.pristine.close()
        await self.db.dispose()


class GrowingSandbox(Sandbox):
    """The furnished fair on another database (PostgreSQL), not put back: what succeeds stays, and is the new
    state that the next refusal must leave alone."""

    def __init__(self, db: Database) -> None:
        self.db, self.pristine = db, None

    async def build(self) -> None:
        from fair import migrate

        await migrate.upgrade(self.db)
        self.ground = Fairground(self.db)
        await self.ground.build()
        self.actors = await furnish(self.ground)
        self.state = await snapshot(self.db)

    async def restore(self) -> None:
        self.state = await snapshot(self.db)


# --- Strategies ----------------------------------------------------------------------------------------------

# Characters that have broken text handling somewhere: controls, NUL, bidi overrides, zero-width and
# format characters, lone surrogates (JSON can carry "\ud800"), private use, separators, markup, quotes.
NASTY_CHARACTERS = st.sampled_from(
    list("\x00\x01\x1b\x7f\t\n\r\u0085\u00ad\u200b\u200d\u202e\u2028\u2029\ufeff\ue000\ud800\udfff<>&'\"\\%{}")
    + ["\U0001f3ad", "\u3000", "\u0301", "\ufffd", "\uffff"]
)
TEXT = st.one_of(
    st.text(max_size=12),
    st.text(st.one_of(NASTY_CHARACTERS, st.characters()), max_size=8),
    st.sampled_from(["", " ", "  ", "null", "None", "0", "-1", "1e999", "NaN", "%(x)s", "%s", "{x}", "<b>x</b>"]),
    st.sampled_from(["2023-04-01", "2023-02-30", "2023-4-1", "20230401", "9999-12-31", "0000-01-01", "24:00"]),
)
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-8, 8),
    st.sampled_from([2**31, 2**53 + 1, 2**62, 2**63, -(2**63) - 1, 2**64, 10**30, -(10**30)]),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=12,
)


def _integer(schema: dict, valid: bool) -> st.SearchStrategy[int]:
    low, high = schema.get("minimum"), schema.get("maximum")
    low = low if low is not None else schema.get("exclusiveMinimum", -(2**63))
    high = high if high is not None else schema.get("exclusiveMaximum", 2**63)
    small = st.integers(max(low, 1), min(high, 8)) if max(low, 1) <= min(high, 8) else st.just(low)  # real rows' ids
    if valid:
        return st.one_of(small, small, st.sampled_from(sorted({low, high})), st.integers(low, high))
    edges = sorted({low - 1, low, low + 1, high - 1, high, high + 1, 0, -1, 2**63, 2**64})
    return st.one_of(small, st.sampled_from(edges))


PLAIN = st.text(st.characters(codec="utf-8", categories=["L", "N", "P", "Zs"]), min_size=1, max_size=12)


def _string(schema: dict, valid: bool) -> st.SearchStrategy[str]:
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    if "pattern" in schema:
        matching = st.from_regex(schema["pattern"], fullmatch=True)
        if high is not None:
            matching = matching.filter(lambda text: len(text) <= high)
        return matching if valid else st.one_of(matching, TEXT)
    if valid:
        if high == 10:  # a day (``Day``): the only text of ten characters at most
            return st.dates(dt.date(2023, 3, 25), dt.date(2023, 4, 20)).map(dt.date.isoformat)
        within = PLAIN.map(lambda text: (text * low)[: high or None] if len(text) < low else text[: high or None])
        return within.filter(lambda text: low <= len(text))
    shown = [TEXT, st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)).map(dt.date.isoformat)]
    if high is not None:  # every length that matters: empty, shortest, longest, one too long, one too short
        lengths = sorted({0, max(low - 1, 0), low, high, high + 1})
        filler = st.sampled_from(["长", "x", " ", "\u0301", "<"])
        shown.append(st.builds(lambda n, text: text * n, st.sampled_from(lengths), filler))
    return st.one_of(shown)


class Shapes:
    """Values of the shape a JSON schema (pydantic's, of one model) describes.

    ``valid``: within every bound, so that the command's rules run; otherwise at and past the bounds, with
    the text that has broken things before.
    """

    def __init__(self, schema: dict, valid: bool) -> None:
        self.defs = schema.get("$defs", {})
        self.valid = valid

    def of(self, schema: dict, depth: int = 0) -> st.SearchStrategy[Any]:
        if "$ref" in schema:
            return self.of(self.defs[schema["$ref"].rsplit("/", 1)[1]], depth)
        if "anyOf" in schema:
            return st.one_of([self.of(choice, depth) for choice in schema["anyOf"]])
        if "enum" in schema:
            return st.sampled_from(schema["enum"]) if self.valid else st.one_of(st.sampled_from(schema["enum"]), TEXT)
        kind = schema.get("type")
        if kind == "integer":
            return _integer(schema, self.valid)
        if kind == "number":
            return st.one_of(st.floats(), _integer({}, self.valid))
        if kind == "boolean":
            return st.booleans()
        if kind == "null":
            return st.none()
        if kind == "string":
            return _string(schema, self.valid)
        if kind == "array":
            items = self.of(schema.get("items", {}), depth + 1) if depth < 4 else JSON_SCALARS
            low, high = schema.get("minItems", 0), schema.get("maxItems")
            most = min(high if high is not None else 5, low + 3)
            unique = self.valid and schema.get("uniqueItems", False)
            small = st.lists(items, min_size=low, max_size=most, unique=unique)
            if self.valid or high is None or high > 400:
                return small
            return st.one_of(small, st.lists(items, min_size=high, max_size=high + 1))  # full, and one too many
        if kind == "object" or "properties" in schema:
            return self.model(schema, depth + 1) if depth < 4 else st.just({})
        return JSON_SCALARS if self.valid else JSON

    def model(self, schema: dict, depth: int = 0) -> st.SearchStrategy[dict]:
        properties = schema.get("properties", {})
        required = set(schema.get("required", ()))
        fields = {
            name: self.of(field, depth) if name in required else st.one_of(st.just(MISSING), self.of(field, depth))
            for name, field in properties.items()
        }
        return st.fixed_dictionaries(fields).map(lambda values: {k: v for k, v in values.items() if v is not MISSING})


MISSING = object()


def mutated(value: dict, names: list[str]) -> st.SearchStrategy[dict]:
    """One field dropped, one too many, or one given the wrong type or arbitrary JSON."""
    choices = [st.builds(lambda extra, junk: {**value, extra: junk}, TEXT, JSON)]
    if value:
        choices.append(st.sampled_from(sorted(value)).map(lambda drop: {k: v for k, v in value.items() if k != drop}))
    if names:
        wrong = st.one_of(JSON, st.sampled_from(["1", 1.0, 1.5, True, False, [1], {"id": 1}, None, "", 2**63]))
        choices.append(st.builds(lambda name, junk: {**value, name: junk}, st.sampled_from(names), wrong))
    return st.one_of(choices)


def one_edgy_field(value: dict, fields: dict[str, st.SearchStrategy]) -> st.SearchStrategy[dict]:
    """A valid payload but for one field, at or past its bounds: the handler runs up to that field."""
    if not fields:
        return st.just(value)
    return st.sampled_from(sorted(fields)).flatmap(lambda name: fields[name].map(lambda edge: {**value, name: edge}))


NUMBERS = st.sampled_from(
    ["0", "-0", "1", "12.5", "¥1,000.50", "１２", "٣", "1e3", "1e15", "1e9999999", "-1e9999999", "1e-9999999"]
    + ["inf", "-inf", "NaN", "sNaN", "1_000", " 7 ", "0x10", "是", "否", "yes", "", "2023-04-01", "2023-02-30"]
)
CELLS = st.one_of(JSON_SCALARS, NUMBERS)


@st.composite
def registers(draw) -> dict:
    """A register as the spreadsheet import sends it, with the real headings, so that every cell is read."""
    kind = draw(st.sampled_from(sorted(REGISTERS)))
    headers = [heading.header for heading in REGISTERS[kind]]
    named = draw(st.lists(st.sampled_from(headers), min_size=1, max_size=len(headers), unique=True))
    header = draw(st.permutations(named)) if draw(st.booleans()) else headers
    rows = draw(st.lists(st.lists(CELLS, min_size=len(header), max_size=len(header) + 1), max_size=3))
    return {"kind": kind, "header": header, "rows": rows, "preview": draw(st.booleans())}


_MODELS: dict[str, st.SearchStrategy[dict]] = {}


def payloads(command: str) -> st.SearchStrategy[Any]:
    """Payloads for ``command``: of its model's shape, valid or at and past its bounds, mutated, or any JSON.

    Most are valid but for at most one field, so that the command's own rules run on the furnished fair,
    not only the validation.
    """
    if command not in _MODELS:
        schema = COMMANDS[command].input.model_json_schema()
        valid, edgy = Shapes(schema, valid=True), Shapes(schema, valid=False)
        whole = valid.model(schema)
        fields = {name: edgy.of(field) for name, field in schema.get("properties", {}).items()}
        _MODELS[command] = st.one_of(
            whole,
            whole,
            whole.flatmap(lambda value: one_edgy_field(value, fields)),
            whole.flatmap(lambda value: one_edgy_field(value, fields)),
            edgy.model(schema),
            whole.flatmap(lambda value: mutated(value, sorted(fields))),
            JSON,
        )
        if command == "register.import":
            _MODELS[command] = st.one_of(registers(), registers(), _MODELS[command])
    return _MODELS[command]


REQUEST_IDS = st.one_of(
    st.from_regex(r"[A-Za-z0-9_.:\-]{1,64}", fullmatch=True),
    st.sampled_from(["", "x" * 65, "有空格 的", "a/b", "a\x00b"]),
    JSON_SCALARS,
)


def role_of(actor: Actor) -> str:
    return "anonymous" if actor.role == Role.public else str(actor.role)
