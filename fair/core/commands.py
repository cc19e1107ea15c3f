"""The one write path: every change to the fair is a command run here.

``execute`` validates the payload, checks the actor's role, and runs the
command's handler in one write transaction that also appends the handler's
events to the ordered log and records the outcome under the client's request
id.  Nothing is published from here: live screens are fed by reading the log
after commits (``fair.live``), so a rolled-back change is never announced and
events go out in exactly the order they were committed.

A refusal (``FairError``) rolls the transaction back.  A second, small
transaction then records the refusal under the request id, together with
anything the refusal itself must leave behind (a refused confirmation is noted
on its negotiation so that both parties learn why).  Replaying a request id
returns the first outcome, success or refusal, and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from fair.core.actors import Actor, Role
from fair.core.errors import N_, Code, FairError
from fair.core.inputs import Input, check_request_id, parse
from fair.db import Database
from fair.models import Event, Fair, RequestRecord, utcnow


@dataclass
class Tx:
    """What a handler gets: the session, who acts, one clock reading, and an event outbox."""

    session: AsyncSession
    actor: Actor
    now: dt.datetime
    fair_id: int | None
    pending: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def emit(self, type: str, payload: dict[str, Any]) -> None:
        self.pending.append((type, payload))


Handler = Callable[[Tx, Any], Awaitable[dict[str, Any]]]
AfterRefusal = Callable[[Tx], Awaitable[None]]


@dataclass(frozen=True)
class Command:
    name: str
    input: type[Input]
    roles: frozenset[Role]
    handler: Handler


COMMANDS: dict[str, Command] = {}


def command(name: str, input: type[Input], *roles: Role) -> Callable[[Handler], Handler]:
    """Register a handler as the command ``name``, open to ``roles``."""

    def register(handler: Handler) -> Handler:
        if name in COMMANDS:
            raise RuntimeError(f"command {name} registered twice")
        COMMANDS[name] = Command(name, input, frozenset(roles), handler)
        return handler

    return register


class Refusal(FairError):
    """A refusal that leaves a trace: ``after`` runs in the transaction that records it."""

    def __init__(self, error: FairError, after: AfterRefusal) -> None:
        super().__init__(error.code, error.msgid, **error.params)
        self.after = after


@dataclass(frozen=True)
class Outcome:
    data: dict[str, Any]
    replayed: bool = False  # True when the request id had been seen: nothing was written


async def execute(db: Database, actor: Actor, name: str, payload: Any, request_id: Any) -> Outcome:
    """Run command ``name`` for ``actor`` exactly once per ``request_id``."""
    spec = COMMANDS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise FairError(Code.invalid_input, N_("Unknown command %(command)s."), command=str(name)[:64])
    check_request_id(request_id)
    if actor.role not in spec.roles:
        raise FairError(Code.forbidden, N_("Your role may not do this."))
    data = parse(spec.input, payload)
    fingerprint = _fingerprint(name, data)

    try:
        async with db.write() as session:
            replay = await _recorded(session, actor, request_id, fingerprint)
            if replay is not None:
                return replay
            tx = Tx(session, actor, utcnow(), actor.fair_id)
            result = await spec.handler(tx, data)
            await _append(tx)
            await _record(session, actor, request_id, name, fingerprint, {"ok": True, "data": result})
        return Outcome(result)
    except IntegrityError:
        # A concurrent twin with the same request id committed first: its outcome is ours.
        # Otherwise another request won a unique constraint (PostgreSQL only: SQLite
        # writers are serialised and the handlers' own checks catch it).
        replay = await _replay_after_race(db, actor, request_id, fingerprint)
        if replay is not None:
            return replay
        return await _record_refusal(db, actor, name, request_id, fingerprint, SIMULTANEOUS)
    except FairError as refusal:
        return await _record_refusal(db, actor, name, request_id, fingerprint, refusal)


SIMULTANEOUS = FairError(
    Code.invalid_state, N_("A change made at the same moment conflicts with this one. Reload and try again.")
)


async def _record_refusal(
    db: Database, actor: Actor, name: str, request_id: str, fingerprint: str, refusal: FairError
) -> Outcome:
    try:
        async with db.write() as session:
            replay = await _recorded(session, actor, request_id, fingerprint)
            if replay is not None:
                return replay
            tx = Tx(session, actor, utcnow(), actor.fair_id)
            if isinstance(refusal, Refusal):
                await refusal.after(tx)
            await _append(tx)
            await _record(session, actor, request_id, name, fingerprint, {"ok": False, "error": refusal.to_record()})
    except IntegrityError:
        replay = await _replay_after_race(db, actor, request_id, fingerprint)
        if replay is None:
            raise
        return replay
    raise FairError.from_record(refusal.to_record())


async def _replay_after_race(db: Database, actor: Actor, request_id: str, fingerprint: str) -> Outcome | None:
    async with db.read() as session:
        return await _recorded(session, actor, request_id, fingerprint)


async def _recorded(session: AsyncSession, actor: Actor, request_id: str, fingerprint: str) -> Outcome | None:
    row = (
        await session.exec(
            select(RequestRecord.fingerprint, RequestRecord.outcome).where(
                RequestRecord.party == actor.key, RequestRecord.request_id == request_id
            )
        )
    ).first()
    if row is None:
        return None
    if row.fingerprint != fingerprint:
        raise FairError(Code.request_conflict, N_("This request id was already used for a different change."))
    if row.outcome["ok"]:
        return Outcome(row.outcome["data"], [], replayed=True)
    raise FairError.from_record(row.outcome["error"])


async def _record(
    session: AsyncSession, actor: Actor, request_id: str, name: str, fingerprint: str, outcome: dict
) -> None:
    await session.exec(
        insert(RequestRecord).values(
            party=actor.key,
            request_id=request_id,
            command=name,
            fingerprint=fingerprint,
            outcome=outcome,
            created_at=utcnow(),
        )
    )


async def _append(tx: Tx) -> None:
    """Number the transaction's events from the fair's counter row and write them.

    The counter is bumped last, just before commit: on PostgreSQL its row lock
    makes writers commit in sequence order, and holding it briefly keeps them fast.
    """
    if not tx.pending:
        return
    count = len(tx.pending)
    last = (
        await tx.session.exec(
            update(Fair).where(Fair.id == tx.fair_id).values(last_seq=Fair.last_seq + count).returning(Fair.last_seq)
        )
    ).scalar_one()
    actor = tx.actor.key
    rows = [
        {
            "fair_id": tx.fair_id,
            "seq": last - count + index,
            "type": type,
            "actor": actor,
            "payload": payload,
            "created_at": tx.now,
        }
        for index, (type, payload) in enumerate(tx.pending, start=1)
    ]
    await tx.session.exec(insert(Event), params=rows)


def _fingerprint(name: str, data: Input) -> str:
    canonical = json.dumps([name, data.model_dump(mode="json")], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
