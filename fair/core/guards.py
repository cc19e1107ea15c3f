"""The checks many commands share: which fair, which party, in which state.

Lock order.  On PostgreSQL the conditional updates take row locks; every
command takes them in this order, so two commands never wait on each other in
a cycle:

    credential (shared) → negotiation → offering → offering_date → supplier (shared) → team → fair

The fair row comes last: it holds the event counter, bumped just before
commit.  A row is only ever locked after the rows before it, never before;
shared locks (FOR SHARE) are taken on rows that only the organiser's own
single-row commands update (approvals, revocation), so they cannot close a
cycle either.  Commands that end things others may be acting on (closing the
fair, withdrawing an offering) lock only their own row and leave the rest to a
follow-up transaction (``fair.core.commands.Command.then``).

A check made on a plain read is a hint for a quick refusal; what must hold at
commit is checked again by the statement that takes the lock (a conditional
UPDATE, or a SELECT ... FOR SHARE), and every event is built from what that
statement returned or from a read made after it.  A command that needs the
fair open (or not yet closed) says so, and the event counter is bumped only if
the fair's state still allows it: a command racing ``fair.close`` either
commits before the close takes the fair row, and is seen by it, or is refused.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select

from fair.core.commands import Tx
from fair.core.errors import N_, Code, FairError
from fair.core.rows import Row, get, not_found
from fair.models import Fair, FairState, Supplier

ACTING_SUPPLIER = (
    select(Supplier.__table__)
    .where(Supplier.id == bindparam("supplier_id"), Supplier.fair_id == bindparam("fair_id"))
    .with_for_update(read=True)  # an approval withdrawn meanwhile waits for this command, or is seen by it
)


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
    """The supplier behind the actor, who must be approved to act, and stays so until this command commits."""
    row = tx.run(ACTING_SUPPLIER, {"supplier_id": tx.actor.party_id, "fair_id": tx.fair_id}).mappings().first()
    if row is None:
        raise not_found("supplier", tx.actor.party_id)
    supplier = Row(**row)
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
