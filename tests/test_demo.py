"""The demo fair: as big as the real one, and its real day can be played through it."""

from __future__ import annotations

import json
from collections import Counter

from fair import demo, migrate
from fair.core import Actor, queries, tally
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
    played = await demo.play(db, fair_id, REAL_DAY, seed=329)
    async with db.read() as session:
        snapshot = await tally.snapshot(session, fair_id)
        teams = (await queries.participants(session, Actor.organiser(fair_id)))["teams"]
    await db.dispose()
    assert played.headline == snapshot["headline"] == REAL_DAY
    print(f"spent ¥{snapshot['total']['amount_fen'] // 100:,}; {len(played.ran_out)} of {len(teams)} ran out")
    assert played.ran_out, "no team ran out of budget: the demo budgets are not tight"
    assert len(played.ran_out) < len(teams) // 2, "most teams ran out: the demo budgets are too tight"
