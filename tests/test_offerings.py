"""A booth's offerings: publish, update, spotlight, withdraw, and what is refused."""

from __future__ import annotations

from fair.core import Code
from tests.fairground import Fairground, refused


async def test_a_booth_publishes_updates_and_spotlights_its_offering(fairground: Fairground):
    g = fairground
    published = await g.do(
        g.troupe,
        "offering.publish",
        {
            "category": "training",
            "title": "越剧身段培训",
            "unit": "期",
            "unit_price_fen": 800_000,
            "capacity": 4,
            "audience": ["少儿"],
            "districts": ["玄武区", "鼓楼区"],
            "description": "每期10课时",
        },
    )
    offering = published["offering"]
    assert (offering["remaining"], offering["status"], offering["booth"]) == (4, "published", "A01")
    updated = await g.do(g.troupe, "offering.update", {"offering_id": offering["id"], "unit_price_fen": 750_000})
    assert updated["offering"]["unit_price_fen"] == 750_000 and updated["offering"]["title"] == "越剧身段培训"
    spotlit = await g.do(g.troupe, "offering.spotlight", {"offering_id": offering["id"]})
    assert spotlit["offering"]["spotlight_at"] is not None


async def test_capacity_never_drops_below_what_is_sold(fairground: Fairground):
    g = fairground
    await g.order(g.centre, g.troupe, g.lecture, quantity=3)
    before = await g.state()
    error = await refused(
        g.do(g.troupe, "offering.update", {"offering_id": g.lecture, "capacity": 2}), Code.invalid_input
    )
    assert error.message("zh_CN") == "已有 3 讲被订购，服务总量不能少于此数。"
    await refused(g.do(g.troupe, "offering.update", {"offering_id": g.show, "capacity": 4}), Code.invalid_input)
    await refused(g.do(g.troupe, "offering.update", {"offering_id": g.lecture}), Code.invalid_input)
    assert await g.state() == before
    more = await g.do(g.troupe, "offering.update", {"offering_id": g.show, "capacity": 4, "add_dates": ["2023-04-22"]})
    assert [d["day"] for d in more["offering"]["dates"]][-1] == "2023-04-22" and more["offering"]["remaining"] == 4


async def test_a_dated_offering_sells_at_most_one_unit_a_date(fairground: Fairground):
    g = fairground
    before = await g.state()
    await refused(
        g.do(
            g.troupe,
            "offering.publish",
            {
                "category": "performance",
                "title": "加演",
                "unit": "场",
                "unit_price_fen": 1,
                "capacity": 3,
                "dates": ["2023-05-01", "2023-05-02"],
            },
        ),
        Code.invalid_input,
    )
    assert await g.state() == before


async def test_a_booth_touches_only_its_own_offerings(fairground: Fairground):
    g = fairground
    before = await g.state()
    for command, payload in (
        ("offering.update", {"offering_id": g.show, "unit_price_fen": 1}),
        ("offering.spotlight", {"offering_id": g.show}),
        ("offering.withdraw", {"offering_id": g.show}),
    ):
        await refused(g.do(g.bookseller, command, payload), Code.not_a_party)
        await refused(g.do(g.centre, command, payload), Code.forbidden)
    await refused(g.do(g.bookseller, "offering.withdraw", {"offering_id": 999}), Code.not_found)
    assert await g.state() == before


async def test_a_withdrawn_offering_stays_withdrawn(fairground: Fairground):
    g = fairground
    await g.do(g.troupe, "offering.withdraw", {"offering_id": g.lecture})
    before = await g.state()
    await refused(g.do(g.troupe, "offering.withdraw", {"offering_id": g.lecture}), Code.invalid_state)
    await refused(g.do(g.troupe, "offering.update", {"offering_id": g.lecture, "capacity": 9}), Code.invalid_state)
    await refused(g.do(g.troupe, "offering.spotlight", {"offering_id": g.lecture}), Code.invalid_state)
    assert await g.state() == before
