"""Suppliers' ship notices: cartons known by their SSCC, received whole by one scan of the label, under the PO's
tolerance, all or nothing and never twice (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from oms import purchasing
from oms.core.errors import Conflict, InvalidInput, NotFound
from oms.core.gs1 import sscc
from oms.purchasing import CartonInput, PoLineInput
from oms.purchasing.models import AsnCarton, ReceiptLine
from tests.conftest import ACTOR

C1, C2, C3 = (sscc("0614141", n) for n in (1, 2, 3))


@pytest.fixture
def po(world):
    with world.write() as s:
        purchasing.add_supplier(s, ACTOR, "ACME", "Acme Ceramics")
        _id, number = purchasing.create_po(s, ACTOR, "ACME", "RNO", lines=[
            PoLineInput("MUG-RED", 10, "2.00", date(2026, 12, 20)), PoLineInput("MUG-BLU", 6, "2.00", date(2026, 12, 20))])
        purchasing.send_po(s, ACTOR, number)
    return number


def _on_hand(s, sku):
    from oms import inventory
    return next((l.on_hand for l in inventory.levels(s, sku) if l.location_code == "RNO"), 0)


def test_a_carton_is_received_whole_by_one_scan_of_its_label(world, po):
    with world.write() as s:
        asn_id, new = purchasing.record_asn(s, ACTOR, po, "SH-77", [
            CartonInput(C1, (("MUG-RED", 6), ("MUG-BLU", 2))), CartonInput("00" + C2, (("4006381333931", 4),))],
            shipped_on=date(2026, 12, 8))
        assert new
        again, new = purchasing.record_asn(s, ACTOR, po, "SH-77", [CartonInput(C3, (("MUG-RED", 1),))])
        assert (again, new) == (asn_id, False)  # the same ASN sent twice: nothing more
        (view,) = purchasing.expected_receipts(s, po)
    assert [(c.sscc, c.lines) for c in view.cartons] == [(C1, (("MUG-BLU", 2), ("MUG-RED", 6))), (C2, (("MUG-RED", 4),))]
    with world.write() as s:
        assert purchasing.carton_po(s, C1) == po
        got = purchasing.receive_carton(s, ACTOR, C1)
    assert got.message == f"Carton {C1}: 8 units of 2 items received on {po}"
    with world.write() as s:
        with pytest.raises(Conflict, match="was received already"):
            purchasing.receive_carton(s, ACTOR, C1)
    with world.write() as s:
        purchasing.receive_carton(s, ACTOR, C2)
    with world.read() as s:
        assert s.scalar(select(func.count()).select_from(ReceiptLine)) == 2  # one row per PO line
        assert _on_hand(s, "MUG-RED") == 10 and _on_hand(s, "MUG-BLU") == 2
        assert purchasing.po_detail(s, po).status == "partly_received"


def test_a_carton_beyond_the_tolerance_is_refused_whole(world, po):
    with world.write() as s:
        purchasing.record_asn(s, ACTOR, po, "SH-9", [CartonInput(C1, (("MUG-BLU", 4), ("MUG-RED", 11)))])
    with pytest.raises(Exception, match="Over-receipt refused"):
        with world.write() as s:
            purchasing.receive_carton(s, ACTOR, C1, tolerance_percent=0)
    with world.read() as s:
        assert _on_hand(s, "MUG-BLU") == 0 and s.scalar(select(AsnCarton.received_at)) is None


def test_bad_asns_are_named_and_write_nothing(world, po):
    cases = [
        ([CartonInput("123", (("MUG-RED", 1),))], InvalidInput, "is no SSCC"),
        ([CartonInput(C1[:-1] + str((int(C1[-1]) + 1) % 10), (("MUG-RED", 1),))], InvalidInput, "is no SSCC"),
        ([CartonInput(C1, (("LANTERN", 1),))], InvalidInput, "LANTERN in carton .* is not on"),
        ([CartonInput(C1, (("MUG-RED", 1),)), CartonInput(C1, (("MUG-RED", 1),))], Conflict, "already on an ASN"),
        ([], InvalidInput, "lists no cartons"),
    ]
    for cartons, error, words in cases:
        with pytest.raises(error, match=words):
            with world.write() as s:
                purchasing.record_asn(s, ACTOR, po, "SH-1", cartons)
    with world.write() as s:
        with pytest.raises(NotFound, match="is on no ASN"):
            purchasing.receive_carton(s, ACTOR, C3)
    with world.read() as s:
        assert s.scalar(select(func.count()).select_from(AsnCarton)) == 0
