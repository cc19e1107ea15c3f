"""The fair over Socket.IO, with a real server and real clients."""

from __future__ import annotations

import asyncio

import pytest
import socketio

from fair.core import Actor
from tests.conftest import Hall
from tests.screens import converged


async def test_the_whole_fair_loop_by_socket(hall: Hall):
    booth = await hall.screen("troupe")
    tablet = await hall.screen("library")
    board = await hall.screen(None)
    assert board.view["role"] == "public" and "offerings" not in board.view

    pushed = await booth.call(
        "offering.publish",
        {
            "category": "performance",
            "title": "越剧《红楼梦》选场",
            "unit": "场",
            "unit_price_fen": 300_000,
            "capacity": 2,
            "dates": ["2023-05-06", "2023-05-07"],
        },
    )
    assert pushed["ok"], pushed
    offering_id = pushed["data"]["offering"]["id"]
    await converged(hall.app, tablet, hall.ground.library)
    assert any(o["id"] == offering_id for o in tablet.view["offerings"])  # the tablet saw it without asking

    opened = await tablet.call(
        "negotiation.open",
        {"offering_id": offering_id, "terms": {"quantity": 1, "unit_price_fen": 280_000, "dates": ["2023-05-06"]}},
    )
    negotiation = opened["data"]["negotiation"]
    await converged(hall.app, booth, hall.ground.troupe)
    assert (
        booth.view["negotiations"][0]["id"] == negotiation["id"] and booth.view["negotiations"][0]["turn"] == "supplier"
    )

    before = board.view["tally"]["headline"]["performance_orders"]
    accepted = await booth.call("negotiation.accept", {"negotiation_id": negotiation["id"], "version": 1})
    assert accepted["ok"] and accepted["data"]["negotiation"]["state"] == "confirmed"
    await converged(hall.app, board, Actor.public(hall.ground.fair_id))
    assert board.view["tally"]["headline"]["performance_orders"] == before + 1
    assert board.view["tally"]["latest"][0]["offering_title"] == "越剧《红楼梦》选场"
    await converged(hall.app, tablet, hall.ground.library)
    assert tablet.view["orders"][0]["amount_fen"] == 280_000
    assert tablet.view["me"]["budget"]["remaining_fen"] == 500_000 - 280_000
    for screen in (booth, tablet, board):
        await screen.disconnect()


async def test_a_refused_connection_says_why(hall: Hall):
    client = socketio.AsyncClient(reconnection=False)
    reasons = []
    client.on("connect_error", reasons.append)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(hall.url, auth={"token": "forged.token", "locale": "zh_CN"}, transports=["websocket"])
    assert reasons == [{"message": "此加入链接已失效，请向组织方索取新的链接。", "data": {"code": "forbidden"}}]


async def test_a_revoked_link_is_refused_and_its_screens_sent_away(hall: Hall):
    tablet = await hall.screen("community")
    organiser = await hall.screen("organiser")
    revoked = await organiser.call("access.revoke", {"credential_id": hall.credentials["community"]})
    assert revoked["ok"], revoked
    for _ in range(100):
        if not tablet.client.connected:
            break
        await asyncio.sleep(0.05)
    assert not tablet.client.connected
    with pytest.raises(socketio.exceptions.ConnectionError):
        await hall.screen("community")
    await organiser.disconnect()


async def test_a_revoked_link_stops_the_next_command_even_on_an_open_connection(hall: Hall):
    """Whichever comes first, the server sending the tablet away or its next command: nothing is done."""
    tablet = await hall.screen("community")
    disconnected = asyncio.Event()
    tablet.client.on("disconnect", disconnected.set)
    await hall.ground.do(hall.ground.organiser, "access.revoke", {"credential_id": hall.credentials["community"]})
    sent = asyncio.ensure_future(tablet.call("negotiation.open", {"offering_id": hall.ground.books}))
    gone = asyncio.ensure_future(disconnected.wait())
    await asyncio.wait({sent, gone}, return_when=asyncio.FIRST_COMPLETED)
    if sent.done() and not sent.exception():
        ack = sent.result()
        assert ack["ok"] is False and ack["error"]["code"] == "forbidden"
    else:
        assert disconnected.is_set()
    sent.cancel()
    gone.cancel()
    assert (await hall.ground.state())["negotiation"] == []


async def test_syncing_again_neither_rewinds_the_cursor_nor_doubles_the_messages(hall: Hall):
    g = hall.ground
    tablet = await hall.screen("library")
    await g.do(g.troupe, "offering.spotlight", {"offering_id": g.lecture})  # an event, but no order
    await converged(hall.app, tablet, g.library)
    first = tablet.cursor
    await tablet.sync()
    assert tablet.last_sync["mode"] == "events" and tablet.cursor >= first
    await tablet.sync()
    messages = len(tablet.messages)
    await g.do(g.troupe, "offering.spotlight", {"offering_id": g.show})
    await converged(hall.app, tablet, g.library)
    await asyncio.sleep(0.2)
    assert len(tablet.messages) == messages + 1  # one message, though the screen synced three times
    assert len(tablet.applied) == len(set(tablet.applied))
    await tablet.disconnect()


async def test_a_screen_gone_while_its_sync_is_read_is_answered_and_subscribed_nowhere(hall: Hall, monkeypatch):
    """A tablet reloaded (or out of Wi-Fi) while the server read its catch-up: the sync ends cleanly, and the
    gone connection is put in no room (entering one raised, in a task nobody awaited)."""
    live = hall.app.state.live
    board = await hall.screen(None)  # another screen stays connected throughout
    reading, go_on = asyncio.Event(), asyncio.Event()
    catch_up = live._catch_up

    async def held(*args):
        reading.set()
        await go_on.wait()
        return await catch_up(*args)

    monkeypatch.setattr(live, "_catch_up", held)
    tablet = socketio.AsyncClient(reconnection=False)
    await tablet.connect(hall.url, auth={"token": hall.token("library")}, transports=["websocket"], wait_timeout=5)
    sid = tablet.get_sid()
    syncing = asyncio.create_task(live._sync(sid, {"since": None}))
    await reading.wait()
    await tablet.disconnect()

    def gone() -> bool:
        return sid not in live.connections and not live.sio.manager.is_connected(sid, "/")

    for _ in range(500):  # bounded: the server hears the close
        if gone():
            break
        await asyncio.sleep(0.01)
    assert gone()
    go_on.set()
    reply = await syncing
    assert reply["ok"], reply
    assert live.sio.manager.get_rooms(sid, "/") == []  # in no room: the sync that finished joined none
    monkeypatch.undo()
    again = await hall.screen("library")  # the tablet back: synced and subscribed as ever
    await hall.ground.propose(hall.ground.library, hall.ground.lecture, quantity=1)
    await converged(hall.app, again, hall.ground.library)
    await converged(hall.app, board, Actor.public(hall.ground.fair_id))
    for screen in (again, board):
        await screen.disconnect()


async def test_odd_auth_and_cursors_get_answers_not_crashes(hall: Hall):
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(hall.url, auth={"locale": 5, "token": None}, transports=["websocket"])
    reply = await client.call("sync", {"since": 2**70}, timeout=10)
    assert reply["error"]["code"] == "invalid_input"
    reply = await client.call("sync", {"since": None}, timeout=10)
    assert reply["ok"] and reply["data"]["view"]["role"] == "public"
    await client.disconnect()
