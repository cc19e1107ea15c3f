"""Who is calling: one answer for the sockets and the HTTP routes alike.

A caller shows a session token (``fair.tokens``): a device's, which a join
card enrolled, or an organiser's sign-in.  No token is the public.  A join
card itself is never a session: it only enrols a device (``enrol``).
"""

from __future__ import annotations

import math
from typing import Any

from fair import accounts
from fair.core import Actor, Code, FairError, access, sessions
from fair.core.access import DevicePolicy
from fair.core.commands import CARD_NOT_VALID
from fair.core.errors import N_
from fair.db import Database
from fair.limits import Limits
from fair.tokens import DEVICE, ORGANISER, Tokens


async def authenticate(db: Database, tokens: Tokens, fair_id: int, token: Any, policy: DevicePolicy) -> Actor:
    """The actor a session token admits: the public when there is no token."""
    if not token:
        return Actor.public(fair_id)
    claim = tokens.read_session(token)
    if claim is None:
        raise FairError(Code.forbidden, CARD_NOT_VALID)
    async with db.read() as session:
        if claim.kind == ORGANISER:
            actor, _account = await sessions.admit(session, claim.digest, fair_id)
            return actor
        actor = await access.admit(session, claim.digest, policy)
    if actor.fair_id != fair_id:
        raise FairError(Code.forbidden, CARD_NOT_VALID)
    return actor


async def organiser_account(db: Database, tokens: Tokens, token: Any) -> int | None:
    """The account of a signed-in organiser's token; None for any other token."""
    claim = tokens.read_session(token)
    if claim is None or claim.kind != ORGANISER:
        return None
    async with db.read() as session:
        try:
            _actor, account_id = await sessions.admit(session, claim.digest, None)
        except FairError:
            return None
    return account_id


async def enrol(
    db: Database, tokens: Tokens, credential_id: int, *, label: str, address: str, policy: DevicePolicy
) -> tuple[str, Actor]:
    """Sign a device in with a join card: its new session token, and who it acts as."""
    token, digest = tokens.new_session(DEVICE)
    actor = await access.enrol(db, credential_id, digest, label=label, address=address, policy=policy)
    return token, actor


async def sign_in(db: Database, tokens: Tokens, account_id: int, *, label: str, address: str) -> tuple[str, int]:
    """Open an organiser's session: its token and id."""
    token, digest = tokens.new_session(ORGANISER)
    return token, await sessions.open_session(db, account_id, digest, label=label, address=address)


async def sign_out(db: Database, tokens: Tokens, token: Any) -> tuple[str, int] | None:
    """End the session of ``token``, a device's or an organiser's: ("device" or "organiser", its id), or None."""
    claim = tokens.read_session(token)
    if claim is None:
        return None
    if claim.kind == ORGANISER:
        ended = await sessions.close_session(db, claim.digest)
        return None if ended is None else ("organiser", ended)
    ended = await access.leave(db, claim.digest)
    return None if ended is None else ("device", ended)


async def check_password(db: Database, limits: Limits, address: str, username: str, password: str) -> int:
    """The organiser account whose password this is; refused, with a back-off after repeated failures."""
    wait = await limits.sign_in_wait(address, username)
    if wait > 0:
        raise FairError(Code.rate_limited, TOO_MANY_TRIES, seconds=math.ceil(wait))
    async with limits.verification() as admitted:
        if not admitted:
            raise FairError(Code.rate_limited, BUSY, seconds=1)
        account_id = await accounts.verify(db, username, password)
    await limits.signed_in(address, username, ok=account_id is not None)
    if account_id is None:
        raise FairError(Code.forbidden, WRONG_PASSWORD)
    return account_id


WRONG_PASSWORD = N_("Wrong username or password.")
TOO_MANY_TRIES = N_("Too many failed attempts: try again in %(seconds)s seconds.")
BUSY = N_("Many people are signing in at this moment: try again in a second.")


def device_label(user_agent: str | None) -> str:
    """A short, printable name for a device, from its User-Agent: what the organiser sees in the console."""
    agent = (user_agent or "").strip()
    found = []
    for needle, name in (
        ("HarmonyOS", "HarmonyOS"),
        ("iPad", "iPad"),
        ("iPhone", "iPhone"),
        ("Android", "Android"),
        ("Windows", "Windows"),
        ("Mac OS X", "macOS"),
        ("Linux", "Linux"),
    ):
        if needle in agent:
            found.append(name)
            break
    for needle, name in (
        ("MicroMessenger", "WeChat"),
        ("Edg/", "Edge"),
        ("Chrome/", "Chrome"),
        ("Firefox/", "Firefox"),
        ("Safari/", "Safari"),
        ("python", "script"),
    ):
        if needle in agent:
            found.append(name)
            break
    return " · ".join(found) or "".join(c for c in agent[:40] if c.isprintable())
