"""Recommendations, both ways: which offerings suit a team, and which teams a booth should meet.

A team has a district whose residents asked for things (the approved wishes,
with their supports), a budget with something left, and what it already
bought.  An offering has a category, an audience, the districts it serves, a
price, and units and dates left.  The fit of the two is a sum of a few
weighted factors, all in ``WEIGHTS`` below, and every recommendation says why
in one line made of its strongest reasons.  Deterministic: the same fair gives
the same ranking, ties broken by id, so that changing a weight is a decision
a test sees (``tests/test_matching.py``).

The factors, and why:

- **demand** — the residents of the team's district (a city-level team: of the
  city) who asked for this category and have not been answered yet, counted by
  their supports, doubled where the wish's audience is one the offering is
  for.  The fair exists to turn these wishes into services (群众点单、政府买单),
  so it weighs most; logarithmic, so that one huge wish does not drown the rest.
- **serves** — the supplier names the team's district among those it serves;
  an offering that names other districts only is not recommended at all.
- **budget** — the offering's unit price fits what is left of the government
  budget; when it does not, it still shows (a unit may pay with its own funds
  and get the subsidy), ranked down.
- **scarce** — few units or dates left: decide soon.
- **variety** — a category the team has not bought yet this fair ranks up;
  each order already placed in it ranks it down a little.
- **rating** — the supplier's evaluation score, once deliveries are rated
  (1–5, counted when at least ``MIN_RATINGS`` residents and teams rated it).

A booth sees the teams ranked by the same fit with its best offering for
each, and the same reasons; the budget reason says only whether it fits,
never how much is left.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fair.core.errors import N_
from fair.core.labels import CATEGORY_WANTED
from fair.models import CITY

WEIGHTS = {
    "demand": 3.0,  # × log2(1 + supports of matching unanswered wishes, audience matches doubled)
    "answered_demand": 0.25,  # a wish already answered by an order still counts, much less
    "audience_match": 2.0,  # multiplies a wish's supports when the offering is for the wish's audience
    "serves_district": 1.0,  # the offering names the team's district
    "serves_everywhere": 0.5,  # the offering names no district: it goes anywhere
    "within_budget": 2.0,
    "over_budget": -3.0,
    "scarce": 0.5,  # at most SCARCE units or dates left
    "new_category": 1.0,  # the team has no order in this category yet
    "repeat_category": -0.5,  # per order the team already has in this category
    "rating": 1.0,  # × (average rating − 3)
}
SCARCE = 3
MIN_RATINGS = 3
REASONS_SHOWN = 3


@dataclass
class Fit:
    """One recommendation: a score, the offering and team it is about, and its reasons (strongest first)."""

    offering_id: int
    team_id: int
    score: float
    parts: list[tuple[float, dict[str, Any]]] = field(default_factory=list)

    def add(self, weight: float, msgid: str | None = None, **params: Any) -> None:
        self.score += weight
        if msgid is not None:
            self.parts.append((weight, {"msgid": msgid, "params": params}))

    def reasons(self) -> list[dict[str, Any]]:
        """The strongest reasons for, then any reason against; each a msgid and its parameters."""
        ranked = sorted(self.parts, key=lambda part: -part[0])
        good = [reason for weight, reason in ranked if weight > 0][:REASONS_SHOWN]
        bad = [reason for weight, reason in ranked if weight < 0]
        return good + bad

    def shown(self) -> dict[str, Any]:
        return {
            "offering_id": self.offering_id,
            "team_id": self.team_id,
            "score": round(self.score, 2),
            "reasons": self.reasons(),
        }


def fit(
    team: Mapping[str, Any],
    offering: Mapping[str, Any],
    wishes: Iterable[Mapping[str, Any]],
    bought: Counter,
    rating: tuple[float, int] | None = None,
) -> Fit | None:
    """How well ``offering`` suits ``team``; None when it cannot be recommended at all.

    ``team`` and ``offering`` are their views (``fair.core.views``), ``wishes``
    the approved wishes, ``bought`` the team's orders per category, ``rating``
    the supplier's (average, count).
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
    _demand(result, district, offering, wishes)
    if district in offering["districts"]:
        result.add(WEIGHTS["serves_district"], N_("serves %(district)s"), district=district)
    elif not offering["districts"]:
        result.add(WEIGHTS["serves_everywhere"])
    if offering["unit_price_fen"] <= team["budget"]["remaining_fen"]:
        result.add(WEIGHTS["within_budget"], N_("within budget"))
    else:
        result.add(WEIGHTS["over_budget"], N_("more than the budget left"))
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
    return result


def _demand(result: Fit, district: str, offering: Mapping[str, Any], wishes: Iterable[Mapping[str, Any]]) -> None:
    weight, supports, audiences = 0.0, 0, Counter()
    for wish in wishes:
        if wish["category"] != offering["category"] or (district != CITY and wish["district"] != district):
            continue
        factor = WEIGHTS["audience_match"] if wish["audience"] in offering["audience"] else 1.0
        share = 1.0 if not wish["answers"] else WEIGHTS["answered_demand"]
        weight += wish["supports"] * factor * share
        if not wish["answers"]:
            supports += wish["supports"]
            if wish["audience"] in offering["audience"]:
                audiences[wish["audience"]] += wish["supports"]
    if not weight:
        return
    where = district if district != CITY else N_("the city")
    score = WEIGHTS["demand"] * math.log2(1 + weight)
    if audiences:
        audience = min(audiences, key=lambda name: (-audiences[name], name))
        result.add(
            score,
            N_("%(count)s residents of %(where_label)s ask for %(category_label)s for %(audience)s"),
            count=supports,
            where_label=where,
            category_label=CATEGORY_WANTED[offering["category"]],
            audience=audience,
        )
    elif supports:
        result.add(
            score,
            N_("%(count)s residents of %(where_label)s ask for %(category_label)s"),
            count=supports,
            where_label=where,
            category_label=CATEGORY_WANTED[offering["category"]],
        )
    else:
        result.add(score)


def _bought(team: Mapping[str, Any], orders: Iterable[Mapping[str, Any]]) -> Counter:
    """The team's standing orders per category: a voided order bought nothing."""
    return Counter(o["category"] for o in orders if o["team_id"] == team["id"] and not o.get("voided_at"))


def offerings_for(
    team: Mapping[str, Any],
    offerings: Iterable[Mapping[str, Any]],
    wishes: list[Mapping[str, Any]],
    orders: Iterable[Mapping[str, Any]],
    ratings: Mapping[int, tuple[float, int]] | None = None,
    limit: int = 20,
) -> list[dict[str, Any]]:
    """The offerings that suit ``team`` best, best first, each with why."""
    bought = _bought(team, orders)
    ratings = ratings or {}
    fits = [fit(team, offering, wishes, bought, ratings.get(offering["supplier_id"])) for offering in offerings]
    ranked = sorted((f for f in fits if f is not None), key=lambda f: (-round(f.score, 6), f.offering_id))
    return [f.shown() for f in ranked[:limit]]


def teams_for(
    supplier_id: int,
    teams: Iterable[Mapping[str, Any]],
    offerings: list[Mapping[str, Any]],
    wishes: list[Mapping[str, Any]],
    orders: list[Mapping[str, Any]],
    ratings: Mapping[int, tuple[float, int]] | None = None,
    limit: int = 20,
) -> list[dict[str, Any]]:
    """The approved teams a booth should meet, best first: each with the booth's best offering for it, and why."""
    own = [offering for offering in offerings if offering["supplier_id"] == supplier_id]
    rating = (ratings or {}).get(supplier_id)
    teams, best = list(teams), []
    for team in teams:
        if not team["approved"]:
            continue
        bought = _bought(team, orders)
        fits = [f for f in (fit(team, offering, wishes, bought, rating) for offering in own) if f is not None]
        if fits:
            best.append(min(fits, key=lambda f: (-round(f.score, 6), f.offering_id)))
    ranked = sorted(best, key=lambda f: (-round(f.score, 6), f.team_id))
    named = {team["id"]: team for team in teams}
    return [
        f.shown() | {"team_name": named[f.team_id]["name"], "district": named[f.team_id]["district"]}
        for f in ranked[:limit]
    ]
