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
