"""The audit history: every change by anyone, read back from the event log, newest first.

The event log is already the record of every change (who did it, when, and
the whole object as it became), so the history is a read of it, filtered by
the party it concerns and the kind of change.  A party is concerned by an
event it made or one routed to its room (``fair.core.visibility``): the same
rule that decides which screens saw it.  A page scans at most ``SCAN`` events
back, so that a narrow filter over a long day costs a bounded read; the
console asks for the next page from where this one stopped.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StrictStr
from sqlmodel import desc, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fair.core.actors import Actor, Role
from fair.core.errors import N_, Code, FairError
from fair.core.inputs import Id, Input
from fair.core.labels import EVENTS
from fair.core.visibility import route
from fair.models import Event

PAGE = 100
SCAN = 5_000
BATCH = 500


class AuditQuery(Input):
    party: Annotated[StrictStr, Field(pattern=r"^(|organiser|system|team:\d{1,12}|supplier:\d{1,12})$")] = ""
    kind: Annotated[StrictStr, Field(pattern=r"^(|[a-z_]{1,30})$")] = ""  # "order" for order.*, "" for all
    before: Id | None = None


def concerns(event: Event, party: str) -> bool:
    if not party or event.actor == party:
        return True
    return party in route(event.type, event.payload).parties


async def history(session: AsyncSession, actor: Actor, query: AuditQuery) -> dict[str, Any]:
    """A page of the history, newest first, and where the next page starts (None at the beginning of the log)."""
    if actor.role != Role.organiser:
        raise FairError(Code.forbidden, N_("Your role may not do this."))
    found: list[dict[str, Any]] = []
    upper = query.before
    scanned = 0
    while len(found) < PAGE and scanned < SCAN:
        statement = select(Event).where(Event.fair_id == actor.fair_id)
        if upper is not None:
            statement = statement.where(Event.seq < upper)
        if query.kind:
            statement = statement.where(Event.type.startswith(query.kind + ".", autoescape=True))
        batch = (await session.exec(statement.order_by(desc(Event.seq)).limit(BATCH))).all()
        for event in batch:
            upper = event.seq
            if concerns(event, query.party):
                found.append(entry(event))
                if len(found) == PAGE:
                    break
        scanned += len(batch)
        if len(batch) < BATCH:
            return {"events": found, "next_before": upper if len(found) == PAGE else None}
    return {"events": found, "next_before": upper}


def entry(event: Event) -> dict[str, Any]:
    """One line of the history: ``label`` names the kind of event in words (a msgid), ``type`` as the log has it."""
    return {
        "seq": event.seq,
        "type": event.type,
        "label": EVENTS.get(event.type, event.type),
        "actor": event.actor,
        "at": event.created_at.isoformat(),
        "data": event.payload,
    }
