"""The audit history is the event log, filtered by party and kind, page by page, newest first."""

from __future__ import annotations

import pytest
from sqlmodel import desc, select

from fair.core import Actor, FairError, audit
from fair.core.inputs import parse
from fair.models import Event
from tests.fairground import Fairground


async def _history(g: Fairground, **query) -> dict:
    async with g.db.read() as session:
        return await audit.history(session, g.organiser, parse(audit.AuditQuery, query))


async def _log(g: Fairground) -> list[Event]:
    async with g.db.read() as session:
        return list((await session.exec(select(Event).order_by(desc(Event.seq)))).all())


async def test_the_history_is_the_log_filtered_by_party_and_kind(fairground: Fairground):
    g = fairground
    await g.do(g.organiser, "team.set_budget", {"team_id": g.library.party_id, "budget_fen": 600_000})
    await g.do(g.organiser, "fair.configure", {"subsidy_rate_bp": 2500})
    order = await g.order(g.library, g.troupe, g.lecture)
    await g.order(g.community, g.bookseller, g.books, quantity=3)
    await g.do(g.organiser, "order.void", {"order_id": order["order"]["id"], "reason": "填错了"})
    log = await _log(g)

    everything = await _history(g)
    assert [e["seq"] for e in everything["events"]] == [e.seq for e in log]  # all of it, newest first
    assert everything["next_before"] is None
    assert everything["events"][0] == {
        "seq": log[0].seq,
        "type": log[0].type,
        "label": "Order voided",
        "actor": "organiser",
        "at": log[0].created_at.isoformat(),
        "data": log[0].payload,
    }

    orders = await _history(g, kind="order")
    assert [e["type"] for e in orders["events"]] == ["order.voided", "order.confirmed", "order.confirmed"]
    assert orders["events"][0]["data"]["order"]["void_reason"] == "填错了"

    library = await _history(g, party=g.library.key)
    kinds = [e["type"] for e in library["events"]]
    assert "order.voided" in kinds and "team.updated" in kinds
    assert all(
        e["data"].get("order", {}).get("team_id", g.library.party_id) == g.library.party_id for e in library["events"]
    )
    assert not any(
        e["type"] == "order.confirmed" and e["data"]["order"]["team_id"] != g.library.party_id
        for e in library["events"]
    )
    by_the_bookseller = await _history(g, party=g.bookseller.key, kind="negotiation")
    assert by_the_bookseller["events"] and all(
        e["actor"] == g.bookseller.key or e["data"]["negotiation"]["supplier_id"] == g.bookseller.party_id
        for e in by_the_bookseller["events"]
    )


async def test_the_history_pages_back_to_the_first_event(fairground: Fairground, monkeypatch):
    g = fairground
    monkeypatch.setattr(audit, "PAGE", 7)
    monkeypatch.setattr(audit, "BATCH", 3)
    for quantity in range(1, 6):
        await g.order(g.community, g.bookseller, g.books, quantity=quantity)
    seen, before = [], None
    while True:
        page = await _history(g, before=before)
        seen += [e["seq"] for e in page["events"]]
        before = page["next_before"]
        if before is None:
            break
    assert seen == [e.seq for e in await _log(g)]


@pytest.mark.parametrize("query", [{"party": "team:x"}, {"kind": "order.%"}, {"party": "resident:abc"}, {"before": 0}])
async def test_a_wrong_filter_is_refused(fairground: Fairground, query):
    with pytest.raises(FairError):
        await _history(fairground, **query)


async def test_only_the_organiser_reads_the_history(fairground: Fairground):
    g = fairground
    for actor in (g.library, g.troupe, Actor.public(g.fair_id)):
        async with g.db.read() as session:
            with pytest.raises(FairError):
                await audit.history(session, actor, audit.AuditQuery())


async def test_a_cards_limit_a_device_signed_out_and_an_ended_sign_in_are_in_the_history(fairground: Fairground):
    """Changes to who may sign in are changes the auditor must see: each is an event, and the console's folded
    view stays equal to a fresh read."""
    from fair import accounts
    from fair.core import access, sessions
    from fair.core.access import DevicePolicy
    from tests.truth import assert_events_tell_the_truth, views

    g = fairground
    card = (await g.do(g.organiser, "access.issue", {"kind": "team", "party_id": g.library.party_id}))["credential"]
    device = await access.enrol(g.db, card["id"], "a" * 64, label="平板一", address="10.0.0.1", policy=DevicePolicy())
    account = await accounts.create(g.db, "organiser", "correct horse battery staple")
    signed_in = await sessions.open_session(g.db, account, "d" * 64, label="笔记本", address="10.0.0.9")
    before = await views(g.db, [g.organiser])

    await g.do(g.organiser, "access.limit", {"credential_id": card["id"], "max_devices": 3})
    await g.do(g.organiser, "device.sign_out", {"device_id": device.session_id})
    await g.do(g.organiser, "organiser.sign_out", {"session_id": signed_in})

    cards = await _history(g, kind="access")
    assert [(e["type"], e["actor"]) for e in cards["events"][:2]] == [
        ("access.signed_out", "organiser"),
        ("access.limited", "organiser"),
    ]
    assert cards["events"][0]["data"]["device"]["label"] == "平板一"
    assert cards["events"][1]["data"] == {"credential": cards["events"][1]["data"]["credential"], "max_devices": 3}
    (ended,) = (await _history(g, kind="organiser"))["events"]
    assert ended["data"]["session"]["label"] == "笔记本" and not ended["data"]["session"]["signed_in"]
    await assert_events_tell_the_truth(g.db, [g.organiser], before)
