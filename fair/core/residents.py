"""A resident is a person with a phone: a mobile number confirmed by a one-time code (短信验证码).

A cookie is not a person: anyone can ask the fair for a new one.  What the
residents' voice counts (supports, seats, ratings) counts residents, and a
resident is a mobile number the phone proved it holds by typing back a code
sent to it.  Minting one more identity takes one more number that receives
text messages, which is what Chinese public services rely on too; the
per-number limits below live in the database, so several workers and a lost
Redis change nothing about them (the per-address limits are the adapters',
``fair.limits``).

A phone that gives no number still reads everything and may submit a wish,
which an organiser reads before anyone sees it; it cannot support, take a
seat or rate (``require_resident``).

Codes: six digits, kept as a salted hash, valid for ``CODE_MINUTES``, five
wrong tries each (counted even though the refusal rolls back, see
``Refusal``), one code a minute and ``CODES_A_DAY`` a day per number; asking
for a new one ends the one before.  The text message is written to the
outbox (``TextMessage``) in the same transaction that makes the code: the
gateway adapter sends it (``fair.sms``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StrictStr
from sqlalchemy import bindparam, func, select, update
from sqlmodel import col

from fair.core.actors import Role
from fair.core.commands import Refusal, Tx, command
from fair.core.errors import N_, Code, FairError
from fair.core.inputs import Input, SixDigits
from fair.core.rows import insert_row, new
from fair.i18n import SHANGHAI
from fair.models import PhoneCode, Resident, TextMessage

CODE_MINUTES = 10  # a code is good for this long
RESEND_SECONDS = 60  # between two codes to one number
CODES_A_DAY = 5  # codes to one number in a day (Nanjing's): enough for a slow typist, too few to be a pager
TRIES = 5  # wrong codes typed against one code before it ends

_MOBILE = re.compile(r"1[3-9]\d{9}")


def _mobile(value: Any) -> Any:
    """A mainland mobile number as people type it: spaces, dashes and a +86 in front are fine."""
    if not isinstance(value, str):
        return value
    digits = re.sub(r"[\s\-()]", "", value)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    return digits


Mobile = Annotated[StrictStr, BeforeValidator(_mobile), Field(pattern=r"^1[3-9]\d{9}$")]


class AskCode(Input):
    phone: Mobile


class Confirm(Input):
    phone: Mobile
    code: SixDigits


def masked(phone: str) -> str:
    """What a screen shows of a number: 138****5678."""
    return phone[:3] + "****" + phone[-4:]


def _digest(salt: str, phone: str, code: str) -> str:
    return hashlib.sha256(f"{salt}:{phone}:{code}".encode()).hexdigest()


def _midnight(now: dt.datetime) -> dt.datetime:
    return dt.datetime.combine(now.astimezone(SHANGHAI).date(), dt.time(), SHANGHAI)


CODES_SINCE = select(func.count(), func.max(PhoneCode.created_at)).where(
    PhoneCode.phone == bindparam("phone"), PhoneCode.created_at >= bindparam("since")
)
LAST_CODE = (
    select(PhoneCode.__table__)
    .where(PhoneCode.phone == bindparam("phone"), col(PhoneCode.used_at).is_(None))
    .order_by(PhoneCode.id.desc())
    .limit(1)
)


def message(code: str) -> str:
    """The text message, as Chinese public services word it: the code, how long it lasts, keep it to yourself."""
    return f"【南京公共文化云】您的验证码是 {code}，{CODE_MINUTES} 分钟内有效。请勿告诉他人。"


@command("resident.ask_code", AskCode, Role.resident)
def ask_code(tx: Tx, data: AskCode) -> dict[str, Any]:
    """Send a one-time code to a mobile number: once a minute, ``CODES_A_DAY`` a day per number."""
    count, last = tx.run(CODES_SINCE, {"phone": data.phone, "since": _midnight(tx.now)}).one()
    if last is not None:
        last = last if last.tzinfo else last.replace(tzinfo=dt.UTC)
        wait = RESEND_SECONDS - int((tx.now - last).total_seconds())
        if wait > 0:
            raise FairError(
                Code.rate_limited, N_("A code was just sent to this number. Ask again in %(seconds)s s."), seconds=wait
            )
    if count >= CODES_A_DAY:
        raise FairError(
            Code.rate_limited,
            N_("%(count)s codes went to this number today: that is the most. Try again tomorrow."),
            count=CODES_A_DAY,
        )
    tx.run(
        update(PhoneCode).where(PhoneCode.phone == data.phone, col(PhoneCode.used_at).is_(None)).values(used_at=tx.now)
    )
    code, salt = f"{secrets.randbelow(10**6):06d}", secrets.token_hex(8)
    expires = tx.now + dt.timedelta(minutes=CODE_MINUTES)
    insert_row(
        tx,
        PhoneCode,
        new(
            PhoneCode,
            phone=data.phone,
            digest=_digest(salt, data.phone, code),
            salt=salt,
            expires_at=expires,
            created_at=tx.now,
        ),
    )
    insert_row(tx, TextMessage, new(TextMessage, phone=data.phone, text=message(code), created_at=tx.now))
    return {"phone": masked(data.phone), "expires_at": expires.isoformat(), "resend_after": RESEND_SECONDS}


@command("resident.confirm", Confirm, Role.resident)
def confirm(tx: Tx, data: Confirm) -> dict[str, Any]:
    """The code sent to the number, typed back: the phone is that resident from now on."""
    pending = tx.run(LAST_CODE, {"phone": data.phone}).mappings().first()
    if pending is None or _aware(pending["expires_at"]) <= tx.now:
        raise FairError(Code.invalid_state, N_("No code is waiting for this number. Ask for a new one."))
    if pending["tries"] >= TRIES:
        raise FairError(Code.invalid_state, N_("Too many wrong codes. Ask for a new one."))
    if not hmac.compare_digest(pending["digest"], _digest(pending["salt"], data.phone, data.code)):
        left = TRIES - pending["tries"] - 1

        def count_the_try(tx: Tx) -> None:
            tx.run(update(PhoneCode).where(PhoneCode.id == pending["id"]).values(tries=PhoneCode.tries + 1))

        wrong = FairError(Code.invalid_input, N_("That code is not right: %(left)s tries left."), left=left)
        raise Refusal(wrong, count_the_try)
    tx.run(update(PhoneCode).where(PhoneCode.id == pending["id"]).values(used_at=tx.now))
    known = tx.run(select(Resident.id).where(Resident.phone == data.phone)).scalar_one_or_none()
    if known is None:
        known = insert_row(tx, Resident, new(Resident, phone=data.phone, created_at=tx.now, confirmed_at=tx.now)).id
    else:
        tx.run(update(Resident).where(Resident.id == known).values(confirmed_at=tx.now))
    return {"resident_id": known, "phone": masked(data.phone)}


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def require_resident(tx: Tx) -> int:
    """The person acting: a resident whose number is confirmed, or a refusal that says how to become one."""
    if tx.actor.resident_id is None:
        raise FairError(
            Code.unconfirmed,
            N_("Confirm your mobile number first: supports, seats and ratings count people, one each."),
        )
    return tx.actor.resident_id
