"""Invariants of invoicing, on random orders shipped in random parts and credited in random chunks (Hypothesis):
the invoices of a fully shipped order add up to the channel's goods, shipping, discount and tax exactly; no
invoice has a negative share; crediting everything gives back each invoice's total to the cent; numbers run
without gaps."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from oms import invoicing
from oms.invoicing.models import CreditNote, Invoice
from tests.conftest import ACTOR
from tests.invoicing.helpers import confirm, pack, picked_order

SKUS = ("MUG-RED", "MUG-BLU", "LANTERN")
_serial = itertools.count(1)

order_case = st.fixed_dictionaries({
    "qty": st.lists(st.integers(1, 4), min_size=1, max_size=3),
    "shipping": st.integers(0, 2_000),
    "tax": st.integers(0, 5_000),
    "discount_pct": st.integers(0, 50),
    "splits": st.lists(st.integers(0, 2), min_size=12, max_size=12),  # which shipment each unit goes in
    "chunks": st.lists(st.integers(1, 3), min_size=1, max_size=6),
})


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=order_case)
def test_invoices_add_up_to_the_order_and_credits_to_the_invoices(world, case):
    lines = tuple((SKUS[i], q) for i, q in enumerate(case["qty"]))
    goods = sum(q for _s, q in lines) * 1400
    discount = goods * case["discount_pct"] // 100
    ext = f"P{next(_serial)}"
    oid, line_ids = picked_order(world, ext, lines, shipping_minor=case["shipping"], tax_minor=case["tax"],
                                 discount_minor=discount)
    # Each unit goes into shipment 0, 1 or 2 as drawn; empty shipments are skipped.
    boxes: dict[int, dict[int, int]] = {}
    units = [(lid, n) for lid, (_s, q) in zip(line_ids, lines) for n in range(q)]
    for k, (lid, _n) in enumerate(units):
        box = boxes.setdefault(case["splits"][k % len(case["splits"])], {})
        box[lid] = box.get(lid, 0) + 1
    for box in sorted(boxes):
        confirm(world, pack(world, oid, boxes[box]))
    with world.read() as s:
        invs = s.scalars(select(Invoice).where(Invoice.order_id == oid).order_by(Invoice.id)).all()
        assert len(invs) == len(boxes)
        assert sum(i.goods_minor for i in invs) == goods
        assert sum(i.shipping_minor for i in invs) == case["shipping"] and invs[0].shipping_minor == case["shipping"]
        assert sum(i.discount_minor for i in invs) == discount
        assert sum(i.tax_minor for i in invs) == case["tax"]
        assert all(min(i.goods_minor, i.discount_minor, i.tax_minor, i.shipping_minor) >= 0 for i in invs)
        assert all(i.total_minor == sum(l.amount_minor for l in i.lines) for i in invs)
        numbers = [i.number for i in invs]
    # Credit every invoice back in chunks of the drawn sizes, the shipping with the first chunk.
    for number in numbers:
        first = True
        while True:
            with world.read() as s:
                inv = invoicing.find_invoice(s, number)
                done = invoicing.credited(s, inv.id)
                left = [(l.sku, l.quantity - done.get(l.id, 0)) for l in inv.lines if l.kind == "goods"
                        and l.quantity - done.get(l.id, 0) > 0]
            if not left:
                break
            chunk = case["chunks"][len(done) % len(case["chunks"])]
            sku, have = left[0]
            with world.write() as s:
                invoicing.issue_credit_note(s, ACTOR, number, {sku: min(have, chunk)},
                                            shipping=first and inv.shipping_minor > 0)
            first = False
        with world.read() as s:
            inv = invoicing.find_invoice(s, number)
            credited = s.scalar(select(func.sum(CreditNote.total_minor)).where(CreditNote.invoice_id == inv.id))
            assert credited == inv.total_minor
    with world.read() as s:
        all_numbers = sorted(s.scalars(select(Invoice.number)))
        assert all_numbers == [f"INV-{n:06d}" for n in range(1, len(all_numbers) + 1)]
        notes = sorted(s.scalars(select(CreditNote.number)))
        assert notes == [f"CN-{n:06d}" for n in range(1, len(notes) + 1)]
