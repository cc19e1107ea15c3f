"""What each party may read, in the same shapes the events carry.

A team reads its own negotiations, orders and budget; a booth its own
offerings, negotiations and orders; everyone reads the published offerings
and the tally.  The reader is always the actor: there is no way to ask for
another party's state, so there is nothing to forget to check.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import true
from sqlmodel import col, desc, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fair.core import tally
from fair.core.actors import Actor, Role
from fair.core.errors import N_, Code, FairError
from fair.core.views import (
    credential_view,
    fair_view,
    negotiation_view,
    offering_view,
    order_view,
    supplier_view,
    team_view,
)
from fair.core.visibility import public_fair, rooms_of, route
from fair.models import (
    Credential,
    Event,
    Fair,
    Negotiation,
    Offering,
    OfferingDate,
    OfferingStatus,
    Order,
    Supplier,
    Team,
    Terms,
)


async def offerings(session: AsyncSession, actor: Actor, *, include_withdrawn: bool = False) -> list[dict[str, Any]]:
    """The hall's offerings; a booth also sees its own withdrawn ones."""
    statement = select(Offering, Supplier).join(Supplier, Supplier.id == Offering.supplier_id)
    statement = statement.where(Offering.fair_id == actor.fair_id)
    if actor.role == Role.supplier:
        statement = statement.where(
            (Offering.status == OfferingStatus.published) | (Offering.supplier_id == actor.party_id)
        )
    elif not (include_withdrawn and actor.role == Role.organiser):
        statement = statement.where(Offering.status == OfferingStatus.published)
    rows = (await session.exec(statement.order_by(Offering.id))).all()
    dates: dict[int, dict[str, bool]] = defaultdict(dict)
    day_rows = await session.exec(
        select(OfferingDate.offering_id, OfferingDate.day, OfferingDate.negotiation_id).where(
            col(OfferingDate.offering_id).in_([offering.id for offering, _ in rows])
        )
    )
    for offering_id, day, taken in day_rows:
        dates[offering_id][day.isoformat()] = taken is None
    return [offering_view(offering, supplier, dates[offering.id]) for offering, supplier in rows]


async def negotiations(session: AsyncSession, actor: Actor) -> list[dict[str, Any]]:
    """The actor's own negotiations, newest activity first."""
    statement = (
        select(Negotiation, Terms, Offering, Team, Supplier)
        .join(Offering, Offering.id == Negotiation.offering_id)
        .join(Team, Team.id == Negotiation.team_id)
        .join(Supplier, Supplier.id == Negotiation.supplier_id)
        .outerjoin(Terms, (Terms.negotiation_id == Negotiation.id) & (Terms.version == Negotiation.version))
        .where(Negotiation.fair_id == actor.fair_id, _own(actor, Negotiation))
        .order_by(desc(Negotiation.updated_at), desc(Negotiation.id))
    )
    return [negotiation_view(*row) for row in await session.exec(statement)]


async def orders(session: AsyncSession, actor: Actor) -> list[dict[str, Any]]:
    statement = (
        select(Order, Team, Supplier)
        .join(Team, Team.id == Order.team_id)
        .join(Supplier, Supplier.id == Order.supplier_id)
        .where(Order.fair_id == actor.fair_id, _own(actor, Order))
        .order_by(desc(Order.id))
    )
    return [order_view(*row) for row in await session.exec(statement)]


async def view(session: AsyncSession, actor: Actor) -> dict[str, Any]:
    """Everything the actor's screen shows, as of one sequence number (call inside ``Database.read()``).

    A screen that applies the events after ``seq`` to this view (``fair.live``)
    holds what a fresh call would return.
    """
    fair_row = await session.get(Fair, actor.fair_id)
    if fair_row is None:
        raise FairError(Code.not_found, N_("There is no fair yet."))
    shown: dict[str, Any] = {
        "seq": fair_row.last_seq,
        "role": str(actor.role),
        "tally": await tally_snapshot(session, actor),
    }
    if actor.role == Role.public:
        return shown | {"fair": public_fair(fair_view(fair_row))}
    shown |= {
        "fair": fair_view(fair_row),
        "offerings": await offerings(session, actor, include_withdrawn=True),
        "negotiations": await negotiations(session, actor),
        "orders": await orders(session, actor),
    }
    if actor.role == Role.team:
        shown["me"] = team_view(await session.get(Team, actor.party_id))
    elif actor.role == Role.supplier:
        shown["me"] = supplier_view(await session.get(Supplier, actor.party_id))
    else:
        shown |= await participants(session, actor)
        credentials = await session.exec(
            select(Credential).where(Credential.fair_id == actor.fair_id).order_by(Credential.id)
        )
        shown["credentials"] = [credential_view(c) for c in credentials]
    return shown


async def participants(session: AsyncSession, actor: Actor) -> dict[str, Any]:
    """The organiser's register: every supplier and team, with budgets."""
    if actor.role != Role.organiser:
        raise FairError(Code.forbidden, N_("Your role may not do this."))
    suppliers = await session.exec(select(Supplier).where(Supplier.fair_id == actor.fair_id).order_by(Supplier.booth))
    teams = await session.exec(select(Team).where(Team.fair_id == actor.fair_id).order_by(Team.id))
    return {"suppliers": [supplier_view(s) for s in suppliers], "teams": [team_view(t) for t in teams]}


async def last_seq(session: AsyncSession, actor: Actor) -> int:
    """The sequence number of the last event of the actor's fair."""
    return (await session.exec(select(Fair.last_seq).where(Fair.id == actor.fair_id))).one()


async def tally_snapshot(session: AsyncSession, actor: Actor) -> dict[str, Any]:
    return await tally.snapshot(session, actor.fair_id)


async def events_for(session: AsyncSession, actor: Actor, after: int, limit: int) -> list[dict[str, Any]] | None:
    """The events after ``after`` as the actor's screen receives them; None if there are more than ``limit``."""
    statement = (
        select(Event).where(Event.fair_id == actor.fair_id, Event.seq > after).order_by(Event.seq).limit(limit + 1)
    )
    rows = (await session.exec(statement)).all()
    if len(rows) > limit:
        return None
    room = rooms_of(actor)[0]
    shown = []
    for event in rows:
        payload = route(event.type, event.payload).for_room(room)
        if payload is not None:
            shown.append({"seq": event.seq, "type": event.type, "data": payload})
    return shown


def _own(actor: Actor, model: type[Negotiation] | type[Order]):
    if actor.role == Role.team:
        return model.team_id == actor.party_id
    if actor.role == Role.supplier:
        return model.supplier_id == actor.party_id
    if actor.role == Role.organiser:
        return true()
    raise FairError(Code.forbidden, N_("Your role may not do this."))
