"""Deliveries in a real browser: the team schedules at its venue, the venue checks in from a phone-sized page,
the team rates, the booth sees its score, and the bureau's supervision tab flags what is late."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import expect

from tests.browsers import BOARD, Screens, connected, shoot
from tests.conftest import open_hall, sqlite
from tests.test_resident_screens import confirm_on_the_phone

pytestmark = pytest.mark.browser
PHONE = {"width": 360, "height": 740}


async def test_a_delivery_from_the_tablet_to_the_venues_phone_and_back(screens: Screens):
    g = screens.hall.ground
    await g.order(g.library, g.troupe, g.show, quantity=2, dates=["2023-04-01", "2023-04-08"])
    tablet = await screens.join("library")
    booth = await screens.join("troupe")
    for page in (tablet, booth):
        await connected(page)
    await tablet.locator('[data-tab="deliveries"]').click()
    panel = tablet.locator("#deliveries")
    await expect(panel).to_contain_text("请先添加场地。")
    await panel.locator("input[name=v-name]").fill("玄武区图书馆报告厅")
    await panel.locator("input[name=v-contact]").fill("王老师 13900000000")
    await panel.get_by_role("button", name="添加", exact=True).click()
    await expect(panel.locator(".venues")).to_contain_text("玄武区图书馆报告厅")

    form = panel.locator("#schedule-form")
    await expect(form.locator("select[name=s-order]")).to_contain_text("共 2 场，剩 2 场")
    await expect(form.locator("input[name=s-day]")).to_have_value("2023-04-01")  # the day the order agreed
    await form.locator("input[name=s-starts]").fill("14:00")
    await form.locator("input[name=s-ends]").fill("16:00")
    await form.get_by_role("button", name="安排", exact=True).click()
    card = panel.locator("article.delivery")
    await expect(card).to_contain_text("已安排")
    await expect(card).to_contain_text("玄武区图书馆报告厅")
    # The venue's calendar shows the booking on its day, with its time.
    calendar = panel.locator("details.venue-calendar")
    await calendar.locator("summary").click()
    await expect(calendar.locator("summary")).to_contain_text("1 项预约")
    await expect(calendar.locator("dt")).to_have_text("2023年4月1日周六")
    await expect(calendar.locator("dd")).to_contain_text("14:00–16:00 越剧《梁祝》专场 · 金陵越剧团 · 已安排")
    await tablet.keyboard.press("Tab")
    await shoot(tablet, "tablet-deliveries-zh_CN")

    # The booth sees it at once.
    await booth.locator('[data-tab="deliveries"]').click()
    await expect(booth.locator("#deliveries article.delivery")).to_contain_text("玄武区图书馆")

    # The team hands the venue its card; the venue's contact confirms and, at the event, checks in on a phone.
    async with tablet.expect_popup() as opening:
        await card.get_by_role("link", name="场地卡").click()
    printed = await opening.value
    link = await printed.locator("#venue-link").text_content()
    phone = await screens.open(link.removeprefix(screens.hall.url), viewport=PHONE)
    await phone.get_by_role("button", name="确认：场地已为此预留").click()
    await expect(phone.locator("[role=status]")).to_have_text("谢谢：预约已确认。")
    await phone.get_by_role("button", name="签到：活动已在此开始").click()
    await expect(phone.locator("#venue-state")).to_have_text("进行中")
    await shoot(phone, "venue-check-in-zh_CN")
    await expect(card).to_contain_text("进行中")
    await expect(card).to_contain_text("签到")
    await expect(calendar).to_have_attribute("open", "")  # kept open across the live redraws
    await expect(calendar.locator("dd")).to_contain_text("进行中")

    await card.get_by_role("button", name="标记为已配送").click()
    await expect(card).to_contain_text("已配送")
    await card.locator("select[name=rating]").select_option("4")
    await card.locator("input[name=comment]").fill("孩子们很喜欢")
    await card.get_by_role("button", name="提交评价").click()
    await expect(card).to_contain_text("已评价")
    await expect(booth.locator("#deliveries .score")).to_contain_text("★ 4.0（1 条评价）")
    await tablet.locator('[data-tab="offerings"]').click()
    await expect(tablet.locator(f'#offering-list article.offering[data-id="{g.lecture}"]')).to_contain_text("★ 4.0")


async def test_the_supervision_tab_flags_a_late_delivery(screens: Screens):
    g = screens.hall.ground
    order = (await g.order(g.library, g.troupe, g.show, dates=["2023-04-01"]))["order"]
    venue = (await g.do(g.library, "venue.add", {"name": "报告厅"}))["venue"]
    payload = {
        "order_id": order["id"],
        "venue_id": venue["id"],
        "day": "2023-04-01",
        "starts": "14:00",
        "ends": "16:00",
    }
    await g.do(g.library, "delivery.schedule", payload)
    console = await screens.organiser(viewport={"width": 1440, "height": 900})
    await connected(console)
    await console.locator('[data-tab="supervision"]').click()
    flagged = console.locator("#flagged tbody tr")
    await expect(flagged).to_have_count(1)
    await expect(flagged).to_contain_text("逾期")
    await expect(flagged).to_contain_text("金陵越剧团")
    await shoot(console, "console-supervision-zh_CN")


async def test_the_board_replays_the_day_and_ends_at_the_final_tally(screens: Screens):
    g = screens.hall.ground
    await g.order(g.library, g.troupe, g.show, dates=["2023-04-01"])
    await g.order(g.community, g.bookseller, g.books, quantity=30, funding="self_funded")
    await g.order(g.centre, g.troupe, g.lecture, quantity=2)
    board = await screens.open("/board?replay=1000", viewport={"width": 1920, "height": 1080})
    await expect(board.locator("#replay")).to_have_attribute("data-done", "1", timeout=15_000)
    await expect(board.locator("#replay")).to_have_text("回放结束：当天的最终统计。")
    await expect(board.locator("#performance strong")).to_have_text("1")
    await expect(board.locator("#tle strong")).to_have_text("1")
    await expect(board.locator("#books strong")).to_have_text("30")
    await expect(board.locator("#ticker li")).to_have_count(3)


async def a_delivery(g) -> int:
    """A performance ordered by the library and scheduled at its hall on a day gone by."""
    order = (await g.order(g.library, g.troupe, g.show, dates=["2023-04-01"]))["order"]
    venue = (await g.do(g.library, "venue.add", {"name": "报告厅"}))["venue"]["id"]
    payload = {"order_id": order["id"], "venue_id": venue, "day": "2023-04-01", "starts": "14:00", "ends": "16:00"}
    return (await g.do(g.library, "delivery.schedule", payload))["delivery"]["id"]


def lan_address() -> str | None:
    """This machine's address on its network, as a tablet or a phone in the hall reaches it (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = probe.getsockname()[0]
    return None if address.startswith("127.") else address


@pytest.fixture
async def screens_by_address(browser, tmp_path) -> AsyncIterator[Screens]:
    """The fair served on the hall's network, and screens that reach it by that address as the hall's devices do."""
    address = lan_address()
    if address is None:
        pytest.skip("this machine has no network address but loopback")
    async with open_hall(sqlite(tmp_path), address=address) as hall:
        assert hall.url.startswith(f"http://{address}:")
        yield Screens(hall, browser)


async def test_the_venue_card_printed_on_a_tablet_in_the_hall_works_on_the_venues_own_phone(screens_by_address):
    """The fair served on the hall's network: the card carries the address the tablet used, and a phone (a browser
    of its own) confirms and checks in through it; printed from loopback, the card warns that no phone can open it."""
    screens = screens_by_address
    hall = screens.hall
    g = hall.ground
    delivery = await a_delivery(g)
    tablet = await screens.join("library")
    await tablet.goto(f"{hall.url}/deliveries/{delivery}/card")
    link = await tablet.locator("#venue-link").text_content()
    assert link.startswith(f"{hall.url}/venue/") and not link.startswith("http://127.")
    await expect(tablet.locator("[role=alert]")).to_have_count(0)
    phone = await screens.open(link.removeprefix(hall.url), viewport=PHONE)
    await phone.get_by_role("button", name="确认：场地已为此预留").click()
    await expect(phone.locator("[role=status]")).to_have_text("谢谢：预约已确认。")
    await phone.get_by_role("button", name="签到：活动已在此开始").click()
    await expect(phone.locator("#venue-state")).to_have_text("进行中")
    rating = await tablet.locator("#rating-link").text_content()
    resident = await screens.open(rating.removeprefix(hall.url), viewport=PHONE)
    await expect(resident.locator("#confirm-phone")).to_be_visible()  # ratings count people: the number first
    await confirm_on_the_phone(resident, screens, "13812345678")
    await expect(resident.locator("form.rate-form")).to_be_visible()
    assert resident.url.startswith(f"{hall.url}/rate/")  # back on the rating page, by the hall's address
    assert screens.errors == []


async def test_a_venue_card_printed_from_loopback_says_no_phone_can_open_it(screens: Screens):
    g = screens.hall.ground
    delivery = await a_delivery(g)
    tablet = await screens.join("library")
    await tablet.goto(f"{screens.hall.url}/deliveries/{delivery}/card")
    await expect(tablet.locator("[role=alert]")).to_contain_text("只有这台电脑能打开")
    await shoot(tablet, "venue-card-loopback-zh_CN")


async def test_a_board_reached_by_the_hall_s_address_moves_when_an_order_is_confirmed(screens_by_address):
    """A board on a browser of its own, reaching the server by the address the hall's devices use, is sent the
    tally over its websocket as it is written to directly (fair.live.websocket)."""
    screens = screens_by_address
    g = screens.hall.ground
    board = await screens.open("/board", viewport=BOARD)
    assert board.url.startswith(screens.hall.url)
    await connected(board)
    await expect(board.locator("#tle strong")).to_have_text("0")
    await g.order(g.library, g.troupe, g.lecture)
    await expect(board.locator("#tle strong")).to_have_text("1")
    await expect(board.locator("#ticker li").first).to_contain_text("玄武区图书馆 → 金陵越剧团")
    await shoot(board, "board-by-the-hall-address")
    assert screens.errors == []
