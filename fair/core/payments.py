"""Payments: the bureau records that an order's buyer paid its supplier, for what was delivered.

The fair itself moves no money; the procurement-and-delivery centre pays
against delivery and records each payment here, with the day and the
voucher number, so that the statements say what is paid and outstanding and
the open-contracting export carries the payments as the contract's
transactions (``fair.core.ocds``), each one a record somebody made.

A payment never takes an order past the value of what was delivered (the
delivered units at the order's unit price, as the statements price them), so
never past its amount; a voided order takes none.  The check and the new
total are made under the order's row lock, so two clerks recording at once
cannot together pay more than was delivered.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import Field, StrictInt
from sqlalchemy import bindparam, func, select, update
from sqlmodel import col

from fair.core.actors import Role
from fair.core.commands import Tx, command
from fair.core.deliveries import ORDER_LOCK
from fair.core.errors import N_, Code, FairError
from fair.core.guards import current_fair
from fair.core.inputs import MAX_FEN, Day, Id, Input, Line
from fair.core.rows import get, insert_row, new, returned
from fair.core.views import order_view
from fair.models import Delivery, DeliveryState, Order, Payment, Supplier, Team

DELIVERED_UNITS = select(func.coalesce(func.sum(Delivery.quantity), 0)).where(
    Delivery.order_id == bindparam("order_id"),
    col(Delivery.state).in_((DeliveryState.delivered, DeliveryState.evaluated)),
)
PAY = (
    update(Order)
    .where(Order.id == bindparam("order_id"))
    .values(paid_fen=Order.paid_fen + bindparam("paying"))
    .returning(Order.__table__)
)


class RecordPayment(Input):
    order_id: Id
    amount_fen: Annotated[StrictInt, Field(ge=1, le=MAX_FEN)]
    paid_on: Day
    reference: Line(60, min_length=2)


def payment_view(payment: Any) -> dict[str, Any]:
    return {
        "id": payment.id,
        "order_id": payment.order_id,
        "amount_fen": payment.amount_fen,
        "paid_on": payment.paid_on.isoformat(),
        "reference": payment.reference,
        "created_at": payment.created_at.isoformat(),
    }


@command("payment.record", RecordPayment, Role.organiser)
def record(tx: Tx, data: RecordPayment) -> dict[str, Any]:
    current_fair(tx)
    order = returned(tx.run(ORDER_LOCK, {"order_id": data.order_id}))
    if order is None or order.fair_id != tx.fair_id:
        get(tx, Order, data.order_id)  # refused as not found
    if order.voided_at is not None:
        raise FairError(Code.invalid_state, N_("This order was voided: nothing is paid for it."))
    delivered_fen = tx.run(DELIVERED_UNITS, {"order_id": order.id}).scalar_one() * order.unit_price_fen
    if order.paid_fen + data.amount_fen > delivered_fen:
        raise FairError(
            Code.invalid_input,
            N_("Only %(left_fen)s can be paid: %(delivered_fen)s delivered, %(paid_fen)s paid already."),
            left_fen=max(delivered_fen - order.paid_fen, 0),
            delivered_fen=delivered_fen,
            paid_fen=order.paid_fen,
        )
    payment = insert_row(
        tx,
        Payment,
        new(
            Payment,
            fair_id=tx.fair_id,
            order_id=order.id,
            amount_fen=data.amount_fen,
            paid_on=dt.date.fromisoformat(data.paid_on),
            reference=data.reference,
            recorded_by=tx.actor.credential_id,
            created_at=tx.now,
        ),
    )
    paid = returned(tx.run(PAY, {"order_id": order.id, "paying": data.amount_fen}))
    event = {
        "order": order_view(paid, get(tx, Team, paid.team_id), get(tx, Supplier, paid.supplier_id)),
        "payment": payment_view(payment),
    }
    tx.emit("order.paid", event)
    return event
