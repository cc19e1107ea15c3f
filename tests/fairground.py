"""A small fair for tests, and the few moves every test makes with it."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from collections.abc import Awaitable
from typing import Any

import pytest
from sqlmodel import select

from fair.core import Actor, Code, FairError, execute
from fair.db import Database
from fair.models import (
    Delivery,
    Event,
    Fair,
    Negotiation,
    Offering,
    OfferingDate,
    Order,
    Presence,
    Resident,
    ResidentRating,
    Signup,
    Supplier,
    Team,
    Terms,
    Wish,
    WishSupport,
)
from fair.sms import confirmed_resident

DOMAIN_TABLES = (
    Fair, Supplier, Team, Offering, OfferingDate, Negotiation, Terms, Order, Event,
    Delivery, Wish, WishSupport, Signup, ResidentRating, Presence, Resident,
)  # fmt: skip
_request_ids = itertools.count(1)


def new_request_id() -> str:
    return f"t-{next(_request_ids)}"


async def refused(coro: Awaitable[Any], code: Code) -> FairError:
    """The refusal a command met, which must carry ``code``: a test of what may not be done says which rule."""
    with pytest.raises(FairError) as caught:
        await coro
    assert caught.value.code == code, caught.value
    return caught.value


class Fairground:
    """An open fair with a troupe, a bookseller and three teams of different means."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.resident_ids: dict[str, int] = {}  # phone labels ("phone-1") confirmed as residents

    async def confirm(self, *labels: str) -> None:
        """Confirm a mobile number for each phone label, as a person would (ask, read the outbox, type it)."""
        for label in labels:
            if label not in self.resident_ids:
                number = f"137{len(self.resident_ids) + 1:08d}"
                actor = await confirmed_resident(self.db, self.fair_id, number, device=label)
                self.resident_ids[label] = actor.resident_id

    def resident(self, label: str = "phone-1") -> Actor:
        """The phone ``label``: the resident it confirmed (``confirm``), or an unconfirmed phone."""
        return Actor.resident(self.fair_id, label, self.resident_ids.get(label))

    async def do(self, actor: Actor, command: str, payload: Any = None, request_id: str | None = None) -> dict:
        outcome = await execute(
            self.db, actor, command, {} if payload is None else payload, request_id or new_request_id()
        )
        return outcome.data

    async def build(self, *, open_fair: bool = True) -> None:
        created = await self.do(
            Actor.organiser(),
            "fair.create",
            {
                "name": "测试现场会",
                "day": "2023-03-29",
                "venue": "南京市文化馆",
                "subsidy_rate_bp": 3000,
                "subsidy_pool_fen": 90_000,
            },
        )
        self.fair_id = created["fair"]["id"]
        self.organiser = Actor.organiser(self.fair_id)
        self.troupe = await self._supplier("金陵越剧团", "A01")
        self.bookseller = await self._supplier("石城图书发行有限公司", "E01")
        self.centre = await self._team("南京市文化馆", "city_centre", "市级", 10_000_000)
        self.library = await self._team("玄武区图书馆", "library", "玄武区", 500_000)
        self.community = await self._team("锁金村社区", "community", "玄武区", 100_000)
        self.show = await self._offering(
            self.troupe,
            {
                "category": "performance",
                "title": "越剧《梁祝》专场",
                "unit": "场",
                "unit_price_fen": 200_000,
                "capacity": 3,
                "dates": ["2023-04-01", "2023-04-08", "2023-04-15"],
            },
        )
        self.lecture = await self._offering(
            self.troupe,
            {"category": "lecture", "title": "越剧艺术漫谈", "unit": "讲", "unit_price_fen": 50_000, "capacity": 5},
        )
        self.books = await self._offering(
            self.bookseller,
            {"category": "books", "title": "送书下乡少儿读物", "unit": "册", "unit_price_fen": 3_000, "capacity": 1000},
        )
        if open_fair:
            await self.do(self.organiser, "fair.open")

    async def _supplier(self, name: str, booth: str) -> Actor:
        data = await self.do(self.organiser, "supplier.register", {"name": name, "booth": booth, "approved": True})
        return Actor.supplier(self.fair_id, data["supplier"]["id"])

    async def _team(self, name: str, kind: str, district: str, budget_fen: int) -> Actor:
        data = await self.do(
            self.organiser,
            "team.register",
            {"name": name, "kind": kind, "district": district, "budget_fen": budget_fen, "approved": True},
        )
        return Actor.team(self.fair_id, data["team"]["id"])

    async def _offering(self, supplier: Actor, payload: dict) -> int:
        return (await self.do(supplier, "offering.publish", payload))["offering"]["id"]

    async def propose(self, team: Actor, offering_id: int, **terms: Any) -> dict:
        """Open a negotiation with the team's first terms; returns the negotiation."""
        terms = {"quantity": 1, "unit_price_fen": await self.price(offering_id), **terms}
        data = await self.do(team, "negotiation.open", {"offering_id": offering_id, "terms": terms})
        return data["negotiation"]

    async def order(self, team: Actor, supplier: Actor, offering_id: int, **terms: Any) -> dict:
        """A whole deal: the team proposes, the supplier accepts; returns the order."""
        negotiation = await self.propose(team, offering_id, **terms)
        accepted = await self.do(
            supplier, "negotiation.accept", {"negotiation_id": negotiation["id"], "version": negotiation["version"]}
        )
        return accepted["order"]

    async def price(self, offering_id: int) -> int:
        async with self.db.read() as session:
            return (await session.get(Offering, offering_id)).unit_price_fen

    async def state(self, *, ignore: dict[type, set[str]] | None = None) -> dict[str, list[dict]]:
        """Every row of the fair's tables, to show that a refused command changed nothing."""
        ignore = ignore or {}
        dump: dict[str, list[dict]] = {}
        async with self.db.read() as session:
            for model in DOMAIN_TABLES:
                order = (model.fair_id, model.seq) if model is Event else (model.id,)
                rows = (await session.exec(select(model).order_by(*order))).all()
                dump[model.__tablename__] = [row.model_dump(exclude=ignore.get(model, set())) for row in rows]
        return dump


def assert_the_books_balance(state: dict[str, list[dict]]) -> None:
    """What the orders add up to is what every counter holds, and no limit is exceeded (``Fairground.state``).

    A voided order holds nothing: its units, dates and money are back where they came from.
    """
    standing = [order for order in state["purchase_order"] if order["voided_at"] is None]
    sold = Counter()
    for order in standing:
        sold[order["offering_id"]] += order["quantity"]
    for offering in state["offering"]:
        assert offering["sold"] == sold[offering["id"]] <= offering["capacity"], offering

    taken = defaultdict(list)
    for day in state["offering_date"]:
        if day["negotiation_id"] is not None:
            taken[day["negotiation_id"]].append(day["day"].isoformat())
    dated_orders = {o["negotiation_id"]: sorted(o["dates"]) for o in standing if o["dates"]}
    assert {negotiation: sorted(days) for negotiation, days in taken.items()} == dated_orders

    spent, self_funded, subsidy = defaultdict(int), defaultdict(int), defaultdict(int)
    for order in standing:
        spent[order["team_id"]] += order["government_fen"]
        self_funded[order["team_id"]] += order["amount_fen"] - order["government_fen"]
        subsidy[order["team_id"]] += order["subsidy_fen"]
    for team in state["team"]:
        assert team["spent_fen"] == spent[team["id"]] <= team["budget_fen"], team
        assert (team["self_funded_fen"], team["subsidy_fen"]) == (self_funded[team["id"]], subsidy[team["id"]])
    fair = state["fair"][0]
    assert fair["subsidy_used_fen"] == sum(subsidy.values()) <= fair["subsidy_pool_fen"]
