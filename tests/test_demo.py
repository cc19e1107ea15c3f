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


def test_the_demo_ships_a_few_hundred_residents_wishes_from_every_district():
    wishes = DEMO["wishes"]
    assert 250 <= len(wishes) <= 400
    assert {w["district"] for w in wishes} == set(DISTRICTS)
    statuses = Counter(w["status"] for w in wishes)
    assert statuses["approved"] > len(wishes) // 2 and statuses["pending"] and statuses["rejected"]
    assert all(w["status"] != "merged" or wishes[w["merge_into"]]["status"] == "approved" for w in wishes)


async def test_the_real_days_totals_fit_in_the_demo_and_small_teams_run_out(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'demo.db'}")
    await migrate.upgrade(db)
    fair_id = await demo.load(db, DATA / "demo")
    played = await demo.play(db, fair_id, REAL_DAY, seed=329)
    async with db.read() as session:
        snapshot = await tally.snapshot(session, fair_id)
        teams = (await queries.participants(session, Actor.organiser(fair_id)))["teams"]
        wishes = await queries.wishes(session, Actor.organiser(fair_id))
        slots = await queries.slots(session, Actor.organiser(fair_id))
    await db.dispose()
    assert played.headline == snapshot["headline"] == REAL_DAY
    assert Counter(w["status"] for w in wishes) == Counter(w["status"] for w in DEMO["wishes"])
    answered = [w for w in wishes if w["answers"]]
    assert len(answered) > 50, "the played day answered few residents' wishes"
    assert len(slots) >= 100
    print(f"spent ¥{snapshot['total']['amount_fen'] // 100:,}; {len(played.ran_out)} of {len(teams)} ran out")
    assert played.ran_out, "no team ran out of budget: the demo budgets are not tight"
    assert len(played.ran_out) < len(teams) // 2, "most teams ran out: the demo budgets are too tight"
