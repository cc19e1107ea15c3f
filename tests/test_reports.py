"""Exports read back as a bureau would open them (csv, openpyxl) reconcile with the orders, the budgets and the pool."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import httpx
import openpyxl
import pytest
from sqlmodel import select

from fair.core import reports
from fair.core.tally import snapshot
from fair.models import Fair, Order, Team
from tests.conftest import Hall
from tests.fairground import Fairground


async def a_day_of_orders(g: Fairground) -> None:
    """Government and self-funded (subsidised) orders from three teams at two booths."""
    await g.order(g.centre, g.troupe, g.show, dates=["2023-04-01"], venue="市民广场")
    await g.order(g.library, g.troupe, g.lecture, quantity=2, funding="self_funded")
    await g.order(g.community, g.bookseller, g.books, quantity=20)
    await g.order(g.library, g.bookseller, g.books, quantity=10, funding="self_funded")


def read_csv(body: bytes) -> list[dict[str, str]]:
    assert body.startswith(b"\xef\xbb\xbf"), "Excel on a Chinese Windows needs the BOM to read UTF-8"
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def read_xlsx(body: bytes) -> dict[str, list[dict]]:
    book = openpyxl.load_workbook(io.BytesIO(body))
    sheets = {}
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        sheets[sheet.title] = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref, sheet.title
    return sheets


def yuan(text: str) -> int:
    return int(Decimal(text) * 100)


async def fetch(hall: Hall, who: str, path: str, **params) -> httpx.Response:
    token = await hall.organiser_token() if who == "organiser" else hall.token(who) if who else None
    cookies = {"fair_session": token, "fair_locale": "en"} if token else {"fair_locale": "en"}
    async with httpx.AsyncClient(base_url=hall.url, cookies=cookies) as http:
        return await http.get(path, params=params)


async def test_the_orders_export_reconciles_with_every_order(hall: Hall):
    g = hall.ground
    await a_day_of_orders(g)
    async with g.db.read() as session:
        orders = (await session.exec(select(Order).order_by(Order.id))).all()
        tally = await snapshot(session, g.fair_id)
    as_csv = await fetch(hall, "organiser", "/export/orders.csv")
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["content-disposition"]
    rows = read_csv(as_csv.content)
    assert [int(row["Order no."]) for row in rows] == [order.id for order in orders]
    for row, order in zip(rows, orders, strict=True):
        assert yuan(row["Amount"]) == order.amount_fen
        assert yuan(row["Subsidy"]) == order.subsidy_fen
        assert yuan(row["From the government budget"]) == order.government_fen
        assert int(row["Quantity"]) == order.quantity and row["Offering"] == order.offering_title
        assert row["Funding"] == ("Own funds" if order.funding == "self_funded" else "Government budget")
    assert sum(yuan(row["Amount"]) for row in rows) == tally["total"]["amount_fen"]

    as_xlsx = await fetch(hall, "organiser", "/export/orders.xlsx")
    sheet = read_xlsx(as_xlsx.content)["Orders"]
    assert [row["Order no."] for row in sheet] == [order.id for order in orders]
    assert sum(round(row["Amount"] * 100) for row in sheet) == tally["total"]["amount_fen"]
    assert sheet[0]["Venue"] == "市民广场" and sheet[0]["Dates"] == "2023-04-01"
    book = openpyxl.load_workbook(io.BytesIO(as_xlsx.content)).active
    assert book["M2"].number_format == '"¥"#,##0.00' and book["B2"].number_format == "yyyy-mm-dd hh:mm"


async def test_times_are_on_the_fairs_clock(hall: Hall):
    g = hall.ground
    await a_day_of_orders(g)
    async with g.db.read() as session:
        first = (await session.exec(select(Order).order_by(Order.id))).first()
    rows = read_csv((await fetch(hall, "organiser", "/export/orders.csv")).content)
    shanghai = first.confirmed_at.astimezone(reports.SHANGHAI).strftime("%Y-%m-%d %H:%M")
    assert rows[0]["Confirmed at"] == shanghai
    cell = read_xlsx((await fetch(hall, "organiser", "/export/orders.xlsx")).content)["Orders"][0]["Confirmed at"]
    assert cell.strftime("%Y-%m-%d %H:%M") == shanghai


async def test_the_organiser_narrows_a_team_or_a_booth_reads_its_own_only(hall: Hall):
    g = hall.ground
    await a_day_of_orders(g)
    ids = {}
    async with g.db.read() as session:
        for order in (await session.exec(select(Order).order_by(Order.id))).all():
            ids.setdefault(("team", order.team_id), []).append(order.id)
            ids.setdefault(("supplier", order.supplier_id), []).append(order.id)
            ids.setdefault(("district", order.district), []).append(order.id)

    async def numbers(who, **params) -> list[int]:
        response = await fetch(hall, who, "/export/orders.csv", **params)
        assert response.status_code == 200, response.text
        return [int(row["Order no."]) for row in read_csv(response.content)]

    assert await numbers("organiser", district="玄武区") == ids[("district", "玄武区")]
    assert await numbers("organiser", team=g.library.party_id) == ids[("team", g.library.party_id)]
    assert await numbers("organiser", supplier=g.bookseller.party_id) == ids[("supplier", g.bookseller.party_id)]
    # A team or a booth gets its own, whatever it asks for.
    assert await numbers("library", team=g.community.party_id) == ids[("team", g.library.party_id)]
    assert await numbers("troupe", supplier=g.bookseller.party_id) == ids[("supplier", g.troupe.party_id)]
    for who in ("projector", None):
        response = await fetch(hall, who, "/export/orders.csv")
        assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert (await fetch(hall, "troupe", "/export/budgets.csv")).status_code == 403
    assert (await fetch(hall, "library", "/export/pool.xlsx")).status_code == 403
    assert (await fetch(hall, "organiser", "/export/orders.csv", district="火星区")).status_code == 400
    assert (await fetch(hall, "organiser", "/export/orders.csv", team="1; drop")).status_code == 400
    assert (await fetch(hall, "organiser", "/export/secrets.csv")).status_code == 404
    assert (await fetch(hall, "organiser", "/export/orders.pdf")).status_code == 404


async def test_budgets_and_the_pool_reconcile(hall: Hall):
    g = hall.ground
    await a_day_of_orders(g)
    async with g.db.read() as session:
        teams = {t.name: t for t in (await session.exec(select(Team))).all()}
        fair = await session.get(Fair, g.fair_id)
        subsidised = (await session.exec(select(Order).where(Order.subsidy_fen > 0).order_by(Order.id))).all()
    rows = read_csv((await fetch(hall, "organiser", "/export/budgets.csv")).content)
    assert {row["Team"] for row in rows} == set(teams)
    for row in rows:
        team = teams[row["Team"]]
        assert (yuan(row["Budget"]), yuan(row["Spent"]), yuan(row["Left"])) == (
            team.budget_fen,
            team.spent_fen,
            team.budget_fen - team.spent_fen,
        )
        assert yuan(row["Subsidy owed"]) == team.subsidy_fen
    own = read_csv((await fetch(hall, "library", "/export/budgets.csv")).content)
    assert [row["Team"] for row in own] == ["玄武区图书馆"]

    pool = read_xlsx((await fetch(hall, "organiser", "/export/pool.xlsx")).content)
    [summary] = pool["Subsidy pool"]
    assert round(summary["Granted"] * 100) == fair.subsidy_used_fen == sum(o.subsidy_fen for o in subsidised)
    assert round(summary["Left"] * 100) == fair.subsidy_pool_fen - fair.subsidy_used_fen
    assert summary["Rate now"] == pytest.approx(0.3)
    assert [row["Order no."] for row in pool["Subsidised orders"]] == [o.id for o in subsidised]


async def test_a_title_that_looks_like_a_formula_stays_text(hall: Hall):
    g = hall.ground
    offering = await g.do(
        g.troupe,
        "offering.publish",
        {
            "category": "lecture",
            "title": '=HYPERLINK("http://x","点我")',
            "unit": "讲",
            "unit_price_fen": 100,
            "capacity": 1,
        },
    )
    await g.order(g.centre, g.troupe, offering["offering"]["id"])
    [row] = read_csv((await fetch(hall, "organiser", "/export/orders.csv")).content)
    assert row["Offering"] == '\'=HYPERLINK("http://x","点我")'
    [cell] = read_xlsx((await fetch(hall, "organiser", "/export/orders.xlsx")).content)["Orders"]
    assert cell["Offering"] == '=HYPERLINK("http://x","点我")'  # a string cell, not a formula
    book = openpyxl.load_workbook(io.BytesIO((await fetch(hall, "organiser", "/export/orders.xlsx")).content))
    assert book.active["H2"].data_type == "s"


async def test_chinese_headers_by_default(hall: Hall):
    g = hall.ground
    await a_day_of_orders(g)
    token = await hall.organiser_token()
    async with httpx.AsyncClient(base_url=hall.url, cookies={"fair_session": token}) as http:
        response = await http.get("/export/orders.csv")
    assert "UTF-8''" in response.headers["content-disposition"]
    header = response.content.decode("utf-8-sig").splitlines()[0]
    assert header.startswith("订单号,确认时间,采购团")


async def test_analytics_add_up_to_the_tally(fairground: Fairground):
    g = fairground
    await a_day_of_orders(g)
    async with g.db.read() as session:
        figures = await reports.analytics(session, g.organiser)
        tally = await snapshot(session, g.fair_id)
        teams = (await session.exec(select(Team))).all()
    grid = figures["grid"]
    for district, cells in grid.items():
        assert sum(c["orders"] for c in cells.values()) == tally["by_district"][district]["orders"]
        assert sum(c["amount_fen"] for c in cells.values()) == tally["by_district"][district]["amount_fen"]
    for category, figure in tally["by_category"].items():
        assert sum(grid[d][category]["amount_fen"] for d in grid) == figure["amount_fen"]
    assert sum(s["amount_fen"] for s in figures["suppliers"]) == tally["total"]["amount_fen"]
    assert [s["booth"] for s in figures["suppliers"]] == ["A01", "E01"]  # the troupe sold more
    assert sum(h["orders"] for h in figures["hours"]) == tally["total"]["orders"] == 4
    budget = sum(t.budget_fen for t in teams)
    assert figures["budget"]["budget_fen"] == budget
    assert figures["budget"]["used_bp"] == reports.share(sum(t.spent_fen for t in teams), budget)
    assert figures["pool"]["used_fen"] == tally["total"]["subsidy_fen"]


def test_shares_round_half_up_and_never_divide_by_nothing():
    assert reports.share(1, 3) == 3333
    assert reports.share(2, 3) == 6667
    assert reports.share(1, 20_000) == 1  # half a basis point rounds up
    assert reports.share(5, 0) is None
