"""The four screens in a real browser (Debian's Chromium, driven by Playwright).

Screenshots of every screen in both languages go to test-artifacts/; a test
fails if a page logs a JavaScript error.
"""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest
from playwright.async_api import Page, expect
from sqlalchemy import insert, update

from fair.core import Actor, FairError
from fair.models import Announcement, QueueTicket
from fair.settings import ROOT
from tests.browsers import ARTIFACTS, BOARD, TABLET, Screens, connected, shoot
from tests.conftest import ORGANISER_PASSWORD, Hall

pytestmark = pytest.mark.browser


async def test_a_tablet_and_a_booth_close_a_deal_and_the_board_counts_it(screens: Screens):
    board = await screens.open("/board", viewport=BOARD)
    tablet = await screens.join("library")
    booth = await screens.join("troupe")
    for page in (board, tablet, booth):
        await connected(page)
    await expect(board.locator("#tle strong")).to_have_text("0")

    # The tablet proposes 2 lectures at ¥480 with a message.
    card = tablet.locator(".offering", has_text="越剧艺术漫谈")
    await card.get_by_role("button", name="洽谈", exact=True).click()
    dialog = tablet.locator("dialog")
    await dialog.locator("input[name=quantity]").fill("2")
    await dialog.locator("input[name=unit_price]").fill("480")
    await dialog.locator("input[name=venue]").fill("玄武区图书馆报告厅")
    await dialog.locator("textarea[name=message]").fill("<b>周六下午</b>")
    await expect(dialog.locator(".sums")).to_contain_text("¥960.00")
    await dialog.get_by_role("button", name="发送").click()
    await expect(card.get_by_role("button", name="洽谈中")).to_be_visible()

    # The booth sees it, with the message as text, and counters at ¥500.
    negotiation = booth.locator(".negotiation", has_text="玄武区图书馆")
    await expect(negotiation.locator(".turn")).to_have_text("轮到您了")
    await expect(negotiation.locator(":scope > .message")).to_have_text("“<b>周六下午</b>”")
    await negotiation.get_by_role("button", name="还价").click()
    await booth.locator("dialog input[name=unit_price]").fill("500")
    await booth.locator("dialog").get_by_role("button", name="发送").click()

    # The tablet accepts the counter-offer; the order is confirmed.
    await tablet.locator("[data-tab=negotiations]").click()
    mine = tablet.locator(".negotiation", has_text="越剧艺术漫谈")
    await expect(mine.locator(".turn")).to_have_text("轮到您了")
    await mine.get_by_role("button", name="接受并确认成交").click()
    await expect(mine.locator(".badge.state")).to_have_text("已成交")
    await expect(tablet.locator("#budget-left")).to_have_text("¥4,000.00")

    # The board moved, without a reload.
    await expect(board.locator("#tle strong")).to_have_text("1")
    await expect(board.locator("#ticker li").first).to_contain_text("玄武区图书馆 → 金陵越剧团")
    await expect(board.locator("#total-money")).to_have_text("¥1,000.00")
    await shoot(board, "board-after-an-order")
    assert len((await screens.hall.ground.state())["purchase_order"]) == 1


async def test_an_accept_sent_offline_is_pending_and_lands_once(screens: Screens):
    g = screens.hall.ground
    negotiation = await g.propose(g.library, g.books, quantity=10)
    await g.do(
        g.bookseller,
        "negotiation.counter",
        {"negotiation_id": negotiation["id"], "base_version": 1, "terms": {"quantity": 10, "unit_price_fen": 2_800}},
    )
    tablet = await screens.join("library")
    await connected(tablet)
    await tablet.locator("[data-tab=negotiations]").click()
    card = tablet.locator(".negotiation", has_text="送书下乡少儿读物")

    await tablet.context.set_offline(True)  # the hall's Wi-Fi drops
    await card.get_by_role("button", name="接受并确认成交").click()
    indicator = tablet.locator("#connection")
    await expect(indicator).to_contain_text("1 项待发送")
    await expect(indicator).to_have_attribute("data-state", "offline")  # never "connected" with the action pending
    # A second tap, on the button drawn again meanwhile: the same command is still only one.
    await tablet.locator("[data-tab=offerings]").click()
    await tablet.fill("input[name=q]", "读物")
    await tablet.locator("[data-tab=negotiations]").click()
    await card.get_by_role("button", name="接受并确认成交").click()
    await expect(indicator).to_contain_text("1 项待发送")
    await shoot(tablet, "tablet-accept-pending-offline")
    assert (await g.state())["purchase_order"] == []

    await tablet.context.set_offline(False)
    await expect(indicator).to_have_attribute("data-state", "online", timeout=30_000)
    await expect(indicator).not_to_contain_text("待发送", timeout=30_000)
    await expect(card.locator(".badge.state")).to_have_text("已成交", timeout=30_000)
    orders = (await g.state())["purchase_order"]
    assert len(orders) == 1 and orders[0]["amount_fen"] == 28_000


async def test_a_tablet_reloaded_without_network_shows_its_last_data_marked_offline_then_fresh(screens: Screens):
    g = screens.hall.ground
    await g.propose(g.library, g.books, quantity=10)
    tablet = await screens.join("library")
    await connected(tablet)
    await expect(tablet.locator("#budget-left")).to_have_text("¥5,000.00")
    await tablet.wait_for_function("() => localStorage.getItem('fair.view./tablet') !== null")  # kept on the device
    assert await tablet.evaluate("() => window.fairShellKept")  # the page and its files kept for a reload offline

    await tablet.context.set_offline(True)  # the hall's Wi-Fi drops, and somebody reloads the tablet
    await tablet.reload()
    indicator = tablet.locator("#connection")
    await expect(indicator).to_have_attribute("data-state", "offline")
    await expect(indicator).to_contain_text(re.compile(r"离线 · .+ 的数据"))
    await expect(tablet.locator("#fair-name")).to_have_text("测试现场会")  # the fair's own name, not the generic one
    await expect(tablet.locator("#budget-left")).to_have_text("¥5,000.00")
    await expect(tablet.locator("#recommendation-list")).to_contain_text("离线")  # says why there is no list
    await tablet.locator("[data-tab=negotiations]").click()
    await expect(tablet.locator(".negotiation", has_text="送书下乡少儿读物")).to_be_visible()
    await shoot(tablet, "tablet-offline-reload")

    await g.do(g.organiser, "team.set_budget", {"team_id": g.library.party_id, "budget_fen": 600_000})  # meanwhile
    await tablet.context.set_offline(False)
    await expect(indicator).to_have_attribute("data-state", "online", timeout=30_000)
    await expect(indicator).to_have_text("已连接")
    await expect(tablet.locator("#budget-left")).to_have_text("¥6,000.00")  # fresh from the server


async def test_joining_with_another_card_forgets_what_the_tablet_kept_of_the_last_team(screens: Screens):
    tablet = await screens.join("library")
    await connected(tablet)
    await tablet.wait_for_function("() => localStorage.getItem('fair.view./tablet') !== null")
    await tablet.goto(screens.hall.url + "/join")
    assert await tablet.evaluate("() => Object.keys(localStorage).filter((k) => k.startsWith('fair.view.'))") == []


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_every_screen_in_both_languages(screens: Screens, locale: str):
    g = screens.hall.ground
    await g.order(g.centre, g.troupe, g.show, dates=["2023-04-01"])
    await g.propose(g.library, g.lecture, message="周末")
    words = {
        "zh_CN": {"tablet": "服务项目", "booth": "洽谈", "board": "场演出订单", "console": "结束现场会"},
        "en": {
            "tablet": "Offerings",
            "booth": "Negotiations",
            "board": "performance orders",
            "console": "Close the fair",
        },
    }[locale]

    tablet = await screens.join("library", locale=locale)
    await connected(tablet)
    await expect(tablet.locator(".tabs")).to_contain_text(words["tablet"])
    await expect(tablet.locator(".offering").first).to_be_visible()
    await shoot(tablet, f"tablet-{locale}")
    # The centre's order, confirmed today, with its day: the month by name in English ("7 Dec, 23:19", since
    # "07/12" reads as July to half the readers), "12/07 23:19" in Chinese.
    centre = await screens.join("centre", locale=locale)
    await centre.locator("[data-tab=orders]").click()
    moment = {"en": r"\d{1,2} [A-Z][a-z]{2}, \d\d:\d\d", "zh_CN": r"\d\d/\d\d \d\d:\d\d"}[locale]
    await expect(centre.locator("#orders tbody tr").first.locator("td").first).to_have_text(re.compile(moment))
    narrow = await screens.join("centre", locale=locale, viewport={"width": 1024, "height": 768})
    await expect(narrow.locator(".offering").first).to_be_visible()
    await shoot(narrow, f"tablet-1024-{locale}")

    booth = await screens.join("troupe", locale=locale)
    await connected(booth)
    await expect(booth.locator(".negotiation")).to_have_count(2)  # one confirmed, one waiting
    await expect(booth.locator(".tabs")).to_contain_text(words["booth"])
    await shoot(booth, f"booth-{locale}")

    board = await screens.open("/board", locale=locale, viewport=BOARD)
    await connected(board)
    await expect(board.locator("#performance strong")).to_have_text("1")
    await expect(board.locator(".headline")).to_contain_text(words["board"])
    await board.wait_for_timeout(1000)  # let the counters and bars finish moving
    await shoot(board, f"board-{locale}")

    console = await screens.organiser(locale=locale, viewport={"width": 1440, "height": 900})
    await expect(console.locator("#setup")).to_contain_text(words["console"])
    await shoot(console, f"console-{locale}")
    await console.locator('[data-tab="reports"]').click()
    await expect(console.locator("#grid")).to_contain_text("1")
    await shoot(console, f"console-reports-{locale}")

    cards = await console.context.new_page()  # the cards need the organiser's session
    await cards.goto(screens.hall.url + "/console/cards")
    await expect(cards.locator(".join-card")).to_have_count(6)
    await shoot(cards, f"cards-{locale}")


async def test_the_organiser_sets_a_budget_and_revokes_a_link(screens: Screens):
    g = screens.hall.ground
    console = await screens.organiser()
    await connected(console)
    await console.locator('[data-tab="teams"]').click()
    row = console.locator(f'tr[data-team="{g.community.party_id}"]')
    await row.get_by_role("button", name="修改").click()
    await row.locator("input[name=budget]").fill("2,500")
    asked = []
    console.once("dialog", lambda dialog: asked.append(dialog.message) or dialog.accept())
    await row.get_by_role("button", name="保存").click()
    await expect(row.locator("td").nth(4)).to_contain_text("¥2,500.00")
    assert asked == ["锁金村社区的预算：¥1,000.00 → ¥2,500.00，确定吗？"]
    await expect(console.locator("#toasts")).to_contain_text("锁金村社区的预算：¥1,000.00 → ¥2,500.00。")
    tablet = await screens.join("community")
    await connected(tablet)
    await expect(tablet.locator("#budget-left")).to_have_text("¥2,500.00")

    # The fair's tab: a team may hold numbers at one booth's queue at a time, from now on.
    await console.locator('[data-tab="setup"]').click()
    await console.locator("input[name=numbers-per-team]").fill("1")
    await console.locator("form", has=console.locator("input[name=numbers-per-team]")).get_by_role("button").click()
    await expect(console.locator("#toasts")).to_contain_text("每个采购团最多同时在 1 个展位取号")
    await g.do(g.community, "queue.join", {"supplier_id": g.troupe.party_id})
    with pytest.raises(FairError) as refused:
        await g.do(g.community, "queue.join", {"supplier_id": g.bookseller.party_id})
    assert "1 个展位" in refused.value.message("zh_CN")

    await console.get_by_role("tab", name="加入链接").click()
    console.once("dialog", lambda dialog: dialog.accept())
    await (
        console.locator(f'tr[data-credential="{screens.hall.credentials["community"]}"]')
        .get_by_role("button", name="吊销")
        .click()
    )
    await expect(tablet.locator("#connection")).to_have_attribute("data-state", "offline", timeout=10_000)


async def test_signing_in_needs_the_csrf_token_and_the_right_password(screens: Screens):
    page = await screens.open("/login")
    await page.fill("input[name=username]", "organiser")
    await page.fill("input[name=password]", "guess")
    await page.click("button[type=submit]")
    await expect(page.locator(".notice.error")).to_have_text("用户名或密码错误。")
    async with httpx.AsyncClient(base_url=screens.hall.url, cookies={"csrftoken": "forged"}) as http:
        form = {"username": "organiser", "password": ORGANISER_PASSWORD}
        forged = await http.post("/login", data=form)
        assert forged.status_code == 403  # a form posted from elsewhere, without this site's token


async def test_pages_of_another_role_send_the_visitor_away(screens: Screens):
    page = await screens.join("library")
    await page.goto(screens.hall.url + "/booth")
    await expect(page.locator(".notice.error")).to_be_visible()
    await page.goto(screens.hall.url + "/console")
    await expect(page).to_have_url(screens.hall.url + "/login")


@pytest.mark.parametrize(
    "who, path",
    [("library", "/tablet"), ("troupe", "/booth"), (None, "/board"), ("organiser", "/console"), (None, "/wishes")],
)
async def test_every_screen_s_first_load_weighs_under_150_kb_as_sent(screens: Screens, who, path):
    """What the browser really transferred (compressed), page, styles, scripts and libraries, on a first load."""
    hall, responses = screens.hall, []
    context = await screens.browser.new_context(viewport=TABLET)  # a device that has never loaded anything
    if who is not None:
        token = await hall.organiser_token() if who == "organiser" else hall.token(who)
        await context.add_cookies([{"name": "fair_session", "value": token, "url": hall.url}])
    page = await context.new_page()
    page.on("response", lambda response: responses.append(response))
    await page.goto(hall.url + path)
    await connected(page)
    sent = 0
    for response in responses:
        if "/socket.io/" in response.url or response.url.endswith("/sw.js"):
            continue
        sent += (await response.request.sizes())["responseBodySize"]
        kind = response.headers.get("content-type", "")
        if response.status == 200 and kind.startswith(("text/", "application/javascript")):
            assert response.headers.get("content-encoding") == "gzip", f"{response.url} is sent uncompressed"
    assert sent <= 150 * 1024, f"{path} weighs {sent / 1024:.0f} KB as sent"
    vendor = [r for r in responses if "/static/vendor/" in r.url and r.status == 200]
    assert vendor and all("immutable" in r.headers["cache-control"] and "?v=" in r.url for r in vendor)


async def test_joining_asks_before_it_signs_in_and_leaves_no_card_in_the_address_bar(screens: Screens):
    """Issue 8, findings 6 and 11: the card switched identity on a GET, and stayed in the history and the logs."""
    card = screens.hall.card("library")
    page = await screens.open(f"/join#{card}")
    question = page.locator("#join-question")
    await expect(question).to_have_text("以“玄武区图书馆”的身份登录？")
    assert card not in page.url and "#" not in page.url  # taken out of the address bar and the history
    assert card not in await page.evaluate("location.href + document.referrer")
    await shoot(page, "join-confirm-zh_CN")
    cookies = await page.context.cookies()
    assert "fair_session" not in {cookie["name"] for cookie in cookies}  # nothing switched yet
    await page.get_by_role("button", name="登录").click()
    await expect(page).to_have_url(screens.hall.url + "/tablet")
    await connected(page)
    session = next(c for c in await page.context.cookies() if c["name"] == "fair_session")
    assert session["value"] != card and session["httpOnly"] and session["sameSite"] == "Lax"


async def test_a_card_s_typed_code_joins_a_second_device(screens: Screens):
    """No camera: the code printed under the QR code, typed into /join on another device, signs it in."""
    hall = screens.hall
    code = hall.tokens.join_code(hall.credentials["library"])
    other = await screens.open("/join", locale="en")  # a context of its own: another tablet
    await expect(other.locator("input[name=code]")).to_be_focused()
    await other.fill("input[name=code]", "ZZZZ-ZZZZ")
    await other.get_by_role("button", name="Continue").click()
    await expect(other.locator(".notice.error")).to_contain_text("No card has this code")
    await other.fill("input[name=code]", code.lower().replace("-", " "))  # as a person may type it
    await other.get_by_role("button", name="Continue").click()
    await expect(other.locator("#join-question")).to_have_text("Sign in as 玄武区图书馆?")
    await other.get_by_role("button", name="Sign in").click()
    await expect(other).to_have_url(hall.url + "/tablet")
    await connected(other)
    await expect(other.locator("#me-name")).to_have_text("玄武区图书馆")


async def test_the_cards_print_a_code_a_serial_and_a_warning_when_no_tablet_can_reach_them(screens: Screens):
    hall = screens.hall
    console = await screens.organiser(locale="en")
    sheet = await console.context.new_page()
    await sheet.goto(f"{hall.url}/console/cards?card={hall.credentials['troupe']}")
    cards = sheet.locator(".join-card")
    await expect(cards).to_have_count(1)  # one card, reissued for a lost one, not the whole sheet
    await expect(cards.locator(".code")).to_have_text(hall.tokens.join_code(hall.credentials["troupe"]))
    await expect(cards).to_contain_text(f"No. {hall.credentials['troupe']}, issued")
    await expect(cards.locator(".how")).to_contain_text(f"{hall.url}/join")
    await expect(sheet.locator(".notice.error")).to_contain_text("only this computer can reach")
    await shoot(sheet, "card-one")


async def test_the_screens_run_under_a_policy_of_their_own_scripts_and_sockets(screens: Screens):
    """Issue 8, finding 9: the CSP allows only the app's own scripts and sockets; a page breaking it logs an error."""
    responses = []
    tablet = await screens.join("centre")
    tablet.on("response", lambda response: responses.append(response))
    await tablet.reload()
    await connected(tablet)  # the websocket to the same origin passes connect-src 'self'
    document = next(r for r in responses if r.url.endswith("/tablet"))
    csp = (await document.all_headers())["content-security-policy"]
    assert "script-src 'self'" in csp and "connect-src 'self'" in csp and "frame-ancestors 'none'" in csp
    console = await screens.organiser()
    await connected(console)
    cards = await console.context.new_page()
    await cards.goto(screens.hall.url + "/console/cards")
    assert await cards.locator("[onclick]").count() == 0  # the print button's handler is in static/js/cards.js
    # An inline script is what an injection would be: the browser refuses it (and says so: not our error).
    blocked = await tablet.evaluate(
        """() => new Promise((resolve) => {
            document.addEventListener("securitypolicyviolation", (e) => resolve(e.violatedDirective), { once: true });
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.body.append(script);
        })"""
    )
    assert blocked.startswith("script-src") and not await tablet.evaluate("window.injected === true")
    screens.errors[:] = [e for e in screens.errors if "Content Security Policy" not in e]


async def test_the_console_lists_a_cards_devices_and_signs_one_out(screens: Screens):
    hall = screens.hall
    stranger = await screens.join("library")  # a second device on the library's card
    await connected(stranger)
    console = await screens.organiser(viewport={"width": 1440, "height": 900})
    await connected(console)
    await console.get_by_role("tab", name="加入链接").click()
    row = console.locator(f'tr[data-credential="{hall.credentials["library"]}"]')
    await expect(row.locator(".devices li")).to_have_count(2)
    await expect(console.locator("#organiser-sessions")).to_contain_text("当前浏览器")
    await shoot(console, "console-devices-zh_CN")
    console.once("dialog", lambda dialog: dialog.accept())
    await row.locator(".devices li").last.get_by_role("button", name="退出", exact=True).click()
    await expect(stranger.locator("#connection")).to_have_attribute("data-state", "offline", timeout=10_000)
    await expect(row.locator(".devices li")).to_have_count(1)


async def held_view(page: Page) -> dict:
    """The view the page's script holds, built from its sync and the live messages since."""
    return await page.evaluate("window.fairView()")


async def assert_the_page_holds_the_servers_view(hall: Hall, page: Page, actor) -> None:
    """The browser's reducer (static/js/core.js) folded the events into what a fresh read says, every field."""
    from tests.screens import fresh_view

    for _ in range(100):
        shown, expected = await held_view(page), await fresh_view(hall.app, actor)
        if {**shown, "seq": None, "mine": None} == {**expected, "seq": None, "mine": None}:
            return
        await page.wait_for_timeout(50)
    differing = sorted(key for key in expected if shown.get(key) != expected[key])
    raise AssertionError(f"{actor.key}'s page differs from the server in {differing}")


async def test_a_residents_wish_is_booked_negotiated_ordered_and_answered(screens: Screens):
    """A resident's wish, approved, reaches a team's tablet; the team meets the booth and orders against it."""
    hall, g = screens.hall, screens.hall.ground
    await g.do(g.troupe, "slot.publish", {"starts": "10:00", "ends": "11:00", "minutes": 20})

    # A resident on a phone makes a wish for a street of Xuanwu.
    phone = await screens.open("/wishes", viewport={"width": 360, "height": 740})
    await connected(phone)
    await phone.select_option("select[name=district]", "玄武区")
    await phone.fill("input[name=street]", "玄武门街道")
    await phone.select_option("select[name=category]", "lecture")
    await phone.select_option("select[name=audience]", "老年人")
    await phone.fill("textarea[name=text]", "希望有越剧知识讲座")
    await phone.get_by_role("button", name="提交需求").click()
    await expect(phone.locator("#my-wishes")).to_contain_text("希望有越剧知识讲座")
    await shoot(phone, "wishes-phone")

    # The organiser approves it in the console.
    console = await screens.organiser()
    await console.locator("[data-tab=wish-review]").click()
    await console.locator("tr", has_text="希望有越剧知识讲座").get_by_role("button", name="通过", exact=True).click()
    await expect(phone.locator(".wish", has_text="希望有越剧知识讲座")).to_be_visible()

    # The library (Xuanwu) sees it on its tablet and books a meeting at the troupe's booth.
    tablet = await screens.join("library")
    await connected(tablet)
    await expect(tablet.locator("#district-wishes")).to_contain_text("希望有越剧知识讲座")
    await tablet.locator("[data-tab=offerings]").click()
    card = tablet.locator(".offering", has_text="越剧艺术漫谈")
    await card.get_by_role("button", name="预约洽谈").click()
    await tablet.locator("dialog .slot").first.click()
    await tablet.locator("[data-tab=meetings]").click()
    await expect(tablet.locator(".meeting")).to_contain_text("金陵越剧团")
    booth = await screens.join("troupe")
    await booth.locator("[data-tab=meetings]").click()
    await expect(booth.locator(".meeting")).to_contain_text("玄武区图书馆")

    # It proposes the lecture, answering the wish; the booth accepts.
    await tablet.locator("[data-tab=offerings]").click()
    await card.get_by_role("button", name="洽谈", exact=True).click()
    dialog = tablet.locator("dialog")
    answering = await dialog.locator("select[name=wish] option", has_text="希望有越剧知识讲座").get_attribute("value")
    await dialog.locator("select[name=wish]").select_option(answering)
    await dialog.get_by_role("button", name="发送").click()
    await booth.locator("[data-tab=queue]").click()
    offer = booth.locator(".negotiation", has_text="玄武区图书馆")
    await offer.get_by_role("button", name="接受并确认成交").click()
    await expect(offer.locator(".badge.state")).to_have_text("已成交")

    # The resident's phone shows the wish answered, by whom and with what.
    wish = phone.locator(".wish", has_text="希望有越剧知识讲座")
    await expect(wish.locator(".answers")).to_contain_text("玄武区图书馆")
    await expect(wish).to_contain_text("已响应")
    await shoot(phone, "wishes-answered")

    # Every page folded the same events into the server's view.
    cookie = hall.tokens.read_resident(
        next(c["value"] for c in await phone.context.cookies() if c["name"] == "fair_resident")
    )
    from fair.core import Actor

    for page, actor in (
        (phone, Actor.resident(g.fair_id, cookie.key, cookie.resident_id)),
        (console, g.organiser),
        (tablet, g.library),
        (booth, g.troupe),
    ):
        await assert_the_page_holds_the_servers_view(hall, page, actor)


AXE = ROOT / "static" / "node_modules" / "axe-core" / "axe.min.js"


async def test_a_tablet_s_recommendations_say_who_asked_and_what_the_budget_allows(screens: Screens):
    """Issue 22: the reason counts the people behind exactly the wishes the offering answers, and they open on a
    tap; an offering the budget cannot pay says how much the unit would pay itself, after what it can afford."""
    g = screens.hall.ground
    await g.confirm("author", "neighbour")
    wish = {"district": "玄武区", "street": "玄武门街道", "category": "lecture", "audience": "老年人"}
    made = await g.do(g.resident("author"), "wish.submit", wish | {"text": "希望有越剧知识讲座"})
    await g.do(g.organiser, "wish.moderate", {"wish_id": made["wish"]["id"], "decision": "approve"})
    await g.do(g.resident("neighbour"), "wish.support", {"wish_id": made["wish"]["id"]})
    tablet = await screens.join("community", viewport=TABLET)
    await connected(tablet)
    await tablet.locator("[data-tab=for-you]").click()
    cards = tablet.locator("#recommendation-list .offering")
    await expect(cards.first).to_contain_text("越剧艺术漫谈")
    why = cards.first.locator("details.reasons")
    said = "玄武区 2 位居民在 1 条需求中希望有面向老年人的讲座 · 按 1 讲 计 ¥500.00，在剩余预算内"
    await expect(why.locator("summary")).to_contain_text(said)
    await expect(why.locator(".why-wishes")).to_be_hidden()
    await why.locator("summary").click()
    await expect(why.locator(".why-wishes li")).to_have_text(["希望有越剧知识讲座 · 玄武门街道 · 2 人支持"])
    # ¥1,000 left: the ¥2,000 show comes after the lecture and the books, and says what the unit would add.
    titles = await cards.locator("h3").all_inner_texts()
    assert titles == ["越剧艺术漫谈", "送书下乡少儿读物", "越剧《梁祝》专场"], titles
    await expect(cards.nth(2).locator(".reasons")).to_contain_text("需自筹 ¥1,000.00（1 场 共 ¥2,000.00）")
    await shoot(tablet, "tablet-recommendations")
    # Not interested in the books: the card goes, and waits apart with the way back.
    await cards.nth(1).get_by_role("button", name="不感兴趣").click()
    await expect(cards).to_have_count(2)
    aside = tablet.locator("#set-aside")
    await expect(aside.locator("summary")).to_have_text("已搁置（1）")
    await aside.locator("summary").click()
    await expect(aside.locator("li")).to_contain_text("送书下乡少儿读物 不感兴趣")
    # A booth publishes meanwhile: the list is read again and redrawn, and the set-aside list stays open.
    lecture = {"category": "lecture", "title": "越剧唱腔赏析", "unit": "讲", "unit_price_fen": 40_000, "capacity": 3}
    await g.do(g.troupe, "offering.publish", lecture)
    await expect(tablet.locator("#recommendation-list .offering", has_text="越剧唱腔赏析")).to_be_visible()
    await expect(tablet.locator("#set-aside")).to_have_attribute("open", "")
    await shoot(tablet, "tablet-set-aside")
    await aside.get_by_role("button", name="恢复推荐").click()
    await expect(cards).to_have_count(4)
    await expect(tablet.locator("#set-aside")).to_have_count(0)


@pytest.mark.parametrize(
    "who, path",
    [
        ("library", "/tablet"),
        ("troupe", "/booth"),
        (None, "/board"),
        ("organiser", "/console"),
        ("organiser", "/console/report"),
        (None, "/wishes"),
        (None, "/"),
        (None, "/join"),
        (None, "/login"),
    ],
)
async def test_axe_finds_nothing_critical_or_serious(screens: Screens, who, path):
    """axe-core (the accessibility engine browsers' tools use) on each screen, in Chinese, once it has drawn."""
    hall = screens.hall
    context = await screens.browser.new_context(viewport=TABLET, bypass_csp=True)  # to inject axe's script
    await context.add_cookies([{"name": "fair_locale", "value": "zh_CN", "url": hall.url}])
    if who is not None:
        token = await hall.organiser_token() if who == "organiser" else hall.token(who)
        await context.add_cookies([{"name": "fair_session", "value": token, "url": hall.url}])
    page = await context.new_page()
    await page.goto(hall.url + path)
    if path not in ("/", "/join", "/login", "/console/report"):
        await connected(page)
    await page.add_script_tag(path=AXE)
    bad = []
    tabs = await page.locator("[role=tab]").all()
    for tab in tabs or [None]:  # every tab's panel, shown in turn: axe skips what is hidden
        if tab is not None:
            await tab.click()
        found = await page.evaluate("axe.run(document).then((r) => r.violations)")
        bad += [
            f"{v['id']} ({v['impact']}): {v['help']} at {[node['target'] for node in v['nodes']][:3]}"
            for v in found
            if v["impact"] in ("critical", "serious")
        ]
    assert not bad, "\n".join(sorted(set(bad)))


async def test_a_revoked_tablet_says_so_and_shows_nothing_of_the_team(screens: Screens):
    g = screens.hall.ground
    tablet = await screens.join("community")
    await connected(tablet)
    await expect(tablet.locator("#budget-left")).to_be_visible()
    await g.do(g.organiser, "access.revoke", {"credential_id": screens.hall.credentials["community"]})
    ended = tablet.locator(".ended")
    await expect(ended).to_contain_text("此卡片在本设备上已失效")
    await expect(tablet.locator("#budget")).to_have_count(0)
    assert await tablet.evaluate("window.fairView()") is None
    await shoot(tablet, "tablet-revoked")


async def test_the_fair_closing_while_terms_are_typed_keeps_them_and_says_why(screens: Screens):
    g = screens.hall.ground
    tablet = await screens.join("library")
    await connected(tablet)
    await tablet.locator("[data-tab=offerings]").click()
    card = tablet.locator(".offering", has_text="越剧艺术漫谈")
    await card.get_by_role("button", name="洽谈", exact=True).click()
    dialog = tablet.locator("dialog")
    await dialog.locator("input[name=quantity]").fill("3")
    await dialog.locator("textarea[name=message]").fill("周六下午")
    await g.do(g.organiser, "fair.close")
    await expect(tablet.locator("#fair-banner")).to_contain_text("现场会已结束")
    await dialog.get_by_role("button", name="发送").click()
    await expect(dialog.locator(".notice.error")).to_contain_text("现场会已结束")
    await expect(dialog.locator("input[name=quantity]")).to_have_value("3")  # what was typed stays
    await expect(dialog.locator("textarea[name=message]")).to_have_value("周六下午")
    await shoot(tablet, "tablet-closed-while-typing")
    await dialog.get_by_role("button", name="取消").click()
    await expect(card.get_by_role("button", name="洽谈", exact=True)).to_be_disabled()


async def test_the_terms_dialog_keeps_the_total_and_its_warnings_beside_send_on_a_small_screen(screens: Screens):
    tablet = await screens.join("library", viewport={"width": 1024, "height": 600})  # a tablet held sideways
    await connected(tablet)
    await tablet.locator("[data-tab=offerings]").click()
    await tablet.locator(".offering", has_text="越剧艺术漫谈").get_by_role("button", name="洽谈", exact=True).click()
    dialog = tablet.locator("dialog")
    await dialog.locator("input[name=unit_price]").fill("5")  # ¥5 for a ¥500 lecture: a slip of the finger
    odd = dialog.locator(".terms-foot .notice.warning", has_text="标价")
    await expect(odd).to_have_text("每讲 ¥5.00，与标价 ¥500.00 相差很大：请核对金额。")
    await expect(dialog.get_by_role("button", name="仍然发送")).to_be_visible()
    await dialog.locator("input[name=unit_price]").fill("500")
    await dialog.locator("input[name=quantity]").fill("11")  # ¥5,500 of a ¥5,000 budget
    over = dialog.locator(".terms-foot .notice.warning", has_text="超出预算")
    await expect(over).to_have_text("超出预算：仅剩 ¥5,000.00。")
    await expect(odd).to_be_hidden()
    for seen in (over, dialog.locator(".terms-foot .sums"), dialog.get_by_role("button", name="仍然发送")):
        await expect(seen).to_be_in_viewport()  # beside the button, not below the fold
    await shoot(tablet, "tablet-terms-over-budget")


async def test_negotiations_are_grouped_and_the_header_counts_what_the_tabs_count(screens: Screens):
    g = screens.hall.ground
    waiting = await g.propose(g.library, g.books, quantity=10)  # the bookseller's move
    countered = await g.propose(g.library, g.lecture)  # the troupe counters: the library's move
    await g.do(
        g.troupe,
        "negotiation.counter",
        {"negotiation_id": countered["id"], "base_version": 1, "terms": {"quantity": 1, "unit_price_fen": 45_000}},
    )
    await g.order(g.library, g.troupe, g.show, dates=["2023-04-01"])  # a deal: finished
    slot = (await g.do(g.troupe, "slot.publish", {"starts": "10:00", "ends": "10:20", "minutes": 20}))["slots"][0]
    await g.do(g.troupe, "appointment.invite", {"slot_id": slot["id"], "team_id": g.library.party_id})
    tablet = await screens.join("library")
    await connected(tablet)
    await tablet.locator("[data-tab=negotiations]").click()
    groups = tablet.locator("#negotiations .negotiation-group")
    await expect(groups.locator("> h3")).to_have_text(["待我处理 1", "进行中：等待对方 1", "已结束 1"])
    await expect(groups.nth(0).locator(".negotiation")).to_contain_text("越剧艺术漫谈")
    await expect(groups.nth(1).locator(".negotiation")).to_contain_text("送书下乡少儿读物")
    await expect(groups.nth(2).locator(".negotiation")).to_contain_text("越剧《梁祝》专场")
    await expect(tablet.locator("#turn-count")).to_have_text("1")
    await expect(tablet.locator("#meeting-count")).to_have_text("1")
    await expect(tablet.locator("#need-you")).to_have_text("2 项待您处理")  # the two tabs' counts, added
    await shoot(tablet, "tablet-negotiation-groups")
    assert waiting["state"] == "proposed"
    booth = await screens.join("bookseller")
    await connected(booth)
    await expect(booth.locator("#turn-count")).to_have_text("1")
    await expect(booth.locator("#queue .negotiation-group.mine")).to_contain_text("玄武区图书馆")


async def test_the_publish_dialog_keeps_what_was_typed_when_refused(screens: Screens):
    booth = await screens.join("troupe")
    await connected(booth)
    await booth.locator("[data-tab=mine]").click()
    await booth.locator("#publish").click()
    dialog = booth.locator("dialog")
    await dialog.locator("input[name=title]").fill("戏曲\u200b讲座")  # a zero-width space: the server refuses it
    await dialog.locator("input[name=price]").fill("1e3")
    await dialog.get_by_role("button", name="发布").click()
    await expect(dialog.locator(".notice.error")).to_contain_text("单价")  # checked in the form, in words
    await dialog.locator("input[name=price]").fill("800")
    await dialog.get_by_role("button", name="发布").click()
    await expect(dialog.locator(".notice.error")).to_contain_text("标题")
    await expect(dialog.locator("input[name=title]")).to_have_value("戏曲\u200b讲座")
    await expect(dialog.locator("input[name=price]")).to_have_value("800")
    await dialog.locator("input[name=title]").fill("戏曲讲座")
    await dialog.get_by_role("button", name="发布").click()
    await expect(dialog).to_have_count(0)
    await expect(booth.locator(".offering", has_text="戏曲讲座")).to_be_visible()


async def test_a_buyer_searches_filters_by_booth_and_sorts(screens: Screens):
    tablet = await screens.join("centre")
    await connected(tablet)
    await tablet.locator("[data-tab=offerings]").click()
    titles = tablet.locator("#offering-list .offering h3")
    await tablet.fill("input[name=q]", "e01")  # a booth number, in any case
    await expect(titles).to_have_text(["送书下乡少儿读物"])
    await tablet.fill("input[name=q]", "")
    await tablet.select_option("select[name=sort]", "price")
    await expect(titles).to_have_text(["送书下乡少儿读物", "越剧艺术漫谈", "越剧《梁祝》专场"])
    await tablet.select_option("select[name=sort]", "-price")
    await expect(titles).to_have_text(["越剧《梁祝》专场", "越剧艺术漫谈", "送书下乡少儿读物"])
    await tablet.select_option("select[name=booth]", "A01")
    await expect(titles).to_have_count(2)
    scanner = await screens.browser.new_context(viewport=TABLET)  # a tablet signed in already scans a booth's code
    hall = screens.hall
    await scanner.add_cookies([{"name": "fair_session", "value": hall.token("centre"), "url": hall.url}])
    booth_code = await scanner.new_page()
    await booth_code.goto(hall.url + "/tablet#booth=E01")
    await connected(booth_code)
    await expect(booth_code.locator("#offering-list .offering h3")).to_have_text(["送书下乡少儿读物"])


@pytest.mark.parametrize("viewport", [BOARD, {"width": 360, "height": 740}], ids=["projector", "phone"])
async def test_the_board_fits_a_projector_and_a_phone(screens: Screens, viewport):
    g = screens.hall.ground
    for _ in range(12):
        await g.order(g.centre, g.bookseller, g.books, quantity=5)
    board = await screens.open("/board", viewport=viewport)
    await connected(board)
    await expect(board.locator("#books strong")).to_have_text("60")
    wide = await board.evaluate("document.documentElement.scrollWidth")
    assert wide <= viewport["width"], f"the board scrolls sideways: {wide} px in {viewport['width']}"
    if viewport is BOARD:  # the wall shows everything at once, whole ticker rows only
        assert await board.evaluate("document.documentElement.scrollHeight") <= BOARD["height"]
        ticker = board.locator("#ticker")
        assert await ticker.evaluate("(list) => list.scrollHeight <= list.clientHeight")
        size = await board.locator(".district-table tbody th").first.evaluate(
            "(cell) => getComputedStyle(cell).fontSize"
        )
        assert float(size.removesuffix("px")) >= 36
    else:  # a phone: the three figures first
        first = await board.locator("main > *:not([hidden])").first.get_attribute("class")
        assert "headline" in first
    await shoot(board, f"board-{viewport['width']}")


SMALLEST_TEXT = """() => {
  // The smallest font size of any text a viewer can see on the page, and where it is.
  let smallest = Infinity, where = "";
  for (const node of document.querySelectorAll("body *")) {
    if (!node.checkVisibility({ visibilityProperty: true }) || !node.getClientRects().length) continue;
    const own = [...node.childNodes].some((child) => child.nodeType === 3 && child.textContent.trim());
    const drawn = getComputedStyle(node, "::before").content;
    if (!own && !(drawn && drawn !== "none" && drawn !== "normal")) continue;
    const size = parseFloat(getComputedStyle(node).fontSize);
    if (size < smallest) [smallest, where] = [size, node.outerHTML.slice(0, 120)];
  }
  return [smallest, where];
}"""


async def a_long_day_on_the_board(g) -> None:
    """An announcement written before board announcements had a limit (200 characters, as the console then took),
    and orders whose titles run long beside amounts in the thousands."""
    long_title = ("送书下乡少儿读物与经典绘本精选套装" * 8)[:120]
    offering = await g._offering(
        g.bookseller,
        {"category": "books", "title": long_title, "unit": "册", "unit_price_fen": 13_600, "capacity": 100_000},
    )
    await g.order(g.centre, g.bookseller, offering, quantity=500)  # ¥68,000: the amount the ticker cut to "¥6,8…"
    await g.order(g.library, g.troupe, g.lecture, quantity=2)
    await g.order(g.centre, g.bookseller, offering, quantity=50)
    await g.do(g.organiser, "announcement.send", {"audience": "everyone", "text": "签约区已开放", "on_board": True})

    def legacy(connection) -> None:
        text = ("各采购团请注意：下午两点起在三号厅集中签约，请携带单位公章和采购计划，" * 6)[:200]
        connection.execute(
            insert(Announcement).values(
                fair_id=g.fair_id,
                audience="everyone",
                district="",
                text=text,
                on_board=True,
                created_at=dt.datetime.now(dt.UTC),
            )
        )

    await g.db.transact(legacy)


@pytest.mark.parametrize("viewport", [BOARD, {"width": 360, "height": 740}], ids=["projector", "phone"])
async def test_a_long_announcement_and_long_titles_never_push_the_board_off_its_screen(screens: Screens, viewport):
    g = screens.hall.ground
    await a_long_day_on_the_board(g)
    board = await screens.open("/board", viewport=viewport)
    await connected(board)
    banner = board.locator("#announcements .latest")
    await expect(banner).to_contain_text("各采购团请注意")
    await expect(board.locator("#ticker li")).not_to_have_count(0)
    await shoot(board, f"board-long-announcement-{viewport['width']}")
    width, height = viewport["width"], viewport["height"]
    assert await board.evaluate("document.documentElement.scrollWidth") <= width, "the board scrolls sideways"
    shelf = await board.locator("#announcements").bounding_box()
    assert shelf["height"] <= (130 if viewport is BOARD else 110), f"the banner grew to {shelf['height']} px"
    if viewport is BOARD:  # a wall that cannot scroll: every district on it
        assert await board.evaluate("document.documentElement.scrollHeight") <= height
        await expect(board.locator(".district-table tbody tr")).to_have_count(13)
        # In one read: the table is drawn again when the coverage targets arrive.
        rows, panel = await board.evaluate(
            """() => [
              [...document.querySelectorAll(".district-table tbody tr")].map((tr) => tr.getBoundingClientRect().bottom),
              document.querySelector(".districts").getBoundingClientRect().bottom,
            ]"""
        )
        assert len(rows) == 13 and panel <= height, f"the districts' panel ends at {panel} px"
        assert max(rows) <= panel, f"district rows end at {max(rows)} px, past their panel's {panel} px"
    else:  # a phone: the three headline figures on the first screen
        box = await board.locator(".headline").bounding_box()
        assert box["y"] + box["height"] <= height, "the headline figures are pushed below the first screen"
        await board.screenshot(path=ARTIFACTS / "board-long-announcement-360-whole.png", full_page=True)
    rows = board.locator("#ticker li")
    for index in range(await rows.count()):
        amount = rows.nth(index).locator(".amount")
        await expect(amount).to_be_visible()
        assert await amount.evaluate("(node) => node.scrollWidth <= node.clientWidth"), "an amount is cut"
    row = rows.filter(has_text="¥6.8万").first
    await expect(row.locator(".amount")).to_have_text("¥6.8万")
    title = row.locator(".what")
    assert await title.evaluate("(node) => node.scrollWidth > node.clientWidth"), "the long title is not truncated"
    smallest, where = await board.evaluate(SMALLEST_TEXT)
    floor = 24 if viewport is BOARD else 14
    assert smallest >= floor, f"text of {smallest} px on the board: {where}"


async def test_a_tablet_puts_an_announcement_away_once_read_and_the_board_keeps_it(screens: Screens):
    g = screens.hall.ground
    sent = {"audience": "everyone", "text": "签约区已开放", "on_board": True}
    await g.do(g.organiser, "announcement.send", sent)
    tablet = await screens.join("library", viewport=TABLET)
    board = await screens.open("/board", viewport=BOARD)
    for page in (tablet, board):
        await connected(page)
    shelf = tablet.locator("#announcements")
    await expect(shelf.locator(".latest")).to_contain_text("签约区已开放")
    await expect(board.locator("#announcements .latest")).to_contain_text("签约区已开放")
    await expect(board.locator("#announcements button")).to_have_count(0)  # the wall has nobody to tap
    await shoot(tablet, "tablet-announcement")
    await shelf.get_by_role("button", name="知道了").click()
    await expect(shelf.locator(".latest")).to_have_count(0)
    await expect(shelf.locator("summary")).to_have_text("更早的 1 条")  # still there, one tap away
    await tablet.reload()
    await connected(tablet)
    await expect(shelf.locator("summary")).to_have_text("更早的 1 条")  # remembered on this tablet
    await expect(shelf.locator(".latest")).to_have_count(0)
    await g.do(g.organiser, "announcement.send", {"audience": "teams", "text": "三号厅午餐已备好"})
    await expect(shelf.locator(".latest")).to_contain_text("三号厅午餐已备好")  # a new one shows again
    await expect(board.locator("#announcements .latest")).to_contain_text("签约区已开放")  # the board shows on


async def test_the_replay_banner_reads_from_the_back_of_the_hall(screens: Screens):
    g = screens.hall.ground
    await g.order(g.library, g.troupe, g.lecture, quantity=2)
    board = await screens.open("/board?replay=1000", viewport=BOARD)
    replay = board.locator("#replay")
    await expect(replay).to_have_attribute("data-done", "1", timeout=15_000)
    await shoot(board, "board-replay-1920")
    size = await replay.evaluate("(node) => parseFloat(getComputedStyle(node).fontSize)")
    assert size >= 32, f"the replay banner is {size} px"
    smallest, where = await board.evaluate(SMALLEST_TEXT)
    assert smallest >= 24, f"text of {smallest} px on the board: {where}"
    assert await board.evaluate("document.documentElement.scrollHeight") <= BOARD["height"]


async def test_a_team_and_a_booth_tick_what_they_look_for_and_do_best_and_both_see_a_mutual_fit(screens: Screens):
    tablet = await screens.join("library", viewport=TABLET)
    await connected(tablet)
    await tablet.locator("[data-tab=for-you]").click()
    await tablet.locator("#interests summary").click()
    await tablet.locator("#interests").get_by_label("图书").check()
    await tablet.locator("#interests").get_by_label("少儿", exact=True).check()
    await tablet.locator("#interests input[name=themes]").fill("梁祝、 非遗")
    await tablet.locator("#interests").get_by_label(re.compile("4月8日")).check()  # one of the show's days
    await tablet.locator("#interests").get_by_role("button", name="保存").click()
    await expect(tablet.locator("#toasts")).to_contain_text("已保存：推荐会考虑这些。")
    books = tablet.locator("#recommendation-list .offering", has_text="送书下乡少儿读物")
    await expect(books.locator(".reasons")).to_contain_text("贵团正在寻找")
    show = tablet.locator("#recommendation-list .offering", has_text="越剧《梁祝》专场")
    await expect(show.locator(".reasons")).to_contain_text("与“梁祝”有关，正是贵团所寻")
    booth = await screens.join("bookseller", viewport=TABLET)
    await connected(booth)
    await booth.locator('[data-tab="teams"]').click()
    await booth.locator("#interests summary").click()
    await booth.locator("#interests").get_by_label("图书").check()
    await booth.locator("#interests").get_by_role("button", name="保存").click()
    card = booth.locator("#team-list .card", has_text="玄武区图书馆")
    await expect(card.locator(".badge.mutual")).to_have_text("双向匹配")
    await expect(card.locator(".reasons")).to_contain_text("双向匹配：该团正在寻找图书，正是本展位所长")
    await shoot(booth, "booth-mutual-fit")
    await tablet.locator("[data-tab=offerings]").click()
    await tablet.locator("[data-tab=for-you]").click()  # read again
    await expect(books.locator(".badge.mutual")).to_have_text("双向匹配")
    await tablet.locator("#interests summary").click()
    await expect(tablet.locator("#interests").get_by_label("图书")).to_be_checked()  # what it said, kept
    await expect(tablet.locator("#interests input[name=themes]")).to_have_value("梁祝、非遗")
    await expect(tablet.locator("#interests").get_by_label(re.compile("4月8日"))).to_be_checked()
    await shoot(tablet, "tablet-interests")
    # On a phone-sized screen, the form open, a card set aside: nothing scrolls sideways.
    phone = await screens.join("library", viewport={"width": 360, "height": 740})
    await connected(phone)
    await phone.locator("[data-tab=for-you]").click()
    await phone.locator("#recommendation-list .offering").first.get_by_role("button", name="稍后再看").click()
    await expect(phone.locator("#set-aside summary")).to_have_text("已搁置（1）")
    await phone.locator("#set-aside summary").click()
    await phone.locator("#interests summary").click()
    await expect(phone.locator("#interests").get_by_label("图书")).to_be_checked()
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 360
    await shoot(phone, "tablet-interests-360")


async def test_a_booth_and_a_team_are_offered_only_the_times_the_team_is_free(screens: Screens):
    g = screens.hall.ground
    await g.do(g.troupe, "slot.publish", {"starts": "10:00", "ends": "11:00", "minutes": 20})
    (books_at_ten, _, _) = (
        await g.do(g.bookseller, "slot.publish", {"starts": "10:00", "ends": "11:00", "minutes": 20})
    )["slots"]
    await g.do(g.library, "appointment.book", {"slot_id": books_at_ten["id"]})  # the library is at the books at 10:00
    booth = await screens.join("troupe", viewport=TABLET)
    await connected(booth)
    await booth.locator('[data-tab="teams"]').click()
    await booth.locator("#team-list .card", has_text="玄武区图书馆").get_by_role("button", name="邀请洽谈").click()
    dialog = booth.locator("dialog")
    await expect(dialog.locator("h2")).to_have_text("邀请 玄武区图书馆 洽谈")
    await expect(dialog.locator(".slot")).to_have_count(2)  # 10:20 and 10:40; not 10:00
    await expect(dialog.locator(".slot").first).to_contain_text("10:20")
    await shoot(booth, "booth-invite-free-times")
    await dialog.locator(".slot").first.click()
    await expect(booth.locator("#toasts")).to_contain_text("邀请已发出")
    tablet = await screens.join("library", viewport=TABLET)
    await connected(tablet)
    await tablet.locator("[data-tab=offerings]").click()
    await tablet.locator(".offering", has_text="越剧艺术漫谈").get_by_role("button", name="预约洽谈").click()
    # 10:00 it is at the books, 10:20 the troupe holds for it (an invitation): 10:40 is the one free slot left.
    await expect(tablet.locator("dialog .slot")).to_have_count(1)
    await expect(tablet.locator("dialog .slot")).to_contain_text("10:40")


async def test_a_booth_on_a_phone_sees_a_team_with_the_longest_name_and_invites_it_without_sideways_scroll(
    screens: Screens,
):
    g = screens.hall.ground
    name = "玄武区" + "锁金村街道文化站与社区图书馆联合采购团" * 6  # 117 characters: near the 120 a name may hold
    await g._team(name[:120], "community", "玄武区", 300_000)
    await g.do(g.troupe, "slot.publish", {"starts": "10:00", "ends": "11:00", "minutes": 20})
    phone = await screens.join("troupe", viewport={"width": 360, "height": 740})
    await connected(phone)
    await phone.locator('[data-tab="teams"]').click()
    card = phone.locator("#team-list .card", has_text=name[:20])
    await expect(card).to_be_visible()
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 360
    await card.get_by_role("button", name="邀请洽谈").click()
    await expect(phone.locator("dialog .slot")).to_have_count(3)
    box = await phone.locator("dialog").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360, box
    await shoot(phone, "booth-invite-long-name-360")


async def test_a_booth_says_the_seats_a_show_needs_and_a_team_with_a_smaller_hall_is_told_why_it_ranks_lower(
    screens: Screens,
):
    booth = await screens.join("troupe", viewport=TABLET)
    await connected(booth)
    await booth.locator("[data-tab=mine]").click()
    await booth.locator(".offering", has_text="越剧《梁祝》专场").get_by_role("button", name="编辑", exact=True).click()
    dialog = booth.locator("dialog")
    await dialog.locator("input[name=min_seats]").fill("三百")
    await dialog.get_by_role("button", name="保存").click()
    await expect(dialog.locator(".notice.error")).to_contain_text("所需座位数")  # a word is no number: said, kept
    await dialog.locator("input[name=min_seats]").fill("300")
    await dialog.get_by_role("button", name="保存").click()
    await expect(dialog).to_have_count(0)
    await expect(booth.locator(".offering", has_text="越剧《梁祝》专场")).to_contain_text("需 300 座以上场地")
    tablet = await screens.join("library", viewport=TABLET)
    await connected(tablet)
    await tablet.locator("[data-tab=for-you]").click()
    await tablet.locator("#interests summary").click()
    await tablet.locator("#interests input[name=venue_seats]").fill("200")
    await tablet.locator("#interests").get_by_role("button", name="保存").click()
    show = tablet.locator("#recommendation-list .offering", has_text="越剧《梁祝》专场")
    await expect(show).to_contain_text("需 300 座以上场地")
    await expect(show.locator(".reasons .against")).to_contain_text("需 300 座场地，贵团最大场地仅 200 座")
    await shoot(tablet, "tablet-venue-too-small")


async def test_a_waiting_tablet_sees_about_how_long_and_its_turn_come_live(screens: Screens):
    g = screens.hall.ground
    booth = g.troupe.party_id
    for team in (g.centre, g.library):
        await g.do(team, "queue.join", {"supplier_id": booth})
    await g.do(g.troupe, "queue.next")  # the centre called
    await g.do(g.troupe, "queue.next")  # the centre served, the library called

    def six_minutes(connection) -> None:  # the centre's meeting as the day had it: called at noon, served at 12:06
        noon = dt.datetime(2023, 3, 29, 4, 0, tzinfo=dt.UTC)
        connection.execute(
            update(QueueTicket)
            .where(QueueTicket.team_id == g.centre.party_id)
            .values(called_at=noon, ended_at=noon + dt.timedelta(minutes=6))
        )

    await g.db.transact(six_minutes)
    tablet = await screens.join("community", viewport=TABLET)
    await connected(tablet)
    await g.do(g.community, "queue.join", {"supplier_id": booth})  # from another tablet of the team
    ticket = tablet.locator("#tickets .ticket")
    await expect(ticket).to_contain_text("下一个就是您")  # nobody waits ahead; the booth is with the library
    await expect(ticket.locator(".wait")).to_have_text("约 6 分钟")  # one team being served, 6 minutes a team
    await g.do(g.troupe, "queue.next")  # the library served: the community's turn
    await expect(ticket).to_contain_text("轮到您了，请立即前往 A01 金陵越剧团")
    await expect(ticket.locator(".wait")).to_have_count(0)


async def test_districts_behind_the_coverage_targets_show_on_the_board_the_console_and_the_city_tablet(
    screens: Screens,
):
    g = screens.hall.ground
    await g.confirm("phone")
    wish = {"district": "玄武区", "street": "玄武门街道", "category": "lecture", "audience": "老年人"}
    made = (await g.do(g.resident("phone"), "wish.submit", wish | {"text": "想听讲座"}))["wish"]
    board = await screens.open("/board", viewport=BOARD)
    await connected(board)
    await expect(board.locator(".district-table tbody tr")).not_to_have_count(0)
    await expect(board.locator(".behind-mark")).to_have_count(0)  # a wish waiting for review counts for nothing
    await g.do(g.organiser, "wish.moderate", {"wish_id": made["id"], "decision": "approve"})
    row = board.locator(".district-table tbody tr", has_text="玄武区")
    # 0 of 1 street reached, 0 of 1 wish answered: marked on approval, no order needed to move the board
    await expect(row.locator(".behind-mark .words")).to_have_text("未达标")
    await expect(board.locator(".behind-mark")).to_have_count(1)
    await shoot(board, "board-behind-target")
    assert await board.evaluate("document.documentElement.scrollHeight") <= BOARD["height"]
    for district in ("秦淮区", "建邺区", "鼓楼区", "浦口区", "栖霞区", "雨花台区", "江宁区", "六合区", "溧水区"):
        phone = Actor.resident(g.fair_id, f"phone-in-{district}")
        other = (await g.do(phone, "wish.submit", wish | {"district": district, "text": "想听讲座"}))["wish"]
        await g.do(g.organiser, "wish.moderate", {"wish_id": other["id"], "decision": "approve"})
    await g.order(g.centre, g.bookseller, g.books, quantity=5)  # the figures move: the board reads the targets again
    await expect(board.locator(".behind-mark")).to_have_count(10)  # ten districts behind still fit the wall
    assert await board.evaluate("document.documentElement.scrollHeight") <= BOARD["height"]
    assert await board.evaluate("document.documentElement.scrollWidth") <= BOARD["width"]
    await shoot(board, "board-ten-behind")
    phone = await screens.open("/board", viewport={"width": 360, "height": 740})
    await connected(phone)
    await expect(phone.locator(".behind-mark")).to_have_count(10)
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 360
    await shoot(phone, "board-ten-behind-360")
    tablet = await screens.join("centre", viewport=TABLET)
    await connected(tablet)
    await tablet.locator("[data-tab=for-you]").click()
    ten = "玄武区、秦淮区、建邺区、鼓楼区、浦口区、栖霞区、雨花台区、江宁区、六合区、溧水区"
    await expect(tablet.locator("#districts-behind")).to_have_text(f"未达覆盖目标、可优先为其采购的区：{ten}")
    console = await screens.organiser()
    await console.locator('[data-tab="coverage-tab"]').click()
    await expect(console.locator("#districts-behind")).to_have_text(f"未达目标：{ten}")
    await shoot(console, "console-coverage-targets")
    # The library answers the wish: the street is reached and the wish answered; the board's mark goes.
    await g.order(g.library, g.troupe, g.lecture, wish_id=made["id"])
    await expect(board.locator(".district-table tbody tr", has_text="玄武区").locator(".behind-mark")).to_have_count(0)
    await console.locator('[data-tab="coverage-tab"]').click()
    await expect(console.locator("#districts-behind")).not_to_contain_text("玄武区")


async def test_a_negotiation_is_a_thread_on_both_screens(screens: Screens):
    """Every version of the terms with its author and time, and the two sides' messages, live on both."""
    g = screens.hall.ground
    negotiation = await g.propose(g.library, g.lecture, quantity=2, message="周末下午")
    tablet, booth = await screens.join("library"), await screens.join("troupe")
    for page in (tablet, booth):
        await connected(page)
    await tablet.locator("[data-tab=negotiations]").click()
    mine = tablet.locator(".negotiation", has_text="越剧艺术漫谈")
    theirs = booth.locator(".negotiation", has_text="玄武区图书馆")
    await theirs.locator(".thread summary").click()
    await theirs.locator("input[name=say]").fill("周六可以吗？")
    await theirs.locator(".say button").click()
    await g.do(
        g.troupe,
        "negotiation.counter",
        {"negotiation_id": negotiation["id"], "base_version": 1, "terms": {"quantity": 2, "unit_price_fen": 48_000}},
    )
    await mine.locator(".thread summary").click()
    await expect(mine.locator(".thread summary")).to_contain_text("3")
    await mine.locator("input[name=say]").fill("可以")
    await mine.locator("input[name=say]").press("Enter")
    for thread in (mine.locator(".thread"), theirs.locator(".thread")):
        await expect(thread.locator("li")).to_have_count(4)  # two versions, two messages, in the order they came
        await expect(thread.locator("li.version")).to_have_count(2)
        await expect(thread.locator("li.said")).to_have_text([re.compile("周六可以吗？"), re.compile("可以$")])
    await shoot(tablet, "tablet-thread")
    from fair.core import Actor

    await assert_the_page_holds_the_servers_view(screens.hall, tablet, g.library)
    await assert_the_page_holds_the_servers_view(screens.hall, booth, Actor.supplier(g.fair_id, g.troupe.party_id))


async def test_a_thread_opened_or_closed_just_as_events_redraw_the_card_stays_so(screens: Screens):
    """A tap on "Conversation" and redraws in the same moment: the thread is as the buyer left it, open or closed."""
    g = screens.hall.ground
    await g.propose(g.library, g.lecture, quantity=2)
    tablet = await screens.join("library")
    await connected(tablet)
    await tablet.locator("[data-tab=negotiations]").click()
    # The click toggles the card now; its toggle event comes a task later, after this redraw replaced the card.
    tap_and_redraw = """() => {
        document.querySelector(".negotiation .thread summary").click();
        document.getElementById("filters").dispatchEvent(new Event("input"));
    }"""
    await tablet.evaluate(tap_and_redraw)
    await expect(tablet.locator(".negotiation .thread")).to_have_attribute("open", "")
    await expect(tablet.locator(".negotiation input[name=say]")).to_be_visible()
    await tablet.locator("#filters").dispatch_event("input")  # and later redraws keep it open
    await expect(tablet.locator(".negotiation input[name=say]")).to_be_visible()
    await tablet.evaluate(tap_and_redraw)  # closed the same way, it stays closed
    await expect(tablet.locator(".negotiation .thread")).not_to_have_attribute("open", "")
    await tablet.locator("#filters").dispatch_event("input")
    await expect(tablet.locator(".negotiation input[name=say]")).to_be_hidden()
    await tablet.evaluate(tap_and_redraw)  # open again; then two redraws and a tap to close, in one task:
    await expect(tablet.locator(".negotiation input[name=say]")).to_be_visible()
    await tablet.evaluate(
        """() => {
            const filters = document.getElementById("filters");
            filters.dispatchEvent(new Event("input"));  // a card built open, replaced before its own toggle
            filters.dispatchEvent(new Event("input"));
            document.querySelector(".negotiation .thread summary").click();
        }"""
    )
    await tablet.locator("#filters").dispatch_event("input")
    await expect(tablet.locator(".negotiation input[name=say]")).to_be_hidden()


async def test_a_reload_without_network_opens_the_screen_with_its_pending_actions(screens: Screens):
    """The service worker kept the page and its files: no browser error page in a hall whose Wi-Fi dropped."""
    g = screens.hall.ground
    negotiation = await g.propose(g.library, g.books, quantity=10)
    await g.do(
        g.bookseller,
        "negotiation.counter",
        {"negotiation_id": negotiation["id"], "base_version": 1, "terms": {"quantity": 10, "unit_price_fen": 2_800}},
    )
    tablet = await screens.join("library")
    await connected(tablet)
    await tablet.evaluate("navigator.serviceWorker.ready")  # installed, and keeping what the page loads from now on
    await tablet.reload()
    await connected(tablet)
    await tablet.context.set_offline(True)
    await tablet.locator("[data-tab=negotiations]").click()
    await tablet.locator(".negotiation").get_by_role("button", name="接受并确认成交").click()
    await tablet.reload()  # no network: the page comes from the service worker's cache
    await expect(tablet.locator("#connection")).to_have_attribute("data-state", "offline")
    await expect(tablet.locator("#pending")).to_contain_text("接受：送书下乡少儿读物")
    await shoot(tablet, "tablet-offline-reload")
    await tablet.context.set_offline(False)
    await connected(tablet)
    await expect(tablet.locator("#pending")).to_be_hidden()
    orders = (await g.state())["purchase_order"]
    assert len(orders) == 1
