"""Queues at busy booths: numbers in order, places that move, the next team called, the absent skipped."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools

from sqlalchemy import update

from fair.core import Actor, Code, FairError
from fair.core.commands import follow_up
from fair.core.queues import skip_late
from fair.db import Database
from fair.models import QueueTicket
from tests.fairground import Fairground, refused
from tests.pauses import hold_then_race
from tests.test_concurrency import settle
from tests.truth import assert_events_tell_the_truth, screens_of, views

NOON = dt.datetime(2023, 3, 29, 4, 0, tzinfo=dt.UTC)


def join(g: Fairground, team: Actor):
    return g.do(team, "queue.join", {"supplier_id": g.troupe.party_id})


async def places(db: Database, *teams: Actor) -> list[list[tuple[int, str, int]]]:
    shown = await views(db, list(teams))
    return [[(t["number"], t["state"], t["position"]) for t in shown[team.key]["tickets"]] for team in teams]


async def test_teams_take_numbers_and_move_up_as_the_booth_calls(fairground: Fairground):
    g = fairground
    before = await views(g.db, screens_of(g))
    first = await join(g, g.centre)
    assert (first["ticket"]["number"], first["ticket"]["position"], first["queue"]["waiting"]) == (1, 1, 1)
    assert (await join(g, g.library))["ticket"]["position"] == 2
    await refused(join(g, g.library), Code.invalid_state)
    await join(g, g.community)
    assert await places(g.db, g.centre, g.library, g.community) == [
        [(1, "waiting", 1)],
        [(2, "waiting", 2)],
        [(3, "waiting", 3)],
    ]
    called = await g.do(g.troupe, "queue.next")
    assert called["queue"]["serving"] == 1 and called["queue"]["waiting"] == 2
    assert await places(g.db, g.centre, g.library, g.community) == [
        [(1, "called", 0)],
        [(2, "waiting", 1)],
        [(3, "waiting", 2)],
    ]
    await g.do(g.troupe, "queue.next")  # the centre was served; the library is called
    await g.do(g.troupe, "queue.skip")  # the library did not come; the community is called
    assert await places(g.db, g.centre, g.library, g.community) == [[], [], [(3, "called", 0)]]
    await g.do(g.community, "queue.leave", {"supplier_id": g.troupe.party_id})
    booth = (await views(g.db, [g.troupe]))[g.troupe.key]
    assert (booth["queue"]["serving"], booth["queue"]["tickets"], booth["queues"]) == (None, [], [])
    await refused(g.do(g.troupe, "queue.next"), Code.invalid_state)
    await assert_events_tell_the_truth(g.db, screens_of(g), before)


async def test_the_hall_sees_how_many_wait_and_a_team_sees_only_its_own_number(fairground: Fairground):
    g = fairground
    await join(g, g.centre)
    await join(g, g.library)
    shown = await views(g.db, screens_of(g))
    assert shown[g.bookseller.key]["queues"] == [{"supplier_id": g.troupe.party_id, "serving": None, "waiting": 2}]
    assert [t["team_id"] for t in shown[g.library.key]["tickets"]] == [g.library.party_id]
    assert "tickets" not in shown[g.community.key]["queues"][0]


async def test_a_team_called_that_does_not_come_is_skipped_after_the_grace_time(fairground: Fairground):
    g = fairground
    before = await views(g.db, screens_of(g))
    await join(g, g.centre)
    await join(g, g.library)
    await g.do(g.troupe, "queue.next")
    await follow_up(g.db, g.fair_id, skip_late)  # within the grace time: nothing happens
    assert await places(g.db, g.centre) == [[(1, "called", 0)]]
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=4)  # the fair's grace time is 3 minutes
    await follow_up(g.db, g.fair_id, functools.partial(skip_late, now=later))
    assert await places(g.db, g.centre, g.library) == [[], [(2, "called", 0)]]
    await assert_events_tell_the_truth(g.db, screens_of(g), before)


async def test_queues_are_for_the_fair_day(fairground: Fairground):
    g = fairground
    await g.do(g.organiser, "fair.close")
    await refused(join(g, g.centre), Code.fair_not_open)


async def test_teams_joining_at_once_get_distinct_numbers_in_order(fairground: Fairground):
    g = fairground
    teams = [g.centre, g.library, g.community]
    for number in range(7):
        registered = await g.do(
            g.organiser,
            "team.register",
            {"name": f"第{number}社区", "kind": "community", "district": "秦淮区", "approved": True},
        )
        teams.append(Actor.team(g.fair_id, registered["team"]["id"]))
    joined = await asyncio.gather(*(join(g, team) for team in teams))
    numbers = sorted(result["ticket"]["number"] for result in joined)
    assert numbers == list(range(1, len(teams) + 1))
    booth = (await views(g.db, [g.troupe]))[g.troupe.key]["queue"]
    assert [t["position"] for t in booth["tickets"]] == list(range(1, len(teams) + 1))


async def test_a_team_holds_numbers_at_so_many_booths_at_once(fairground: Fairground):
    """Issue 22: one team held numbers at ten booths at once.  Now the fair's cap (2 by default, a setting)."""
    g = fairground
    await g.do(g.organiser, "fair.configure", {"queue_numbers_per_team": 1})
    await g.do(g.library, "queue.join", {"supplier_id": g.troupe.party_id})
    before = await g.state()
    error = await refused(g.do(g.library, "queue.join", {"supplier_id": g.bookseller.party_id}), Code.invalid_state)
    assert "1 个展位" in error.message("zh_CN") and "先退出" in error.message("zh_CN")
    assert await g.state() == before
    await g.do(g.library, "queue.leave", {"supplier_id": g.troupe.party_id})  # leaving one frees a place
    assert (await g.do(g.library, "queue.join", {"supplier_id": g.bookseller.party_id}))["ticket"]["number"] == 1
    await refused(g.do(g.organiser, "fair.configure", {"queue_numbers_per_team": 0}), Code.invalid_input)


async def test_two_tablets_of_one_team_taking_numbers_at_two_booths_at_once_get_one(fairground: Fairground):
    """On PostgreSQL the first join is held after counting the team's numbers, before writing its own; the second
    waits for the team's lock and then counts it: one of the two is refused."""
    g = fairground
    await g.do(g.organiser, "fair.configure", {"queue_numbers_per_team": 1})
    first, second = await hold_then_race(
        g.db,
        "first",
        r"^INSERT INTO queue_ticket",
        settle(g, g.library, "queue.join", {"supplier_id": g.troupe.party_id}),
        settle(g, g.library, "queue.join", {"supplier_id": g.bookseller.party_id}),
    )
    assert not isinstance(first, FairError), first
    assert isinstance(second, FairError) and second.code == Code.invalid_state, second
    shown = await views(g.db, [g.library])
    assert [t["supplier_id"] for t in shown[g.library.key]["tickets"]] == [g.troupe.party_id]


async def test_a_waiting_team_sees_about_how_long_from_the_booths_recent_service_times(fairground: Fairground):
    g = fairground
    before = await views(g.db, screens_of(g))
    for team in (g.centre, g.library, g.community):
        await join(g, team)
    await g.do(g.troupe, "queue.next")  # the centre is called: the booth has served nobody yet, no estimate
    assert [t["wait_seconds"] for t in (await views(g.db, [g.community]))[g.community.key]["tickets"]] == [None]
    await g.do(g.troupe, "queue.next")  # the centre served, the library called

    async def took(team: Actor, minutes: int) -> None:  # the history of the day, as it would have been
        def rewrite(connection) -> None:
            connection.execute(
                update(QueueTicket)
                .where(QueueTicket.team_id == team.party_id)
                .values(called_at=NOON, ended_at=NOON + dt.timedelta(minutes=minutes))
            )

        await g.db.transact(rewrite)

    await took(g.centre, 6)
    await g.do(g.community, "queue.leave", {"supplier_id": g.troupe.party_id})
    rejoined = await join(g, g.community)  # behind the library, which the booth is serving: one team ahead
    assert (rejoined["ticket"]["position"], rejoined["ticket"]["wait_seconds"]) == (1, 360)
    await g.do(g.troupe, "queue.next")  # the library served in 2 minutes: the median of 6 and 2 is 2
    await took(g.library, 2)
    await g.do(g.organiser, "fair.configure", {"queue_numbers_per_team": 3})  # no queue event: nothing moves
    await join(g, g.centre)  # the centre again, behind the community being served
    shown = await views(g.db, [g.centre, g.troupe])
    assert [(t["position"], t["wait_seconds"]) for t in shown[g.centre.key]["tickets"]] == [(1, 120)]
    assert [t["wait_seconds"] for t in shown[g.troupe.key]["queue"]["tickets"]] == [None, 120]  # called: none
    await assert_events_tell_the_truth(g.db, screens_of(g), before)
