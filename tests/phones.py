"""A resident's phone over HTTP, as a person uses it: confirm a number on /phone with the code from the outbox."""

from __future__ import annotations

import re

import httpx

from fair.db import Database
from fair.sms import last_code


def csrf_of(page: httpx.Response) -> str:
    return re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)


async def confirm_number(
    phone: httpx.AsyncClient, db: Database, number: str, page: httpx.Response | None = None
) -> httpx.Response:
    """Follow ``page``'s "confirm my number" link (or open /phone), ask for a code to ``number``, read it where
    the demo's gateway leaves it, and type it back: the answer sends the phone back where it came from."""
    link = re.search(r'id="confirm-phone" href="([^"]+)"', page.text).group(1) if page is not None else "/phone"
    link = link.replace("&amp;", "&")
    form = await phone.get(link)
    sent = await phone.post(link, data={"csrftoken": csrf_of(form), "step": "send", "phone": number})
    assert sent.status_code == 200, sent.text
    code = await last_code(db, number)
    return await phone.post(link, data={"csrftoken": csrf_of(sent), "step": "confirm", "phone": number, "code": code})
