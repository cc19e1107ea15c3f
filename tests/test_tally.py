"""The tally is a function of the orders: after any sequence of operations it equals a recount."""

from __future__ import annotations

import contextlib
import json
import random

import pytest
from sqlmodel import select

from fair.core import Actor, FairError, tally
from fair.live import publisher as publisher_module
from fair.live.publisher import Publisher
from fair.models import Fair, Order
from tests.fairground import Fairground

TERMS_CHOICES = [
    {"quantity": 1, "unit_price_fen": 50_000},
    {"quantity": 2, "unit_price_fen": 45_000, "funding": "self_funded"},
    {"quantity": 40, "unit_price_fen": 2_900},
    {"quantity": 300, "unit_price_fen": 3_000, "funding": "self_funded"},
]


def recount(orders: list[Order]) -> dict:
    """The tally, counted again order by order from the table."""
    expected = tally.empty()
    for order in orders:
        tally.add(
            expected,
            order.category,
            order.district,
            1,
            order.quantity,
            order.amount_fen,
            order.government_fen,
            order.subsidy_fen,
        )
    return expected


async def random_day(g: Fairground, rng: random.Random, moves: int = 120, after_move=None) -> None:
    """Proposals, counters, acceptances and declines at random, refusals included; ``after_move`` after each."""
    teams = [g.centre, g.library, g.community]
    suppliers = {g.show: g.troupe, g.lecture: g.troupe, g.books: g.bookseller}
    open_ones: list[tuple[int, Actor, Actor, int, str]] = []  # negotiation, team, supplier, version, author
    for _ in range(moves):
        move = rng.random()
        try:
            if move < 0.4 or not open_ones:
                offering = rng.choice(list(suppliers))
                terms = dict(rng.choice(TERMS_CHOICES))
                if offering == g.show:
                    terms = {
                        "quantity": 1,
                        "unit_price_fen": 190_000,
                        "dates": [rng.choice(["2023-04-01", "2023-04-08", "2023-04-15"])],
                    }
                team = rng.choice(teams)
                negotiation = await g.propose(team, offering, **terms)
                open_ones.append((negotiation["id"], team, suppliers[offering], 1, "team"))
            else:
                index = rng.randrange(len(open_ones))
                negotiation_id, team, supplier, version, author = open_ones[index]
                if move < 0.75:
                    other = supplier if author == "team" else team
                    await g.do(other, "negotiation.accept", {"negotiation_id": negotiation_id, "version": version})
                    open_ones.pop(index)
                elif move < 0.9:
                    mover, side = (supplier, "supplier") if author == "team" else (team, "team")
                    countered = await g.do(
                        mover,
                        "negotiation.counter",
                        {
                            "negotiation_id": negotiation_id,
                            "base_version": version,
                            "terms": {"quantity": 1, "unit_price_fen": rng.randrange(1_000, 60_000)},
                        },
                    )
                    open_ones[index] = (negotiation_id, team, supplier, countered["negotiation"]["version"], side)
                else:
                    await g.do(rng.choice([team, supplier]), "negotiation.decline", {"negotiation_id": negotiation_id})
                    open_ones.pop(index)
        except FairError:
            pass  # refusals are part of a real day; they must not disturb the count
        if after_move is not None:
            await after_move()


@pytest.mark.parametrize("seed", [1, 2])
async def test_after_random_operations_the_tally_equals_a_recount(fairground: Fairground, seed: int):
    g = fairground
    await random_day(g, random.Random(seed))
    async with g.db.read() as session:
        snapshot = await tally.snapshot(session, g.fair_id)
        orders = (await session.exec(select(Order).order_by(Order.id))).all()
    assert orders, "the random day confirmed nothing: the test would prove nothing"
    expected = recount(orders)
    snapshot_without_latest = {key: value for key, value in snapshot.items() if key not in ("seq", "latest")}
    expected_without_latest = {key: value for key, value in expected.items() if key not in ("seq", "latest")}
    assert snapshot_without_latest == expected_without_latest
    assert [entry["id"] for entry in snapshot["latest"]] == [order.id for order in orders][::-1][: tally.LATEST]
    last_order_event = [e for e in (await g.state())["event"] if e["type"] == "order.confirmed"][-1]
    assert snapshot["seq"] == last_order_event["seq"]


async def test_the_headline_counts_what_the_bureau_reports(fairground: Fairground):
    g = fairground
    await g.order(g.centre, g.troupe, g.show, dates=["2023-04-01"])
    await g.order(g.library, g.troupe, g.lecture, quantity=2)
    await g.order(g.community, g.bookseller, g.books, quantity=30)
    async with g.db.read() as session:
        snapshot = await tally.snapshot(session, g.fair_id)
    assert snapshot["headline"] == {
        "performance_orders": 1,
        "training_lecture_exhibition_orders": 1,
        "book_volumes": 30,
    }
    assert snapshot["total"] == {"orders": 3, "amount_fen": 390_000, "government_fen": 390_000, "subsidy_fen": 0}
    assert snapshot["by_district"]["市级"] == {"orders": 1, "amount_fen": 200_000}
    assert snapshot["by_district"]["玄武区"] == {"orders": 2, "amount_fen": 190_000}
    assert [entry["offering_title"] for entry in snapshot["latest"]] == [
        "送书下乡少儿读物",
        "越剧艺术漫谈",
        "越剧《梁祝》专场",
    ]
    assert "budget" not in snapshot["latest"][0] and "government_fen" not in snapshot["latest"][0]


class Silent:
    """A Socket.IO server with no screen connected: the publisher's cycles run, nothing is sent."""

    class manager:
        @staticmethod
        def get_participants(namespace: str, room: str):
            return iter(())


@pytest.mark.parametrize("seed", [3, 4])
async def test_the_publishers_carried_tally_equals_a_fresh_read(fairground: Fairground, seed: int, monkeypatch):
    """The publisher never recounts: its tally, carried over the events of a random day, equals a snapshot.

    Cycles run after a random number of moves (so a cycle carries from none to several orders), some
    with a batch cut short, and one fails after carrying, to be retried: none may count an order twice.
    """
    g = fairground
    rng = random.Random(seed)
    publisher = Publisher(g.db, Silent(), g.fair_id, interval=0, on_event=_nothing)
    await publisher.start()
    await publisher.stop()  # cycles only when this test says
    recounts = []
    real_snapshot = tally.snapshot

    async def counted_snapshot(session, fair_id):
        recounts.append(fair_id)
        return await real_snapshot(session, fair_id)

    monkeypatch.setattr(tally, "snapshot", counted_snapshot)
    failed = []

    async def failing_once(events, fresh_tally):
        if fresh_tally is not None and not failed:
            failed.append(fresh_tally["seq"])
            raise ConnectionError("the network dropped mid-cycle")

    async def after_move():
        if rng.random() < 0.3:
            if not failed:  # the first cycle that carries an order fails after carrying
                with monkeypatch.context() as patch:
                    patch.setattr(publisher, "_send", failing_once)
                    with contextlib.suppress(ConnectionError):
                        await publisher.cycle()
            monkeypatch.setattr(publisher_module, "BATCH", rng.choice([1, 2, 2000]))
            await publisher.cycle()

    await random_day(g, rng, moves=150, after_move=after_move)
    monkeypatch.setattr(publisher_module, "BATCH", 2000)
    await publisher.cycle()
    async with g.db.read() as session:
        fresh = await real_snapshot(session, g.fair_id)
        last = (await session.exec(select(Fair.last_seq).where(Fair.id == g.fair_id))).one()
    assert fresh["total"]["orders"] > 5, "the random day confirmed too little to prove anything"
    assert failed, "no cycle failed: the retry was not exercised"
    assert publisher.published == last
    assert publisher.tally == fresh
    assert recounts == [], "the publisher recounted the orders instead of carrying the tally"


async def test_a_tally_change_the_publisher_cannot_carry_is_recounted(fairground: Fairground, monkeypatch):
    """An event named as changing the tally that ``carry`` does not know makes the cycle recount.

    (The organiser voiding an order would be such an event until ``carry`` learns it.)  The carried
    tally is spoilt first: only a recount from the database brings it back to the truth.
    """
    g = fairground
    publisher = Publisher(g.db, Silent(), g.fair_id, interval=0, on_event=_nothing)
    await publisher.start()
    await publisher.stop()  # cycles only when this test says
    await g.order(g.centre, g.troupe, g.lecture, quantity=2)
    await publisher.cycle()
    publisher.tally["total"]["orders"] = 99
    monkeypatch.setattr(publisher_module, "TALLY_EVENTS", publisher_module.TALLY_EVENTS | {"negotiation.updated"})
    await g.order(g.library, g.troupe, g.lecture, quantity=1)
    await publisher.cycle()
    async with g.db.read() as session:
        assert publisher.tally == await tally.snapshot(session, g.fair_id)
    assert publisher.tally["total"]["orders"] == 2


async def test_the_publisher_recounts_after_an_order_is_voided(fairground: Fairground):
    """Voiding is carried by a recount: the tally and its ticker lose the order, on both databases."""
    g = fairground
    publisher = Publisher(g.db, Silent(), g.fair_id, interval=0, on_event=_nothing)
    await publisher.start()
    await publisher.stop()  # cycles only when this test says
    kept = await g.order(g.centre, g.troupe, g.lecture, quantity=2)
    voided = await g.order(g.library, g.bookseller, g.books, quantity=30)
    await publisher.cycle()
    assert publisher.tally["total"]["orders"] == 2
    await g.do(g.organiser, "order.void", {"order_id": voided["order"]["id"], "reason": "重复下单"})
    await g.order(g.community, g.troupe, g.lecture, quantity=1)
    await publisher.cycle()
    async with g.db.read() as session:
        assert publisher.tally == await tally.snapshot(session, g.fair_id)
    assert publisher.tally["total"]["orders"] == 2
    assert voided["order"]["id"] not in [entry["id"] for entry in publisher.tally["latest"]]
    assert kept["order"]["id"] in [entry["id"] for entry in publisher.tally["latest"]]


async def _nothing(event) -> None:
    return None


class OneBoard:
    """A Socket.IO server with one board in the public room: what the publisher sends it is kept."""

    class manager:
        @staticmethod
        def get_participants(namespace: str, room: str):
            return iter([("board", "board")] if namespace == "/" and room in ("public", "public#0") else [])


@pytest.mark.parametrize("seed", [5, 6])
async def test_boards_fed_tally_patches_show_the_recount(fairground: Fairground, seed: int, monkeypatch):
    """A board that applies each cycle's ``tally_patch`` (or whole tally, after a void) equals a fresh snapshot
    after a random day; so does one that joined with a tally taken between cycles (a sync mid-way), and one that
    missed a message is told so (and would sync), never shown a wrong figure.
    """
    from fair.live import fanout

    g, rng = fairground, random.Random(seed)
    sent: list[dict] = []

    async def kept(sio, event, body, room, skip=()):
        if room == "public#0":
            sent.append(json.loads(json.dumps(body)))  # as it goes on the wire, encoded when sent
        return 1

    monkeypatch.setattr(fanout, "emit", kept)
    publisher = Publisher(g.db, OneBoard(), g.fair_id, interval=0, on_event=_nothing)
    await publisher.start()
    await publisher.stop()  # cycles only when this test says
    board = dict(publisher.tally, latest=list(publisher.tally["latest"]))
    joiners: list[dict] = []

    def show(on: dict, message: dict) -> bool:
        if "tally" in message and message["tally"]["seq"] >= on["seq"]:
            on.clear()
            on.update(message["tally"])
        return "tally_patch" not in message or tally.patched(on, message["tally_patch"])

    async def after_move():
        if rng.random() < 0.15:  # the organiser voids one of the latest orders: the ticker loses it
            async with g.db.read() as session:
                ids = (await session.exec(select(Order.id).where(Order.voided_at.is_(None)))).all()
            if ids:
                await g.do(g.organiser, "order.void", {"order_id": rng.choice(ids), "reason": "测试作废"})
        if rng.random() < 0.2:
            async with g.db.read() as session:  # a board syncs now: its tally may be ahead of the published one
                joiners.append(await tally.snapshot(session, g.fair_id))
        if rng.random() < 0.4:
            await cycle()

    async def cycle():
        before = len(sent)
        await publisher.cycle()
        for message in sent[before:]:
            assert show(board, message), "the board missed no message, yet a patch did not apply"
            for joiner in joiners:
                assert show(joiner, message), "a board synced between cycles could not apply the next patch"

    await random_day(g, rng, moves=120, after_move=after_move)
    await cycle()
    async with g.db.read() as session:
        fresh = await tally.snapshot(session, g.fair_id)
    patches = [message for message in sent if "tally_patch" in message]
    wholes = [message for message in sent if "tally" in message]
    assert patches and wholes, (len(patches), len(wholes))
    assert board == fresh
    assert all(joiner == fresh for joiner in joiners), "a board that synced mid-way shows another tally"
    size = sum(len(json.dumps(m["tally_patch"])) for m in patches) / len(patches)
    assert size < len(json.dumps(fresh)) / 2, f"a patch ({size:.0f} bytes) is not much smaller than a tally"

    missed = dict(patches[-1]["tally_patch"], **{"from": fresh["seq"] + 1, "seq": fresh["seq"] + 2})
    stale = json.loads(json.dumps(fresh))
    assert not tally.patched(stale, missed) and stale == fresh  # refused, and nothing changed
