"""Races on the write path, made to happen: one transaction held mid-way while another commits.

Each test holds one command just before a chosen statement (``tests.pauses``),
commits another in the gap, lets the first go on, and then checks what must
hold whatever the order: nothing deadlocks or errs, every limit and rule is
kept as of the commit, and every screen folded from the events equals a fresh
read (``tests.truth``).  On SQLite the same tests run the commands one after
the other, which is one of the orders PostgreSQL may also take.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg
import pytest
from sqlmodel import select

from fair.core import Actor, FairError
from fair.db import Database
from fair.models import ACTIVE_NEGOTIATION_STATES, Event, Negotiation, Offering, OfferingStatus, Order
from tests.fairground import Fairground
from tests.pauses import Pause, blocked_or_done, paused_or_done, race, stop_races
from tests.truth import assert_events_tell_the_truth, screens_of, views


@pytest.fixture(autouse=True)
async def no_race_left_running(db: Database):
    yield
    await stop_races()


async def settle(g: Fairground, actor: Actor, command: str, payload: Any = None) -> dict | FairError:
    """A command's data, or its refusal; anything else (a deadlock, a crash) fails the test."""
    try:
        return await g.do(actor, command, payload)
    except FairError as refusal:
        return refusal


async def events(db: Database, fair_id: int) -> list[Event]:
    async with db.read() as session:
        return list((await session.exec(select(Event).where(Event.fair_id == fair_id).order_by(Event.seq))).all())


async def assert_nothing_active_on_closed_things(db: Database) -> None:
    """No negotiation is left open on a withdrawn offering or in a closed fair: it could never end."""
    async with db.read() as session:
        rows = await session.exec(
            select(Negotiation, Offering)
            .join(Offering, Offering.id == Negotiation.offering_id)
            .where(Negotiation.state.in_(ACTIVE_NEGOTIATION_STATES))
        )
        stranded = [n.id for n, offering in rows if offering.status == OfferingStatus.withdrawn]
    assert not stranded, f"negotiations {stranded} are active on a withdrawn offering"


def accept_payload(negotiation: dict) -> dict:
    return {"negotiation_id": negotiation["id"], "version": negotiation["version"]}


# 1. Closing the fair while commands are in flight.


async def test_closing_never_deadlocks_with_an_accept_in_flight(fairground: Fairground):
    g, db = fairground, fairground.db
    before = await views(db, screens_of(g))
    with Pause(db, "close", r"^UPDATE fair SET state") as close_held:
        closing = race("close", settle(g, g.organiser, "fair.close"))
        await paused_or_done(close_held, closing)
        opened = await settle(g, g.library, "negotiation.open", {"offering_id": g.lecture, "terms": LECTURE})
        with Pause(db, "accept", r"^UPDATE fair SET") as accept_held:
            accepting = None
            if not isinstance(opened, FairError):  # on SQLite the close came first
                accepting = race(
                    "accept", settle(g, g.troupe, "negotiation.accept", accept_payload(opened["negotiation"]))
                )
                await paused_or_done(accept_held, accepting)
            close_held.release()
            await blocked_or_done(db, closing)
            accept_held.release()
            closed = await closing
            accepted = await accepting if accepting else None
    assert not isinstance(closed, FairError), closed
    assert closed["fair"]["state"] == "closed"
    if isinstance(accepted, FairError):
        assert accepted.code == "fair_not_open"
    async with db.read() as session:
        active = (await session.exec(select(Negotiation).where(Negotiation.state.in_(ACTIVE_NEGOTIATION_STATES)))).all()
        orders = (await session.exec(select(Order))).all()
    assert active == []
    assert len(orders) == (0 if accepted is None or isinstance(accepted, FairError) else 1)
    await assert_events_tell_the_truth(db, screens_of(g), before)


async def test_a_write_cancelled_mid_transaction_commits_nothing_and_gives_its_connection_back(fairground: Fairground):
    """A task cancelled while its transaction is open (a server stopping, say): rolled back, the connection back
    in the pool, and the next write goes through."""
    g, db = fairground, fairground.db
    if db.is_sqlite:
        pytest.skip("SQLite's writer thread runs a transaction to its end: it cannot be cancelled mid-way")
    negotiation = await g.propose(g.library, g.lecture)
    with Pause(db, "accept", r"^INSERT INTO event") as held:
        accepting = race("accept", settle(g, g.troupe, "negotiation.accept", accept_payload(negotiation)))
        assert await paused_or_done(held, accepting)  # the order written, its events not yet
        accepting.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await accepting
    assert db.engine.pool.checkedout() == 0
    state = await g.state()
    assert state["purchase_order"] == [] and [n["state"] for n in state["negotiation"]] == ["proposed"]
    accepted = await settle(g, g.troupe, "negotiation.accept", accept_payload(negotiation))
    assert not isinstance(accepted, FairError), accepted
    assert len((await g.state())["purchase_order"]) == 1


async def test_a_deadlock_is_retried_not_shown_as_an_error(fairground: Fairground):
    """Make a real deadlock with a second connection: the command loses it, is run again, and succeeds."""
    g, db = fairground, fairground.db
    if db.is_sqlite:
        pytest.skip("SQLite has one writer at a time: it cannot deadlock")
    negotiation = await g.propose(g.library, g.lecture)
    admin = await asyncpg.connect(db.url.set(drivername="postgresql").render_as_string(False))
    try:
        await admin.execute(
            f"SET application_name = '{db.application_name}';"
            " SET deadlock_timeout = '60s'"  # so that the command, waiting 1 s by default, is the one to detect it
        )
        with Pause(db, "accept", r"^UPDATE fair SET") as held:
            accepting = race("accept", settle(g, g.troupe, "negotiation.accept", accept_payload(negotiation)))
            assert await paused_or_done(held, accepting)  # holding the negotiation, about to take the fair row
            transaction = admin.transaction()
            await transaction.start()
            await admin.execute("SELECT id FROM fair WHERE id = $1 FOR NO KEY UPDATE", g.fair_id)
            crossing = asyncio.create_task(
                admin.execute("UPDATE negotiation SET updated_at = updated_at WHERE id = $1", negotiation["id"])
            )
            await blocked_or_done(db, crossing)
            held.release()  # the accept now waits for the fair row: a cycle, which PostgreSQL breaks
            await crossing
            await transaction.commit()
            accepted = await accepting
    finally:
        await admin.close()
    assert not isinstance(accepted, FairError), accepted
    assert accepted["negotiation"]["state"] == "confirmed"
    state = await g.state()
    assert len(state["purchase_order"]) == 1


# 2. and 3. What a command checked or showed, against what committed meanwhile.


LECTURE = {"quantity": 1, "unit_price_fen": 50_000}


@pytest.mark.parametrize(
    "held_at", [r"^INSERT INTO negotiation", r"^UPDATE fair SET last_seq"], ids=["before-insert", "before-commit"]
)
async def test_an_offering_withdrawn_while_a_negotiation_opens_leaves_none_stranded(fairground: Fairground, held_at):
    g, db = fairground, fairground.db
    before = await views(db, screens_of(g))
    with Pause(db, "open", held_at) as held:
        opening = race("open", settle(g, g.library, "negotiation.open", {"offering_id": g.lecture, "terms": LECTURE}))
        await paused_or_done(held, opening)
        withdrawing = race("withdraw", settle(g, g.troupe, "offering.withdraw", {"offering_id": g.lecture}))
        await blocked_or_done(db, withdrawing)
        held.release()
        opened, withdrawn = await opening, await withdrawing
    assert not isinstance(withdrawn, FairError), withdrawn
    if isinstance(opened, FairError):
        assert opened.code == "invalid_state"
    await assert_nothing_active_on_closed_things(db)
    await assert_events_tell_the_truth(db, screens_of(g), before)


async def test_an_order_takes_the_subsidy_rate_in_force_when_it_commits(fairground: Fairground):
    g, db = fairground, fairground.db
    negotiation = await g.propose(g.library, g.lecture, funding="self_funded")
    with Pause(db, "accept", r"^UPDATE negotiation") as held:
        accepting = race("accept", settle(g, g.troupe, "negotiation.accept", accept_payload(negotiation)))
        await paused_or_done(held, accepting)
        await g.do(g.organiser, "fair.configure", {"subsidy_rate_bp": 0})
        held.release()
        accepted = await accepting
    assert not isinstance(accepted, FairError), accepted
    log = await events(db, g.fair_id)
    rate_changed = next(e.seq for e in log if e.type == "fair.updated" and e.payload["fair"]["subsidy_rate_bp"] == 0)
    confirmed = next(e for e in log if e.type == "order.confirmed")
    rate = 0 if confirmed.seq > rate_changed else 3000
    assert confirmed.payload["order"]["subsidy_fen"] == 50_000 * rate // 10_000


@pytest.mark.parametrize("party", ["team", "supplier"])
async def test_no_order_confirms_after_its_party_lost_approval(fairground: Fairground, party):
    g, db = fairground, fairground.db
    negotiation = await g.propose(g.library, g.lecture)
    with Pause(db, "accept", r"^UPDATE negotiation") as held:
        accepting = race("accept", settle(g, g.troupe, "negotiation.accept", accept_payload(negotiation)))
        await paused_or_done(held, accepting)
        if party == "team":
            await g.do(g.organiser, "team.approve", {"team_id": g.library.party_id, "approved": False})
        else:
            await g.do(g.organiser, "supplier.approve", {"supplier_id": g.troupe.party_id, "approved": False})
        held.release()
        accepted = await accepting
    log = await events(db, g.fair_id)
    unapproved = next(e.seq for e in reversed(log) if e.type == f"{party}.updated" and not e.payload[party]["approved"])
    confirmed = [e.seq for e in log if e.type == "order.confirmed"]
    assert all(seq < unapproved for seq in confirmed), "an order was confirmed after its party lost approval"
    if isinstance(accepted, FairError):
        assert accepted.code == "forbidden"


async def test_a_revoked_card_commits_nothing_after_the_revoke(fairground: Fairground):
    g, db = fairground, fairground.db
    issued = await g.do(g.organiser, "access.issue", {"kind": "team", "party_id": g.library.party_id})
    tablet = Actor(g.library.role, g.fair_id, g.library.party_id, issued["credential"]["id"])
    with Pause(db, "tablet", r"^INSERT INTO negotiation") as held:
        opening = race("tablet", settle(g, tablet, "negotiation.open", {"offering_id": g.lecture, "terms": LECTURE}))
        await paused_or_done(held, opening)
        revoking = race(
            "revoke", settle(g, g.organiser, "access.revoke", {"credential_id": issued["credential"]["id"]})
        )
        await blocked_or_done(db, revoking)
        held.release()
        await opening
        assert not isinstance(await revoking, FairError)
    after = await settle(g, tablet, "negotiation.open", {"offering_id": g.books, "terms": LECTURE})
    assert isinstance(after, FairError) and after.code == "forbidden"
    log = await events(db, g.fair_id)
    revoked = next(e.seq for e in log if e.type == "access.revoked")
    assert all(e.seq < revoked for e in log if e.actor == tablet.key), "the card acted after its revoke committed"


# Every command that shows a figure, raced with a command that changes it.  Each case: the setup,
# the command held (its actor, name and payload), the statement it is held at, and what commits meanwhile.


async def race_spotlight_with_an_order(g: Fairground) -> tuple:
    return (g.bookseller, "offering.spotlight", {"offering_id": g.books}), r"^UPDATE offering", order_books(g)


async def race_withdraw_with_an_order(g: Fairground) -> tuple:
    return (g.bookseller, "offering.withdraw", {"offering_id": g.books}), r"^UPDATE offering", order_books(g)


async def race_update_with_a_dated_order(g: Fairground) -> tuple:
    held = (g.troupe, "offering.update", {"offering_id": g.show, "description": "新版本"})
    return held, r"^UPDATE offering", g.order(g.centre, g.troupe, g.show, dates=["2023-04-01"])


async def race_approval_with_an_order(g: Fairground) -> tuple:
    held = (g.organiser, "team.approve", {"team_id": g.centre.party_id, "approved": True})
    return held, r"^UPDATE team", order_books(g)


async def race_budget_with_an_approval(g: Fairground) -> tuple:
    held = (g.organiser, "team.set_budget", {"team_id": g.centre.party_id, "budget_fen": 20_000_000})
    return held, r"^UPDATE team", g.do(g.organiser, "team.approve", {"team_id": g.centre.party_id, "approved": False})


async def race_decline_with_a_counter(g: Fairground) -> tuple:
    negotiation = await g.propose(g.library, g.lecture)
    counter = {"negotiation_id": negotiation["id"], "base_version": 1, "terms": {**LECTURE, "unit_price_fen": 45_000}}
    held = (g.library, "negotiation.decline", {"negotiation_id": negotiation["id"]})
    return held, r"^UPDATE negotiation", g.do(g.troupe, "negotiation.counter", counter)


async def race_close_with_a_counter(g: Fairground) -> tuple:
    negotiation = await g.propose(g.library, g.lecture)
    counter = {"negotiation_id": negotiation["id"], "base_version": 1, "terms": {**LECTURE, "unit_price_fen": 45_000}}
    return (g.organiser, "fair.close", {}), r"^UPDATE negotiation", settle(g, g.troupe, "negotiation.counter", counter)


async def race_an_order_with_a_capacity_change(g: Fairground) -> tuple:
    negotiation = await g.propose(g.centre, g.books, quantity=100)
    held = (g.bookseller, "negotiation.accept", accept_payload(negotiation))
    grow = {"offering_id": g.books, "capacity": 2000}
    return held, r"^UPDATE negotiation", g.do(g.bookseller, "offering.update", grow)


async def race_a_counter_with_a_refused_accept(g: Fairground) -> tuple:
    """The booth's accept is refused (over the team's budget) and noted while its own counter replaces the terms."""
    negotiation = await g.propose(g.community, g.books, quantity=100)  # ¥3,000 against a budget of ¥1,000
    replace = {
        "negotiation_id": negotiation["id"],
        "base_version": 1,
        "terms": {"quantity": 30, "unit_price_fen": 3_000},
    }
    held = (g.bookseller, "negotiation.counter", replace)
    return held, r"^UPDATE negotiation", settle(g, g.bookseller, "negotiation.accept", accept_payload(negotiation))


def order_books(g: Fairground):
    return g.order(g.centre, g.bookseller, g.books, quantity=10)


@pytest.mark.parametrize(
    "case",
    [
        race_spotlight_with_an_order,
        race_withdraw_with_an_order,
        race_update_with_a_dated_order,
        race_approval_with_an_order,
        race_budget_with_an_approval,
        race_decline_with_a_counter,
        race_close_with_a_counter,
        race_an_order_with_a_capacity_change,
        race_a_counter_with_a_refused_accept,
    ],
)
async def test_every_event_carries_the_figures_as_committed(fairground: Fairground, case):
    g, db = fairground, fairground.db
    before = await views(db, screens_of(g))
    (actor, command, payload), held_at, meanwhile = await case(g)
    with Pause(db, "held", held_at) as held:
        holding = race("held", settle(g, actor, command, payload))
        await paused_or_done(held, holding)
        with contextlib.suppress(FairError):  # on SQLite the held command went first, and may refuse this
            await meanwhile
        held.release()
        await holding
    await assert_nothing_active_on_closed_things(db)
    await assert_events_tell_the_truth(db, screens_of(g), before)


# 4. Figures no event carried.


async def test_a_subsidised_order_shows_the_pool_in_use_on_every_screen(fairground: Fairground):
    g, db = fairground, fairground.db
    before = await views(db, screens_of(g))
    await g.order(g.library, g.troupe, g.lecture, funding="self_funded")
    await assert_events_tell_the_truth(db, screens_of(g), before)


async def test_a_renamed_offering_leaves_no_old_title_on_any_screen(fairground: Fairground):
    g, db = fairground, fairground.db
    before = await views(db, screens_of(g))
    await g.propose(g.library, g.lecture)
    await g.order(g.centre, g.troupe, g.lecture)
    await g.do(g.troupe, "offering.update", {"offering_id": g.lecture, "title": "越剧艺术漫谈（新）"})
    await g.propose(g.community, g.lecture)
    await assert_events_tell_the_truth(db, screens_of(g), before)
