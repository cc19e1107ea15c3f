"""The write path's statements straight on the driver (``fair.direct``) read and fail as SQLAlchemy would, on
SQLite and on PostgreSQL."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import event, insert, select
from sqlalchemy.exc import IntegrityError, MultipleResultsFound, NoResultFound

from fair import direct
from fair.db import Database
from fair.models import Event, Fair, RequestRecord, utcnow
from tests.fairground import Fairground
from tests.pauses import hold_then_race
from tests.test_tally import random_day


@pytest.fixture
async def ground(db: Database) -> Fairground:
    g = Fairground(db)
    await g.build()
    return g


async def test_every_read_of_a_random_day_equals_sqlalchemy_s_own(ground, monkeypatch):
    """Each SELECT the commands run, run again through ``Connection.execute``: the same rows, keys and values."""
    real, compared = direct.run, []

    def shadowed(connection, statement, params=None):
        result = real(connection, statement, params)
        if statement.is_select:
            expected = connection.execute(statement, params).all()
            assert [tuple(row) for row in result] == [tuple(row) for row in expected], statement
            assert [row._mapping for row in result] == [dict(row._mapping) for row in expected], statement
            compared.append(str(statement))
        return result

    monkeypatch.setattr(direct, "run", shadowed)
    await random_day(ground, random.Random(7), moves=80)
    assert len(compared) > 100 and len(set(compared)) >= 5, (len(compared), len(set(compared)))
    prepared = [shape for shape in direct._shapes.values() if shape is not None]
    assert any(shape.expanding for shape in prepared), "no IN list went the direct way"
    assert any(shape.row is None for shape in prepared) and any(shape.row for shape in prepared)


async def test_a_duplicate_is_sqlalchemy_s_integrity_error_and_a_result_answers_as_sqlalchemy_s(ground):
    """``commands`` tells a replayed request id by SQLAlchemy's IntegrityError; handlers use one(), first()…"""
    row = {
        "party": "t",
        "request_id": "r",
        "command": "c",
        "fingerprint": "f",
        "outcome": {"ok": True, "data": {"时间": "今天"}},
        "created_at": utcnow(),
    }

    def work(connection):
        direct.run(connection, insert(RequestRecord), row)
        read = direct.run(
            connection, select(RequestRecord.outcome, RequestRecord.created_at).where(RequestRecord.party == "t")
        )
        assert read.one().outcome == row["outcome"] and read.scalar_one() == row["outcome"]
        assert read.one().created_at == row["created_at"]  # a time in UTC, as it went in
        nothing = direct.run(connection, select(Fair.id).where(Fair.id == -1))
        assert nothing.first() is None and nothing.scalar_one_or_none() is None
        with pytest.raises(NoResultFound):
            nothing.one()
        events = direct.run(connection, select(Event.seq).order_by(Event.seq))
        with pytest.raises(MultipleResultsFound):
            events.one()
        assert events.scalars().all() == sorted(events.scalars().all())
        with pytest.raises(IntegrityError) as duplicate:  # last: PostgreSQL refuses all else in its transaction
            direct.run(connection, insert(RequestRecord), row)
        assert "unique" in str(duplicate.value.orig).lower()
        raise RuntimeError("roll back")

    with pytest.raises(RuntimeError):
        await ground.db.transact(work)


async def test_with_a_cursor_listener_every_statement_goes_through_sqlalchemy(ground):
    """scripts/bench_write.py listens to the cursor to capture statements: the direct path must step aside for it."""
    seen = []
    engine = ground.db._writer._engine if ground.db._writer else ground.db.engine.sync_engine

    def listener(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        await ground.order(ground.centre, ground.bookseller, ground.books)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert any(statement.startswith("INSERT INTO purchase_order") for statement in seen)


async def test_a_race_held_mid_transaction_runs_on_the_direct_path(ground, monkeypatch):
    """tests/pauses.py holds a transaction between two statements (on PostgreSQL) without making the direct path
    step aside: the races test the write path the fair runs."""
    chosen = []
    real = direct.available
    monkeypatch.setattr(direct, "available", lambda connection: chosen.append(real(connection)) or chosen[-1])
    g = ground
    first, second = await hold_then_race(
        g.db,
        "first",
        r"^INSERT INTO purchase_order",
        g.order(g.centre, g.bookseller, g.books),
        g.order(g.library, g.bookseller, g.books),
    )
    orders = [first["order"], second["order"]]
    assert orders[0]["id"] != orders[1]["id"]
    assert {order["team_id"] for order in orders} == {g.centre.party_id, g.library.party_id}
    assert chosen and all(chosen), chosen
