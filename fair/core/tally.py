"""The tally: the fair's numbers, computed from the confirmed orders.

The three headline figures are the ones the bureau reports: performance
orders, training / lecture / exhibition orders, and volumes of books sent to
the countryside.  ``add`` is the one definition of how orders count; the
snapshot folds the database's per-category-and-district sums through it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import col, desc, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fair.core.views import order_view
from fair.models import CITY, DISTRICTS, Category, Event, Order, Supplier, Team

# The events that change the tally: an order confirmed, and an order voided.
TALLY_EVENTS = ("order.confirmed", "order.voided")
# An order counts until the organiser voids it.
STANDING = col(Order.voided_at).is_(None)

LATEST = 10
TRAINING_LECTURE_EXHIBITION = (Category.training, Category.lecture, Category.exhibition)


def empty() -> dict[str, Any]:
    return {
        "seq": 0,
        "headline": {"performance_orders": 0, "training_lecture_exhibition_orders": 0, "book_volumes": 0},
        "total": {"orders": 0, "amount_fen": 0, "government_fen": 0, "subsidy_fen": 0},
        "by_category": {str(c): {"orders": 0, "units": 0, "amount_fen": 0} for c in Category},
        "by_district": {d: {"orders": 0, "amount_fen": 0} for d in (CITY, *DISTRICTS)},
        # Orders per district and category: the coverage grid on the board (送戏下乡 / 送书下乡).
        "coverage": {d: {str(c): 0 for c in Category} for d in (CITY, *DISTRICTS)},
        "latest": [],
    }


def add(
    tally: dict[str, Any],
    category: str,
    district: str,
    orders: int,
    units: int,
    amount_fen: int,
    government_fen: int,
    subsidy_fen: int,
) -> None:
    """Count ``orders`` orders of one category and district into ``tally``."""
    headline = tally["headline"]
    if category == Category.performance:
        headline["performance_orders"] += orders
    elif category in TRAINING_LECTURE_EXHIBITION:
        headline["training_lecture_exhibition_orders"] += orders
    elif category == Category.books:
        headline["book_volumes"] += units
    total = tally["total"]
    total["orders"] += orders
    total["amount_fen"] += amount_fen
    total["government_fen"] += government_fen
    total["subsidy_fen"] += subsidy_fen
    by_category = tally["by_category"][category]
    by_category["orders"] += orders
    by_category["units"] += units
    by_category["amount_fen"] += amount_fen
    by_district = tally["by_district"][district]
    by_district["orders"] += orders
    by_district["amount_fen"] += amount_fen
    tally["coverage"][district][category] += orders


def carry(tally: dict[str, Any], seq: int, type: str, payload: dict[str, Any]) -> bool:
    """Carry ``tally`` forward over one committed event, in place; False if it cannot (read a snapshot then).

    The publisher keeps the tally this way instead of recounting the day's
    orders after every cycle (``snapshot`` grows with the day, this does not):
    ``add`` for an order confirmed, and the ticker kept as ``latest_orders``
    orders it, newest order first.  Give it only the events that change the
    tally; tests/test_tally.py checks that carrying equals a snapshot.
    """
    if type != "order.confirmed":
        return False  # a change it does not know how to carry (or none): the caller recounts
    order = payload["order"]
    add(
        tally,
        order["category"],
        order["district"],
        1,
        order["quantity"],
        order["amount_fen"],
        order["government_fen"],
        order["subsidy_fen"],
    )
    tally["latest"] = _merged(tally["latest"], [public_order(order)])  # as latest_orders: by order id, not seq
    tally["seq"] = seq
    return True


def changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any] | None:
    """What a screen showing ``before`` needs to show ``after``: the figures that changed, and the new orders.

    A ``live`` message carries this (``tally_patch``: a few hundred bytes an order) instead of the whole
    tally (5.7 KB, its ticker 3.4 KB); None when ``after`` lost an order of ``before``'s ticker (a void), which only the
    whole tally can say.
    """
    known = {order["id"] for order in before["latest"]}
    added = [order for order in after["latest"] if order["id"] not in known]
    if _merged(before["latest"], added) != after["latest"]:
        return None
    figures = _differences(before, after)
    return {"from": before["seq"], "seq": after["seq"], "figures": figures, "latest": added, "keep": LATEST}


def patched(tally: dict[str, Any], patch: dict[str, Any]) -> bool:
    """``tally`` brought up to ``patch``, in place; False if it is older than the patch's base (sync again).

    The patch's figures are values, not increments, and each changed figure is in it, so it applies to
    any tally between its base and its own ``seq``; one at or past its ``seq`` has it already.
    """
    if tally["seq"] >= patch["seq"]:
        return True
    if tally["seq"] < patch["from"]:
        return False
    _overlay(tally, patch["figures"])
    tally["latest"] = _merged(tally["latest"], patch["latest"], patch["keep"])
    tally["seq"] = patch["seq"]
    return True


def _merged(latest: list[dict[str, Any]], added: list[dict[str, Any]], keep: int = LATEST) -> list[dict[str, Any]]:
    """The ticker with ``added``: as ``carry`` keeps it, newest order id first, ``keep`` long."""
    by_id = {order["id"]: order for order in latest} | {order["id"]: order for order in added}
    return sorted(by_id.values(), key=lambda order: order["id"], reverse=True)[:keep]


def _differences(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    changed = {}
    for key, value in after.items():
        if key in ("seq", "latest"):
            continue
        if isinstance(value, dict):
            inner = _differences(before.get(key, {}), value)
            if inner:
                changed[key] = inner
        elif before.get(key) != value:
            changed[key] = value
    return changed


def _overlay(tally: dict[str, Any], figures: dict[str, Any]) -> None:
    for key, value in figures.items():
        if isinstance(value, dict):
            _overlay(tally.setdefault(key, {}), value)
        else:
            tally[key] = value


async def snapshot(session: AsyncSession, fair_id: int) -> dict[str, Any]:
    """The tally as of the last committed event; call inside ``Database.read()``."""
    tally = empty()
    tally["seq"] = await last_order_seq(session, fair_id)
    groups = await session.exec(
        select(
            Order.category,
            Order.district,
            func.count(),
            func.sum(Order.quantity),
            func.sum(Order.amount_fen),
            func.sum(Order.government_fen),
            func.sum(Order.subsidy_fen),
        )
        .where(Order.fair_id == fair_id, STANDING)
        .group_by(Order.category, Order.district)
    )
    for category, district, orders, units, amount, government, subsidy in groups:
        add(tally, category, district, int(orders), int(units), int(amount), int(government), int(subsidy))
    tally["latest"] = await latest_orders(session, fair_id, LATEST)
    return tally


async def last_order_seq(session: AsyncSession, fair_id: int) -> int:
    """The tally's sequence number: that of the last order confirmed or voided, the last event that changed it.

    A tally computed later, after other kinds of events, is the same tally and
    carries the same number; a screen can tell a stale tally from a fresh one.
    """
    last = await session.exec(
        select(func.max(Event.seq)).where(Event.fair_id == fair_id, col(Event.type).in_(TALLY_EVENTS))
    )
    return last.one() or 0


async def latest_orders(session: AsyncSession, fair_id: int, limit: int) -> list[dict[str, Any]]:
    rows = await session.exec(
        select(Order, Team, Supplier)
        .join(Team, Team.id == Order.team_id)
        .join(Supplier, Supplier.id == Order.supplier_id)
        .where(Order.fair_id == fair_id, STANDING)
        .order_by(desc(Order.id))
        .limit(limit)
    )
    return [public_order(order_view(*row)) for row in rows]


PUBLIC_ORDER_FIELDS = (
    "id",
    "offering_id",
    "offering_title",
    "team_id",
    "team_name",
    "supplier_id",
    "supplier_name",
    "category",
    "district",
    "quantity",
    "unit",
    "amount_fen",
    "confirmed_at",
)


def public_order(order: dict[str, Any]) -> dict[str, Any]:
    """What the ticker on the wall shows of an order: who bought what, and for how much."""
    return {key: order[key] for key in PUBLIC_ORDER_FIELDS}
