"""Organiser accounts: a username and an argon2 hash of the password (pwdlib).

Each verification costs 64 MiB and tens of milliseconds of a core: the
adapters ask ``fair.limits`` for a place before they call ``verify``.
"""

from __future__ import annotations

import asyncio

from pwdlib import PasswordHash
from sqlalchemy import insert, update
from sqlmodel import select

from fair.db import Database
from fair.models import OrganiserAccount, utcnow

_hasher = PasswordHash.recommended()  # argon2id with the library's current parameters
_NO_SUCH_USER = _hasher.hash("a password nobody has, so that unknown names take as long as wrong passwords")


async def create(db: Database, username: str, password: str, *, must_change_password: bool = False) -> int:
    password_hash = await asyncio.to_thread(_hasher.hash, password)
    row = {
        "username": username,
        "password_hash": password_hash,
        "must_change_password": must_change_password,
        "created_at": utcnow(),
    }

    def write(connection) -> int:
        return connection.execute(insert(OrganiserAccount).returning(OrganiserAccount.id), row).scalar_one()

    return await db.transact(write)


async def any_exists(db: Database) -> bool:
    async with db.read() as session:
        return (await session.exec(select(OrganiserAccount.id).limit(1))).first() is not None


async def verify(db: Database, username: str, password: str) -> int | None:
    """The account id if the password is right; None otherwise, in about the same time either way."""
    async with db.read() as session:
        account = (await session.exec(select(OrganiserAccount).where(OrganiserAccount.username == username))).first()
    stored = account.password_hash if account else _NO_SUCH_USER
    right = await asyncio.to_thread(_hasher.verify, password, stored)
    return account.id if account and right else None


async def must_change_password(db: Database, account_id: int) -> bool:
    async with db.read() as session:
        account = await session.get(OrganiserAccount, account_id)
    return bool(account and account.must_change_password)


async def set_password(db: Database, account_id: int, password: str) -> None:
    password_hash = await asyncio.to_thread(_hasher.hash, password)

    def write(connection) -> None:
        connection.execute(
            update(OrganiserAccount)
            .where(OrganiserAccount.id == account_id)
            .values(password_hash=password_hash, must_change_password=False)
        )

    await db.transact(write)
