"""A team's shortlist (意向清单): the offerings it means to buy, and how many of each.

Before the fair opens (in preview) and during it, a team puts offerings on its
shortlist to plan its day: which booths to meet, and what the budget would
leave if it bought them all (the tablet adds the prices up).  A shortlist
binds nothing and takes nothing: only a confirmed order does.  It is the
team's own, and no other party sees it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update

from fair.core.actors import Role
from fair.core.commands import Tx, command
from fair.core.errors import N_, Code, FairError
from fair.core.guards import current_fair, require_approved_team, require_not_closed
from fair.core.inputs import OfferingRef, PutOnShortlist
from fair.core.orders import require_published
from fair.core.rows import get, insert_row, new, returned
from fair.core.views import shortlist_view
from fair.models import Offering, ShortlistItem, Team


@command("shortlist.put", PutOnShortlist, Role.team)
def put(tx: Tx, data: PutOnShortlist) -> dict[str, Any]:
    """Put an offering on the shortlist, or change how many of it the team means to buy."""
    require_approved_team(get(tx, Team, tx.actor.party_id))
    require_not_closed(tx, current_fair(tx))
    require_published(get(tx, Offering, data.offering_id))
    mine = (ShortlistItem.team_id == tx.actor.party_id, ShortlistItem.offering_id == data.offering_id)
    values = {"quantity": data.quantity, "note": data.note, "updated_at": tx.now}
    item = returned(tx.run(update(ShortlistItem).where(*mine).values(**values).returning(ShortlistItem.__table__)))
    if item is None:
        fields = {"fair_id": tx.fair_id, "team_id": tx.actor.party_id, "offering_id": data.offering_id}
        item = insert_row(tx, ShortlistItem, new(ShortlistItem, **fields, **values))
    view = shortlist_view(item)
    tx.emit("shortlist.updated", {"team_id": tx.actor.party_id, "item": view})
    return {"item": view}


@command("shortlist.remove", OfferingRef, Role.team)
def remove(tx: Tx, data: OfferingRef) -> dict[str, Any]:
    mine = (ShortlistItem.team_id == tx.actor.party_id, ShortlistItem.offering_id == data.offering_id)
    if tx.run(select(ShortlistItem.id).where(*mine)).first() is None:
        raise FairError(Code.not_found, N_("This offering is not on your shortlist."))
    tx.run(delete(ShortlistItem).where(*mine))
    removed = {"offering_id": data.offering_id}
    tx.emit("shortlist.updated", {"team_id": tx.actor.party_id, "removed": removed})
    return {"removed": removed}
