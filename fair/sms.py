"""Text messages to residents' phones: the outbox the core writes (``TextMessage``), and who reads it.

The core writes each message in the transaction that decides it (a one-time
code, ``fair.core.residents``), so a message is never sent for a change that
rolled back.  Delivering them is a gateway's job, and none is built in:
this machine reaches no operator, and a gateway never tried would be worse
than none.  So nothing is sent, and the organiser's console shows the outbox
instead, saying that no message left this computer (the demo and the tests
read their codes there).  A deployment adds its operator's gateway here: a
task that sends the unsent messages in id order and stamps ``sent_at``.

``confirmed_resident`` walks the real confirmation (ask, read the outbox,
type the code back) for the demo's residents and the tests'.
"""

from __future__ import annotations

import re
from typing import Any

from sqlmodel import desc, select

from fair.core import Actor, execute
from fair.db import Database
from fair.models import TextMessage

OUTBOX_SHOWN = 50  # messages the console lists, newest first
_CODE = re.compile(r"\d{6}")


async def outbox(db: Database, limit: int = OUTBOX_SHOWN) -> list[dict[str, Any]]:
    """The newest messages, for the organiser's console when no gateway sends them."""
    async with db.read() as session:
        rows = await session.exec(select(TextMessage).order_by(desc(TextMessage.id)).limit(limit))
        return [
            {"id": row.id, "phone": row.phone, "text": row.text, "created_at": row.created_at.isoformat()}
            for row in rows
        ]


async def last_code(db: Database, phone: str) -> str | None:
    """The code in the newest message to ``phone``, as the phone's owner would read it."""
    async with db.read() as session:
        text = (
            await session.exec(
                select(TextMessage.text).where(TextMessage.phone == phone).order_by(desc(TextMessage.id)).limit(1)
            )
        ).first()
    found = _CODE.search(text or "")
    return found.group() if found else None


async def confirmed_resident(db: Database, fair_id: int, phone: str, device: str | None = None) -> Actor:
    """A resident on a phone that confirmed ``phone`` as a person would: asked for a code, read it, typed it."""
    device = device or f"device-of-{phone}"
    unconfirmed = Actor.resident(fair_id, device)
    await execute(db, unconfirmed, "resident.ask_code", {"phone": phone}, f"ask-{phone}")
    code = await last_code(db, phone)
    confirmed = await execute(db, unconfirmed, "resident.confirm", {"phone": phone, "code": code}, f"confirm-{phone}")
    return Actor.resident(fair_id, device, confirmed.data["resident_id"])
