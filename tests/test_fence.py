"""fair.fence: the private fast paths run only with the library versions they were tested with, fall back to the
public APIs otherwise (or when turned off) with one log line, and the fair still works end to end on the fallback.

The contract tests below fail loudly when a library moves: the pins of constraints.txt, the versions installed
and ``fence.TESTED`` must agree, and the private names and signatures each fenced module relies on must still be
there.  After a lock refresh (scripts/lock), run this file first: what fails says what to re-check in
``fair/live/websocket.py`` or ``fair/direct.py`` before ``TESTED`` may follow the new pins.
"""

from __future__ import annotations

import hashlib
import inspect
import io
import logging
import re
import tokenize
from pathlib import Path

import pytest
import socketio

from fair import direct, fence
from fair.core import Actor
from fair.middleware import UVICORN_OPTIONS, uvicorn_options
from fair.settings import ROOT, Settings
from tests.conftest import open_hall, postgres_database, sqlite
from tests.screens import converged


def pins() -> dict[str, str]:
    """constraints.txt's exact pins, by normalised distribution name."""
    found = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, version = line.split("#")[0].strip().split("==")
            found[re.sub(r"[-_.]+", "-", name).lower()] = version
    return found


@pytest.fixture
def pretend():
    """``pretend(name=version)``: the fence sees these versions installed; afterwards it is decided again from the
    real ones, as the rest of the test session expects."""
    with pytest.MonkeyPatch.context() as patch:
        real = fence.installed

        def set_versions(**versions: str) -> None:
            versions = {name.replace("_", "-"): version for name, version in versions.items()}
            patch.setattr(fence, "installed", lambda name: versions.get(name, real(name)))

        yield set_versions
    fence.configure(True)


# The pins -------------------------------------------------------------------------------------------------------


def test_the_fenced_paths_were_tested_with_the_versions_pinned_and_installed():
    pinned = pins()
    for path, tested in fence.TESTED.items():
        for name, version in tested.items():
            assert pinned.get(name) == version, (
                f"constraints.txt pins {name} {pinned.get(name)}, fair.fence.TESTED[{path!r}] says {version}: "
                f"re-check the fenced path against the new version (this file), then update TESTED"
            )
            assert fence.installed(name) == version, f"{name} {fence.installed(name)} installed, {version} pinned"
    assert fence.differences() == {path: [] for path in fence.TESTED}
    assert fence.configure(True) == {"live": True, "store": True}  # so the rest of the suite runs the fenced paths


# The fallback ---------------------------------------------------------------------------------------------------


def test_another_version_turns_its_path_off_with_one_log_line(pretend, caplog):
    pretend(**{"python-engineio": "4.99.0"})
    caplog.set_level(logging.INFO, logger="fair.fence")
    for _ in range(3):  # decided at every start-up (each create_app); said once
        assert fence.configure(True) == {"live": False, "store": True}
    (line,) = caplog.records
    assert line.levelno == logging.WARNING
    assert "python-engineio 4.99.0 (tested with 4.15.1)" in line.getMessage() and "store" not in line.getMessage()
    assert not fence.active("live") and fence.active("store")
    assert uvicorn_options()["ws"] == "websockets-sansio"  # uvicorn's own protocol, by its public name

    from fair.live import fanout

    sio = fanout.server(async_mode="asgi")
    assert type(sio) is socketio.AsyncServer and type(fanout.asgi_app(sio)) is socketio.ASGIApp


def test_a_missing_library_turns_its_path_off(pretend, caplog):
    pretend(asyncpg=None)
    caplog.set_level(logging.INFO, logger="fair.fence")
    assert fence.configure(True) == {"live": True, "store": False}
    assert "asyncpg absent (tested with 0.32.0)" in caplog.text
    assert uvicorn_options()["ws"] == "fair.live.websocket:Protocol"


def test_the_setting_turns_both_paths_off():
    assert Settings.load({}).fenced_paths is True
    assert Settings.load({"FAIR_FENCED_PATHS": "false"}).fenced_paths is False
    try:
        assert fence.configure(False) == {"live": False, "store": False}
        assert uvicorn_options() == UVICORN_OPTIONS and UVICORN_OPTIONS["ws"] == "websockets-sansio"
    finally:
        fence.configure(True)


START_UP = """
import logging, sys
from importlib import metadata
real = metadata.version
metadata.version = lambda name: "9.9.9" if name == "uvicorn" else real(name)  # another uvicorn installed
logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s %(message)s")
from fair.app import create_app
from fair.middleware import uvicorn_options
from fair.settings import Settings
settings = Settings(database_url="sqlite+aiosqlite:///" + sys.argv[1], demo=None, secret_key="x" * 40)
app = create_app(settings)
create_app(settings)  # a second start in the same process says nothing new
print("ws", uvicorn_options()["ws"], type(app.live.sio).__module__)
print("imported", "fair.live.websocket" in sys.modules)
"""


def test_a_start_up_with_another_version_says_so_once_and_never_imports_the_fenced_module(tmp_path: Path):
    """The fair as ``run.py`` starts it, in a process of its own, with another uvicorn "installed": one log line, the
    public websocket protocol and server, and fair.live.websocket (which imports uvicorn's private module) unread."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", START_UP, str(tmp_path / "fair.db")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = [line for line in done.stderr.splitlines() if line.startswith("fair.fence")]
    assert lines == [
        "fair.fence WARNING fenced paths off, public fallbacks used (installed versions differ from those tested): "
        f"live: uvicorn 9.9.9 (tested with {fence.TESTED['live']['uvicorn']})"
    ], done.stderr
    assert done.stdout.splitlines() == ["ws websockets-sansio socketio.async_server", "imported False"]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request, tmp_path: Path):
    if request.param == "sqlite":
        yield sqlite(tmp_path)
        return
    async with postgres_database(migrated=True) as url:
        yield url


@pytest.mark.parametrize("why", ["versions", "setting"])
async def test_the_whole_fair_loop_runs_on_the_public_paths(database_url: str, why: str, pretend, monkeypatch):
    """A real server on the fallback: python-socketio's own server and emit, uvicorn's own websocket protocol, every
    statement through SQLAlchemy's Connection.execute; a booth publishes, a tablet orders, the board counts it."""
    if why == "versions":
        pretend(uvicorn="0.1.0", sqlalchemy="2.0.0")
        settings = {}
    else:
        settings = {"fenced_paths": False}
    run_directly = []
    real_run = direct.run
    monkeypatch.setattr(direct, "run", lambda *args: run_directly.append(args) or real_run(*args))
    async with open_hall(database_url, **settings) as hall:
        assert not fence.active("live") and not fence.active("store")
        run_directly.clear()  # (the fair was built before the server started: by then on the fenced path)
        sio = hall.app.live.sio
        assert type(sio) is socketio.AsyncServer
        booth = await hall.screen("troupe")
        tablet = await hall.screen("library")
        board = await hall.screen(None)
        pushed = await booth.call(
            "offering.publish",
            {
                "category": "performance",
                "title": "锡剧《珍珠塔》",
                "unit": "场",
                "unit_price_fen": 200_000,
                "capacity": 2,
            },
        )
        assert pushed["ok"], pushed
        offering_id = pushed["data"]["offering"]["id"]
        await converged(hall.app, tablet, hall.ground.library)
        assert any(o["id"] == offering_id for o in tablet.view["offerings"])
        opened = await tablet.call(
            "negotiation.open", {"offering_id": offering_id, "terms": {"quantity": 1, "unit_price_fen": 190_000}}
        )
        assert opened["ok"], opened
        before = board.view["tally"]["headline"]["performance_orders"]
        accepted = await booth.call(
            "negotiation.accept", {"negotiation_id": opened["data"]["negotiation"]["id"], "version": 1}
        )
        assert accepted["ok"] and accepted["data"]["negotiation"]["state"] == "confirmed", accepted
        await converged(hall.app, board, Actor.public(hall.ground.fair_id))
        assert board.view["tally"]["headline"]["performance_orders"] == before + 1
        await converged(hall.app, tablet, hall.ground.library)
        assert tablet.view["orders"][0]["amount_fen"] == 190_000
        # Every socket is python-engineio's own, every statement SQLAlchemy's: nothing fenced ran.
        from engineio.async_socket import AsyncSocket

        assert sio.eio.sockets and all(type(s) is AsyncSocket for s in sio.eio.sockets.values())
        assert run_directly == []
        for screen in (booth, tablet, board):
            await screen.disconnect()


# The contract: what the fenced modules use, in the pinned versions ------------------------------------------------


def fingerprint(function) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:16]


def test_the_live_path_finds_what_it_uses_in_uvicorn():
    import uvicorn
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

    from fair.live import websocket

    source = inspect.getsource(WebSocketsSansIOProtocol)
    assert re.search(r"self\.queue\b[^=\n]*= ", source), "uvicorn's sansio protocol no longer makes self.queue"
    for name in ("self.close_sent", "self.disconnected", "self.transport", "async def send"):
        assert name in source, f"uvicorn's sansio protocol no longer has {name}"
    # The protocol's receive queue is replaced by a Mailbox: it must ask nothing else of it.
    assert set(re.findall(r"self\.queue\.(\w+)", source)) <= {"put_nowait", "get", "empty"}
    assert all(callable(getattr(websocket.Mailbox, m)) for m in ("put_nowait", "get", "empty"))
    assert hasattr(uvicorn.Config(app=None), "ws_per_message_deflate")
    assert "websockets-sansio" in uvicorn.config.WS_PROTOCOLS  # the public fallback's name


def test_the_live_path_finds_what_it_uses_in_engineio():
    import engineio
    from engineio import async_socket
    from engineio.async_drivers import asgi as engineio_asgi

    from fair.live import websocket

    server = engineio.AsyncServer(async_mode="asgi")
    assert {"translate_request", "websocket"} <= set(server._async)
    for name in ("start_service_task", "service_task_handle", "sockets", "ping_interval_grace_period", "reason"):
        assert hasattr(server, name), name
    for name in ("_service_task", "_unauthorized", "generate_id", "start_background_task", "send_packet"):
        assert callable(getattr(server, name)), name
    assert list(inspect.signature(engineio.AsyncServer._handle_connect).parameters) == [
        "self",
        "environ",
        "transport",
        "jsonp_index",
    ]
    assert "run_async" in inspect.getsource(engineio.AsyncServer._trigger_event)
    assert list(inspect.signature(async_socket.AsyncSocket.close).parameters) == ["self", "wait", "abort", "reason"]
    for name in ("receive", "check_ping_timeout", "schedule_ping", "send"):
        assert callable(getattr(async_socket.AsyncSocket, name)), name
    # DirectSocket is made without BaseSocket's __init__: it must set every attribute that __init__ sets.
    made = async_socket.AsyncSocket(server, "sid")
    direct_socket = websocket.DirectSocket(server, "sid", protocol=None)
    assert set(vars(made)) <= set(vars(direct_socket)), set(vars(made)) - set(vars(direct_socket))
    # What the module copies from python-engineio, to be reviewed against it whenever it changes.
    copied = {
        "AsyncServer._handle_connect": (engineio.AsyncServer._handle_connect, "5bd7edc1d1ae115a"),
        "asgi.translate_request": (engineio_asgi.translate_request, "39e74733f1fe46aa"),
    }
    for name, (function, seen) in copied.items():
        assert fingerprint(function) == seen, f"python-engineio's {name} changed: review fair.live.websocket's copy"
    assert list(inspect.signature(engineio_asgi.WebSocket.__call__).parameters) == ["self", "environ"]


def test_the_live_path_finds_what_it_uses_in_socketio():
    from socketio.base_server import BaseServer

    assert "self._engineio_server_class()" in inspect.getsource(BaseServer.__init__)
    assert callable(socketio.AsyncServer._engineio_server_class)
    app = socketio.ASGIApp(socketio.AsyncServer(async_mode="asgi"))
    assert app._ensure_trailing_slash("/socket.io") == "/socket.io/" and app.engineio_path == "/socket.io/"
    assert app.engineio_server is not None


def test_the_write_path_finds_what_it_uses_in_sqlalchemy_and_its_asyncpg_adapter():
    from sqlalchemy import Connection, Integer, bindparam, column, select, table
    from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
    from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg
    from sqlalchemy.util import await_  # noqa: F401  (direct's bridge from the greenlet to the adapter)

    dialect = pg_asyncpg.dialect()
    assert isinstance(dialect._invalidate_schema_cache_asof, (int, float))
    things = table("things", column("id", Integer), column("state"))
    statement = select(things.c.id).where(things.c.state.in_(bindparam("states", expanding=True)))
    key = statement._generate_cache_key()
    assert key.key is not None and key.bindparams is not None
    compiled = statement.compile(dialect=dialect, cache_key=key, column_keys=["states"], for_executemany=False)
    for name in (
        "insert_prefetch",
        "update_prefetch",
        "literal_execute_params",
        "post_compile_params",
        "schema_translate_map",
        "positional",
        "positiontup",
        "bind_names",
        "_result_columns",
        "_bind_processors",
    ):
        assert hasattr(compiled, name), name
    assert {"escape_names", "extracted_parameters", "_check"} <= set(
        inspect.signature(compiled.construct_params).parameters
    )
    expanded = compiled._process_parameters_for_postcompile({"states": ["a", "b"]})
    assert expanded.statement and expanded.positiontup and expanded.processors is not None
    assert [c.keyname for c in compiled._result_columns] == ["id"]
    assert hasattr(Integer(), "_cached_result_processor") and Integer()._is_tuple_type is False
    assert list(inspect.signature(Connection._handle_dbapi_exception).parameters)[:6] == [
        "self",
        "e",
        "statement",
        "parameters",
        "cursor",
        "context",
    ]
    adapter = pg_asyncpg.AsyncAdapt_asyncpg_connection
    assert list(inspect.signature(adapter._prepare).parameters) == ["self", "operation", "invalidate_timestamp"]
    for name in ("_start_transaction", "_handle_exception"):
        assert callable(getattr(adapter, name)), name
    init = inspect.getsource(adapter.__init__) + inspect.getsource(AsyncAdapt_dbapi_connection.__init__)
    for name in ("self._transaction", "self._connection", "self._execute_mutex"):
        assert name in init, name


async def test_asyncpg_says_how_many_rows_as_direct_reads_it():
    """direct.STATUS reads asyncpg's status message for the rows a statement changed."""
    import asyncpg

    from tests.conftest import POSTGRES_URL

    try:
        connection = await asyncpg.connect(POSTGRES_URL.replace("+asyncpg", ""), timeout=3)
    except (OSError, asyncpg.PostgresError) as error:
        pytest.skip(f"no PostgreSQL answers: {error}")
    try:
        await connection.execute("CREATE TEMPORARY TABLE fence_rows (n int)")
        said = {}
        for sql in (
            "INSERT INTO fence_rows SELECT generate_series(1, 3)",
            "UPDATE fence_rows SET n = n + 1",
            "SELECT * FROM fence_rows",
            "DELETE FROM fence_rows WHERE n > 2",
        ):
            statement = await connection.prepare(sql)
            await statement.fetch()
            said[sql.split()[0]] = int(direct.STATUS.match(statement.get_statusmsg()).group(1))
        assert said == {"INSERT": 3, "UPDATE": 3, "SELECT": 3, "DELETE": 2}
    finally:
        await connection.close()


# Nothing else reaches into a library ------------------------------------------------------------------------------

# Names a library does not promise, found by name; ``x._y`` on anything but self and cls is caught by the pattern.
PRIVATE = re.compile(
    r"\.rooms\b|\.sockets\b|greenlet_spawn|\bawait_\b|__self__|_impl\b|_engineio_server_class|\._async\b"
    r"|_handle_connect|_trigger_event|\._catalog\b|sqlalchemy\.util\b"
    r"|(?<![\w.])(?!self\b|cls\b)\w+(?:\(\))?\._(?!_)(?!mapping\b|asdict\b|fields\b)[A-Za-z]\w*"
)


def code_lines(source: str) -> list[str]:
    """``source``'s lines with its strings and comments blanked: only code is searched."""
    lines = source.splitlines()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in (tokenize.STRING, tokenize.COMMENT):
            continue
        (first, start), (last, end) = token.start, token.end
        for number in range(first, last + 1):
            line = lines[number - 1]
            a = start if number == first else 0
            b = end if number == last else len(line)
            lines[number - 1] = line[:a] + " " * (b - a) + line[b:]
    return lines


def test_no_private_name_of_a_library_outside_the_fenced_modules():
    found = []
    for path in sorted((ROOT / "fair").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative in fence.FENCED_MODULES:
            continue
        for number, code in enumerate(code_lines(path.read_text()), 1):
            if PRIVATE.search(code):
                found.append(f"{relative}:{number}: {code.strip()}")
    assert found == [], "private names outside fair.fence.FENCED_MODULES:\n" + "\n".join(found)


def test_the_grep_finds_what_it_is_for():
    """The pattern above is no pattern that matches nothing."""
    for line in (
        "occupied = self.sio.manager.rooms.get('/')",
        "sockets = sio.eio.sockets",
        "row._proxy",
        "await greenlet_spawn(fn)",
        "messages = catalogue._catalog",
        "super()._handle_connect(environ)",
    ):
        assert PRIVATE.search(line), line
    for line in ("row._mapping", "self._lock", "cls._shards", "sio.manager.get_participants('/', room)"):
        assert not PRIVATE.search(line), line
    assert [line.rstrip() for line in code_lines('x = "a.rooms"  # b.sockets\ny = z._w')] == ["x =", "y = z._w"]


def test_the_fenced_paths_run_in_this_suite():
    """The rest of the suite tests the fenced paths (tests/test_websocket.py, tests/test_fanout.py,
    tests/test_direct.py): with the pinned versions, nothing turned them off."""
    assert fence.active("live") and fence.active("store")
