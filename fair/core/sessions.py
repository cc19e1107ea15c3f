"""Organiser sign-ins, kept on the server: a sign-in is a row, and signing out ends it.

A signed-in organiser holds a random session token (``fair.tokens``); the
database keeps only its keyed hash, when it was opened, from where, and when
it ends: after a working day (``ORGANISER_SESSION_HOURS``), when the
organiser signs out, or when an organiser ends it from the console (a laptop
left signed in).  An ended session's next command is refused by the one write
path, which holds a share lock on the session row until the command commits,
and the live adapter sends its screens away.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from fair.core.actors import Actor, Role
from fair.core.commands import SESSION_ENDED as ENDED
from fair.core.commands import Tx, command
from fair.core.errors import N_, Code, FairError
from fair.core.inputs import Id, Input
from fair.core.rows import not_found
from fair.db import Database
from fair.models import OrganiserAccount, OrganiserSession, utcnow

ORGANISER_SESSION_HOURS = 12


class SessionRef(Input):
    session_id: Id


@command("organiser.sign_out", SessionRef, Role.organiser)
def end_session(tx: Tx, data: SessionRef) -> dict[str, Any]:
    """End an organiser's sign-in from the console; its screens are sent away."""
    row = tx.run(select(OrganiserSession.__table__).where(OrganiserSession.id == data.session_id)).mappings().first()
    if row is None:
        raise not_found("session", data.session_id)
    if row["revoked_at"] is not None:
        raise FairError(Code.invalid_state, N_("This sign-in has already ended."))
    tx.run(update(OrganiserSession).where(OrganiserSession.id == data.session_id).values(revoked_at=tx.now))
    ended = {**session_view(row, tx.now), "signed_in": False}
    tx.emit("organiser.signed_out", {"session": ended})  # the history says who ended whose sign-in
    return {"session": ended}


async def open_session(db: Database, account_id: int, token_hash: str, *, label: str, address: str) -> int:
    """Record a sign-in; its id."""

    def work(connection: Connection) -> int:
        now = utcnow()
        row = {
            "account_id": account_id,
            "token_hash": token_hash,
            "label": label[:120],
            "address": address[:64],
            "created_at": now,
            "expires_at": now + dt.timedelta(hours=ORGANISER_SESSION_HOURS),
        }
        statement = OrganiserSession.__table__.insert().returning(OrganiserSession.id)
        return connection.execute(statement, row).scalar_one()

    return await db.transact(work)


async def close_session(db: Database, token_hash: str) -> int | None:
    """Sign out: the session of this token ends now; its id, or None if there was none open."""

    def work(connection: Connection) -> int | None:
        ended = connection.execute(
            update(OrganiserSession)
            .where(OrganiserSession.token_hash == token_hash, OrganiserSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
            .returning(OrganiserSession.id)
        )
        return ended.scalar_one_or_none()

    return await db.transact(work)


async def admit(session: AsyncSession, token_hash: str, fair_id: int | None) -> tuple[Actor, int]:
    """The organiser a session admits, and its account; an ended or unknown session admits nobody."""
    row = (
        await session.exec(
            select(OrganiserSession.id, OrganiserSession.account_id, OrganiserSession.expires_at)
            .join(OrganiserAccount, OrganiserAccount.id == OrganiserSession.account_id)
            .where(OrganiserSession.token_hash == token_hash, OrganiserSession.revoked_at.is_(None))
        )
    ).first()
    if row is None or row.expires_at <= utcnow():
        raise FairError(Code.forbidden, ENDED)
    return Actor(Role.organiser, fair_id, session_id=row.id), row.account_id


async def register(session: AsyncSession, actor: Actor) -> list[dict[str, Any]]:
    """The organisers signed in now, for the console."""
    if actor.role != Role.organiser:
        raise FairError(Code.forbidden, N_("Your role may not do this."))
    now = utcnow()
    rows = (
        await session.exec(
            select(OrganiserSession.__table__, OrganiserAccount.username)
            .join(OrganiserAccount, OrganiserAccount.id == OrganiserSession.account_id)
            .where(OrganiserSession.revoked_at.is_(None), OrganiserSession.expires_at > now)
            .order_by(OrganiserSession.id)
        )
    ).all()
    return [
        {**session_view(row._mapping, now), "username": row.username, "current": row.id == actor.session_id}
        for row in rows
    ]


def session_view(row: Any, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": row["id"],
        "label": row["label"],
        "address": row["address"],
        "created_at": row["created_at"].isoformat(),
        "expires_at": row["expires_at"].isoformat(),
        "signed_in": row["revoked_at"] is None and row["expires_at"] > now,
    }
