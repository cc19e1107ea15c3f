"""Load the demo fair from ``data/demo/fair.json`` through the fair's own commands.

Nothing is inserted behind the core's back: the demo is registered, approved,
published and opened by the same commands the organiser and the booths use,
so it is logged as events like everything else.  Every booth and team gets a
join credential, and the hall one projector, ready to print as QR cards.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlmodel import select

from fair.core import Actor, execute
from fair.db import Database
from fair.models import Fair


async def current_fair_id(db: Database) -> int | None:
    """The fair this installation serves: the most recently created one."""
    async with db.read() as session:
        return (await session.exec(select(Fair.id).order_by(Fair.id.desc()))).first()


async def load(db: Database, path: Path) -> int:
    demo = json.loads((path / "fair.json").read_text(encoding="utf-8"))
    organiser = Actor.organiser()
    created = await execute(db, organiser, "fair.create", demo["fair"], "demo-fair")
    fair_id = created.data["fair"]["id"]
    organiser = Actor.organiser(fair_id)
    for number, entry in enumerate(demo["suppliers"], start=1):
        supplier = {"name": entry["name"], "booth": entry["booth"], "approved": True}
        registered = await execute(db, organiser, "supplier.register", supplier, f"demo-supplier-{number}")
        supplier_id = registered.data["supplier"]["id"]
        booth = Actor.supplier(fair_id, supplier_id)
        for index, offering in enumerate(entry["offerings"], start=1):
            await execute(db, booth, "offering.publish", offering, f"demo-offering-{index}")
        join = {"kind": "supplier", "party_id": supplier_id, "label": entry["booth"]}
        await execute(db, organiser, "access.issue", join, f"demo-join-supplier-{number}")
    for number, entry in enumerate(demo["teams"], start=1):
        registered = await execute(db, organiser, "team.register", {**entry, "approved": True}, f"demo-team-{number}")
        join = {"kind": "team", "party_id": registered.data["team"]["id"], "label": entry["name"]}
        await execute(db, organiser, "access.issue", join, f"demo-join-team-{number}")
    await execute(db, organiser, "access.issue", {"kind": "projector", "label": "主屏"}, "demo-join-projector")
    if demo.get("open"):
        await execute(db, organiser, "fair.open", {}, "demo-open")
    return fair_id
