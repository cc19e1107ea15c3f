"""Loading what a command acts on, with the checks every command shares.

Objects of another fair are reported as not found, never as forbidden, so that
ids do not leak across fairs.

Lock order.  On PostgreSQL the conditional updates take row locks; every
command takes them in this order, so two commands never wait on each other in
a cycle: negotiation, offering, offering_date, team, fair (the fair row last:
it holds the event counter).
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import SQLModel

from fair.core.commands import Tx
from fair.core.errors import N_, Code, FairError
from fair.core.labels import THINGS
from fair.models import Fair, FairState, Supplier, Team

Row = TypeVar("Row", bound=SQLModel)


async def get(tx: Tx, model: type[Row], id: int) -> Row:
    row = await tx.session.get(model, id)
    if row is None or getattr(row, "fair_id", tx.fair_id) != tx.fair_id:
        raise not_found(model.__tablename__, id)
    return row


def not_found(thing: str, id: int) -> FairError:
    return FairError(Code.not_found, N_("No such %(what_label)s: %(id)s."), what_label=THINGS[thing], id=id)


async def current_fair(tx: Tx) -> Fair:
    if tx.fair_id is None:
        raise FairError(Code.not_found, N_("There is no fair yet."))
    return await get(tx, Fair, tx.fair_id)


def require_not_closed(fair: Fair) -> None:
    if fair.state == FairState.closed:
        raise FairError(Code.fair_not_open, N_("The fair is closed."))


def require_open(fair: Fair) -> None:
    if fair.state != FairState.open:
        raise FairError(Code.fair_not_open, N_("Orders are confirmed only while the fair is open."))


async def acting_supplier(tx: Tx) -> Supplier:
    """The supplier behind the actor, who must be approved to act."""
    supplier = await get(tx, Supplier, tx.actor.party_id)
    if not supplier.approved:
        raise FairError(Code.forbidden, N_("Your booth is not approved yet."))
    return supplier


async def acting_team(tx: Tx) -> Team:
    team = await get(tx, Team, tx.actor.party_id)
    if not team.approved:
        raise FairError(Code.forbidden, N_("Your team is not approved yet."))
    return team


def mirror(row: SQLModel, **values: object) -> None:
    """Show on a loaded row what a conditional UPDATE already wrote.

    The row's new values are needed for the views; setting them plainly would
    make the session write them again, unconditionally, at commit.
    """
    for key, value in values.items():
        set_committed_value(row, key, value)
