"""A negotiation's thread: every version of the terms and the two sides' messages, on both screens alike."""

from __future__ import annotations

import pytest

from fair.core import Code, FairError
from tests.fairground import Fairground
from tests.truth import assert_events_tell_the_truth, screens_of, views


async def test_every_version_and_message_is_in_the_thread_of_both_sides(fairground: Fairground):
    g = fairground
    before = await views(g.db, screens_of(g))
    negotiation = await g.propose(g.library, g.lecture, quantity=2, message="周末下午")
    await g.do(g.troupe, "negotiation.message", {"negotiation_id": negotiation["id"], "text": "周六可以吗？"})
    await g.do(
        g.troupe,
        "negotiation.counter",
        {"negotiation_id": negotiation["id"], "base_version": 1, "terms": {"quantity": 2, "unit_price_fen": 48_000}},
    )
    await g.do(g.library, "negotiation.message", {"negotiation_id": negotiation["id"], "text": "可以，\n谢谢"})
    await g.do(g.library, "negotiation.accept", {"negotiation_id": negotiation["id"], "version": 2})
    await g.do(g.troupe, "negotiation.message", {"negotiation_id": negotiation["id"], "text": "场地地址请发我"})
    shown = await views(g.db, [g.library, g.troupe, g.organiser])
    for key in (g.library.key, g.troupe.key, "organiser"):
        (thread,) = shown[key]["negotiations"]
        assert [(v["version"], v["author"]) for v in thread["history"]] == [(1, "team"), (2, "supplier")]
        assert [(m["author"], m["text"]) for m in thread["messages"]] == [
            ("supplier", "周六可以吗？"),
            ("team", "可以，\n谢谢"),
            ("supplier", "场地地址请发我"),
        ]
    await assert_events_tell_the_truth(g.db, screens_of(g), before)


async def test_only_the_two_sides_write_and_read_a_thread(fairground: Fairground):
    g = fairground
    negotiation = await g.propose(g.library, g.lecture)
    for outsider, code in (
        (g.community, Code.not_a_party),
        (g.bookseller, Code.not_a_party),
        (g.organiser, Code.forbidden),
    ):
        with pytest.raises(FairError) as caught:
            await g.do(outsider, "negotiation.message", {"negotiation_id": negotiation["id"], "text": "我也来说一句"})
        assert caught.value.code == code
    for bad in ("", "\u202e反转", "长" * 301):
        with pytest.raises(FairError) as caught:
            await g.do(g.library, "negotiation.message", {"negotiation_id": negotiation["id"], "text": bad})
        assert caught.value.code == Code.invalid_input
    shown = await views(g.db, [g.community])
    assert shown[g.community.key]["negotiations"] == []
