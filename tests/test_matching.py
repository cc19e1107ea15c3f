"""The ranking is pinned on a small fair: changing a weight in fair/core/matching.py is a decision a test sees.

Each reason is checked for what it claims: the people counted are the distinct residents behind exactly the
wishes the offering answers (category, audience, the team's area), and the budget's figures are those of the
quantity the team would order."""

from __future__ import annotations

import pytest
from sqlmodel import select

from fair.core import queries
from fair.core.matching import DEMAND, OWN_FUNDS, WITHIN, offerings_for, teams_for
from fair.models import WishSupport
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


def wish(id, category, audience, *, district=GULOU, street="湖南路街道", answers=()):
    return {
        "id": id,
        "category": category,
        "audience": audience,
        "district": district,
        "street": street,
        "answers": list(answers),
    }


LIBRARY = {"id": 7, "name": "鼓楼区图书馆", "district": GULOU, "approved": True, "budget": {"remaining_fen": 100_000}}
STREET = {
    "id": 8,
    "name": "湖南路街道",
    "district": GULOU,
    "street": "湖南路街道",
    "approved": True,
    "budget": {"remaining_fen": 20_000},
}
OFFERINGS = [
    offering(1, "performance", 80_000, 4, audience=["少儿"], dates=4),
    offering(2, "lecture", 30_000, 10, audience=["老年人"], districts=[GULOU], unit="讲"),
    offering(3, "training", 20_000, 6, audience=["老年人"], districts=["玄武区"], unit="期"),
    offering(4, "books", 30, 1000, audience=["少儿"], unit="册"),
    offering(5, "exhibition", 500_000, 2, audience=["全年龄"], unit="期"),
    offering(6, "lecture", 10_000, 0, audience=["老年人"], unit="讲"),  # sold out
    offering(7, "performance", 60_000, 4, audience=["老年人"], dates=4),
]
WISHES = [
    wish(10, "performance", "少儿"),
    wish(11, "performance", "少儿", street="宁海路街道"),
    wish(12, "performance", "老年人", street="宁海路街道"),
    wish(13, "lecture", "老年人"),
    wish(14, "lecture", "老年人", answers=[{"order_id": 1}]),  # answered already: nobody is waiting on it
    wish(15, "performance", "少儿", district="玄武区", street="玄武门街道"),  # another district's residents
    wish(16, "books", "少儿"),
]
# One resident may stand behind several wishes: 100 and 101 asked for both children's plays.
SUPPORTERS = {10: {100, 101, 102}, 11: {100, 101, 103}, 12: {104}, 13: {105, 106}, 14: {107}, 15: {108}, 16: {109}}
ORDERS = [
    {"team_id": 7, "category": "lecture", "quantity": 1},
    {"team_id": 9, "category": "books", "quantity": 500},  # another team's: the fair's usual books order
]


def reasons(ranked, offering_id):
    return next(r["reasons"] for r in ranked if r["offering_id"] == offering_id)


def test_a_team_sees_what_its_residents_ask_for_counted_as_people_and_why():
    ranked = offerings_for(LIBRARY, OFFERINGS, WISHES, SUPPORTERS, ORDERS)
    assert reasons(ranked, 1)[0] == {
        "msgid": DEMAND,
        "params": {
            "count": 4,  # 100, 101, 102 and 103: four people behind two wishes with three supports each
            "wishes": 2,
            "where_label": GULOU,
            "category_label": "performances",
            "audiences": "少儿",
            "wish_ids": [10, 11],
        },
    }
    # The opera answers the elders' wish only, not the children's of the same category.
    assert reasons(ranked, 7)[0]["params"].items() >= {"count": 1, "wish_ids": [12], "audiences": "老年人"}.items()
    # The lecture: the answered wish counts nobody; the open one two people.
    assert reasons(ranked, 2)[0]["params"]["wish_ids"] == [13]
    assert ranked[0]["wish_ids"] == [10, 11]
    # 5 is over the budget and after every affordable offering; 3 serves Xuanwu only, 6 is sold out.
    assert [r["offering_id"] for r in ranked] == [1, 2, 4, 7, 5]
    assert [r["affordable"] for r in ranked] == [True, True, True, True, False]


def test_the_budget_counts_the_quantity_the_team_would_order():
    ranked = offerings_for(LIBRARY, OFFERINGS, WISHES, SUPPORTERS, ORDERS)
    # Not a book's price but the fair's usual books order, 500 volumes (another team's): ¥150 against ¥100 left.
    assert {"msgid": WITHIN, "params": {"quantity": 1, "unit": "场", "cost_fen": 80_000}} in reasons(ranked, 1)
    books = offerings_for({**LIBRARY, "budget": {"remaining_fen": 10_000}}, OFFERINGS, WISHES, SUPPORTERS, ORDERS)
    assert {
        "msgid": OWN_FUNDS,
        "params": {"own_fen": 5_000, "quantity": 500, "unit": "册", "cost_fen": 15_000},
        "against": True,
    } in reasons(books, 4)
    # On the shortlist for 100 volumes, ¥3,000: what the team said it would buy is what is counted.
    listed = offerings_for(
        {**LIBRARY, "budget": {"remaining_fen": 10_000}}, OFFERINGS, WISHES, SUPPORTERS, ORDERS, {4: 100}
    )
    assert {"msgid": WITHIN, "params": {"quantity": 100, "unit": "册", "cost_fen": 3_000}} in reasons(listed, 4)
    # However strong the wishes behind the play (four people), the books the team can pay for come first.
    assert [(r["offering_id"], r["affordable"]) for r in listed][:2] == [(4, True), (1, False)]


def test_a_street_team_hears_its_street_and_its_district_where_its_street_asked_nothing():
    ranked = offerings_for(STREET, OFFERINGS, WISHES, SUPPORTERS, ORDERS)
    plays = reasons(ranked, 1)[0]["params"]
    assert (plays["where_label"], plays["wish_ids"], plays["count"]) == ("湖南路街道", [10], 3)
    opera = reasons(ranked, 7)[0]["params"]  # only 宁海路街道 asked for opera: the district speaks
    assert (opera["where_label"], opera["wish_ids"]) == (GULOU, [12])


def test_a_city_team_hears_the_whole_city():
    city = {"id": 9, "district": "市级", "approved": True, "budget": {"remaining_fen": 10_000_000}}
    ranked = offerings_for(city, OFFERINGS, WISHES, SUPPORTERS, [])
    assert ranked[0]["offering_id"] == 1
    shown = ranked[0]["reasons"][0]["params"]
    assert shown.items() >= {"count": 5, "where_label": "the city", "wish_ids": [10, 11, 15]}.items()
    assert 3 in [r["offering_id"] for r in ranked]  # the city buys for every district


def test_a_second_offering_for_the_same_wishes_ranks_down():
    twin = offering(8, "performance", 80_000, 4, audience=["少儿"], dates=4, supplier_id=2)
    ranked = offerings_for(LIBRARY, [*OFFERINGS, twin], WISHES, SUPPORTERS, ORDERS)
    order = [r["offering_id"] for r in ranked]
    assert order[:4] == [1, 2, 4, 7] and order.index(8) == 4  # not two answers to one wish on top


def test_the_same_fair_gives_the_same_ranking():
    assert offerings_for(LIBRARY, OFFERINGS, WISHES, SUPPORTERS, ORDERS) == offerings_for(
        LIBRARY, list(reversed(OFFERINGS)), list(reversed(WISHES)), SUPPORTERS, list(reversed(ORDERS))
    )


def test_a_booth_sees_the_teams_to_meet_with_its_best_offering_for_each_but_not_those_it_meets():
    community = {
        "id": 11,
        "name": "锁金村社区",
        "district": "玄武区",
        "approved": True,
        "budget": {"remaining_fen": 5_000},
    }
    ranked = teams_for(1, [community, LIBRARY, STREET], OFFERINGS, WISHES, SUPPORTERS, ORDERS)
    # The street cannot pay for the play (¥800 of ¥200 left): the booth is shown the books it can pay for.
    assert [(r["team_id"], r["offering_id"]) for r in ranked] == [(7, 1), (8, 4), (11, 1)]
    assert [r["affordable"] for r in ranked] == [True, True, False]
    assert all("fen" not in str(reason) for r in ranked for reason in r["reasons"])  # no budget figures
    met = teams_for(1, [community, LIBRARY, STREET], OFFERINGS, WISHES, SUPPORTERS, ORDERS, meeting={7})
    assert [r["team_id"] for r in met] == [8, 11]


async def test_recommendations_are_read_from_the_fair(fairground: Fairground):
    g = fairground
    await g.confirm("phone", "neighbour")
    wish = {
        "district": "玄武区",
        "street": "玄武门街道",
        "category": "lecture",
        "audience": "老年人",
        "text": "想听讲座",
    }
    submitted = await g.do(g.resident("phone"), "wish.submit", wish)
    await g.do(g.organiser, "wish.moderate", {"wish_id": submitted["wish"]["id"], "decision": "approve"})
    await g.do(g.resident("neighbour"), "wish.support", {"wish_id": submitted["wish"]["id"]})
    await g.propose(g.centre, g.show, dates=["2023-04-01"])  # the troupe already negotiates with the city centre
    async with g.db.read() as session:
        for_team = await queries.recommendations(session, g.library)
        for_booth = await queries.recommendations(session, g.troupe)
        people = len((await session.exec(select(WishSupport))).all())
    assert for_team[0]["offering_id"] == g.lecture
    assert for_team[0]["reasons"][0]["params"]["count"] == people == 2
    assert for_team[0]["wish_ids"] == [submitted["wish"]["id"]]
    assert {r["team_id"] for r in for_booth} == {g.library.party_id, g.community.party_id}
    assert "budget_fen" not in str(for_booth) and "cost_fen" not in str(for_booth)


def test_on_the_day_a_long_queue_at_a_booth_says_so_and_ranks_it_down():
    calm = offerings_for(LIBRARY, OFFERINGS, WISHES, SUPPORTERS, ORDERS, waiting={1: 3})
    busy = offerings_for(LIBRARY, OFFERINGS, WISHES, SUPPORTERS, ORDERS, waiting={1: 6})
    assert not any("waiting" in reason["msgid"] for reason in reasons(calm, 1))  # three: no word of it
    assert reasons(busy, 1)[-1] == {
        "msgid": "%(count)s teams waiting at the booth",
        "params": {"count": 6},
        "against": True,
    }
    score = {r["offering_id"]: r["score"] for r in busy}
    assert score[1] == pytest.approx({r["offering_id"]: r["score"] for r in calm}[1] - 1.5)
