"""Announcements reach the screens they are meant for, and only those; the board shows the ones for it."""

from __future__ import annotations

import pytest

from fair.core import Actor, Code, FairError
from fair.core.announcements import BOARD_TEXT_MAX
from tests.fairground import Fairground, refused
from tests.truth import assert_events_tell_the_truth, screens_of, views


def everyone(g: Fairground) -> list[Actor]:
    return [*screens_of(g), Actor.resident(g.fair_id, "phone")]


async def test_each_announcement_reaches_its_readers_only(fairground: Fairground):
    g = fairground
    before = await views(g.db, everyone(g))
    sent = {}
    for audience, district, on_board in (
        ("everyone", "", True),
        ("teams", "", False),
        ("booths", "", False),
        ("district", "玄武区", False),
    ):
        text = f"致{audience}"
        data = {"audience": audience, "district": district, "text": text, "on_board": on_board}
        sent[audience] = (await g.do(g.organiser, "announcement.send", data))["announcement"]["id"]
    shown = await views(g.db, everyone(g))

    def texts(actor: Actor) -> set[str]:
        return {a["text"] for a in shown[actor.key]["announcements"]}

    assert texts(g.organiser) == {"致everyone", "致teams", "致booths", "致district"}
    assert texts(g.centre) == {"致everyone", "致teams"}  # a city-level team is in no district
    assert texts(g.library) == {"致everyone", "致teams", "致district"}  # Xuanwu
    assert texts(g.troupe) == {"致everyone", "致booths"}
    assert texts(Actor.public(g.fair_id)) == texts(Actor.resident(g.fair_id, "phone")) == {"致everyone"}
    await g.do(g.organiser, "announcement.withdraw", {"announcement_id": sent["everyone"]})
    shown = await views(g.db, everyone(g))
    assert texts(Actor.public(g.fair_id)) == set()
    assert [a["withdrawn"] for a in shown["organiser"]["announcements"] if a["text"] == "致everyone"] == [True]
    await assert_events_tell_the_truth(g.db, everyone(g), before)


@pytest.mark.parametrize(
    "payload",
    [
        {"audience": "district", "text": "没有区"},
        {"audience": "teams", "district": "玄武区", "text": "多了区"},
        {"audience": "everyone", "text": "x"},
        {"audience": "nobody", "text": "谁也不给"},
        {"audience": "everyone", "text": "\u202e颠倒"},
    ],
)
async def test_a_wrong_announcement_is_refused_and_sends_nothing(fairground: Fairground, payload):
    g = fairground
    before = await g.state()
    with pytest.raises(FairError) as caught:
        await g.do(g.organiser, "announcement.send", payload)
    assert caught.value.code == Code.invalid_input
    assert await g.state() == before
    with pytest.raises(FairError) as caught:
        await g.do(g.library, "announcement.send", {"audience": "everyone", "text": "我也发"})
    assert caught.value.code == Code.forbidden


async def test_the_board_takes_one_line_and_refuses_a_longer_announcement_changing_nothing(fairground: Fairground):
    g = fairground
    line = "各采购团请注意：下午两点起在三号厅集中签约，请携带单位公章和采购计划，谢谢配合！"[:BOARD_TEXT_MAX]
    assert len(line) == BOARD_TEXT_MAX
    before = await g.state()
    error = await refused(
        g.do(g.organiser, "announcement.send", {"audience": "everyone", "text": line + "。", "on_board": True}),
        Code.invalid_input,
    )
    assert await g.state() == before
    assert error.message("zh_CN") == (
        f"大屏公告最多 {BOARD_TEXT_MAX} 个字，这条有 {BOARD_TEXT_MAX + 1} 个字。请缩短，或只发到各屏幕、不上大屏。"
    )
    assert error.message("en").startswith(f"An announcement on the board holds at most {BOARD_TEXT_MAX} characters")
    # One that fits goes to the board; the same words and more go to the screens alone, as before.
    await g.do(g.organiser, "announcement.send", {"audience": "everyone", "text": line, "on_board": True})
    await g.do(g.organiser, "announcement.send", {"audience": "teams", "text": line * 5, "on_board": False})
    shown = (await views(g.db, [Actor.public(g.fair_id)]))["public"]["announcements"]
    assert [a["text"] for a in shown] == [line]
