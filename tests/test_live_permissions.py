"""Every command × every role × another party's objects: the server refuses what a role may not do."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlmodel import select

from fair import accounts
from fair.auth import sign_in
from fair.core import COMMANDS, presence
from fair.i18n import SHANGHAI
from fair.models import Delivery, DeviceSession, utcnow
from tests.conftest import ORGANISER_PASSWORD, Hall, open_hall, sqlite

ROLES = ("organiser", "troupe", "bookseller", "centre", "library", "projector", None)
SUPPLIER_OWN = {"troupe"}
TEAM_OWN = {"centre"}


def cases(
    hall: Hall, negotiation_id: int, device_id: int, session_id: int, made: dict[str, int]
) -> dict[str, tuple[dict, dict]]:
    """Each command with a payload aimed at the troupe's offering or the centre × troupe negotiation
    (or the troupe's slot, the centre's invitation, a pending wish: ``made``), and who may send it:
    role -> the refusal expected, or None where the role may."""
    g = hall.ground
    organiser_only = {role: (None if role == "organiser" else "forbidden") for role in ROLES}
    terms = {"quantity": 1, "unit_price_fen": 50_000}
    nego = {"negotiation_id": negotiation_id}
    parties = {
        role: (
            None
            if role in ("troupe", "centre")
            else "not_a_party"
            if role in ("bookseller", "library")
            else "forbidden"
        )
        for role in ROLES
    }
    team_party = {
        role: (None if role == "centre" else "not_a_party" if role == "library" else "forbidden") for role in ROLES
    }
    supplier_owner = {
        role: (None if role == "troupe" else "not_a_party" if role == "bookseller" else "forbidden") for role in ROLES
    }
    suppliers = {role: (None if role in ("troupe", "bookseller") else "forbidden") for role in ROLES}
    teams = {role: (None if role in ("centre", "library") else "forbidden") for role in ROLES}
    set_aside = teams | {"troupe": "invalid_input", "bookseller": "invalid_input"}
    return {
        "fair.create": ({"name": "x", "day": "2024-03-29", "venue": "y"}, organiser_only),
        "fair.open": ({}, organiser_only),
        "fair.close": ({}, organiser_only),
        "fair.configure": ({"subsidy_rate_bp": 2500}, organiser_only),
        "supplier.register": ({"name": "新剧团", "booth": "Z99"}, organiser_only),
        "supplier.approve": ({"supplier_id": g.troupe.party_id}, organiser_only),
        "team.register": ({"name": "新社区", "kind": "community", "district": "鼓楼区"}, organiser_only),
        "team.approve": ({"team_id": g.centre.party_id}, organiser_only),
        "team.set_budget": ({"team_id": g.centre.party_id, "budget_fen": 20_000_000}, organiser_only),
        "access.issue": ({"kind": "projector"}, organiser_only),
        "access.revoke": ({"credential_id": hall.credentials["projector"]}, organiser_only),
        "access.limit": ({"credential_id": hall.credentials["community"], "max_devices": 2}, organiser_only),
        "device.sign_out": ({"device_id": device_id}, organiser_only),
        "organiser.sign_out": ({"session_id": session_id}, organiser_only),
        "offering.publish": (
            {"category": "lecture", "title": "新讲座", "unit": "讲", "unit_price_fen": 1, "capacity": 1},
            suppliers,
        ),
        "offering.update": ({"offering_id": g.lecture, "unit_price_fen": 49_000}, supplier_owner),
        "offering.spotlight": ({"offering_id": g.lecture}, supplier_owner),
        "offering.withdraw": ({"offering_id": g.lecture}, supplier_owner),
        "negotiation.open": ({"offering_id": g.books}, teams),
        "negotiation.propose": ({**nego, "terms": terms}, parties),
        "negotiation.counter": ({**nego, "base_version": 1, "terms": terms}, parties),
        "negotiation.accept": ({**nego, "version": 1}, parties),
        "negotiation.decline": (nego, parties),
        "negotiation.withdraw": (nego, team_party),
        "negotiation.message": ({**nego, "text": "周六可以吗？"}, parties),
        "fair.preview": ({}, organiser_only),
        # Residents (a phone on the wishes page) are the only ones who submit and support wishes.
        "wish.submit": (
            {
                "district": "鼓楼区",
                "street": "湖南路街道",
                "category": "lecture",
                "audience": "老年人",
                "text": "想听讲座",
            },
            dict.fromkeys(ROLES, "forbidden"),
        ),
        "wish.support": ({"wish_id": made["wish"]}, dict.fromkeys(ROLES, "forbidden")),
        "wish.moderate": ({"wish_id": made["wish"], "decision": "approve"}, organiser_only),
        "shortlist.put": ({"offering_id": g.lecture, "quantity": 2}, teams),
        "interests.set": (
            {"categories": ["books"]},
            {role: None if role in ("troupe", "bookseller", "centre", "library") else "forbidden" for role in ROLES},
        ),
        # A team sets an offering aside, a booth a team: a booth naming an offering is told to name a team.
        "recommendation.dismiss": ({"offering_id": g.books}, set_aside),
        "recommendation.restore": ({"offering_id": g.books}, set_aside),
        "shortlist.remove": ({"offering_id": g.lecture}, teams),
        "slot.publish": ({"starts": "14:00", "ends": "15:00", "minutes": 20}, suppliers),
        "slot.withdraw": ({"slot_id": made["free_slot"]}, supplier_owner),
        "appointment.book": ({"slot_id": made["free_slot"]}, teams),
        "appointment.invite": ({"slot_id": made["free_slot"], "team_id": g.centre.party_id}, supplier_owner),
        "appointment.accept": ({"appointment_id": made["invitation"]}, team_party),
        "appointment.decline": ({"appointment_id": made["invitation"]}, team_party),
        "appointment.cancel": ({"appointment_id": made["invitation"]}, parties),
        "queue.join": ({"supplier_id": g.troupe.party_id}, teams),
        "queue.leave": ({"supplier_id": g.troupe.party_id}, teams),
        "queue.next": ({}, suppliers),
        "queue.skip": ({}, suppliers),
        "announcement.send": ({"audience": "teams", "text": "请到 3 号厅"}, organiser_only),
        "announcement.withdraw": ({"announcement_id": made["announcement"]}, organiser_only),
        "order.void": ({"order_id": made["order"], "reason": "重复下单"}, organiser_only),
        "fair.reopen": ({"reason": "误关"}, organiser_only),
        "payment.record": (
            {"order_id": made["order"], "amount_fen": 1, "paid_on": "2023-04-20", "reference": "凭证-1"},
            organiser_only,
        ),
        "venue.add": ({"name": "新场地"}, teams),
        "delivery.schedule": (
            {
                "order_id": made["centre_order"],
                "venue_id": made["venue"],
                "day": "2026-12-02",
                "starts": "09:00",
                "ends": "10:00",
            },
            team_party,
        ),
        "delivery.confirm": ({"delivery_id": made["delivery"]}, team_party),
        "delivery.check_in": ({"delivery_id": made["delivery"]}, team_party),
        "delivery.complete": ({"delivery_id": made["delivery"]}, team_party),
        "delivery.evaluate": ({"delivery_id": made["delivery"], "rating": 4}, team_party),
        "delivery.reschedule": (
            {
                "delivery_id": made["delivery"],
                "day": "2026-12-03",
                "starts": "09:00",
                "ends": "10:00",
                "reason": "改期",
            },
            parties,
        ),
        "delivery.miss": ({"delivery_id": made["delivery"], "reason": "停电"}, parties),
        "delivery.attach_photo": (
            {"delivery_id": made["delivery"], "photo": f"{made['delivery']}-{'0' * 32}.jpg"},
            team_party,
        ),
        "delivery.open_signup": ({"delivery_id": made["delivery"], "seats": 30}, team_party),
        "signup.take": ({"delivery_id": made["delivery"]}, dict.fromkeys(ROLES, "forbidden")),
        "signup.cancel": ({"delivery_id": made["delivery"]}, dict.fromkeys(ROLES, "forbidden")),
        "rating.submit": ({"delivery_id": made["delivery"], "rating": 5}, dict.fromkeys(ROLES, "forbidden")),
        "presence.check_in": ({"delivery_id": made["delivery"], "code": "123456"}, dict.fromkeys(ROLES, "forbidden")),
        "resident.ask_code": ({"phone": "13800000000"}, dict.fromkeys(ROLES, "forbidden")),
        "resident.confirm": ({"phone": "13800000000", "code": "123456"}, dict.fromkeys(ROLES, "forbidden")),
        "rating.moderate": ({"rating_id": made["rating"], "decision": "approve"}, organiser_only),
        "register.import": (
            {"kind": "suppliers", "header": ["展位", "供应商"], "rows": [["Z01", "新剧团"]], "preview": False},
            organiser_only,
        ),
    }


async def made_for_the_matrix(hall: Hall) -> dict[str, int]:
    """A pending wish, a free slot of the troupe's, the troupe's invitation to the centre, an announcement, orders,
    and a delivery of the centre's order from the troupe at the centre's venue."""
    g = hall.ground
    await g.confirm("a-phone")
    resident = g.resident("a-phone")
    wish = await g.do(
        resident,
        "wish.submit",
        {"district": "玄武区", "street": "玄武门街道", "category": "lecture", "audience": "老年人", "text": "想听讲座"},
    )
    slots = (await g.do(g.troupe, "slot.publish", {"starts": "10:00", "ends": "10:40", "minutes": 20}))["slots"]
    invitation = await g.do(g.troupe, "appointment.invite", {"slot_id": slots[1]["id"], "team_id": g.centre.party_id})
    announcement = await g.do(g.organiser, "announcement.send", {"audience": "everyone", "text": "欢迎来到现场会"})
    order = await g.order(g.library, g.bookseller, g.books, quantity=5)
    centre_order = await g.order(g.centre, g.troupe, g.show, dates=["2023-04-01"])
    venue = await g.do(g.centre, "venue.add", {"name": "市文化馆小剧场"})
    delivery = await g.do(
        g.centre,
        "delivery.schedule",
        {
            "order_id": centre_order["order"]["id"],
            "venue_id": venue["venue"]["id"],
            "day": "2023-04-01",
            "starts": "09:00",
            "ends": "10:00",
        },
    )
    await g.do(g.centre, "delivery.confirm", {"delivery_id": delivery["delivery"]["id"]})
    await g.do(g.centre, "delivery.check_in", {"delivery_id": delivery["delivery"]["id"]})
    # Residents rate an event on its day, there: the library's books, handed out today at its reading room.
    today = utcnow().astimezone(SHANGHAI).date().isoformat()
    room = await g.do(g.library, "venue.add", {"name": "阅览室"})
    books = {"order_id": order["order"]["id"], "venue_id": room["venue"]["id"], "day": today}
    handed = (await g.do(g.library, "delivery.schedule", books | {"starts": "00:00", "ends": "23:59"}))["delivery"]
    for step in ("delivery.confirm", "delivery.check_in"):
        await g.do(g.library, step, {"delivery_id": handed["id"]})
    async with g.db.read() as session:
        code = presence.code_at(await session.get(Delivery, handed["id"]), utcnow())
    rated = {"delivery_id": handed["id"], "rating": 4, "code": code}
    heard = await g.do(resident, "rating.submit", rated)
    return {
        "rating": heard["rating"]["id"],
        "centre_order": centre_order["order"]["id"],
        "venue": venue["venue"]["id"],
        "delivery": delivery["delivery"]["id"],
        "order": order["order"]["id"],
        "wish": wish["wish"]["id"],
        "free_slot": slots[0]["id"],
        "invitation": invitation["appointment"]["id"],
        "announcement": announcement["announcement"]["id"],
    }


@pytest.fixture
async def matrix_hall(tmp_path) -> AsyncIterator[Hall]:
    """The hall with its command limits lifted: each screen sends every command, one after another."""
    lifted = {"command_rate": 1000.0, "command_burst": 1000, "address_rate": 1000.0, "address_burst": 1000}
    async with open_hall(sqlite(tmp_path), **lifted) as opened:
        yield opened


async def test_every_command_every_role(matrix_hall: Hall):
    hall = matrix_hall
    g = hall.ground
    negotiation = await g.propose(g.centre, g.lecture)
    async with g.db.read() as session:
        device_id = (
            await session.exec(
                select(DeviceSession.id).where(DeviceSession.credential_id == hall.credentials["community"])
            )
        ).one()
    account = await accounts.verify(g.db, "organiser", ORGANISER_PASSWORD)
    _, session_id = await sign_in(g.db, hall.tokens, account, label="another laptop", address="127.0.0.2")
    table = cases(hall, negotiation["id"], device_id, session_id, await made_for_the_matrix(hall))
    assert set(table) == set(COMMANDS), "a command is missing from the permission matrix"
    screens = {role: await hall.screen(role) for role in ROLES}
    before = await g.state()
    allowed = []
    for command, (payload, expected) in table.items():
        for role, refusal in expected.items():
            if refusal is None:
                allowed.append((command, role, payload))
                continue
            ack = await screens[role].call(command, payload)
            assert ack["ok"] is False and ack["error"]["code"] == refusal, (command, role, ack)
    assert await g.state() == before, "a refused command changed something"
    # What a role may do passes the permission checks (it may still meet a rule of the fair).
    for command, role, payload in allowed:
        ack = await screens[role].call(command, payload)
        assert ack["ok"] or ack["error"]["code"] not in ("forbidden", "not_a_party"), (command, role, ack)
    for screen in screens.values():
        await screen.disconnect()


@pytest.mark.parametrize("role", ROLES)
async def test_only_the_organiser_reads_the_history(hall: Hall, role):
    screen = await hall.screen(role)
    reply = await screen.client.call("audit", {}, timeout=10)
    if role == "organiser":
        assert reply["ok"] and reply["data"]["events"], reply
    else:
        assert reply["ok"] is False and reply["error"]["code"] == "forbidden", reply
    await screen.disconnect()


@pytest.mark.parametrize("role", ROLES)
async def test_only_the_organiser_reads_who_is_signed_in(hall: Hall, role):
    screen = await hall.screen(role)
    reply = await screen.client.call("sessions", {}, timeout=10)
    if role == "organiser":
        cards = {card["credential_id"]: card for card in reply["data"]["cards"]}
        assert len(cards[hall.credentials["centre"]]["devices"]) == 1
        assert [s["current"] for s in reply["data"]["organisers"]] == [True]
    else:
        assert reply["ok"] is False and reply["error"]["code"] == "forbidden", reply
    await screen.disconnect()


@pytest.mark.parametrize("role", ["library", "bookseller", None, "projector"])
async def test_other_parties_never_see_a_negotiation_or_a_budget(hall: Hall, role):
    g = hall.ground
    watcher = await hall.screen(role)
    organiser = await hall.screen("organiser")  # a screen that sees everything, to know when the cycle has passed
    negotiation = await g.propose(g.centre, g.lecture, message="只给剧团看")
    await g.do(g.troupe, "negotiation.accept", {"negotiation_id": negotiation["id"], "version": 1})
    for _ in range(100):
        if any(e["type"] == "order.confirmed" for m in organiser.messages for e in m["events"]):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.2)
    seen = [event for message in watcher.messages for event in message["events"]]
    assert all(event["type"] != "negotiation.updated" for event in seen)
    assert all("budget" not in event["data"] and "order" not in event["data"] for event in seen)
    assert "只给剧团看" not in str(watcher.view) and "budget" not in str(watcher.view.get("offerings", ""))
    await watcher.disconnect()
    await organiser.disconnect()
