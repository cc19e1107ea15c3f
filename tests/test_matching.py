"""The ranking is pinned on a small fair: changing a weight in fair/core/matching.py is a decision a test sees."""

from __future__ import annotations

from fair.core import queries
from fair.core.matching import offerings_for, teams_for
from tests.fairground import Fairground

GULOU = "鼓楼区"


def offering(id, category, price, remaining, *, audience=(), districts=(), dates=0, supplier_id=1, unit="场"):
    return {
        "id": id,
        "supplier_id": supplier_id,
        "category": category,
        "unit": unit,
        "unit_price_fen": price,
        "remaining": remaining,
        "status": "published",
        "audience": list(audience),
        "districts": list(districts),
        "dates": [{"day": f"2023-04-{day + 1:02d}", "free": True} for day in range(dates)],
    }


def wish(category, audience, supports, *, district=GULOU, answers=0):
    return {"category": category, "audience": audience, "supports": supports, "district": district, "answers": answers}


LIBRARY = {"id": 7, "name": "鼓楼区图书馆", "district": GULOU, "approved": True, "budget": {"remaining_fen": 100_000}}
COMMUNITY = {"id": 8, "name": "锁金村社区", "district": "玄武区", "approved": True, "budget": {"remaining_fen": 5_000}}
OFFERINGS = [
    offering(1, "performance", 80_000, 4, audience=["少儿"], dates=4),
    offering(2, "lecture", 30_000, 10, audience=["老年人"], districts=[GULOU], unit="讲"),
    offering(3, "training", 20_000, 6, audience=["老年人"], districts=["玄武区"], unit="期"),
    offering(4, "books", 3_000, 1000, unit="册"),
    offering(5, "exhibition", 500_000, 2, unit="期"),
    offering(6, "lecture", 10_000, 0, unit="讲"),  # sold out
]
WISHES = [
    wish("performance", "少儿", 32),
    wish("lecture", "老年人", 5),
    wish("lecture", "老年人", 10, answers=1),  # answered already: counts a quarter
    wish("performance", "少儿", 100, district="玄武区"),  # another district's residents
]
ORDERS = [{"team_id": 7, "category": "lecture"}]


def test_a_team_sees_what_its_residents_ask_for_first_and_why():
    ranked = offerings_for(LIBRARY, OFFERINGS, WISHES, ORDERS)
    # 1: 3·log2(1 + 32·2) + 0.5 (serves everywhere) + 2 (budget) + 1 (new) = 21.57
    # 2: 3·log2(1 + 5·2 + 10·2·¼) + 1 (serves Gulou) + 2 (budget) − 0.5 (one lecture bought) = 14.5
    # 4: 0.5 + 2 + 1 = 3.5;  5: 0.5 − 3 (over budget) + 0.5 (2 left) + 1 = −1.0
    # 3 serves Xuanwu only, 6 is sold out: not recommended.
    assert [(r["offering_id"], r["score"]) for r in ranked] == [(1, 21.57), (2, 14.5), (4, 3.5), (5, -1.0)]
    assert ranked[0]["reasons"] == [
        {
            "msgid": "%(count)s residents of %(where_label)s ask for %(category_label)s for %(audience)s",
            "params": {"count": 32, "where_label": GULOU, "category_label": "performances", "audience": "少儿"},
        },
        {"msgid": "within budget", "params": {}},
        {"msgid": "no order of this kind yet", "params": {}},
    ]
    assert ranked[1]["reasons"][1] == {"msgid": "within budget", "params": {}}
    assert ranked[1]["reasons"][2] == {"msgid": "serves %(district)s", "params": {"district": GULOU}}
    assert [r["msgid"] for r in ranked[3]["reasons"]] == [
        "no order of this kind yet",
        "only %(left)s %(unit)s left",
        "more than the budget left",
    ]


def test_a_city_team_hears_the_whole_city():
    city = {"id": 9, "district": "市级", "approved": True, "budget": {"remaining_fen": 10_000_000}}
    ranked = offerings_for(city, OFFERINGS, WISHES, [])
    assert ranked[0]["offering_id"] == 1
    assert ranked[0]["reasons"][0]["params"] | {} == {
        "count": 132,
        "where_label": "the city",
        "category_label": "performances",
        "audience": "少儿",
    }
    assert 3 in [r["offering_id"] for r in ranked]  # the city buys for every district


def test_the_same_fair_gives_the_same_ranking():
    assert offerings_for(LIBRARY, OFFERINGS, WISHES, ORDERS) == offerings_for(
        LIBRARY, list(reversed(OFFERINGS)), list(reversed(WISHES)), ORDERS
    )


def test_a_booth_sees_the_teams_to_meet_with_its_best_offering_for_each():
    ranked = teams_for(1, [COMMUNITY, LIBRARY], OFFERINGS, WISHES, ORDERS)
    # The library: its best is the show (21.57).  The community (Xuanwu): 100 residents want the show, but its
    # budget cannot pay for it: 3·log2(201) + 0.5 − 3 + 1; the training it could afford is not the booth's.
    assert [(r["team_id"], r["offering_id"], r["score"]) for r in ranked] == [(7, 1, 21.57), (8, 1, 21.45)]
    assert [(r["team_name"], r["district"]) for r in ranked] == [("鼓楼区图书馆", GULOU), ("锁金村社区", "玄武区")]
    assert all("fen" not in str(reason) for r in ranked for reason in r["reasons"])  # no budget figures


async def test_recommendations_are_read_from_the_fair(fairground: Fairground):
    g = fairground
    await g.confirm("phone")
    resident = g.resident("phone")
    wish = {
        "district": "玄武区",
        "street": "玄武门街道",
        "category": "lecture",
        "audience": "老年人",
        "text": "想听讲座",
    }
    submitted = await g.do(resident, "wish.submit", wish)
    await g.do(g.organiser, "wish.moderate", {"wish_id": submitted["wish"]["id"], "decision": "approve"})
    async with g.db.read() as session:
        for_team = await queries.recommendations(session, g.library)
        for_booth = await queries.recommendations(session, g.troupe)
    assert for_team[0]["offering_id"] == g.lecture
    assert for_team[0]["reasons"][0]["params"]["count"] == 1
    assert {r["team_id"] for r in for_booth} == {g.centre.party_id, g.library.party_id, g.community.party_id}
    assert "budget_fen" not in str(for_booth)
