"""Recommendations, both ways: which offerings suit a team, and which teams a booth should meet.

A team has an area (the city, its district, or its street), a budget with
something left, a shortlist and what it already bought.  An offering has a
category, audiences, the districts it serves, a price, and units and dates
left.  The fit of the two is a sum of a few weighted factors, all in
``WEIGHTS`` below, and each card says why in the reasons it shows, every one
of them a claim that can be recounted from the database
(``fair.scenarios.check_reason``).  Deterministic: the same fair gives the same
ranking, ties broken by id, so that changing a weight is a decision a test
sees (``tests/test_matching.py``) and the quality command measures
(``scripts/recommendation-quality``).

The factors, and why:

- **demand**: the residents who asked, in open wishes, for exactly what this
  offering is: its category, one of its audiences, in the team's area (a
  street team's street, or its district where its street asked for nothing of
  the kind; a district's; the whole city's for a city team).  Counted as
  distinct people across those wishes (one resident supporting three wishes
  is one), and the reason names the count, the area, the audiences and the
  wishes themselves (their ids open on a tap).  The fair exists to turn these
  wishes into services (群众点单、政府买单), so it weighs most; logarithmic, so
  that one huge wish does not drown the rest.
- **budget**: what the team would order (its shortlist quantity, else the
  fair's usual quantity in the category, else one unit) at the offering's
  price, against the government budget left.  No own-funds line is assumed:
  an offering the budget cannot pay says how much the unit would pay itself
  ("需自筹 ¥X"), and ranks after every offering the team can afford.
- **serves**: the supplier names the team's district among those it serves;
  an offering that names other districts only is not recommended at all.
- **scarce**: few units or dates left: decide soon.
- **variety**: a category the team has not bought yet this fair ranks up; each
  order already placed in it ranks it down a little; a second offering that
  answers the same wishes as one ranked above it ranks down, so that the top
  of the list is not five answers to one wish.
- **interests** (b2match's "looking for / offering", ``fair.core.interests``):
  an offering of what the team says it looks for (a category, and one of the
  audiences it names if it names any; or a theme of its in the offering's
  title or description) +1; of what the booth says it does best +0.5; where
  both hold the fit is ``mutual``, flagged on both sides.  A dated offering
  free on a day the team wants +0.5, free on none of them −0.5.  An offering
  that needs a hall of some seats (``min_seats``) +0.25 where the team's
  largest venue holds them, −1 where it does not (the team would rent a
  hall: possible, so ranked down, not left out).  Together less than one
  wish's resident: the wishes stay first.
- **queue**: on the day, a booth where ``LONG_QUEUE`` teams or more wait
  ranks down a little for each, and says so: the team may come back later.
- **set aside**: an offering the team said it is not interested in (or
  snoozed, until then) leaves the list and is listed apart, with a way back
  (``fair.core.dismissals``); each offering like it (its category and one of
  its audiences) ranks down a little, and says which it is like.  A booth's
  teams set aside likewise.
- **rating**: the supplier's evaluation score, once deliveries are rated
  (1–5, counted when at least ``MIN_RATINGS`` residents and teams rated it).

A booth sees the teams ranked by the same fit with its best offering for
each, and the same reasons, less the budget's figures (whether it fits, never
how much is left), and leaves out the teams it already meets or negotiates
with; each team comes with the booth's free slots at which it is at no other
meeting (``slots_for``): a booth is not offered a time the team is taken.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fair.core.errors import N_
from fair.core.labels import CATEGORY_WANTED
from fair.models import CITY

WEIGHTS = {
    "demand": 3.0,  # × log2(1 + distinct residents behind the matching open wishes)
    "serves_district": 1.0,  # the offering names the team's district
    "serves_everywhere": 0.5,  # the offering names no district: it goes anywhere
    "within_budget": 2.0,
    "over_budget": -3.0,  # and after every affordable offering whatever the score (``_rank``)
    "scarce": 0.5,  # at most SCARCE units or dates left
    "new_category": 1.0,  # the team has no order in this category yet
    "repeat_category": -0.5,  # per order the team already has in this category
    "same_wishes_again": -4.0,  # per offering ranked above it that answers the same wishes: it answers no one new
    "rating": 1.0,  # × (average rating − 3)
    "looked_for": 1.0,  # the team says it looks for this kind
    "done_best": 0.5,  # the booth says it does this kind best
    "fits_venue": 0.25,  # the offering needs a hall the team's largest venue holds
    "venue_too_small": -1.0,  # it needs more seats than the team's largest venue holds: a hall to rent
    "wanted_day": 0.5,  # a free date on a day the team wants; minus this where none of its free dates is
    "queue": -0.25,  # per team waiting at the booth, from LONG_QUEUE on
    "like_set_aside": -1.0,  # per offering set aside that this one is like
}
LONG_QUEUE = 4
SCARCE = 3
MIN_RATINGS = 3
REASONS_SHOWN = 3

DEMAND = N_(
    "%(count)s residents of %(where_label)s asked in %(wishes)s wishes for %(category_label)s for %(audiences)s"
)
WITHIN = N_("%(quantity)s %(unit)s for %(cost_fen)s: within the budget left")
MUTUAL = N_("a mutual fit: what your team looks for, and what the booth does best")
MUTUAL_FOR_BOOTH = N_("a mutual fit: the team looks for %(category_label)s, what your booth does best")
THEME = N_("about %(theme)s, what your team looks for")
ON_A_WANTED_DAY = N_("free on %(first_day)s, a day you want")
NOT_ON_WANTED_DAYS = N_("no free date on the days you want")
FITS_VENUE = N_("fits your venue of %(venue_seats)s seats")
VENUE_TOO_SMALL = N_("needs %(min_seats)s seats; your largest venue holds %(venue_seats)s")
OWN_FUNDS = N_("needs %(own_fen)s of own funds (%(quantity)s %(unit)s for %(cost_fen)s)")

Supporters = Mapping[int, Collection[int]]  # wish id -> the residents who support it (its author included)
SetAside = Mapping[int, str | None]  # offering (for a team) or team (for a booth) id -> until when, None for good


@dataclass
class Fit:
    """One recommendation: a score, the offering and team it is about, and its reasons (strongest first)."""

    offering_id: int
    team_id: int
    score: float
    affordable: bool = True
    mutual: bool = False
    wish_ids: tuple[int, ...] = ()
    parts: list[tuple[float, dict[str, Any]]] = field(default_factory=list)

    def add(self, weight: float, msgid: str | None = None, **params: Any) -> None:
        self.score += weight
        if msgid is not None:
            self.parts.append((weight, {"msgid": msgid, "params": params}))

    def reasons(self) -> list[dict[str, Any]]:
        """The strongest reasons for, then any reason against (marked ``against``); each a msgid and parameters."""
        ranked = sorted(self.parts, key=lambda part: -part[0])
        good = [reason for weight, reason in ranked if weight > 0][:REASONS_SHOWN]
        bad = [reason | {"against": True} for weight, reason in ranked if weight < 0]
        return good + bad

    def shown(self) -> dict[str, Any]:
        return {
            "offering_id": self.offering_id,
            "team_id": self.team_id,
            "score": round(self.score, 2),
            "affordable": self.affordable,
            "mutual": self.mutual,
            "wish_ids": list(self.wish_ids),
            "reasons": self.reasons(),
        }


@dataclass(frozen=True)
class Plan:
    """What the team would order of an offering, for the budget's check: how many, and what it costs."""

    quantity: int
    cost_fen: int


def plan(offering: Mapping[str, Any], shortlisted: Mapping[int, int], usual: Mapping[str, int]) -> Plan:
    """The team's shortlist quantity, else the fair's usual quantity in the category, else one; at most what is left."""
    wanted = shortlisted.get(offering["id"]) or usual.get(offering["category"]) or 1
    quantity = max(1, min(wanted, offering["remaining"]))
    return Plan(quantity, quantity * offering["unit_price_fen"])


def usual_quantities(orders: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """The median quantity of the fair's standing orders, per category: what a team usually orders of the kind."""
    quantities: dict[str, list[int]] = {}
    for order in orders:
        if not order.get("voided_at"):
            quantities.setdefault(order["category"], []).append(order["quantity"])
    return {category: int(statistics.median_low(found)) for category, found in quantities.items()}


def area(team: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(district, street) the team buys for: (None, None) for the city, no street for a district's team."""
    if team["district"] == CITY:
        return None, None
    return team["district"], team.get("street") or None


def answers(offering: Mapping[str, Any], wish: Mapping[str, Any]) -> bool:
    """Whether the offering is what an open wish asks for: its category, and the wish's audience among its own."""
    if wish["answers"] or wish["category"] != offering["category"]:
        return False
    return not offering["audience"] or wish["audience"] in offering["audience"]


def demand(
    team: Mapping[str, Any], offering: Mapping[str, Any], wishes: Iterable[Mapping[str, Any]], supporters: Supporters
) -> tuple[str, list[Mapping[str, Any]], int]:
    """The open wishes of the team's area the offering answers, where they are, and how many people asked.

    A street team hears its street; where its street asked for nothing the offering answers, its district.
    """
    district, street = area(team)
    fitting = [w for w in wishes if answers(offering, w) and (district is None or w["district"] == district)]
    where: str = N_("the city") if district is None else district
    if street is not None:
        own = [w for w in fitting if w["street"] == street]
        if own:
            fitting, where = own, street
    people: set[int] = set()
    for wish in fitting:
        people.update(supporters.get(wish["id"], ()))
    return where, sorted(fitting, key=lambda w: w["id"]), len(people)


def fit(
    team: Mapping[str, Any],
    offering: Mapping[str, Any],
    wishes: Iterable[Mapping[str, Any]],
    supporters: Supporters,
    bought: Counter,
    planned: Plan,
    rating: tuple[float, int] | None = None,
    *,
    best: Mapping[str, Any] | None = None,
    waiting: int = 0,
    for_booth: bool = False,
) -> Fit | None:
    """How well ``offering`` suits ``team``; None when it cannot be recommended at all.

    ``team`` and ``offering`` are their views (``fair.core.views``), ``wishes``
    the approved wishes and ``supporters`` who stands behind each, ``bought``
    the team's orders per category, ``planned`` what it would order,
    ``rating`` the supplier's (average, count), ``best`` what it says it does
    best (``interests`` of its view), ``waiting`` the teams in its booth's
    queue.  ``for_booth``: the budget's reasons say whether it fits, never a
    figure.
    """
    if offering["status"] != "published" or offering["remaining"] <= 0:
        return None
    free_dates = sum(1 for day in offering["dates"] if day["free"])
    if offering["dates"] and not free_dates:
        return None
    district = team["district"]
    if offering["districts"] and district != CITY and district not in offering["districts"]:
        return None
    result = Fit(offering["id"], team["id"], 0.0)
    where, fitting, people = demand(team, offering, wishes, supporters)
    if people:
        result.wish_ids = tuple(w["id"] for w in fitting)
        result.add(
            WEIGHTS["demand"] * math.log2(1 + people),
            DEMAND,
            count=people,
            wishes=len(fitting),
            where_label=where,
            category_label=CATEGORY_WANTED[offering["category"]],
            audiences="、".join(sorted({w["audience"] for w in fitting})),
            wish_ids=list(result.wish_ids),
        )
    if district in offering["districts"]:
        result.add(WEIGHTS["serves_district"], N_("serves %(district)s"), district=district)
    elif not offering["districts"]:
        result.add(WEIGHTS["serves_everywhere"])
    _budget(result, team, offering, planned, for_booth)
    _interests(result, team.get("interests"), best, offering, for_booth)
    left = free_dates if offering["dates"] else offering["remaining"]
    if left <= SCARCE:
        result.add(WEIGHTS["scarce"], N_("only %(left)s %(unit)s left"), left=left, unit=offering["unit"])
    already = bought[offering["category"]]
    if already:
        result.add(WEIGHTS["repeat_category"] * already)
    else:
        result.add(WEIGHTS["new_category"], N_("no order of this kind yet"))
    if rating is not None and rating[1] >= MIN_RATINGS:
        average, count = rating
        result.add(
            WEIGHTS["rating"] * (average - 3), N_("rated %(score)s by %(count)s"), score=f"{average:.1f}", count=count
        )
    if waiting >= LONG_QUEUE and not for_booth:
        result.add(WEIGHTS["queue"] * waiting, N_("%(count)s teams waiting at the booth"), count=waiting)
    return result


def takes_in(interests: Mapping[str, Any] | None, offering: Mapping[str, Any]) -> tuple[bool, str | None]:
    """Whether stated interests take in the offering, and the theme that does where no kind of theirs does.

    A kind holds for its category, and an audience of theirs if they name any;
    a theme holds where its words are in the offering's title or description.
    """
    if not interests:
        return False, None
    if offering["category"] in interests["categories"] and (
        not interests["audiences"]
        or not offering["audience"]
        or bool(set(interests["audiences"]) & set(offering["audience"]))
    ):
        return True, None
    text = offering["title"] + " " + offering.get("description", "")
    theme = next((theme for theme in interests.get("themes", ()) if theme.casefold() in text.casefold()), None)
    return theme is not None, theme


def _interests(
    result: Fit,
    wanted: Mapping[str, Any] | None,
    best: Mapping[str, Any] | None,
    offering: Mapping[str, Any],
    for_booth: bool,
) -> None:
    (looked_for, theme), (done_best, _) = takes_in(wanted, offering), takes_in(best, offering)
    label = CATEGORY_WANTED[offering["category"]]
    result.mutual = looked_for and done_best
    if result.mutual:  # one reason, so that it is among those shown
        msgid = MUTUAL_FOR_BOOTH if for_booth else MUTUAL
        result.add(WEIGHTS["looked_for"] + WEIGHTS["done_best"], msgid, category_label=label)
    elif looked_for and theme is not None:
        msgid = N_("the team looks for %(theme)s") if for_booth else THEME
        result.add(WEIGHTS["looked_for"], msgid, theme=theme)
    elif looked_for:
        msgid = N_("the team looks for %(category_label)s") if for_booth else N_("what your team looks for")
        result.add(WEIGHTS["looked_for"], msgid, category_label=label)
    elif done_best:
        msgid = N_("what your booth does best") if for_booth else N_("what the booth does best")
        result.add(WEIGHTS["done_best"], msgid)
    _days(result, wanted, offering, for_booth)
    _seats(result, wanted, offering, for_booth)


def _days(result: Fit, wanted: Mapping[str, Any] | None, offering: Mapping[str, Any], for_booth: bool) -> None:
    """A dated offering free on a day the team wants ranks up, naming the first such day; free on none of them,
    down.  An offering without dates (a lecture booked later, books) is neither."""
    days = set(wanted.get("dates", ())) if wanted else set()
    if not days or not offering["dates"]:
        return
    free = sorted(d["day"] for d in offering["dates"] if d["free"] and d["day"] in days)
    if free:
        msgid = N_("free on %(first_day)s, a day the team wants") if for_booth else ON_A_WANTED_DAY
        result.add(WEIGHTS["wanted_day"], msgid, first_day=free[0], days=len(free))
    else:
        msgid = N_("no free date on the days the team wants") if for_booth else NOT_ON_WANTED_DAYS
        result.add(-WEIGHTS["wanted_day"], msgid)


def _seats(result: Fit, wanted: Mapping[str, Any] | None, offering: Mapping[str, Any], for_booth: bool) -> None:
    """An offering that needs a hall of some size, against the team's largest venue, where both are said."""
    seats, needed = (wanted or {}).get("venue_seats", 0), offering.get("min_seats", 0)
    if not seats or not needed:
        return
    if needed <= seats:
        msgid = N_("fits the team's venue of %(venue_seats)s seats") if for_booth else FITS_VENUE
        result.add(WEIGHTS["fits_venue"], msgid, venue_seats=seats, min_seats=needed)
    else:
        msgid = (
            N_("needs %(min_seats)s seats; the team's largest venue holds %(venue_seats)s")
            if for_booth
            else VENUE_TOO_SMALL
        )
        result.add(WEIGHTS["venue_too_small"], msgid, venue_seats=seats, min_seats=needed)


def _budget(result: Fit, team: Mapping[str, Any], offering: Mapping[str, Any], planned: Plan, for_booth: bool) -> None:
    left = team["budget"]["remaining_fen"]
    result.affordable = planned.cost_fen <= left
    amounts = {"quantity": planned.quantity, "unit": offering["unit"], "cost_fen": planned.cost_fen}
    if result.affordable:
        if for_booth:
            result.add(WEIGHTS["within_budget"], N_("within budget"))
        else:
            result.add(WEIGHTS["within_budget"], WITHIN, **amounts)
    elif for_booth:
        result.add(WEIGHTS["over_budget"], N_("more than the budget left"))
    else:
        own = planned.cost_fen - max(left, 0)
        result.add(WEIGHTS["over_budget"], OWN_FUNDS, own_fen=own, **amounts)


def _rank(fits: Iterable[Fit], key_id: str, limit: int) -> list[Fit]:
    """The first ``limit``: affordable first, then by score, picked one by one so that a fit answering the same
    wishes as one picked before it ranks down (variety); ties by id."""
    waiting, ranked, picked = list(fits), [], Counter()

    def key(candidate: Fit) -> tuple:
        again = WEIGHTS["same_wishes_again"] * picked[candidate.wish_ids] if candidate.wish_ids else 0.0
        return (not candidate.affordable, -round(candidate.score + again, 6), getattr(candidate, key_id))

    while waiting and len(ranked) < limit:
        best = min(waiting, key=key)
        waiting.remove(best)
        if best.wish_ids:
            if picked[best.wish_ids]:
                best.add(WEIGHTS["same_wishes_again"] * picked[best.wish_ids])
            picked[best.wish_ids] += 1
        ranked.append(best)
    return ranked


def _bought(team: Mapping[str, Any], orders: Iterable[Mapping[str, Any]]) -> Counter:
    """The team's standing orders per category: a voided order bought nothing."""
    return Counter(o["category"] for o in orders if o["team_id"] == team["id"] and not o.get("voided_at"))


def offerings_for(
    team: Mapping[str, Any],
    offerings: Iterable[Mapping[str, Any]],
    wishes: list[Mapping[str, Any]],
    supporters: Supporters,
    orders: list[Mapping[str, Any]],
    shortlisted: Mapping[int, int] | None = None,
    ratings: Mapping[int, tuple[float, int]] | None = None,
    waiting: Mapping[int, int] | None = None,
    set_aside: SetAside | None = None,
    best: Mapping[int, Mapping[str, Any]] | None = None,
    limit: int = 20,
) -> list[dict[str, Any]]:
    """The offerings that suit ``team`` best, best first, each with why, then those it set aside (``set_aside``
    says until when).  ``orders``: the fair's, every team's; ``waiting``: the teams in each booth's queue;
    ``best``: what each booth says it does best, by supplier."""
    best = best or {}
    bought, usual = _bought(team, orders), usual_quantities(orders)
    ratings, shortlisted, waiting, set_aside = ratings or {}, shortlisted or {}, waiting or {}, set_aside or {}
    offerings = list(offerings)
    aside = [o for o in offerings if o["id"] in set_aside]
    fits = []
    for o in offerings:
        if o["id"] in set_aside:
            continue
        found = fit(
            team,
            o,
            wishes,
            supporters,
            bought,
            plan(o, shortlisted, usual),
            ratings.get(o["supplier_id"]),
            best=best.get(o["supplier_id"]),
            waiting=waiting.get(o["supplier_id"], 0),
        )
        if found is not None:
            _like_set_aside(found, o, aside)
            fits.append(found)
    ranked = [f.shown() | {"set_aside": None} for f in _rank(fits, "offering_id", limit)]
    return ranked + [_aside(o["id"], team["id"], set_aside[o["id"]]) for o in sorted(aside, key=lambda o: o["id"])]


def slots_for(free: Iterable[Any], busy: Iterable[tuple[Any, Any]]) -> list[int]:
    """The ids of a booth's ``free`` slots (each with ``starts_at`` and ``ends_at``) at which a team is at no other
    meeting, booked or invited (``busy``: their starts and ends): those the booth may invite it to."""
    busy = list(busy)
    return [
        slot.id for slot in free if not any(starts < slot.ends_at and slot.starts_at < ends for starts, ends in busy)
    ]


def _like_set_aside(result: Fit, offering: Mapping[str, Any], aside: list[Mapping[str, Any]]) -> None:
    like = [
        other
        for other in aside
        if other["category"] == offering["category"]
        and (not other["audience"] or not offering["audience"] or set(other["audience"]) & set(offering["audience"]))
    ]
    if like:
        first = min(like, key=lambda other: other["id"])
        result.add(
            WEIGHTS["like_set_aside"] * len(like), N_("like %(title)s, which you set aside"), title=first["title"]
        )


def _aside(offering_id: int, team_id: int, until: str | None) -> dict[str, Any]:
    """A recommendation set aside, listed apart: no score, no reasons, until when."""
    return {
        "offering_id": offering_id,
        "team_id": team_id,
        "score": None,
        "affordable": None,
        "wish_ids": [],
        "reasons": [],
        "set_aside": {"until": until},
    }


def teams_for(
    supplier_id: int,
    teams: Iterable[Mapping[str, Any]],
    offerings: list[Mapping[str, Any]],
    wishes: list[Mapping[str, Any]],
    supporters: Supporters,
    orders: list[Mapping[str, Any]],
    meeting: Collection[int] = (),
    ratings: Mapping[int, tuple[float, int]] | None = None,
    set_aside: SetAside | None = None,
    done_best: Mapping[str, Any] | None = None,
    limit: int = 20,
) -> list[dict[str, Any]]:
    """The approved teams a booth should meet, best first: each with the booth's best offering for it, and why;
    then the teams it set aside.  ``meeting``: the teams the booth already meets or negotiates with, left out;
    ``done_best``: what the booth says it does best.
    """
    set_aside = set_aside or {}
    own = [offering for offering in offerings if offering["supplier_id"] == supplier_id]
    rating = (ratings or {}).get(supplier_id)
    usual = usual_quantities(orders)
    teams, best = list(teams), []
    for team in teams:
        if not team["approved"] or team["id"] in meeting or team["id"] in set_aside:
            continue
        bought = _bought(team, orders)
        fits = [
            f
            for f in (
                fit(team, o, wishes, supporters, bought, plan(o, {}, usual), rating, best=done_best, for_booth=True)
                for o in own
            )
            if f is not None
        ]
        if fits:
            best.append(min(fits, key=lambda f: (not f.affordable, -round(f.score, 6), f.offering_id)))
    ranked = sorted(best, key=lambda f: (not f.affordable, -round(f.score, 6), f.team_id))
    named = {team["id"]: team for team in teams}
    shown = [
        f.shown() | {"team_name": named[f.team_id]["name"], "district": named[f.team_id]["district"], "set_aside": None}
        for f in ranked[:limit]
    ]
    return shown + [
        {"team_id": team_id, "team_name": named[team_id]["name"], "district": named[team_id]["district"]}
        | {"offering_id": None, "score": None, "affordable": None, "wish_ids": [], "reasons": []}
        | {"set_aside": {"until": until}}
        for team_id, until in sorted(set_aside.items())
        if team_id in named
    ]
