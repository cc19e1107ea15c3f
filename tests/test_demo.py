"""The demo fair: as big as the real one, and its real day can be played through it."""

from __future__ import annotations

import json
import random
from collections import Counter

from fair import demo, migrate
from fair.core import Actor, FairError, execute, queries, tally
from fair.db import Database
from fair.models import DISTRICTS
from fair.settings import DATA

DEMO = json.loads((DATA / "demo" / "fair.json").read_text(encoding="utf-8"))
REAL_DAY = {"performance_orders": 191, "training_lecture_exhibition_orders": 131, "book_volumes": 20_000}


def test_the_demo_has_the_real_fairs_cast():
    suppliers = DEMO["suppliers"]
    assert len(suppliers) >= 90
    assert all(1 <= len(s["offerings"]) <= 4 for s in suppliers)
    assert len({s["booth"] for s in suppliers}) == len(suppliers)
    categories = Counter(o["category"] for s in suppliers for o in s["offerings"])
    assert set(categories) == {"performance", "training", "lecture", "exhibition", "books"}
    kinds = Counter((t["kind"], t["district"]) for t in DEMO["teams"])
    assert kinds[("city_centre", "市级")] == 1 and kinds[("library", "市级")] == 1
    for district in DISTRICTS:
        for kind in ("district_bureau", "district_centre", "library", "street", "community"):
            assert kinds[(kind, district)] >= 1, (kind, district)


async def test_the_real_days_totals_fit_in_the_demo_and_small_teams_run_out(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")
    await migrate.upgrade(db)
    fair_id = await demo.load(db, DATA / "demo")
    rng = random.Random(329)
    async with db.read() as session:
        offerings = await queries.offerings(session, Actor.public(fair_id))
        teams = (await queries.participants(session, Actor.organiser(fair_id)))["teams"]
    by_category = {
        key: [o for o in offerings if o["category"] in key]
        for key in (("performance",), ("training", "lecture", "exhibition"), ("books",))
    }
    refused = Counter()
    ran_out = set()
    counts = dict.fromkeys(REAL_DAY, 0)
    number = 0
    while counts != REAL_DAY:
        number += 1
        assert number < 3_000, f"the demo could not reach the real day: {counts}"
        if counts["performance_orders"] < REAL_DAY["performance_orders"]:
            kind, offering = "performance_orders", rng.choice(by_category[("performance",)])
            free = [d["day"] for d in offering["dates"] if d["free"]]
            if not free:
                continue
            terms = {"quantity": 1, "unit_price_fen": offering["unit_price_fen"], "dates": [rng.choice(free)]}
        elif counts["training_lecture_exhibition_orders"] < REAL_DAY["training_lecture_exhibition_orders"]:
            kind, offering = (
                "training_lecture_exhibition_orders",
                rng.choice(by_category[("training", "lecture", "exhibition")]),
            )
            terms = {"quantity": 1, "unit_price_fen": offering["unit_price_fen"]}
        else:
            kind, offering = "book_volumes", rng.choice(by_category[("books",)])
            volumes = min(500, REAL_DAY["book_volumes"] - counts["book_volumes"])
            terms = {"quantity": volumes, "unit_price_fen": offering["unit_price_fen"]}
        # Buyers with bigger budgets buy more, as on the day.
        buyers = [t for t in teams if t["id"] not in ran_out]
        team = rng.choices(buyers, weights=[t["budget"]["budget_fen"] for t in buyers])[0]
        buyer = Actor.team(fair_id, team["id"])
        booth = Actor.supplier(fair_id, offering["supplier_id"])
        try:
            opened = await execute(
                db, buyer, "negotiation.open", {"offering_id": offering["id"], "terms": terms}, f"o{number}"
            )
            negotiation = opened.data["negotiation"]
            accepted = await execute(
                db, booth, "negotiation.accept", {"negotiation_id": negotiation["id"], "version": 1}, f"a{number}"
            )
        except FairError as error:
            refused[error.code] += 1
            if error.code == "budget_exceeded":
                ran_out.add(team["id"])
                await execute(db, buyer, "negotiation.withdraw", {"negotiation_id": negotiation["id"]}, f"w{number}")
            continue
        offering["dates"] = [
            d if d["day"] not in terms.get("dates", []) else {**d, "free": False} for d in offering["dates"]
        ]
        counts[kind] += 1 if kind != "book_volumes" else accepted.data["order"]["order"]["quantity"]

    async with db.read() as session:
        snapshot = await tally.snapshot(session, fair_id)
    assert snapshot["headline"] == REAL_DAY
    print(f"spent ¥{snapshot['total']['amount_fen'] // 100:,}; {len(ran_out)} of {len(teams)} teams ran out; {refused}")
    assert ran_out, "no team ran out of budget: the demo budgets are not tight"
    assert len(ran_out) < len(teams) // 2, "most teams ran out: the demo budgets are too tight"
    await db.dispose()
