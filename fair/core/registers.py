"""The organiser's registers as spreadsheets: teams, suppliers and offerings, exported and imported in one format.

One column list per register says how a spreadsheet's cell becomes a
command's field and back, so that what the console exports imports again
unchanged.  A header may be written in Chinese or English.

An import is one command, ``register.import``: each row becomes the
command an organiser would have sent by hand (``team.register``,
``team.set_budget``, ``supplier.register``, ``offering.publish``, …), run by
the same handlers, each in a savepoint so that every row's error is found in
one pass.  Nothing is written unless every row is valid; a preview runs the
same rows and rolls them back, so it reports exactly what the import would do.
Rows are matched to what exists by a key: a team by its name, a supplier by
its booth, an offering by its booth and title.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import Field, StrictBool, StrictStr
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from fair.core.actors import Actor, Role
from fair.core.commands import COMMANDS, Tx, command
from fair.core.errors import N_, Code, FairError
from fair.core.guards import current_fair
from fair.core.inputs import Input, parse
from fair.core.labels import CATEGORY_NAMES, TEAM_KINDS
from fair.core.reports import Column, Table
from fair.i18n import LOCALES, gettext
from fair.models import Offering, OfferingDate, Supplier, Team

MAX_ROWS = 2_000
YES, NO = N_("yes"), N_("no")


@dataclass(frozen=True)
class Heading:
    """A column of a register: its header, the field it fills, and how a cell is read."""

    header: str  # a msgid: the header in English, translated for the other locales
    field: str
    kind: str = "text"  # text, money (yuan in the cell, fen in the field), int, bool, choice, days
    choices: dict[str, str] | None = None  # code -> msgid, for "choice"
    required: bool = True


TEAM_FIELDS = (
    Heading(N_("Team"), "name"),
    Heading(N_("Kind"), "kind", "choice", TEAM_KINDS),
    Heading(N_("District"), "district"),
    Heading(N_("Street"), "street", required=False),
    Heading(N_("Budget"), "budget_fen", "money"),
    Heading(N_("Approved"), "approved", "bool", required=False),
)
SUPPLIER_FIELDS = (
    Heading(N_("Booth"), "booth"),
    Heading(N_("Supplier"), "name"),
    Heading(N_("Approved"), "approved", "bool", required=False),
)
OFFERING_FIELDS = (
    Heading(N_("Booth"), "booth"),
    Heading(N_("Category"), "category", "choice", CATEGORY_NAMES),
    Heading(N_("Offering"), "title"),
    Heading(N_("Description"), "description", required=False),
    Heading(N_("Unit"), "unit"),
    Heading(N_("Unit price"), "unit_price_fen", "money"),
    Heading(N_("Capacity"), "capacity", "int"),
    Heading(N_("Dates"), "dates", "days", required=False),
)
REGISTERS = {"teams": TEAM_FIELDS, "suppliers": SUPPLIER_FIELDS, "offerings": OFFERING_FIELDS}
TITLES = {"teams": N_("Teams"), "suppliers": N_("Suppliers"), "offerings": N_("Offerings")}

Cell = str | int | float | bool | None


class ImportRegister(Input):
    kind: Annotated[StrictStr, Field(pattern="^(teams|suppliers|offerings)$")]
    header: Annotated[list[Annotated[StrictStr, Field(max_length=60)]], Field(min_length=1, max_length=30)]
    rows: Annotated[list[Annotated[list[Cell], Field(max_length=30)]], Field(max_length=MAX_ROWS)]
    preview: StrictBool = True


class RowError(Exception):
    """What is wrong with one cell or row, as a message to translate."""

    def __init__(self, msgid: str, **params: Any) -> None:
        super().__init__(msgid)
        self.error = FairError(Code.invalid_input, msgid, **params)


class Undo(Exception):  # noqa: N818 (not an error: the savepoint of a preview or of a file with errors is rolled back)
    pass


@command("register.import", ImportRegister, Role.organiser)
def import_register(tx: Tx, data: ImportRegister) -> dict[str, Any]:
    current_fair(tx)
    fields = REGISTERS[data.kind]
    columns = _columns(fields, data.header)
    if not data.rows:
        raise FairError(Code.invalid_input, N_("The file has no rows under its header."))
    outcome: dict[str, Any] = {"kind": data.kind, "preview": data.preview, "rows": [], "errors": []}
    kept = len(tx.pending)
    try:
        with tx.connection.begin_nested():
            for line, cells in enumerate(data.rows, start=2):  # line 1 is the header
                if all(cell in (None, "") for cell in cells):
                    continue
                try:
                    with tx.connection.begin_nested():
                        values = _values(fields, columns, cells)
                        action, key = IMPORTERS[data.kind](tx, values)
                    outcome["rows"].append({"line": line, "action": action, "key": key})
                except RowError as wrong:
                    outcome["errors"].append({"line": line, **wrong.error.to_record()})
                except FairError as refused:
                    outcome["errors"].append({"line": line, **refused.to_record()})
            if data.preview or outcome["errors"]:
                raise Undo
    except Undo:
        del tx.pending[kept:]  # nothing happened: no event either
    outcome["written"] = not data.preview and not outcome["errors"]
    outcome["counts"] = {action: sum(r["action"] == action for r in outcome["rows"]) for action in ACTIONS}
    return outcome


ACTIONS = ("created", "updated", "unchanged")


def _columns(fields: tuple[Heading, ...], header: list[str]) -> list[int | None]:
    """Where each field's column is in the file, matching headers in any language; refuses a missing one."""
    names = {gettext(locale, f.header).strip().lower(): index for index, f in enumerate(fields) for locale in LOCALES}
    where: list[int | None] = [None] * len(fields)
    for position, text in enumerate(header):
        index = names.get(str(text).strip().lower())
        if index is not None and where[index] is None:
            where[index] = position
    missing = [f.header for f, at in zip(fields, where, strict=True) if at is None and f.required]
    if missing:
        raise FairError(Code.invalid_input, N_("The file has no column %(column_label)s."), column_label=missing[0])
    return where


def _values(fields: tuple[Heading, ...], columns: list[int | None], cells: list[Cell]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for f, at in zip(fields, columns, strict=True):
        cell = cells[at] if at is not None and at < len(cells) else None
        text = "" if cell is None else (str(cell).strip() if not isinstance(cell, float) else repr(cell))
        if text == "":
            if f.required:
                raise RowError(N_("%(column_label)s is empty."), column_label=f.header)
            continue
        values[f.field] = _read(f, cell, text)
    return values


PAST_ANY_LIMIT = 10**15  # more than any amount in fen or any count the fair takes: the model calls it too large


def _bounded(number: Decimal) -> int:
    """A whole number as an int, but no bigger than needed to be refused: "1e9999999" would take minutes."""
    return int(max(-PAST_ANY_LIMIT, min(number, PAST_ANY_LIMIT)))


def _read(f: Heading, cell: Cell, text: str) -> Any:
    if f.kind == "money":
        try:
            yuan = Decimal(text.replace("¥", "").replace(",", "").replace("，", ""))
        except InvalidOperation:
            raise RowError(
                N_("%(column_label)s is not an amount: %(text)s."), column_label=f.header, text=text
            ) from None
        if not yuan.is_finite() or yuan < 0:
            raise RowError(N_("%(column_label)s is not an amount: %(text)s."), column_label=f.header, text=text)
        fen = yuan.min(Decimal(PAST_ANY_LIMIT)) * 100  # (1e9999999 × 100 overflows the decimal context)
        if fen != fen.to_integral_value():
            raise RowError(N_("%(column_label)s is not an amount: %(text)s."), column_label=f.header, text=text)
        return _bounded(fen)
    if f.kind == "int":
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise RowError(
                N_("%(column_label)s is not a whole number: %(text)s."), column_label=f.header, text=text
            ) from None
        if not number.is_finite() or number != number.to_integral_value():
            raise RowError(N_("%(column_label)s is not a whole number: %(text)s."), column_label=f.header, text=text)
        return _bounded(number)
    if f.kind == "bool":
        if isinstance(cell, bool):
            return cell
        if text.lower() in {gettext(locale, YES).lower() for locale in LOCALES} | {"1", "true", "是"}:
            return True
        if text.lower() in {gettext(locale, NO).lower() for locale in LOCALES} | {"0", "false", "否"}:
            return False
        raise RowError(N_("%(column_label)s is neither yes nor no: %(text)s."), column_label=f.header, text=text)
    if f.kind == "choice":
        for code, label in f.choices.items():
            if text == code or text in {gettext(locale, label) for locale in LOCALES}:
                return code
        raise RowError(
            N_("%(column_label)s is not one of the allowed values: %(text)s."), column_label=f.header, text=text
        )
    if f.kind == "days":
        return [day.strip() for day in text.replace("、", ",").replace(";", ",").split(",") if day.strip()]
    return text


def _as(tx: Tx, actor: Actor) -> Tx:
    """The same transaction, acting for a supplier: its events are logged as the organiser's import."""
    return replace(tx, actor=actor)


def _run(tx: Tx, name: str, payload: dict[str, Any]) -> dict[str, Any]:
    spec = COMMANDS[name]
    return spec.handler(tx, parse(spec.input, payload))


def _import_team(tx: Tx, values: dict[str, Any]) -> tuple[str, str]:
    existing = tx.run(select(Team.__table__).where(Team.fair_id == tx.fair_id, Team.name == values["name"])).first()
    if existing is None:
        _run(tx, "team.register", values)
        return "created", values["name"]
    for field in ("kind", "district"):
        if field in values and values[field] != getattr(existing, field):
            raise RowError(N_("%(name)s is already registered with another kind or district."), name=values["name"])
    changed = False
    if values["budget_fen"] != existing.budget_fen:
        _run(tx, "team.set_budget", {"team_id": existing.id, "budget_fen": values["budget_fen"]})
        changed = True
    if "approved" in values and values["approved"] != existing.approved:
        _run(tx, "team.approve", {"team_id": existing.id, "approved": values["approved"]})
        changed = True
    return ("updated" if changed else "unchanged"), values["name"]


def _import_supplier(tx: Tx, values: dict[str, Any]) -> tuple[str, str]:
    existing = tx.run(
        select(Supplier.__table__).where(Supplier.fair_id == tx.fair_id, Supplier.booth == values["booth"])
    ).first()
    key = f"{values['booth']} {values['name']}"
    if existing is None:
        _run(tx, "supplier.register", values)
        return "created", key
    if existing.name != values["name"]:
        raise RowError(N_("Booth %(booth)s is already taken by %(name)s."), booth=values["booth"], name=existing.name)
    if "approved" in values and values["approved"] != existing.approved:
        _run(tx, "supplier.approve", {"supplier_id": existing.id, "approved": values["approved"]})
        return "updated", key
    return "unchanged", key


def _import_offering(tx: Tx, values: dict[str, Any]) -> tuple[str, str]:
    booth = values.pop("booth")
    supplier = tx.run(select(Supplier.__table__).where(Supplier.fair_id == tx.fair_id, Supplier.booth == booth)).first()
    if supplier is None:
        raise RowError(N_("There is no booth %(booth)s: import it with the suppliers first."), booth=booth)
    key = f"{booth} {values['title']}"
    acting = _as(tx, Actor.supplier(tx.fair_id, supplier.id))
    existing = tx.run(
        select(Offering.__table__).where(Offering.supplier_id == supplier.id, Offering.title == values["title"])
    ).first()
    if existing is None:
        _run(acting, "offering.publish", values)
        return "created", key
    if values["unit"] != existing.unit or values["category"] != existing.category:
        raise RowError(N_("%(title)s is already published with another category or unit."), title=values["title"])
    known = set(tx.run(select(OfferingDate.day).where(OfferingDate.offering_id == existing.id)).scalars())
    changes: dict[str, Any] = {
        field: values[field]
        for field in ("unit_price_fen", "capacity", "description")
        if field in values and values[field] != getattr(existing, field)
    }
    added = [day for day in values.get("dates", []) if day not in {d.isoformat() for d in known}]
    if added:
        changes["add_dates"] = added
    if not changes:
        return "unchanged", key
    _run(acting, "offering.update", {"offering_id": existing.id, **changes})
    return "updated", key


IMPORTERS = {"teams": _import_team, "suppliers": _import_supplier, "offerings": _import_offering}


async def export(session: AsyncSession, actor: Actor, kind: str) -> Table:
    """A register in the import's format: exported, edited in a spreadsheet and imported again."""
    if actor.role != Role.organiser:
        raise FairError(Code.forbidden, N_("Your role may not do this."))
    fields = REGISTERS[kind]
    table = Table(TITLES[kind], [Column(f.header, _column_kind(f)) for f in fields])
    if kind == "teams":
        teams = await session.exec(select(Team).where(Team.fair_id == actor.fair_id).order_by(Team.id))
        for t in teams.all():
            table.rows.append([t.name, TEAM_KINDS[t.kind], t.district, t.street, t.budget_fen, _yes(t.approved)])
    elif kind == "suppliers":
        suppliers = await session.exec(
            select(Supplier).where(Supplier.fair_id == actor.fair_id).order_by(Supplier.booth)
        )
        for supplier in suppliers.all():
            table.rows.append([supplier.booth, supplier.name, _yes(supplier.approved)])
    else:
        offered = (
            select(Offering, Supplier.booth)
            .join(Supplier, Supplier.id == Offering.supplier_id)
            .where(Offering.fair_id == actor.fair_id)
            .order_by(Supplier.booth, Offering.id)
        )
        days: dict[int, list[str]] = {}
        dated = select(OfferingDate.offering_id, OfferingDate.day).join(
            Offering, Offering.id == OfferingDate.offering_id
        )
        dated = dated.where(Offering.fair_id == actor.fair_id).order_by(OfferingDate.day)
        for offering_id, day in await session.exec(dated):
            days.setdefault(offering_id, []).append(day.isoformat())
        for offering, booth in await session.exec(offered):
            table.rows.append(
                [
                    booth,
                    CATEGORY_NAMES[offering.category],
                    offering.title,
                    offering.description,
                    offering.unit,
                    offering.unit_price_fen,
                    offering.capacity,
                    "、".join(days.get(offering.id, [])),
                ]
            )
    return table


def _yes(flag: bool) -> str:
    return YES if flag else NO


def _column_kind(f: Heading) -> str:
    return {"money": "money", "int": "int", "bool": "label", "choice": "label"}.get(f.kind, "text")
