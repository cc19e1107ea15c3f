"""Meetings at the booths: slots, bookings, invitations; never a slot twice, never a team in two places."""

from __future__ import annotations

import asyncio

import pytest

from fair.core import Code, FairError, queries
from tests.fairground import Fairground, refused
from tests.pauses import Pause, blocked_or_done, paused_or_done, race, stop_races
from tests.truth import assert_events_tell_the_truth, screens_of, views


@pytest.fixture(autouse=True)
async def no_race_left_running(db):
    yield
    await stop_races()


async def settle(coro):
    try:
        return await coro
    except FairError as refusal:
        return refusal


async def slots(g: Fairground, booth, starts: str = "09:00", ends: str = "10:00", minutes: int = 20) -> list[dict]:
    return (await g.do(booth, "slot.publish", {"starts": starts, "ends": ends, "minutes": minutes}))["slots"]


async def test_a_booth_publishes_slots_on_the_fair_day_in_local_time(fairground: Fairground):
    g = fairground
    published = await slots(g, g.troupe, "09:00", "10:00", 20)
    # 29 March 2023, 09:00 in Nanjing is 01:00 UTC.
    assert [s["starts_at"] for s in published] == [
        "2023-03-29T01:00:00+00:00",
        "2023-03-29T01:20:00+00:00",
        "2023-03-29T01:40:00+00:00",
    ]
    assert all(s["free"] for s in published)
    await refused(
        g.do(g.troupe, "slot.publish", {"starts": "09:30", "ends": "11:00", "minutes": 30}), Code.invalid_input
    )
    await refused(
        g.do(g.troupe, "slot.publish", {"starts": "10:00", "ends": "10:10", "minutes": 20}), Code.invalid_input
    )
    await refused(
        g.do(g.troupe, "slot.publish", {"starts": "25:00", "ends": "26:00", "minutes": 20}), Code.invalid_input
    )
    assert len(await slots(g, g.bookseller, "09:00", "10:00", 20)) == 3  # another booth, the same times


async def test_booking_holds_the_slot_for_one_team_only(fairground: Fairground):
    g = fairground
    before = await views(g.db, screens_of(g))
    first, second, _ = await slots(g, g.troupe)
    booked = await g.do(g.library, "appointment.book", {"slot_id": first["id"], "offering_id": g.lecture})
    assert booked["appointment"]["state"] == "booked"
    assert booked["appointment"]["offering_title"] == "越剧艺术漫谈"
    await refused(g.do(g.community, "appointment.book", {"slot_id": first["id"]}), Code.slot_unavailable)
    await refused(
        g.do(g.library, "appointment.book", {"slot_id": second["id"], "offering_id": g.books}), Code.not_found
    )  # not this booth's offering
    shown = await views(g.db, screens_of(g))
    assert [s["free"] for s in shown[f"team:{g.community.party_id}"]["slots"]] == [False, True, True]
    assert [a["team_name"] for a in shown[f"supplier:{g.troupe.party_id}"]["appointments"]] == ["玄武区图书馆"]
    assert shown[f"team:{g.community.party_id}"]["appointments"] == []  # who booked is the parties' business
    await assert_events_tell_the_truth(g.db, screens_of(g), before)


async def test_a_team_is_never_in_two_places_at_once(fairground: Fairground):
    g = fairground
    troupe = await slots(g, g.troupe, "09:00", "10:00", 30)
    books = await slots(g, g.bookseller, "09:15", "10:15", 30)
    await g.do(g.library, "appointment.book", {"slot_id": troupe[0]["id"]})
    await refused(g.do(g.library, "appointment.book", {"slot_id": books[0]["id"]}), Code.schedule_conflict)
    await g.do(g.library, "appointment.book", {"slot_id": books[1]["id"]})  # 09:45: after the first meeting


async def test_an_invitation_is_accepted_declined_or_cancelled_and_frees_its_slot(fairground: Fairground):
    g = fairground
    before = await views(g.db, screens_of(g))
    first, second, third = await slots(g, g.troupe)
    invited = await g.do(g.troupe, "appointment.invite", {"slot_id": first["id"], "team_id": g.centre.party_id})
    assert invited["appointment"]["state"] == "invited"
    await refused(
        g.do(g.library, "appointment.accept", {"appointment_id": invited["appointment"]["id"]}), Code.not_a_party
    )
    await refused(
        g.do(g.bookseller, "appointment.cancel", {"appointment_id": invited["appointment"]["id"]}), Code.not_a_party
    )
    accepted = await g.do(g.centre, "appointment.accept", {"appointment_id": invited["appointment"]["id"]})
    assert accepted["appointment"]["state"] == "booked"
    cancelled = await g.do(g.troupe, "appointment.cancel", {"appointment_id": invited["appointment"]["id"]})
    assert (cancelled["appointment"]["state"], cancelled["appointment"]["ended_by"]) == ("cancelled", "supplier")
    declined_one = await g.do(g.troupe, "appointment.invite", {"slot_id": second["id"], "team_id": g.library.party_id})
    await g.do(g.library, "appointment.decline", {"appointment_id": declined_one["appointment"]["id"]})
    shown = await views(g.db, screens_of(g))
    assert all(s["free"] for s in shown["organiser"]["slots"])
    await g.do(g.troupe, "slot.withdraw", {"slot_id": third["id"]})
    await refused(g.do(g.community, "appointment.book", {"slot_id": third["id"]}), Code.slot_unavailable)
    held = await g.do(g.community, "appointment.book", {"slot_id": first["id"]})
    await refused(g.do(g.troupe, "slot.withdraw", {"slot_id": first["id"]}), Code.invalid_state)
    await g.do(g.community, "appointment.cancel", {"appointment_id": held["appointment"]["id"]})
    await assert_events_tell_the_truth(g.db, screens_of(g), before)


async def test_accepting_an_invitation_that_clashes_is_refused_and_leaves_it_open(fairground: Fairground):
    g = fairground
    troupe = await slots(g, g.troupe, "09:00", "10:00", 30)
    books = await slots(g, g.bookseller, "09:00", "10:00", 30)
    invited = await g.do(g.troupe, "appointment.invite", {"slot_id": troupe[0]["id"], "team_id": g.library.party_id})
    await g.do(g.library, "appointment.book", {"slot_id": books[0]["id"]})
    await refused(
        g.do(g.library, "appointment.accept", {"appointment_id": invited["appointment"]["id"]}), Code.schedule_conflict
    )
    shown = await views(g.db, [g.library])
    assert {a["state"] for a in shown[g.library.key]["appointments"]} == {"invited", "booked"}


async def test_a_booth_is_offered_only_the_times_a_team_is_free_and_may_not_invite_it_over_a_meeting(
    fairground: Fairground,
):
    g = fairground
    troupe = await slots(g, g.troupe, "09:00", "10:30", 30)  # 09:00, 09:30, 10:00
    books = await slots(g, g.bookseller, "09:00", "10:00", 30)
    await g.do(g.library, "appointment.book", {"slot_id": books[0]["id"]})  # the library is at the books at 09:00
    await g.do(g.bookseller, "appointment.invite", {"slot_id": books[1]["id"], "team_id": g.library.party_id})
    async with g.db.read() as session:
        met = {r["team_id"]: r for r in await queries.recommendations(session, g.troupe)}
    assert met[g.library.party_id]["slot_ids"] == [troupe[2]["id"]]  # 09:00 booked, 09:30 invited elsewhere
    assert met[g.community.party_id]["slot_ids"] == [s["id"] for s in troupe]
    before = await g.state()
    await refused(
        g.do(g.troupe, "appointment.invite", {"slot_id": troupe[0]["id"], "team_id": g.library.party_id}),
        Code.schedule_conflict,
    )
    assert await g.state() == before  # the slot is still free, no invitation stands
    await g.do(g.troupe, "appointment.invite", {"slot_id": troupe[2]["id"], "team_id": g.library.party_id})


async def test_the_last_slot_goes_to_one_team_whoever_commits_first(fairground: Fairground):
    """Two teams book the same slot; the second is held until the first commits, then finds it taken."""
    g, db = fairground, fairground.db
    (slot,) = await slots(g, g.troupe, "09:00", "09:20", 20)
    with Pause(db, "library", r"^INSERT INTO appointment") as held:
        library = race("library", settle(g.do(g.library, "appointment.book", {"slot_id": slot["id"]})))
        await paused_or_done(held, library)
        community = race("community", settle(g.do(g.community, "appointment.book", {"slot_id": slot["id"]})))
        await blocked_or_done(db, community)
        held.release()
        results = await asyncio.gather(library, community)
    winners = [r for r in results if not isinstance(r, FairError)]
    losers = [r for r in results if isinstance(r, FairError)]
    assert len(winners) == 1 and [r.code for r in losers] == [Code.slot_unavailable]
    state = await g.state()
    assert (
        len([a for a in (await views(db, [g.organiser]))["organiser"]["appointments"] if a["state"] == "booked"]) == 1
    )
    assert state["fair"][0]["last_seq"] > 0


async def test_two_bookings_by_one_team_at_one_time_end_with_one_meeting(fairground: Fairground):
    g, db = fairground, fairground.db
    (troupe,) = await slots(g, g.troupe, "09:00", "09:30", 30)
    (books,) = await slots(g, g.bookseller, "09:00", "09:30", 30)
    with Pause(db, "first", r"^SELECT appointment.id") as held:  # just before the clash check, the team locked
        first = race("first", settle(g.do(g.library, "appointment.book", {"slot_id": troupe["id"]})))
        await paused_or_done(held, first)
        second = race("second", settle(g.do(g.library, "appointment.book", {"slot_id": books["id"]})))
        await blocked_or_done(db, second)
        held.release()
        results = await asyncio.gather(first, second)
    assert sorted(type(r).__name__ for r in results) == ["FairError", "dict"]
    assert [r.code for r in results if isinstance(r, FairError)] == [Code.schedule_conflict]
    meetings = (await views(db, [g.library]))[g.library.key]["appointments"]
    assert [m["state"] for m in meetings] == ["booked"]


async def test_hammered_slots_are_never_double_booked(fairground: Fairground):
    """Every team books every slot of both booths at once: each slot once, no team twice at one time."""
    g = fairground
    troupe = await slots(g, g.troupe, "09:00", "10:00", 20)
    books = await slots(g, g.bookseller, "09:10", "10:10", 20)
    teams = (g.centre, g.library, g.community)
    attempts = [
        settle(g.do(team, "appointment.book", {"slot_id": slot["id"]})) for team in teams for slot in troupe + books
    ]
    results = await asyncio.gather(*attempts)
    assert {r.code for r in results if isinstance(r, FairError)} <= {Code.slot_unavailable, Code.schedule_conflict}
    booked = [a for a in (await views(g.db, [g.organiser]))["organiser"]["appointments"] if a["state"] == "booked"]
    assert len({a["slot_id"] for a in booked}) == len(booked)
    for team in teams:
        mine = sorted((a["starts_at"], a["ends_at"]) for a in booked if a["team_id"] == team.party_id)
        assert all(end <= start for (_, end), (start, _) in zip(mine, mine[1:], strict=False)), mine
