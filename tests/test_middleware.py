"""The shield every request meets first: origins, body limits, security headers, proxies (issue 8)."""

from __future__ import annotations

import json

import httpx
import pytest
import socketio
import websockets
from sqlmodel import select
from websockets.asyncio.client import connect as websocket

from fair.limits import MAX_BODY_BYTES, MAX_MESSAGE_BYTES
from fair.middleware import origin_allowed
from fair.models import OrganiserSession
from tests.conftest import ORGANISER_PASSWORD, Hall, open_hall, sqlite

EVIL = "http://fair.attacker.example"


async def close_refused(client: socketio.AsyncClient) -> None:
    """A refused client keeps its HTTP session open: close it."""
    if client.eio.http is not None and not client.eio.http.closed:
        await client.eio.http.close()


def ws_url(http_url: str) -> str:
    return http_url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"


async def test_a_page_of_another_origin_is_refused_on_both_transports(hall: Hall):
    """Finding 1: a foreign page carrying the tablet's cookie is not admitted as the team."""
    cookie = {"Cookie": f"fair_session={hall.token('centre')}"}
    # The websocket handshake: 403, before Engine.IO sees it.
    with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
        async with websocket(ws_url(hall.url), origin=EVIL, additional_headers=cookie):
            pass
    assert refused.value.response.status_code == 403
    # The polling handshake: 403 too.
    async with httpx.AsyncClient(base_url=hall.url) as http:
        polling = await http.get("/socket.io/?EIO=4&transport=polling", headers={"Origin": EVIL, **cookie})
        assert polling.status_code == 403 and polling.json()["error"]["code"] == "forbidden"
        same = await http.get("/socket.io/?EIO=4&transport=polling", headers={"Origin": hall.url, **cookie})
        assert same.status_code == 200
    for transport in ("websocket", "polling"):
        client = socketio.AsyncClient(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(hall.url, headers={"Origin": EVIL, **cookie}, transports=[transport], wait_timeout=5)
        await close_refused(client)
    # The fair's own pages (and clients that are no browser page, with no Origin) are admitted.
    async with websocket(ws_url(hall.url), origin=hall.url) as opened:
        assert (await opened.recv()).startswith("0{")


async def test_a_malformed_origin_is_refused_not_a_crash(hall: Hall):
    """Issue 24: a port past 65535, an unclosed IPv6 bracket, a port glued to a host: 403 on both transports."""
    async with httpx.AsyncClient(base_url=hall.url) as http:
        for origin in ("http://x:99999999999", "http://[::1", "http://127.0.0.1:8731.evil.example", "http://"):
            polling = await http.get("/socket.io/?EIO=4&transport=polling", headers={"Origin": origin})
            assert polling.status_code == 403, (origin, polling.text)
            with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
                async with websocket(ws_url(hall.url), origin=origin):
                    pass
            assert refused.value.response.status_code == 403, origin


async def test_the_public_url_and_extra_origins_are_the_only_ones_admitted(tmp_path):
    async with open_hall(
        sqlite(tmp_path), public_url="https://fair.nanjing.example/", extra_origins=("http://10.0.0.5:8000",)
    ) as hall:
        for origin, status in (
            ("https://fair.nanjing.example", 200),
            ("http://10.0.0.5:8000", 200),
            (hall.url, 403),  # the Host it came to is not the fair's public address
            (EVIL, 403),
            ("null", 403),
        ):
            async with httpx.AsyncClient(base_url=hall.url) as http:
                response = await http.get("/socket.io/?EIO=4&transport=polling", headers={"Origin": origin})
            assert response.status_code == status, origin


def test_same_origin_by_host_knows_default_ports_and_the_websocket_schemes():
    assert origin_allowed("http://fair.example", "ws", "fair.example:80", None)
    assert origin_allowed("https://fair.example", "wss", "fair.example", None)
    assert not origin_allowed("https://fair.example", "ws", "fair.example", None)
    assert not origin_allowed("http://fair.example.evil.example", "http", "fair.example", None)
    assert origin_allowed(None, "http", "fair.example", None)  # no browser page: nothing to protect a cookie from


async def test_a_body_over_the_limit_is_refused_before_anything_reads_it(hall: Hall):
    """Finding 5: /api/login and asgi-csrf buffered any body."""
    big = b"x" * (MAX_BODY_BYTES + 1)
    async with httpx.AsyncClient(base_url=hall.url) as http:
        for path, content_type in (
            ("/api/login", "application/json"),
            ("/login", "application/x-www-form-urlencoded"),
            ("/join", "application/x-www-form-urlencoded"),
        ):
            response = await http.post(path, content=big, headers={"content-type": content_type})
            assert response.status_code == 413, path
            assert response.json()["error"]["code"] == "invalid_input"

        async def chunks():  # no Content-Length: counted as it comes
            for _ in range(40):
                yield b"y" * 1024

        chunked = await http.post("/api/login", content=chunks(), headers={"content-type": "application/json"})
        assert chunked.status_code == 413
        polling = await http.post(
            "/socket.io/?EIO=4&transport=polling&sid=none", content=b"4" + b"z" * MAX_MESSAGE_BYTES
        )
        assert polling.status_code == 413


@pytest.mark.parametrize(
    ("path", "content_type", "body"),
    [
        ("/api/login", "application/json", b"[" * 5000 + b"]" * 5000),  # raised RecursionError: a 500
        ("/api/login", "application/json", b"{not json"),
        ("/api/login", "application/json", b'{"username": "\xff\xfe"}'),
        ("/api/login", "", b"[" * 5000 + b"]" * 5000),  # says nothing of what it is: still read safely
        ("/login", "application/x-www-form-urlencoded", b"username=\xff\xfe&password=x"),  # not UTF-8: was a 500
        ("/login", "multipart/form-data; boundary=zz", b"--zz\r\nnot a part"),  # bad multipart: was a 500
        ("/login", "multipart/form-data", b"no boundary at all"),
        ("/join", "application/x-www-form-urlencoded", b"card=%ff%fe&csrftoken=x"),
        ("/logout", "application/json", b"\xff"),
    ],
)
async def test_a_malformed_body_is_400_never_500(hall: Hall, path, content_type, body):
    headers = {"content-type": content_type} if content_type else {}
    async with httpx.AsyncClient(base_url=hall.url) as http:
        response = await http.post(path, content=body, headers=headers)
    assert response.status_code in (400, 403), (response.status_code, response.text[:200])


SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def assert_shielded(response: httpx.Response) -> None:
    csp = response.headers.get("content-security-policy", "")
    for directive in ("script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "object-src 'none'"):
        assert directive in csp, (response.url, csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (response.url, name)
    assert "server" not in response.headers, (response.url, response.headers.get("server"))


async def test_every_kind_of_response_carries_the_security_headers(hall: Hall):
    """Finding 9: pages, scripts, JSON, redirects, refusals, errors and the socket's own answers."""
    async with httpx.AsyncClient(base_url=hall.url) as http:
        responses = [
            await http.get("/"),  # a page
            await http.get("/board"),
            await http.get("/tablet"),  # a refusal page (403)
            await http.get("/console"),  # a redirect
            await http.get("/static/js/core.js"),  # a script
            await http.get("/static/css/fair.css"),
            await http.get("/static/js/nothing.js"),  # 404
            await http.get("/no/such/page"),
            await http.get("/api/tally"),  # JSON
            await http.get("/api/view", headers={"authorization": "Bearer forged"}),  # a JSON refusal
            await http.get("/healthz"),
            await http.post("/api/login", content=b"x" * (MAX_BODY_BYTES + 1)),  # the shield's own refusal
            await http.get("/socket.io/?EIO=4&transport=polling"),  # Engine.IO's handshake
            await http.get("/socket.io/?EIO=4&transport=polling&sid=nope"),  # and its refusal
            await http.post("/login", data={"username": "x", "password": "y"}),  # a CSRF refusal
        ]
    for response in responses:
        assert_shielded(response)
    assert "strict-transport-security" not in responses[0].headers  # plain HTTP: no HSTS


async def test_behind_a_trusted_proxy_https_means_secure_cookies_and_hsts(tmp_path):
    """Finding 8: X-Forwarded-Proto is believed from a trusted proxy only."""
    over_tls = {"x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.7"}
    proxied = open_hall(sqlite(tmp_path), trusted_proxies=("127.0.0.1",))
    async with proxied as hall, httpx.AsyncClient(base_url=hall.url) as http:
        page = await http.get("/login", headers=over_tls)
        assert page.headers["strict-transport-security"].startswith("max-age=31536000")
        form = {"username": "organiser", "password": ORGANISER_PASSWORD, "csrftoken": page.cookies["csrftoken"]}
        signed_in = await http.post("/login", data=form, headers=over_tls)
        assert signed_in.status_code == 303
        assert "secure" in signed_in.headers["set-cookie"].lower()
        async with hall.app.state.db.read() as session:
            addresses = (await session.exec(select(OrganiserSession.address))).all()
        assert "203.0.113.7" in addresses  # the limits and the console see the real address
    async with open_hall(sqlite(tmp_path / "untrusted")) as hall, httpx.AsyncClient(base_url=hall.url) as http:
        page = await http.get("/login", headers=over_tls)  # from a client that is no trusted proxy
        assert "strict-transport-security" not in page.headers


async def test_secure_cookies_can_be_forced(tmp_path):
    async with open_hall(sqlite(tmp_path), secure_cookies=True) as hall, httpx.AsyncClient(base_url=hall.url) as http:
        page = await http.get("/login")
        csrf = page.cookies["csrftoken"]  # Secure: the client would not send it back over plain HTTP, so we do
        form = {"username": "organiser", "password": ORGANISER_PASSWORD, "csrftoken": csrf}
        signed_in = await http.post("/login", data=form, headers={"cookie": f"csrftoken={csrf}"})
        cookie = next(v for k, v in signed_in.headers.multi_items() if k == "set-cookie" and "fair_session" in v)
        assert "secure" in cookie.lower() and "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()


async def test_the_fair_takes_no_json_deeper_than_any_of_its_requests(hall: Hall):
    async with httpx.AsyncClient(base_url=hall.url) as http:
        deep = {"username": "organiser", "password": ORGANISER_PASSWORD, "x": json.loads("[" * 12 + "]" * 12)}
        response = await http.post("/api/login", json=deep)
    assert response.status_code == 400
