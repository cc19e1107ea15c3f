"""Who sees what: the rooms of the hall and what each event shows each of them.

Every connected screen belongs to exactly one delivery room, by its actor:

- ``public``: the projector and the citizens' board: the fair's name and state,
  and the tally (whose ``latest`` list is the orders ticker);
- ``team:<id>``: a buyer team's tablets: every published offering, its own
  negotiations, orders and budget;
- ``supplier:<id>``: a booth: every published offering (its own withdrawn
  ones too), its own negotiations and the orders on its offerings;
- ``organiser``: everything;
- ``residents``: citizens' phones on the wishes page: what the public sees,
  and the public wishes with the orders that answer them.

Team and supplier screens also sit in ``hall``, through which the events that
every tablet and booth sees (offerings, the fair opening) are sent to all of
them at once.  ``route`` says, for one event, what the public, the hall, the
organiser and each named party receive; a named party's projection replaces
the hall's for that party.  Budgets and negotiations never reach another party.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fair.core.actors import Actor, Role
from fair.core.views import public_wish

PUBLIC = "public"
HALL = "hall"
ORGANISER = "organiser"
RESIDENTS = "residents"
Payload = dict[str, Any]


def team_room(team_id: int) -> str:
    return f"team:{team_id}"


def supplier_room(supplier_id: int) -> str:
    return f"supplier:{supplier_id}"


def rooms_of(actor: Actor) -> tuple[str, ...]:
    """The rooms a connection of ``actor`` joins; the first is its delivery room."""
    if actor.role == Role.team:
        return team_room(actor.party_id), HALL
    if actor.role == Role.supplier:
        return supplier_room(actor.party_id), HALL
    if actor.role == Role.organiser:
        return (ORGANISER,)
    if actor.role == Role.resident:
        return (RESIDENTS,)
    return (PUBLIC,)


@dataclass
class Route:
    """What one event shows each audience; None where an audience sees nothing of it."""

    public: Payload | None = None
    hall: Payload | None = None
    organiser: Payload | None = None
    parties: dict[str, Payload] = field(default_factory=dict)  # room -> its own projection
    residents: Payload | None = None  # when None, residents see what the public sees

    def for_room(self, room: str) -> Payload | None:
        if room in self.parties:
            return self.parties[room]
        if room == PUBLIC:
            return self.public
        if room == RESIDENTS:
            return self.public if self.residents is None else self.residents
        if room == ORGANISER:
            return self.organiser
        return self.hall


def public_fair(fair: Payload) -> Payload:
    """What anyone may know of the fair: its name, day, place and whether it is open."""
    return {key: fair[key] for key in ("id", "name", "day", "venue", "state")}


def _fair(payload: Payload) -> Route:
    return Route(public={"fair": public_fair(payload["fair"])}, hall=payload, organiser=payload)


def _for_hall(payload: Payload) -> Route:
    return Route(hall=payload, organiser=payload)


def _supplier(payload: Payload) -> Route:
    return Route(organiser=payload, parties={supplier_room(payload["supplier"]["id"]): payload})


def _team(payload: Payload) -> Route:
    return Route(organiser=payload, parties={team_room(payload["team"]["id"]): payload})


def _negotiation(payload: Payload) -> Route:
    negotiation = payload["negotiation"]
    return Route(
        organiser=payload,
        parties={team_room(negotiation["team_id"]): payload, supplier_room(negotiation["supplier_id"]): payload},
    )


def _order(payload: Payload) -> Route:
    order = payload["order"]
    without_budget = {"order": order, "offering": payload["offering"]}
    return Route(
        hall={"offering": payload["offering"]},  # other tablets learn what is left, not who bought
        organiser=payload,
        parties={team_room(order["team_id"]): payload, supplier_room(order["supplier_id"]): without_budget},
    )


def _paid(payload: Payload) -> Route:
    """A payment is the buyer's, the supplier's and the bureau's business, nobody else's."""
    order = payload["order"]
    rooms = (team_room(order["team_id"]), supplier_room(order["supplier_id"]))
    return Route(organiser=payload, parties=dict.fromkeys(rooms, payload))


def _message(payload: Payload) -> Route:
    rooms = (team_room(payload["team_id"]), supplier_room(payload["supplier_id"]))
    return Route(organiser=payload, parties=dict.fromkeys(rooms, payload))


def _venue(payload: Payload) -> Route:
    return Route(parties={team_room(payload["venue"]["team_id"]): payload})


SEAT_FIELDS = ("id", "state", "seats", "taken", "waiting")


def _delivery(payload: Payload) -> Route:
    """The team, the booth and the organiser see the delivery; anyone, for an event with sign-up, its seats
    (its public page updates them live: a seat given back goes to the waiting list before anyone's eyes)."""
    delivery = payload["delivery"]
    rooms = (team_room(delivery["team_id"]), supplier_room(delivery["supplier_id"]))
    seats = {"event": {key: delivery[key] for key in SEAT_FIELDS}} if delivery["seats"] else None
    return Route(public=seats, organiser=payload, parties=dict.fromkeys(rooms, payload))


def _announcement(payload: Payload) -> Route:
    """To its readers' rooms only (named in the event when it was sent); to the board if meant for it."""
    shown = {"announcement": payload["announcement"]}
    readers = payload["readers"]
    parties = {team_room(team): shown for team in readers["teams"]}
    parties |= {supplier_room(supplier): shown for supplier in readers["suppliers"]}
    hall = shown if payload["announcement"]["audience"] == "everyone" else None
    board = shown if payload["announcement"]["on_board"] else None
    return Route(public=board, hall=hall, organiser=shown, parties=parties)


def _organiser_only(payload: Payload) -> Route:
    return Route(organiser=payload)


def _wish(payload: Payload) -> Route:
    """A public wish goes to residents and the hall; one no longer public is taken off their screens.

    The board hears only that a wish became public or stopped being so, and in which district: the districts
    behind the coverage targets count the public wishes, so it reads them again (``queries.districts``).
    """
    wish = payload["wish"]
    if wish["status"] == "approved":
        shown = {"wish": public_wish(wish)}
    elif payload["was_public"]:
        shown = {"wish": {"id": wish["id"], "status": wish["status"]}}
    else:
        shown = None
    moved = payload["was_public"] != (wish["status"] == "approved")
    board = {"wish": {"id": wish["id"], "status": wish["status"], "district": wish["district"]}} if moved else None
    return Route(public=board, organiser={"wish": wish}, hall=shown, residents=shown)


def _shortlist(payload: Payload) -> Route:
    return Route(parties={team_room(payload["team_id"]): payload})


def _appointment(payload: Payload) -> Route:
    appointment = payload["appointment"]
    rooms = (team_room(appointment["team_id"]), supplier_room(appointment["supplier_id"]))
    return Route(organiser=payload, parties=dict.fromkeys(rooms, payload))


def _queue(payload: Payload) -> Route:
    """The booth sees its whole queue; each team in it its own ticket; everyone else how many wait."""
    stats = {key: payload[key] for key in ("supplier_id", "serving", "waiting")}
    parties = {supplier_room(payload["supplier_id"]): payload}
    for ticket in (*payload["tickets"], *payload["ended"]):
        parties[team_room(ticket["team_id"])] = stats | {"ticket": ticket}
    return Route(hall=stats, organiser=stats, parties=parties)


def _set_aside(payload: Payload) -> Route:
    """What a party set aside is its own: its room alone hears of it."""
    room = team_room(payload["team_id"]) if payload["by"] == "team" else supplier_room(payload["supplier_id"])
    return Route(parties={room: payload})


# Every event type the core emits, with how it is routed.  docs/protocol.md documents each.
ROUTES: dict[str, Callable[[Payload], Route]] = {
    "fair.created": _fair,
    "fair.opened": _fair,
    "fair.closed": _fair,
    "fair.updated": _fair,
    "fair.previewed": _fair,
    "fair.reopened": _fair,
    "supplier.updated": _supplier,
    "team.updated": _team,
    "offering.published": _for_hall,
    "offering.updated": _for_hall,
    "offering.spotlighted": _for_hall,
    "offering.withdrawn": _for_hall,
    "negotiation.updated": _negotiation,
    "negotiation.message": _message,
    "order.confirmed": _order,
    "order.voided": _order,
    "order.paid": _paid,
    "access.issued": _organiser_only,
    "access.revoked": _organiser_only,
    "access.limited": _organiser_only,
    "access.signed_out": _organiser_only,
    "organiser.signed_out": _organiser_only,
    "wish.updated": _wish,
    "shortlist.updated": _shortlist,
    "slot.updated": _for_hall,
    "appointment.updated": _appointment,
    "queue.updated": _queue,
    "recommendation.dismissed": _set_aside,
    "recommendation.restored": _set_aside,
    "announcement.updated": _announcement,
    "venue.updated": _venue,
    "delivery.updated": _delivery,
    "score.updated": _for_hall,
    "rating.updated": _organiser_only,
}


def route(type: str, payload: Payload) -> Route:
    return ROUTES[type](payload)
