"""What the bureau is handed: the orders, the budgets and the subsidy pool as tables, and the day's analytics.

Everything here is read from the confirmed orders and the registers at one
committed state (call inside ``Database.read()``), so the figures reconcile
with the tally and with each other.  A report is a list of ``Table``s of
typed cells (fen as integers, times as UTC datetimes, names of things as
msgids); ``fair.sheets`` writes them as CSV or XLSX and the console shows
them, each in the reader's language.

Who reads what follows the screens: the organiser everything, with filters;
a team its own orders and budget; a booth its own orders.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from fair.core.actors import Actor, Role
from fair.core.errors import N_, Code, FairError
from fair.core.labels import CATEGORY_NAMES, FUNDINGS, TEAM_KINDS
from fair.core.tally import STANDING
from fair.i18n import SHANGHAI
from fair.models import CITY, DISTRICTS, Category, Fair, Order, Supplier, Team


@dataclass(frozen=True)
class Column:
    header: str  # a msgid
    kind: str = "text"  # text | label (a msgid) | int | money (fen) | time (UTC) | share (basis points)


@dataclass
class Table:
    title: str  # a msgid: the sheet's name
    columns: list[Column]
    rows: list[list[Any]] = field(default_factory=list)


ORDER_COLUMNS = [
    Column(N_("Order no.")),
    Column(N_("Confirmed at"), "time"),
    Column(N_("Team")),
    Column(N_("District")),
    Column(N_("Street")),
    Column(N_("Booth")),
    Column(N_("Supplier")),
    Column(N_("Offering")),
    Column(N_("Category"), "label"),
    Column(N_("Quantity"), "int"),
    Column(N_("Unit")),
    Column(N_("Unit price"), "money"),
    Column(N_("Amount"), "money"),
    Column(N_("Funding"), "label"),
    Column(N_("From the government budget"), "money"),
    Column(N_("Subsidy"), "money"),
    Column(N_("Dates")),
    Column(N_("Venue")),
    Column(N_("Voided at"), "time"),
    Column(N_("Why voided")),
]


def _reader(actor: Actor, *roles: Role) -> None:
    if actor.role not in roles:
        raise FairError(Code.forbidden, N_("Your role may not do this."))


async def orders(
    session: AsyncSession,
    actor: Actor,
    *,
    district: str | None = None,
    team_id: int | None = None,
    supplier_id: int | None = None,
) -> Table:
    """The confirmed orders, oldest first; the organiser may narrow them to a district, a team or a supplier.

    Voided orders are listed too, with when and why, so that the list is the whole record.

    A team or a booth reads its own, whatever it asks for.
    """
    _reader(actor, Role.organiser, Role.team, Role.supplier)
    if actor.role == Role.team:
        district, team_id, supplier_id = None, actor.party_id, None
    elif actor.role == Role.supplier:
        district, team_id, supplier_id = None, None, actor.party_id
    statement = (
        select(Order, Team.name, Team.street, Supplier.booth, Supplier.name)
        .join(Team, Team.id == Order.team_id)
        .join(Supplier, Supplier.id == Order.supplier_id)
        .where(Order.fair_id == actor.fair_id)
        .order_by(Order.id)
    )
    if district is not None:
        statement = statement.where(Order.district == district)
    if team_id is not None:
        statement = statement.where(Order.team_id == team_id)
    if supplier_id is not None:
        statement = statement.where(Order.supplier_id == supplier_id)
    table = Table(N_("Orders"), ORDER_COLUMNS)
    for order, team, street, booth, supplier in await session.exec(statement):
        table.rows.append(
            [
                order.id,
                order.confirmed_at,
                team,
                order.district,
                street,
                booth,
                supplier,
                order.offering_title,
                CATEGORY_NAMES[order.category],
                order.quantity,
                order.unit,
                order.unit_price_fen,
                order.amount_fen,
                FUNDINGS[order.funding],
                order.government_fen,
                order.subsidy_fen,
                "、".join(order.dates),
                order.venue,
                order.voided_at,
                order.void_reason,
            ]
        )
    return table


async def budgets(session: AsyncSession, actor: Actor) -> Table:
    """Every team's budget, what its orders charged to it and what is left; a team reads its own row."""
    _reader(actor, Role.organiser, Role.team)
    statement = select(Team).where(Team.fair_id == actor.fair_id).order_by(Team.id)
    if actor.role == Role.team:
        statement = statement.where(Team.id == actor.party_id)
    table = Table(
        N_("Budgets"),
        [
            Column(N_("Team")),
            Column(N_("Kind"), "label"),
            Column(N_("District")),
            Column(N_("Street")),
            Column(N_("Budget"), "money"),
            Column(N_("Spent"), "money"),
            Column(N_("Left"), "money"),
            Column(N_("Used"), "share"),
            Column(N_("Own funds"), "money"),
            Column(N_("Subsidy owed"), "money"),
        ],
    )
    for team in await session.exec(statement):
        table.rows.append(
            [
                team.name,
                TEAM_KINDS[team.kind],
                team.district,
                team.street,
                team.budget_fen,
                team.spent_fen,
                team.budget_fen - team.spent_fen,
                share(team.spent_fen, team.budget_fen),
                team.self_funded_fen,
                team.subsidy_fen,
            ]
        )
    return table


async def pool(session: AsyncSession, actor: Actor) -> list[Table]:
    """The subsidy pool: its figures, and every order that drew on it, with the rate it was granted at."""
    _reader(actor, Role.organiser)
    fair = await _fair(session, actor)
    summary = Table(
        N_("Subsidy pool"),
        [
            Column(N_("Rate now"), "share"),
            Column(N_("Pool"), "money"),
            Column(N_("Granted"), "money"),
            Column(N_("Left"), "money"),
        ],
        [
            [
                fair.subsidy_rate_bp,
                fair.subsidy_pool_fen,
                fair.subsidy_used_fen,
                fair.subsidy_pool_fen - fair.subsidy_used_fen,
            ]
        ],
    )
    statement = (
        select(Order, Team.name)
        .join(Team, Team.id == Order.team_id)
        .where(Order.fair_id == actor.fair_id, Order.subsidy_fen > 0, STANDING)
        .order_by(Order.id)
    )
    granted = Table(
        N_("Subsidised orders"),
        [
            Column(N_("Order no.")),
            Column(N_("Confirmed at"), "time"),
            Column(N_("Team")),
            Column(N_("District")),
            Column(N_("Offering")),
            Column(N_("Amount"), "money"),
            Column(N_("Subsidy"), "money"),
            Column(N_("Rate"), "share"),
        ],
    )
    for order, team in await session.exec(statement):
        granted.rows.append(
            [
                order.id,
                order.confirmed_at,
                team,
                order.district,
                order.offering_title,
                order.amount_fen,
                order.subsidy_fen,
                share(order.subsidy_fen, order.amount_fen),
            ]
        )
    return [summary, granted]


async def analytics(session: AsyncSession, actor: Actor) -> dict[str, Any]:
    """The figures a bureau reports about the day, for the console and the printed day report."""
    _reader(actor, Role.organiser)
    fair = await _fair(session, actor)
    districts = (CITY, *DISTRICTS)
    grid = {d: {str(c): {"orders": 0, "amount_fen": 0} for c in Category} for d in districts}
    sums = await session.exec(
        select(Order.district, Order.category, func.count(), func.sum(Order.amount_fen))
        .where(Order.fair_id == actor.fair_id, STANDING)
        .group_by(Order.district, Order.category)
    )
    for district, category, orders_count, amount in sums:
        grid[district][category] = {"orders": orders_count, "amount_fen": int(amount or 0)}
    suppliers = await session.exec(
        select(Supplier.id, Supplier.booth, Supplier.name, func.count(Order.id), func.sum(Order.amount_fen))
        .join(Order, Order.supplier_id == Supplier.id)
        .where(Supplier.fair_id == actor.fair_id, STANDING)
        .group_by(Supplier.id, Supplier.booth, Supplier.name)
        .order_by(func.sum(Order.amount_fen).desc(), Supplier.booth)
    )
    hours: dict[str, dict[str, int]] = {}
    for confirmed_at, amount in await session.exec(
        select(Order.confirmed_at, Order.amount_fen).where(Order.fair_id == actor.fair_id, STANDING).order_by(Order.id)
    ):
        hour = hour_of(confirmed_at)
        figures = hours.setdefault(hour, {"orders": 0, "amount_fen": 0})
        figures["orders"] += 1
        figures["amount_fen"] += amount
    teams = (await session.exec(select(Team).where(Team.fair_id == actor.fair_id))).all()
    budget, spent = sum(t.budget_fen for t in teams), sum(t.spent_fen for t in teams)
    return {
        "districts": list(districts),
        "grid": grid,
        "suppliers": [
            {"id": sid, "booth": booth, "name": name, "orders": n, "amount_fen": int(amount or 0)}
            for sid, booth, name, n, amount in suppliers
        ],
        "hours": [{"hour": hour, **figures} for hour, figures in sorted(hours.items())],
        "budget": {
            "teams": len(teams),
            "budget_fen": budget,
            "spent_fen": spent,
            "used_bp": share(spent, budget),
            "teams_spending": sum(1 for t in teams if t.spent_fen > 0),
        },
        "pool": {
            "rate_bp": fair.subsidy_rate_bp,
            "pool_fen": fair.subsidy_pool_fen,
            "used_fen": fair.subsidy_used_fen,
            "left_fen": fair.subsidy_pool_fen - fair.subsidy_used_fen,
        },
    }


def share(part: int, whole: int) -> int | None:
    """``part`` of ``whole`` in basis points, rounded half up; None when there is no whole to share."""
    if whole <= 0:
        return None
    return (part * 10_000 * 2 + whole) // (whole * 2)


def hour_of(moment: dt.datetime) -> str:
    """The hour of the fair's clock a moment falls in, as "HH:00"."""
    return moment.astimezone(SHANGHAI).strftime("%H:00")


async def _fair(session: AsyncSession, actor: Actor) -> Fair:
    fair = await session.get(Fair, actor.fair_id)
    if fair is None:
        raise FairError(Code.not_found, N_("There is no fair yet."))
    return fair
