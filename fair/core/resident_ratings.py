"""Residents rate what came to their street, once each, only if they were there; moderated before it counts.

The venue's card carries a QR code for the audience (``/rate/<token>``, the
delivery's id signed for this purpose only); the page asks for the code shown
at the event (``fair.core.presence``), which a scan of the venue's screen
fills in.  A rating counts only from a confirmed resident recorded present
(``no_proof`` otherwise, over HTTP and the socket alike), from the event's
start until ``RATING_DAYS`` after its end.  One rating per resident and
delivery: rating again changes it (and it is read again by an organiser),
never adds a second.  A rating is published in the booth's record after an
organiser approves it; a rejection keeps its reason.  The author is never shown.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import Field, StrictInt, StrictStr
from sqlalchemy import update
from sqlmodel import col

from fair.core.actors import Role
from fair.core.commands import Tx, command
from fair.core.errors import N_, Code, FairError
from fair.core.guards import current_fair
from fair.core.inputs import Id, Input, ResidentText, SixDigits
from fair.core.presence import check_in, was_there
from fair.core.residents import require_resident
from fair.core.rows import get, insert_row, new, returned
from fair.models import Delivery, DeliveryState, Order, ResidentRating, Supplier, WishStatus

TAKEN_PLACE = (DeliveryState.under_way, DeliveryState.delivered, DeliveryState.evaluated)
RATING_DAYS = 3  # days after an event's end its audience may still rate it


class RateDelivery(Input):
    delivery_id: Id
    rating: Annotated[StrictInt, Field(ge=1, le=5)]
    comment: ResidentText(200, 0) = ""
    code: SixDigits | None = None  # the code shown at the event, for a phone not yet recorded there


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
        "proven": rating.resident_id is not None,  # rows from before phones were confirmed are not
        "created_at": rating.created_at.isoformat(),
        "updated_at": rating.updated_at.isoformat(),
    }


@command("rating.submit", RateDelivery, Role.resident)
def submit(tx: Tx, data: RateDelivery) -> dict[str, Any]:
    """A resident who was there rates the event, or changes their rating: one per person, never stacked."""
    current_fair(tx)
    resident_id = require_resident(tx)
    delivery = get(tx, Delivery, data.delivery_id)
    if delivery.state not in TAKEN_PLACE or tx.now < delivery.starts_at:
        raise FairError(Code.invalid_state, N_("Ratings open when the event has begun."))
    if tx.now > delivery.ends_at + dt.timedelta(days=RATING_DAYS):
        raise FairError(
            Code.invalid_state,
            N_("Ratings close %(days)s days after the event: this one has closed."),
            days=RATING_DAYS,
        )
    if data.code is not None:
        check_in(tx, delivery, resident_id, data.code)
    elif not was_there(tx, delivery.id, resident_id):
        raise FairError(
            Code.no_proof, N_("Ratings count from people who were there: type the code shown at the event.")
        )
    changed = returned(
        tx.run(
            update(ResidentRating)
            .where(ResidentRating.delivery_id == delivery.id, ResidentRating.resident_id == resident_id)
            .values(rating=data.rating, comment=data.comment, status=WishStatus.pending, reason="", updated_at=tx.now)
            .returning(ResidentRating.__table__)
        )
    )
    if changed is not None:
        return _announce(tx, changed)
    rating = new(
        ResidentRating,
        fair_id=tx.fair_id,
        delivery_id=delivery.id,
        supplier_id=delivery.supplier_id,
        resident_id=resident_id,
        rating=data.rating,
        comment=data.comment,
        created_at=tx.now,
        updated_at=tx.now,
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
