"""Meetings at the booths (预约洽谈): slots a booth publishes, and the teams that book or are invited to them.

A booth publishes meeting slots on the fair day.  A team books a free slot
(from its shortlist, usually), or a booth invites a team into one of its slots
and the team accepts or declines; either side may cancel.  A slot is held by
one team at a time, and a team is never in two places at once: both hold
under concurrency, the first by a conditional update of the slot, the second
by checking the team's meetings under a lock on the team.

Lock order (see ``fair.core.guards``): appointment, slot, then the team.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlmodel import col

from fair.core.actors import Role
from fair.core.commands import Tx, command
from fair.core.errors import N_, Code, FairError
from fair.core.guards import (
    acting_supplier,
    current_fair,
    require_approved_counterparty,
    require_approved_team,
    require_not_closed,
)
from fair.core.inputs import AppointmentRef, BookSlot, Invite, PublishSlots, SlotRef
from fair.core.rows import Row, get, insert_row, new, not_found, returned
from fair.core.views import appointment_view, slot_view
from fair.i18n import SHANGHAI
from fair.models import (
    ACTIVE_APPOINTMENT_STATES,
    Appointment,
    AppointmentState,
    Offering,
    Slot,
    Supplier,
    Team,
)

SLOTS_AT_ONCE = 64  # more than a day of 10-minute meetings

HOLD = (
    update(Slot)
    .where(Slot.id == bindparam("slot_id"), col(Slot.team_id).is_(None), Slot.withdrawn.is_(False))
    .values(team_id=bindparam("team_id"))
    .returning(Slot.__table__)
)
RELEASE = update(Slot).where(Slot.id == bindparam("slot_id")).values(team_id=None).returning(Slot.__table__)
# FOR NO KEY UPDATE: it serialises a team's bookings without waiting for inserts that merely reference the team.
TEAM_LOCK = select(Team.id).where(Team.id == bindparam("team_id")).with_for_update(key_share=True)
BOOKED_MEANWHILE = select(Appointment.id).where(
    Appointment.team_id == bindparam("team_id"),
    Appointment.state == AppointmentState.booked,
    Appointment.id != bindparam("appointment_id"),
    Appointment.starts_at < bindparam("ends_at"),
    Appointment.ends_at > bindparam("starts_at"),
)


def local_time(day: dt.date, clock: str) -> dt.datetime:
    """``HH:MM`` in Nanjing on ``day``, in UTC: times are kept, and shown to programs, in UTC."""
    hours, minutes = (int(part) for part in clock.split(":"))
    return dt.datetime.combine(day, dt.time(hours, minutes), SHANGHAI).astimezone(dt.UTC)


@command("slot.publish", PublishSlots, Role.supplier)
def publish_slots(tx: Tx, data: PublishSlots) -> dict[str, Any]:
    """Meeting slots from ``starts`` to ``ends`` on the fair day; none may overlap the booth's others."""
    supplier = acting_supplier(tx)
    fair = current_fair(tx)
    require_not_closed(tx, fair)
    starts, ends = local_time(fair.day, data.starts), local_time(fair.day, data.ends)
    length = dt.timedelta(minutes=data.minutes)
    count = int((ends - starts) / length) if ends > starts else 0
    if count < 1:
        raise FairError(Code.invalid_input, N_("The end must leave room for at least one meeting after the start."))
    if count > SLOTS_AT_ONCE:
        raise FairError(Code.invalid_input, N_("At most %(count)s slots at once."), count=SLOTS_AT_ONCE)
    last = starts + count * length
    overlapping = tx.run(
        select(Slot.id).where(
            Slot.supplier_id == supplier.id, Slot.withdrawn.is_(False), Slot.starts_at < last, Slot.ends_at > starts
        )
    ).first()
    if overlapping is not None:
        raise FairError(Code.invalid_input, N_("These times overlap slots the booth has already published."))
    views = []
    for number in range(count):
        begins = starts + number * length
        slot = new(Slot, fair_id=fair.id, supplier_id=supplier.id, starts_at=begins, ends_at=begins + length)
        views.append(_announce_slot(tx, insert_row(tx, Slot, slot)))
    return {"slots": views}


@command("slot.withdraw", SlotRef, Role.supplier)
def withdraw_slot(tx: Tx, data: SlotRef) -> dict[str, Any]:
    """Take a free slot back; a held one must be cancelled first, so that no team loses a meeting silently."""
    supplier = acting_supplier(tx)
    slot = _slot(tx, data.slot_id)
    if slot.supplier_id != supplier.id:
        raise FairError(Code.not_a_party, N_("This slot belongs to another booth."))
    withdrawn = returned(
        tx.run(
            update(Slot)
            .where(Slot.id == slot.id, col(Slot.team_id).is_(None), Slot.withdrawn.is_(False))
            .values(withdrawn=True)
            .returning(Slot.__table__)
        )
    )
    if withdrawn is None:
        raise FairError(Code.invalid_state, N_("A team holds this slot: cancel the meeting first."))
    return {"slot": _announce_slot(tx, withdrawn)}


@command("appointment.book", BookSlot, Role.team)
def book(tx: Tx, data: BookSlot) -> dict[str, Any]:
    team = get(tx, Team, tx.actor.party_id)
    require_approved_team(team)
    require_not_closed(tx, current_fair(tx))
    slot = _slot(tx, data.slot_id)
    supplier = get(tx, Supplier, slot.supplier_id)
    require_approved_counterparty(supplier)
    title = _offering_title(tx, data.offering_id, supplier.id)
    held = _hold(tx, slot.id, team.id)
    appointment = _insert(tx, held, team.id, data.offering_id, title, AppointmentState.booked, data.message)
    _require_free_team(tx, appointment)
    _announce_slot(tx, held)
    return _announce(tx, appointment, team, supplier)


@command("appointment.invite", Invite, Role.supplier)
def invite(tx: Tx, data: Invite) -> dict[str, Any]:
    """A booth holds one of its slots for a team and asks it to come; the team accepts or declines."""
    supplier = acting_supplier(tx)
    require_not_closed(tx, current_fair(tx))
    slot = _slot(tx, data.slot_id)
    if slot.supplier_id != supplier.id:
        raise FairError(Code.not_a_party, N_("This slot belongs to another booth."))
    team = get(tx, Team, data.team_id)
    require_approved_counterparty(team)
    title = _offering_title(tx, data.offering_id, supplier.id)
    held = _hold(tx, slot.id, team.id)
    appointment = _insert(tx, held, team.id, data.offering_id, title, AppointmentState.invited, data.message)
    _require_free_team(tx, appointment, N_("This team has a meeting at that time already: choose another slot."))
    _announce_slot(tx, held)
    return _announce(tx, appointment, team, supplier)


@command("appointment.accept", AppointmentRef, Role.team)
def accept(tx: Tx, data: AppointmentRef) -> dict[str, Any]:
    """The team takes up a booth's invitation: now it is a meeting, and must not clash with another."""
    appointment, team, supplier = _own(tx, data.appointment_id)
    require_not_closed(tx, current_fair(tx))
    require_approved_team(team)
    booked = _end_or_move(tx, appointment.id, (AppointmentState.invited,), state=AppointmentState.booked)
    _require_free_team(tx, booked)
    return _announce(tx, booked, team, supplier)


@command("appointment.decline", AppointmentRef, Role.team)
def decline(tx: Tx, data: AppointmentRef) -> dict[str, Any]:
    appointment, team, supplier = _own(tx, data.appointment_id)
    moved = _end_or_move(tx, appointment.id, (AppointmentState.invited,), state=AppointmentState.declined)
    return _release(tx, moved, team, supplier)


@command("appointment.cancel", AppointmentRef, Role.team, Role.supplier)
def cancel(tx: Tx, data: AppointmentRef) -> dict[str, Any]:
    """Either side calls a meeting off; the slot is free again for others."""
    appointment, team, supplier = _own(tx, data.appointment_id)
    moved = _end_or_move(tx, appointment.id, ACTIVE_APPOINTMENT_STATES, state=AppointmentState.cancelled)
    return _release(tx, moved, team, supplier)


def _slot(tx: Tx, slot_id: int) -> Row:
    slot = get(tx, Slot, slot_id)
    if slot.withdrawn:
        raise FairError(Code.slot_unavailable, N_("This slot is no longer offered."))
    return slot


def _hold(tx: Tx, slot_id: int, team_id: int) -> Row:
    held = returned(tx.run(HOLD, {"slot_id": slot_id, "team_id": team_id}))
    if held is None:
        raise FairError(Code.slot_unavailable, N_("This slot has just been taken. Choose another."))
    return held


def _insert(tx: Tx, slot: Row, team_id: int, offering_id: int | None, title: str, state: str, message: str) -> Row:
    appointment = new(
        Appointment,
        fair_id=tx.fair_id,
        slot_id=slot.id,
        supplier_id=slot.supplier_id,
        team_id=team_id,
        offering_id=offering_id,
        offering_title=title,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        state=state,
        message=message,
        created_at=tx.now,
        updated_at=tx.now,
    )
    return insert_row(tx, Appointment, appointment)


def _require_free_team(
    tx: Tx, appointment: Row, clash_msgid: str = N_("Your team has another meeting at that time.")
) -> None:
    """No other meeting of the team overlaps this one: checked under the team's lock, so two bookings queue.
    ``clash_msgid``: what the one who asked is told (the team, or a booth inviting it)."""
    tx.run(TEAM_LOCK, {"team_id": appointment.team_id})
    clash = tx.run(
        BOOKED_MEANWHILE,
        {
            "team_id": appointment.team_id,
            "appointment_id": appointment.id,
            "starts_at": appointment.starts_at,
            "ends_at": appointment.ends_at,
        },
    ).first()
    if clash is not None:
        raise FairError(Code.schedule_conflict, clash_msgid)


def _own(tx: Tx, appointment_id: int) -> tuple[Row, Row, Row]:
    """The appointment, its team and its booth, for one of its two parties."""
    appointment = get(tx, Appointment, appointment_id)
    party = appointment.team_id if tx.actor.role == Role.team else appointment.supplier_id
    if party != tx.actor.party_id:
        raise FairError(Code.not_a_party, N_("This meeting is between other parties."))
    return appointment, get(tx, Team, appointment.team_id), get(tx, Supplier, appointment.supplier_id)


def _end_or_move(tx: Tx, appointment_id: int, sources: tuple[str, ...], *, state: str) -> Row:
    ended_by = "" if state == AppointmentState.booked else str(tx.actor.role)
    moved = returned(
        tx.run(
            update(Appointment)
            .where(Appointment.id == appointment_id, col(Appointment.state).in_(sources))
            .values(state=state, ended_by=ended_by, updated_at=tx.now)
            .returning(Appointment.__table__)
        )
    )
    if moved is None:
        raise FairError(Code.invalid_state, N_("This meeting has changed meanwhile: look at it again."))
    return moved


def _release(tx: Tx, appointment: Row, team: Row, supplier: Row) -> dict[str, Any]:
    freed = returned(tx.run(RELEASE, {"slot_id": appointment.slot_id}))
    _announce_slot(tx, freed)
    return _announce(tx, appointment, team, supplier)


def _offering_title(tx: Tx, offering_id: int | None, supplier_id: int) -> str:
    """The title of the offering a meeting is about, which must be the booth's own; "" for none."""
    if offering_id is None:
        return ""
    offering = get(tx, Offering, offering_id)
    if offering.supplier_id != supplier_id:
        raise not_found("offering", offering_id)
    return offering.title


def _announce_slot(tx: Tx, slot: Row) -> dict[str, Any]:
    view = slot_view(slot)
    tx.emit("slot.updated", {"slot": view})
    return view


def _announce(tx: Tx, appointment: Row, team: Row, supplier: Row) -> dict[str, Any]:
    view = appointment_view(appointment, team, supplier)
    tx.emit("appointment.updated", {"appointment": view})
    return {"appointment": view}
