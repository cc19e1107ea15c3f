"""What each party may read, in the same shapes the events carry.

A team reads its own negotiations, orders and budget; a booth its own
offerings, negotiations and orders; everyone reads the published offerings
and the tally.  The reader is always the actor: there is no way to ask for
another party's state, so there is nothing to forget to check.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import func, true
from sqlmodel import col, desc, select
from sqlmodel.ext.asyncio.session import AsyncSession

from fair.core import matching, tally
from fair.core.actors import Actor, Role
from fair.core.announcements import announcement_view, meant_for
from fair.core.deliveries import delivery_view, venue_view
from fair.core.deliveries import flags as delivery_flags
from fair.core.errors import N_, Code, FairError
from fair.core.queues import ACTIVE as ACTIVE_TICKETS
from fair.core.queues import SERVED, queue_view, service_seconds
from fair.core.resident_ratings import rating_view
from fair.core.threads import message_view
from fair.core.views import (
    appointment_view,
    credential_view,
    fair_view,
    negotiation_view,
    offering_view,
    order_view,
    public_wish,
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
    ACTIVE_APPOINTMENT_STATES,
    ACTIVE_NEGOTIATION_STATES,
    ACTIVE_TICKET_STATES,
    CITY,
    DISTRICTS,
    Announcement,
    Appointment,
    Category,
    Credential,
    Delivery,
    Dismissal,
    Event,
    Fair,
    Negotiation,
    NegotiationMessage,
    Offering,
    OfferingDate,
    OfferingStatus,
    Order,
    QueueTicket,
    RequestRecord,
    Resident,
    ResidentRating,
    ShortlistItem,
    Signup,
    Slot,
    Supplier,
    Team,
    Terms,
    TicketState,
    Venue,
    Wish,
    WishStatus,
    WishSupport,
    utcnow,
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


# What a figure on the board counts: one category, or the training, lecture and exhibition headline.
FIGURES = {str(c): (str(c),) for c in Category} | {
    "training_lecture_exhibition": tuple(str(c) for c in tally.TRAINING_LECTURE_EXHIBITION)
}


async def orders_behind(
    session: AsyncSession, actor: Actor, district: str | None = None, figure: str | None = None
) -> list[dict[str, Any]]:
    """The standing orders a figure of the board counts (a district's, a category's), as the ticker shows them.

    Anyone may read them: the board already shows every order as it comes.
    """
    if district is not None and district not in (CITY, *DISTRICTS):
        raise FairError(Code.invalid_input, N_("There is no such district."))
    if figure is not None and figure not in FIGURES:
        raise FairError(Code.invalid_input, N_("There is no such figure on the board."))
    statement = (
        select(Order, Team, Supplier)
        .join(Team, Team.id == Order.team_id)
        .join(Supplier, Supplier.id == Order.supplier_id)
        .where(Order.fair_id == actor.fair_id, tally.STANDING)
        .order_by(desc(Order.id))
    )
    if district is not None:
        statement = statement.where(Order.district == district)
    if figure is not None:
        statement = statement.where(col(Order.category).in_(FIGURES[figure]))
    return [tally.public_order(order_view(*row)) for row in await session.exec(statement)]


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
            "mine": await residents_own(session, actor),
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
        "deliveries": await deliveries(session, actor),
        "scores": await scores(session, actor.fair_id),
    }
    if actor.role == Role.team:
        shown["venues"] = await venues(session, actor)
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
        shown["resident_ratings"] = await resident_ratings(session, actor)
    return shown


async def residents_own(session: AsyncSession, actor: Actor) -> dict[str, Any]:
    """What a phone's own resident has done: whether the number is confirmed, and the wishes they support.

    The phone's own business, so it is read afresh on every sync and kept current by the acks, not by events.
    """
    if actor.resident_id is None:
        return {"confirmed": False, "supported": []}
    rows = await session.exec(
        select(WishSupport.wish_id)
        .join(Wish, Wish.id == WishSupport.wish_id)
        .where(Wish.fair_id == actor.fair_id, WishSupport.resident_id == actor.resident_id)
    )
    return {"confirmed": True, "supported": sorted(rows.all())}


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
    views = [wish_view(wish, answers_of(answers[wish.id])) for wish in rows]
    return views if actor.role == Role.organiser else [public_wish(view) for view in views]


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


async def deliveries(session: AsyncSession, actor: Actor) -> list[dict[str, Any]]:
    """The actor's deliveries (the organiser's: all of them), in time order."""
    statement = (
        select(Delivery, Order, Venue, Team.name, Supplier.name)
        .join(Order, Order.id == Delivery.order_id)
        .join(Venue, Venue.id == Delivery.venue_id)
        .join(Team, Team.id == Delivery.team_id)
        .join(Supplier, Supplier.id == Delivery.supplier_id)
        .where(Delivery.fair_id == actor.fair_id, _own(actor, Delivery))
        .order_by(Delivery.starts_at, Delivery.id)
    )
    return [delivery_view(*row) for row in await session.exec(statement)]


async def resident_ratings(session: AsyncSession, actor: Actor) -> list[dict[str, Any]]:
    """Residents' ratings, newest first, for the organiser to moderate."""
    rows = await session.exec(
        select(ResidentRating, Order.offering_title, Supplier.name)
        .join(Delivery, Delivery.id == ResidentRating.delivery_id)
        .join(Order, Order.id == Delivery.order_id)
        .join(Supplier, Supplier.id == ResidentRating.supplier_id)
        .where(ResidentRating.fair_id == actor.fair_id)
        .order_by(desc(ResidentRating.id))
    )
    return [rating_view(*row) for row in rows]


async def residents_record(session: AsyncSession, actor: Actor) -> dict[str, Any]:
    """For the organiser: how many residents, what they did, and what was refused and why, recounted from rows.

    Refusals are read from the request records (every command the core refused leaves one, and nothing else;
    what the adapters' limits per address turned away never reached it): by command and code, so that
    duplicates (``duplicate``), phones without a confirmed number (``unconfirmed``) and ratings without proof
    (``no_proof``) are counted apart.
    """
    if actor.role != Role.organiser:
        raise FairError(Code.forbidden, N_("Your role may not do this."))
    residents = (await session.exec(select(func.count()).select_from(Resident))).one()
    supports = (
        await session.exec(
            select(func.count(), func.count(func.distinct(WishSupport.resident_id)))
            .join(Wish, Wish.id == WishSupport.wish_id)
            .where(Wish.fair_id == actor.fair_id, Wish.status != WishStatus.merged)
        )
    ).one()
    ratings = (
        await session.exec(
            select(func.count(), func.count(ResidentRating.resident_id)).where(ResidentRating.fair_id == actor.fair_id)
        )
    ).one()
    refused: dict[tuple[str, str], int] = defaultdict(int)
    records = await session.exec(  # request records name no fair: these are the installation's, every year's
        select(RequestRecord.command, RequestRecord.outcome).where(col(RequestRecord.party).startswith("resident:"))
    )
    for command, outcome in records:
        if not outcome.get("ok"):
            refused[(command, outcome["error"]["code"])] += 1
    return {
        "residents": residents,
        "supports": supports[0],
        "supporters": supports[1],
        "ratings": ratings[0],
        "proven_ratings": ratings[1],
        "refused": [{"command": c, "code": k, "count": n} for (c, k), n in sorted(refused.items())],
    }


async def rating_of(session: AsyncSession, delivery_id: int, resident_id: int | None) -> dict[str, Any] | None:
    """A resident's own rating of an event, to show and change; None if they have not rated it."""
    if resident_id is None:
        return None
    mine = await session.exec(
        select(ResidentRating).where(
            ResidentRating.delivery_id == delivery_id, ResidentRating.resident_id == resident_id
        )
    )
    rating = mine.first()
    return None if rating is None else {"rating": rating.rating, "comment": rating.comment, "status": rating.status}


async def rating_summary(session: AsyncSession, delivery_id: int) -> dict[str, Any]:
    """ "N 人评价 · 平均 x.x": the residents who rated an event, proven and approved, and their average."""
    count, total = (
        await session.exec(
            select(func.count(), func.coalesce(func.sum(ResidentRating.rating), 0)).where(
                ResidentRating.delivery_id == delivery_id,
                ResidentRating.status == WishStatus.approved,
                col(ResidentRating.resident_id).is_not(None),
            )
        )
    ).one()
    return {"count": count, "average": round(total / count, 1) if count else None}


async def signup_of(session: AsyncSession, delivery_id: int, resident_id: int | None) -> dict[str, Any] | None:
    """A resident's seats at an event, or their place on its waiting list (1 is next); None if neither."""
    if resident_id is None:
        return None
    mine = (
        await session.exec(select(Signup).where(Signup.delivery_id == delivery_id, Signup.resident_id == resident_id))
    ).first()
    if mine is None:
        return None
    place = None
    if mine.waiting:
        ahead = select(func.count()).where(
            Signup.delivery_id == delivery_id, col(Signup.waiting).is_(True), Signup.id < mine.id
        )
        place = (await session.exec(ahead)).one() + 1
    return {"seats": mine.seats, "waiting": mine.waiting, "place": place, "name": mine.name}


async def venues(session: AsyncSession, actor: Actor) -> list[dict[str, Any]]:
    rows = await session.exec(select(Venue).where(Venue.team_id == actor.party_id).order_by(Venue.id))
    return [venue_view(venue) for venue in rows]


async def scores(session: AsyncSession, fair_id: int) -> list[dict[str, Any]]:
    """Each rated booth's score: the sum and the number of its ratings (the average is theirs to divide)."""
    rows = await session.exec(
        select(Delivery.supplier_id, func.sum(Delivery.rating), func.count(Delivery.rating))
        .where(Delivery.fair_id == fair_id, col(Delivery.rating).is_not(None))
        .group_by(Delivery.supplier_id)
        .order_by(Delivery.supplier_id)
    )
    return [{"supplier_id": s, "ratings": n, "total": int(total)} for s, total, n in rows]


async def supervision(session: AsyncSession, actor: Actor) -> dict[str, Any]:
    """The bureau's watch over deliveries, as of now: the ones to look at, and counts per booth and district."""
    if actor.role != Role.organiser:
        raise FairError(Code.forbidden, N_("Your role may not do this."))
    now = utcnow()
    flagged = []
    per_supplier: dict[int, dict[str, Any]] = {}
    per_district: dict[str, dict[str, int]] = {}
    for delivery in await deliveries(session, actor):
        marks = delivery_flags(delivery, now)
        booth = per_supplier.setdefault(
            delivery["supplier_id"],
            {"supplier_id": delivery["supplier_id"], "name": delivery["supplier_name"], **_no_figures()},
        )
        district = per_district.setdefault(delivery["district"], _no_figures())
        for figures in (booth, district):
            figures["deliveries"] += 1
            figures["states"][delivery["state"]] = figures["states"].get(delivery["state"], 0) + 1
            for mark in marks:
                figures["flags"][mark] = figures["flags"].get(mark, 0) + 1
        if marks:
            flagged.append({**delivery, "flags": marks})
    return {
        "flagged": flagged,
        "suppliers": sorted(per_supplier.values(), key=lambda s: s["supplier_id"]),
        "districts": [{"district": d, **figures} for d, figures in sorted(per_district.items())],
    }


def _no_figures() -> dict[str, Any]:
    return {"deliveries": 0, "states": {}, "flags": {}}


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
    served = await session.exec(SERVED, params={"supplier_id": supplier_id})
    return queue_view(rows.mappings(), supplier_id, service=service_seconds(served.all()))


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
    backers = await supporters(session, actor.fair_id)
    everyone = await orders(session, hall)
    if actor.role == Role.team:
        team = team_view(await session.get(Team, actor.party_id))
        shown = await offerings(session, actor)
        listed = {item["offering_id"]: item["quantity"] for item in await shortlist(session, actor)}
        booths = await ratings(session, actor)
        waiting = {queue["supplier_id"]: queue["waiting"] for queue in await queues(session, actor)}
        aside = await set_aside(session, actor)
        best = {
            s.id: supplier_view(s)["interests"]
            for s in await session.exec(select(Supplier).where(Supplier.fair_id == actor.fair_id))
        }
        return matching.offerings_for(team, shown, wished, backers, everyone, listed, booths, waiting, aside, best)
    if actor.role == Role.supplier:
        register = await participants(session, hall)
        shown = await offerings(session, actor)
        ranked = matching.teams_for(
            actor.party_id,
            register["teams"],
            shown,
            wished,
            backers,
            everyone,
            await meeting(session, actor.party_id),
            await ratings(session, actor),
            await set_aside(session, actor),
            supplier_view(await session.get(Supplier, actor.party_id))["interests"],
        )
        free, busy = await _free_slots_and_busy_teams(session, actor)
        return [r | {"slot_ids": matching.slots_for(free, busy.get(r["team_id"], []))} for r in ranked]
    raise FairError(Code.forbidden, N_("Your role may not do this."))


async def _free_slots_and_busy_teams(
    session: AsyncSession, actor: Actor
) -> tuple[list[Slot], dict[int, list[tuple[dt.datetime, dt.datetime]]]]:
    """A booth's free slots, and when each team is already expected at a meeting (booked, or invited)."""
    free = await session.exec(
        select(Slot)
        .where(Slot.supplier_id == actor.party_id, col(Slot.team_id).is_(None), Slot.withdrawn.is_(False))
        .order_by(Slot.starts_at, Slot.id)
    )
    expected = await session.exec(
        select(Appointment.team_id, Appointment.starts_at, Appointment.ends_at).where(
            Appointment.fair_id == actor.fair_id, col(Appointment.state).in_(ACTIVE_APPOINTMENT_STATES)
        )
    )
    busy: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for team_id, starts_at, ends_at in expected:
        busy[team_id].append((starts_at, ends_at))
    return list(free.all()), busy


async def set_aside(session: AsyncSession, actor: Actor) -> dict[int, str | None]:
    """What the party set aside and still does (``fair.core.dismissals``): offering ids for a team, team ids for
    a booth, each with until when (None: for good).  A snooze past its time is over."""
    now = dt.datetime.now(dt.UTC)
    mine = (
        (Dismissal.by == "team", Dismissal.team_id == actor.party_id)
        if actor.role == Role.team
        else (Dismissal.by == "booth", Dismissal.supplier_id == actor.party_id)
    )
    rows = await session.exec(select(Dismissal).where(Dismissal.fair_id == actor.fair_id, *mine))
    return {
        (row.offering_id if actor.role == Role.team else row.team_id): row.until.isoformat() if row.until else None
        for row in rows
        if row.until is None or row.until > now
    }


async def supporters(session: AsyncSession, fair_id: int) -> dict[int, set[int]]:
    """Who stands behind each public wish: its supporters (the author among them), as residents' ids."""
    rows = await session.exec(
        select(WishSupport.wish_id, WishSupport.resident_id)
        .join(Wish, Wish.id == WishSupport.wish_id)
        .where(Wish.fair_id == fair_id, Wish.status == WishStatus.approved)
    )
    backers: dict[int, set[int]] = defaultdict(set)
    for wish_id, resident_id in rows:
        backers[wish_id].add(resident_id)
    return backers


async def meeting(session: AsyncSession, supplier_id: int) -> set[int]:
    """The teams a booth already meets (a meeting booked or offered) or negotiates with."""
    met = await session.exec(
        select(Appointment.team_id).where(
            Appointment.supplier_id == supplier_id, col(Appointment.state).in_(ACTIVE_APPOINTMENT_STATES)
        )
    )
    talking = await session.exec(
        select(Negotiation.team_id).where(
            Negotiation.supplier_id == supplier_id, col(Negotiation.state).in_(ACTIVE_NEGOTIATION_STATES)
        )
    )
    return set(met.all()) | set(talking.all())


async def ratings(session: AsyncSession, actor: Actor) -> dict[int, tuple[float, int]]:
    """The booths' scores as the ranking takes them: (average, number of ratings)."""
    return {s["supplier_id"]: (s["total"] / s["ratings"], s["ratings"]) for s in await scores(session, actor.fair_id)}


async def coverage(session: AsyncSession, actor: Actor) -> dict[str, Any]:
    """Where the fair is missing people: the streets with no order yet per category, the wishes no order answers."""
    if actor.role != Role.organiser:
        raise FairError(Code.forbidden, N_("Your role may not do this."))
    streets, public = await _streets(session, actor.fair_id)
    order = {district: number for number, district in enumerate(DISTRICTS)}
    shown = [
        entry | {"reached": sorted(entry["reached"])}
        for (district, name), entry in sorted(streets.items(), key=lambda item: (order.get(item[0][0], 99), item[0][1]))
    ]
    return {"streets": shown, "unanswered": [wish for wish in public if not wish["answers"]]}


async def _streets(session: AsyncSession, fair_id: int) -> tuple[dict[tuple[str, str], dict[str, Any]], list]:
    """Every street the fair knows, with the categories of service that reached it, and the public wishes.

    A street counts as reached in a category when a team of that street bought
    in it, or an order of it answers a wish from that street.  The streets are
    those of the street and community teams and of the public wishes.
    """
    streets: dict[tuple[str, str], dict[str, Any]] = {}

    def street(district: str, name: str) -> dict[str, Any]:
        return streets.setdefault(
            (district, name), {"district": district, "street": name, "reached": set(), "open_wishes": 0}
        )

    for district, name in await session.exec(select(Team.district, Team.street).where(Team.fair_id == fair_id)):
        if name:
            street(district, name)
    public = await wishes(session, Actor.public(fair_id))
    for wish in public:
        entry = street(wish["district"], wish["street"])
        if wish["answers"]:
            entry["reached"].add(wish["category"])
        else:
            entry["open_wishes"] += 1
    bought = select(Order.district, Order.street, Order.category).where(
        Order.fair_id == fair_id, col(Order.voided_at).is_(None)
    )
    for district, name, category in await session.exec(bought):
        if name:
            street(district, name)["reached"].add(category)
    return streets, public


async def districts(session: AsyncSession, actor: Actor) -> dict[str, Any]:
    """Each district against the organiser's coverage targets: the share of its streets that at least one
    service reached, and of its public wishes that an order answers; ``behind`` where either falls short.

    Anyone may read it: it is made of what the board and the wishes page already show.
    """
    fair = await session.get(Fair, actor.fair_id)
    streets, public = await _streets(session, actor.fair_id)
    shown = []
    for district in DISTRICTS:
        known = [entry for (where, _), entry in streets.items() if where == district]
        asked = [wish for wish in public if wish["district"] == district]
        reached = sum(1 for entry in known if entry["reached"])
        answered = sum(1 for wish in asked if wish["answers"])
        short = [
            (done, out_of, target)
            for done, out_of, target in (
                (reached, len(known), fair.coverage_streets_pct),
                (answered, len(asked), fair.coverage_wishes_pct),
            )
            if out_of and done * 100 < target * out_of
        ]
        shown.append(
            {
                "district": district,
                "streets": len(known),
                "streets_reached": reached,
                "wishes": len(asked),
                "wishes_answered": answered,
                "behind": bool(short),
            }
        )
    targets = {"streets_pct": fair.coverage_streets_pct, "wishes_pct": fair.coverage_wishes_pct}
    return {"targets": targets, "districts": shown}


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


def _own(actor: Actor, model: type[Negotiation] | type[Order] | type[Appointment] | type[Delivery]):
    if actor.role == Role.team:
        return model.team_id == actor.party_id
    if actor.role == Role.supplier:
        return model.supplier_id == actor.party_id
    if actor.role == Role.organiser:
        return true()
    raise FairError(Code.forbidden, N_("Your role may not do this."))
