"""Text messages to residents' phones: the outbox the core writes (``TextMessage``), and who sends or reads it.

The core writes each message in the transaction that decides it (a one-time
code, ``fair.core.residents``), so a message is never sent for a change that
rolled back.  Sending is the gateway's job (``Gateway``), switched on by
``FAIR_SMS_URL``: it posts each unsent message, as JSON, to that address,
which is the operator's SMS service or a small relay in front of it (the
contract is in docs/deploy.md).  Without it nothing is sent, and the
organiser's console shows the outbox instead, saying that no message left
this computer (the demo and the tests read their codes there).

``confirmed_resident`` walks the real confirmation (ask, read the outbox,
type the code back) for the demo's residents and the tests'.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from contextlib import suppress
from typing import Any

import httpx
from sqlalchemy import or_, update
from sqlalchemy.engine import Connection
from sqlmodel import col, desc, select

from fair.core import Actor, execute
from fair.core.residents import CODE_MINUTES
from fair.db import Database, Unavailable
from fair.models import TextMessage

log = logging.getLogger(__name__)

OUTBOX_SHOWN = 50  # messages the console lists, newest first
_CODE = re.compile(r"\d{6}")


async def outbox(db: Database, *, sending: bool, limit: int = OUTBOX_SHOWN) -> list[dict[str, Any]]:
    """The newest messages and what became of them, for the organiser's console.

    While a gateway is ``sending`` them the codes in them are the residents' own: the console shows
    them as ``******``, so that nobody at the console can confirm a resident's number for them.
    """
    async with db.read() as session:
        rows = await session.exec(select(TextMessage).order_by(desc(TextMessage.id)).limit(limit))
        return [
            {
                "id": row.id,
                "phone": row.phone,
                "text": _CODE.sub("******", row.text) if sending else row.text,
                "created_at": row.created_at.isoformat(),
                "sent_at": row.sent_at and row.sent_at.isoformat(),
                "attempts": row.attempts,
                "gave_up_at": row.gave_up_at and row.gave_up_at.isoformat(),
                "error": row.error,
            }
            for row in rows
        ]


async def last_code(db: Database, phone: str) -> str | None:
    """The code in the newest message to ``phone``, as the phone's owner would read it."""
    async with db.read() as session:
        text = (
            await session.exec(
                select(TextMessage.text).where(TextMessage.phone == phone).order_by(desc(TextMessage.id)).limit(1)
            )
        ).first()
    found = _CODE.search(text or "")
    return found.group() if found else None


async def confirmed_resident(db: Database, fair_id: int, phone: str, device: str | None = None) -> Actor:
    """A resident on a phone that confirmed ``phone`` as a person would: asked for a code, read it, typed it."""
    device = device or f"device-of-{phone}"
    unconfirmed = Actor.resident(fair_id, device)
    await execute(db, unconfirmed, "resident.ask_code", {"phone": phone}, f"ask-{phone}")
    code = await last_code(db, phone)
    confirmed = await execute(db, unconfirmed, "resident.confirm", {"phone": phone, "code": code}, f"confirm-{phone}")
    return Actor.resident(fair_id, device, confirmed.data["resident_id"])


SEND_SECONDS = 10.0  # the longest one message may take the gateway to accept
BATCH = 20  # messages one pass sends at most before looking again
POLL_SECONDS = 5.0  # a pass at least this often: other workers' messages, and retries that came due
FIRST_RETRY_SECONDS = 2.0  # then doubled after each failure, until the code in the message has expired
PERMANENT = frozenset(range(400, 500)) - {408, 425, 429}  # the gateway refuses the message itself: no retry


class Gateway:
    """Sends the outbox to the operator's SMS service: each message once, in order, retried until it is stale.

    Each worker runs one.  It wakes when this worker commits (a code was perhaps just asked for) and every
    ``POLL_SECONDS``, and claims a message before posting it (``next_try_at`` moved past the post's
    timeout), so that two workers never post the same message at once.  The post carries the message's id
    as its ``Idempotency-Key``: a worker that dies after posting and before stamping ``sent_at`` sends it
    again once the claim lapses, and a gateway that keeps keys sends it once.  A message whose code has
    expired is given up on: a late code helps nobody.
    """

    def __init__(self, db: Database, url: str, token: str | None = None, transport: Any = None) -> None:
        self.db, self.url = db, url
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.client = httpx.AsyncClient(timeout=SEND_SECONDS, headers=headers, transport=transport)
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self.db.on_commit.append(self._wake.set)
        self._task = asyncio.create_task(self._run(), name="fair-sms")

    async def stop(self) -> None:
        self.db.on_commit.remove(self._wake.set)
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        await self.client.aclose()

    async def _run(self) -> None:
        while True:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), POLL_SECONDS)
            self._wake.clear()
            try:
                while await self.send_due() == BATCH:
                    pass
            except Unavailable as error:
                log.warning("text messages wait: the database is unavailable (%s)", error)
            except Exception:  # one failed pass must not stop the next; the log has it
                log.exception("sending text messages failed; trying again in %s s", POLL_SECONDS)

    async def send_due(self, now: dt.datetime | None = None) -> int:
        """Post every message due by ``now`` that this worker could claim; how many it looked at."""
        now = now or dt.datetime.now(dt.UTC)
        async with self.db.read() as session:
            due = (
                await session.exec(
                    select(TextMessage)
                    .where(col(TextMessage.sent_at).is_(None), col(TextMessage.gave_up_at).is_(None))
                    .where(or_(col(TextMessage.next_try_at).is_(None), col(TextMessage.next_try_at) <= now))
                    .order_by(TextMessage.id)
                    .limit(BATCH)
                )
            ).all()
        for message in due:
            if await self._claim(message, now):
                await self._send(message, now)
        return len(due)

    async def _claim(self, message: TextMessage, now: dt.datetime) -> bool:
        def claim(connection: Connection) -> bool:
            claimed = connection.execute(
                update(TextMessage)
                .where(TextMessage.id == message.id, col(TextMessage.sent_at).is_(None))
                .where(col(TextMessage.gave_up_at).is_(None), TextMessage.attempts == message.attempts)
                .values(attempts=message.attempts + 1, next_try_at=now + dt.timedelta(seconds=2 * SEND_SECONDS))
            )
            return claimed.rowcount == 1

        try:
            return await self.db.transact(claim)
        except Unavailable:
            raise
        except Exception:  # another worker claimed it in the same instant (a serialisation failure)
            return False

    async def _send(self, message: TextMessage, now: dt.datetime) -> None:
        try:
            answer = await self.client.post(
                self.url,
                json={"id": message.id, "to": message.phone, "text": message.text},
                headers={"Idempotency-Key": f"fair-text-{message.id}"},
            )
        except httpx.HTTPError as error:
            await self._failed(message, now, f"{type(error).__name__}: {error}"[:200], permanent=False)
            return
        if answer.is_success:
            await self._stamp(message, sent_at=dt.datetime.now(dt.UTC), error=None)
        else:
            said = f"HTTP {answer.status_code}: {answer.text.strip()}"[:200]
            await self._failed(message, now, said, permanent=answer.status_code in PERMANENT)

    async def _failed(self, message: TextMessage, now: dt.datetime, error: str, *, permanent: bool) -> None:
        retry_at = now + dt.timedelta(seconds=FIRST_RETRY_SECONDS * 2**message.attempts)
        stale = message.created_at + dt.timedelta(minutes=CODE_MINUTES)
        log.warning("text message %s was not sent (attempt %s): %s", message.id, message.attempts + 1, error)
        if permanent or retry_at >= stale:
            await self._stamp(message, gave_up_at=now, error=error)
        else:
            await self._stamp(message, next_try_at=retry_at, error=error)

    async def _stamp(self, message: TextMessage, **values: Any) -> None:
        def stamp(connection: Connection) -> None:
            connection.execute(update(TextMessage).where(TextMessage.id == message.id).values(**values))

        await self.db.transact(stamp)
