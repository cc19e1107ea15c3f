"""The OCDS release package validates against the OCDS 1.1.5 schema (dates too) and says what the orders say."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from fair.core import Actor, FairError, ocds
from fair.settings import ROOT
from tests.conftest import Hall
from tests.fairground import Fairground

SCHEMAS = ROOT.parent / "shared" / "ocds"


def validator():
    """A validator of release packages, offline: the release schema is registered under its canonical id."""
    if not (SCHEMAS / "release-package-schema.json").exists():
        pytest.skip(f"the OCDS schema is not at {SCHEMAS} (it is shared read-only beside the project)")
    jsonschema = pytest.importorskip("jsonschema")
    from referencing import Registry, Resource

    release = json.loads((SCHEMAS / "release-schema.json").read_text())
    package = json.loads((SCHEMAS / "release-package-schema.json").read_text())
    registry = Registry().with_resource(release["id"], Resource.from_contents(release))
    checker = jsonschema.Draft4Validator.FORMAT_CHECKER
    assert "date-time" in checker.checkers, "jsonschema[format-nongpl] is needed to check dates"
    return jsonschema.Draft4Validator(package, registry=registry, format_checker=checker)


async def package_of(g: Fairground) -> dict:
    async with g.db.read() as session:
        return await ocds.release_package(session, g.organiser, "http://fair.example")


async def test_one_valid_process_per_order_with_the_orders_figures(fairground: Fairground):
    g = fairground
    show = await g.order(g.library, g.troupe, g.show, quantity=2, dates=["2023-04-01", "2023-04-08"])
    books = await g.order(g.community, g.bookseller, g.books, quantity=100, funding="self_funded")
    await g.do(g.organiser, "order.void", {"order_id": books["order"]["id"], "reason": "重复下单"})
    package = await package_of(g)
    errors = sorted(validator().iter_errors(package), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]

    first, second = package["releases"]
    assert first["ocid"] == f"ocds-njfair-{g.fair_id}-{show['order']['id']}"
    assert {p["id"]: p["roles"] for p in first["parties"]} == {
        f"team-{g.library.party_id}": ["buyer"],
        f"supplier-{g.troupe.party_id}": ["supplier"],
        "bureau": ["procuringEntity"],
    }
    contract = first["contracts"][0]
    assert contract["value"] == {"amount": 4000.0, "currency": "CNY"} and contract["status"] == "active"
    assert contract["items"][0]["unit"]["value"]["amount"] == 2000.0 and contract["items"][0]["quantity"] == 2
    assert [m["dueDate"] for m in contract["implementation"]["milestones"]] == [
        "2023-04-01T00:00:00+08:00",
        "2023-04-08T00:00:00+08:00",
    ]
    # Once deliveries are scheduled, they are the milestones: met when delivered, not met when missed.
    venue = (await g.do(g.library, "venue.add", {"name": "报告厅"}))["venue"]["id"]
    made = []
    for day in ("2023-04-01", "2023-04-08"):
        payload = {"order_id": show["order"]["id"], "venue_id": venue, "day": day, "starts": "14:00", "ends": "16:00"}
        made.append((await g.do(g.library, "delivery.schedule", payload))["delivery"]["id"])
    for step in ("delivery.confirm", "delivery.check_in", "delivery.complete"):
        await g.do(g.library, step, {"delivery_id": made[0]})
    await g.do(g.troupe, "delivery.miss", {"delivery_id": made[1], "reason": "演员生病"})
    package = await package_of(g)
    assert not list(validator().iter_errors(package))
    milestones = package["releases"][0]["contracts"][0]["implementation"]["milestones"]
    assert [(m["status"], m["dueDate"]) for m in milestones] == [
        ("met", "2023-04-01T06:00:00Z"),
        ("notMet", "2023-04-08T06:00:00Z"),
    ]
    assert milestones[1]["description"] == "演员生病" and "dateMet" in milestones[0]
    # The payment the bureau recorded for the performance delivered is the contract's transaction.
    pay = {"order_id": show["order"]["id"], "amount_fen": 200_000, "paid_on": "2023-04-20", "reference": "玄财付-0412"}
    await g.do(g.organiser, "payment.record", pay)
    package = await package_of(g)
    assert not list(validator().iter_errors(package))
    (paid,) = package["releases"][0]["contracts"][0]["implementation"]["transactions"]
    assert paid["value"] == {"amount": 2000.0, "currency": "CNY"} and paid["date"] == "2023-04-20T00:00:00+08:00"
    assert (paid["payer"]["id"], paid["payee"]["id"], paid["x_voucher"]) == (
        f"team-{g.library.party_id}",
        f"supplier-{g.troupe.party_id}",
        "玄财付-0412",
    )
    assert "transactions" not in second["contracts"][0]["implementation"]  # nothing recorded, nothing claimed
    # The voided, subsidised order: cancelled, with the bureau as its funder and the subsidy it no longer gets.
    assert second["awards"][0]["status"] == second["contracts"][0]["status"] == "cancelled"
    assert second["contracts"][0]["description"] == "重复下单"
    assert "funder" in next(p for p in second["parties"] if p["id"] == "bureau")["roles"]
    assert second["planning"]["budget"]["amount"] == {"amount": 900.0, "currency": "CNY"}  # 30 % of ¥3,000


async def test_only_the_organiser_exports_it(fairground: Fairground):
    g = fairground
    for actor in (g.library, g.troupe, Actor.public(g.fair_id)):
        async with g.db.read() as session:
            with pytest.raises(FairError):
                await ocds.release_package(session, actor, "http://fair.example")


async def test_the_console_download_and_the_command_line_give_a_valid_package(hall: Hall, tmp_path: Path):
    g = hall.ground
    await g.order(g.centre, g.troupe, g.lecture, quantity=3)
    token = await hall.organiser_token()
    async with httpx.AsyncClient(base_url=hall.url, cookies={"fair_session": token}) as http:
        download = await http.get("/export/ocds.json")
    async with httpx.AsyncClient(base_url=hall.url, cookies={"fair_session": hall.token("library")}) as http:
        refused = await http.get("/export/ocds.json")
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    assert not list(validator().iter_errors(download.json()))
    assert refused.status_code == 403
    database = hall.app.state.settings.database_url
    printed = subprocess.run(
        [sys.executable, "run.py", "export-ocds", "--database-url", database],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(printed.stdout)["releases"] == download.json()["releases"]
