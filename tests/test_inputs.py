"""Bad input of every kind is refused with invalid_input, and changes nothing."""

from __future__ import annotations

import pytest

from fair.core import Code, FairError, execute
from tests.fairground import Fairground, refused

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


SPOOFS = {
    "right-to-left override": "越剧\u202e剧越",
    "zero-width space": "越剧\u200b专场",
    "zero-width joiner": "越剧\u200d专场",
    "byte order mark": "\ufeff越剧专场",
    "NUL": "越剧\x00专场",
    "escape": "越剧\x1b[31m专场",
    "line separator": "越剧\u2028专场",
    "private use": "越剧\ue000专场",
}


@pytest.mark.parametrize("text", SPOOFS.values(), ids=SPOOFS.keys())
async def test_control_and_format_characters_are_refused_in_text(fairground: Fairground, text):
    """Issue 8, finding 10: bidi, zero-width and NUL characters reached the public board (and NUL PostgreSQL)."""
    g = fairground
    before = await g.state()
    offering = {"category": "lecture", "title": "越剧讲座", "unit": "讲", "unit_price_fen": 1, "capacity": 1}
    attempts = [
        (g.troupe, "offering.publish", {**offering, "title": text}),
        (g.troupe, "offering.publish", {**offering, "description": text}),
        (g.troupe, "offering.publish", {**offering, "audience": [text]}),
        (g.troupe, "offering.update", {"offering_id": g.lecture, "title": text}),
        (g.organiser, "supplier.register", {"name": text, "booth": "Z1"}),
        (g.organiser, "supplier.register", {"name": "剧团", "booth": text[:20]}),
        (g.organiser, "team.register", {"name": text, "kind": "street", "district": "鼓楼区"}),
        (g.organiser, "access.issue", {"kind": "projector", "label": text}),
        (g.centre, "negotiation.open", {"offering_id": g.lecture, "terms": {**GOOD_TERMS, "venue": text}}),
        (g.centre, "negotiation.open", {"offering_id": g.lecture, "terms": {**GOOD_TERMS, "message": text}}),
    ]
    for actor, command, payload in attempts:
        error = await refused(g.do(actor, command, payload), Code.invalid_input)
        assert "cannot be shown: U+" in error.message("en"), (command, error.message("en"))
        assert "无法显示的字符" in error.message("zh_CN") and "个字符 U+" in error.message("zh_CN")
    assert await g.state() == before


@pytest.mark.parametrize("text", ["全家 👨\u200d👩\u200d👧 来看", "❤️\u200d🔥 好戏", "👍🏽 赞", "🇨🇳 国风"])
async def test_emoji_sequences_phones_type_are_text(fairground: Fairground, text):
    g = fairground
    offering = {"category": "lecture", "title": text, "unit": "讲", "unit_price_fen": 1, "capacity": 1}
    assert (await g.do(g.troupe, "offering.publish", offering))["offering"]["title"] == text


async def test_text_is_nfc_normalised_and_multi_line_text_keeps_its_lines(fairground: Fairground):
    g = fairground
    decomposed = "Cafe\u0301 越剧"  # e + combining acute accent
    published = await g.do(
        g.troupe,
        "offering.publish",
        {
            "category": "lecture",
            "title": decomposed,
            "description": "第一行\r\n第二行\n\t缩进的第三行",
            "unit": "讲",
            "unit_price_fen": 1,
            "capacity": 1,
        },
    )
    offering = published["offering"]
    assert offering["title"] == "Caf\u00e9 越剧"
    assert offering["description"] == "第一行\n第二行\n\t缩进的第三行"
    # Ideographic spaces and emoji are text, not controls.
    team = {"name": "鼓楼\u3000社区 🎭", "kind": "street", "district": "鼓楼区"}
    named = await g.do(g.organiser, "team.register", team)
    assert named["team"]["name"] == "鼓楼\u3000社区 🎭"
    await refused(g.do(g.troupe, "offering.update", {"offering_id": g.lecture, "title": "两\n行"}), Code.invalid_input)
