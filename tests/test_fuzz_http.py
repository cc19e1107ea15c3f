"""Generated bad input over HTTP to a real server: every route and form, as every kind of caller.

Paths with generated parameters, query strings, headers, cookies and bodies
(JSON, forms with and without their CSRF token, raw bytes).  Never a 5xx;
a 4xx carries a message (JSON routes a coded error, pages a page saying
why); nothing answered 4xx changed a row.
"""

from __future__ import annotations

import itertools
import json
import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from fair.core import Code
from tests.conftest import open_hall, sqlite
from tests.fuzzing import JSON, TEXT, differences, furnish, fuzz, registers, snapshot


def pct(text: str, safe: str = "") -> str:
    """Percent-encoded as the raw bytes a client may send: lone surrogates too (invalid UTF-8 on the wire)."""
    return quote(text.encode("utf-8", "surrogatepass"), safe=safe)


def urlencoded(fields: dict[str, str]) -> str:
    return "&".join(f"{pct(key)}={pct(value)}" for key, value in fields.items())


HEADER_TEXT = st.one_of(  # what HTTP lets a header carry (httpx refuses the rest): no controls, no outer blanks
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=30).map(
        str.strip
    ),
    st.sampled_from(["zh-CN", "en", "*", "", "zh-CN;q=abc", "en;q=0.5, zh;q=1", ";;;", "x" * 300]),
)
IDS = st.one_of(
    st.integers(0, 6).map(str),
    st.sampled_from(["-1", "1.0", "1e3", " 1", "١", "0x10", "2147483648", "9" * 20, "9" * 5000, "..", "1;2", "null"]),
    TEXT,
)
PAGES = ["/", "/wishes", "/join", "/tablet", "/booth", "/board", "/console", "/console/cards", "/console/booth-codes"]
PAGES += ["/console/report", "/login", "/account/password", "/healthz", "/sw.js", "/export/ocds.json"]
PAGES += ["/phone", "/console/residents"]
READS = ["/api/tally", "/api/replay", "/api/offerings", "/api/view"]
TEMPLATES = [
    "/board/orders",
    "/lang/{}",
    "/export/{}.{}",
    "/events/{}",
    "/rate/{}",
    "/venue/{}",
    "/deliveries/{}/card",
    "/deliveries/{}/photo",
    "/orders/{}/confirmation",
    "/import/{}",
    "/venue/{}/photo",
    "/venue/{}/code",
    "/static/js/{}",
]
FORMS = ["/join", "/login", "/logout", "/account/password", "/events/{}", "/rate/{}", "/venue/{}", "/phone"]
FIELDS = ["code", "card", "confirm", "username", "password", "again", "step", "name", "rating", "comment", "x"]
FIELDS += ["phone", "seats"]
LINKS: list[str] = []  # the furnished fair's delivery links (set when the server starts: they are signed by it)
CALLERS = ("organiser", "centre", "troupe", "projector", "nobody", "forged")


@st.composite
def paths(draw) -> str:
    choice = draw(st.sampled_from(["page", "read", "template", "template", "template", "junk"]))
    if choice == "page":
        return draw(st.sampled_from(PAGES))
    if choice == "read":
        return draw(st.sampled_from(READS))
    if choice == "junk":
        return "/" + pct(draw(TEXT), safe="/")
    template = draw(st.sampled_from(TEMPLATES))
    if template in ("/venue/{}", "/rate/{}", "/venue/{}/photo", "/venue/{}/code") and draw(st.booleans()):
        return template.format(draw(st.sampled_from(LINKS)))  # the delivery's own links, signed
    values = [
        pct(draw(st.one_of(IDS, st.sampled_from(["teams", "suppliers", "offerings", "orders", "csv", "xlsx"]))))
        for _ in range(template.count("{}"))
    ]
    return template.format(*values)


QUERIES = st.dictionaries(
    st.one_of(st.sampled_from(["district", "figure", "next", "card", "preview", "since", "team_id"]), TEXT),
    st.one_of(TEXT, IDS, st.sampled_from(["//evil.example", "http://evil.example", "/\\evil", "玄武区", "1"])),
    max_size=3,
)
STEPS = st.sampled_from(["send", "confirm", "forget", "take", "cancel", "13800138000", "+86 138 0013 8000", "123456"])
FORM_BODIES = st.dictionaries(st.sampled_from(FIELDS), st.one_of(TEXT, IDS, st.just("yes"), STEPS), max_size=5)


@st.composite
def requests(draw) -> dict[str, Any]:
    """One request: method, path, query, who calls (bearer or cookie), and a body of some kind."""
    kind = draw(st.sampled_from(["get", "get", "form", "json", "bytes", "csv"]))
    who = draw(st.sampled_from(CALLERS))
    sent: dict[str, Any] = {"who": who, "as": draw(st.sampled_from(["cookie", "bearer"])), "params": draw(QUERIES)}
    sent["resident"] = draw(st.sampled_from(["phone", "none", "forged"]))  # the wishes page's cookie
    headers = {}
    if draw(st.booleans()):
        headers["accept-language"] = draw(HEADER_TEXT).encode("latin-1")
    sent["headers"] = headers
    if kind == "get":
        sent |= {"method": "GET", "path": draw(paths())}
    elif kind == "form":
        template = draw(st.sampled_from(FORMS))
        value = draw(st.sampled_from(LINKS)) if template in ("/venue/{}", "/rate/{}") and draw(st.booleans()) else None
        path = template.format(value or pct(draw(IDS))) if "{}" in template else template
        sent |= {"method": "POST", "path": path, "form": draw(FORM_BODIES), "csrf": draw(st.booleans())}
    elif kind == "json":
        path = draw(st.sampled_from(["/api/login", "/api/logout", "/import/teams", "/import/offerings"]))
        body = draw(
            st.one_of(st.fixed_dictionaries({"username": JSON, "password": JSON}), JSON).map(
                lambda value: json.dumps(value, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")
            )
        )
        sent |= {"method": "POST", "path": path, "content": body, "type": "application/json"}
    elif kind == "csv":  # a register to import, with the page's CSRF token: every cell is read
        register = draw(registers())
        lines = [register["header"], *register["rows"]]
        body = "\n".join(",".join(str(cell).replace(",", "，").replace("\n", " ") for cell in line) for line in lines)
        path = f"/import/{register['kind']}" + ("?preview=1" if register["preview"] else "")
        sent |= {"method": "POST", "path": path, "type": "text/csv"}
        sent["content"] = body.encode("utf-8", "surrogatepass")
    else:
        path = draw(st.one_of(st.sampled_from(["/api/login", "/import/teams", "/join", "/login"]), paths()))
        types = ["application/json", "text/csv", "application/x-www-form-urlencoded", "multipart/form-data"]
        content_type = draw(st.sampled_from(types))
        sent |= {"method": "POST", "path": path, "content": draw(st.binary(max_size=200)), "type": content_type}
    return sent


_imports = itertools.count(1)


class Callers:
    def __init__(self, hall) -> None:
        self.hall = hall

    async def open(self) -> None:
        hall = self.hall
        self.tokens = {who: hall.token(who) for who in ("centre", "troupe", "projector")}
        self.tokens |= {"organiser": await hall.organiser_token(), "nobody": None, "forged": "d_" + "x" * 43}
        self.residents = {"phone": hall.tokens.new_resident(), "none": None, "forged": "r." + "x" * 40}
        LINKS[:] = [hall.tokens.venue_link(1), hall.tokens.rating_link(1)]
        async with httpx.AsyncClient(base_url=hall.url) as http:
            self.csrf = (await http.get("/login")).cookies["csrftoken"]


@pytest.fixture
async def callers(tmp_path):
    async with open_hall(sqlite(tmp_path)) as hall:
        await furnish(hall.ground)  # a delivery, orders, a wish...: ids and links that name something
        opened = Callers(hall)
        await opened.open()
        opened.state = await snapshot(hall.app.state.db)
        async with httpx.AsyncClient(base_url=hall.url, timeout=10) as http:
            opened.http = http
            yield opened


def _check_refusal(response: httpx.Response, sent: dict) -> None:
    """A 4xx says why: JSON routes with a code and a message, pages with some text."""
    assert response.content.strip(), sent
    if response.headers.get("content-type", "").startswith("application/json"):
        error = response.json()["error"]
        assert error["code"] in set(Code) and error["code"] != Code.internal_error, (sent, error)
        assert error["message"].strip(), (sent, error)


@fuzz(250)
@given(sent=requests())
async def test_generated_requests_to_every_route_never_get_a_5xx_and_refusals_change_nothing(callers, sent, caplog):
    hall = callers.hall
    token = callers.tokens[sent["who"]]
    if sent["path"] in ("/logout", "/api/logout") and sent["who"] != "forged":
        token = None  # the fuzzing callers keep their sessions: signing out is tested in test_http_permissions.py
    headers = dict(sent["headers"])
    cookies = {}
    if token and sent["as"] == "bearer":
        headers["authorization"] = f"Bearer {token}"
    elif token:
        cookies["fair_session"] = token
    if callers.residents[sent["resident"]]:
        cookies["fair_resident"] = callers.residents[sent["resident"]]
    request: dict[str, Any] = {"headers": headers}
    if "form" in sent:
        form = dict(sent["form"])
        if sent["csrf"]:
            cookies["csrftoken"] = callers.csrf
            form["csrftoken"] = callers.csrf
        request["content"] = urlencoded(form).encode()
        headers["content-type"] = "application/x-www-form-urlencoded"
    if "content" in sent:
        request["content"] = sent["content"]
        headers["content-type"] = sent["type"]
        if sent["path"].startswith("/import/"):
            cookies["csrftoken"] = callers.csrf
            headers["x-csrftoken"] = callers.csrf
            headers["x-request-id"] = f"import-{next(_imports)}"
    callers.http.cookies.clear()
    for name, value in cookies.items():
        callers.http.cookies.set(name, value)
    query = urlencoded(sent["params"])
    url = f"{sent['path']}{'&' if '?' in sent['path'] else '?'}{query}" if query else sent["path"]
    response = await callers.http.request(sent["method"], url, **request)
    event(f"{sent['method']} {response.status_code}")
    assert response.status_code < 500, (sent, response.status_code, response.text[:300])
    after = await snapshot(hall.app.state.db)
    if response.status_code >= 400:
        _check_refusal(response, sent)
        assert not differences(callers.state, after), (differences(callers.state, after), sent)
    callers.state = after
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "the server logged an error"


CORPUS = Path(__file__).parent / "corpus"


async def test_the_corpus_of_requests_gets_the_status_recorded_for_it(callers, caplog):
    """The nastiest requests found (tests/corpus/requests.json): each gets its status and says why, nothing changed."""
    cases = json.loads((CORPUS / "requests.json").read_text())
    assert len(cases) >= 16
    for case in cases:
        callers.http.cookies.clear()
        if case["who"]:
            callers.http.cookies.set("fair_session", callers.tokens[case["who"]])
        if case["resident"]:
            callers.http.cookies.set("fair_resident", callers.residents["phone"])
        body = None if case["body"] is None else case["body"].encode("latin-1")
        headers = {"content-type": "application/json"} if body is not None else {}
        if "form" in case:  # a form as the page posts it, with its CSRF token
            callers.http.cookies.set("csrftoken", callers.csrf)
            body = urlencoded(case["form"] | {"csrftoken": callers.csrf}).encode()
            headers = {"content-type": "application/x-www-form-urlencoded"}
        response = await callers.http.request(case["method"], case["path"], content=body, headers=headers)
        assert response.status_code == case["status"], (case, response.text[:300])
        if response.status_code >= 400:
            _check_refusal(response, case)
        if case["path"].startswith("/lang/"):
            assert response.headers["location"] == "/"
    assert not differences(callers.state, await snapshot(callers.hall.app.state.db))
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "the server logged an error"
