"""The replay of the day, from the event log alone, ends exactly at the tally a fresh read gives."""

from __future__ import annotations

import httpx

from fair.core import replay, tally
from tests.conftest import Hall
from tests.fairground import Fairground


async def test_the_last_frame_is_the_final_tally_and_each_frame_moves_by_one_order(fairground: Fairground):
    g = fairground
    orders = [
        await g.order(g.library, g.troupe, g.show, dates=["2023-04-01"]),
        await g.order(g.centre, g.troupe, g.lecture, quantity=2),
        await g.order(g.community, g.bookseller, g.books, quantity=100, funding="self_funded"),
    ]
    for quantity in range(1, 11):
        await g.order(g.centre, g.bookseller, g.books, quantity=quantity)
    await g.do(g.organiser, "order.void", {"order_id": orders[1]["order"]["id"], "reason": "重复"})
    async with g.db.read() as session:
        shown = await replay.frames(session, g.fair_id)
        final = await tally.snapshot(session, g.fair_id)
    assert len(shown) == 14  # 13 orders confirmed, 1 voided
    assert shown[-1]["tally"] == {key: final[key] for key in replay.SHOWN}
    assert shown[-1]["seq"] == final["seq"]
    assert [f["tally"]["total"]["orders"] for f in shown] == [*range(1, 14), 12]
    assert [f["seq"] for f in shown] == sorted(f["seq"] for f in shown)


async def test_the_board_reads_the_replay_without_signing_in(hall: Hall):
    g = hall.ground
    await g.order(g.library, g.troupe, g.lecture)
    async with httpx.AsyncClient(base_url=hall.url) as anyone:
        reply = await anyone.get("/api/replay")
    frames = reply.json()["frames"]
    assert [f["tally"]["headline"]["training_lecture_exhibition_orders"] for f in frames] == [1]
    assert "budget" not in reply.text and "government_fen" not in str(frames[0]["tally"]["latest"])


async def test_every_figure_of_the_board_opens_exactly_the_orders_it_counts(fairground: Fairground):
    from fair.core import Actor, FairError, queries
    from fair.models import CITY, DISTRICTS, Category

    g = fairground
    await g.order(g.library, g.troupe, g.show, dates=["2023-04-01"])
    await g.order(g.centre, g.troupe, g.lecture, quantity=2)
    books = await g.order(g.community, g.bookseller, g.books, quantity=100, funding="self_funded")
    await g.order(g.centre, g.bookseller, g.books, quantity=7)
    await g.do(g.organiser, "order.void", {"order_id": books["order"]["id"], "reason": "重复"})
    public = Actor.public(g.fair_id)
    async with g.db.read() as session:
        counted = await tally.snapshot(session, g.fair_id)

        async def behind(**narrowed):
            return await queries.orders_behind(session, public, **narrowed)

        assert len(await behind(figure="performance")) == counted["headline"]["performance_orders"] == 1
        tle = await behind(figure="training_lecture_exhibition")
        assert len(tle) == counted["headline"]["training_lecture_exhibition_orders"] == 1
        assert sum(o["quantity"] for o in await behind(figure="books")) == counted["headline"]["book_volumes"] == 7
        for district in (CITY, *DISTRICTS):
            shown = await behind(district=district)
            assert len(shown) == counted["by_district"][district]["orders"], district
            assert sum(o["amount_fen"] for o in shown) == counted["by_district"][district]["amount_fen"], district
            for category in Category:
                cell = await behind(district=district, figure=str(category))
                assert len(cell) == counted["coverage"][district][category], (district, category)
        everything = await behind()
        assert sum(o["amount_fen"] for o in everything) == counted["total"]["amount_fen"]
        assert all(set(o) == set(tally.PUBLIC_ORDER_FIELDS) for o in everything)
        for wrong in ({"district": "火星区"}, {"figure": "budgets"}):
            try:
                await behind(**wrong)
            except FairError:
                continue
            raise AssertionError(f"{wrong} was not refused")


async def test_the_board_links_its_figures_to_a_public_page_of_their_orders(hall: Hall):
    g = hall.ground
    await g.order(g.library, g.troupe, g.lecture)
    async with httpx.AsyncClient(base_url=hall.url, cookies={"fair_locale": "zh_CN"}) as anyone:
        page = await anyone.get("/board/orders", params={"district": "玄武区", "figure": "training_lecture_exhibition"})
        wrong = await anyone.get("/board/orders", params={"district": "火星区"})
    assert page.status_code == 200 and "越剧艺术漫谈" in page.text and "玄武区图书馆" in page.text
    assert "共 1 个订单，¥500.00" in page.text
    assert wrong.status_code == 400
