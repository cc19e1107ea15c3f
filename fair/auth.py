"""Who is calling: one answer for the sockets and the HTTP routes alike."""

from __future__ import annotations

from typing import Any

from fair import accounts
from fair.core import Actor, Code, FairError
from fair.core.access import admit
from fair.core.errors import N_
from fair.db import Database
from fair.tokens import JoinToken, OrganiserToken, Tokens


async def authenticate(db: Database, tokens: Tokens, fair_id: int, token: Any) -> Actor:
    """The actor a token admits: the public when there is no token; with its credential when a join link."""
    if not token:
        return Actor.public(fair_id)
    claim = tokens.read(token)
    if isinstance(claim, OrganiserToken) and await accounts.exists(db, claim.account_id):
        return Actor.organiser(fair_id)
    if isinstance(claim, JoinToken):
        async with db.read() as session:
            actor = await admit(session, claim.credential_id)
        if actor.fair_id == fair_id:
            return actor
    raise FairError(Code.forbidden, N_("This join link is not valid any more. Ask the organiser for a new one."))
