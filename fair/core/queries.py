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

from fair.core import matching, tally
from fair.core.actors import Actor, Role
from fair.core.announcements import announcement_view, meant_for
from fair.core.errors import N_, Code, FairError
from fair.core.queues import ACTIVE as ACTIVE_TICKETS
from fair.core.queues import queue_view
from fair.core.threads import message_view
from fair.core.views import (
    appointment_view,
    credential_view,
    fair_view,
    negotiation_view,
    offering_view,
    order_view,
    shortlist_view,
    slot_view,
    supplier_view,
    team_view,
    terms_view,
    wish_view,
)
from fair.core.visibility import public_fair, rooms_of, route
from fair.core.wishes import ANSWERING, answers_of
from fair.models import (
    ACTIVE_TICKET_STATES,
    DISTRICTS,
    Announcement,
    Appointment,
    Credential,
    Event,
    Fair,
    Negotiation,
    NegotiationMessage,
    Offering,
    OfferingDate,
    OfferingStatus,
    Order,
    QueueTicket,
    ShortlistItem,
    Slot,
    Supplier,
    Team,
    Terms,
    TicketState,
    Wish,
    WishStatus,
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
    shown = [negotiation_view(*row) for row in await session.exec(statement)]
    return await _threads(session, shown)


async def _threads(session: AsyncSession, shown: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each negotiation with its thread: every version of the terms, and the messages (``fair.core.threads``)."""
    ids = [negotiation["id"] for negotiation in shown]
    history: dict[int, list] = defaultdict(list)
    messages: dict[int, list] = defaultdict(list)
    if ids:
        for terms in await session.exec(
            select(Terms).where(col(Terms.negotiation_id).in_(ids)).order_by(Terms.negotiation_id, Terms.version)
        ):
            history[terms.negotiation_id].append(terms_view(terms))
        for message in await session.exec(
            select(NegotiationMessage)
            .where(col(NegotiationMessage.negotiation_id).in_(ids))
            .order_by(NegotiationMessage.id)
        ):
            messages[message.negotiation_id].append(message_view(message))
    return [n | {"history": history[n["id"]], "messages": messages[n["id"]]} for n in shown]


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
        return shown | {"fair": public_fair(fair_view(fair_row)), "announcements": await notices(session, actor)}
    if actor.role == Role.resident:
        return shown | {
            "fair": public_fair(fair_view(fair_row)),
            "announcements": await notices(session, actor),
            "wishes": await wishes(session, actor),
        }
    shown |= {
        "fair": fair_view(fair_row),
        "offerings": await offerings(session, actor, include_withdrawn=True),
        "negotiations": await negotiations(session, actor),
        "orders": await orders(session, actor),
        "wishes": await wishes(session, actor),
        "slots": await slots(session, actor),
        "appointments": await appointments(session, actor),
        "queues": await queues(session, actor),
        "announcements": await notices(session, actor),
    }
    if actor.role == Role.team:
        shown["me"] = team_view(await session.get(Team, actor.party_id))
        shown["shortlist"] = await shortlist(session, actor)
        shown["tickets"] = await tickets(session, actor)
    elif actor.role == Role.supplier:
        shown["me"] = supplier_view(await session.get(Supplier, actor.party_id))
        shown["queue"] = await booth_queue(session, actor.party_id)
    else:
        shown |= await participants(session, actor)
        credentials = await session.exec(
            select(Credential).where(Credential.fair_id == actor.fair_id).order_by(Credential.id)
        )
        shown["credentials"] = [credential_view(c) for c in credentials]
    return shown


async def wishes(session: AsyncSession, actor: Actor) -> list[dict[str, Any]]:
    """The residents' wishes: the public ones, most supported first; the organiser sees every one."""
    statement = select(Wish).where(Wish.fair_id == actor.fair_id)
    if actor.role != Role.organiser:
        statement = statement.where(Wish.status == WishStatus.approved)
    rows = (await session.exec(statement.order_by(desc(Wish.supports), Wish.id))).all()
    answers: dict[int, list] = defaultdict(list)
    answering = await session.exec(ANSWERING.where(Order.fair_id == actor.fair_id, col(Order.wish_id).is_not(None)))
    for row in answering.mappings():
        answers[row["o_wish_id"]].append(row)
    return [wish_view(wish, answers_of(answers[wish.id])) for wish in rows]


async def shortlist(session: AsyncSession, actor: Actor) -> list[dict[str, Any]]:
    rows = await session.exec(
        select(ShortlistItem).where(ShortlistItem.team_id == actor.party_id).order_by(ShortlistItem.offering_id)
    )
    return [shortlist_view(item) for item in rows]


async def slots(session: AsyncSession, actor: Actor) -> list[dict[str, Any]]:
    """Every booth's meeting slots, free or not; who holds one is told by the appointments."""
    rows = await session.exec(select(Slot).where(Slot.fair_id == actor.fair_id).order_by(Slot.starts_at, Slot.id))
    return [slot_view(slot) for slot in rows]


async def appointments(session: AsyncSession, actor: Actor) -> list[dict[str, Any]]:
    """The actor's meetings (the organiser's: the hall's schedule), in time order."""
    statement = (
        select(Appointment, Team, Supplier)
        .join(Team, Team.id == Appointment.team_id)
        .join(Supplier, Supplier.id == Appointment.supplier_id)
        .where(Appointment.fair_id == actor.fair_id, _own(actor, Appointment))
        .order_by(Appointment.starts_at, Appointment.id)
    )
    return [appointment_view(*row) for row in await session.exec(statement)]


async def queues(session: AsyncSession, actor: Actor) -> list[dict[str, Any]]:
    """How many wait at each booth with a queue, and the number it serves; booths with none are left out."""
    statement = (
        select(QueueTicket.supplier_id, QueueTicket.state, QueueTicket.number)
        .where(QueueTicket.fair_id == actor.fair_id, col(QueueTicket.state).in_(ACTIVE_TICKET_STATES))
        .order_by(QueueTicket.supplier_id, QueueTicket.number)
    )
    stats: dict[int, dict[str, Any]] = {}
    for supplier_id, state, number in await session.exec(statement):
        entry = stats.setdefault(supplier_id, {"supplier_id": supplier_id, "serving": None, "waiting": 0})
        if state == TicketState.called:
            entry["serving"] = number
        else:
            entry["waiting"] += 1
    return [stats[supplier_id] for supplier_id in sorted(stats)]


async def booth_queue(session: AsyncSession, supplier_id: int) -> dict[str, Any]:
    rows = await session.exec(ACTIVE_TICKETS, params={"supplier_id": supplier_id})
    return queue_view(rows.mappings(), supplier_id)


async def tickets(session: AsyncSession, actor: Actor) -> list[dict[str, Any]]:
    """The team's numbers in booths' queues, each with its place."""
    mine = await session.exec(
        select(QueueTicket.supplier_id)
        .where(QueueTicket.team_id == actor.party_id, col(QueueTicket.state).in_(ACTIVE_TICKET_STATES))
        .order_by(QueueTicket.supplier_id)
    )
    shown = []
    for supplier_id in mine.all():
        queue = await booth_queue(session, supplier_id)
        shown += [ticket for ticket in queue["tickets"] if ticket["team_id"] == actor.party_id]
    return shown


async def recommendations(session: AsyncSession, actor: Actor) -> list[dict[str, Any]]:
    """For a team, the offerings that suit it; for a booth, the teams it should meet (``fair.core.matching``)."""
    hall = Actor.organiser(actor.fair_id)  # the reads behind the ranking; only the ranking leaves
    wished = await wishes(session, actor)
    if actor.role == Role.team:
        team = team_view(await session.get(Team, actor.party_id))
        shown = await offerings(session, actor)
        return matching.offerings_for(team, shown, wished, await orders(session, actor))
    if actor.role == Role.supplier:
        register = await participants(session, hall)
        shown = await offerings(session, actor)
        return matching.teams_for(actor.party_id, register["teams"], shown, wished, await orders(session, hall))
    raise FairError(Code.forbidden, N_("Your role may not do this."))


async def coverage(session: AsyncSession, actor: Actor) -> dict[str, Any]:
    """Where the fair is missing people: the streets with no order yet per category, the wishes no order answers.

    A street counts as reached in a category when a team of that street bought
    in it, or an order of it answers a wish from that street.  The streets are
    those of the street and community teams and of the public wishes.
    """
    if actor.role != Role.organiser:
        raise FairError(Code.forbidden, N_("Your role may not do this."))
    streets: dict[tuple[str, str], dict[str, Any]] = {}

    def street(district: str, name: str) -> dict[str, Any]:
        return streets.setdefault(
            (district, name), {"district": district, "street": name, "reached": set(), "open_wishes": 0}
        )

    for district, name in await session.exec(select(Team.district, Team.street).where(Team.fair_id == actor.fair_id)):
        if name:
            street(district, name)
    public = await wishes(session, Actor.public(actor.fair_id))
    for wish in public:
        entry = street(wish["district"], wish["street"])
        if wish["answers"]:
            entry["reached"].add(wish["category"])
        else:
            entry["open_wishes"] += 1
    bought = select(Order.district, Order.street, Order.category).where(
        Order.fair_id == actor.fair_id, col(Order.voided_at).is_(None)
    )
    for district, name, category in await session.exec(bought):
        if name:
            street(district, name)["reached"].add(category)
    order = {district: number for number, district in enumerate(DISTRICTS)}
    shown = [
        entry | {"reached": sorted(entry["reached"])}
        for (district, name), entry in sorted(streets.items(), key=lambda item: (order.get(item[0][0], 99), item[0][1]))
    ]
    return {"streets": shown, "unanswered": [wish for wish in public if not wish["answers"]]}


async def notices(session: AsyncSession, actor: Actor) -> list[dict[str, Any]]:
    """The announcements meant for the actor, newest first; the organiser's list keeps the withdrawn ones."""
    district = None
    if actor.role == Role.team:
        district = (await session.get(Team, actor.party_id)).district
    statement = select(Announcement).where(Announcement.fair_id == actor.fair_id).order_by(desc(Announcement.id))
    if actor.role != Role.organiser:
        statement = statement.where(col(Announcement.withdrawn_at).is_(None))
    rows = await session.exec(statement)
    return [announcement_view(row) for row in rows if meant_for(row, actor, district)]


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


def _own(actor: Actor, model: type[Negotiation] | type[Order] | type[Appointment]):
    if actor.role == Role.team:
        return model.team_id == actor.party_id
    if actor.role == Role.supplier:
        return model.supplier_id == actor.party_id
    if actor.role == Role.organiser:
        return true()
    raise FairError(Code.forbidden, N_("Your role may not do this."))
