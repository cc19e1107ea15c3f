"""Hundreds of confirmations at once: never oversold, never overspent, every loser told why."""

from __future__ import annotations

import asyncio
import random
from collections import Counter

from fair.core import Actor, FairError, execute
from fair.db import Database
from tests.fairground import Fairground, assert_the_books_balance, new_request_id

TEAMS = 60
SHOW_DATES = [f"2023-04-{day:02d}" for day in range(1, 13)]
LOSING_CODES = {"capacity_exhausted", "date_unavailable", "budget_exceeded", "subsidy_pool_exhausted"}


async def crowded_fair(db: Database) -> tuple[Fairground, list[tuple[Actor, dict]]]:
    """60 teams of small means, each with a proposal on each of four scarce offerings."""
    g = Fairground(db)
    await g.build()
    await g.do(g.organiser, "fair.configure", {"subsidy_rate_bp": 3000, "subsidy_pool_fen": 480_000})
    lecture_a = g.lecture
    lecture_b = (
        await g.do(
            g.troupe,
            "offering.publish",
            {"category": "lecture", "title": "戏曲知识讲座", "unit": "讲", "unit_price_fen": 60_000, "capacity": 10},
        )
    )["offering"]["id"]
    show = (
        await g.do(
            g.troupe,
            "offering.publish",
            {
                "category": "performance",
                "title": "折子戏专场",
                "unit": "场",
                "unit_price_fen": 200_000,
                "capacity": len(SHOW_DATES),
                "dates": SHOW_DATES,
            },
        )
    )["offering"]["id"]
    rng = random.Random(7)
    accepts = []
    for number in range(TEAMS):
        budget = rng.choice((50_000, 150_000, 150_000, 200_000))
        team = await g.do(
            g.organiser,
            "team.register",
            {
                "name": f"第{number}社区",
                "kind": "community",
                "district": "秦淮区",
                "budget_fen": budget,
                "approved": True,
            },
        )
        actor = Actor.team(g.fair_id, team["team"]["id"])
        wishes = [
            (g.troupe, lecture_a, {"quantity": 1, "unit_price_fen": 60_000}),
            (g.troupe, lecture_b, {"quantity": 1, "unit_price_fen": 60_000}),
            (
                g.troupe,
                show,
                {"quantity": 1, "unit_price_fen": 200_000, "dates": [rng.choice(SHOW_DATES)], "funding": "self_funded"},
            ),
            (g.bookseller, g.books, {"quantity": 20, "unit_price_fen": 3_000}),
        ]
        for supplier, offering_id, terms in wishes:
            opened = await g.do(actor, "negotiation.open", {"offering_id": offering_id, "terms": terms})
            accepts.append((supplier, {"negotiation_id": opened["negotiation"]["id"], "version": 1}))
    rng.shuffle(accepts)
    return g, accepts


async def test_two_hundred_and_forty_confirmations_at_once(db: Database):
    g, accepts = await crowded_fair(db)
    assert len(accepts) >= 200
    results = await asyncio.gather(
        *(execute(db, supplier, "negotiation.accept", payload, new_request_id()) for supplier, payload in accepts),
        return_exceptions=True,
    )
    refusals = Counter(result.code for result in results if isinstance(result, FairError))
    orders = [result.data["order"]["order"] for result in results if not isinstance(result, BaseException)]
    assert len(orders) + sum(refusals.values()) == len(accepts)  # nothing crashed, nothing went unanswered
    assert set(refusals) == LOSING_CODES  # every limit was reached, and only limits refused

    state = await g.state()
    assert len(state["purchase_order"]) == len(orders)
    assert_the_books_balance(state)

    # Every refused confirmation was noted on its negotiation, which is still open for a new attempt.
    refused_ids = {
        payload["negotiation_id"] for (_, payload), r in zip(accepts, results, strict=True) if isinstance(r, FairError)
    }
    for negotiation in state["negotiation"]:
        if negotiation["id"] in refused_ids:
            assert negotiation["state"] == "proposed" and negotiation["refusal"]["code"] in LOSING_CODES
