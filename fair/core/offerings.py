"""A supplier's booth: publishing, updating, spotlighting and withdrawing offerings.

An offering never loses what it has sold: its capacity cannot drop below the
units already ordered, and bookable dates can be added but not removed.
Withdrawing an offering ends the negotiations still open on it, each with an
event to both parties (in a follow-up transaction); its confirmed orders stand.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert, update

from fair.core import negotiations
from fair.core.actors import Role
from fair.core.commands import Tx, command
from fair.core.errors import N_, Code, FairError
from fair.core.guards import acting_supplier, current_fair, require_not_closed
from fair.core.inputs import OfferingRef, PublishOffering, UpdateOffering
from fair.core.orders import free_dates, require_published
from fair.core.rows import Row, get, insert_row, new, returned
from fair.core.views import offering_view
from fair.models import Offering, OfferingDate, OfferingStatus


@command("offering.publish", PublishOffering, Role.supplier)
def publish(tx: Tx, data: PublishOffering) -> dict[str, Any]:
    supplier = acting_supplier(tx)
    require_not_closed(tx, current_fair(tx))
    if data.dates and data.capacity > len(data.dates):
        raise FairError(
            Code.invalid_input,
            N_("A dated offering sells one %(unit)s per date: its capacity is at most %(count)s."),
            unit=data.unit,
            count=len(data.dates),
        )
    offering = new(
        Offering,
        fair_id=tx.fair_id,
        supplier_id=supplier.id,
        created_at=tx.now,
        updated_at=tx.now,
        **data.model_dump(exclude={"dates"}),
    )
    insert_row(tx, Offering, offering)
    _add_dates(tx, offering.id, data.dates)
    return _announce(tx, "offering.published", offering, supplier)


@command("offering.update", UpdateOffering, Role.supplier)
def update_offering(tx: Tx, data: UpdateOffering) -> dict[str, Any]:
    offering, supplier = _own_offering(tx, data.offering_id)
    require_published(offering)
    changes = data.model_dump(exclude={"offering_id", "add_dates"}, exclude_none=True)
    if "capacity" in changes and changes["capacity"] < offering.sold:
        raise _below_sold(offering.sold, offering.unit)
    dates = free_dates(tx, offering.id)
    new_dates = [day for day in data.add_dates if day not in dates]
    if dates or new_dates:
        limit = len(dates) + len(new_dates)
        if changes.get("capacity", offering.capacity) > limit:
            raise FairError(
                Code.invalid_input,
                N_("A dated offering sells one %(unit)s per date: its capacity is at most %(count)s."),
                unit=offering.unit,
                count=limit,
            )
    if not changes and not new_dates:
        raise FairError(Code.invalid_input, N_("Nothing to change."))
    changes["updated_at"] = tx.now
    where = [Offering.id == offering.id, Offering.status == OfferingStatus.published]
    if "capacity" in changes:
        where.append(Offering.sold <= changes["capacity"])  # again, against orders confirmed meanwhile
    updated = returned(tx.run(update(Offering).where(*where).values(**changes).returning(Offering.__table__)))
    if updated is None:
        now = get(tx, Offering, offering.id)
        require_published(now)
        raise _below_sold(now.sold, now.unit)
    _add_dates(tx, offering.id, new_dates)
    return _announce(tx, "offering.updated", updated, supplier)


@command("offering.spotlight", OfferingRef, Role.supplier)
def spotlight(tx: Tx, data: OfferingRef) -> dict[str, Any]:
    """Push an offering to every tablet in the hall, marked as new."""
    offering, supplier = _own_offering(tx, data.offering_id)
    require_published(offering)
    require_not_closed(tx, current_fair(tx))
    lit = _set_published(tx, offering.id, spotlight_at=tx.now)
    return _announce(tx, "offering.spotlighted", lit, supplier)


@command("offering.withdraw", OfferingRef, Role.supplier, then=negotiations.expire_stranded)
def withdraw(tx: Tx, data: OfferingRef) -> dict[str, Any]:
    """Withdraw an offering; the negotiations still open on it then expire (see ``fair.core.guards``).

    Only the offering is locked here: an accept in flight finds it withdrawn
    when it takes units, an opening negotiation when it checks the offering
    under its lock, and the follow-up expires whatever was open before.
    """
    offering, supplier = _own_offering(tx, data.offering_id)
    require_published(offering)
    withdrawn = _set_published(tx, offering.id, status=OfferingStatus.withdrawn, updated_at=tx.now)
    return _announce(tx, "offering.withdrawn", withdrawn, supplier)


def _set_published(tx: Tx, offering_id: int, **values: Any) -> Row:
    """Change a published offering; refused if it was withdrawn at the same moment."""
    where = (Offering.id == offering_id, Offering.status == OfferingStatus.published)
    changed = returned(tx.run(update(Offering).where(*where).values(**values).returning(Offering.__table__)))
    if changed is None:
        require_published(get(tx, Offering, offering_id))  # the only way the update can miss
        raise AssertionError(f"offering {offering_id} is published but was not changed")
    return changed


def _below_sold(sold: int, unit: str) -> FairError:
    return FairError(
        Code.invalid_input,
        N_("%(sold)s %(unit)s are already ordered: the capacity cannot be less."),
        sold=sold,
        unit=unit,
    )


def _own_offering(tx: Tx, offering_id: int) -> tuple[Row, Row]:
    supplier = acting_supplier(tx)
    offering = get(tx, Offering, offering_id)
    if offering.supplier_id != supplier.id:
        raise FairError(Code.not_a_party, N_("This offering belongs to another booth."))
    return offering, supplier


def _add_dates(tx: Tx, offering_id: int, days: list[str]) -> None:
    if days:
        tx.run(
            insert(OfferingDate),
            [{"offering_id": offering_id, "day": dt.date.fromisoformat(day)} for day in days],
        )


def _announce(tx: Tx, type: str, offering: Row, supplier: Row) -> dict[str, Any]:
    """The offering's event, with its dates read now: after the offering's lock, which confirmations take first."""
    view = offering_view(offering, supplier, free_dates(tx, offering.id))
    tx.emit(type, {"offering": view})
    return {"offering": view}
