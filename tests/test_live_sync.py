"""Snapshot plus events equals a fresh snapshot; reconnecting screens catch up exactly once."""

from __future__ import annotations

import asyncio
import random

from fair.core import Actor
from fair.live.server import RESYNC_LIMIT
from tests.conftest import Hall
from tests.screens import Screen, converged

WHO = ("organiser", "troupe", "bookseller", "centre", "library", "community", None)


def actor_of(hall: Hall, who: str | None) -> Actor:
    g = hall.ground
    return g.organiser if who == "organiser" else Actor.public(g.fair_id) if who is None else getattr(g, who)


async def test_after_every_random_operation_each_screen_equals_a_fresh_view(hall: Hall):
    g = hall.ground
    screens = {who: await hall.screen(who) for who in WHO}
    teams = ("centre", "library", "community")
    owners = {g.show: "troupe", g.lecture: "troupe", g.books: "bookseller"}
    rng = random.Random(11)
    negotiations: list[dict] = []
    for step in range(30):
        move = rng.random()
        if move < 0.35 or not negotiations:
            offering = rng.choice(list(owners))
            terms = {"quantity": rng.randint(1, 2), "unit_price_fen": rng.randrange(1_000, 60_000)}
            if offering == g.show:
                terms = {"quantity": 1, "unit_price_fen": 150_000, "dates": [rng.choice(["2023-04-01", "2023-04-08"])]}
            ack = await screens[rng.choice(teams)].call("negotiation.open", {"offering_id": offering, "terms": terms})
            if ack["ok"]:
                negotiations.append(ack["data"]["negotiation"])
        elif move < 0.6:
            n = negotiations.pop(rng.randrange(len(negotiations)))
            accepter = (
                owners[n["offering_id"]]
                if n["terms"]["author"] == "team"
                else next(w for w in teams if getattr(g, w).party_id == n["team_id"])
            )
            await screens[accepter].call("negotiation.accept", {"negotiation_id": n["id"], "version": n["version"]})
        elif move < 0.75:
            n = negotiations[rng.randrange(len(negotiations))]
            countered = await screens[owners[n["offering_id"]]].call(
                "negotiation.counter",
                {
                    "negotiation_id": n["id"],
                    "base_version": n["version"],
                    "terms": {
                        **{k: n["terms"][k] for k in ("quantity", "dates")},
                        "unit_price_fen": rng.randrange(1_000, 60_000),
                    },
                },
            )
            if countered["ok"]:
                negotiations[negotiations.index(n)] = countered["data"]["negotiation"]
        elif move < 0.85:
            offering = rng.choice(list(owners))
            await screens[owners[offering]].call("offering.spotlight", {"offering_id": offering})
        elif move < 0.93:
            team = rng.choice(teams)
            await screens["organiser"].call(
                "team.set_budget",
                {"team_id": getattr(g, team).party_id, "budget_fen": rng.randrange(500_000, 5_000_000)},
            )
        else:
            await screens["troupe"].call(
                "offering.update", {"offering_id": g.lecture, "description": f"第{step}次更新"}
            )
        for who, screen in screens.items():
            await converged(hall.app, screen, actor_of(hall, who))
    assert any(screen.view["tally"]["total"]["orders"] for screen in screens.values()), "no order: a weak sequence"
    for screen in screens.values():
        assert len(screen.applied) == len(set(screen.applied)), "an event was applied twice"
        await screen.disconnect()


async def test_a_screen_away_while_twenty_orders_are_confirmed_catches_up_exactly(hall: Hall):
    g = hall.ground
    tablet = await hall.screen("library")
    board = await hall.screen(None)
    await tablet.disconnect()
    await g.do(g.bookseller, "offering.update", {"offering_id": g.books, "capacity": 5000})
    for _ in range(20):
        await g.order(g.centre, g.bookseller, g.books, quantity=10)
    cursor_before = tablet.cursor
    await tablet.connect()  # reconnects with the cursor it had
    assert tablet.last_sync["mode"] == "events"
    assert all(seq > cursor_before for seq in tablet.applied)
    assert len(tablet.applied) == len(set(tablet.applied))
    await converged(hall.app, tablet, g.library)
    assert tablet.view["tally"]["headline"]["book_volumes"] == 200
    offering = next(o for o in tablet.view["offerings"] if o["id"] == g.books)
    assert offering["remaining"] == 5000 - 200
    await converged(hall.app, board, Actor.public(g.fair_id))
    await tablet.disconnect()
    await board.disconnect()


async def test_a_screen_far_behind_gets_a_fresh_view(hall: Hall):
    tablet = await hall.screen("library")
    await tablet.disconnect()
    for _ in range(RESYNC_LIMIT + 1):  # more missed events than are worth replaying
        await hall.ground.do(hall.ground.troupe, "offering.spotlight", {"offering_id": hall.ground.lecture})
    await tablet.connect()
    assert tablet.last_sync["mode"] == "view"
    await converged(hall.app, tablet, hall.ground.library)
    await tablet.disconnect()


async def test_a_command_resent_after_a_lost_answer_lands_once(hall: Hall):
    g = hall.ground
    negotiation = await g.propose(g.library, g.books, quantity=50)
    booth = await hall.screen("bookseller")
    envelope = {"request_id": "accept-over-bad-wifi", "payload": {"negotiation_id": negotiation["id"], "version": 1}}
    await booth.client.emit("negotiation.accept", envelope)  # sent; the answer is lost with the connection
    await booth.client.disconnect()
    await asyncio.sleep(0.2)
    await booth.connect()
    ack = await booth.client.call("negotiation.accept", envelope, timeout=10)
    assert ack["ok"] and ack["data"]["negotiation"]["state"] == "confirmed"
    state = await g.state()
    assert len(state["purchase_order"]) == 1
    await booth.disconnect()


async def test_sync_on_a_new_screen_is_a_full_view(hall: Hall):
    screen = Screen(hall.url, hall.token("centre"))
    await screen.connect()
    assert screen.view["role"] == "team" and screen.view["me"]["name"] == "南京市文化馆"
    assert {o["id"] for o in screen.view["offerings"]} == {hall.ground.show, hall.ground.lecture, hall.ground.books}
    await screen.disconnect()
