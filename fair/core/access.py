"""Join cards and the devices they sign in: who may connect as which booth, team or projector.

The organiser issues a card (a credential) for a booth, a team or a projector;
the adapter turns its id into a signed token printed as a QR code.  A card is
not a session.  Scanning it *enrols* a device: the device gets a session of
its own (``DeviceSession``), and from then on acts with that session, never
with the card.  So:

- a card signs in at most ``max_devices`` devices at once (the organiser's
  choice per card); a photographed card cannot add devices to a full card;
- the organiser sees each card's devices, and signs out one device (a
  stranger's) without signing out the others (the genuine tablet);
- revoking the card signs out every device it enrolled;
- a card stops enrolling and admitting devices some hours after the fair
  closes (``DevicePolicy.hours_after_close``), and a device session lasts
  ``DevicePolicy.session_hours`` at most.

A signed-out device's next command is refused by the one write path
(``fair.core.commands``, which holds a share lock on the session row until the
command commits), and the live adapter sends its screens away.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field, StrictInt
from sqlalchemy import Connection, bindparam, func, select, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from fair.core.actors import Actor, Role
from fair.core.commands import CARD_NOT_VALID as NOT_VALID
from fair.core.commands import SIGNED_OUT, Tx, command
from fair.core.errors import N_, Code, FairError
from fair.core.guards import current_fair
from fair.core.inputs import Id, Input, Label
from fair.core.rows import Row, get, insert_row, new, not_found
from fair.core.views import credential_view
from fair.db import Database
from fair.models import Credential, CredentialKind, DeviceSession, Event, Supplier, Team, utcnow

ROLE_OF = {
    CredentialKind.supplier: Role.supplier,
    CredentialKind.team: Role.team,
    CredentialKind.projector: Role.public,
}
DEFAULT_DEVICES = 3
MAX_DEVICES = 20
Devices = Annotated[StrictInt, Field(ge=1, le=MAX_DEVICES)]

EXPIRED = N_("This join card has expired: the fair is over.")
FULL = N_(
    "This join card has already signed in %(count)s devices, as many as the organiser allows. "
    "Ask the organiser to sign one out."
)


# When the fair closed, from the event log: a fair closes once and never opens again.
CLOSED_AT = select(func.max(Event.created_at)).where(Event.fair_id == bindparam("fair_id"), Event.type == "fair.closed")


@dataclass(frozen=True)
class DevicePolicy:
    """How long cards and device sessions last (the operator's settings)."""

    hours_after_close: float = 24.0
    session_hours: float = 7 * 24.0


class IssueCredential(Input):
    kind: CredentialKind
    party_id: Id | None = None
    label: Label = ""
    max_devices: Devices = DEFAULT_DEVICES


class CredentialRef(Input):
    credential_id: Id


class LimitDevices(Input):
    credential_id: Id
    max_devices: Devices


class DeviceRef(Input):
    device_id: Id


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
    """The card admits nobody any more, and every device it signed in is signed out in the same transaction."""
    credential = get(tx, Credential, data.credential_id)
    if credential.revoked_at is not None:
        raise FairError(Code.invalid_state, N_("This credential is already revoked."))
    tx.run(update(Credential).where(Credential.id == credential.id).values(revoked_at=tx.now))
    tx.run(
        update(DeviceSession)
        .where(DeviceSession.credential_id == credential.id, DeviceSession.revoked_at.is_(None))
        .values(revoked_at=tx.now)
    )
    credential.revoked_at = tx.now
    return _announce(tx, "access.revoked", credential)


@command("access.limit", LimitDevices, Role.organiser)
def limit(tx: Tx, data: LimitDevices) -> dict[str, Any]:
    """How many devices a card may have signed in at once; devices already in stay until signed out."""
    credential = get(tx, Credential, data.credential_id)
    tx.run(update(Credential).where(Credential.id == credential.id).values(max_devices=data.max_devices))
    # In the log, so that the history says who let a card sign in how many devices, and when.
    tx.emit("access.limited", {"credential": credential_view(credential), "max_devices": data.max_devices})
    return {"credential_id": credential.id, "max_devices": data.max_devices}


@command("device.sign_out", DeviceRef, Role.organiser)
def sign_out(tx: Tx, data: DeviceRef) -> dict[str, Any]:
    """Sign out one device of a card (a stranger's); the card's other devices stay signed in."""
    row = (
        tx.run(
            select(DeviceSession.__table__, Credential.fair_id)
            .join(Credential, Credential.id == DeviceSession.credential_id)
            .where(DeviceSession.id == data.device_id)
        )
        .mappings()
        .first()
    )
    if row is None or row["fair_id"] != tx.fair_id:
        raise not_found("device", data.device_id)
    if row["revoked_at"] is not None:
        raise FairError(Code.invalid_state, N_("This device is already signed out."))
    tx.run(update(DeviceSession).where(DeviceSession.id == data.device_id).values(revoked_at=tx.now))
    device = Row(**{key: value for key, value in row.items() if key != "fair_id"})
    device.revoked_at = tx.now
    shown = device_view(device, tx.now)
    tx.emit(
        "access.signed_out", {"credential": credential_view(get(tx, Credential, device.credential_id)), "device": shown}
    )
    return {"device": shown}


async def enrol(
    db: Database, credential_id: int, token_hash: str, *, label: str, address: str, policy: DevicePolicy
) -> Actor:
    """Sign a device in with a card: a session of its own, if the card is valid and not full.

    The card's row is locked first, so that two devices scanning the last free place of a
    card at once cannot both take it, and a revoke waits for (or is seen by) the enrolment.
    """

    def work(connection: Connection) -> Actor:
        now = utcnow()
        credential = (
            connection.execute(select(Credential.__table__).where(Credential.id == credential_id).with_for_update())
            .mappings()
            .first()
        )
        if credential is None or credential["revoked_at"] is not None:
            raise FairError(Code.forbidden, NOT_VALID)
        _require_not_expired(_closed_at(connection, credential["fair_id"]), policy, now)
        active = connection.execute(
            select(func.count())
            .select_from(DeviceSession)
            .where(
                DeviceSession.credential_id == credential_id,
                DeviceSession.revoked_at.is_(None),
                DeviceSession.expires_at > now,
            )
        ).scalar_one()
        if active >= credential["max_devices"]:
            raise FairError(Code.forbidden, FULL, count=active)
        device = new(
            DeviceSession,
            credential_id=credential_id,
            token_hash=token_hash,
            label=label[:120],
            address=address[:64],
            created_at=now,
            expires_at=now + dt.timedelta(hours=policy.session_hours),
        )
        device_id = connection.execute(
            DeviceSession.__table__.insert().returning(DeviceSession.id),
            {key: value for key, value in vars(device).items() if key != "id"},
        ).scalar_one()
        return _actor(credential, device_id)

    return await db.transact(work)


async def leave(db: Database, token_hash: str) -> int | None:
    """A device signs itself out (its browser signs out, or joins with another card): its id, if it was in."""

    def work(connection: Connection) -> int | None:
        ended = connection.execute(
            update(DeviceSession)
            .where(DeviceSession.token_hash == token_hash, DeviceSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
            .returning(DeviceSession.id)
        )
        return ended.scalar_one_or_none()

    return await db.transact(work)


async def card(session: AsyncSession, credential_id: int, policy: DevicePolicy) -> dict[str, Any]:
    """What a card signs in as, for the device to confirm before it enrols: its kind and the party's name."""
    credential = await session.get(Credential, credential_id)
    if credential is None or credential.revoked_at is not None:
        raise FairError(Code.forbidden, NOT_VALID)
    closed_at = (await session.exec(CLOSED_AT, params={"fair_id": credential.fair_id})).scalar_one_or_none()
    _require_not_expired(closed_at, policy, utcnow())
    name = credential.label
    if credential.kind == CredentialKind.supplier:
        supplier = await session.get(Supplier, credential.party_id)
        name = f"{supplier.booth} {supplier.name}"
    elif credential.kind == CredentialKind.team:
        name = (await session.get(Team, credential.party_id)).name
    return {"credential_id": credential.id, "kind": credential.kind, "name": name, "fair_id": credential.fair_id}


async def valid_cards(session: AsyncSession, fair_id: int) -> list[int]:
    """The fair's cards that are not revoked: among them, the one a typed join code names."""
    rows = await session.exec(
        select(Credential.id).where(Credential.fair_id == fair_id, col(Credential.revoked_at).is_(None))
    )
    return list(rows.scalars().all())


async def revoked_cards(session: AsyncSession, fair_id: int) -> list[int]:
    """The fair's revoked cards: a code typed from one of them is told the card is revoked, not mistyped."""
    rows = await session.exec(
        select(Credential.id).where(Credential.fair_id == fair_id, col(Credential.revoked_at).is_not(None))
    )
    return list(rows.scalars().all())


async def admit(session: AsyncSession, token_hash: str, policy: DevicePolicy) -> Actor:
    """The actor a device session admits; a signed-out, expired or unknown one admits nobody."""
    now = utcnow()
    row = (
        await session.exec(
            select(DeviceSession, Credential)
            .join(Credential, Credential.id == DeviceSession.credential_id)
            .where(DeviceSession.token_hash == token_hash)
        )
    ).first()
    if row is None:
        raise FairError(Code.forbidden, NOT_VALID)
    device, credential = row
    if credential.revoked_at is not None:
        raise FairError(Code.forbidden, NOT_VALID)
    if device.revoked_at is not None or device.expires_at <= now:
        raise FairError(Code.forbidden, SIGNED_OUT)
    closed_at = (await session.exec(CLOSED_AT, params={"fair_id": credential.fair_id})).scalar_one_or_none()
    _require_not_expired(closed_at, policy, now)
    return _actor(credential.model_dump(), device.id)


async def register(session: AsyncSession, actor: Actor, policy: DevicePolicy) -> dict[str, Any]:
    """The organiser's list of every card's devices, and when the cards expire."""
    if actor.role != Role.organiser:
        raise FairError(Code.forbidden, N_("Your role may not do this."))
    now = utcnow()
    credentials = (
        await session.exec(
            select(Credential.id, Credential.max_devices)
            .where(Credential.fair_id == actor.fair_id)
            .order_by(Credential.id)
        )
    ).all()
    devices = (
        await session.exec(
            select(DeviceSession)
            .join(Credential, Credential.id == DeviceSession.credential_id)
            .where(Credential.fair_id == actor.fair_id)
            .order_by(DeviceSession.id)
        )
    ).all()
    by_card: dict[int, list[dict[str, Any]]] = {credential_id: [] for credential_id, _ in credentials}
    for (device,) in devices:
        by_card[device.credential_id].append(device_view(device, now))
    closed_at = (await session.exec(CLOSED_AT, params={"fair_id": actor.fair_id})).scalar_one_or_none()
    expires = None if closed_at is None else closed_at + dt.timedelta(hours=policy.hours_after_close)
    return {
        "cards_expire_at": expires.isoformat() if expires else None,
        "cards": [
            {"credential_id": credential_id, "max_devices": max_devices, "devices": by_card[credential_id]}
            for credential_id, max_devices in credentials
        ],
    }


def device_view(device: Any, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": device.id,
        "credential_id": device.credential_id,
        "label": device.label,
        "address": device.address,
        "created_at": device.created_at.isoformat(),
        "expires_at": device.expires_at.isoformat(),
        "signed_in": device.revoked_at is None and device.expires_at > now,
    }


def _closed_at(connection: Any, fair_id: int) -> dt.datetime | None:
    return connection.execute(CLOSED_AT, {"fair_id": fair_id}).scalar_one_or_none()


def _require_not_expired(closed_at: dt.datetime | None, policy: DevicePolicy, now: dt.datetime) -> None:
    if closed_at is not None and now >= closed_at + dt.timedelta(hours=policy.hours_after_close):
        raise FairError(Code.forbidden, EXPIRED)


def _actor(credential: Any, device_id: int) -> Actor:
    role = ROLE_OF[CredentialKind(credential["kind"])]
    return Actor(role, credential["fair_id"], credential["party_id"], credential["id"], device_id)


def _announce(tx: Tx, type: str, credential: Row) -> dict[str, Any]:
    view = credential_view(credential)
    tx.emit(type, {"credential": view})
    return {"credential": view}
