"""Every command, generated payloads, every role, in-process through ``execute`` (what the socket adapter calls).

Each input is answered either by a success (the fair is then put back as it
was, after checking that its books still balance) or by a ``FairError`` with
a code and a message in both languages, after which a fresh read of every
table but the request records equals the one before.  Anything else (an
exception that is not a ``FairError``, an ``internal_error``, a changed row)
fails the test with the input that caused it.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from fair.core import COMMANDS, Code, FairError, execute
from fair.db import Database
from tests.conftest import postgres_schema
from tests.fairground import assert_the_books_balance
from tests.fuzzing import (
    JSON,
    REQUEST_IDS,
    GrowingSandbox,
    Sandbox,
    assert_coded,
    differences,
    fuzz,
    payloads,
    snapshot,
)

_fresh = itertools.count(1)

# A refused confirmation is noted on its negotiation for both parties (fair.core.negotiations): the one refusal
# that leaves a trace besides its request record, and only there.
NOTED_REFUSALS = {"negotiation.accept": {"negotiation", "event"}}


@pytest.fixture
async def sandbox(tmp_path):
    box = Sandbox(tmp_path)
    try:
        await box.build()
        yield box
    finally:
        await box.close()


DELIVERY = {"order_id": 3, "venue_id": 1, "day": "2023-04-02", "starts": "14:00", "ends": "16:00"}
TERMS = {"quantity": 1, "unit_price_fen": 50_000}
ACTOR_KEYS = ("organiser", "team", "other team", "supplier", "other supplier", "resident", "public")


@st.composite
def inputs(draw, names: st.SearchStrategy | None = None, shaped: bool = True) -> tuple[str, str, Any, Any]:
    """A command, who sends it (mostly a role it is open to), a payload and a request id."""
    name = draw(st.sampled_from(sorted(COMMANDS)) if names is None else names)
    spec = COMMANDS.get(name) if isinstance(name, str) else None
    if spec is not None and draw(st.integers(0, 9)) > 0:
        allowed = [key for key in ACTOR_KEYS if _role(key) in {str(role) for role in spec.roles}]
        who = draw(st.sampled_from(allowed))
    else:
        who = draw(st.sampled_from(ACTOR_KEYS))
    payload = draw(payloads(name) if shaped and spec is not None else JSON)
    request_id = None if draw(st.integers(0, 9)) < 8 else draw(REQUEST_IDS)  # None: a fresh one
    return name, who, payload, request_id


def _role(key: str) -> str:
    return {"other team": "team", "other supplier": "supplier"}.get(key, key)


async def answer(box: Sandbox, name: Any, who: str, payload: Any, request_id: Any) -> str:
    """Send one input and check the answer; returns "ok" or the refusal's code."""
    actor = box.actors[who]
    request_id = f"fuzz-{next(_fresh)}" if request_id is None else request_id  # mostly fresh: the rules run
    context = {"command": name, "as": who, "payload": payload, "request_id": request_id}
    try:
        await execute(box.db, actor, name, payload, request_id)
    except FairError as error:
        assert_coded(error, context)
        after = await snapshot(box.db)
        changed = differences(box.state, after)
        if changed and isinstance(name, str) and name in NOTED_REFUSALS and error.code != Code.invalid_input:
            tables = {line.split(":", 1)[0] for line in changed}
            assert tables <= NOTED_REFUSALS[name], (changed, context)
            await box.restore()
            return _seen(str(error.code))
        assert not changed, (changed, context)
        return _seen(str(error.code))
    assert_the_books_balance(await box.ground.state())
    await box.restore()
    assert await snapshot(box.db) == box.state  # put back
    return _seen("ok")


def _seen(answer: str) -> str:
    if currently_in_test_context():
        event(answer)  # pytest --hypothesis-show-statistics tells how often each answer came
    return answer


@fuzz(600)
@given(sent=inputs())
@example(sent=("rating.moderate", "organiser", {"rating_id": 999, "decision": "approve"}, None))  # was a KeyError
@example(sent=("delivery.schedule", "team", {**DELIVERY, "day": "0001-01-01", "starts": "00:00"}, None))  # Overflow
@example(sent=("negotiation.open", "team", {"offering_id": 2, "terms": {**TERMS, "message": "\ud800"}}, None))
@example(sent=("register.import", "organiser", {"kind": "teams", "header": ["Team"], "rows": [["\ud800"]]}, None))
async def test_generated_payloads_of_every_command_are_answered_with_a_code_and_refusals_change_nothing(
    sandbox: Sandbox, sent
):
    await answer(sandbox, *sent)


@fuzz(150)
@given(sent=inputs(names=st.one_of(st.sampled_from(sorted(COMMANDS)), JSON), shaped=False))
async def test_any_json_as_any_command_is_refused_with_a_code_and_changes_nothing(sandbox: Sandbox, sent):
    name, who, payload, request_id = sent
    code = await answer(sandbox, name, who, payload, request_id)
    if not isinstance(name, str) or name not in COMMANDS:
        assert code == "invalid_input"


CORPUS = Path(__file__).parent / "corpus"


async def test_the_corpus_of_commands_gets_the_answers_recorded_for_it(sandbox: Sandbox):
    """The nastiest inputs found (tests/corpus/commands.json), each with the answer it must get, nothing changed."""
    cases = json.loads((CORPUS / "commands.json").read_text())
    assert len(cases) >= 30
    for case in cases:
        answered = await answer(sandbox, case["command"], case["as"], case["payload"], None)
        assert answered == case["answer"], case
        if "errors" in case:  # a register's rows: each bad one is named in the answer
            again = await execute(sandbox.db, sandbox.actors[case["as"]], case["command"], case["payload"], "corpus")
            assert len(again.data["errors"]) == case["errors"], (case, again.data)
            await sandbox.restore()


@pytest.fixture
async def postgres_sandbox():
    async with postgres_schema() as (url, schema):
        db = Database(url, connect_args={"server_settings": {"search_path": schema}})
        box = GrowingSandbox(db)
        try:
            await box.build()
            yield box
        finally:
            await box.close()


@pytest.mark.postgres
@fuzz(120)
@given(sent=inputs())
@example(sent=("register.import", "organiser", {"kind": "teams", "header": ["\x00"], "rows": []}, None))
@example(sent=("register.import", "organiser", {"kind": "teams", "header": ["名称"], "rows": [["\x00"]]}, None))
async def test_generated_payloads_on_postgresql_too(postgres_sandbox: GrowingSandbox, sent):
    """A smaller share on PostgreSQL, which refuses what SQLite stores (NUL in text and in JSON)."""
    await answer(postgres_sandbox, *sent)
