"""The shapes in which the fair's objects leave the core.

One shape per object, used both in snapshots and in event payloads, so that a
screen can replace what it holds with what an event brings.  Plain JSON types
only: money in fen, days as ISO dates, times as ISO UTC.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import unicodedata
from typing import Any

from fair.models import Fair, Negotiation, Offering, Order, Side, Supplier, Team, Terms

# A fair closed by mistake may be reopened for this long after it closed (``fair.core.corrections``).
REOPEN_WITHIN = dt.timedelta(hours=2)


def fair_view(fair: Fair) -> dict[str, Any]:
    return {
        "id": fair.id,
        "name": fair.name,
        "day": fair.day.isoformat(),
        "venue": fair.venue,
        "state": fair.state,
        "subsidy_rate_bp": fair.subsidy_rate_bp,
        "subsidy_pool_fen": fair.subsidy_pool_fen,
        "subsidy_used_fen": fair.subsidy_used_fen,
        "queue_grace_minutes": fair.queue_grace_minutes,
        "queue_numbers_per_team": fair.queue_numbers_per_team,
        "coverage_streets_pct": fair.coverage_streets_pct,
        "coverage_wishes_pct": fair.coverage_wishes_pct,
        "seats_per_resident": fair.seats_per_resident,
        "closed_at": fair.closed_at.isoformat() if fair.closed_at else None,
        # Until when it may be reopened: screens offer it until then, and the core decides.
        "reopen_until": (fair.closed_at + REOPEN_WITHIN).isoformat() if fair.closed_at else None,
    }


def supplier_view(supplier: Supplier) -> dict[str, Any]:
    """A booth, with what it says it does best: for itself and the organiser."""
    return {
        "id": supplier.id,
        "name": supplier.name,
        "booth": supplier.booth,
        "approved": supplier.approved,
        "interests": {
            "categories": list(supplier.best_categories),
            "audiences": list(supplier.best_audiences),
            "themes": list(supplier.best_themes),
            "dates": [],
            "venue_seats": 0,
        },
    }


def team_view(team: Team) -> dict[str, Any]:
    """A team with its budget: for the team itself and the organiser, never for other parties."""
    return {
        "id": team.id,
        "name": team.name,
        "kind": team.kind,
        "district": team.district,
        "street": team.street,
        "approved": team.approved,
        "budget": budget_view(team),
        "interests": {
            "categories": list(team.wanted_categories),
            "audiences": list(team.wanted_audiences),
            "themes": list(team.wanted_themes),
            "dates": list(team.wanted_dates),
            "venue_seats": team.venue_seats,
        },
    }


def budget_view(team: Team) -> dict[str, Any]:
    return {
        "budget_fen": team.budget_fen,
        "spent_fen": team.spent_fen,
        "remaining_fen": team.budget_fen - team.spent_fen,
        "self_funded_fen": team.self_funded_fen,
        "subsidy_fen": team.subsidy_fen,
    }


def offering_view(offering: Offering, supplier: Supplier, dates: dict[str, bool]) -> dict[str, Any]:
    """``dates`` maps each bookable day to whether it is still free."""
    return {
        "id": offering.id,
        "supplier_id": offering.supplier_id,
        "supplier_name": supplier.name,
        "booth": supplier.booth,
        "category": offering.category,
        "title": offering.title,
        "description": offering.description,
        "unit": offering.unit,
        "unit_price_fen": offering.unit_price_fen,
        "capacity": offering.capacity,
        "sold": offering.sold,
        "remaining": offering.capacity - offering.sold,
        "dates": [{"day": day, "free": free} for day, free in sorted(dates.items())],
        "audience": list(offering.audience),
        "districts": list(offering.districts),
        "min_seats": offering.min_seats,
        "status": offering.status,
        "spotlight_at": offering.spotlight_at.isoformat() if offering.spotlight_at else None,
        "updated_at": offering.updated_at.isoformat(),
    }


def terms_view(terms: Terms) -> dict[str, Any]:
    return {
        "version": terms.version,
        "author": terms.author,
        "quantity": terms.quantity,
        "unit_price_fen": terms.unit_price_fen,
        "amount_fen": terms.quantity * terms.unit_price_fen,
        "dates": list(terms.dates),
        "venue": terms.venue,
        "funding": terms.funding,
        "message": terms.message,
        "wish_id": terms.wish_id,
        "created_at": terms.created_at.isoformat(),
    }


def negotiation_view(
    negotiation: Negotiation, terms: Terms | None, offering: Offering, team: Team, supplier: Supplier
) -> dict[str, Any]:
    return {
        "id": negotiation.id,
        "offering_id": negotiation.offering_id,
        "offering_title": negotiation.offering_title,
        "category": offering.category,
        "unit": offering.unit,
        "team_id": negotiation.team_id,
        "team_name": team.name,
        "supplier_id": negotiation.supplier_id,
        "supplier_name": supplier.name,
        "state": negotiation.state,
        "version": negotiation.version,
        "team_accepted": negotiation.team_accepted,
        "supplier_accepted": negotiation.supplier_accepted,
        "turn": turn(negotiation, terms),
        "terms": terms_view(terms) if terms else None,
        "refusal": negotiation.refusal,
        "updated_at": negotiation.updated_at.isoformat(),
    }


def turn(negotiation: Negotiation, terms: Terms | None) -> str | None:
    """Whose move it is: the side that has not accepted the terms on the table."""
    if negotiation.state not in ("open", "proposed", "countered"):
        return None
    if terms is None:
        return None  # either side may make the first proposal
    return Side.supplier if terms.author == Side.team else Side.team


def order_view(order: Order, team: Team, supplier: Supplier) -> dict[str, Any]:
    return {
        "id": order.id,
        "negotiation_id": order.negotiation_id,
        "offering_id": order.offering_id,
        "offering_title": order.offering_title,
        "team_id": order.team_id,
        "team_name": team.name,
        "supplier_id": order.supplier_id,
        "supplier_name": supplier.name,
        "category": order.category,
        "district": order.district,
        "quantity": order.quantity,
        "unit": order.unit,
        "unit_price_fen": order.unit_price_fen,
        "amount_fen": order.amount_fen,
        "funding": order.funding,
        "government_fen": order.government_fen,
        "subsidy_fen": order.subsidy_fen,
        "dates": list(order.dates),
        "venue": order.venue,
        "wish_id": order.wish_id,
        "confirmed_at": order.confirmed_at.isoformat(),
        "voided_at": order.voided_at.isoformat() if order.voided_at else None,
        "void_reason": order.void_reason,
        "paid_fen": order.paid_fen,
    }


def credential_view(credential: Any) -> dict[str, Any]:
    return {
        "id": credential.id,
        "kind": credential.kind,
        "party_id": credential.party_id,
        "label": credential.label,
        "revoked": credential.revoked_at is not None,
        "created_at": credential.created_at.isoformat(),
    }


def likeness(text: str) -> str:
    """What a wish says with its punctuation, spaces, emoji and case taken away: wishes with the same likeness
    are near-duplicates, grouped for the organiser (a burst of one text from many phones, or one phone's repeats)."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(char for char in folded if unicodedata.category(char)[0] in "LN")


def author_mark(wish: Any) -> str:
    """Who sent a wish, as a tag the organiser can compare but not read back to a number: one phone's burst of
    different words (a resident's, or an unconfirmed phone's) is grouped as one sender's."""
    who = f"resident:{wish.resident_id}" if wish.resident_id is not None else f"device:{wish.device}"
    return hashlib.blake2s(f"{wish.fair_id}:{who}".encode(), digest_size=4).hexdigest()


def public_wish(view: dict[str, Any]) -> dict[str, Any]:
    """A wish as anyone but the organiser sees it: without its sender's mark."""
    return {key: value for key, value in view.items() if key != "author"}


def wish_view(wish: Any, answers: list[dict[str, Any]]) -> dict[str, Any]:
    """A residents' wish, as the organiser sees it (``public_wish`` for everyone else); ``answers`` are the orders
    that answer it (``answer_view``).  The author is never shown, only a mark to group one sender's wishes."""
    return {
        "id": wish.id,
        "district": wish.district,
        "street": wish.street,
        "category": wish.category,
        "audience": wish.audience,
        "text": wish.text,
        "likeness": likeness(wish.text),
        "status": wish.status,
        "supports": wish.supports,
        "reason": wish.reason,
        "merged_into": wish.merged_into,
        "answers": answers,
        "created_at": wish.created_at.isoformat(),
        "author": author_mark(wish),
    }


def answer_view(order: Any, team_name: str, supplier_name: str) -> dict[str, Any]:
    """What anyone may know of an order that answers a wish: who bought what from whom."""
    return {
        "order_id": order.id,
        "team_name": team_name,
        "supplier_name": supplier_name,
        "offering_title": order.offering_title,
        "quantity": order.quantity,
        "unit": order.unit,
        "confirmed_at": order.confirmed_at.isoformat(),
    }


def shortlist_view(item: Any) -> dict[str, Any]:
    return {"offering_id": item.offering_id, "quantity": item.quantity, "note": item.note}


def slot_view(slot: Any) -> dict[str, Any]:
    """A booth's meeting slot, the same for everyone: who holds it is told only to the two parties."""
    return {
        "id": slot.id,
        "supplier_id": slot.supplier_id,
        "starts_at": slot.starts_at.isoformat(),
        "ends_at": slot.ends_at.isoformat(),
        "free": slot.team_id is None and not slot.withdrawn,
        "withdrawn": slot.withdrawn,
    }


def appointment_view(appointment: Any, team: Any, supplier: Any) -> dict[str, Any]:
    return {
        "id": appointment.id,
        "slot_id": appointment.slot_id,
        "supplier_id": appointment.supplier_id,
        "supplier_name": supplier.name,
        "booth": supplier.booth,
        "team_id": appointment.team_id,
        "team_name": team.name,
        "offering_id": appointment.offering_id,
        "offering_title": appointment.offering_title,
        "starts_at": appointment.starts_at.isoformat(),
        "ends_at": appointment.ends_at.isoformat(),
        "state": appointment.state,
        "message": appointment.message,
        "ended_by": appointment.ended_by,
        "updated_at": appointment.updated_at.isoformat(),
    }


def ticket_view(ticket: Any, team_name: str, position: int | None, wait_seconds: int | None = None) -> dict[str, Any]:
    """A team's number at a booth; ``position`` counts the waiting tickets up to and including it;
    ``wait_seconds`` is how long it may still wait, from the booth's recent service times (None: unknown)."""
    return {
        "id": ticket.id,
        "supplier_id": ticket.supplier_id,
        "team_id": ticket.team_id,
        "team_name": team_name,
        "number": ticket.number,
        "state": ticket.state,
        "position": position,
        "wait_seconds": wait_seconds,
        "called_at": ticket.called_at.isoformat() if ticket.called_at else None,
    }
