"""Recommendations set aside (issue 22's feedback): a team's "not interested" or snooze, a booth's likewise; what
is set aside leaves the list and waits apart with a way back, its like ranks down and says why, and nobody but
the party itself learns of it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlmodel import select

from fair import scenarios
from fair.core import Code, FairError, queries
from fair.models import Dismissal
from tests.fairground import Fairground, refused
from tests.pauses import hold_then_race
from tests.truth import assert_events_tell_the_truth, screens_of, views


async def recommended(g: Fairground, actor) -> list[dict]:
    async with g.db.read() as session:
        return await queries.recommendations(session, actor)


async def test_a_team_sets_an_offering_aside_and_takes_it_back(fairground: Fairground):
    g = fairground
    opera = (
        await g.do(
            g.troupe,
            "offering.publish",
            {"category": "performance", "title": "越剧折子戏", "unit": "场", "unit_price_fen": 100_000, "capacity": 2},
        )
    )["offering"]["id"]
    before = await views(g.db, screens_of(g))
    listed = [r["offering_id"] for r in await recommended(g, g.library)]
    assert g.show in listed and opera in listed
    answer = await g.do(g.library, "recommendation.dismiss", {"offering_id": g.show})
    assert answer["dismissed"] == {
        "by": "team",
        "team_id": g.library.party_id,
        "supplier_id": g.troupe.party_id,
        "offering_id": g.show,
        "until": None,
    }
    shown = await recommended(g, g.library)
    ranked = [r for r in shown if r["set_aside"] is None]
    assert g.show not in [r["offering_id"] for r in ranked]
    assert shown[-1] == {
        "offering_id": g.show,
        "team_id": g.library.party_id,
        "score": None,
        "affordable": None,
        "wish_ids": [],
        "reasons": [],
        "set_aside": {"until": None},
    }
    like = next(r for r in ranked if r["offering_id"] == opera)
    said = {"msgid": "like %(title)s, which you set aside", "params": {"title": "越剧《梁祝》专场"}, "against": True}
    assert said in like["reasons"]
    async with g.db.read() as session:
        assert await scenarios.check_reason(session, g.library, opera, said)
    # Nobody else's list or view changes: the booth still sees the library, the other teams the show.
    assert g.show in [r["offering_id"] for r in await recommended(g, g.community)]
    assert g.library.party_id in [r["team_id"] for r in await recommended(g, g.troupe)]
    await assert_events_tell_the_truth(g.db, screens_of(g), before)

    await g.do(g.library, "recommendation.restore", {"offering_id": g.show})
    assert all(r["set_aside"] is None for r in await recommended(g, g.library))
    assert g.show in [r["offering_id"] for r in await recommended(g, g.library)]
    await refused(g.do(g.library, "recommendation.restore", {"offering_id": g.show}), Code.not_found)


async def test_a_snooze_ends_by_itself(fairground: Fairground):
    g = fairground
    answer = await g.do(g.library, "recommendation.dismiss", {"offering_id": g.books, "hours": 2})
    until = dt.datetime.fromisoformat(answer["dismissed"]["until"])
    assert dt.timedelta(hours=1, minutes=59) < until - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=2)
    assert (await recommended(g, g.library))[-1]["set_aside"] == {"until": answer["dismissed"]["until"]}

    def two_hours_later(connection) -> None:  # the snooze's time has come
        connection.execute(update(Dismissal).values(until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))

    await g.db.transact(two_hours_later)
    assert all(r["set_aside"] is None for r in await recommended(g, g.library))
    assert g.books in [r["offering_id"] for r in await recommended(g, g.library)]


async def test_a_booth_sets_a_team_aside(fairground: Fairground):
    g = fairground
    await g.do(g.troupe, "recommendation.dismiss", {"team_id": g.community.party_id})
    shown = await recommended(g, g.troupe)
    assert [r["team_id"] for r in shown if r["set_aside"] is None] == [
        r["team_id"] for r in shown[:-1]
    ] and g.community.party_id not in [r["team_id"] for r in shown[:-1]]
    assert (shown[-1]["team_id"], shown[-1]["team_name"], shown[-1]["set_aside"]) == (
        g.community.party_id,
        "锁金村社区",
        {"until": None},
    )
    assert g.show in [r["offering_id"] for r in await recommended(g, g.community)]  # the team is told nothing


async def test_setting_aside_the_wrong_thing_is_refused_and_changes_nothing(fairground: Fairground):
    g = fairground
    before = await g.state()
    await refused(g.do(g.library, "recommendation.dismiss", {"team_id": g.centre.party_id}), Code.invalid_input)
    await refused(g.do(g.troupe, "recommendation.dismiss", {"offering_id": g.books}), Code.invalid_input)
    await refused(g.do(g.library, "recommendation.dismiss", {"offering_id": 999_999}), Code.not_found)
    await refused(g.do(g.library, "recommendation.dismiss", {"offering_id": g.show, "hours": 0}), Code.invalid_input)
    await refused(g.do(g.library, "recommendation.dismiss", {"offering_id": g.show, "hours": 73}), Code.invalid_input)
    await refused(g.do(g.organiser, "recommendation.dismiss", {"offering_id": g.show}), Code.forbidden)
    assert await g.state() == before


async def test_two_taps_of_not_interested_at_once_leave_one_dismissal_and_no_error(fairground: Fairground):
    """Two tablets of one team set the same card aside at the same moment: the second, held behind the first's
    insert on PostgreSQL, must neither fail nor make a second row; it changes the one there (here: a snooze)."""
    g = fairground

    async def tap(payload):
        try:
            return await g.do(g.library, "recommendation.dismiss", payload)
        except FairError as refusal:
            return refusal

    first, second = await hold_then_race(
        g.db,
        "first",
        r"^INSERT INTO dismissal",
        tap({"offering_id": g.books}),
        tap({"offering_id": g.books, "hours": 2}),
    )
    assert not isinstance(first, FairError), first
    assert not isinstance(second, FairError), second
    async with g.db.read() as session:
        rows = (await session.exec(select(Dismissal).where(Dismissal.team_id == g.library.party_id))).all()
    assert len(rows) == 1 and rows[0].offering_id == g.books
    assert rows[0].until is not None  # the second tap, a snooze, came last and holds
    aside = [r for r in await recommended(g, g.library) if r["set_aside"]]
    assert [r["offering_id"] for r in aside] == [g.books]
