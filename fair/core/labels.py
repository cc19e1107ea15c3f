"""Names of the fair's things, as msgids, for messages that mention them.

A refusal stores these msgids in its parameters (keys ending in ``_label``)
and ``FairError.message`` translates them with the rest of the message.
"""

from fair.core.errors import N_

FAIR_STATES = {"setup": N_("in setup"), "preview": N_("in preview"), "open": N_("open"), "closed": N_("closed")}

NEGOTIATION_STATES = {
    "open": N_("opened"),
    "proposed": N_("proposed"),
    "countered": N_("countered"),
    "confirmed": N_("confirmed"),
    "declined": N_("declined"),
    "withdrawn": N_("withdrawn"),
    "expired": N_("expired"),
}

# What each kind of event of the log is, as the organiser's history names it (fair.core.audit).
EVENTS = {
    "fair.created": N_("Fair created"),
    "fair.opened": N_("Fair opened"),
    "fair.closed": N_("Fair closed"),
    "fair.updated": N_("Fair settings changed"),
    "fair.previewed": N_("Catalogue out for preview"),
    "fair.reopened": N_("Fair reopened"),
    "supplier.updated": N_("Supplier changed"),
    "team.updated": N_("Team changed"),
    "offering.published": N_("Offering published"),
    "offering.updated": N_("Offering changed"),
    "offering.spotlighted": N_("Offering pushed to the tablets"),
    "offering.withdrawn": N_("Offering withdrawn"),
    "negotiation.updated": N_("Negotiation moved"),
    "negotiation.message": N_("Message in a negotiation"),
    "order.confirmed": N_("Order confirmed"),
    "order.voided": N_("Order voided"),
    "order.paid": N_("Payment recorded"),
    "access.issued": N_("Join card issued"),
    "access.revoked": N_("Join card revoked"),
    "access.limited": N_("Join card's devices limited"),
    "access.signed_out": N_("Device signed out"),
    "organiser.signed_out": N_("Organiser signed out"),
    "wish.updated": N_("Residents' wish changed"),
    "shortlist.updated": N_("Shortlist changed"),
    "slot.updated": N_("Meeting slot changed"),
    "appointment.updated": N_("Meeting changed"),
    "queue.updated": N_("Booth queue moved"),
    "recommendation.dismissed": N_("Recommendation set aside"),
    "recommendation.restored": N_("Recommendation taken back"),
    "announcement.updated": N_("Announcement changed"),
    "venue.updated": N_("Venue changed"),
    "delivery.updated": N_("Delivery changed"),
    "score.updated": N_("Booth's score changed"),
    "rating.updated": N_("Residents' rating changed"),
}

THINGS = {
    "fair": N_("fair"),
    "supplier": N_("supplier"),
    "team": N_("team"),
    "offering": N_("offering"),
    "negotiation": N_("negotiation"),
    "purchase_order": N_("order"),
    "wish": N_("wish"),
    "slot": N_("meeting slot"),
    "appointment": N_("meeting"),
    "device": N_("device"),
    "session": N_("sign-in"),
    "credential": N_("join card"),
    "announcement": N_("announcement"),
    "venue": N_("venue"),
    "delivery": N_("delivery"),
    "resident_rating": N_("rating"),
}

# What pydantic found wrong with a field, by its error type.
INPUT_PROBLEMS = {
    "missing": N_("is required"),
    "extra_forbidden": N_("is not expected"),
    "int_type": N_("must be a whole number"),
    "string_type": N_("must be text"),
    "bool_type": N_("must be true or false"),
    "list_type": N_("must be a list"),
    "model_type": N_("must be an object"),
    "dict_type": N_("must be an object"),
    "greater_than_equal": N_("is too small"),
    "less_than_equal": N_("is too large"),
    "string_too_short": N_("is too short"),
    "string_too_long": N_("is too long"),
    "too_short": N_("has too few items"),
    "too_long": N_("has too many items"),
    "string_pattern_mismatch": N_("is not one of the allowed values"),
    "enum": N_("is not one of the allowed values"),
    "text_characters": N_("holds control or invisible characters"),
    "markup": N_("may not hold < or >"),
    "day_range": N_("must be a day from 2000 to 2099"),
}
INVALID = N_("is not valid")

# What residents ask for, as the noun in "… ask for %(category_label)s".
CATEGORY_WANTED = {
    "performance": N_("performances"),
    "training": N_("training courses"),
    "lecture": N_("lectures"),
    "exhibition": N_("exhibitions"),
    "books": N_("books"),
}

# The fields of the commands, as people call them: a refusal names the field in words, not as "terms.quantity".
FIELDS = {
    "quantity": N_("The quantity"),
    "unit_price_fen": N_("The unit price"),
    "capacity": N_("The capacity"),
    "title": N_("The title"),
    "description": N_("The description"),
    "dates": N_("The dates"),
    "add_dates": N_("The dates"),
    "venue": N_("The venue"),
    "message": N_("The message"),
    "funding": N_("The funding"),
    "budget_fen": N_("The budget"),
    "subsidy_rate_bp": N_("The subsidy rate"),
    "subsidy_pool_fen": N_("The subsidy pool"),
    "queue_grace_minutes": N_("The waiting time"),
    "queue_numbers_per_team": N_("Numbers per team"),
    "coverage_streets_pct": N_("The target for streets reached"),
    "coverage_wishes_pct": N_("The target for wishes answered"),
    "seats_per_resident": N_("Seats per resident"),
    "name": N_("The name"),
    "booth": N_("The booth number"),
    "day": N_("The day"),
    "district": N_("The district"),
    "street": N_("The street"),
    "category": N_("The category"),
    "audience": N_("The audience"),
    "text": N_("The wish"),
    "reason": N_("The reason"),
    "note": N_("The note"),
    "label": N_("The label"),
    "unit": N_("The unit"),
    "starts": N_("The start time"),
    "ends": N_("The end time"),
    "minutes": N_("The length of a meeting"),
    "districts": N_("The districts served"),
    "themes": N_("The themes"),
    "min_seats": N_("The seats needed"),
    "venue_seats": N_("The seats of your largest venue"),
    "categories": N_("The kinds of service"),
    "audiences": N_("The audiences"),
}

# The names of categories, kinds of team and ways of paying, as reports and spreadsheets show them.
CATEGORY_NAMES = {
    "performance": N_("Performance"),
    "training": N_("Training"),
    "lecture": N_("Lecture"),
    "exhibition": N_("Exhibition"),
    "books": N_("Books"),
}
TEAM_KINDS = {
    "city_centre": N_("City cultural centre"),
    "district_centre": N_("District cultural centre"),
    "library": N_("Library"),
    "district_bureau": N_("District culture bureau"),
    "street": N_("Street"),
    "community": N_("Community"),
}
FUNDINGS = {"government": N_("Government budget"), "self_funded": N_("Own funds")}
