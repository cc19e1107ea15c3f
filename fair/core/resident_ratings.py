"""Residents rate what came to their street: a QR code shown at the event, a rating from 1 to 5, moderated.

The venue's card carries a second QR code for the audience (``/rate/<token>``,
the delivery's id signed for this purpose only).  A phone rates a delivery
once (one row per delivery and device, and a replayed request is the same
request), only once the event has begun, and at the pace the residents' page
allows.  A rating is published in the booth's record after an organiser
approves it; a rejection keeps its reason.  The author is never shown.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StrictInt, StrictStr
from sqlalchemy import select, update
from sqlmodel import col

from fair.core.actors import Role
from fair.core.commands import Tx, command
from fair.core.errors import N_, Code, FairError
from fair.core.guards import current_fair
from fair.core.inputs import Id, Input, ResidentText
from fair.core.rows import get, insert_row, new, returned
from fair.models import Delivery, DeliveryState, Order, ResidentRating, Supplier, WishStatus

TAKEN_PLACE = (DeliveryState.under_way, DeliveryState.delivered, DeliveryState.evaluated)


class RateDelivery(Input):
    delivery_id: Id
    rating: Annotated[StrictInt, Field(ge=1, le=5)]
    comment: ResidentText(200, 0) = ""


class ModerateRating(Input):
    rating_id: Id
    decision: Annotated[StrictStr, Field(pattern="^(approve|reject)$")]
    reason: ResidentText(200, 0) = ""


def rating_view(rating: Any, offering_title: str, supplier_name: str) -> dict[str, Any]:
    return {
        "id": rating.id,
        "delivery_id": rating.delivery_id,
        "supplier_id": rating.supplier_id,
        "supplier_name": supplier_name,
        "offering_title": offering_title,
        "rating": rating.rating,
        "comment": rating.comment,
        "status": rating.status,
        "reason": rating.reason,
        "created_at": rating.created_at.isoformat(),
    }


@command("rating.submit", RateDelivery, Role.resident)
def submit(tx: Tx, data: RateDelivery) -> dict[str, Any]:
    current_fair(tx)
    delivery = get(tx, Delivery, data.delivery_id)
    if delivery.state not in TAKEN_PLACE:
        raise FairError(Code.invalid_state, N_("Ratings open when the event has begun."))
    already = tx.run(
        select(ResidentRating.id).where(
            ResidentRating.delivery_id == delivery.id, ResidentRating.device == tx.actor.resident_key
        )
    ).first()
    if already is not None:
        raise FairError(Code.invalid_state, N_("This phone has rated this event already. Thank you!"))
    rating = new(
        ResidentRating,
        fair_id=tx.fair_id,
        delivery_id=delivery.id,
        supplier_id=delivery.supplier_id,
        device=tx.actor.resident_key,
        rating=data.rating,
        comment=data.comment,
        created_at=tx.now,
    )
    return _announce(tx, insert_row(tx, ResidentRating, rating))


@command("rating.moderate", ModerateRating, Role.organiser)
def moderate(tx: Tx, data: ModerateRating) -> dict[str, Any]:
    current_fair(tx)
    rating = get(tx, ResidentRating, data.rating_id)
    if data.decision == "reject" and not data.reason:
        raise FairError(Code.invalid_input, N_("Say why the rating is rejected."))
    status = WishStatus.approved if data.decision == "approve" else WishStatus.rejected
    moved = returned(
        tx.run(
            update(ResidentRating)
            .where(ResidentRating.id == rating.id, col(ResidentRating.status) == WishStatus.pending)
            .values(status=status, reason=data.reason if status == WishStatus.rejected else "")
            .returning(ResidentRating.__table__)
        )
    )
    if moved is None:
        raise FairError(Code.invalid_state, N_("This rating has been moderated already."))
    return _announce(tx, moved)


def _announce(tx: Tx, rating: Any) -> dict[str, Any]:
    """To the organiser only: a rating is published in the booth's record (the vetting export) once approved."""
    delivery = get(tx, Delivery, rating.delivery_id)
    order = get(tx, Order, delivery.order_id)
    supplier = get(tx, Supplier, rating.supplier_id)
    view = rating_view(rating, order.offering_title, supplier.name)
    tx.emit("rating.updated", {"rating": view})
    return {"rating": view}
