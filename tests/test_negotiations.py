"""Negotiation and confirmation: the whole deal, and every way it is refused."""

from __future__ import annotations

from fair.core import Code
from fair.models import Fair, Negotiation
from tests.fairground import Fairground, refused


async def test_a_deal_from_proposal_to_order(fairground: Fairground):
    g = fairground
    negotiation = await g.propose(g.library, g.lecture, quantity=2, venue="玄武区图书馆报告厅", message="周末下午")
    assert negotiation["state"] == "proposed"
    assert negotiation["turn"] == "supplier"

    countered = await g.do(
        g.troupe,
        "negotiation.counter",
        {
            "negotiation_id": negotiation["id"],
            "base_version": 1,
            "terms": {"quantity": 2, "unit_price_fen": 45_000, "venue": "玄武区图书馆报告厅"},
        },
    )
    assert countered["negotiation"]["state"] == "countered"
    assert countered["negotiation"]["version"] == 2
    assert countered["negotiation"]["turn"] == "team"

    accepted = await g.do(g.library, "negotiation.accept", {"negotiation_id": negotiation["id"], "version": 2})
    order = accepted["order"]["order"]
    assert accepted["negotiation"]["state"] == "confirmed"
    assert (order["quantity"], order["amount_fen"], order["government_fen"], order["subsidy_fen"]) == (
        2,
        90_000,
        90_000,
        0,
    )
    assert accepted["order"]["budget"] == {
        "budget_fen": 500_000,
        "spent_fen": 90_000,
        "remaining_fen": 410_000,
        "self_funded_fen": 0,
        "subsidy_fen": 0,
    }
    assert accepted["order"]["offering"]["remaining"] == 3


# A refused confirmation leaves exactly this behind: the refusal on its negotiation, and one event.
REFUSAL_TRACE = {Negotiation: {"refusal", "updated_at"}, Fair: {"last_seq"}}


def assert_only_the_refusal_was_noted(before: dict, after: dict) -> None:
    assert after["event"][:-1] == before["event"]
    assert after["event"][-1]["type"] == "negotiation.updated"
    assert after["event"][-1]["payload"]["change"] == "refused"
    assert {**after, "event": None} == {**before, "event": None}


async def test_the_supplier_may_propose_first_and_the_team_accept(fairground: Fairground):
    g = fairground
    opened = await g.do(g.centre, "negotiation.open", {"offering_id": g.books})
    assert opened["negotiation"]["state"] == "open" and opened["negotiation"]["turn"] is None
    proposed = await g.do(
        g.bookseller,
        "negotiation.propose",
        {"negotiation_id": opened["negotiation"]["id"], "terms": {"quantity": 500, "unit_price_fen": 2_800}},
    )
    assert proposed["negotiation"]["turn"] == "team"
    accepted = await g.do(g.centre, "negotiation.accept", {"negotiation_id": opened["negotiation"]["id"], "version": 1})
    assert accepted["order"]["order"]["amount_fen"] == 1_400_000
    assert accepted["order"]["offering"]["remaining"] == 500


async def test_terms_are_proposed_once_then_countered(fairground: Fairground):
    g = fairground
    negotiation = await g.propose(g.centre, g.lecture)
    before = await g.state()
    await refused(
        g.do(
            g.troupe,
            "negotiation.propose",
            {"negotiation_id": negotiation["id"], "terms": {"quantity": 1, "unit_price_fen": 1}},
        ),
        Code.invalid_state,
    )
    opened = await g.do(g.library, "negotiation.open", {"offering_id": g.lecture})
    await refused(
        g.do(
            g.library,
            "negotiation.counter",
            {
                "negotiation_id": opened["negotiation"]["id"],
                "base_version": 1,
                "terms": {"quantity": 1, "unit_price_fen": 1},
            },
        ),
        Code.invalid_state,
    )
    assert (await g.state())["terms"] == before["terms"]


async def test_a_counter_or_accept_on_replaced_terms_is_stale(fairground: Fairground):
    g = fairground
    negotiation = await g.propose(g.centre, g.lecture)
    await g.do(
        g.troupe,
        "negotiation.counter",
        {"negotiation_id": negotiation["id"], "base_version": 1, "terms": {"quantity": 1, "unit_price_fen": 60_000}},
    )
    before = await g.state()
    error = await refused(
        g.do(
            g.centre,
            "negotiation.counter",
            {
                "negotiation_id": negotiation["id"],
                "base_version": 1,
                "terms": {"quantity": 1, "unit_price_fen": 40_000},
            },
        ),
        Code.stale_terms,
    )
    assert "2" in error.message("en") and "2" in error.message("zh_CN")
    await refused(
        g.do(g.centre, "negotiation.accept", {"negotiation_id": negotiation["id"], "version": 1}), Code.stale_terms
    )
    assert await g.state() == before


async def test_nobody_accepts_their_own_terms(fairground: Fairground):
    g = fairground
    negotiation = await g.propose(g.centre, g.lecture)
    before = await g.state()
    await refused(
        g.do(g.centre, "negotiation.accept", {"negotiation_id": negotiation["id"], "version": 1}), Code.invalid_state
    )
    assert await g.state() == before


async def test_only_the_two_parties_take_part(fairground: Fairground):
    g = fairground
    negotiation = await g.propose(g.centre, g.lecture)
    ref = {"negotiation_id": negotiation["id"]}
    before = await g.state()
    for actor in (g.library, g.bookseller):
        await refused(g.do(actor, "negotiation.accept", {**ref, "version": 1}), Code.not_a_party)
        await refused(g.do(actor, "negotiation.decline", ref), Code.not_a_party)
        await refused(
            g.do(
                actor, "negotiation.counter", {**ref, "base_version": 1, "terms": {"quantity": 1, "unit_price_fen": 1}}
            ),
            Code.not_a_party,
        )
    await refused(g.do(g.troupe, "negotiation.withdraw", ref), Code.forbidden)  # withdrawing is the buyer's
    await refused(g.do(g.organiser, "negotiation.accept", {**ref, "version": 1}), Code.forbidden)
    assert await g.state() == before


async def test_decline_and_withdraw_end_a_negotiation(fairground: Fairground):
    g = fairground
    first = await g.propose(g.centre, g.lecture)
    declined = await g.do(g.troupe, "negotiation.decline", {"negotiation_id": first["id"]})
    assert declined["negotiation"]["state"] == "declined" and declined["negotiation"]["turn"] is None
    await refused(
        g.do(g.centre, "negotiation.accept", {"negotiation_id": first["id"], "version": 1}), Code.invalid_state
    )
    second = await g.propose(g.centre, g.lecture)  # a closed negotiation does not block a new one
    withdrawn = await g.do(g.centre, "negotiation.withdraw", {"negotiation_id": second["id"]})
    assert withdrawn["negotiation"]["state"] == "withdrawn"
    await refused(g.do(g.troupe, "negotiation.decline", {"negotiation_id": second["id"]}), Code.invalid_state)


async def test_one_live_negotiation_per_team_and_offering(fairground: Fairground):
    g = fairground
    await g.propose(g.centre, g.lecture)
    before = await g.state()
    error = await refused(g.do(g.centre, "negotiation.open", {"offering_id": g.lecture}), Code.invalid_state)
    assert "已" in error.message("zh_CN")
    assert await g.state() == before
    await g.propose(g.library, g.lecture)  # another team may


async def test_terms_must_fit_the_offering(fairground: Fairground):
    g = fairground
    before = await g.state()
    await refused(g.propose(g.centre, g.show, quantity=1), Code.invalid_input)  # dated: dates are required
    await refused(g.propose(g.centre, g.show, quantity=1, dates=["2023-05-01"]), Code.invalid_input)
    await refused(g.propose(g.centre, g.show, quantity=2, dates=["2023-04-01"]), Code.invalid_input)
    await refused(g.propose(g.centre, g.lecture, dates=["2023-04-01"]), Code.invalid_input)
    await refused(g.propose(g.centre, g.lecture, quantity=6), Code.capacity_exhausted)
    assert await g.state() == before


async def test_confirmation_waits_for_an_open_fair_and_says_so_to_both(db):
    g = Fairground(db)
    await g.build(open_fair=False)
    negotiation = await g.propose(g.centre, g.lecture)
    before = await g.state(ignore=REFUSAL_TRACE)
    await refused(
        g.do(g.troupe, "negotiation.accept", {"negotiation_id": negotiation["id"], "version": 1}), Code.fair_not_open
    )
    after = await g.state(ignore=REFUSAL_TRACE)
    assert_only_the_refusal_was_noted(before, after)  # the negotiation still waits for the supplier
    noted = after["event"][-1]
    assert noted["type"] == "negotiation.updated" and noted["payload"]["change"] == "refused"
    assert noted["payload"]["negotiation"]["refusal"]["code"] == "fair_not_open"
    assert noted["payload"]["negotiation"]["refusal"]["by"] == "supplier"
    declined = await g.do(g.centre, "negotiation.decline", {"negotiation_id": negotiation["id"]})
    assert declined["negotiation"]["refusal"]["code"] == "fair_not_open"


async def test_capacity_taken_by_another_order_refuses_the_confirmation(fairground: Fairground):
    g = fairground
    first = await g.propose(g.centre, g.books, quantity=800)
    second = await g.propose(g.library, g.books, quantity=180, unit_price_fen=1_000)
    third = await g.propose(g.community, g.books, quantity=30)
    await g.do(g.bookseller, "negotiation.accept", {"negotiation_id": first["id"], "version": 1})
    await g.do(g.bookseller, "negotiation.accept", {"negotiation_id": second["id"], "version": 1})
    before = await g.state(ignore=REFUSAL_TRACE)
    error = await refused(
        g.do(g.bookseller, "negotiation.accept", {"negotiation_id": third["id"], "version": 1}),
        Code.capacity_exhausted,
    )
    assert error.message("zh_CN") == "该项目仅剩 20 册。"
    assert_only_the_refusal_was_noted(before, await g.state(ignore=REFUSAL_TRACE))
    # The team can still settle for what is left.
    countered = await g.do(
        g.community,
        "negotiation.counter",
        {"negotiation_id": third["id"], "base_version": 1, "terms": {"quantity": 20, "unit_price_fen": 1_000}},
    )
    assert countered["negotiation"]["refusal"] is None  # the refusal of the replaced terms is news no more


async def test_a_date_is_booked_once(fairground: Fairground):
    g = fairground
    first = await g.propose(g.centre, g.show, quantity=2, dates=["2023-04-01", "2023-04-08"])
    second = await g.propose(g.library, g.show, quantity=1, dates=["2023-04-08"])
    await g.do(g.troupe, "negotiation.accept", {"negotiation_id": first["id"], "version": 1})
    await refused(
        g.do(g.troupe, "negotiation.accept", {"negotiation_id": second["id"], "version": 1}), Code.date_unavailable
    )
    await refused(g.propose(g.community, g.show, quantity=1, dates=["2023-04-01"]), Code.date_unavailable)
    # The library moves its request to the last free date, and gets it.
    terms = {"quantity": 1, "unit_price_fen": 200_000, "dates": ["2023-04-15"], "funding": "self_funded"}
    await g.do(g.library, "negotiation.counter", {"negotiation_id": second["id"], "base_version": 1, "terms": terms})
    order = await g.do(g.troupe, "negotiation.accept", {"negotiation_id": second["id"], "version": 2})
    assert order["order"]["offering"] == {"id": g.show, "sold": 3, "remaining": 0, "taken_dates": ["2023-04-15"]}


async def test_the_government_budget_is_never_overspent(fairground: Fairground):
    g = fairground
    order = await g.order(g.community, g.troupe, g.lecture, quantity=2)  # exactly its ¥1,000
    assert order["budget"]["remaining_fen"] == 0
    negotiation = await g.propose(g.community, g.books, quantity=1)
    before = await g.state(ignore=REFUSAL_TRACE)
    error = await refused(
        g.do(g.bookseller, "negotiation.accept", {"negotiation_id": negotiation["id"], "version": 1}),
        Code.budget_exceeded,
    )
    assert error.message("zh_CN") == "采购方的政府预算不足以支付此订单。"  # the booth accepted: no figures for it
    assert_only_the_refusal_was_noted(before, await g.state(ignore=REFUSAL_TRACE))


async def test_self_funded_orders_draw_a_subsidy_from_the_pool_not_the_budget(fairground: Fairground):
    g = fairground
    order = await g.order(g.community, g.troupe, g.show, quantity=1, dates=["2023-04-01"], funding="self_funded")
    assert (order["order"]["government_fen"], order["order"]["subsidy_fen"]) == (0, 60_000)  # 30 % of ¥2,000
    assert order["budget"] == {
        "budget_fen": 100_000,
        "spent_fen": 0,
        "remaining_fen": 100_000,
        "self_funded_fen": 200_000,
        "subsidy_fen": 60_000,
    }
    negotiation = await g.propose(g.library, g.show, quantity=1, dates=["2023-04-08"], funding="self_funded")
    before = await g.state(ignore=REFUSAL_TRACE)
    error = await refused(
        g.do(g.troupe, "negotiation.accept", {"negotiation_id": negotiation["id"], "version": 1}),
        Code.subsidy_pool_exhausted,
    )
    assert "¥300.00" in error.message("en")  # what is left of the ¥900 pool
    assert_only_the_refusal_was_noted(before, await g.state(ignore=REFUSAL_TRACE))


async def test_the_subsidy_is_rounded_down_to_the_fen(fairground: Fairground):
    g = fairground
    await g.do(g.organiser, "fair.configure", {"subsidy_rate_bp": 3333})
    order = await g.order(g.centre, g.bookseller, g.books, quantity=1, unit_price_fen=1_001, funding="self_funded")
    assert order["order"]["subsidy_fen"] == 333  # 1001 × 33.33 % = 333.63


async def test_withdrawing_an_offering_expires_its_negotiations_but_keeps_its_orders(fairground: Fairground):
    g = fairground
    order = await g.order(g.centre, g.troupe, g.lecture)
    open_one = await g.propose(g.library, g.lecture)
    withdrawn = await g.do(g.troupe, "offering.withdraw", {"offering_id": g.lecture})
    assert withdrawn["offering"]["status"] == "withdrawn" and withdrawn["offering"]["sold"] == 1
    state = await g.state()
    assert [n["state"] for n in state["negotiation"]] == ["confirmed", "expired"]
    assert [o["id"] for o in state["purchase_order"]] == [order["order"]["id"]]
    await refused(g.do(g.community, "negotiation.open", {"offering_id": g.lecture}), Code.invalid_state)
    await refused(
        g.do(g.library, "negotiation.accept", {"negotiation_id": open_one["id"], "version": 1}), Code.invalid_state
    )


async def test_closing_the_fair_expires_what_was_not_confirmed(fairground: Fairground):
    g = fairground
    await g.order(g.centre, g.troupe, g.lecture)
    pending = await g.propose(g.library, g.books)
    closed = await g.do(g.organiser, "fair.close")
    assert closed["fair"]["state"] == "closed"
    state = await g.state()
    assert [n["state"] for n in state["negotiation"]] == ["confirmed", "expired"]
    await refused(g.do(g.community, "negotiation.open", {"offering_id": g.books}), Code.fair_not_open)
    await refused(
        g.do(g.bookseller, "negotiation.accept", {"negotiation_id": pending["id"], "version": 1}), Code.fair_not_open
    )


async def test_an_unapproved_team_cannot_negotiate(fairground: Fairground):
    g = fairground
    await g.do(g.organiser, "team.approve", {"team_id": g.community.party_id, "approved": False})
    before = await g.state()
    error = await refused(g.propose(g.community, g.books), Code.forbidden)
    assert error.message("zh_CN")
    assert await g.state() == before


async def test_nobody_deals_with_an_unapproved_party(fairground: Fairground):
    g = fairground
    negotiation = await g.propose(g.community, g.lecture)
    await g.do(g.organiser, "team.approve", {"team_id": g.community.party_id, "approved": False})
    before = await g.state()
    error = await refused(
        g.do(g.troupe, "negotiation.accept", {"negotiation_id": negotiation["id"], "version": 1}), Code.forbidden
    )
    assert error.message("en") == "The other party is not approved at this fair."
    await g.do(g.organiser, "supplier.approve", {"supplier_id": g.bookseller.party_id, "approved": False})
    await refused(g.do(g.centre, "negotiation.open", {"offering_id": g.books}), Code.forbidden)
    assert (await g.state())["purchase_order"] == before["purchase_order"] == []


async def test_a_supplier_never_learns_what_is_left_of_a_teams_budget(fairground: Fairground):
    g = fairground
    negotiation = await g.propose(g.community, g.books, quantity=50)  # ¥1,500 against ¥1,000
    to_supplier = await refused(
        g.do(g.bookseller, "negotiation.accept", {"negotiation_id": negotiation["id"], "version": 1}),
        Code.budget_exceeded,
    )
    assert to_supplier.message("en") == "The buyer's government budget cannot cover this order."
    state = await g.state()
    noted = state["negotiation"][0]["refusal"]
    assert noted["code"] == "budget_exceeded" and noted["params"] == {} and noted["by"] == "supplier"
    assert "1,000" not in str(state["event"][-1]["payload"])
    # The team, accepting a supplier's terms itself, is told its own figures.
    countered = await g.do(
        g.bookseller,
        "negotiation.counter",
        {"negotiation_id": negotiation["id"], "base_version": 1, "terms": {"quantity": 50, "unit_price_fen": 2_500}},
    )
    to_team = await refused(
        g.do(g.community, "negotiation.accept", {"negotiation_id": negotiation["id"], "version": 2}),
        Code.budget_exceeded,
    )
    assert countered["negotiation"]["version"] == 2
    assert to_team.message("en") == "This order costs ¥1,250.00 but only ¥1,000.00 of the budget is left."
