"""The residents' screens in a real browser: a phone of 360 px confirms its number, scans the code shown at the
event on a projector and rates it; a second phone takes the last seat and a third waits in line for it."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from fair.core import Actor
from fair.sms import last_code
from tests.browsers import BOARD, Screens, shoot
from tests.test_resident_ratings import a_delivery

pytestmark = pytest.mark.browser
PHONE = {"width": 360, "height": 740}


async def confirm_on_the_phone(page: Page, screens: Screens, number: str, *, link: bool = True) -> None:
    """Tap "confirm my number" (unless already on /phone), type it, read the code where the demo's gateway leaves
    it, type that."""
    if link:
        await page.locator("#confirm-phone").click()
    await page.fill("input[name=phone]", number)
    await page.locator("#send-form button").click()
    await expect(page.locator("#confirm-form")).to_be_visible()
    await no_sideways_scroll(page)
    await shoot(page, "phone-code-sent-360")
    await page.fill("input[name=code]", await last_code(screens.hall.ground.db, number.replace(" ", "")))
    await page.locator("#confirm-form button").click()


async def no_sideways_scroll(page: Page) -> None:
    assert await page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


async def test_a_resident_at_the_event_scans_the_code_on_the_screen_and_rates_it(screens: Screens):
    g = screens.hall.ground
    delivery = await a_delivery(g, begun=True)
    venue = f"/venue/{screens.hall.tokens.venue_link(delivery)}"

    # The venue's contact puts the code on the screen at the door: big enough for the back of the hall.
    projector = await screens.open(f"{venue}/code", viewport=BOARD)
    code = re.sub(r"\D", "", await projector.locator("#presence-code").inner_text())
    assert len(code) == 6
    size = await projector.locator("#presence-code").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 100
    await shoot(projector, "presence-code-1920")
    box = await projector.locator(".presence-qr svg").bounding_box()
    assert box["y"] + box["height"] <= BOARD["height"]  # the QR code fits the projector without scrolling
    narrow = await screens.open(f"{venue}/code", viewport=PHONE)
    await no_sideways_scroll(narrow)
    await shoot(narrow, "presence-code-360")
    await expect(projector.locator(".presence-qr svg")).to_be_visible()

    # A resident's phone scans it (the QR code's link carries the code), confirms the number, and rates.
    phone = await screens.open(f"/rate/{screens.hall.tokens.rating_link(delivery)}?code={code}", viewport=PHONE)
    await expect(phone.locator("#confirm-phone")).to_be_visible()
    await expect(phone.locator("input[name=rating]")).to_have_count(0)  # the number first
    await shoot(phone, "rate-unconfirmed-360")
    await confirm_on_the_phone(phone, screens, "138 0013 8000")
    await expect(phone.locator("input[name=code]")).to_have_value(code)  # back, with the scanned code
    await no_sideways_scroll(phone)
    await phone.locator("input[name=rating][value='4']").check()
    await phone.fill("input[name=comment]", "好" * 200)  # the longest comment it takes
    await phone.locator("form.rate-form button[type=submit]").click()
    await expect(phone.locator("#rate-done")).to_contain_text("谢谢")
    await expect(phone.locator("#my-rating")).to_have_text("您的评价：★★★★")
    await no_sideways_scroll(phone)
    await shoot(phone, "rate-done-360")

    # A stranger's phone with the link and a made-up code: refused, nothing counted.
    stranger = await screens.open(f"/rate/{screens.hall.tokens.rating_link(delivery)}", viewport=PHONE)
    await confirm_on_the_phone(stranger, screens, "13900001111")
    wrong = f"{(int(code) + 500) % 10**6:06d}"
    await stranger.fill("input[name=code]", wrong)
    await stranger.locator("form.rate-form button[type=submit]").click()
    await expect(stranger.locator("#rate-error")).to_contain_text("现场当前显示的验证码")
    await shoot(stranger, "rate-wrong-code-360")

    # The organiser sees one rating, proven, waiting to be read; the residents' page counts it and the refusal.
    console = await screens.organiser()
    await console.goto(screens.hall.url + "/console/residents")
    await expect(console.locator("#residents-count")).to_have_text("2")
    await expect(console.locator("#ratings-count")).to_contain_text("1")
    await expect(console.locator("#refusals")).to_contain_text("no_proof")
    await expect(console.locator("#outbox")).to_contain_text("13800138000")
    await shoot(console, "console-residents")


async def test_the_last_seat_and_the_waiting_list_on_two_phones(screens: Screens):
    g = screens.hall.ground
    delivery = await a_delivery(g, begun=False)
    await g.do(g.library, "delivery.open_signup", {"delivery_id": delivery, "seats": 1})
    first = await screens.open(f"/events/{delivery}", viewport=PHONE)
    await confirm_on_the_phone(first, screens, "13700000001")
    await first.fill("input[name=name]", "李" * 30)  # the longest name it takes
    await first.get_by_role("button", name="报名", exact=True).click()
    await expect(first.locator("#my-seat")).to_have_text("您已报名。")
    await no_sideways_scroll(first)
    second = await screens.open(f"/events/{delivery}", viewport=PHONE)  # another phone, another browser
    await confirm_on_the_phone(second, screens, "13700000002")
    await expect(second.locator("#seats-left")).to_contain_text("剩 0 个")
    await second.get_by_role("button", name="加入候补").click()
    await expect(second.locator("#my-seat")).to_have_text("您在候补名单第 1 位。")
    await shoot(second, "event-waiting-360")
    await expect(second.locator("#connection")).to_have_attribute("data-state", "online")
    await first.get_by_role("button", name="取消报名").click()
    # Live, untouched: the seat given back went to the first in line, and the waiting phone's page says so.
    await expect(second.locator("#my-seat")).to_have_text("您已报名。")
    await expect(second.locator("#seats-left")).to_contain_text("剩 0 个")
    await shoot(second, "event-seated-360")


async def test_the_organiser_sees_a_burst_of_the_same_words_or_from_one_sender_grouped(screens: Screens):
    g = screens.hall.ground
    wish = {"district": "玄武区", "street": "玄武门街道", "category": "lecture", "audience": "老年人"}
    sent = [("burst-0", "想看越剧")]
    same_words = ["希望社区有养生讲座！", "希望社区有 养生讲座 🙏", "希望社区有养生讲座。"]
    sent += [(f"burst-{n}", text) for n, text in enumerate(same_words, 1)]
    sent += [("burst-0", "周末有亲子阅读吗"), ("burst-0", "想学书法")]  # one phone again, in other words
    for phone, text in sent:
        await g.do(Actor.resident(g.fair_id, phone), "wish.submit", wish | {"text": text})
    console = await screens.organiser(viewport={"width": 1440, "height": 900})
    await console.locator("[data-tab=wish-review]").click()
    rows = console.locator("#wish-queue table").first.locator("tbody tr")
    await expect(rows).to_have_count(6)
    # One phone's three wishes first, together though their words differ; then the three of the same words.
    order = [await rows.nth(n).get_attribute("data-wish") for n in range(6)]
    assert order == ["1", "5", "6", "2", "3", "4"]
    await expect(rows.nth(0).locator(".same-sender")).to_have_text("与 #5 #6 为同一发送者（30 分钟内）")
    await expect(rows.nth(0).locator(".same-words")).to_have_count(0)
    await expect(rows.nth(3).locator(".same-words")).to_have_text("与 #3 #4 文字相同")
    await expect(rows.nth(3).locator(".same-sender")).to_have_count(0)  # three phones, not one
    await expect(rows.nth(5).locator(".same-words")).to_have_text("与 #2 #3 文字相同")
    await shoot(console, "console-wishes-alike")


async def test_a_phone_supports_a_wish_once_it_has_confirmed_its_number(screens: Screens):
    g = screens.hall.ground
    wish = {
        "district": "玄武区",
        "street": "玄武门街道",
        "category": "lecture",
        "audience": "老年人",
        "text": "想听养生讲座",
    }
    made = (await g.do(Actor.resident(g.fair_id, "author"), "wish.submit", wish))["wish"]
    await g.do(g.organiser, "wish.moderate", {"wish_id": made["id"], "decision": "approve"})
    phone = await screens.open("/wishes", viewport=PHONE)
    await expect(phone.locator("#connection")).to_have_attribute("data-state", "online")
    await expect(phone.locator("#confirm-banner")).to_be_visible()
    await no_sideways_scroll(phone)
    await shoot(phone, "wishes-unconfirmed-360")
    card = phone.locator(".wish", has_text="想听养生讲座")
    await expect(card.locator(".supports")).to_have_text("0 人支持")  # the author gave no number: nobody yet
    await card.get_by_role("button", name="支持这条需求").click()  # refused as unconfirmed: off to confirm
    await phone.wait_for_url("**/phone?next=%2Fwishes")
    await confirm_on_the_phone(phone, screens, "13600000001", link=False)
    await phone.wait_for_url("**/wishes")
    await expect(phone.locator("#confirm-banner")).to_be_hidden()
    card = phone.locator(".wish", has_text="想听养生讲座")
    await card.get_by_role("button", name="支持这条需求").click()
    await expect(card.locator(".supports")).to_have_text("1 人支持")
    await expect(card.get_by_role("button", name="支持这条需求")).to_be_disabled()
    await phone.reload()  # read afresh: the person supports it, once
    await expect(
        phone.locator(".wish", has_text="想听养生讲座").get_by_role("button", name="支持这条需求")
    ).to_be_disabled()
