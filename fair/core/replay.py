"""The fair day again, from the event log alone: the board's figures after each order, for a time-lapse.

Each order confirmed or voided is folded into an empty tally by the one
definition of how orders count (``tally.add``), so the last frame is the
tally a fresh read gives now, and a test holds it to that.  Only what the
public board shows leaves: the figures and the ticker's latest orders.
"""

from __future__ import annotations

import copy
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fair.core import tally
from fair.core.actors import Actor
from fair.core.errors import N_, Code, FairError
from fair.core.views import fair_view
from fair.core.visibility import public_fair
from fair.models import Event, Fair

SHOWN = ("headline", "total", "by_district", "coverage", "latest")


async def board(session: AsyncSession, actor: Actor) -> dict[str, Any]:
    """What a board needs to replay the day: the fair as the public sees it, and the frames."""
    fair = await session.get(Fair, actor.fair_id)
    if fair is None:
        raise FairError(Code.not_found, N_("There is no fair yet."))
    return {"fair": public_fair(fair_view(fair)), "frames": await frames(session, actor.fair_id)}


async def frames(session: AsyncSession, fair_id: int) -> list[dict[str, Any]]:
    """After each tally event, in order: its sequence number, its time, and the board's figures then."""
    counted = tally.empty()
    standing: dict[int, dict[str, Any]] = {}
    shown = []
    events = await session.exec(
        select(Event).where(Event.fair_id == fair_id, col(Event.type).in_(tally.TALLY_EVENTS)).order_by(Event.seq)
    )
    for event in events:
        order = event.payload["order"]
        sign = 1 if event.type == "order.confirmed" else -1
        tally.add(
            counted,
            order["category"],
            order["district"],
            sign,
            sign * order["quantity"],
            sign * order["amount_fen"],
            sign * order["government_fen"],
            sign * order["subsidy_fen"],
        )
        if sign > 0:
            standing[order["id"]] = tally.public_order(order)
        else:
            standing.pop(order["id"], None)
        counted["latest"] = [standing[key] for key in sorted(standing, reverse=True)[: tally.LATEST]]
        shown.append(
            {
                "seq": event.seq,
                "at": event.created_at.isoformat(),
                "tally": copy.deepcopy({k: counted[k] for k in SHOWN}),
            }
        )
    return shown
