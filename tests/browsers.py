"""Browsers for the screen tests: Debian's Chromium driven by Playwright, one context per device, every page's
JavaScript errors collected so that a test fails on any of them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from fair.settings import ROOT
from tests.conftest import ORGANISER_PASSWORD, Hall

CHROMIUM = "/usr/bin/chromium"
# Chromium as root, headless, and quiet on a machine whose network is closed.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "test-artifacts"
TABLET, BOARD = {"width": 1280, "height": 800}, {"width": 1920, "height": 1080}


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's Chromium is not installed (scripts/test installs it)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        await launched.close()


class Screens:
    """Browser contexts on a hall, each collecting the JavaScript errors of its pages."""

    def __init__(self, hall: Hall, browser: Browser) -> None:
        self.hall, self.browser, self.errors = hall, browser, []

    async def open(self, path: str, *, locale: str = "zh_CN", viewport=TABLET) -> Page:
        context: BrowserContext = await self.browser.new_context(viewport=viewport)
        await context.add_cookies([{"name": "fair_locale", "value": locale, "url": self.hall.url}])
        page = await context.new_page()
        page.on("pageerror", lambda error: self.errors.append(f"{path}: {error}"))
        page.on("console", lambda message: self._console(page, path, message))
        await page.goto(self.hall.url + path)
        return page

    def _console(self, page: Page, path: str, message) -> None:
        # Not the page's errors: the browser's notes that the page itself came with a 403 (a refusal page),
        # or that a websocket failed while a test held the page offline.
        document_status = message.location.get("url") == page.url
        offline = "ERR_INTERNET_DISCONNECTED" in message.text
        if message.type == "error" and not document_status and not offline:
            self.errors.append(f"{path}: {message.text}")

    async def join(self, who: str, **options) -> Page:
        """Scan ``who``'s card: the page asks "Sign in as …?", and the visitor confirms."""
        page = await self.open(f"/join#{self.hall.card(who)}", **options)
        await expect(page.locator("#join-question")).to_be_visible()
        await page.locator("form button[type=submit]").click()
        await page.wait_for_url(re.compile(r"/(tablet|booth|board)$"))
        return page

    async def organiser(self, **options) -> Page:
        page = await self.open("/login", **options)
        await page.fill("input[name=username]", "organiser")
        await page.fill("input[name=password]", ORGANISER_PASSWORD)
        await page.click("button[type=submit]")
        await expect(page.locator("#fair-state")).to_be_visible()
        return page


@pytest.fixture
async def screens(hall: Hall, browser: Browser) -> AsyncIterator[Screens]:
    opened = Screens(hall, browser)
    yield opened
    assert opened.errors == [], f"a page logged a JavaScript error: {opened.errors}"


async def shoot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / f"{name}.png")


async def connected(page: Page) -> None:
    await expect(page.locator("#connection")).to_have_attribute("data-state", "online")
