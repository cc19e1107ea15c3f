"""What one client may cost the fair (fair/limits.py), and that the hall goes on while one client abuses it."""

from __future__ import annotations

import asyncio
import itertools

import httpx
import pytest
import socketio

from fair.core import Actor
from fair.limits import ADDRESS_BACKOFF, MAX_DEPTH, RESIDENT_KINDS, Limits, MemoryStore, nesting_within, within_budget
from tests.conftest import ORGANISER_PASSWORD, Hall, open_hall, sqlite
from tests.screens import converged

PROXIED = {"trusted_proxies": ("127.0.0.1",)}  # the tests' clients say which address they are, as behind a proxy


async def close_refused(client: socketio.AsyncClient) -> None:
    """A refused client keeps its HTTP session open: close it."""
    if client.eio.http is not None and not client.eio.http.closed:
        await client.eio.http.close()


def frozen(hall: Hall) -> Hall:
    """Stop the limits' clock: no bucket refills and no back-off ends while the test runs, however slow."""
    hall.app.state.limits.clock = lambda: 0.0
    return hall


async def test_a_bucket_refills_at_its_rate_and_never_past_its_burst():
    store = MemoryStore()
    taken = [await store.take("k", rate=1.0, burst=3, now=0.0) for _ in range(5)]
    assert taken == [True, True, True, False, False]
    assert await store.take("k", rate=1.0, burst=3, now=1.0)  # one token a second
    assert not await store.take("k", rate=1.0, burst=3, now=1.5)
    assert [await store.take("k", rate=1.0, burst=3, now=100.0) for _ in range(4)] == [True, True, True, False]


async def test_a_count_is_capped_and_released():
    store = MemoryStore()
    assert [await store.acquire("a", 2) for _ in range(3)] == [True, True, False]
    await store.release("a")
    assert await store.acquire("a", 2)


def test_failed_sign_ins_wait_longer_and_longer():
    waits = [ADDRESS_BACKOFF.wait(failures, last=0.0, now=0.0) for failures in range(4, 9)]
    assert waits == [0.0, 2.0, 4.0, 8.0, 16.0]
    assert ADDRESS_BACKOFF.wait(40, last=0.0, now=0.0) == ADDRESS_BACKOFF.most


async def test_password_verifications_at_once_are_bounded():
    limits = Limits(
        event_rate=1, event_burst=1, address_rate=1, address_burst=1,
        connections_per_address=1, connect_rate=1, connect_burst=1, residents={kind: (1, 1) for kind in RESIDENT_KINDS},
    )  # fmt: skip
    release = asyncio.Event()
    admitted: list[bool] = []

    async def verify() -> None:
        async with limits.verification() as place:
            admitted.append(place)
            if place:
                await release.wait()

    tasks = [asyncio.create_task(verify()) for _ in range(11)]  # 2 verify, 8 queue, 1 is turned away
    while admitted.count(False) < 1:
        await asyncio.sleep(0)
    assert admitted == [True, True, False]
    release.set()
    await asyncio.gather(*tasks)
    assert admitted.count(True) == 10


def test_nesting_is_measured_on_the_text():
    assert nesting_within('{"a": [1, {"b": "[[[[[[[[[[[[[[[[[["}]}', 3)
    assert nesting_within("[" * 10 + "]" * 10, 10) and not nesting_within("[" * 11 + "]" * 11, 10)
    assert not nesting_within("[" * 5000 + "]" * 5000)  # would raise RecursionError in the decoder
    assert not nesting_within('[{"a": 1]}')  # unbalanced: no decoder takes it either
    assert nesting_within(r'["a \"[[[[[[[[[[[[[ \\", {}]', 2)
    assert within_budget({"a": {"b": {"c": 1}}}) and not within_budget(json_nested(MAX_DEPTH + 2))


def json_nested(depth: int) -> dict:
    value: dict = {}
    for _ in range(depth):
        value = {"x": value}
    return value


async def raw_client(hall: Hall, token: str | None = None, address: str = "198.51.100.1") -> socketio.AsyncClient:
    client = socketio.AsyncClient(reconnection=False)
    auth = {"token": token} if token else {}
    await client.connect(
        hall.url, auth=auth, headers={"X-Forwarded-For": address}, transports=["websocket"], wait_timeout=5
    )
    return client


async def test_sync_is_rate_limited(hall: Hall):
    """Finding 2: anyone may call sync; some twenty a second from one laptop stalled the hall."""
    frozen(hall)
    board = await raw_client(hall)
    replies = [await board.call("sync", {"since": 0}, timeout=10) for _ in range(15)]
    codes = [reply["ok"] or reply["error"]["code"] for reply in replies]
    assert codes[:10] == [True] * 10 and "rate_limited" in codes[10:]
    tablet = await hall.screen("library")  # another sender still syncs
    assert tablet.last_sync["mode"] == "view"
    await board.disconnect()
    await tablet.disconnect()


async def test_sync_reads_outside_the_publishers_lock(hall: Hall, monkeypatch):
    """Finding 2: sync read the database holding the publisher's lock, so every screen waited for the read."""
    from fair.live import server

    reading = asyncio.Event()
    view = server.queries.view

    async def spied(session, actor):
        reading.set()
        return await view(session, actor)

    monkeypatch.setattr(server.queries, "view", spied)
    tablet = await raw_client(hall, hall.token("library"))
    async with hall.app.live.publisher.joining():  # a publish cycle in progress
        syncing = asyncio.create_task(tablet.call("sync", {"since": None}, timeout=20))
        await asyncio.wait_for(reading.wait(), 10)  # the read goes on meanwhile ...
        assert not syncing.done()  # ... and the reply waits to line up with the cycle
    reply = await syncing
    assert reply["ok"] and reply["data"]["view"]["role"] == "team"
    await tablet.disconnect()


async def test_the_public_resync_replays_nothing_and_is_read_once_per_published_seq(hall: Hall, monkeypatch):
    """Finding 2: a public sync {since: 0} replayed up to 500 events, for anybody, as often as asked."""
    from fair.live import server

    reads = []
    view = server.queries.view

    async def spied(session, actor):
        reads.append(str(actor.role))
        return await view(session, actor)

    monkeypatch.setattr(server.queries, "view", spied)
    boards = [await raw_client(hall, address=f"198.51.100.{n}") for n in range(1, 6)]
    for board in boards:
        reply = await board.call("sync", {"since": 0}, timeout=10)
        assert reply["ok"] and reply["data"]["mode"] == "view" and "events" not in reply["data"]
        assert set(reply["data"]["view"]) == {"seq", "role", "tally", "fair", "announcements"}
    assert reads == ["public"]
    await hall.ground.do(hall.ground.troupe, "offering.spotlight", {"offering_id": hall.ground.lecture})
    publisher = hall.app.live.publisher
    async with asyncio.timeout(10):  # until a cycle has sent it: before that the view read still covers it
        while publisher.published < reply["data"]["upto"] + 1:
            await asyncio.sleep(0.01)
    reply = await boards[0].call("sync", {"since": 0}, timeout=10)
    assert reply["ok"] and reads == ["public", "public"]  # a new sequence number, published: read again, once
    for board in boards:
        await board.disconnect()


async def test_a_senders_limit_survives_reconnecting(hall: Hall):
    """Finding 3: reconnecting reset the command bucket."""
    frozen(hall)
    token = hall.token("community")
    client = await raw_client(hall, token)
    codes = []
    for n in range(35):
        ack = await client.call("offering.spotlight", {"request_id": f"r{n}", "payload": {"offering_id": 1}})
        codes.append(ack["error"]["code"])
    assert "rate_limited" in codes
    await client.disconnect()
    again = await raw_client(hall, token)
    ack = await again.call("offering.spotlight", {"request_id": "r-after", "payload": {"offering_id": 1}})
    assert ack["error"]["code"] == "rate_limited"
    await again.disconnect()
    other = await hall.screen("library")  # another device is not held back
    ack = await other.call("negotiation.open", {"offering_id": hall.ground.books})
    assert ack["ok"], ack
    await other.disconnect()


async def test_unknown_events_count_too(hall: Hall):
    frozen(hall)
    client = await raw_client(hall)
    codes = [(await client.call("no.such", {}, timeout=10))["error"]["code"] for _ in range(35)]
    assert codes[0] == "invalid_input" and "rate_limited" in codes
    # A client that goes on regardless is hung up on: answering it costs too.
    for _ in range(100):
        await client.emit("no.such", {})
    for _ in range(200):
        if not client.connected:
            break
        await asyncio.sleep(0.05)
    assert not client.connected


async def test_an_address_may_open_so_many_connections(tmp_path):
    """Finding 3: there was no cap on connections per address."""
    async with open_hall(sqlite(tmp_path), connections_per_address=3, **PROXIED) as hall:
        opened = [await raw_client(hall, address="192.0.2.10") for _ in range(3)]
        refusals = []
        extra = socketio.AsyncClient(reconnection=False)
        extra.on("connect_error", refusals.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            await extra.connect(
                hall.url, headers={"X-Forwarded-For": "192.0.2.10"}, transports=["websocket"], wait_timeout=5
            )
        assert refusals[0]["data"] == {"code": "rate_limited"}
        await close_refused(extra)
        elsewhere = await raw_client(hall, address="192.0.2.11")  # another address is not affected
        await opened[0].disconnect()
        await asyncio.sleep(0.1)  # the server notes the disconnect
        replaced = await raw_client(hall, address="192.0.2.10")
        for client in (*opened[1:], elsewhere, replaced):
            await client.disconnect()


async def test_new_connections_from_one_address_are_rate_limited(tmp_path):
    async with open_hall(sqlite(tmp_path), connect_burst=4, **PROXIED) as hall:
        frozen(hall)
        outcomes = []
        for _ in range(6):
            client = socketio.AsyncClient(reconnection=False)
            try:
                await client.connect(
                    hall.url, headers={"X-Forwarded-For": "192.0.2.20"}, transports=["websocket"], wait_timeout=5
                )
            except socketio.exceptions.ConnectionError:
                outcomes.append(False)
                await close_refused(client)
            else:
                outcomes.append(True)
                await client.disconnect()
        assert outcomes == [True] * 4 + [False] * 2


async def sign_in(http: httpx.AsyncClient, password: str, address: str, username: str = "organiser"):
    return await http.post(
        "/api/login", json={"username": username, "password": password}, headers={"X-Forwarded-For": address}
    )


async def test_sign_in_backs_off_per_address_and_per_username(tmp_path):
    """Finding 4: no throttle, and every attempt ran a 64 MiB argon2 hash."""
    async with open_hall(sqlite(tmp_path), **PROXIED) as hall, httpx.AsyncClient(base_url=hall.url) as http:
        frozen(hall)
        statuses = [(await sign_in(http, "guess", "192.0.2.30")).status_code for _ in range(5)]
        assert statuses == [403] * 5
        throttled = await sign_in(http, ORGANISER_PASSWORD, "192.0.2.30")  # even the right password waits now
        assert throttled.status_code == 429 and throttled.json()["error"]["code"] == "rate_limited"
        assert int(throttled.headers["retry-after"]) >= 1
        assert (await sign_in(http, ORGANISER_PASSWORD, "192.0.2.31")).status_code == 200  # another address
        # Spread over many addresses, a guesser still slows down on the username.
        addresses = (f"198.18.0.{n}" for n in itertools.count(1))
        statuses = [(await sign_in(http, "guess", next(addresses))).status_code for _ in range(10)]
        assert statuses == [403] * 10
        assert (await sign_in(http, ORGANISER_PASSWORD, next(addresses))).status_code == 429
        # The form says so in the reader's language.
        page = await http.get("/login", headers={"X-Forwarded-For": "192.0.2.30"})
        form = {"username": "organiser", "password": "guess", "csrftoken": page.cookies["csrftoken"]}
        refused = await http.post("/login", data=form, headers={"X-Forwarded-For": "192.0.2.30"})
        assert refused.status_code == 429 and "秒后再试" in refused.text


async def test_one_client_abusing_the_hall_is_refused_while_a_booth_and_a_board_go_on(tmp_path):
    """The abuse test, functional half: the abuser gets rate_limited, the booth is answered, the board converges.

    scripts/bench-abuse measures the latencies of the same scene (no timing is asserted here).
    """
    limited = {"connect_burst": 10, "connections_per_address": 20, **PROXIED}
    async with open_hall(sqlite(tmp_path), **limited) as hall, httpx.AsyncClient(base_url=hall.url) as http:
        g = hall.ground
        booth = await hall.screen("bookseller")
        board = await hall.screen(None)
        abuser_codes: list[str] = []
        stop = asyncio.Event()

        async def flood_sync() -> None:
            while not stop.is_set():
                client = socketio.AsyncClient(reconnection=False)
                try:
                    await client.connect(
                        hall.url, headers={"X-Forwarded-For": "203.0.113.66"}, transports=["websocket"]
                    )
                    while not stop.is_set():  # on and on, told to wait or not, until the server hangs up
                        reply = await client.call("sync", {"since": 0}, timeout=10)
                        abuser_codes.append("ok" if reply["ok"] else reply["error"]["code"])
                except socketio.exceptions.SocketIOError:
                    abuser_codes.append("disconnected")
                    await close_refused(client)
                    await asyncio.sleep(0.01)
                else:
                    await client.disconnect()

        async def flood_connections() -> None:
            while not stop.is_set():
                client = socketio.AsyncClient(reconnection=False)
                refusals: list = []
                client.on("connect_error", refusals.append)
                try:
                    await client.connect(
                        hall.url, headers={"X-Forwarded-For": "203.0.113.66"}, transports=["websocket"]
                    )
                except socketio.exceptions.ConnectionError:
                    coded = refusals and isinstance(refusals[0], dict)
                    abuser_codes.append(refusals[0]["data"]["code"] if coded else "refused")
                    await close_refused(client)
                    await asyncio.sleep(0.01)
                else:
                    abuser_codes.append("connected")  # left open on purpose, to exhaust the address's quota
                    opened.append(client)

        async def flood_logins() -> None:
            while not stop.is_set():
                response = await sign_in(http, "guess", "203.0.113.66")
                abuser_codes.append(response.json()["error"]["code"])

        opened: list[socketio.AsyncClient] = []
        floods = [asyncio.create_task(flood()) for flood in (flood_sync, flood_connections, flood_logins)]
        try:
            for _ in range(5):  # the booth's day goes on meanwhile
                negotiation = await g.propose(g.library, g.books, quantity=10)
                ack = await booth.call("negotiation.accept", {"negotiation_id": negotiation["id"], "version": 1})
                assert ack["ok"], ack
            await converged(hall.app, board, Actor.public(g.fair_id), timeout=30)
            assert board.view["tally"]["headline"]["book_volumes"] == 50
            while abuser_codes.count("rate_limited") < 3 or "disconnected" not in abuser_codes:
                await asyncio.sleep(0.05)
        finally:
            stop.set()
            await asyncio.gather(*floods)
            for client in opened:
                await client.disconnect()
        assert "rate_limited" in abuser_codes
        await booth.disconnect()
        await board.disconnect()


async def test_a_session_may_open_so_many_connections(hall: Hall):
    """Finding 3: per credential too, not only per address."""
    from fair.limits import SESSION_CONNECTIONS

    token = hall.token("troupe")
    opened = [await raw_client(hall, token) for _ in range(SESSION_CONNECTIONS)]
    refusals: list = []
    extra = socketio.AsyncClient(reconnection=False)
    extra.on("connect_error", refusals.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await extra.connect(hall.url, auth={"token": token}, transports=["websocket"], wait_timeout=5)
    assert refusals[0]["data"] == {"code": "rate_limited"}
    await close_refused(extra)
    other = await raw_client(hall, hall.token("bookseller"))  # another booth's device is not held back
    for client in (*opened, other):
        await client.disconnect()
