"""The organiser's commands: the fair's life, who takes part, budgets and the subsidy pool."""

from __future__ import annotations

from fair.core import Actor, Code
from tests.fairground import Fairground, refused


async def test_a_fair_goes_from_setup_to_open_to_closed_and_no_other_way(db):
    g = Fairground(db)
    await g.build(open_fair=False)
    await refused(g.do(g.organiser, "fair.close"), Code.invalid_state)
    assert (await g.do(g.organiser, "fair.open"))["fair"]["state"] == "open"
    error = await refused(g.do(g.organiser, "fair.open"), Code.invalid_state)
    assert error.message("zh_CN") == "现场会当前为“进行中”，不能变为“进行中”。"
    assert (await g.do(g.organiser, "fair.close"))["fair"]["state"] == "closed"
    before = await g.state()
    await refused(g.do(g.organiser, "fair.open"), Code.invalid_state)
    await refused(g.do(g.organiser, "fair.close"), Code.invalid_state)
    assert await g.state() == before


async def test_only_the_organiser_runs_the_fair(fairground: Fairground):
    g = fairground
    before = await g.state()
    for actor in (g.troupe, g.centre, Actor.public(g.fair_id)):
        await refused(g.do(actor, "fair.close"), Code.forbidden)
        await refused(g.do(actor, "team.set_budget", {"team_id": g.centre.party_id, "budget_fen": 1}), Code.forbidden)
        await refused(g.do(actor, "supplier.approve", {"supplier_id": g.troupe.party_id}), Code.forbidden)
    assert await g.state() == before


async def test_budgets_and_the_pool_never_drop_below_what_is_committed(fairground: Fairground):
    g = fairground
    await g.order(g.library, g.troupe, g.lecture, quantity=2)  # ¥1,000 of the library's ¥5,000
    await g.order(g.community, g.troupe, g.show, dates=["2023-04-01"], funding="self_funded")  # ¥600 subsidy
    before = await g.state()
    error = await refused(
        g.do(g.organiser, "team.set_budget", {"team_id": g.library.party_id, "budget_fen": 99_999}), Code.invalid_input
    )
    assert error.message("en") == "¥1,000.00 is already spent: the budget cannot be smaller."
    await refused(g.do(g.organiser, "fair.configure", {"subsidy_pool_fen": 59_999}), Code.invalid_input)
    assert await g.state() == before
    raised = await g.do(g.organiser, "team.set_budget", {"team_id": g.library.party_id, "budget_fen": 100_000})
    assert raised["team"]["budget"]["remaining_fen"] == 0
    configured = await g.do(g.organiser, "fair.configure", {"subsidy_pool_fen": 60_000, "subsidy_rate_bp": 5000})
    assert configured["fair"]["subsidy_pool_fen"] == 60_000 and configured["fair"]["subsidy_used_fen"] == 60_000
    await refused(g.do(g.organiser, "fair.configure", {}), Code.invalid_input)


async def test_booths_are_unique_and_approval_can_be_revoked(fairground: Fairground):
    g = fairground
    before = await g.state()
    error = await refused(
        g.do(g.organiser, "supplier.register", {"name": "另一个剧团", "booth": "A01"}), Code.invalid_input
    )
    assert error.message("zh_CN") == "展位 A01 已被占用。"
    assert await g.state() == before
    revoked = await g.do(g.organiser, "supplier.approve", {"supplier_id": g.troupe.party_id, "approved": False})
    assert revoked["supplier"]["approved"] is False
    await refused(g.do(g.troupe, "offering.spotlight", {"offering_id": g.show}), Code.forbidden)


async def test_objects_of_another_fair_are_not_found(fairground: Fairground):
    g = fairground
    other = await g.do(
        Actor.organiser(), "fair.create", {"name": "明年的现场会", "day": "2024-03-29", "venue": "金陵图书馆"}
    )
    other_organiser = Actor.organiser(other["fair"]["id"])
    before = await g.state()
    await refused(
        g.do(other_organiser, "team.set_budget", {"team_id": g.centre.party_id, "budget_fen": 1}), Code.not_found
    )
    error = await refused(g.do(other_organiser, "supplier.approve", {"supplier_id": g.troupe.party_id}), Code.not_found)
    assert error.message("zh_CN") == f"找不到供应商：{g.troupe.party_id}。"
    assert await g.state() == before
