"""Imports of teams, suppliers and offerings from spreadsheets: a preview that tells the truth, every bad row
named by its line, nothing written unless the whole file is valid, and the exports import back unchanged."""

from __future__ import annotations

import csv
import io

import httpx
import openpyxl
import pytest

from fair.core import Code, FairError
from tests.conftest import Hall
from tests.fairground import Fairground

TEAMS = ["采购团", "类型", "区", "街道", "预算", "已审核"]


async def run(g: Fairground, kind: str, header: list[str], rows: list[list], preview: bool) -> dict:
    return await g.do(
        g.organiser, "register.import", {"kind": kind, "header": header, "rows": rows, "preview": preview}
    )


async def test_a_valid_file_is_previewed_then_imported_as_the_commands_would_do(fairground: Fairground):
    g = fairground
    rows = [
        ["鼓楼区文化馆", "区文化馆", "鼓楼区", "", "1,200,000.00", "是"],
        ["玄武区图书馆", "图书馆", "玄武区", "", "6000", "是"],  # exists with ¥5,000: its budget changes
        [None, None, None, None, None, None],  # a blank line is skipped
        ["锁金村社区", "社区", "玄武区", "", "¥1000", "是"],  # exists, unchanged
    ]
    before = await g.state()
    preview = await run(g, "teams", TEAMS, rows, preview=True)
    assert preview["written"] is False and preview["errors"] == []
    assert [(r["line"], r["action"], r["key"]) for r in preview["rows"]] == [
        (2, "created", "鼓楼区文化馆"),
        (3, "updated", "玄武区图书馆"),
        (5, "unchanged", "锁金村社区"),
    ]
    assert await g.state() == before  # a preview writes nothing, not even an event

    done = await run(g, "teams", TEAMS, rows, preview=False)
    assert done["written"] is True and done["counts"] == {"created": 1, "updated": 1, "unchanged": 1}
    teams = {t["name"]: t for t in (await g.state())["team"]}
    assert teams["鼓楼区文化馆"]["budget_fen"] == 120_000_000 and teams["鼓楼区文化馆"]["kind"] == "district_centre"
    assert teams["玄武区图书馆"]["budget_fen"] == 600_000
    again = await run(g, "teams", TEAMS, rows, preview=True)
    assert again["counts"] == {"created": 0, "updated": 0, "unchanged": 3}


async def test_every_bad_row_is_named_by_its_line_and_nothing_is_written(fairground: Fairground):
    g = fairground
    await g.order(g.library, g.troupe, g.show, quantity=2, dates=["2023-04-01", "2023-04-08"])  # ¥4,000 spent
    rows = [
        ["鼓楼区文化馆", "区文化馆", "鼓楼区", "", "1200000", "是"],  # fine on its own
        ["秦淮区图书馆", "图书馆", "秦淮区", "", "一万", "是"],
        ["玄武区图书馆", "图书馆", "玄武区", "", "3000", "是"],  # below what it has spent
        ["", "社区", "玄武区", "", "100", "否"],
        ["江宁区文化馆", "文化站", "江宁区", "", "100", "是"],
        ["浦口区文化馆", "区文化馆", "浦口区", "", "100.005", "也许"],
    ]
    before = await g.state()
    outcome = await run(g, "teams", TEAMS, rows, preview=False)
    assert outcome["written"] is False
    assert [e["line"] for e in outcome["errors"]] == [3, 4, 5, 6, 7]
    messages = {e["line"]: FairError.from_record(e).message("zh_CN") for e in outcome["errors"]}
    assert messages[3] == "预算不是金额：一万。"
    assert "已支出" in messages[4]
    assert messages[5] == "采购团为空。"
    assert "类型" in messages[6] and "文化站" in messages[6]
    assert await g.state() == before


async def test_offerings_need_their_booth_and_follow_the_offering_rules(fairground: Fairground):
    g = fairground
    header = ["展位", "类别", "服务项目", "简介", "单位", "单价", "服务总量", "日期"]
    rows = [
        ["A01", "演出", "黄梅戏专场", "经典唱段", "场", "3000", "2", "2023-05-01、2023-05-02"],
        ["Z99", "讲座", "无人讲座", "", "讲", "100", "1", ""],
        ["A01", "讲座", "越剧艺术漫谈", "", "讲", "450", "5", ""],  # exists at ¥500: its price changes
        ["A01", "演出", "错日期", "", "场", "100", "1", "2023-02-30"],
    ]
    outcome = await run(g, "offerings", header, rows, preview=True)
    assert [e["line"] for e in outcome["errors"]] == [3, 5]
    assert FairError.from_record(outcome["errors"][0]).message("zh_CN") == "没有展位 Z99：请先导入供应商。"
    fixed = await run(g, "offerings", header, [rows[0], rows[2]], preview=False)
    assert fixed["written"] and fixed["counts"] == {"created": 1, "updated": 1, "unchanged": 0}
    offerings = {o["title"]: o for o in (await g.state())["offering"]}
    assert (
        offerings["黄梅戏专场"]["supplier_id"] == g.troupe.party_id
        and offerings["越剧艺术漫谈"]["unit_price_fen"] == 45_000
    )


@pytest.mark.parametrize(
    "header",
    [["采购团", "区", "预算"], ["名字", "类型", "区", "预算"]],  # a missing column
)
async def test_a_file_without_a_required_column_is_refused(fairground: Fairground, header):
    with pytest.raises(FairError) as refused:
        await run(fairground, "teams", header, [["x"] * len(header)], preview=True)
    assert refused.value.code == Code.invalid_input


async def _csrf(http: httpx.AsyncClient, page: str = "/console") -> str:
    """The CSRF token a page of the fair hands its scripts (and its cookie, kept by ``http``)."""
    page = await http.get(page)
    return page.text.split('name="csrftoken" value="', 1)[1].split('"', 1)[0]


async def test_the_demo_export_imports_back_unchanged_and_an_edited_one_imports_its_edits(hall: Hall):
    token = await hall.organiser_token()
    async with httpx.AsyncClient(base_url=hall.url, cookies={"fair_session": token, "fair_locale": "zh_CN"}) as http:
        headers = {"x-csrftoken": await _csrf(http)}
        for kind in ("suppliers", "teams", "offerings"):
            for fmt in ("xlsx", "csv"):
                exported = await http.get(f"/export/{kind}.{fmt}")
                assert exported.status_code == 200, exported.text
                headers["x-request-id"] = f"back-{kind}-{fmt}"
                preview = await http.post(f"/import/{kind}?preview=1", content=exported.content, headers=headers)
                data = preview.json()["data"]
                assert data["errors"] == [] and data["counts"]["created"] == data["counts"]["updated"] == 0, data
                assert data["counts"]["unchanged"] > 0

        # Edit the teams' spreadsheet as an organiser would: a budget raised, a team added; then import it.
        book = openpyxl.load_workbook(io.BytesIO((await http.get("/export/teams.xlsx")).content))
        sheet = book.active
        header = [cell.value for cell in sheet[1]]
        for row in sheet.iter_rows(min_row=2):
            if row[0].value == "锁金村社区":
                row[header.index("预算")].value = 2500
        sheet.append(["六合区文化馆", "区文化馆", "六合区", "", 800000, "否"])
        edited = io.BytesIO()
        book.save(edited)
        headers["x-request-id"] = "edited-1"
        imported = await http.post("/import/teams", content=edited.getvalue(), headers=headers)
        assert imported.json()["data"]["counts"] == {"created": 1, "updated": 1, "unchanged": 2}
        teams = list(csv.DictReader(io.StringIO((await http.get("/export/teams.csv")).content.decode("utf-8-sig"))))
        assert {t["采购团"]: t["预算"] for t in teams}["锁金村社区"] == "2500.00"
        assert {t["采购团"]: t["已审核"] for t in teams}["六合区文化馆"] == "否"

        # A row with an error: the answer names its line, in the reader's language; nothing is written.
        bad = "采购团,类型,区,预算\n建邺区文化馆,区文化馆,建邺区,很多\n".encode()
        headers["x-request-id"] = "bad-1"
        refused = (await http.post("/import/teams", content=bad, headers=headers)).json()["data"]
        assert refused["written"] is False
        assert refused["errors"] == [{"line": 2, "code": "invalid_input", "message": "预算不是金额：很多。"}]
        # Not a spreadsheet; and a page of another origin cannot post one with the organiser's cookie.
        headers["x-request-id"] = "junk-1"
        junk = await http.post("/import/teams", content=b"\x00\x01PK garbage", headers=headers)
        assert junk.status_code == 400
        forged = await http.post("/import/teams", content=bad, headers={"x-request-id": "forged-1"})
        assert forged.status_code == 403
    team = await hall.screen("library")
    async with httpx.AsyncClient(base_url=hall.url, cookies={"fair_session": hall.token("library")}) as http:
        team_headers = {"x-csrftoken": await _csrf(http, "/join"), "x-request-id": "team-1"}
        refused = await http.post("/import/teams", content=bad, headers=team_headers)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    await team.disconnect()
