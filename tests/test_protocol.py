"""docs/protocol.md documents exactly what the server handles and sends."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fair.app import create_app
from fair.core import Code
from fair.core.labels import EVENTS
from fair.core.visibility import ROUTES
from fair.settings import ROOT, Settings

DOC = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
CORE = ROOT / "fair" / "core"


def section(title: str) -> str:
    start = DOC.index(f"\n## {title}\n")
    end = DOC.find("\n## ", start + 1)
    return DOC[start : end if end != -1 else len(DOC)]


def headings(text: str) -> set[str]:
    return set(re.findall(r"^### `([a-z_.]+)`", text, flags=re.MULTILINE))


def test_every_handled_command_is_documented_and_nothing_else(tmp_path):
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db", secret_key="k"))
    handled = set(app.live.sio.handlers["/"]) - {"connect", "disconnect", "*"}
    assert headings(section("Commands")) == handled


def test_every_event_type_is_documented_and_nothing_else():
    assert headings(section("Events")) == set(ROUTES) | {"tally"}


def test_every_event_type_has_a_name_in_words_for_the_history():
    assert set(EVENTS) == set(ROUTES)


def test_every_event_type_the_core_emits_is_routed():
    emitted = set()
    for path in CORE.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        emitted |= set(re.findall(r'(?:emit|_announce\w*)\(\s*(?:tx,\s*)?"([a-z]+\.[a-z_]+)"', source))
    assert emitted == set(ROUTES)


def test_every_error_code_is_documented_and_nothing_else():
    table = set(re.findall(r"^\| `([a-z_]+)` \|", section("Error codes"), flags=re.MULTILINE))
    assert table == {str(code) for code in Code}


def test_the_examples_are_json():
    for block in re.findall(r"```json\n(.*?)\n```", DOC, flags=re.DOTALL):
        for line in block.splitlines():
            if "…" not in line:  # elided examples say so with an ellipsis
                json.loads(line)


def test_the_doc_names_files_that_exist():
    for name in re.findall(r"`((?:fair|tests|static|docs)/[\w/.]+\.\w+)`", DOC):
        assert Path(ROOT, name).exists(), name


def test_the_doc_states_the_limits_the_server_enforces():
    """Issue 7, item 5: the nesting limit the server enforced was not documented."""
    from fair.limits import MAX_BODY_BYTES, MAX_CHARS, MAX_DEPTH, MAX_MESSAGE_BYTES, MAX_NODES, MAX_WIRE_DEPTH

    commands = section("Commands")
    assert f"**{MAX_DEPTH} levels**" in commands
    assert f"deeper than {MAX_WIRE_DEPTH} levels" in commands
    assert f"over {MAX_MESSAGE_BYTES // 1024} KB" in commands
    assert f"{MAX_NODES:,} values and {MAX_CHARS:,} characters" in commands
    assert f"over {MAX_BODY_BYTES // 1024} KB" in section("HTTP")
