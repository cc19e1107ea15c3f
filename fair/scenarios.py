"""Labelled scenarios for the recommendations: build one, rank for its teams, and measure what a buyer would check.

A scenario (``data/scenarios/*.json``) is a fair in the demo's shape, plus
shortlists and orders, plus labels: for some teams, the offerings a buyer of
that team would choose, written from the rules of the matching, not read off
its output.  ``measure`` builds the fair through the commands, asks the
recommendations as the team's tablet does (``queries.recommendations``), and
reports per team: precision@5 (labelled offerings among the first five, out
of five or of the labels if fewer), nDCG@5, how many reasons shown are true,
and the rank of the first offering the team cannot pay for.

Each reason is checked by ``check_reason``, which recounts the claim from
the database with its own queries: none of ``fair.core.matching`` is
reused, so that a wrong count there cannot be agreed with here.
``scripts/recommendation-quality`` prints the figures; ``tests/
test_recommendation_quality.py`` holds them to 100 % true reasons.
"""

from __future__ import annotations

import json
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import col, func, select

from fair.core import Actor, execute, queries
from fair.core.matching import FITS_VENUE, MUTUAL, NOT_ON_WANTED_DAYS, ON_A_WANTED_DAY, THEME, VENUE_TOO_SMALL
from fair.db import Database
from fair.demo import build
from fair.models import (
    CITY,
    Dismissal,
    Offering,
    OfferingDate,
    Order,
    QueueTicket,
    ShortlistItem,
    Supplier,
    Team,
    TicketState,
    Wish,
    WishStatus,
    WishSupport,
)

TOP = 5


async def load(db: Database, path: Path) -> tuple[int, dict[str, Any]]:
    """Build the scenario's fair, its shortlists and its orders through the commands; (fair id, scenario)."""
    scenario = json.loads(path.read_text(encoding="utf-8"))
    fair_id = await build(db, scenario)
    teams, offerings = await named_ids(db, fair_id)
    for team_name, listed in scenario.get("shortlists", {}).items():
        team = Actor.team(fair_id, teams[team_name])
        for title, quantity in listed.items():
            put = {"offering_id": offerings[title]["id"], "quantity": quantity}
            await execute(db, team, "shortlist.put", put, f"scenario-shortlist-{team.party_id}-{put['offering_id']}")
    await _say_interests(db, fair_id, teams, scenario.get("interests", {}))
    for number, order in enumerate(scenario.get("orders", [])):
        offering = offerings[order["offering"]]
        team = Actor.team(fair_id, teams[order["team"]])
        booth = Actor.supplier(fair_id, offering["supplier_id"])
        terms = {"quantity": order["quantity"], "unit_price_fen": offering["unit_price_fen"]}
        if order.get("dates"):
            terms["dates"] = order["dates"]
        opened = await execute(
            db, team, "negotiation.open", {"offering_id": offering["id"], "terms": terms}, f"scenario-open-{number}"
        )
        accept = {"negotiation_id": opened.data["negotiation"]["id"], "version": 1}
        await execute(db, booth, "negotiation.accept", accept, f"scenario-accept-{number}")
    return fair_id, scenario


async def _say_interests(db: Database, fair_id: int, teams: dict[str, int], said: dict[str, Any]) -> None:
    """What each named team looks for, or booth does best, said through the command as its screen says it."""
    async with db.read() as session:
        booths = {s.name: s.id for s in await session.exec(select(Supplier).where(Supplier.fair_id == fair_id))}
    for name, interests in said.items():
        actor = Actor.team(fair_id, teams[name]) if name in teams else Actor.supplier(fair_id, booths[name])
        await execute(db, actor, "interests.set", interests, f"scenario-interests-{actor.role}-{actor.party_id}")


async def named_ids(db: Database, fair_id: int) -> tuple[dict[str, int], dict[str, dict[str, Any]]]:
    """The scenario's teams and offerings by name, as its file names them: (team ids, offerings' ids and prices)."""
    async with db.read() as session:
        teams = {t.name: t.id for t in await session.exec(select(Team).where(Team.fair_id == fair_id))}
        offerings = {
            o.title: {"id": o.id, "supplier_id": o.supplier_id, "unit_price_fen": o.unit_price_fen}
            for o in await session.exec(select(Offering).where(Offering.fair_id == fair_id))
        }
    return teams, offerings


@dataclass
class TeamFigures:
    """What the recommendations gave one labelled team, measured."""

    team: str
    kind: str
    top: list[str]
    precision: float
    ndcg: float
    reasons: int
    true_reasons: int
    first_unaffordable: int | None  # 1-based rank in the list shown; None if every offering shown is affordable
    false: list[str] = field(default_factory=list)  # the reasons found untrue, as (offering: reason)


async def measure(db: Database, fair_id: int, scenario: dict[str, Any]) -> list[TeamFigures]:
    teams, offerings = await named_ids(db, fair_id)
    titles = {entry["id"]: title for title, entry in offerings.items()}
    figures = []
    for team_name, label in scenario["labels"].items():
        team = Actor.team(fair_id, teams[team_name])
        async with db.read() as session:
            shown = [r for r in await queries.recommendations(session, team) if not r.get("set_aside")]
            checks = [
                (titles[r["offering_id"]], reason, await check_reason(session, team, r["offering_id"], reason))
                for r in shown
                for reason in r["reasons"]
            ]
            affordable = [await _affordable(session, team, r["offering_id"]) for r in shown]
        top = [titles[r["offering_id"]] for r in shown[:TOP]]
        chosen = set(label["choose"])
        hits = [title in chosen for title in top]
        ideal = sum(1 / math.log2(rank + 2) for rank in range(min(TOP, len(chosen))))
        figures.append(
            TeamFigures(
                team=team_name,
                kind=label["kind"],
                top=top,
                precision=sum(hits) / min(TOP, len(chosen)),
                ndcg=sum(1 / math.log2(rank + 2) for rank, hit in enumerate(hits) if hit) / ideal,
                reasons=len(checks),
                true_reasons=sum(1 for _, _, true in checks if true),
                first_unaffordable=next((rank + 1 for rank, ok in enumerate(affordable) if not ok), None),
                false=[f"{title}: {reason['msgid']} {reason['params']}" for title, reason, true in checks if not true],
            )
        )
    return figures


# The recount: what each reason claims, read again from the tables.


async def check_reason(session, team_actor: Actor, offering_id: int, reason: dict[str, Any]) -> bool:
    """Whether ``reason``, shown to the team on ``offering_id``'s card, is true of the database now."""
    team = await session.get(Team, team_actor.party_id)
    offering = await session.get(Offering, offering_id)
    msgid, params = reason["msgid"], reason["params"]
    if "residents of" in msgid:
        return await _demand_is_true(session, team, offering, params)
    if msgid == "serves %(district)s":
        return params["district"] == team.district and team.district in offering.districts
    if msgid == "only %(left)s %(unit)s left":
        left = offering.capacity - offering.sold
        if await _dated(session, offering):
            left = await _free_dates(session, offering)
        return params["left"] == left and params["unit"] == offering.unit
    if msgid == "no order of this kind yet":
        return await _bought(session, team, offering.category) == 0
    if msgid in ("within budget", "more than the budget left") or "%(cost_fen)s" in msgid:
        quantity, cost = await _planned(session, team, offering)
        left = team.budget_fen - team.spent_fen
        if msgid == "within budget":
            return cost <= left
        if msgid == "more than the budget left":
            return cost > left
        stated = (params["quantity"], params["cost_fen"]) == (quantity, cost)
        if "own_fen" in params:
            return stated and cost > left and params["own_fen"] == cost - max(left, 0)
        return stated and cost <= left
    if msgid == "rated %(score)s by %(count)s":
        scores = {s["supplier_id"]: s for s in await queries.scores(session, team.fair_id)}
        mine = scores.get(offering.supplier_id)
        return mine is not None and (f"{mine['total'] / mine['ratings']:.1f}", mine["ratings"]) == (
            params["score"],
            params["count"],
        )
    if msgid == "like %(title)s, which you set aside":
        statement = select(Offering).join(Dismissal, Dismissal.offering_id == Offering.id)
        statement = statement.where(Dismissal.by == "team", Dismissal.team_id == team.id)
        statement = statement.where(Offering.title == params["title"])
        found = (await session.exec(statement)).first()
        return (
            found is not None
            and found.id != offering.id
            and found.category == offering.category
            and (not found.audience or not offering.audience or bool(set(found.audience) & set(offering.audience)))
        )
    if msgid in ("what your team looks for", "what the booth does best", MUTUAL, THEME):
        supplier = await session.get(Supplier, offering.supplier_id)
        by_kind = _takes_in(team.wanted_categories, team.wanted_audiences, offering)
        looked_for = by_kind or _theme_in(team.wanted_themes, offering) is not None
        done_best = _takes_in(supplier.best_categories, supplier.best_audiences, offering)
        done_best = done_best or _theme_in(supplier.best_themes, offering) is not None
        if msgid == THEME:
            return not by_kind and not done_best and _theme_in(team.wanted_themes, offering) == params["theme"]
        said = {"what your team looks for": (True, False), "what the booth does best": (False, True)}
        return (looked_for, done_best) == said.get(msgid, (True, True))
    if msgid in (ON_A_WANTED_DAY, NOT_ON_WANTED_DAYS):
        statement = select(OfferingDate.day).where(
            OfferingDate.offering_id == offering.id, col(OfferingDate.negotiation_id).is_(None)
        )
        free = sorted({day.isoformat() for day in (await session.exec(statement)).all()} & set(team.wanted_dates))
        if msgid == NOT_ON_WANTED_DAYS:
            return bool(team.wanted_dates) and await _dated(session, offering) and not free
        return bool(free) and (params["first_day"], params["days"]) == (free[0], len(free))
    if msgid in (FITS_VENUE, VENUE_TOO_SMALL):
        stated = (params["venue_seats"], params["min_seats"]) == (team.venue_seats, offering.min_seats)
        fits = 0 < offering.min_seats <= team.venue_seats
        return stated and team.venue_seats > 0 and fits == (msgid == FITS_VENUE)
    if msgid == "%(count)s teams waiting at the booth":
        statement = select(func.count()).where(
            QueueTicket.supplier_id == offering.supplier_id, QueueTicket.state == TicketState.waiting
        )
        return params["count"] == (await session.exec(statement)).one()
    return False  # a reason this check does not know is not taken on trust


async def _demand_is_true(session, team: Team, offering: Offering, params: dict[str, Any]) -> bool:
    """The named area, category and audiences, recounted: open approved wishes, and distinct people behind them."""
    where = params["where_label"]
    statement = select(Wish).where(
        Wish.fair_id == team.fair_id, Wish.status == WishStatus.approved, Wish.category == offering.category
    )
    if where != "the city":
        if team.district == CITY:
            return False  # a city team's reasons count the city
        statement = statement.where(Wish.district == team.district)
        if where != team.district:
            if where != team.street:
                return False  # an area that is not the team's own
            statement = statement.where(Wish.street == where)
    if "audiences" in params:
        named = set(params["audiences"].split("、"))
    elif "audience" in params:
        named = {params["audience"]}
    else:
        named = None  # a reason naming no audience claims the category's wishes of every audience
    wishes = [
        w
        for w in await session.exec(statement)
        if (named is None or w.audience in named) and not await _answered(session, w.id)
    ]
    if not wishes:
        return False
    people = await session.exec(
        select(func.count(func.distinct(WishSupport.resident_id))).where(
            col(WishSupport.wish_id).in_([w.id for w in wishes])
        )
    )
    true = people.one() == params["count"]
    if "wish_ids" in params:
        true = true and sorted(params["wish_ids"]) == sorted(w.id for w in wishes) and params["wishes"] == len(wishes)
        true = true and named is not None and (not offering.audience or named <= set(offering.audience))
    return true


def _theme_in(themes: list[str], offering: Offering) -> str | None:
    """The first of ``themes`` that the offering's title or description holds, in any case."""
    text = f"{offering.title} {offering.description}".casefold()
    return next((theme for theme in themes if theme.casefold() in text), None)


def _takes_in(categories: list[str], audiences: list[str], offering: Offering) -> bool:
    if offering.category not in categories:
        return False
    return not audiences or not offering.audience or bool(set(audiences) & set(offering.audience))


async def _answered(session, wish_id: int) -> bool:
    found = await session.exec(select(func.count()).where(Order.wish_id == wish_id, col(Order.voided_at).is_(None)))
    return found.one() > 0


async def _dated(session, offering: Offering) -> bool:
    return (await session.exec(select(func.count()).where(OfferingDate.offering_id == offering.id))).one() > 0


async def _free_dates(session, offering: Offering) -> int:
    statement = select(func.count()).where(
        OfferingDate.offering_id == offering.id, col(OfferingDate.negotiation_id).is_(None)
    )
    return (await session.exec(statement)).one()


async def _bought(session, team: Team, category: str) -> int:
    statement = select(func.count()).where(
        Order.team_id == team.id, Order.category == category, col(Order.voided_at).is_(None)
    )
    return (await session.exec(statement)).one()


async def _planned(session, team: Team, offering: Offering) -> tuple[int, int]:
    """What the team would order: its shortlist quantity, else the fair's median order in the category, else one."""
    listed = (
        await session.exec(
            select(ShortlistItem.quantity).where(
                ShortlistItem.team_id == team.id, ShortlistItem.offering_id == offering.id
            )
        )
    ).first()
    if listed is None:
        quantities = (
            await session.exec(
                select(Order.quantity).where(
                    Order.fair_id == team.fair_id, Order.category == offering.category, col(Order.voided_at).is_(None)
                )
            )
        ).all()
        listed = statistics.median_low(quantities) if quantities else 1
    quantity = max(1, min(listed, offering.capacity - offering.sold))
    return quantity, quantity * offering.unit_price_fen


async def _affordable(session, team_actor: Actor, offering_id: int) -> bool:
    team = await session.get(Team, team_actor.party_id)
    _, cost = await _planned(session, team, await session.get(Offering, offering_id))
    return cost <= team.budget_fen - team.spent_fen
