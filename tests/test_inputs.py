"""Bad input of every kind is refused with invalid_input, and changes nothing."""

from __future__ import annotations

import pytest

from fair.core import Code, FairError, execute
from tests.fairground import Fairground
from tests.test_negotiations import refused

GOOD_TERMS = {"quantity": 1, "unit_price_fen": 50_000}

BAD_PAYLOADS = [
    pytest.param("negotiation.open", None, id="not-an-object"),
    pytest.param("negotiation.open", [1, 2], id="a-list"),
    pytest.param("negotiation.open", {}, id="missing-field"),
    pytest.param("negotiation.open", {"offering_id": "2"}, id="number-as-text"),
    pytest.param("negotiation.open", {"offering_id": 2.0}, id="float-id"),
    pytest.param("negotiation.open", {"offering_id": True}, id="bool-id"),
    pytest.param("negotiation.open", {"offering_id": 2, "admin": True}, id="extra-field"),
    pytest.param("negotiation.open", {"offering_id": -1}, id="negative-id"),
    pytest.param("negotiation.open", {"offering_id": 2**80}, id="huge-id"),
    pytest.param("negotiation.open", {"offering_id": 2, "terms": {**GOOD_TERMS, "quantity": 0}}, id="zero-quantity"),
    pytest.param("negotiation.open", {"offering_id": 2, "terms": {**GOOD_TERMS, "quantity": -3}}, id="negative-qty"),
    pytest.param(
        "negotiation.open", {"offering_id": 2, "terms": {**GOOD_TERMS, "unit_price_fen": -1}}, id="negative-price"
    ),
    pytest.param(
        "negotiation.open", {"offering_id": 2, "terms": {**GOOD_TERMS, "unit_price_fen": 10**30}}, id="huge-price"
    ),
    pytest.param(
        "negotiation.open", {"offering_id": 2, "terms": {**GOOD_TERMS, "unit_price_fen": 0.5}}, id="fractional-fen"
    ),
    pytest.param(
        "negotiation.open", {"offering_id": 2, "terms": {**GOOD_TERMS, "message": "长" * 1_000_000}}, id="megabyte"
    ),
    pytest.param(
        "negotiation.open", {"offering_id": 2, "terms": {**GOOD_TERMS, "funding": "lottery"}}, id="unknown-funding"
    ),
    pytest.param(
        "negotiation.open", {"offering_id": 2, "terms": {**GOOD_TERMS, "dates": ["2023-02-30"]}}, id="no-such-day"
    ),
    pytest.param(
        "negotiation.open",
        {"offering_id": 1, "terms": {**GOOD_TERMS, "quantity": 2, "dates": ["2023-04-01", "2023-04-01"]}},
        id="repeated-day",
    ),
    pytest.param("negotiation.accept", {"negotiation_id": 1, "version": "1"}, id="version-as-text"),
    pytest.param("team.set_budget", {"team_id": 1, "budget_fen": 10**13}, id="budget-too-large"),
    pytest.param(
        "offering.publish",
        {"category": "magic", "title": "x", "unit": "场", "unit_price_fen": 1, "capacity": 1},
        id="unknown-category",
    ),
    pytest.param("team.register", {"name": "某队", "kind": "street", "district": "上海"}, id="unknown-district"),
]


@pytest.mark.parametrize(("command", "payload"), BAD_PAYLOADS)
async def test_bad_payloads_are_refused_and_change_nothing(fairground: Fairground, command, payload):
    g = fairground
    actor = {"negotiation": g.centre, "team": g.organiser, "offering": g.troupe}[command.split(".")[0]]
    before = await g.state()
    error = await refused(g.do(actor, command, payload), Code.invalid_input)
    assert error.message("zh_CN") != error.message("en")
    assert await g.state() == before


@pytest.mark.parametrize("request_id", [None, "", 7, "x" * 65, "有空格 的", "a/b"])
async def test_a_change_without_a_good_request_id_is_refused(fairground: Fairground, request_id):
    g = fairground
    before = await g.state()
    with pytest.raises(FairError) as caught:
        await execute(g.db, g.centre, "negotiation.open", {"offering_id": g.lecture}, request_id)
    assert caught.value.code == Code.invalid_input
    assert await g.state() == before


async def test_an_unknown_command_is_refused(fairground: Fairground):
    g = fairground
    error = await refused(g.do(g.centre, "order.steal", {}), Code.invalid_input)
    assert error.message("zh_CN") == "未知指令 order.steal。"


async def test_messages_name_the_field_in_both_languages(fairground: Fairground):
    g = fairground
    error = await refused(g.do(g.centre, "negotiation.open", {"offering_id": "2"}), Code.invalid_input)
    assert error.message("en") == "The field offering_id must be a whole number."
    assert error.message("zh_CN") == "字段 offering_id 必须是整数。"
