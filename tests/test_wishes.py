"""Residents' wishes: submitted, moderated, supported once per person, merged, and answered by orders."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from fair.core import Actor, Code, FairError, Role, queries
from fair.models import Wish, WishSupport
from tests.fairground import Fairground, refused
from tests.pauses import hold_then_race
from tests.test_concurrency import settle
from tests.truth import assert_events_tell_the_truth, screens_of, views

WISH = {
    "district": "玄武区",
    "street": "玄武门街道",
    "category": "lecture",
    "audience": "老年人",
    "text": "希望社区有养生讲座",
}


@pytest.fixture(autouse=True)
async def phones(fairground: Fairground) -> None:
    await fairground.confirm("phone-1", "phone-2", "phone-3")


def resident(g: Fairground, phone: str = "phone-1") -> Actor:
    return g.resident(phone)


def everyone(g: Fairground) -> list[Actor]:
    return [*screens_of(g), resident(g), resident(g, "phone-2")]


async def approved_wish(g: Fairground, **changes) -> dict:
    wish = (await g.do(resident(g), "wish.submit", WISH | changes))["wish"]
    return (await g.do(g.organiser, "wish.moderate", {"wish_id": wish["id"], "decision": "approve"}))["wish"]


async def test_a_wish_is_public_only_once_approved(fairground: Fairground):
    g = fairground
    before = await views(g.db, everyone(g))
    submitted = (await g.do(resident(g), "wish.submit", WISH))["wish"]
    assert (submitted["status"], submitted["supports"]) == ("pending", 1)
    shown = await views(g.db, everyone(g))
    assert [w["id"] for w in shown["organiser"]["wishes"]] == [submitted["id"]]
    assert shown[f"team:{g.library.party_id}"]["wishes"] == []
    assert shown[resident(g).key]["wishes"] == []
    await g.do(g.organiser, "wish.moderate", {"wish_id": submitted["id"], "decision": "approve"})
    shown = await views(g.db, everyone(g))
    assert [w["text"] for w in shown[resident(g, "phone-2").key]["wishes"]] == [WISH["text"]]
    assert [w["id"] for w in shown[f"supplier:{g.troupe.party_id}"]["wishes"]] == [submitted["id"]]
    assert "device" not in shown["organiser"]["wishes"][0]
    await assert_events_tell_the_truth(g.db, everyone(g), before)


async def test_one_support_per_person_per_wish_ever(fairground: Fairground):
    g = fairground
    wish = await approved_wish(g)
    await refused(g.do(resident(g), "wish.support", {"wish_id": wish["id"]}), Code.duplicate)  # the author
    supported = await g.do(resident(g, "phone-2"), "wish.support", {"wish_id": wish["id"]})
    assert supported["wish"]["supports"] == 2
    error = await refused(g.do(resident(g, "phone-2"), "wish.support", {"wish_id": wish["id"]}), Code.duplicate)
    assert error.message("zh_CN") == "您已经支持过这条需求：每人只计一次。"
    # The same person on another browser (a fresh cookie) is the same resident: still once.
    elsewhere = Actor.resident(g.fair_id, "a-fresh-cookie", g.resident_ids["phone-2"])
    await refused(g.do(elsewhere, "wish.support", {"wish_id": wish["id"]}), Code.duplicate)
    assert (await g.do(resident(g, "phone-3"), "wish.support", {"wish_id": wish["id"]}))["wish"]["supports"] == 3


@pytest.mark.parametrize("held_at", [r"^INSERT INTO event", r"^INSERT INTO wish_support"])
async def test_two_people_supporting_at_once_are_both_counted(fairground: Fairground, held_at: str):
    """On PostgreSQL the first support is held mid-way (after its recount, or before its row) while the second
    comes: the second waits for the wish's lock and counts both, so the count shown is a recount of people."""
    g = fairground
    wish = await approved_wish(g)
    first, second = await hold_then_race(
        g.db,
        "first",
        held_at,
        settle(g, resident(g, "phone-2"), "wish.support", {"wish_id": wish["id"]}),
        settle(g, resident(g, "phone-3"), "wish.support", {"wish_id": wish["id"]}),
    )
    assert not isinstance(first, FairError) and not isinstance(second, FairError), (first, second)
    async with g.db.read() as session:
        people = (await session.exec(select(func.count()).where(WishSupport.wish_id == wish["id"]))).one()
        shown = (await session.get(Wish, wish["id"])).supports
    assert people == shown == 3  # the author, phone-2 and phone-3
    assert max(first["wish"]["supports"], second["wish"]["supports"]) == 3  # and the last event says so


async def test_a_phone_without_a_confirmed_number_may_wish_but_not_support(fairground: Fairground):
    g = fairground
    wish = await approved_wish(g)
    stranger = Actor.resident(g.fair_id, "no-number")
    before = await g.state()
    error = await refused(g.do(stranger, "wish.support", {"wish_id": wish["id"]}), Code.unconfirmed)
    assert "手机号" in error.message("zh_CN")
    assert await g.state() == before
    submitted = (await g.do(stranger, "wish.submit", WISH | {"text": "希望有周末亲子活动"}))["wish"]
    assert (submitted["status"], submitted["supports"]) == ("pending", 0)  # nobody proven stands behind it yet


async def test_a_pending_or_rejected_wish_cannot_be_supported(fairground: Fairground):
    g = fairground
    wish = (await g.do(resident(g), "wish.submit", WISH))["wish"]
    await refused(g.do(resident(g, "phone-2"), "wish.support", {"wish_id": wish["id"]}), Code.invalid_state)
    await refused(g.do(g.organiser, "wish.moderate", {"wish_id": wish["id"], "decision": "reject"}), Code.invalid_input)
    rejected = await g.do(
        g.organiser, "wish.moderate", {"wish_id": wish["id"], "decision": "reject", "reason": "不属于公共文化服务"}
    )
    assert rejected["wish"]["reason"] == "不属于公共文化服务"
    await refused(g.do(resident(g, "phone-2"), "wish.support", {"wish_id": wish["id"]}), Code.invalid_state)


@pytest.mark.parametrize("confirmed", [True, False])
async def test_a_resident_or_a_device_sends_at_most_five_wishes_a_day(fairground: Fairground, confirmed: bool):
    g = fairground
    author = resident(g) if confirmed else Actor.resident(g.fair_id, "no-number")
    for number in range(5):
        await g.do(author, "wish.submit", WISH | {"text": f"第{number}个愿望"})
    before = await g.state()
    await refused(g.do(author, "wish.submit", WISH | {"text": "第六个愿望"}), Code.rate_limited)
    if confirmed:  # the person, on a fresh cookie, is still the person
        fresh = Actor.resident(g.fair_id, "fresh", author.resident_id)
        await refused(g.do(fresh, "wish.submit", WISH), Code.rate_limited)
    assert await g.state() == before
    await g.do(resident(g, "phone-2"), "wish.submit", WISH)


@pytest.mark.parametrize(
    "abuse",
    [
        {"text": "<script>alert(1)</script>"},
        {"text": "好的\x00讲座"},
        {"text": "讲座\u202e座讲"},  # a bidi override turns the text around on screen
        {"text": "讲\u200b座讲座"},  # a zero-width space hides a duplicate
        {"text": "讲座" * 200},
        {"street": "<b>街道</b>"},
        {"district": "火星区"},
        {"audience": "所有人"},
        {"text": "讲座", "extra": 1},
    ],
)
async def test_abusive_wishes_are_refused_and_leave_nothing(fairground: Fairground, abuse):
    g = fairground
    before = await g.state()
    await refused(g.do(resident(g), "wish.submit", WISH | abuse), Code.invalid_input)
    assert await g.state() == before


async def test_near_duplicates_share_a_likeness_whoever_sends_them(fairground: Fairground):
    g = fairground
    texts = ["希望社区有养生讲座！", "希望社区有 养生讲座 🙏", "希望社区有养生讲座。。", "想看越剧"]
    sent = [
        (await g.do(resident(g, f"phone-{n % 3 + 1}"), "wish.submit", WISH | {"text": t}))["wish"]
        for n, t in enumerate(texts)
    ]
    assert len({w["likeness"] for w in sent[:3]}) == 1 and sent[3]["likeness"] != sent[0]["likeness"]
    async with g.db.read() as session:
        shown = await queries.wishes(session, g.organiser)
    assert {w["id"]: w["likeness"] for w in shown} == {w["id"]: w["likeness"] for w in sent}


async def test_the_organiser_sees_which_wishes_one_sender_sent_and_nobody_else_does(fairground: Fairground):
    g = fairground
    before = await views(g.db, everyone(g))
    sent = [
        (await g.do(actor, "wish.submit", WISH | {"text": text}))["wish"]
        for actor, text in [
            (resident(g), "想看越剧"),
            (resident(g), "周末有亲子阅读吗"),  # the same person, other words
            (resident(g, "phone-2"), "想看越剧"),
            (Actor.resident(g.fair_id, "no-number"), "想学书法"),
            (Actor.resident(g.fair_id, "no-number"), "想学剪纸"),
        ]
    ]
    marks = [w["author"] for w in sent]
    assert marks[0] == marks[1] and marks[3] == marks[4] and len({marks[0], marks[2], marks[3]}) == 3
    for wish in sent:
        await g.do(g.organiser, "wish.moderate", {"wish_id": wish["id"], "decision": "approve"})
    shown = await views(g.db, everyone(g))
    assert {w["id"]: w["author"] for w in shown[g.organiser.key]["wishes"]} == {w["id"]: w["author"] for w in sent}
    for actor in everyone(g):  # residents and the hall see the wishes (the board none), never who sent them
        if actor != g.organiser and actor.role != Role.public:
            assert len(shown[actor.key]["wishes"]) == 5 and all("author" not in w for w in shown[actor.key]["wishes"])
    await assert_events_tell_the_truth(g.db, everyone(g), before)


async def test_text_is_kept_in_one_normal_form(fairground: Fairground):
    g = fairground
    wish = (await g.do(resident(g), "wish.submit", WISH | {"text": "  Cafe\u0301 讲座  "}))["wish"]
    assert wish["text"] == "Café 讲座"


async def test_merging_a_duplicate_brings_its_supporters_to_the_original_each_counted_once(fairground: Fairground):
    g = fairground
    before = await views(g.db, everyone(g))
    original = await approved_wish(g)  # phone-1 wrote (and so supports) both
    duplicate = await approved_wish(g, text="想听老年养生讲座")
    await g.do(resident(g, "phone-2"), "wish.support", {"wish_id": duplicate["id"]})
    merged = await g.do(
        g.organiser, "wish.moderate", {"wish_id": duplicate["id"], "decision": "merge", "into": original["id"]}
    )
    assert (merged["wish"]["status"], merged["wish"]["merged_into"]) == ("merged", original["id"])
    shown = await views(g.db, everyone(g))
    public = shown[resident(g, "phone-2").key]["wishes"]
    assert [(w["id"], w["supports"]) for w in public] == [(original["id"], 2)]  # phone-1 and phone-2, not 1 + 2
    supported = await g.do(resident(g, "phone-3"), "wish.support", {"wish_id": duplicate["id"]})
    assert (supported["wish"]["id"], supported["wish"]["supports"]) == (original["id"], 3)
    await refused(g.do(resident(g, "phone-2"), "wish.support", {"wish_id": original["id"]}), Code.duplicate)
    await refused(
        g.do(g.organiser, "wish.moderate", {"wish_id": original["id"], "decision": "merge", "into": original["id"]}),
        Code.invalid_input,
    )
    await assert_events_tell_the_truth(g.db, everyone(g), before)


async def test_an_order_answers_a_wish_and_the_wish_says_so(fairground: Fairground):
    g = fairground
    before = await views(g.db, everyone(g))
    wish = await approved_wish(g)
    order = (await g.order(g.library, g.troupe, g.lecture, wish_id=wish["id"]))["order"]
    assert order["wish_id"] == wish["id"]
    shown = await views(g.db, everyone(g))
    answers = shown[resident(g, "phone-2").key]["wishes"][0]["answers"]
    assert [(a["order_id"], a["team_name"], a["offering_title"]) for a in answers] == [
        (order["id"], "玄武区图书馆", "越剧艺术漫谈")
    ]
    assert "amount_fen" not in answers[0]  # the public learns who answered, not for how much
    await refused(
        g.do(g.organiser, "wish.moderate", {"wish_id": wish["id"], "decision": "reject", "reason": "重复"}),
        Code.invalid_state,
    )
    await assert_events_tell_the_truth(g.db, everyone(g), before)


async def test_terms_may_name_only_a_public_wish_of_the_team_s_district_and_the_offering_s_kind(
    fairground: Fairground,
):
    g = fairground
    elsewhere = await approved_wish(g, district="鼓楼区", street="湖南路街道")
    books_wanted = await approved_wish(g, category="books")
    pending = (await g.do(resident(g, "phone-9"), "wish.submit", WISH))["wish"]
    terms = {"quantity": 1, "unit_price_fen": 50_000}
    for wish, code in (
        (elsewhere, Code.invalid_input),
        (books_wanted, Code.invalid_input),
        (pending, Code.invalid_state),
    ):
        await refused(
            g.do(g.library, "negotiation.open", {"offering_id": g.lecture, "terms": terms | {"wish_id": wish["id"]}}),
            code,
        )
    # A city-level team serves every district.
    opened = await g.do(
        g.centre, "negotiation.open", {"offering_id": g.lecture, "terms": terms | {"wish_id": elsewhere["id"]}}
    )
    assert opened["negotiation"]["terms"]["wish_id"] == elsewhere["id"]


async def test_an_order_whose_wish_was_merged_meanwhile_answers_the_original(fairground: Fairground):
    g = fairground
    original = await approved_wish(g)
    duplicate = await approved_wish(g, text="老年人养生讲座")
    negotiation = await g.propose(g.library, g.lecture, wish_id=duplicate["id"])
    await g.do(g.organiser, "wish.moderate", {"wish_id": duplicate["id"], "decision": "merge", "into": original["id"]})
    accepted = await g.do(g.troupe, "negotiation.accept", {"negotiation_id": negotiation["id"], "version": 1})
    assert accepted["order"]["order"]["wish_id"] == original["id"]
