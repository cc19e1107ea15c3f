"""Two-sided interests (issue 22, b2match's "looking for / offering"): a team says what it looks for, a booth what it
does best; both count in the ranking both ways, a mutual fit is flagged on both sides, and each reason recounts."""

from __future__ import annotations

import pytest

from fair import scenarios
from fair.core import Code, queries
from fair.core.matching import MUTUAL, MUTUAL_FOR_BOOTH
from tests.fairground import Fairground, refused
from tests.truth import assert_events_tell_the_truth, screens_of, views


async def recommended(g: Fairground, actor) -> list[dict]:
    async with g.db.read() as session:
        return await queries.recommendations(session, actor)


async def test_a_team_and_a_booth_say_what_they_look_for_and_do_best_and_meet_both_ways(fairground: Fairground):
    g = fairground
    before = await views(g.db, screens_of(g))
    score = {r["offering_id"]: r["score"] for r in await recommended(g, g.library)}
    said = await g.do(g.library, "interests.set", {"categories": ["books"], "audiences": ["少儿"]})
    assert said["team"]["interests"] == {"categories": ["books"], "audiences": ["少儿"]}
    books = next(r for r in await recommended(g, g.library) if r["offering_id"] == g.books)
    assert {"msgid": "what your team looks for", "params": {"category_label": "books"}} in books["reasons"]
    assert books["score"] == pytest.approx(score[g.books] + 1.0) and books["mutual"] is False

    await g.do(g.bookseller, "interests.set", {"categories": ["books"]})
    books = next(r for r in await recommended(g, g.library) if r["offering_id"] == g.books)
    mutual = {"msgid": MUTUAL, "params": {"category_label": "books"}}
    assert mutual in books["reasons"] and books["mutual"] is True
    for reason in books["reasons"]:
        async with g.db.read() as session:
            assert await scenarios.check_reason(session, g.library, g.books, reason), reason
    met = {r["team_id"]: r for r in await recommended(g, g.bookseller)}
    assert met[g.library.party_id]["mutual"] is True and met[g.community.party_id]["mutual"] is False
    assert {"msgid": MUTUAL_FOR_BOOTH, "params": {"category_label": "books"}} in met[g.library.party_id]["reasons"]
    await assert_events_tell_the_truth(g.db, screens_of(g), before)

    await g.do(g.library, "interests.set", {})  # no preference any more
    assert all(not r["mutual"] for r in await recommended(g, g.library))


@pytest.mark.parametrize(
    "payload",
    [
        {"categories": ["opera"]},
        {"categories": ["books", "books"]},
        {"audiences": ["外星人"]},
        {"categories": "books"},
    ],
)
async def test_interests_that_are_not_the_fair_s_words_are_refused_and_change_nothing(fairground: Fairground, payload):
    g = fairground
    before = await g.state()
    await refused(g.do(g.library, "interests.set", payload), Code.invalid_input)
    assert await g.state() == before


async def test_only_a_team_or_a_booth_says_its_own_interests(fairground: Fairground):
    g = fairground
    await refused(g.do(g.organiser, "interests.set", {"categories": ["books"]}), Code.forbidden)
