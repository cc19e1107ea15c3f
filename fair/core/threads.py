"""A negotiation as a thread: every version of the terms, and short messages between the two sides.

The versions are the terms themselves (``fair.core.negotiations``), never
changed once written; the messages are the chat that matchmaking platforms
keep beside each meeting ("can you do a Saturday?").  Either side writes,
in any state of the negotiation (an order confirmed still needs a venue's
address); at most ``MESSAGES`` a negotiation, so that a thread stays a
conversation and an event stays small.

Events are increments, so that the write path of an order does not read a
whole thread: a new version of the terms travels in its
``negotiation.updated`` event, and a message in a ``negotiation.message``
event of its own.  A screen appends them to what it holds (the screens'
reducers); a fresh view reads the whole thread (``fair.core.queries``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, select

from fair.core.commands import Tx, command
from fair.core.errors import N_, Code, FairError
from fair.core.inputs import Id, Input, Lines
from fair.core.negotiations import PARTIES, load, side_of
from fair.core.rows import insert_row, new
from fair.models import NegotiationMessage

MESSAGES = 100

COUNT = select(func.count()).where(NegotiationMessage.negotiation_id == bindparam("negotiation_id"))


class SendMessage(Input):
    negotiation_id: Id
    text: Lines(300, min_length=1)


def message_view(message: Any) -> dict[str, Any]:
    return {
        "id": message.id,
        "author": message.author,
        "text": message.text,
        "created_at": message.created_at.isoformat(),
    }


@command("negotiation.message", SendMessage, *PARTIES)
def send(tx: Tx, data: SendMessage) -> dict[str, Any]:
    loaded = load(tx, data.negotiation_id)
    side = side_of(tx, loaded)
    if tx.run(COUNT, {"negotiation_id": data.negotiation_id}).scalar_one() >= MESSAGES:
        raise FairError(Code.invalid_state, N_("This thread is full: %(count)s messages."), count=MESSAGES)
    message = insert_row(
        tx,
        NegotiationMessage,
        new(
            NegotiationMessage,
            negotiation_id=data.negotiation_id,
            author=side,
            text=data.text.strip(),
            created_at=tx.now,
        ),
    )
    negotiation = loaded.negotiation
    view = message_view(message)
    tx.emit(
        "negotiation.message",
        {
            "negotiation_id": negotiation.id,
            "team_id": negotiation.team_id,
            "supplier_id": negotiation.supplier_id,
            "message": view,
        },
    )
    return {"message": view}
