"""Queues at busy booths, on the day: a team takes a number from its tablet and watches its place move.

A team without an appointment takes a number at a booth; the booth calls the
next team when it is free; a team called that does not come within the fair's
grace time is skipped, and the next one called (``skip_late``, run by the
system every few seconds).  Every change to a booth's queue tells the booth
its whole queue, each team in it its own number and place, and the hall how
many wait (the "free now" view lists booths where nobody does).  Numbers and
places live in the database: they survive reconnects and restarts.

A team holds numbers at ``Fair.queue_numbers_per_team`` booths at most (2 by
default): a number at ten booths at once keeps ten booths waiting for a team
that can stand in one place.  Taking a number locks the team's row first, so
that two tablets of one team taking numbers at two booths at the same moment
are counted one after the other.

Lock order (see ``fair.core.guards``): the team's row (joining only), the
booth's queue row (which takes the booth's changes one at a time), then its
tickets, then the fair.
"""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlmodel import col

from fair.core.actors import Role
from fair.core.commands import Tx, command
from fair.core.errors import N_, Code, FairError
from fair.core.guards import (
    acting_supplier,
    current_fair,
    require_approved_counterparty,
    require_approved_team,
    require_open,
)
from fair.core.inputs import BoothRef, NoInput
from fair.core.rows import Row, get, insert_row, labelled, new, not_found, returned, unpack
from fair.core.views import ticket_view
from fair.models import ACTIVE_TICKET_STATES, BoothQueue, Fair, QueueTicket, Supplier, Team, TicketState

TAKE_NUMBER = (
    update(BoothQueue)
    .where(BoothQueue.supplier_id == bindparam("booth"))
    .values(next_number=BoothQueue.next_number + 1)
    .returning(BoothQueue.next_number)
)
LOCK_TEAM = select(Team.id).where(Team.id == bindparam("team_id")).with_for_update()
HELD = select(func.count()).where(
    QueueTicket.team_id == bindparam("team_id"), col(QueueTicket.state).in_(ACTIVE_TICKET_STATES)
)
LOCK_QUEUE = select(BoothQueue.supplier_id).where(BoothQueue.supplier_id == bindparam("supplier_id")).with_for_update()
ACTIVE = (
    select(*labelled(QueueTicket, "q_"), Team.name.label("team_name"))
    .join(Team, Team.id == QueueTicket.team_id)
    .where(QueueTicket.supplier_id == bindparam("supplier_id"), col(QueueTicket.state).in_(ACTIVE_TICKET_STATES))
    .order_by(QueueTicket.number)
)
NEXT_WAITING = (
    select(QueueTicket.id)
    .where(QueueTicket.supplier_id == bindparam("supplier_id"), QueueTicket.state == TicketState.waiting)
    .order_by(QueueTicket.number)
    .limit(1)
)
RECENT_SERVICE = 5  # served teams whose times make the estimate of the wait
SERVED = (
    select(QueueTicket.called_at, QueueTicket.ended_at)
    .where(
        QueueTicket.supplier_id == bindparam("supplier_id"),
        QueueTicket.state == TicketState.served,
        col(QueueTicket.called_at).is_not(None),
    )
    .order_by(QueueTicket.ended_at.desc(), QueueTicket.id.desc())
    .limit(RECENT_SERVICE)
)
LATE = (
    select(QueueTicket.supplier_id)
    .where(
        QueueTicket.fair_id == bindparam("fair_id"),
        QueueTicket.state == TicketState.called,
        QueueTicket.called_at < bindparam("called_before"),
    )
    .order_by(QueueTicket.supplier_id)
)


@command("queue.join", BoothRef, Role.team)
def join(tx: Tx, data: BoothRef) -> dict[str, Any]:
    """Take the next number at a booth: once at a time in one booth's queue, at so many booths at once."""
    tx.run(LOCK_TEAM, {"team_id": tx.actor.party_id})  # first: what follows counts what others committed
    team = get(tx, Team, tx.actor.party_id)
    require_approved_team(team)
    fair = current_fair(tx)
    require_open(tx, fair)
    require_approved_counterparty(get(tx, Supplier, data.supplier_id))
    held = tx.run(HELD, {"team_id": team.id}).scalar_one()
    if held >= fair.queue_numbers_per_team and _ticket_of(tx, data.supplier_id, team.id) is None:
        raise FairError(
            Code.invalid_state,
            N_("Your team holds numbers at %(count)s booths: that is the most at once. Leave a queue first."),
            count=held,
        )
    taken = tx.run(TAKE_NUMBER, {"booth": data.supplier_id}).scalar_one_or_none()
    if taken is None:
        raise not_found("supplier", data.supplier_id)
    mine = _ticket_of(tx, data.supplier_id, team.id)
    if mine is not None:
        raise FairError(
            Code.invalid_state, N_("Your team is in this queue already, number %(number)s."), number=mine.number
        )
    ticket = new(
        QueueTicket,
        fair_id=tx.fair_id,
        supplier_id=data.supplier_id,
        team_id=team.id,
        number=taken - 1,
        created_at=tx.now,
    )
    insert_row(tx, QueueTicket, ticket)
    return _announce(tx, data.supplier_id, ended=[], asked=ticket.id)


@command("queue.leave", BoothRef, Role.team)
def leave(tx: Tx, data: BoothRef) -> dict[str, Any]:
    _lock(tx, data.supplier_id)
    mine = _ticket_of(tx, data.supplier_id, tx.actor.party_id)
    if mine is None:
        raise FairError(Code.invalid_state, N_("Your team is not in this queue."))
    left = _end(tx, mine.id, TicketState.left)
    if mine.state == TicketState.called:
        _call_next(tx, data.supplier_id)
    return _announce(tx, data.supplier_id, ended=[left], asked=left.id)


@command("queue.next", NoInput, Role.supplier)
def call_next(tx: Tx, data: NoInput) -> dict[str, Any]:
    """The booth is free: the team it was serving is done, and the next one is called."""
    return _move_on(tx, TicketState.served)


@command("queue.skip", NoInput, Role.supplier)
def skip(tx: Tx, data: NoInput) -> dict[str, Any]:
    """The team called has not come: skip it and call the next one."""
    return _move_on(tx, TicketState.skipped)


def skip_late(tx: Tx, now: dt.datetime | None = None) -> None:
    """Skip every team called longer ago than the fair's grace time, and call the next: run by the system."""
    fair = get(tx, Fair, tx.fair_id)
    now = now or tx.now
    called_before = now - dt.timedelta(minutes=fair.queue_grace_minutes)
    for supplier_id in sorted(set(tx.run(LATE, {"fair_id": fair.id, "called_before": called_before}).scalars())):
        _lock(tx, supplier_id)
        called = _called(tx, supplier_id)
        if called is None or called.called_at >= called_before:
            continue  # served or skipped at the same moment
        ended = _end(tx, called.id, TicketState.skipped)
        _call_next(tx, supplier_id)
        _announce(tx, supplier_id, ended=[ended], asked=None)


def _move_on(tx: Tx, outcome: TicketState) -> dict[str, Any]:
    supplier = acting_supplier(tx)
    _lock(tx, supplier.id)
    ended = []
    called = _called(tx, supplier.id)
    if called is not None:
        ended.append(_end(tx, called.id, outcome))
    elif outcome == TicketState.skipped:
        raise FairError(Code.invalid_state, N_("Nobody has been called: there is no one to skip."))
    if _call_next(tx, supplier.id) is None and not ended:
        raise FairError(Code.invalid_state, N_("Nobody is waiting."))
    return _announce(tx, supplier.id, ended=ended, asked=None)


def _lock(tx: Tx, supplier_id: int) -> None:
    if tx.run(LOCK_QUEUE, {"supplier_id": supplier_id}).first() is None:
        raise not_found("supplier", supplier_id)


def _ticket_of(tx: Tx, supplier_id: int, team_id: int) -> Row | None:
    statement = select(QueueTicket.__table__).where(
        QueueTicket.supplier_id == supplier_id,
        QueueTicket.team_id == team_id,
        col(QueueTicket.state).in_(ACTIVE_TICKET_STATES),
    )
    return returned(tx.run(statement))


def _called(tx: Tx, supplier_id: int) -> Row | None:
    statement = select(QueueTicket.__table__).where(
        QueueTicket.supplier_id == supplier_id, QueueTicket.state == TicketState.called
    )
    return returned(tx.run(statement))


def _end(tx: Tx, ticket_id: int, state: TicketState) -> Row:
    statement = (
        update(QueueTicket)
        .where(QueueTicket.id == ticket_id)
        .values(state=state, ended_at=tx.now)
        .returning(QueueTicket.__table__)
    )
    return returned(tx.run(statement))


def _call_next(tx: Tx, supplier_id: int) -> Row | None:
    following = tx.run(NEXT_WAITING, {"supplier_id": supplier_id}).scalar_one_or_none()
    if following is None:
        return None
    statement = (
        update(QueueTicket)
        .where(QueueTicket.id == following)
        .values(state=TicketState.called, called_at=tx.now)
        .returning(QueueTicket.__table__)
    )
    return returned(tx.run(statement))


def service_seconds(rows: Any) -> int | None:
    """The median time the booth took with a team, from called to served, over ``SERVED`` rows; None if none."""
    times = [(ended - called).total_seconds() for called, ended in rows if called is not None and ended]
    return int(statistics.median_low(times)) if times else None


def queue_view(
    rows: Any, supplier_id: int, ended: list[dict[str, Any]] | None = None, service: int | None = None
) -> dict[str, Any]:
    """A booth's queue from ``ACTIVE`` rows: who is called, who waits in which place, and about how long.

    A waiting team's estimate is the booth's median service time (``service``, ``service_seconds``) for each
    team before it, the one being served included; None until the booth has served a team.
    """
    active = [(unpack(row, QueueTicket, "q_"), row["team_name"]) for row in rows]
    serving = next((ticket.number for ticket, _ in active if ticket.state == TicketState.called), None)
    tickets, place = [], 0
    for ticket, team_name in active:
        if ticket.state != TicketState.waiting:
            tickets.append(ticket_view(ticket, team_name, 0))
            continue
        place += 1
        ahead = place - 1 + (serving is not None)
        tickets.append(ticket_view(ticket, team_name, place, None if service is None else ahead * service))
    view = {"supplier_id": supplier_id, "serving": serving, "waiting": place, "tickets": tickets}
    return view if ended is None else view | {"ended": ended}


def _announce(tx: Tx, supplier_id: int, *, ended: list[Row], asked: int | None) -> dict[str, Any]:
    """The booth's queue as it now stands, read after its lock.

    The booth is answered with its whole queue; a team with how many wait and
    its own ticket (``asked``), never the other teams'.
    """
    shown_ended = [ticket_view(row, get(tx, Team, row.team_id).name, None) for row in ended]
    service = service_seconds(tx.run(SERVED, {"supplier_id": supplier_id}))
    view = queue_view(tx.run(ACTIVE, {"supplier_id": supplier_id}).mappings(), supplier_id, shown_ended, service)
    tx.emit("queue.updated", view)
    if tx.actor.role != Role.team:
        return {"queue": view}
    mine = next((ticket for ticket in (*view["tickets"], *shown_ended) if ticket["id"] == asked), None)
    return {"queue": {key: view[key] for key in ("supplier_id", "serving", "waiting")}, "ticket": mine}
