"""Generated bad input over a real server: Socket.IO events from every kind of screen, and raw frames.

A smaller share than the in-process fuzzing (tests/test_fuzz_commands.py), to fuzz the adapter as well:
the envelope, extra arguments, readers and unknown events, and the packet decoding under them.  Every
event is acknowledged with ``{ok, data}`` or a coded refusal (never ``internal_error``); a refusal
changes no row; the server logs no error and still serves.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest
import socketio
from hypothesis import event, given
from hypothesis import strategies as st
from websockets.asyncio.client import connect as websocket

from fair.core import COMMANDS
from tests.conftest import Hall, open_hall, sqlite
from tests.fuzzing import (
    JSON,
    REQUEST_IDS,
    TEXT,
    assert_coded_ack,
    differences,
    furnish,
    fuzz,
    payloads,
    snapshot,
)

# Commands that end a session would send the fuzzing screens themselves away: in-process fuzzing covers them.
ENDS_SESSIONS = {"device.sign_out", "organiser.sign_out", "access.revoke", "access.limit"}
COMMAND_NAMES = sorted(set(COMMANDS) - ENDS_SESSIONS)
READERS = ["sync", "sessions", "recommendations", "coverage", "analytics", "audit", "supervision"]
SCREENS = ("organiser", "centre", "troupe", "resident", "public", "projector")


class Screens:
    """One Socket.IO client of each kind that can send commands, connected to the hall."""

    def __init__(self, hall: Hall) -> None:
        self.hall = hall
        self.clients: dict[str, socketio.AsyncClient] = {}

    async def open(self) -> None:
        tokens = {"organiser": await self.hall.organiser_token(), "public": None, "resident": None}
        for who in SCREENS:
            auth: dict[str, Any] = {"locale": "en"}
            headers = {}
            token = tokens[who] if who in tokens else self.hall.token(who)
            if token:
                auth["token"] = token
            if who == "resident":
                auth["as"] = "resident"
                headers["Cookie"] = f"fair_resident={self.hall.tokens.new_resident()}"
            client = socketio.AsyncClient(reconnection=False)
            await client.connect(self.hall.url, auth=auth, headers=headers, transports=["websocket"], wait_timeout=5)
            self.clients[who] = client

    async def close(self) -> None:
        for client in self.clients.values():
            await client.disconnect()


@pytest.fixture
async def screens(tmp_path):
    # The limits are the adapter's own business, tested in test_live_input.py: here every event must reach it.
    generous = {"command_rate": 1e6, "command_burst": 10**6, "address_rate": 1e6, "address_burst": 10**6}
    generous |= {"connect_rate": 1e6, "connect_burst": 10**6}  # a connection per example: hundreds a run
    async with open_hall(
        sqlite(tmp_path), wish_rate=1e6, wish_burst=10**6, anonymous_rate=1e6, anonymous_burst=10**6, **generous
    ) as hall:
        await furnish(hall.ground)  # a delivery, orders, a wish...: ids that name something
        opened = Screens(hall)
        await opened.open()
        opened.state = await snapshot(hall.app.state.db)
        try:
            yield opened
        finally:
            await opened.close()


@st.composite
def events(draw) -> tuple[str, str, tuple]:
    """Who sends what: a command's envelope (its payload generated), a reader's argument, or junk."""
    who = draw(st.sampled_from(SCREENS))
    kind = draw(st.sampled_from(["command"] * 6 + ["reader", "unknown", "arguments", "envelope"]))
    if kind == "reader":
        name = draw(st.sampled_from(READERS))
        return who, name, (draw(st.one_of(st.fixed_dictionaries({"since": JSON}), payloads("fair.create"), JSON)),)
    if kind == "unknown":
        return who, draw(TEXT), (draw(JSON),)
    name = draw(st.sampled_from(COMMAND_NAMES))
    request_id = draw(st.one_of(st.from_regex(r"f-[a-z0-9]{1,20}", fullmatch=True), REQUEST_IDS))
    envelope = {"request_id": request_id, "payload": draw(payloads(name))}
    if kind == "envelope":  # a field too many, one missing, or not an object at all
        envelope = draw(st.one_of(st.just({"payload": envelope["payload"]}), st.just({**envelope, "x": 1}), JSON))
    if kind == "arguments":
        return who, name, (envelope, *draw(st.lists(JSON, min_size=1, max_size=3)))
    return who, name, (envelope,)


@fuzz(200)
@given(sent=events())
async def test_generated_events_from_every_screen_are_acknowledged_with_a_code(screens: Screens, sent, caplog):
    who, name, arguments = sent
    client = screens.clients[who]
    assert client.connected, f"the {who} screen was disconnected"
    ack = await client.call(name, arguments if len(arguments) > 1 else arguments[0], timeout=10)
    assert_coded_ack(ack, sent)
    event(f"{who}: {'ok' if ack['ok'] else ack['error']['code']}")
    after = await snapshot(screens.hall.app.state.db)
    if ack["ok"]:
        screens.state = after
    else:
        assert not differences(screens.state, after), (differences(screens.state, after), sent)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "the server logged an error"


AUTH = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "token": st.one_of(JSON, st.sampled_from(["d_" + "x" * 43, "o_", "", "a.b.c"])),
            "locale": JSON,
            "as": st.one_of(st.just("resident"), JSON),
        },
    ),
    JSON,
)
COOKIES = st.one_of(
    st.none(),
    st.sampled_from(["fair_session=", "fair_resident=r.x", 'fair_session="', "a=b; ; =c", "fair_session=d_x" * 50]),
)


@fuzz(40)
@given(auth=AUTH, cookie=COOKIES)
async def test_a_connection_with_any_auth_is_made_or_refused_never_an_error(screens: Screens, auth, cookie, caplog):
    """The handshake's ``auth`` object and cookies, generated: the public board, or a refusal with a code."""
    client = socketio.AsyncClient(reconnection=False)
    headers = {"Cookie": cookie} if cookie else {}
    try:
        await client.connect(screens.hall.url, auth=auth, headers=headers, transports=["websocket"], wait_timeout=5)
    except socketio.exceptions.ConnectionError as refused:
        event("refused")
        assert refused.args and refused.args[0], auth  # the refusal says why
    else:
        event("connected")
        ack = await client.call("sync", {"since": None}, timeout=10)
        assert_coded_ack(ack, auth)
        await client.disconnect()
    finally:
        if client.eio.http is not None and not client.eio.http.closed:  # left open by a refused handshake
            await client.eio.http.close()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "the server logged an error"


FRAME_BODIES = st.one_of(
    st.builds(json.dumps, st.lists(JSON, max_size=4)),  # ["name", args...] of any shape
    st.builds(
        lambda name, data: json.dumps([name, data]),
        st.sampled_from([*COMMAND_NAMES, *READERS]),
        st.fixed_dictionaries({"request_id": st.just("raw-1"), "payload": JSON}),
    ),
    st.builds(json.dumps, JSON),
    st.text(max_size=30),  # not JSON at all
    st.integers(1, 3000).map(lambda depth: "[" * depth + "]" * depth),
).filter(  # a leading digit reads as part of the ack id, "-" as the end of an attachment count ("421-0.0")
    lambda body: not body[:1].isdigit() and not body.startswith("-")
)


@fuzz(60)
@given(bodies=st.lists(FRAME_BODIES, min_size=1, max_size=5))
async def test_raw_socketio_frames_of_any_shape_are_answered_and_the_connection_still_works(
    screens: Screens, bodies, caplog
):
    """Frames as a hostile client may write them, past any client library: each one carries an ack id."""
    url = screens.hall.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    frames = [f"42{number}{body}" for number, body in enumerate(bodies, start=1)]
    frames.append(f'42{len(bodies) + 1}["sync",{{"since":null}}]')
    acks: dict[int, Any] = {}
    async with websocket(url) as ws:
        assert (await ws.recv()).startswith("0{")
        await ws.send("40")
        assert (await ws.recv()).startswith("40{")
        for frame in frames:
            await ws.send(frame)
        while len(acks) < len(frames):
            message = await asyncio.wait_for(ws.recv(), 10)
            if message == "2":
                await ws.send("3")
            elif message.startswith("43"):
                found = re.fullmatch(r"43(\d+)(.*)", message, flags=re.DOTALL)
                acks[int(found.group(1))] = json.loads(found.group(2))
    for number, body in enumerate(bodies, start=1):
        ack = acks[number]
        assert isinstance(ack, list) and len(ack) == 1, (body, ack)
        assert_coded_ack(ack[0], body)
    assert acks[len(frames)][0]["ok"] is True  # the connection still works
    assert not differences(screens.state, await snapshot(screens.hall.app.state.db)), bodies
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "the server logged an error"


CORPUS = Path(__file__).parent / "corpus"


async def test_the_corpus_of_events_gets_the_answers_recorded_for_it(screens: Screens, caplog):
    """The nastiest events found (tests/corpus/events.json), each with the answer it must get, nothing changed."""
    cases = json.loads((CORPUS / "events.json").read_text())
    assert len(cases) >= 15
    for case in cases:
        arguments = tuple(case["args"])
        ack = await screens.clients[case["who"]].call(
            case["event"], arguments if len(arguments) > 1 else arguments[0], timeout=10
        )
        assert_coded_ack(ack, case)
        assert ("ok" if ack["ok"] else ack["error"]["code"]) == case["answer"], (case, ack)
    assert not differences(screens.state, await snapshot(screens.hall.app.state.db))
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "the server logged an error"
