"""Money statements reconcile exactly: every team's and every booth's add up to the same totals, which are the
tally's, and what was delivered is what the deliveries say."""

from __future__ import annotations

import csv
import io

import httpx
from sqlmodel import select

from fair.core import Actor, FairError, statements, tally
from fair.models import Delivery
from tests.conftest import Hall
from tests.fairground import Fairground


async def a_fair_after_the_day(g: Fairground) -> None:
    show = (await g.order(g.library, g.troupe, g.show, quantity=2, dates=["2023-04-01", "2023-04-08"]))["order"]
    await g.order(g.centre, g.troupe, g.lecture, quantity=3)
    await g.order(g.community, g.bookseller, g.books, quantity=100, funding="self_funded")
    voided = (await g.order(g.centre, g.bookseller, g.books, quantity=7))["order"]
    await g.do(g.organiser, "order.void", {"order_id": voided["id"], "reason": "重复"})
    hall = (await g.do(g.library, "venue.add", {"name": "报告厅"}))["venue"]["id"]
    made = await g.do(
        g.library,
        "delivery.schedule",
        {"order_id": show["id"], "venue_id": hall, "day": "2023-04-01", "starts": "14:00", "ends": "16:00"},
    )
    ref = {"delivery_id": made["delivery"]["id"]}
    for step in ("delivery.confirm", "delivery.check_in", "delivery.complete"):
        await g.do(g.library, step, ref)
    payment = {"order_id": show["id"], "amount_fen": 150_000, "paid_on": "2023-04-20", "reference": "玄财付-0412"}
    await g.do(g.organiser, "payment.record", payment)


async def test_statements_reconcile_with_each_other_the_tally_and_the_deliveries(fairground: Fairground):
    g = fairground
    await a_fair_after_the_day(g)
    async with g.db.read() as session:
        teams = [
            await statements.statement(session, g.organiser, team_id=t.party_id)
            for t in (g.centre, g.library, g.community)
        ]
        booths = [
            await statements.statement(session, g.organiser, supplier_id=s.party_id) for s in (g.troupe, g.bookseller)
        ]
        counted = await tally.snapshot(session, g.fair_id)
        own = await statements.statement(
            session, g.library, supplier_id=g.troupe.party_id
        )  # asks for more: gets its own

    def summed(many, key):
        return sum(s.totals[key] for s in many)

    for key in statements.TOTALS:
        assert summed(teams, key) == summed(booths, key), key
    assert summed(teams, "amount_fen") == counted["total"]["amount_fen"] == 400_000 + 150_000 + 300_000
    assert summed(teams, "government_fen") == counted["total"]["government_fen"]
    assert summed(teams, "subsidy_fen") == counted["total"]["subsidy_fen"] == 90_000
    assert summed(teams, "delivered_fen") == 200_000  # one of the two performances took place
    library = teams[1]
    assert library.totals == {
        "amount_fen": 400_000,
        "government_fen": 400_000,
        "self_funded_fen": 0,
        "subsidy_fen": 0,
        "delivered_fen": 200_000,
        "undelivered_fen": 200_000,
        "paid_fen": 150_000,
        "owed_fen": 50_000,
    }
    assert own.party == "玄武区图书馆" and own.totals == library.totals
    assert [line["voided"] for line in teams[0].lines] == [False, True]  # listed, and counted nowhere


async def test_a_statement_names_one_party_and_only_the_right_readers(fairground: Fairground):
    g = fairground
    async with g.db.read() as session:
        for actor, chosen in (
            (g.organiser, {}),
            (g.organiser, {"team_id": g.library.party_id, "supplier_id": g.troupe.party_id}),
            (g.organiser, {"team_id": 999}),
            (Actor.public(g.fair_id), {"team_id": g.library.party_id}),
        ):
            try:
                await statements.statement(session, actor, **chosen)
            except FairError:
                continue
            raise AssertionError(f"{actor.key} {chosen} was not refused")


async def test_the_statement_downloads_with_its_totals(hall: Hall):
    await a_fair_after_the_day(hall.ground)
    async with httpx.AsyncClient(
        base_url=hall.url, cookies={"fair_session": hall.token("library"), "fair_locale": "zh_CN"}
    ) as tablet:
        download = await tablet.get("/export/statement.csv")
    rows = list(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["订单号", "确认时间", "对方"]
    assert rows[-1][0] == "合计" and rows[-1][2] == "玄武区图书馆"
    assert rows[-1][7] == "4000.00" and rows[-1][13] == "2000.00" and rows[-1][14] == "2000.00"
    assert rows[0][15:17] == ["已付款", "已配送未付款"] and rows[-1][15:17] == ["1500.00", "500.00"]


async def test_the_order_confirmation_prints_the_amount_in_words_for_its_parties_only(hall: Hall):
    g = hall.ground
    order = (await g.order(g.library, g.troupe, g.show, quantity=2, dates=["2023-04-01", "2023-04-08"]))["order"]
    path = f"/orders/{order['id']}/confirmation"
    for who, status in (("library", 200), ("troupe", 200), ("organiser", 200), ("community", 404), ("bookseller", 404)):
        token = await hall.organiser_token() if who == "organiser" else hall.token(who)
        async with httpx.AsyncClient(
            base_url=hall.url, cookies={"fair_session": token, "fair_locale": "zh_CN"}
        ) as http:
            page = await http.get(path)
        assert page.status_code == status, who
        if status == 200:
            assert "人民币肆仟元整" in page.text and "¥4,000.00" in page.text
            assert "玄武区图书馆" in page.text and "金陵越剧团" in page.text and "2023-04-01、2023-04-08" in page.text


async def test_the_vetting_export_keeps_each_booths_ratings_and_record(hall: Hall):
    g = hall.ground
    await a_fair_after_the_day(g)
    async with g.db.read() as session:
        delivery = (await session.exec(select(Delivery))).one()
    await g.do(g.library, "delivery.evaluate", {"delivery_id": delivery.id, "rating": 4, "comment": "准时"})
    token = await hall.organiser_token()
    async with httpx.AsyncClient(base_url=hall.url, cookies={"fair_session": token, "fair_locale": "zh_CN"}) as http:
        rows = list(csv.DictReader(io.StringIO((await http.get("/export/vetting.csv")).content.decode("utf-8-sig"))))
    troupe = next(row for row in rows if row["展位"] == "A01")
    assert (troupe["评价数"], troupe["平均评分"], troupe["配送"], troupe["已配送"], troupe["评语"]) == (
        "1",
        "4.00",
        "1",
        "1",
        "准时",
    )
