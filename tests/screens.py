"""Screens for the tests: python-socketio clients that hold a view the way a tablet, booth or board does.

A screen connects, asks ``sync`` for its view, then applies the ``live``
messages of its rooms.  ``apply`` is the same reducer the browser screens use:
each event carries whole objects, so applying one is replacing or removing.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
from typing import Any

import socketio

from fair.core import queries, tally

_request_ids = itertools.count(1)


class Screen:
    def __init__(self, url: str, token: str | None = None, *, locale: str = "en", resident: str | None = None) -> None:
        """``resident``: the wishes page's cookie, for a phone that may submit and support wishes."""
        self.url, self.token, self.locale, self.resident = url, token, locale, resident
        self.client = socketio.AsyncClient(reconnection=False)
        self.view: dict[str, Any] | None = None
        self.cursor: int | None = None
        self.messages: list[dict] = []
        self.applied: list[int] = []  # the sequence numbers of every event applied, to catch one applied twice
        self._buffer: list[dict] = []
        self._synced = False
        self.client.on("live", self._on_live)

    async def connect(self) -> Screen:
        """Connect (or reconnect: the view and cursor are kept) and sync."""
        auth = {"locale": self.locale} | ({"token": self.token} if self.token else {})
        headers = {}
        if self.resident is not None:
            auth["as"] = "resident"
            headers["Cookie"] = f"fair_resident={self.resident}"
        await self.client.connect(self.url, auth=auth, headers=headers, transports=["websocket"], wait_timeout=5)
        await self.sync()
        return self

    async def sync(self) -> dict:
        self._synced = False
        reply = await self.client.call("sync", {"since": self.cursor}, timeout=10)
        assert reply["ok"], reply
        data = self.last_sync = reply["data"]
        if data["mode"] == "view":
            self.view = data["view"]
        else:
            for event in data["events"]:
                if event["seq"] > self.cursor:
                    apply(self.view, event)
                    self.applied.append(event["seq"])
            self.view["tally"] = data["tally"]
        self.cursor = data["upto"]
        self.view["seq"] = self.cursor
        self._synced = True
        buffered, self._buffer = self._buffer, []
        for message in buffered:
            self._apply_message(message)
        return data

    async def call(self, command: str, payload: Any = None, request_id: str | None = None) -> dict:
        envelope = {"request_id": request_id or f"s-{next(_request_ids)}", "payload": payload or {}}
        return await self.client.call(command, envelope, timeout=10)

    async def disconnect(self) -> None:
        await self.client.disconnect()

    async def _on_live(self, message: dict) -> None:
        self.messages.append(message)
        if self._synced:
            self._apply_message(message)
        else:
            self._buffer.append(message)

    def _apply_message(self, message: dict) -> None:
        for event in message["events"]:
            if event["seq"] > self.cursor:
                apply(self.view, event)
                self.applied.append(event["seq"])
        if "tally" in message and message["tally"]["seq"] >= self.view["tally"]["seq"]:
            self.view["tally"] = message["tally"]
        if "tally_patch" in message:  # refused (a lost message), the tally stays behind: the truth checks see it
            shown = copy.deepcopy(self.view["tally"])  # a new tally, as a whole one replaces the last
            if tally.patched(shown, message["tally_patch"]):
                self.view["tally"] = shown
        self.cursor = max(self.cursor, message["upto"])
        self.view["seq"] = self.cursor


def apply(view: dict[str, Any], event: dict[str, Any]) -> None:
    """Apply one event to a view in place."""
    kind, data, role = event["type"], event["data"], view["role"]
    if kind.startswith("fair."):
        view["fair"] = data["fair"]
    elif kind == "supplier.updated":
        if role == "organiser":
            _upsert(view["suppliers"], data["supplier"], key=lambda s: s["booth"])
        else:
            view["me"] = data["supplier"]
    elif kind == "team.updated":
        if role == "organiser":
            _upsert(view["teams"], data["team"], key=lambda t: t["id"])
        else:
            view["me"] = data["team"]
    elif kind.startswith("offering."):
        offering = data["offering"]
        keeps_withdrawn = role == "organiser" or (role == "supplier" and offering["supplier_id"] == view["me"]["id"])
        if offering["status"] == "withdrawn" and not keeps_withdrawn:
            view["offerings"] = [o for o in view["offerings"] if o["id"] != offering["id"]]
        else:
            _upsert(view["offerings"], offering, key=lambda o: o["id"])
    elif kind == "negotiation.updated":
        _upsert(
            view["negotiations"],
            threaded(view, data["negotiation"]),
            key=lambda n: (n["updated_at"], n["id"]),
            reverse=True,
        )
    elif kind == "negotiation.message":
        for negotiation in view["negotiations"]:
            if negotiation["id"] == data["negotiation_id"]:
                negotiation["messages"] = [*negotiation["messages"], data["message"]]
    elif kind in ("order.confirmed", "order.voided"):
        sold = data["offering"]
        taken, freed = sold.get("taken_dates", []), sold.get("freed_dates", [])
        for offering in view["offerings"]:
            if offering["id"] == sold["id"]:
                offering["sold"], offering["remaining"] = sold["sold"], sold["remaining"]
                offering["dates"] = [
                    {**day, "free": day["day"] in freed} if day["day"] in taken + freed else day
                    for day in offering["dates"]
                ]
        if "order" in data:
            _upsert(view["orders"], data["order"], key=lambda o: o["id"], reverse=True)
        if "budget" in data:
            if role == "team":
                view["me"]["budget"] = data["budget"]
            else:
                for team in view["teams"]:
                    if team["id"] == data["order"]["team_id"]:
                        team["budget"] = data["budget"]
    elif kind == "order.paid":
        _upsert(view["orders"], data["order"], key=lambda o: o["id"], reverse=True)
    elif kind.startswith("access."):
        _upsert(view["credentials"], data["credential"], key=lambda c: c["id"])
    elif kind == "wish.updated" and role == "public":
        pass  # the board holds no wishes: it reads the districts behind their targets again
    elif kind == "wish.updated":
        wish = data["wish"]
        if role == "organiser" or wish["status"] == "approved":
            _upsert(view["wishes"], wish, key=lambda w: (-w["supports"], w["id"]))
        else:
            view["wishes"] = [w for w in view["wishes"] if w["id"] != wish["id"]]
    elif kind == "shortlist.updated":
        if "item" in data:
            _upsert(view["shortlist"], data["item"], key=lambda i: i["offering_id"], ident="offering_id")
        else:
            view["shortlist"] = [i for i in view["shortlist"] if i["offering_id"] != data["removed"]["offering_id"]]
    elif kind == "slot.updated":
        _upsert(view["slots"], data["slot"], key=lambda slot: (slot["starts_at"], slot["id"]))
    elif kind == "appointment.updated":
        _upsert(view["appointments"], data["appointment"], key=lambda a: (a["starts_at"], a["id"]))
    elif kind == "queue.updated":
        stats = {key: data[key] for key in ("supplier_id", "serving", "waiting")}
        view["queues"] = [q for q in view["queues"] if q["supplier_id"] != stats["supplier_id"]]
        if stats["waiting"] or stats["serving"] is not None:
            _upsert(view["queues"], stats, key=lambda q: q["supplier_id"], ident="supplier_id")
        if role == "supplier" and "tickets" in data:
            view["queue"] = stats | {"tickets": data["tickets"]}
        if role == "team" and "ticket" in data:
            ticket = data["ticket"]
            view["tickets"] = [t for t in view["tickets"] if t["id"] != ticket["id"]]
            if ticket["state"] in ("waiting", "called"):
                _upsert(view["tickets"], ticket, key=lambda t: t["supplier_id"])
    elif kind == "announcement.updated":
        notice = data["announcement"]
        view["announcements"] = [a for a in view["announcements"] if a["id"] != notice["id"]]
        if role == "organiser" or not notice["withdrawn"]:
            _upsert(view["announcements"], notice, key=lambda a: -a["id"])
    elif kind == "venue.updated":
        _upsert(view["venues"], data["venue"], key=lambda v: v["id"])
    elif kind == "delivery.updated":
        if "delivery" in data:  # the public's is an event's seats only, which its page reads afresh
            _upsert(view["deliveries"], data["delivery"], key=lambda d: (d["starts_at"], d["id"]))
    elif kind == "rating.updated":
        _upsert(view["resident_ratings"], data["rating"], key=lambda r: -r["id"])
    elif kind == "score.updated":
        _upsert(view["scores"], data["score"], key=lambda s: s["supplier_id"], ident="supplier_id")
    elif kind == "organiser.signed_out":
        pass  # no view holds organisers' sign-ins: the console reads them when it shows them
    elif kind in ("recommendation.dismissed", "recommendation.restored"):
        pass  # no view holds them: the recommendations are read, with what was set aside listed apart
    else:
        raise AssertionError(f"a screen received an event it does not know: {kind}")


def threaded(view: dict[str, Any], negotiation: dict[str, Any]) -> dict[str, Any]:
    """A negotiation from an event, with the thread the screen holds: a new version of the terms appended."""
    held = next((n for n in view["negotiations"] if n["id"] == negotiation["id"]), None)
    history = held["history"] if held else []
    terms = negotiation["terms"]
    if terms is not None and (not history or history[-1]["version"] < terms["version"]):
        history = [*history, terms]
    return {**negotiation, "history": history, "messages": held["messages"] if held else []}


def _upsert(items: list[dict], item: dict, key, reverse: bool = False, ident: str = "id") -> None:
    items[:] = [existing for existing in items if existing[ident] != item[ident]]
    items.append(item)
    items.sort(key=key, reverse=reverse)


async def fresh_view(app, actor) -> dict:
    async with app.state.db.read() as session:
        return await queries.view(session, actor)


async def converged(app, screen: Screen, actor, timeout: float = 5.0) -> None:
    """Wait until the screen's view equals a fresh view from the server, and say how they differ if never.

    Only ``seq`` may differ: a screen's cursor moves with the events it is shown,
    and other parties' events (a negotiation it may not see) move the fair's.  And a resident's ``mine``
    (what they support), which no broadcast event may carry: it is read afresh at each sync.
    """
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        expected = await fresh_view(app, actor)
        assert screen.cursor <= expected["seq"]
        if {**screen.view, "seq": None, "mine": None} == {**expected, "seq": None, "mine": None}:
            return
        if asyncio.get_running_loop().time() > deadline:
            differing = {key for key in expected if screen.view.get(key) != expected[key]}
            raise AssertionError(f"{actor.key}'s screen differs from the server in {sorted(differing)}")
        await asyncio.sleep(0.05)
