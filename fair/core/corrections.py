"""Corrections by the organiser, each with a reason that stays in the event log: voiding an order and
reopening a fair closed by mistake.

Voiding gives back everything the order took, in one transaction and by the
same conditional updates that took it (``fair.core.orders``), in the hall's
lock order after the order's own row (and its deliveries' rows before it, as
``fair.core.deliveries`` locks them): units and dates to the offering, money
to the team's budget (or its own-funds and subsidy figures), the subsidy to
the bureau's pool, the answer to the resident's wish, and the venues' times
of its deliveries still to come, cancelled with the void's reason.  Once one
of its deliveries has begun, an order can no longer be voided: the service
was given.  The order stays, marked voided with its reason, and counts
nowhere any more: not in the tally, the reports or the recommendations.  Its
negotiation stays confirmed, as the record of what was agreed; the two
parties may negotiate again.

Reopening undoes a close within ``REOPEN_WITHIN`` of it.  What the close
expired stays expired: both parties saw it end, and may open a new
negotiation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, update
from sqlmodel import col

from fair.core import deliveries, wishes
from fair.core.actors import Role
from fair.core.commands import Tx, command
from fair.core.errors import N_, Code, FairError
from fair.core.guards import current_fair
from fair.core.inputs import Id, Input, Line
from fair.core.labels import FAIR_STATES
from fair.core.rows import get, returned
from fair.core.views import REOPEN_WITHIN, budget_view, fair_view, order_view
from fair.models import Fair, FairState, Funding, Offering, OfferingDate, Order, Supplier, Team, Wish


class VoidOrder(Input):
    order_id: Id
    reason: Line(200, min_length=2)


class ReopenFair(Input):
    reason: Line(200, min_length=2)


VOID = (
    update(Order)
    .where(Order.id == bindparam("order_id"), Order.fair_id == bindparam("of_fair"), col(Order.voided_at).is_(None))
    .values(voided_at=bindparam("now"), void_reason=bindparam("reason"))
    .returning(Order.__table__)
)
RELEASE_UNITS = (
    update(Offering)
    .where(Offering.id == bindparam("offering_id"))
    .values(sold=Offering.sold - bindparam("quantity"))
    .returning(Offering.__table__)
)
RELEASE_DATES = (
    update(OfferingDate)
    .where(OfferingDate.negotiation_id == bindparam("of_negotiation"))
    .values(negotiation_id=None)
    .returning(OfferingDate.day)
)
REFUND = (
    update(Team)
    .where(Team.id == bindparam("team_id"))
    .values(
        spent_fen=Team.spent_fen - bindparam("government"),
        self_funded_fen=Team.self_funded_fen - bindparam("own_funds"),
        subsidy_fen=Team.subsidy_fen - bindparam("subsidy"),
    )
    .returning(Team.__table__)
)
RETURN_SUBSIDY = (
    update(Fair)
    .where(Fair.id == bindparam("fair_id"))
    .values(subsidy_used_fen=Fair.subsidy_used_fen - bindparam("subsidy"))
    .returning(Fair.__table__)
)
UNANSWER = (
    update(Wish)
    .where(Wish.id == bindparam("wish_id"), Wish.answers > 0)
    .values(answers=Wish.answers - 1)
    .returning(Wish.__table__)
)


@command("order.void", VoidOrder, Role.organiser)
def void(tx: Tx, data: VoidOrder) -> dict[str, Any]:
    fair = current_fair(tx)
    deliveries.hold_of_the_order(tx, data.order_id)
    order = returned(
        tx.run(VOID, {"order_id": data.order_id, "of_fair": fair.id, "now": tx.now, "reason": data.reason})
    )
    if order is None:
        get(tx, Order, data.order_id)  # not found, or another fair's: refused as not found
        raise FairError(Code.invalid_state, N_("This order is already voided."))
    deliveries.cancel_with_the_order(tx, order)
    offering = returned(tx.run(RELEASE_UNITS, {"offering_id": order.offering_id, "quantity": order.quantity}))
    freed = sorted(day.isoformat() for day in tx.run(RELEASE_DATES, {"of_negotiation": order.negotiation_id}).scalars())
    own_funds = order.amount_fen if order.funding == Funding.self_funded else 0
    refund = {"government": order.government_fen, "own_funds": own_funds, "subsidy": order.subsidy_fen}
    team = returned(tx.run(REFUND, {"team_id": order.team_id, **refund}))
    wish = pool = None
    if order.wish_id is not None:
        wish = returned(tx.run(UNANSWER, {"wish_id": order.wish_id}))
    if order.subsidy_fen:
        pool = returned(tx.run(RETURN_SUBSIDY, {"fair_id": fair.id, "subsidy": order.subsidy_fen}))
    event = {
        "order": order_view(order, team, get(tx, Supplier, order.supplier_id)),
        "offering": {
            "id": offering.id,
            "sold": offering.sold,
            "remaining": offering.capacity - offering.sold,
            "freed_dates": freed,
        },
        "budget": budget_view(team),
    }
    tx.emit("order.voided", event)
    if wish is not None:
        wishes.announce(tx, wish, was_public=True)
    if pool is not None:
        tx.emit("fair.updated", {"fair": fair_view(pool)})
    return {"order": event}


@command("fair.reopen", ReopenFair, Role.organiser)
def reopen(tx: Tx, data: ReopenFair) -> dict[str, Any]:
    fair = current_fair(tx)
    if fair.state != FairState.closed:
        raise FairError(
            Code.invalid_state,
            N_("The fair is %(state_label)s: only a closed fair can be reopened."),
            state_label=FAIR_STATES[fair.state],
        )
    if fair.closed_at is None or tx.now - fair.closed_at > REOPEN_WITHIN:
        raise FairError(
            Code.invalid_state,
            N_("A fair can be reopened only within %(hours)s hours of closing."),
            hours=REOPEN_WITHIN // dt.timedelta(hours=1),
        )
    reopened = returned(
        tx.run(
            update(Fair)
            .where(Fair.id == fair.id, Fair.state == FairState.closed)
            .values(state=FairState.open, closed_at=None)
            .returning(Fair.__table__)
        )
    )
    view = fair_view(reopened)
    tx.emit("fair.reopened", {"fair": view, "reason": data.reason})
    return {"fair": view}
