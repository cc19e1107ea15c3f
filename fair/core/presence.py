"""Proof that a resident was at an event: a code shown there that changes every few minutes.

The venue's screen (its link's page, ``/venue/<token>/code``) shows a
six-digit code and a QR code carrying it, from half an hour before the
event to half an hour after.  The code is an HMAC of the delivery's own
secret and the current window of ``WINDOW_SECONDS``: it cannot be made up
without the secret, and one read out or photographed stops working within
two windows (the current one and the one before are accepted, so a code
read just before it changes still works).  A confirmed resident (one
person, ``fair.core.residents``) who types or scans it is recorded as
present, once per event; ratings (``fair.core.resident_ratings``) count
only from residents recorded present.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

from sqlalchemy import select

from fair.core.actors import Role
from fair.core.commands import Tx, command
from fair.core.errors import N_, Code, FairError
from fair.core.guards import current_fair
from fair.core.inputs import Id, Input, SixDigits
from fair.core.residents import require_resident
from fair.core.rows import Row, get, insert_row, new
from fair.models import Delivery, DeliveryState, Presence

WINDOW_SECONDS = 300  # a code is shown for five minutes and accepted for up to ten
SHOWN_BEFORE = dt.timedelta(minutes=30)  # the code is shown, and accepted, from this long before the start ...
SHOWN_AFTER = dt.timedelta(minutes=30)  # ... to this long after the end
NOT_HELD = (DeliveryState.missed, DeliveryState.cancelled)


class CheckIn(Input):
    delivery_id: Id
    code: SixDigits


def window(moment: dt.datetime) -> int:
    return int(moment.timestamp()) // WINDOW_SECONDS


def code_at(delivery: Any, moment: dt.datetime) -> str:
    """The code shown at ``delivery``'s venue at ``moment``."""
    mac = hmac.new(bytes.fromhex(delivery.presence_secret), f"{delivery.id}:{window(moment)}".encode(), hashlib.sha256)
    return f"{int.from_bytes(mac.digest()[:8]) % 10**6:06d}"


def showing(delivery: Any, now: dt.datetime) -> bool:
    """Whether the event is on, give or take half an hour: the only time its code is shown or accepted."""
    if delivery.state in NOT_HELD:
        return False
    return delivery.starts_at - SHOWN_BEFORE <= now <= delivery.ends_at + SHOWN_AFTER


def current_code(delivery: Any, now: dt.datetime) -> dict[str, Any] | None:
    """What the venue's screen shows now: the code and when it changes; None outside the event's time."""
    if not showing(delivery, now):
        return None
    changes = dt.datetime.fromtimestamp((window(now) + 1) * WINDOW_SECONDS, dt.UTC)
    return {"code": code_at(delivery, now), "changes_at": changes.isoformat()}


def refresh_seconds(now: dt.datetime) -> int:
    """Seconds until the code changes: when the venue's screen should load the next one."""
    return WINDOW_SECONDS - int(now.timestamp()) % WINDOW_SECONDS + 1


def accepts(delivery: Any, code: str, now: dt.datetime) -> bool:
    earlier = now - dt.timedelta(seconds=WINDOW_SECONDS)
    return any(hmac.compare_digest(code, code_at(delivery, moment)) for moment in (now, earlier))


def was_there(tx: Tx, delivery_id: int, resident_id: int) -> bool:
    found = select(Presence.id).where(Presence.delivery_id == delivery_id, Presence.resident_id == resident_id)
    return tx.run(found).first() is not None


def check_in(tx: Tx, delivery: Row, resident_id: int, code: str) -> None:
    """Record that ``resident_id`` is at ``delivery`` if ``code`` is the one shown there now (once: a second
    check-in changes nothing).  Refuses a code out of the event's time, or not the one shown."""
    if was_there(tx, delivery.id, resident_id):
        return
    if not showing(delivery, tx.now):
        raise FairError(
            Code.no_proof, N_("The code of this event is accepted only while it is on, from half an hour before.")
        )
    if not accepts(delivery, code, tx.now):
        raise FairError(
            Code.no_proof, N_("That is not the code shown at the event now. Type the one on the screen there.")
        )
    insert_row(
        tx,
        Presence,
        new(Presence, fair_id=tx.fair_id, delivery_id=delivery.id, resident_id=resident_id, created_at=tx.now),
    )


@command("presence.check_in", CheckIn, Role.resident)
def check_in_command(tx: Tx, data: CheckIn) -> dict[str, Any]:
    """A resident at the event types or scans its code: from then on their rating of it counts."""
    current_fair(tx)
    resident_id = require_resident(tx)
    delivery = get(tx, Delivery, data.delivery_id)
    check_in(tx, delivery, resident_id, data.code)
    return {"presence": {"delivery_id": delivery.id}}
