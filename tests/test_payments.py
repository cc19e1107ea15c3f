"""Payments recorded by the bureau: never more than was delivered, never for a voided order, never twice over
when two clerks record at once; every screen of the two parties and the console sees the order's paid total."""

from __future__ import annotations

import asyncio

import pytest

from fair.core import Code, FairError, statements
from tests.fairground import Fairground
from tests.truth import assert_events_tell_the_truth, screens_of, views


async def delivered_show(g: Fairground, delivered: int = 1) -> dict:
    """A two-performance order, ``delivered`` of them given."""
    order = (await g.order(g.library, g.troupe, g.show, quantity=2, dates=["2023-04-01", "2023-04-08"]))["order"]
    hall = (await g.do(g.library, "venue.add", {"name": "报告厅"}))["venue"]["id"]
    for day in ("2023-04-01", "2023-04-08")[:delivered]:
        payload = {"order_id": order["id"], "venue_id": hall, "day": day, "starts": "14:00", "ends": "16:00"}
        ref = {"delivery_id": (await g.do(g.library, "delivery.schedule", payload))["delivery"]["id"]}
        for step in ("delivery.confirm", "delivery.check_in", "delivery.complete"):
            await g.do(g.library, step, ref)
    return order


def payment(order: dict, fen: int, reference: str = "玄财付-0412") -> dict:
    return {"order_id": order["id"], "amount_fen": fen, "paid_on": "2023-04-20", "reference": reference}


async def test_a_payment_is_recorded_up_to_what_was_delivered_and_every_party_sees_it(fairground: Fairground):
    g = fairground
    before = await views(g.db, screens_of(g))
    order = await delivered_show(g)  # one of two performances at ¥2,000: ¥2,000 may be paid
    first = await g.do(g.organiser, "payment.record", payment(order, 150_000))
    assert first["order"]["paid_fen"] == 150_000 and first["payment"]["reference"] == "玄财付-0412"
    state = await g.state()
    with pytest.raises(FairError) as refused:
        await g.do(g.organiser, "payment.record", payment(order, 50_001, "玄财付-0413"))
    assert refused.value.code == Code.invalid_input
    assert refused.value.message("zh_CN").startswith("只能再付 ¥500.00")
    assert await g.state() == state  # the refusal changed nothing
    await g.do(g.organiser, "payment.record", payment(order, 50_000, "玄财付-0413"))
    shown = await views(g.db, [g.library, g.troupe, g.organiser])
    for screen in shown.values():
        assert next(o for o in screen["orders"] if o["id"] == order["id"])["paid_fen"] == 200_000
    async with g.db.read() as session:
        library = await statements.statement(session, g.library)
    assert (library.totals["delivered_fen"], library.totals["paid_fen"], library.totals["owed_fen"]) == (
        200_000,
        200_000,
        0,
    )
    await assert_events_tell_the_truth(g.db, screens_of(g), before)


async def test_payments_are_refused_for_the_undelivered_the_voided_and_by_anyone_but_the_organiser(
    fairground: Fairground,
):
    g = fairground
    undelivered = (await g.order(g.centre, g.troupe, g.lecture, quantity=3))["order"]
    voided = (await g.order(g.centre, g.bookseller, g.books, quantity=7))["order"]
    await g.do(g.organiser, "order.void", {"order_id": voided["id"], "reason": "重复"})
    state = await g.state()
    for actor, payload, code in (
        (g.organiser, payment(undelivered, 1), Code.invalid_input),
        (g.organiser, payment(voided, 1), Code.invalid_state),
        (g.organiser, {**payment(undelivered, 1), "order_id": 9999}, Code.not_found),
        (g.organiser, {**payment(undelivered, 1), "paid_on": "2023-02-30"}, Code.invalid_input),
        (g.organiser, {**payment(undelivered, 0)}, Code.invalid_input),
        (g.organiser, {**payment(undelivered, 1), "reference": ""}, Code.invalid_input),
        (g.centre, payment(undelivered, 1), Code.forbidden),
        (g.troupe, payment(undelivered, 1), Code.forbidden),
    ):
        with pytest.raises(FairError) as refused:
            await g.do(actor, "payment.record", payload)
        assert refused.value.code == code, (actor.key, payload)
    assert await g.state() == state


async def test_two_clerks_recording_at_once_never_pay_more_than_was_delivered(fairground: Fairground):
    g = fairground
    order = await delivered_show(g)
    attempts = await asyncio.gather(
        *(g.do(g.organiser, "payment.record", payment(order, 150_000, f"玄财付-{n}")) for n in range(2)),
        return_exceptions=True,
    )
    assert sorted(type(a).__name__ for a in attempts) == ["FairError", "dict"]
    state = await g.state()
    (paid,) = [o["paid_fen"] for o in state["purchase_order"] if o["id"] == order["id"]]
    assert paid == 150_000
