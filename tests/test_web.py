"""The read-only HTTP JSON, under the same permissions as the sockets."""

from __future__ import annotations

import json
import re

import httpx

from fair.models import AUDIENCES, CATEGORY_UNITS, CITY, DISTRICTS, UNITS, Category, TeamKind
from tests.conftest import ORGANISER_PASSWORD, Hall


async def test_each_caller_reads_its_own_state(hall: Hall):
    g = hall.ground
    await g.propose(g.centre, g.lecture, message="给剧团")
    async with httpx.AsyncClient(base_url=hall.url) as http:
        public = (await http.get("/api/view")).json()
        assert public["role"] == "public" and "negotiations" not in public and "offerings" not in public
        offerings = (await http.get("/api/offerings")).json()
        assert [o["id"] for o in offerings] == [g.show, g.lecture, g.books]

        def bearer(token: str) -> dict:
            return {"authorization": f"Bearer {token}"}

        centre = (await http.get("/api/view", headers=bearer(hall.token("centre")))).json()
        assert centre["me"]["name"] == "南京市文化馆" and [n["terms"]["message"] for n in centre["negotiations"]] == [
            "给剧团"
        ]
        library = (await http.get("/api/view", headers=bearer(hall.token("library")))).json()
        assert library["negotiations"] == [] and library["me"]["budget"]["budget_fen"] == 500_000
        assert "budget" not in str([o for o in library["offerings"]])
        booth = (await http.get("/api/view", headers=bearer(hall.token("troupe")))).json()
        assert booth["me"]["booth"] == "A01" and len(booth["negotiations"]) == 1

        forged = await http.get("/api/view", headers=bearer("not-a-token"))
        assert forged.status_code == 403 and forged.json()["error"]["code"] == "forbidden"


async def test_the_organiser_signs_in_with_a_password(hall: Hall):
    async with httpx.AsyncClient(base_url=hall.url) as http:
        wrong = await http.post("/api/login", json={"username": "organiser", "password": "guess"})
        assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "forbidden"
        nobody = await http.post("/api/login", json={"username": "nobody", "password": ORGANISER_PASSWORD})
        assert nobody.status_code == 403
        garbage = await http.post("/api/login", content=b"{not json")
        assert garbage.status_code == 400
        right = await http.post("/api/login", json={"username": "organiser", "password": ORGANISER_PASSWORD})
        token = right.json()["data"]["token"]
        register = (await http.get("/api/view", headers={"authorization": f"Bearer {token}"})).json()
        assert register["role"] == "organiser" and len(register["teams"]) == 3 and len(register["credentials"]) == 6


async def test_every_page_carries_the_fair_s_words_as_the_server_has_them(hall: Hall):
    """The screens build their forms and tables from the vocabulary in the page, not from copies in the scripts."""
    async with httpx.AsyncClient(base_url=hall.url) as http:
        page = (await http.get("/board")).text
    found = re.search(r'<script type="application/json" id="vocabulary">(.*?)</script>', page, re.S)
    assert found is not None, "the board carries no vocabulary"
    assert json.loads(found.group(1)) == {
        "categories": list(Category),
        "districts": [CITY, *DISTRICTS],
        "units": CATEGORY_UNITS,
        "team_kinds": list(TeamKind),
        "audiences": list(AUDIENCES),
    }
    assert set(CATEGORY_UNITS.values()) <= set(UNITS)  # a unit the form fills in is one the core accepts
