"""The one write path: every change to the fair is a command run here.

``execute`` validates the payload, checks the actor's role, and runs the
command's handler in one write transaction that also appends the handler's
events to the ordered log and records the outcome under the client's request
id.  Nothing is published from here: live screens are fed by reading the log
after commits (``fair.live``), so a rolled-back change is never announced and
events go out in exactly the order they were committed.

A transaction that loses a deadlock or a serialization check on PostgreSQL,
or finds under its locks that something it read before them has changed
(``Retry``), wrote nothing: it is run again, a bounded number of times.  So
is one whose connection broke (a restarted server): it may have committed
just before, but then its request record is there and the new attempt
replays it.  A database that stalls (``fair.db.Unavailable``) is answered
``unavailable`` and nothing is recorded, since whether the change was made
is not known; sent again, the same request id finds out.

Some commands end things that others may be acting on at that very moment
(closing the fair, withdrawing an offering).  They change only their own row,
so that every command still in flight sees the change when it takes its
locks, and leave the rest to a follow-up transaction (``Command.then``), run
as the system right after their commit, and again at start-up in case the
process died in between.

A refusal (``FairError``) rolls the transaction back.  A second, small
transaction then records the refusal under the request id, together with
anything the refusal itself must leave behind (a refused confirmation is noted
on its negotiation so that both parties learn why).  Replaying a request id
returns the first outcome, success or refusal, and writes nothing.

Handlers are synchronous functions of a ``Tx``: the whole transaction runs in
one hand-off to the database (see ``fair.db``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Executable, bindparam, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import col

from fair import direct
from fair.core.actors import Actor, Role
from fair.core.errors import N_, UNAVAILABLE_MSGID, Code, FairError
from fair.core.inputs import Input, check_request_id, parse
from fair.db import Database, Unavailable
from fair.models import (
    Credential,
    DeviceSession,
    Event,
    Fair,
    OrganiserAccount,
    OrganiserSession,
    RequestRecord,
    utcnow,
)

log = logging.getLogger(__name__)


@dataclass
class Tx:
    """What a handler gets: the transaction's connection, who acts, one clock reading, and an event outbox.

    Handlers speak Core (``run``) and hold rows as plain objects (``fair.core.rows``):
    the ORM's unit of work is not part of the write path.
    """

    connection: Connection
    actor: Actor
    now: dt.datetime
    fair_id: int | None
    pending: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    fair_states: tuple[str, ...] | None = None  # the fair's states this change needs at commit, if any
    direct: bool = False  # statements straight on SQLite's cursor (``fair.direct``), decided once per transaction

    @classmethod
    def begin(cls, connection: Connection, actor: Actor) -> Tx:
        return cls(connection, actor, utcnow(), actor.fair_id, direct=direct.available(connection))

    def emit(self, type: str, payload: dict[str, Any]) -> None:
        self.pending.append((type, payload))

    def run(self, statement: Executable, params: dict[str, Any] | list[dict[str, Any]] | None = None):
        if self.direct:
            return direct.run(self.connection, statement, params)
        return self.connection.execute(statement, params)


Handler = Callable[[Tx, Any], dict[str, Any]]
AfterRefusal = Callable[[Tx], None]
FollowUp = Callable[[Tx], None]


@dataclass(frozen=True)
class Command:
    name: str
    input: type[Input]
    roles: frozenset[Role]
    handler: Handler
    then: FollowUp | None = None  # run by the system in a transaction of its own after the command commits


COMMANDS: dict[str, Command] = {}


def command(name: str, input: type[Input], *roles: Role, then: FollowUp | None = None) -> Callable[[Handler], Handler]:
    """Register a handler as the command ``name``, open to ``roles``, followed by ``then`` once committed."""

    def register(handler: Handler) -> Handler:
        if name in COMMANDS:
            raise RuntimeError(f"command {name} registered twice")
        COMMANDS[name] = Command(name, input, frozenset(roles), handler, then)
        return handler

    return register


class Retry(Exception):  # noqa: N818 (not an error: an instruction to run the transaction again)
    """Raised under a lock when a value read before it has changed meanwhile: nothing is kept, run it again."""


ATTEMPTS = 5
TRANSIENT = frozenset({"40P01", "40001"})  # PostgreSQL: deadlock detected, serialization failure


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
    try:
        return await _execute(db, actor, name, payload, request_id)
    except Unavailable as error:
        log.warning("command %s: the database is unavailable (%s)", name, error)
        raise FairError(Code.unavailable, UNAVAILABLE_MSGID) from None


async def _execute(db: Database, actor: Actor, name: str, payload: Any, request_id: Any) -> Outcome:
    spec = COMMANDS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise FairError(Code.invalid_input, N_("Unknown command %(command)s."), command=str(name)[:64])
    check_request_id(request_id)
    if actor.role not in spec.roles:
        raise FairError(Code.forbidden, N_("Your role may not do this."))
    data = parse(spec.input, payload)
    fingerprint = _fingerprint(name, data)

    def attempt(connection: Connection) -> dict[str, Any]:
        tx = Tx.begin(connection, actor)
        _require_valid_credential(tx)
        result = spec.handler(tx, data)
        _append(tx)
        _record(tx, request_id, name, fingerprint, {"ok": True, "data": result})
        return result

    try:
        outcome = Outcome(await _transact(db, attempt))
    except IntegrityError:
        # The request record exists already: this is a replay, or a concurrent twin
        # committed first, and the first outcome is ours.  Looking the record up only
        # here keeps a read off every first attempt; the replayed work was rolled back.
        # Otherwise another request won a unique constraint (PostgreSQL only: SQLite
        # writers are serialised and the handlers' own checks catch it).
        outcome = await _replay(db, actor, request_id, fingerprint)
        if outcome is None:
            return await _record_refusal(db, actor, name, request_id, fingerprint, SIMULTANEOUS)
    except FairError as refusal:
        return await _record_refusal(db, actor, name, request_id, fingerprint, refusal)
    if spec.then is not None and actor.fair_id is not None:
        await follow_up(db, actor.fair_id, spec.then)
    return outcome


SIMULTANEOUS = FairError(
    Code.invalid_state, N_("A change made at the same moment conflicts with this one. Reload and try again.")
)


async def _transact(db: Database, work: Callable[[Connection], Any]) -> Any:
    """``db.transact(work)``, run again when it lost a race that wrote nothing (``Retry``, a deadlock)."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await db.transact(work)
        except Retry:
            pass
        except Unavailable as error:
            if not error.lost_connection or attempt == ATTEMPTS:
                raise
            log.info("the database connection was lost (%s), attempt %s of %s", error, attempt, ATTEMPTS)
        except DBAPIError as error:
            if getattr(error.orig, "sqlstate", None) not in TRANSIENT:
                raise
            log.info("transaction lost a race (%s), attempt %s of %s", error.orig.sqlstate, attempt, ATTEMPTS)
        await asyncio.sleep(0)  # let the winner finish before trying again
    # Not recorded under the request id: the same request, sent again, runs again.
    raise FairError(Code.invalid_state, N_("The fair is very busy at this moment. Please try again."))


async def follow_up(db: Database, fair_id: int, work: FollowUp) -> None:
    """Run ``work`` as the system in a transaction of its own, with the events it emits.

    Follow-ups finish what a command started (expiring what can no longer be
    agreed); they are idempotent, so running one again, or at start-up after
    a crash, does no harm.
    """

    def run(connection: Connection) -> None:
        tx = Tx.begin(connection, Actor.system(fair_id))
        work(tx)
        _append(tx)

    await _transact(db, run)


async def _record_refusal(
    db: Database, actor: Actor, name: str, request_id: str, fingerprint: str, refusal: FairError
) -> Outcome:
    def note(connection: Connection) -> None:
        tx = Tx.begin(connection, actor)
        if isinstance(refusal, Refusal):
            refusal.after(tx)
        _append(tx)
        _record(tx, request_id, name, fingerprint, {"ok": False, "error": refusal.to_record()})

    try:
        await _transact(db, note)
    except IntegrityError:
        replay = await _replay(db, actor, request_id, fingerprint)
        if replay is None:
            raise
        return replay
    raise FairError.from_record(refusal.to_record())


# FOR SHARE (PostgreSQL; SQLite's one writer needs nothing): a revoke or a sign-out waits for the commands
# already past this check, and a command that comes after its commit sees it.  Taken first, before any other lock.
# A device's session is checked together with its card (both rows share-locked); an organiser's sign-in alone.
DEVICE_SESSION = (
    select(DeviceSession.revoked_at, DeviceSession.expires_at, Credential.revoked_at.label("card_revoked_at"))
    .join(Credential, Credential.id == DeviceSession.credential_id)
    .where(DeviceSession.id == bindparam("session_id"))
    .with_for_update(read=True)
)
ORGANISER_SESSION = (
    select(OrganiserSession.revoked_at, OrganiserSession.expires_at, OrganiserAccount.must_change_password)
    .join(OrganiserAccount, OrganiserAccount.id == OrganiserSession.account_id)
    .where(OrganiserSession.id == bindparam("session_id"))
    .with_for_update(read=True, of=OrganiserSession)
)
CREDENTIAL_REVOKED = (  # an actor holding a card but no session: only the server's own tools make one
    select(Credential.revoked_at).where(Credential.id == bindparam("credential_id")).with_for_update(read=True)
)


def _require_valid_credential(tx: Tx) -> None:
    """A device acts only while its session and its card are valid; an organiser only while signed in, and
    not with a generated first password: whatever the way in (the console, /api/login, a socket), the
    password is changed before anything else.

    Once ``access.revoke``, ``device.sign_out`` or a sign-out has committed, no command of that
    session commits any more: the check holds a share lock on the session (and card) row until
    the command commits.
    """
    actor = tx.actor
    if actor.session_id is not None:
        organiser = actor.role == Role.organiser
        row = tx.run(ORGANISER_SESSION if organiser else DEVICE_SESSION, {"session_id": actor.session_id}).first()
        if row is None or row.revoked_at is not None or row.expires_at <= tx.now:
            raise FairError(Code.forbidden, SESSION_ENDED if organiser else SIGNED_OUT)
        if organiser and row.must_change_password:
            raise FairError(Code.forbidden, CHANGE_PASSWORD_FIRST)
        if not organiser and row.card_revoked_at is not None:
            raise FairError(Code.forbidden, CARD_NOT_VALID)
    elif actor.credential_id is not None:
        revoked_at = tx.run(CREDENTIAL_REVOKED, {"credential_id": actor.credential_id}).scalar_one_or_none()
        if revoked_at is not None:
            raise FairError(Code.forbidden, CARD_NOT_VALID)


CARD_NOT_VALID = N_("This join link is not valid any more. Ask the organiser for a new one.")
SIGNED_OUT = N_("This device was signed out. Scan the join card again, or ask the organiser.")
SESSION_ENDED = N_("Your sign-in has ended. Sign in again.")
CHANGE_PASSWORD_FIRST = N_("Change the generated first password before anything else: sign in on /login.")


RECORDED = select(RequestRecord.fingerprint, RequestRecord.outcome).where(
    RequestRecord.party == bindparam("party"), RequestRecord.request_id == bindparam("request_id")
)


async def _replay(db: Database, actor: Actor, request_id: str, fingerprint: str) -> Outcome | None:
    """The recorded outcome of this request id, if there is one."""
    async with db.read() as session:
        row = (await session.exec(RECORDED, params={"party": actor.key, "request_id": request_id})).first()
    if row is None:
        return None
    if row.fingerprint != fingerprint:
        raise FairError(Code.request_conflict, N_("This request id was already used for a different change."))
    if row.outcome["ok"]:
        return Outcome(row.outcome["data"], replayed=True)
    raise FairError.from_record(row.outcome["error"])


RECORD = insert(RequestRecord)
APPEND = insert(Event)


def _record(tx: Tx, request_id: str, name: str, fingerprint: str, outcome: dict) -> None:
    row = {
        "party": tx.actor.key,
        "request_id": request_id,
        "command": name,
        "fingerprint": fingerprint,
        "outcome": outcome,
        "created_at": tx.now,
    }
    tx.run(RECORD, row)


BUMP_SEQ = (
    update(Fair)
    .where(Fair.id == bindparam("fair_id"))
    .values(last_seq=Fair.last_seq + bindparam("count"))
    .returning(Fair.last_seq)
)
BUMP_SEQ_IN_STATE = BUMP_SEQ.where(col(Fair.state).in_(bindparam("states", expanding=True)))


def _append(tx: Tx) -> None:
    """Number the transaction's events from the fair's counter row and write them.

    The counter is bumped last, just before commit: on PostgreSQL its row lock
    makes writers commit in sequence order, and holding it briefly keeps them fast.
    """
    if not tx.pending:
        return
    count = len(tx.pending)
    if tx.fair_states is None:
        last = tx.run(BUMP_SEQ, {"fair_id": tx.fair_id, "count": count}).scalar_one()
    else:
        bumped = tx.run(BUMP_SEQ_IN_STATE, {"fair_id": tx.fair_id, "count": count, "states": list(tx.fair_states)})
        last = bumped.scalar_one_or_none()
        if last is None:
            raise FairError(Code.fair_not_open, N_("The fair closed at the same moment."))
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
    tx.run(APPEND, rows)


def _fingerprint(name: str, data: Input) -> str:
    canonical = json.dumps([name, data.model_dump(mode="json")], sort_keys=True, ensure_ascii=False)
    try:
        encoded = canonical.encode()
    except UnicodeEncodeError:  # a lone surrogate: JSON can escape one ("\ud800"), no database can store it
        raise FairError(Code.invalid_input, N_("The request body is not UTF-8.")) from None
    return hashlib.sha256(encoded).hexdigest()
