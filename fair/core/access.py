"""Join credentials: who may connect as which booth, team or projector.

The organiser issues a credential for a booth, a team or a projector; the
adapter turns its id into a signed token and prints it as a QR link.  A
revoked credential admits nobody, and screens already connected with it are
sent away (``access.revoked`` is an event like any other).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, StrictInt, StrictStr
from sqlalchemy import update
from sqlmodel.ext.asyncio.session import AsyncSession

from fair.core.actors import Actor, Role
from fair.core.commands import Tx, command
from fair.core.errors import N_, Code, FairError
from fair.core.guards import current_fair
from fair.core.inputs import Id, Input
from fair.core.rows import Row, get, insert_row, new
from fair.core.views import credential_view
from fair.models import Credential, CredentialKind, Supplier, Team

ROLE_OF = {
    CredentialKind.supplier: Role.supplier,
    CredentialKind.team: Role.team,
    CredentialKind.projector: Role.public,
}


class IssueCredential(Input):
    kind: CredentialKind
    party_id: Annotated[StrictInt, Field(ge=1, le=2**62)] | None = None
    label: Annotated[StrictStr, Field(max_length=60)] = ""


class CredentialRef(Input):
    credential_id: Id


@command("access.issue", IssueCredential, Role.organiser)
def issue(tx: Tx, data: IssueCredential) -> dict[str, Any]:
    current_fair(tx)
    if data.kind == CredentialKind.projector:
        if data.party_id is not None:
            raise FairError(Code.invalid_input, N_("A projector belongs to no party."))
    elif data.party_id is None:
        raise FairError(Code.invalid_input, N_("Say which booth or team this credential is for."))
    else:
        get(tx, Supplier if data.kind == CredentialKind.supplier else Team, data.party_id)
    credential = insert_row(tx, Credential, new(Credential, fair_id=tx.fair_id, created_at=tx.now, **data.model_dump()))
    return _announce(tx, "access.issued", credential)


@command("access.revoke", CredentialRef, Role.organiser)
def revoke(tx: Tx, data: CredentialRef) -> dict[str, Any]:
    credential = get(tx, Credential, data.credential_id)
    if credential.revoked_at is not None:
        raise FairError(Code.invalid_state, N_("This credential is already revoked."))
    tx.run(update(Credential).where(Credential.id == credential.id).values(revoked_at=tx.now))
    credential.revoked_at = tx.now
    return _announce(tx, "access.revoked", credential)


async def admit(session: AsyncSession, credential_id: int) -> Actor:
    """The actor a credential admits; a revoked or unknown one admits nobody."""
    credential = await session.get(Credential, credential_id)
    if credential is None or credential.revoked_at is not None:
        raise FairError(Code.forbidden, N_("This join link is not valid any more. Ask the organiser for a new one."))
    return Actor(ROLE_OF[CredentialKind(credential.kind)], credential.fair_id, credential.party_id, credential.id)


def _announce(tx: Tx, type: str, credential: Row) -> dict[str, Any]:
    view = credential_view(credential)
    tx.emit(type, {"credential": view})
    return {"credential": view}
