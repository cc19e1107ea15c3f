"""Before the day: the catalogue in preview, shortlists, meetings booked; nothing confirmed until the fair opens."""

from __future__ import annotations

import pytest

from fair.core import Code
from fair.db import Database
from tests.fairground import Fairground, refused
from tests.truth import assert_events_tell_the_truth, screens_of, views


@pytest.fixture
async def previewed(db: Database) -> Fairground:
    g = Fairground(db)
    await g.build(open_fair=False)
    await g.do(g.organiser, "fair.preview")
    return g


async def test_in_preview_teams_plan_and_meet_but_nothing_is_confirmed(previewed: Fairground):
    g = previewed
    before = await views(g.db, screens_of(g))
    await g.do(g.library, "shortlist.put", {"offering_id": g.lecture, "quantity": 2, "note": "老年大学"})
    await g.do(g.library, "shortlist.put", {"offering_id": g.books, "quantity": 100})
    await g.do(g.library, "shortlist.put", {"offering_id": g.lecture, "quantity": 3})
    await g.do(g.library, "shortlist.remove", {"offering_id": g.books})
    shown = await views(g.db, screens_of(g))
    assert shown[g.library.key]["shortlist"] == [{"offering_id": g.lecture, "quantity": 3, "note": ""}]
    assert "shortlist" not in shown[g.troupe.key] and "shortlist" not in shown["organiser"]
    slot = (await g.do(g.troupe, "slot.publish", {"starts": "09:00", "ends": "09:30", "minutes": 30}))["slots"][0]
    await g.do(g.library, "appointment.book", {"slot_id": slot["id"], "offering_id": g.lecture})
    negotiation = await g.propose(g.library, g.lecture, quantity=3)
    await refused(
        g.do(g.troupe, "negotiation.accept", {"negotiation_id": negotiation["id"], "version": 1}), Code.fair_not_open
    )
    await refused(g.do(g.library, "queue.join", {"supplier_id": g.troupe.party_id}), Code.fair_not_open)
    opened = await g.do(g.organiser, "fair.open")
    assert opened["fair"]["state"] == "open"
    accepted = await g.do(g.troupe, "negotiation.accept", {"negotiation_id": negotiation["id"], "version": 1})
    assert accepted["negotiation"]["state"] == "confirmed"
    await assert_events_tell_the_truth(g.db, screens_of(g), before)


async def test_the_fair_moves_setup_preview_open_closed_and_never_back(db: Database):
    g = Fairground(db)
    await g.build(open_fair=False)
    await g.do(g.organiser, "fair.preview")
    await refused(g.do(g.organiser, "fair.preview"), Code.invalid_state)
    await g.do(g.organiser, "fair.open")
    await refused(g.do(g.organiser, "fair.preview"), Code.invalid_state)
    await g.do(g.organiser, "fair.close")
    await refused(g.do(g.library, "shortlist.put", {"offering_id": g.lecture}), Code.fair_not_open)


async def test_a_shortlist_takes_only_published_offerings(previewed: Fairground):
    g = previewed
    await g.do(g.troupe, "offering.withdraw", {"offering_id": g.lecture})
    await refused(g.do(g.library, "shortlist.put", {"offering_id": g.lecture}), Code.invalid_state)
    await refused(g.do(g.library, "shortlist.remove", {"offering_id": g.lecture}), Code.not_found)
