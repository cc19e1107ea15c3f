"""What a team is looking for and what a booth does best (b2match's "looking for" and "offering").

Each party says it itself, as categories, audiences and themes (words looked
for in offerings' titles and descriptions: 越剧, 非遗), and a team the days it
would have a service on and the seats of its largest venue (a booth's days
and the seats it needs are on its offerings); the matching counts
both ways (``fair.core.matching``): an offering of what the team looks for
ranks up on its tablet, a team looking for what the booth does best ranks up
on the booth's list, and where both hold the fit is mutual and flagged on
both sides.  The residents' wishes still weigh more than either.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update

from fair.core.actors import Role
from fair.core.commands import Tx, command
from fair.core.errors import N_, Code, FairError
from fair.core.guards import acting_supplier, require_approved_team
from fair.core.inputs import SetInterests
from fair.core.organiser import announce_supplier, announce_team
from fair.core.rows import get, returned
from fair.models import Supplier, Team


@command("interests.set", SetInterests, Role.team, Role.supplier)
def set_interests(tx: Tx, data: SetInterests) -> dict[str, Any]:
    """Say what the team looks for, or what the booth does best; empty lists for no preference."""
    categories, audiences = [str(c) for c in data.categories], list(data.audiences)
    if tx.actor.role == Role.team:
        require_approved_team(get(tx, Team, tx.actor.party_id))
        changed = update(Team).where(Team.id == tx.actor.party_id)
        changed = changed.values(
            wanted_categories=categories,
            wanted_audiences=audiences,
            wanted_themes=data.themes,
            wanted_dates=data.dates,
            venue_seats=data.venue_seats,
        )
        return announce_team(tx, returned(tx.run(changed.returning(Team.__table__))))
    supplier = acting_supplier(tx)
    if data.dates:
        raise FairError(Code.invalid_input, N_("A booth's days are its offerings' dates: set them on the offerings."))
    if data.venue_seats:
        raise FairError(Code.invalid_input, N_("A booth says the seats its offerings need on each offering."))
    changed = update(Supplier).where(Supplier.id == supplier.id)
    changed = changed.values(best_categories=categories, best_audiences=audiences, best_themes=data.themes)
    return announce_supplier(tx, returned(tx.run(changed.returning(Supplier.__table__))))
