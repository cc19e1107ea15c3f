"""Exactly once: a request id replayed, raced or reused returns the first outcome."""

from __future__ import annotations

import asyncio

import pytest

from fair.core import Code, FairError, execute
from fair.models import RequestRecord
from tests.fairground import Fairground, refused


async def test_a_replayed_request_returns_the_first_result_and_writes_nothing(fairground: Fairground):
    g = fairground
    negotiation = await g.propose(g.centre, g.lecture)
    payload = {"negotiation_id": negotiation["id"], "version": 1}
    first = await execute(g.db, g.troupe, "negotiation.accept", payload, "accept-1")
    before = await g.state()
    again = await execute(g.db, g.troupe, "negotiation.accept", payload, "accept-1")
    assert again.data == first.data and again.replayed and not first.replayed
    assert await g.state() == before


async def test_five_concurrent_copies_of_one_request_have_one_effect(fairground: Fairground):
    g = fairground
    negotiation = await g.propose(g.library, g.books, quantity=100)
    payload = {"negotiation_id": negotiation["id"], "version": 1}
    outcomes = await asyncio.gather(
        *(execute(g.db, g.bookseller, "negotiation.accept", payload, "same-accept") for _ in range(5))
    )
    assert all(outcome.data == outcomes[0].data for outcome in outcomes)
    assert sum(not outcome.replayed for outcome in outcomes) == 1
    state = await g.state()
    assert len(state["purchase_order"]) == 1
    assert [o["sold"] for o in state["offering"] if o["id"] == g.books] == [100]
    assert [t["spent_fen"] for t in state["team"] if t["id"] == g.library.party_id] == [300_000]


async def test_five_concurrent_copies_of_a_new_negotiation_open_one(fairground: Fairground):
    g = fairground
    payload = {"offering_id": g.books, "terms": {"quantity": 10, "unit_price_fen": 3_000}}
    outcomes = await asyncio.gather(
        *(execute(g.db, g.centre, "negotiation.open", payload, "same-open") for _ in range(5))
    )
    assert len({outcome.data["negotiation"]["id"] for outcome in outcomes}) == 1
    assert len((await g.state())["negotiation"]) == 1


async def test_a_refusal_is_replayed_too(fairground: Fairground):
    g = fairground
    negotiation = await g.propose(g.community, g.books, quantity=100)  # ¥3,000: over its ¥1,000
    payload = {"negotiation_id": negotiation["id"], "version": 1}
    first = await refused(execute(g.db, g.bookseller, "negotiation.accept", payload, "too-dear"), Code.budget_exceeded)
    await g.do(g.organiser, "team.set_budget", {"team_id": g.community.party_id, "budget_fen": 1_000_000})
    before = await g.state()
    again = await refused(execute(g.db, g.bookseller, "negotiation.accept", payload, "too-dear"), Code.budget_exceeded)
    assert again == first
    assert await g.state() == before
    # A new request id is a new attempt, and now the budget allows it.
    assert (await execute(g.db, g.bookseller, "negotiation.accept", payload, "retry")).data["order"]


async def test_a_request_id_reused_for_another_change_is_refused(fairground: Fairground):
    g = fairground
    await execute(g.db, g.centre, "negotiation.open", {"offering_id": g.books}, "reused")
    before = await g.state()
    error = await refused(
        execute(g.db, g.centre, "negotiation.open", {"offering_id": g.lecture}, "reused"), Code.request_conflict
    )
    assert error.message("zh_CN") == "该请求编号已用于另一项操作。"
    assert await g.state() == before


async def test_request_ids_belong_to_their_party(fairground: Fairground):
    g = fairground
    first = await execute(g.db, g.centre, "negotiation.open", {"offering_id": g.books}, "mine")
    second = await execute(g.db, g.library, "negotiation.open", {"offering_id": g.books}, "mine")
    assert first.data["negotiation"]["id"] != second.data["negotiation"]["id"]
    async with g.db.read() as session:
        records = (await session.exec(RequestRecord.__table__.select())).all()
    assert {(r.party, r.request_id) for r in records if r.request_id == "mine"} == {
        (g.centre.key, "mine"),
        (g.library.key, "mine"),
    }


@pytest.mark.parametrize("copies", [5])
async def test_concurrent_copies_of_a_refused_request_return_one_refusal(fairground: Fairground, copies):
    g = fairground
    negotiation = await g.propose(g.community, g.books, quantity=100)
    payload = {"negotiation_id": negotiation["id"], "version": 1}
    results = await asyncio.gather(
        *(execute(g.db, g.bookseller, "negotiation.accept", payload, "dear") for _ in range(copies)),
        return_exceptions=True,
    )
    assert all(isinstance(result, FairError) and result == results[0] for result in results)
    assert results[0].code == Code.budget_exceeded
    state = await g.state()
    refusals = [e for e in state["event"] if e["payload"].get("change") == "refused"]
    assert len(refusals) == 1
