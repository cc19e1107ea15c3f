"""Recommendations set aside: a team's "not interested" in an offering, or a booth's in a team.

A card that keeps coming back after the buyer has said no is noise on a busy
day.  A team sets an offering aside for good, or snoozes it for some hours;
a booth does the same for a team.  What is set aside leaves the list (the
matching lists it apart, with a way back) and lowers its like a little
(``fair.core.matching``); taking it back restores it.  It is the party's own:
its event goes to its own room and nobody else learns of it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select, update

from fair.core.actors import Role
from fair.core.commands import Tx, command
from fair.core.errors import N_, Code, FairError
from fair.core.guards import acting_supplier, require_approved_team
from fair.core.inputs import SetAside, TakeBack
from fair.core.rows import get, insert_row, new, returned
from fair.models import Dismissal, Offering, Supplier, Team


def dismissal_view(row: Any) -> dict[str, Any]:
    return {
        "by": row.by,
        "team_id": row.team_id,
        "supplier_id": row.supplier_id,
        "offering_id": row.offering_id or None,
        "until": row.until.isoformat() if row.until else None,
    }


def _whose(tx: Tx, offering_id: int | None, team_id: int | None) -> dict[str, Any]:
    """The dismissal's key for the acting party: a team names an offering, a booth a team."""
    if tx.actor.role == Role.team:
        if offering_id is None or team_id is not None:
            raise FairError(Code.invalid_input, N_("Name the offering to set aside."))
        require_approved_team(get(tx, Team, tx.actor.party_id))
        offering = get(tx, Offering, offering_id)
        return {
            "by": "team",
            "team_id": tx.actor.party_id,
            "supplier_id": offering.supplier_id,
            "offering_id": offering.id,
        }
    if team_id is None or offering_id is not None:
        raise FairError(Code.invalid_input, N_("Name the team to set aside."))
    supplier = acting_supplier(tx)
    get(tx, Team, team_id)
    return {"by": "booth", "team_id": team_id, "supplier_id": supplier.id, "offering_id": 0}


def _serialise(tx: Tx, key: dict[str, Any]) -> None:
    """Lock the acting party's row (FOR NO KEY UPDATE), so that two of its tablets setting the same card aside
    at one moment take turns: the second finds the first's row and changes it, where both would have found
    none and the second's insert would have failed on the unique key."""
    model, party_id = (Team, key["team_id"]) if key["by"] == "team" else (Supplier, key["supplier_id"])
    tx.run(select(model.id).where(model.id == party_id).with_for_update(key_share=True))


def _key(key: dict[str, Any]) -> tuple:
    return tuple(getattr(Dismissal, name) == value for name, value in key.items())


@command("recommendation.dismiss", SetAside, Role.team, Role.supplier)
def dismiss(tx: Tx, data: SetAside) -> dict[str, Any]:
    """Set a recommendation aside: for good, or for ``hours`` (snoozed); again, to change which."""
    key = _whose(tx, data.offering_id, data.team_id)
    _serialise(tx, key)
    until = tx.now + dt.timedelta(hours=data.hours) if data.hours else None
    row = returned(tx.run(update(Dismissal).where(*_key(key)).values(until=until).returning(Dismissal.__table__)))
    if row is None:
        row = insert_row(tx, Dismissal, new(Dismissal, fair_id=tx.fair_id, until=until, created_at=tx.now, **key))
    view = dismissal_view(row)
    tx.emit("recommendation.dismissed", view)
    return {"dismissed": view}


@command("recommendation.restore", TakeBack, Role.team, Role.supplier)
def restore(tx: Tx, data: TakeBack) -> dict[str, Any]:
    """Take a recommendation set aside back into the list."""
    key = _whose(tx, data.offering_id, data.team_id)
    if tx.run(select(Dismissal.id).where(*_key(key))).first() is None:
        raise FairError(Code.not_found, N_("Nothing of this was set aside."))
    tx.run(delete(Dismissal).where(*_key(key)))
    view = {**key, "offering_id": key["offering_id"] or None}
    tx.emit("recommendation.restored", view)
    return {"restored": view}
