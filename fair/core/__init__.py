"""The rules of the fair, in one place that knows nothing of HTTP, Socket.IO or templates.

Adapters call ``execute(db, actor, command, payload, request_id)`` for every
change and the functions of ``queries`` for every read; they translate a
``FairError`` and never decide a rule themselves.
"""

from fair.core import (  # noqa: F401  (registers their commands)
    access,
    announcements,
    appointments,
    corrections,
    deliveries,
    dismissals,
    interests,
    negotiations,
    offerings,
    organiser,
    payments,
    presence,
    queues,
    registers,
    resident_ratings,
    residents,
    sessions,
    shortlists,
    signups,
    threads,
    wishes,
)
from fair.core.actors import Actor, Role
from fair.core.commands import COMMANDS, Outcome, execute, follow_up
from fair.core.errors import Code, FairError
from fair.db import Database

__all__ = ["COMMANDS", "Actor", "Code", "FairError", "Outcome", "Role", "execute", "finish_follow_ups"]


async def finish_follow_ups(db: Database, fair_id: int) -> None:
    """At start-up: finish what a command's follow-up left undone if the process stopped in between."""
    await follow_up(db, fair_id, negotiations.expire_stranded)
