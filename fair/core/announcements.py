"""Announcements: a short word from the organiser to the hall, at once on the screens it is meant for.

The organiser writes to everyone, to all buyer teams, to all booths, or to
the teams of one district ("鼓楼区的采购团请到 3 号厅"); the announcement
appears on those screens at once and stays in their list until withdrawn.
One marked for the board shows there as a banner, the latest on top: one
line across the projector (three at most on a phone), so it holds at most
``BOARD_TEXT_MAX`` characters, where one for the screens alone may say more.

Each announcement is sent to the rooms of its readers only: the event names
its recipients, read when it is sent, and ``fair.core.visibility`` routes it
to each of them; a screen that syncs later reads the announcements meant for
it (``fair.core.queries``), by the same rule (``meant_for``).
"""

from __future__ import annotations

from typing import Any

from pydantic import StrictBool
from sqlalchemy import select, update
from sqlmodel import col

from fair.core.actors import Actor, Role
from fair.core.commands import Tx, command
from fair.core.errors import N_, Code, FairError
from fair.core.guards import current_fair
from fair.core.inputs import Id, Input, Line, OptionalDistrict
from fair.core.rows import Row, get, insert_row, new, returned
from fair.models import Announcement, AnnouncementAudience, Supplier, Team

# What one line of the board's banner holds at 1920 px (40 px bold, beside its label), with room for wide signs;
# on a 360 px phone it is three lines.  Longer, it would push the districts off a wall that cannot scroll.
BOARD_TEXT_MAX = 40


class SendAnnouncement(Input):
    audience: AnnouncementAudience
    district: OptionalDistrict = ""
    text: Line(200, min_length=2)
    on_board: StrictBool = False


class AnnouncementRef(Input):
    announcement_id: Id


def announcement_view(announcement: Any) -> dict[str, Any]:
    return {
        "id": announcement.id,
        "audience": announcement.audience,
        "district": announcement.district,
        "text": announcement.text,
        "on_board": announcement.on_board,
        "created_at": announcement.created_at.isoformat(),
        "withdrawn": announcement.withdrawn_at is not None,
    }


def meant_for(announcement: Any, actor: Actor, district: str | None = None) -> bool:
    """Whether ``actor`` (a team of ``district``) reads ``announcement``; the organiser reads them all."""
    audience = announcement["audience"] if isinstance(announcement, dict) else announcement.audience
    on_board = announcement["on_board"] if isinstance(announcement, dict) else announcement.on_board
    wanted = announcement["district"] if isinstance(announcement, dict) else announcement.district
    if actor.role == Role.organiser:
        return True
    if actor.role in (Role.public, Role.resident):
        return on_board
    if audience == AnnouncementAudience.everyone:
        return True
    if actor.role == Role.supplier:
        return audience == AnnouncementAudience.booths
    return audience == AnnouncementAudience.teams or (audience == AnnouncementAudience.district and district == wanted)


@command("announcement.send", SendAnnouncement, Role.organiser)
def send(tx: Tx, data: SendAnnouncement) -> dict[str, Any]:
    fair = current_fair(tx)
    if (data.audience == AnnouncementAudience.district) != bool(data.district):
        raise FairError(Code.invalid_input, N_("Name the district when, and only when, writing to one district."))
    if data.on_board and len(data.text) > BOARD_TEXT_MAX:
        raise FairError(
            Code.invalid_input,
            N_(
                "An announcement on the board holds at most %(limit)s characters; this one has %(length)s. "
                "Shorten it, or send it to the screens without the board."
            ),
            limit=BOARD_TEXT_MAX,
            length=len(data.text),
        )
    announcement = insert_row(
        tx, Announcement, new(Announcement, fair_id=fair.id, created_at=tx.now, **data.model_dump())
    )
    return _announce(tx, announcement)


@command("announcement.withdraw", AnnouncementRef, Role.organiser)
def withdraw(tx: Tx, data: AnnouncementRef) -> dict[str, Any]:
    """Take an announcement off the screens (it stays in the organiser's list, marked withdrawn)."""
    get(tx, Announcement, data.announcement_id)
    withdrawn = returned(
        tx.run(
            update(Announcement)
            .where(Announcement.id == data.announcement_id, col(Announcement.withdrawn_at).is_(None))
            .values(withdrawn_at=tx.now)
            .returning(Announcement.__table__)
        )
    )
    if withdrawn is None:
        raise FairError(Code.invalid_state, N_("This announcement is withdrawn already."))
    return _announce(tx, withdrawn)


def _announce(tx: Tx, announcement: Row) -> dict[str, Any]:
    """The event names who reads it: the rooms are chosen when it is sent, by ``meant_for``'s rule."""
    view = announcement_view(announcement)
    readers: dict[str, list[int]] = {"teams": [], "suppliers": []}
    if announcement.audience in (AnnouncementAudience.teams, AnnouncementAudience.district):
        teams = select(Team.id).where(Team.fair_id == tx.fair_id).order_by(Team.id)
        if announcement.audience == AnnouncementAudience.district:
            teams = teams.where(Team.district == announcement.district)
        readers["teams"] = list(tx.run(teams).scalars())
    elif announcement.audience == AnnouncementAudience.booths:
        booths = select(Supplier.id).where(Supplier.fair_id == tx.fair_id).order_by(Supplier.id)
        readers["suppliers"] = list(tx.run(booths).scalars())
    tx.emit("announcement.updated", {"announcement": view, "readers": readers})
    return {"announcement": view}
