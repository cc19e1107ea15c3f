"""Two-sided interests (issue 22, b2match's "looking for / offering"): a team says what it looks for, a booth what it
does best; both count in the ranking both ways, a mutual fit is flagged on both sides, and each reason recounts."""

from __future__ import annotations

import pytest

from fair import scenarios
from fair.core import Code, queries
from fair.core.matching import (
    FITS_VENUE,
    MUTUAL,
    MUTUAL_FOR_BOOTH,
    NOT_ON_WANTED_DAYS,
    ON_A_WANTED_DAY,
    THEME,
    VENUE_TOO_SMALL,
)
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
    assert said["team"]["interests"] == {
        "categories": ["books"],
        "audiences": ["少儿"],
        "themes": [],
        "dates": [],
        "venue_seats": 0,
    }
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


async def test_a_theme_finds_its_word_in_titles_whatever_the_kind_and_the_booth_sees_it_too(fairground: Fairground):
    g = fairground
    score = {r["offering_id"]: r["score"] for r in await recommended(g, g.library)}
    said = await g.do(g.library, "interests.set", {"themes": [" 越剧 "]})
    assert said["team"]["interests"]["themes"] == ["越剧"]  # the blanks around a word mean nothing
    shown = {r["offering_id"]: r for r in await recommended(g, g.library)}
    for offering in (g.show, g.lecture):  # 越剧《梁祝》专场 and 越剧艺术漫谈: a performance and a lecture
        assert {"msgid": THEME, "params": {"theme": "越剧"}} in shown[offering]["reasons"]
        assert shown[offering]["score"] == pytest.approx(score[offering] + 1.0)
        async with g.db.read() as session:
            for reason in shown[offering]["reasons"]:
                assert await scenarios.check_reason(session, g.library, offering, reason), reason
    assert shown[g.books]["score"] == pytest.approx(score[g.books])  # 送书下乡少儿读物: no 越剧 in it
    met = {r["team_id"]: r for r in await recommended(g, g.troupe)}
    assert {"msgid": "the team looks for %(theme)s", "params": {"theme": "越剧"}} in met[g.library.party_id]["reasons"]

    await g.do(g.troupe, "interests.set", {"themes": ["梁祝"]})  # what the booth does best, by a word of its own
    show = next(r for r in await recommended(g, g.library) if r["offering_id"] == g.show)
    assert show["mutual"] is True and {"msgid": MUTUAL, "params": {"category_label": "performances"}} in show["reasons"]
    async with g.db.read() as session:
        assert all([await scenarios.check_reason(session, g.library, g.show, r) for r in show["reasons"]])


async def test_the_days_a_team_wants_rank_a_dated_offering_up_where_it_is_free_then_and_down_where_it_is_not(
    fairground: Fairground,
):
    g = fairground  # the show is free on 1, 8 and 15 April
    score = {r["offering_id"]: r["score"] for r in await recommended(g, g.library)}
    await g.do(g.library, "interests.set", {"dates": ["2023-04-15", "2023-04-08", "2023-04-30"]})
    shown = {r["offering_id"]: r for r in await recommended(g, g.library)}
    on = {"msgid": ON_A_WANTED_DAY, "params": {"first_day": "2023-04-08", "days": 2}}
    assert on in shown[g.show]["reasons"] and shown[g.show]["score"] == pytest.approx(score[g.show] + 0.5)
    assert shown[g.books]["score"] == pytest.approx(score[g.books])  # books have no dates: neither up nor down
    async with g.db.read() as session:
        assert await scenarios.check_reason(session, g.library, g.show, on)
        assert not await scenarios.check_reason(
            session, g.library, g.show, on | {"params": {"first_day": "2023-04-01", "days": 2}}
        )

    await g.do(g.library, "interests.set", {"dates": ["2023-04-30"]})
    show = next(r for r in await recommended(g, g.library) if r["offering_id"] == g.show)
    against = {"msgid": NOT_ON_WANTED_DAYS, "params": {}, "against": True}
    assert against in show["reasons"] and show["score"] == pytest.approx(score[g.show] - 0.5)
    async with g.db.read() as session:
        assert await scenarios.check_reason(session, g.library, g.show, against)


async def test_an_offering_that_needs_a_bigger_hall_than_the_team_has_ranks_down_and_says_so(fairground: Fairground):
    g = fairground
    score = {r["offering_id"]: r["score"] for r in await recommended(g, g.library)}
    before = {r["team_id"]: r["offering_id"] for r in await recommended(g, g.troupe)}
    assert before[g.library.party_id] == before[g.centre.party_id] == g.show
    updated = await g.do(g.troupe, "offering.update", {"offering_id": g.show, "min_seats": 300})
    assert updated["offering"]["min_seats"] == 300
    unchanged = {r["offering_id"]: r["score"] for r in await recommended(g, g.library)}
    assert unchanged == score  # the team has not said what its venues hold: nothing is assumed
    await g.do(g.library, "interests.set", {"venue_seats": 200})
    shown = {r["offering_id"]: r for r in await recommended(g, g.library)}
    small = {"msgid": VENUE_TOO_SMALL, "params": {"venue_seats": 200, "min_seats": 300}, "against": True}
    assert small in shown[g.show]["reasons"] and shown[g.show]["score"] == pytest.approx(score[g.show] - 1.0)
    assert shown[g.books]["score"] == pytest.approx(score[g.books])  # books need no hall
    best = {r["team_id"]: r["offering_id"] for r in await recommended(g, g.troupe)}
    assert best[g.library.party_id] == g.lecture  # the booth's best fit for it is what fits its venue
    assert best[g.centre.party_id] == g.show  # the city's team said nothing of its venues: the show, as before
    await g.do(g.library, "interests.set", {"venue_seats": 300})
    show = next(r for r in await recommended(g, g.library) if r["offering_id"] == g.show)
    fits = {"msgid": FITS_VENUE, "params": {"venue_seats": 300, "min_seats": 300}}
    assert show["score"] == pytest.approx(score[g.show] + 0.25)
    async with g.db.read() as session:
        assert await scenarios.check_reason(session, g.library, g.show, fits)
        assert await scenarios.check_reason(session, g.library, g.show, small) is False  # no longer true
        for reason in show["reasons"]:
            assert await scenarios.check_reason(session, g.library, g.show, reason), reason


@pytest.mark.parametrize("seats", [-1, 100_001, "300", 1.5])
async def test_seats_that_are_no_number_of_seats_are_refused_and_change_nothing(fairground: Fairground, seats):
    g = fairground
    before = await g.state()
    await refused(g.do(g.troupe, "offering.update", {"offering_id": g.show, "min_seats": seats}), Code.invalid_input)
    await refused(g.do(g.library, "interests.set", {"venue_seats": seats}), Code.invalid_input)
    assert await g.state() == before


@pytest.mark.parametrize("payload", [{"dates": ["2023-04-08"]}, {"venue_seats": 200}])
async def test_a_booth_s_days_and_seats_are_on_its_offerings_not_its_interests(fairground: Fairground, payload):
    g = fairground
    before = await g.state()
    await refused(g.do(g.troupe, "interests.set", payload), Code.invalid_input)
    assert await g.state() == before


@pytest.mark.parametrize(
    "payload",
    [
        {"themes": ["   "]},
        {"themes": ["越剧", "越剧"]},
        {"themes": ["一二三四五六七八九十一二三"]},
        {"themes": ["a", "b", "c", "d", "e", "f"]},
        {"dates": ["2023-02-30"]},
        {"dates": ["9999-01-01"]},
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
