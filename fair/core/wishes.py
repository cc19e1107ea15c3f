"""Residents' wishes (需求意向): what citizens ask for, moderated, supported, and answered by orders.

群众点单、政府买单.  A resident picks a district and street, a category and an
audience, and writes a short wish, or supports a wish already there.  A
support is a person's (a confirmed phone, ``fair.core.residents``), once per
wish, ever: ``supports`` is the number of distinct residents behind a wish,
and a test recounts it from ``WishSupport``.  A phone with no confirmed
number may still write a wish (it goes to an organiser like every wish) but
not support one; its wishes are counted per device and the adapter limits
them per address.  A wish is public once an organiser approves it;
duplicates are merged into one (their supporters join it, each counted
once) and the rest may be rejected with a reason.  Teams see the wishes beside the offerings, and terms may name the
wish they answer: when such terms become an order, the wish shows who
answered it and with what, live, on the public page.

Lock order (see ``fair.core.guards``): wishes come after the team and before
the fair; two wishes (a merge) in id order.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Integer, bindparam, exists, func, insert, select, update
from sqlmodel import col

from fair.core.actors import Role
from fair.core.commands import Tx, command
from fair.core.errors import N_, Code, FairError
from fair.core.guards import current_fair
from fair.core.inputs import ModerateWish, SubmitWish, WishRef
from fair.core.residents import require_resident
from fair.core.rows import Row, get, insert_row, labelled, new, returned, unpack
from fair.core.views import answer_view, wish_view
from fair.i18n import SHANGHAI
from fair.models import CITY, Order, Supplier, Team, Wish, WishStatus, WishSupport

WISHES_A_DAY = 5  # a resident (or a device) may submit this many a day; more is a flood, not a neighbourhood's voice

SUPPORTED = select(WishSupport.id).where(
    WishSupport.wish_id == bindparam("wish_id"), WishSupport.resident_id == bindparam("resident_id")
)
SUBMITTED_BY_DEVICE = select(func.count()).where(
    Wish.fair_id == bindparam("fair_id"), Wish.device == bindparam("device"), Wish.created_at >= bindparam("since")
)
SUBMITTED_BY_RESIDENT = select(func.count()).where(
    Wish.fair_id == bindparam("fair_id"),
    Wish.resident_id == bindparam("resident_id"),
    Wish.created_at >= bindparam("since"),
)
LOCK = select(Wish.__table__).where(Wish.id == bindparam("wish_id")).with_for_update()
SUPPORTERS = select(func.count()).where(WishSupport.wish_id == bindparam("wish_id")).scalar_subquery()
# Supports are a recount of the wish's supporters, never a sum that can drift; run only once the wish is locked
# (``LOCK``): on PostgreSQL a statement that waits for a row lock recounts with the snapshot it started with,
# and would miss a support committed while it waited.
RECOUNT = (
    update(Wish)
    .where(Wish.id == bindparam("wish_id"), Wish.status == WishStatus.approved)
    .values(supports=SUPPORTERS)
    .returning(Wish.__table__)
)
TAKE_ANSWER = (
    update(Wish)
    .where(Wish.id == bindparam("wish_id"), Wish.status == WishStatus.approved)
    .values(answers=Wish.answers + 1)
    .returning(Wish.__table__)
)
# The orders that answer wishes, with the names shown beside them: one wish's here, a fair's in ``queries``.
ANSWERING = (
    select(*labelled(Order, "o_"), Team.name.label("team_name"), Supplier.name.label("supplier_name"))
    .join(Team, Team.id == Order.team_id)
    .join(Supplier, Supplier.id == Order.supplier_id)
    .where(col(Order.voided_at).is_(None))  # a voided order answers nothing
    .order_by(Order.id)
)
ANSWERS = ANSWERING.where(Order.wish_id == bindparam("wish_id"))


def today(now: dt.datetime) -> dt.date:
    """The day in Nanjing: a resident's "once a day" starts at local midnight."""
    return now.astimezone(SHANGHAI).date()


@command("wish.submit", SubmitWish, Role.resident)
def submit(tx: Tx, data: SubmitWish) -> dict[str, Any]:
    """A resident's wish, waiting for an organiser; its author supports it if their number is confirmed."""
    fair = current_fair(tx)
    device, resident_id = tx.actor.resident_key, tx.actor.resident_id
    midnight = dt.datetime.combine(today(tx.now), dt.time(), SHANGHAI)
    if resident_id is None:
        submitted = tx.run(SUBMITTED_BY_DEVICE, {"fair_id": fair.id, "device": device, "since": midnight})
    else:
        submitted = tx.run(SUBMITTED_BY_RESIDENT, {"fair_id": fair.id, "resident_id": resident_id, "since": midnight})
    if submitted.scalar_one() >= WISHES_A_DAY:
        raise FairError(
            Code.rate_limited, N_("You have sent %(count)s wishes today: that is the most."), count=WISHES_A_DAY
        )
    supports = 0 if resident_id is None else 1
    wish = insert_row(
        tx,
        Wish,
        new(
            Wish,
            fair_id=fair.id,
            supports=supports,
            device=device,
            resident_id=resident_id,
            created_at=tx.now,
            **data.model_dump(),
        ),
    )
    if resident_id is not None:
        insert_row(tx, WishSupport, new(WishSupport, wish_id=wish.id, resident_id=resident_id, created_at=tx.now))
    return announce(tx, wish, was_public=False)


@command("wish.support", WishRef, Role.resident)
def support(tx: Tx, data: WishRef) -> dict[str, Any]:
    """One more person wants this: once per resident and wish.  A wish merged away is supported where it went."""
    resident_id = require_resident(tx)
    wish = get(tx, Wish, data.wish_id)
    if wish.status == WishStatus.merged and wish.merged_into is not None:
        wish = get(tx, Wish, wish.merged_into)
    wish = returned(tx.run(LOCK, {"wish_id": wish.id}))  # first: what follows reads what others committed
    if wish.status != WishStatus.approved:
        raise FairError(Code.invalid_state, N_("This wish is not open for support."))
    if tx.run(SUPPORTED, {"wish_id": wish.id, "resident_id": resident_id}).first() is not None:
        raise FairError(Code.duplicate, N_("You support this wish already: each person counts once."))
    insert_row(tx, WishSupport, new(WishSupport, wish_id=wish.id, resident_id=resident_id, created_at=tx.now))
    supported = returned(tx.run(RECOUNT, {"wish_id": wish.id}))
    if supported is None:
        raise FairError(Code.invalid_state, N_("This wish is not open for support."))
    return announce(tx, supported, was_public=True)


@command("wish.moderate", ModerateWish, Role.organiser)
def moderate(tx: Tx, data: ModerateWish) -> dict[str, Any]:
    """Approve a wish (it becomes public), reject it with a reason, or merge a duplicate into another."""
    current_fair(tx)
    wish = get(tx, Wish, data.wish_id)
    if data.decision == "approve":
        return _approve(tx, wish)
    if data.decision == "reject":
        return _reject(tx, wish, data.reason)
    return _merge(tx, wish, data.into)


def _approve(tx: Tx, wish: Row) -> dict[str, Any]:
    moving = (WishStatus.pending, WishStatus.rejected)
    approved = _move(tx, wish.id, moving, status=WishStatus.approved, reason="", moderated_at=tx.now)
    if approved is None:
        raise _cannot(wish)
    return announce(tx, approved, was_public=False)


def _reject(tx: Tx, wish: Row, reason: str) -> dict[str, Any]:
    if not reason:
        raise FairError(Code.invalid_input, N_("Say why the wish is rejected: residents read the reason."))
    moving = (WishStatus.pending, WishStatus.approved)
    rejected = _move(tx, wish.id, moving, status=WishStatus.rejected, reason=reason, moderated_at=tx.now)
    if rejected is None:
        raise _cannot(wish)
    return announce(tx, rejected, was_public=wish.status == WishStatus.approved)


def _merge(tx: Tx, wish: Row, into: int | None) -> dict[str, Any]:
    """The duplicate ends as merged, and its supporters join the wish it repeats, each counted once, in one go."""
    if into is None or into == wish.id:
        raise FairError(Code.invalid_input, N_("Choose another wish to merge this one into."))
    target = get(tx, Wish, into)
    if target.status != WishStatus.approved:
        raise FairError(Code.invalid_state, N_("A wish can only be merged into an approved wish."))
    if into < wish.id:  # the lower id is locked first
        tx.run(LOCK, {"wish_id": into})
    moving = (WishStatus.pending, WishStatus.approved)
    merged = _move(tx, wish.id, moving, status=WishStatus.merged, merged_into=into, moderated_at=tx.now)
    if merged is None:
        raise _cannot(wish)
    tx.run(LOCK, {"wish_id": into})  # held already if its id is the lower; before its supporters are read
    tx.run(JOIN_SUPPORTERS, {"source": wish.id, "target": into})
    grown = returned(tx.run(RECOUNT, {"wish_id": into}))
    if grown is None:
        raise FairError(Code.invalid_state, N_("A wish can only be merged into an approved wish."))
    result = announce(tx, merged, was_public=wish.status == WishStatus.approved)
    announce(tx, grown, was_public=True)
    return result


_HELD = WishSupport.__table__.alias("held")  # the target's supports, beside the duplicate's
JOIN_SUPPORTERS = insert(WishSupport).from_select(  # the duplicate's supporters who do not support the target yet
    ["wish_id", "resident_id", "created_at"],
    select(bindparam("target", type_=Integer), WishSupport.resident_id, WishSupport.created_at).where(
        WishSupport.wish_id == bindparam("source"),
        ~exists().where(_HELD.c.wish_id == bindparam("target"), _HELD.c.resident_id == WishSupport.resident_id),
    ),
)


def _move(tx: Tx, wish_id: int, sources: tuple[WishStatus, ...], **values: Any) -> Row | None:
    """Change a wish that is in one of ``sources`` and has no answer yet: an answered wish stays as it is."""
    statement = update(Wish).where(Wish.id == wish_id, col(Wish.status).in_(sources))
    if values["status"] != WishStatus.approved:
        statement = statement.where(Wish.answers == 0)
    return returned(tx.run(statement.values(**values).returning(Wish.__table__)))


def _cannot(wish: Row) -> FairError:
    if wish.answers:
        return FairError(Code.invalid_state, N_("Orders answer this wish already: it stays as it is."))
    return FairError(Code.invalid_state, N_("This wish has been moderated already."))


def require_answerable(tx: Tx, wish_id: int | None, team: Row, category: str) -> None:
    """Terms may name a wish only if it is public, of the offering's category, and where the team serves.

    A city-level team serves every district; a district's teams serve their own.
    """
    if wish_id is None:
        return
    wish = get(tx, Wish, wish_id)
    if wish.status != WishStatus.approved:
        raise FairError(Code.invalid_state, N_("This wish is not open any more."))
    if team.district not in (CITY, wish.district):
        raise FairError(Code.invalid_input, N_("This wish comes from another district."))
    if wish.category != category:
        raise FairError(Code.invalid_input, N_("This wish asks for another kind of service."))


def take_answer(tx: Tx, wish_id: int | None) -> Row | None:
    """Count an order as an answer to its wish, under the wish's lock; the wish it ended up in if merged.

    None when the terms named no wish, or the wish was rejected meanwhile: the
    order stands, unlinked.
    """
    for _ in range(2):  # the wish itself, then the wish it was merged into
        if wish_id is None:
            return None
        answered = returned(tx.run(TAKE_ANSWER, {"wish_id": wish_id}))
        if answered is not None:
            return answered
        wish_id = get(tx, Wish, wish_id).merged_into
    return None


def answers_of(rows: Any) -> list[dict[str, Any]]:
    """``ANSWERING`` rows (mappings) as answer views, in order."""
    return [answer_view(unpack(row, Order, "o_"), row["team_name"], row["supplier_name"]) for row in rows]


def announce(tx: Tx, wish: Row, *, was_public: bool) -> dict[str, Any]:
    """The wish's event, with the orders that answer it read now, after its lock."""
    view = wish_view(wish, answers_of(tx.run(ANSWERS, {"wish_id": wish.id}).mappings()))
    tx.emit("wish.updated", {"wish": view, "was_public": was_public})
    return {"wish": view}
