"""The checks many commands share: which fair, which party, in which state.

Lock order.  On PostgreSQL the conditional updates take row locks; every
command takes them in this order, so two commands never wait on each other in
a cycle: negotiation, offering, offering_date, team, fair (the fair row last:
it holds the event counter).  A command that needs the fair open (or not yet
closed) says so, and the event counter is bumped only if the fair's state
still allows it; a command racing ``fair.close`` either commits before the
close takes the fair row, and is seen by it, or is refused.
"""

from __future__ import annotations

from fair.core.commands import Tx
from fair.core.errors import N_, Code, FairError
from fair.core.rows import Row, get
from fair.models import Fair, FairState, Supplier


def current_fair(tx: Tx) -> Row:
    if tx.fair_id is None:
        raise FairError(Code.not_found, N_("There is no fair yet."))
    return get(tx, Fair, tx.fair_id)


def require_not_closed(tx: Tx, fair: Row) -> None:
    """The fair must not be closed: now, and still at commit (see ``Tx.fair_states``)."""
    if fair.state == FairState.closed:
        raise FairError(Code.fair_not_open, N_("The fair is closed."))
    tx.fair_states = (FairState.setup, FairState.open)


def require_open(tx: Tx, fair: Row) -> None:
    """The fair must be open: now, and still at commit."""
    if fair.state != FairState.open:
        raise FairError(Code.fair_not_open, N_("Orders are confirmed only while the fair is open."))
    tx.fair_states = (FairState.open,)


def acting_supplier(tx: Tx) -> Row:
    """The supplier behind the actor, who must be approved to act."""
    supplier = get(tx, Supplier, tx.actor.party_id)
    require_approved_supplier(supplier)
    return supplier


def require_approved_supplier(supplier: Row) -> None:
    if not supplier.approved:
        raise FairError(Code.forbidden, N_("Your booth is not approved yet."))


def require_approved_counterparty(party: Row) -> None:
    """The other side must be approved too: an unapproved booth sells nothing, an unapproved team buys nothing."""
    if not party.approved:
        raise FairError(Code.forbidden, N_("The other party is not approved at this fair."))


def require_approved_team(team: Row) -> None:
    if not team.approved:
        raise FairError(Code.forbidden, N_("Your team is not approved yet."))
