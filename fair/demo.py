"""Load the demo fair from ``data/demo/fair.json`` through the fair's own commands.

Nothing is inserted behind the core's back: the demo is registered, approved,
published and opened by the same commands the organiser and the booths use,
so it is logged as events like everything else.  Every booth and team gets a
join credential, and the hall one projector, ready to print as QR cards.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from sqlmodel import select

from fair.core import Actor, FairError, execute, queries
from fair.core.tally import TRAINING_LECTURE_EXHIBITION
from fair.db import Database
from fair.models import CITY, Fair
from fair.sms import confirmed_resident


async def current_fair_id(db: Database) -> int | None:
    """The fair this installation serves: the most recently created one."""
    async with db.read() as session:
        return (await session.exec(select(Fair.id).order_by(Fair.id.desc()))).first()


async def load(db: Database, path: Path) -> int:
    return await build(db, json.loads((path / "fair.json").read_text(encoding="utf-8")))


async def build(db: Database, demo: dict) -> int:
    """Make the fair ``demo`` describes (``data/demo/fair.json``'s shape) through the commands; its id."""
    organiser = Actor.organiser()
    created = await execute(db, organiser, "fair.create", demo["fair"], "demo-fair")
    fair_id = created.data["fair"]["id"]
    organiser = Actor.organiser(fair_id)
    booths = {}
    for number, entry in enumerate(demo["suppliers"], start=1):
        supplier = {"name": entry["name"], "booth": entry["booth"], "approved": True}
        registered = await execute(db, organiser, "supplier.register", supplier, f"demo-supplier-{number}")
        supplier_id = registered.data["supplier"]["id"]
        booth = booths[entry["booth"]] = Actor.supplier(fair_id, supplier_id)
        for index, offering in enumerate(entry["offerings"], start=1):
            await execute(db, booth, "offering.publish", offering, f"demo-offering-{index}")
        join = {"kind": "supplier", "party_id": supplier_id, "label": entry["booth"]}
        await execute(db, organiser, "access.issue", join, f"demo-join-supplier-{number}")
    for number, entry in enumerate(demo["teams"], start=1):
        registered = await execute(db, organiser, "team.register", {**entry, "approved": True}, f"demo-team-{number}")
        join = {"kind": "team", "party_id": registered.data["team"]["id"], "label": entry["name"]}
        await execute(db, organiser, "access.issue", join, f"demo-join-team-{number}")
    await execute(db, organiser, "access.issue", {"kind": "projector", "label": "主屏"}, "demo-join-projector")
    for booth, times in demo.get("slots", {}).items():
        await execute(db, booths[booth], "slot.publish", times, f"demo-slots-{booth}")
    await _residents_wish(db, fair_id, demo.get("wishes", []))
    if demo.get("open"):
        await execute(db, organiser, "fair.open", {}, "demo-open")
    return fair_id


async def _residents_wish(db: Database, fair_id: int, wishes: list[dict]) -> None:
    """Residents submit the demo's wishes and support them from their phones; the organiser moderates them.

    Every author and supporter is a resident who confirmed a number of their own (demo numbers, 139… for
    authors and 138… for supporters, through the outbox as a person would), so each count is of people.
    """
    organiser = Actor.organiser(fair_id)
    ids: list[int] = []
    supporters: dict[int, Actor] = {}
    for index, entry in enumerate(wishes):
        author = await confirmed_resident(db, fair_id, f"139{index:08d}")
        wish = {key: entry[key] for key in ("district", "street", "category", "audience", "text")}
        submitted = await execute(db, author, "wish.submit", wish, f"demo-wish-{index}")
        ids.append(wish_id := submitted.data["wish"]["id"])
        status = entry["status"]
        if status == "pending":
            continue
        decision = {"wish_id": wish_id, "decision": "approve"}
        if status == "rejected":
            decision = {"wish_id": wish_id, "decision": "reject", "reason": entry["reason"]}
        await execute(db, organiser, "wish.moderate", decision, f"demo-moderate-{index}")
        for number in range(entry.get("supports", 0)):
            if number not in supporters:
                supporters[number] = await confirmed_resident(db, fair_id, f"138{number:08d}")
            supporter = supporters[number]
            await execute(db, supporter, "wish.support", {"wish_id": wish_id}, f"demo-support-{index}")
        if status == "merged":
            merge = {"wish_id": wish_id, "decision": "merge", "into": ids[entry["merge_into"]]}
            await execute(db, organiser, "wish.moderate", merge, f"demo-merge-{index}")


HEADLINE = ("performance_orders", "training_lecture_exhibition_orders", "book_volumes")
BOOK_LOT = 500  # volumes per book order while playing the day
MAX_ATTEMPTS = 10_000  # orders tried before a day is declared out of reach


@dataclass
class Played:
    """What a played day did: the headline it reached, the teams that ran out of budget, the refusals."""

    headline: dict[str, int]
    ran_out: set[int] = field(default_factory=set)
    refused: Counter = field(default_factory=Counter)


async def play(db: Database, fair_id: int, targets: dict[str, int], *, seed: int, pace: float = 0.0) -> Played:
    """Play a fair day through the demo: buyer teams propose, booths accept, until the headline reaches ``targets``.

    Buyers with bigger budgets buy more, as on the day; a team refused for its
    budget stops buying.  Every order goes through the same commands a tablet
    and a booth send.  ``pace`` seconds pass between orders, for a board to watch.
    """
    rng = random.Random(seed)
    run = f"play{seed}-{rng.randrange(10**8)}"
    async with db.read() as session:
        offerings = await queries.offerings(session, Actor.public(fair_id))
        teams = (await queries.participants(session, Actor.organiser(fair_id)))["teams"]
        open_wishes = [wish for wish in await queries.wishes(session, Actor.public(fair_id)) if not wish["answers"]]
    kinds = {
        "performance_orders": [o for o in offerings if o["category"] == "performance"],
        "training_lecture_exhibition_orders": [o for o in offerings if o["category"] in TRAINING_LECTURE_EXHIBITION],
        "book_volumes": [o for o in offerings if o["category"] == "books"],
    }
    played = Played(headline=dict.fromkeys(HEADLINE, 0))
    for number in itertools.count():
        kind = next((k for k in HEADLINE if played.headline[k] < targets.get(k, 0)), None)
        if kind is None:
            return played
        if number >= MAX_ATTEMPTS:
            raise RuntimeError(f"the demo could not reach {targets}: {played.headline}")
        offering = rng.choice(kinds[kind])
        terms = {"quantity": 1, "unit_price_fen": offering["unit_price_fen"]}
        if offering["dates"]:
            free = [d["day"] for d in offering["dates"] if d["free"]]
            if not free:
                continue
            terms["dates"] = [rng.choice(free)]
        elif kind == "book_volumes":
            terms["quantity"] = min(BOOK_LOT, targets[kind] - played.headline[kind], offering["remaining"])
        buyers = [t for t in teams if t["id"] not in played.ran_out]
        team = rng.choices(buyers, weights=[t["budget"]["budget_fen"] for t in buyers])[0]
        answering = _wish_answered_by(open_wishes, team, offering)
        if answering is not None:
            terms["wish_id"] = answering["id"]
        buyer, booth = Actor.team(fair_id, team["id"]), Actor.supplier(fair_id, offering["supplier_id"])
        negotiation = None
        try:
            opened = await execute(
                db, buyer, "negotiation.open", {"offering_id": offering["id"], "terms": terms}, f"{run}-o{number}"
            )
            negotiation = opened.data["negotiation"]
            accepted = await execute(
                db, booth, "negotiation.accept", {"negotiation_id": negotiation["id"], "version": 1}, f"{run}-a{number}"
            )
        except FairError as error:
            played.refused[str(error.code)] += 1
            if negotiation is not None:
                await execute(
                    db, buyer, "negotiation.withdraw", {"negotiation_id": negotiation["id"]}, f"{run}-w{number}"
                )
            if error.code == "budget_exceeded":
                played.ran_out.add(team["id"])
            continue
        if answering is not None:
            open_wishes.remove(answering)
        sold = accepted.data["order"]["offering"]
        offering["remaining"] = sold["remaining"]
        offering["dates"] = [
            d if d["day"] not in sold["taken_dates"] else {**d, "free": False} for d in offering["dates"]
        ]
        played.headline[kind] += terms["quantity"] if kind == "book_volumes" else 1
        if pace:
            await asyncio.sleep(pace)
    return played


def _wish_answered_by(wishes: list[dict], team: dict, offering: dict) -> dict | None:
    """The most supported open wish this order could answer: the offering's kind, from the team's district."""
    fitting = [
        wish
        for wish in wishes
        if wish["category"] == offering["category"] and team["district"] in (CITY, wish["district"])
    ]
    return max(fitting, key=lambda wish: (wish["supports"], -wish["id"]), default=None)
