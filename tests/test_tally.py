"""The tally is a function of the orders: after any sequence of operations it equals a recount."""

from __future__ import annotations

import random

import pytest
from sqlmodel import select

from fair.core import Actor, FairError, tally
from fair.models import Order
from tests.fairground import Fairground

TERMS_CHOICES = [
    {"quantity": 1, "unit_price_fen": 50_000},
    {"quantity": 2, "unit_price_fen": 45_000, "funding": "self_funded"},
    {"quantity": 40, "unit_price_fen": 2_900},
    {"quantity": 300, "unit_price_fen": 3_000, "funding": "self_funded"},
]


def recount(orders: list[Order]) -> dict:
    """The tally, counted again order by order from the table."""
    expected = tally.empty()
    for order in orders:
        tally.add(
            expected,
            order.category,
            order.district,
            1,
            order.quantity,
            order.amount_fen,
            order.government_fen,
            order.subsidy_fen,
        )
    return expected


@pytest.mark.parametrize("seed", [1, 2])
async def test_after_random_operations_the_tally_equals_a_recount(fairground: Fairground, seed: int):
    g = fairground
    rng = random.Random(seed)
    teams = [g.centre, g.library, g.community]
    suppliers = {g.show: g.troupe, g.lecture: g.troupe, g.books: g.bookseller}
    open_ones: list[tuple[int, Actor, Actor, int, str]] = []  # negotiation, team, supplier, version, author
    for _ in range(120):
        move = rng.random()
        try:
            if move < 0.4 or not open_ones:
                offering = rng.choice(list(suppliers))
                terms = dict(rng.choice(TERMS_CHOICES))
                if offering == g.show:
                    terms = {
                        "quantity": 1,
                        "unit_price_fen": 190_000,
                        "dates": [rng.choice(["2023-04-01", "2023-04-08", "2023-04-15"])],
                    }
                team = rng.choice(teams)
                negotiation = await g.propose(team, offering, **terms)
                open_ones.append((negotiation["id"], team, suppliers[offering], 1, "team"))
            else:
                index = rng.randrange(len(open_ones))
                negotiation_id, team, supplier, version, author = open_ones[index]
                if move < 0.75:
                    other = supplier if author == "team" else team
                    await g.do(other, "negotiation.accept", {"negotiation_id": negotiation_id, "version": version})
                    open_ones.pop(index)
                elif move < 0.9:
                    mover, side = (supplier, "supplier") if author == "team" else (team, "team")
                    countered = await g.do(
                        mover,
                        "negotiation.counter",
                        {
                            "negotiation_id": negotiation_id,
                            "base_version": version,
                            "terms": {"quantity": 1, "unit_price_fen": rng.randrange(1_000, 60_000)},
                        },
                    )
                    open_ones[index] = (negotiation_id, team, supplier, countered["negotiation"]["version"], side)
                else:
                    await g.do(rng.choice([team, supplier]), "negotiation.decline", {"negotiation_id": negotiation_id})
                    open_ones.pop(index)
        except FairError:
            pass  # refusals are part of a real day; they must not disturb the count

    async with g.db.read() as session:
        snapshot = await tally.snapshot(session, g.fair_id)
        orders = (await session.exec(select(Order).order_by(Order.id))).all()
    assert orders, "the random day confirmed nothing: the test would prove nothing"
    expected = recount(orders)
    snapshot_without_latest = {key: value for key, value in snapshot.items() if key not in ("seq", "latest")}
    expected_without_latest = {key: value for key, value in expected.items() if key not in ("seq", "latest")}
    assert snapshot_without_latest == expected_without_latest
    assert [entry["id"] for entry in snapshot["latest"]] == [order.id for order in orders][::-1][: tally.LATEST]
    last_order_event = [e for e in (await g.state())["event"] if e["type"] == "order.confirmed"][-1]
    assert snapshot["seq"] == last_order_event["seq"]


async def test_the_headline_counts_what_the_bureau_reports(fairground: Fairground):
    g = fairground
    await g.order(g.centre, g.troupe, g.show, dates=["2023-04-01"])
    await g.order(g.library, g.troupe, g.lecture, quantity=2)
    await g.order(g.community, g.bookseller, g.books, quantity=30)
    async with g.db.read() as session:
        snapshot = await tally.snapshot(session, g.fair_id)
    assert snapshot["headline"] == {
        "performance_orders": 1,
        "training_lecture_exhibition_orders": 1,
        "book_volumes": 30,
    }
    assert snapshot["total"] == {"orders": 3, "amount_fen": 390_000, "government_fen": 390_000, "subsidy_fen": 0}
    assert snapshot["by_district"]["市级"] == {"orders": 1, "amount_fen": 200_000}
    assert snapshot["by_district"]["玄武区"] == {"orders": 2, "amount_fen": 190_000}
    assert [entry["offering_title"] for entry in snapshot["latest"]] == [
        "送书下乡少儿读物",
        "越剧艺术漫谈",
        "越剧《梁祝》专场",
    ]
    assert "budget" not in snapshot["latest"][0] and "government_fen" not in snapshot["latest"][0]
