"""A 3PL warehouse over X12 and the folder transport: a 940 out for each order routed to its location, its 997
acknowledging it, its 945 (cartons with SSCCs, tracking, shorts) and 846 (stock) in, each answered by our 997."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from oms import catalog, inventory, routing, threepl
from oms.core.errors import InvalidInput
from oms.inventory.models import Location, StockLevel, StockMovement
from oms.orders.models import SalesOrder
from oms.partners import edi
from oms.partners.models import EdiDocument
from oms.routing import restock
from oms.shipping.models import Package, Shipment
from sync.channels.edi_x12.folder import EdiFolderChannel
from sync.channels.edi_x12.x12 import Group, Segment, Transaction, parse_interchanges, write_interchange
from sync.engine import Engine
from tests.conftest import ACTOR, make_order, take_in
from tests.edi.test_sftp import USER as SFTP_USER, remote, secret_store, sshd  # noqa: F401 - fixtures, shared
from tests.edi.test_sftp import transport as sftp_transport

WHEN = datetime(2026, 12, 6, 9, 0, tzinfo=timezone.utc)


@pytest.fixture
def warehouse(db, tmp_path):
    _world(db, {"kind": "folder", "path": str(tmp_path / "sr")})
    return db, EdiFolderChannel("shipright", db, tmp_path / "sr")


def _world(db, transport: dict) -> None:
    with db.write() as s:
        inventory.add_location(s, ACTOR, "DFW3PL", "ShipRight Dallas", kind="3pl", priority=10)
        inventory.add_location(s, ACTOR, "RNO", "Reno", priority=20)
        from oms import orders
        orders.add_channel(s, ACTOR, "web", "Web shop", "manual")
        routing.seed_rates(s)
        routing.ensure_default_rule(s)
        routing.save_rule(s, ACTOR, "3PL first", {}, {"preferred_locations": ["DFW3PL"], "split": "allow"})
        catalog.add_product(s, ACTOR, "MUG-RED", "Mug, red")
        catalog.add_product(s, ACTOR, "MUG-BLU", "Mug, blue")
        restock.receive(s, ACTOR, "MUG-RED", "DFW3PL", 10)
        restock.receive(s, ACTOR, "MUG-BLU", "DFW3PL", 4)
        restock.receive(s, ACTOR, "MUG-RED", "RNO", 10)
        edi.add_partner(s, ACTOR, code="shipright", name="ShipRight 3PL", our_id="QUAYSIDE", their_id="SHIPRIGHT",
                        documents="940,945,846,997", transport=transport, location="dfw3pl")


def outbox(channel, set_id):
    found = []
    for path in sorted(channel.outbox.iterdir()):
        [ic] = parse_interchanges(path.read_text())
        tx = ic.groups[0].transactions[0]
        if tx.set_id == set_id:
            found.append((ic, ic.groups[0], tx))
    return found


def from_warehouse(channel, name, functional, set_id, segments, control):
    group = Group(functional_id=functional, sender="SHIPRIGHT", receiver="QUAYSIDE", control=str(control),
                  transactions=(Transaction(set_id=set_id, control="0001", segments=tuple(segments)),))
    (channel.inbox / name).write_text(write_interchange([group], sender_id="SHIPRIGHT", receiver_id="QUAYSIDE",
                                                        control=control, when=WHEN, newline=True))


def a_945(reference, shipment_id, line_ref, shipped, short=0, sscc="008600040000000019"):
    segs = [Segment("W06", ("F", reference, "20261206", shipment_id)), Segment("W27", ("M", "UPSN", "Ground")),
            Segment("N9", ("2I", "1Z999AA10123456784"))]
    segs += [Segment("LX", ("1",))] + ([Segment("MAN", ("GM", sscc))] if shipped else [])
    segs += [Segment("W12", ("CP" if short else "CC", str(shipped + short), str(shipped), str(short), "EA", "", "VN", "MUG-RED")),
             Segment("N9", ("LI", line_ref))]
    return segs


def test_a_940_out_its_997_a_945_with_a_short_and_an_846_in_each_once(warehouse):
    db, channel = warehouse
    with db.write() as s:
        (r,) = take_in(s, make_order("3001", (("MUG-RED", 3),)))
    oid = r.order_id
    engine = Engine(db, {"shipright": channel})
    engine.run_once()
    [(ic, group, tx)] = outbox(channel, "940")
    w05 = next(seg for seg in tx.segments if seg.tag == "W05")
    assert (w05.el(2), w05.el(3)) == ("#3001", "#3001")
    line_ref = next(seg.el(1) for seg in tx.segments if seg.tag == "LX")
    assert [(seg.el(1), seg.el(5)) for seg in tx.segments if seg.tag == "W01"] == [("3", "MUG-RED")]
    with db.read() as s:
        assert threepl.order_standing(s, oid) == f"sent to 3PL (940 #{int(ic.control)}, not acknowledged yet)"

    # The warehouse's 997 for our 940.
    from_warehouse(channel, "ack.x12", "FA", "997", [Segment("AK1", ("OW", group.control)), Segment("AK9", ("A", "1", "1", "1"))], 71)
    engine.run_once()
    with db.read() as s:
        assert threepl.order_standing(s, oid) == f"sent to 3PL (940 #{int(ic.control)}, acknowledged)"

    # Its 945: one shipped in a carton, two short; and the same 945 again (a resend) changes nothing.
    from_warehouse(channel, "945.x12", "SW", "945", a_945("#3001", "SR-77", line_ref, shipped=1, short=2), 72)
    engine.run_once()
    from_warehouse(channel, "945-again.x12", "SW", "945", a_945("#3001", "SR-77", line_ref, shipped=1, short=2), 73)
    engine.run_once()
    with db.read() as s:
        order = s.get(SalesOrder, oid)
        (line,) = order.lines
        (shp,) = s.scalars(select(Shipment).where(Shipment.order_id == oid)).all()
        assert (shp.tracking_number, shp.carrier, shp.service) == ("1Z999AA10123456784", "UPSN", "Ground")
        assert [p.sscc for p in s.scalars(select(Package).where(Package.shipment_id == shp.id))] == ["008600040000000019"]
        assert line.shipped == 1 and line.allocated == 2  # the short two went back to routing: Reno took them
        reno = s.scalar(select(Location.id).where(Location.code == "RNO"))
        from oms.orders.models import Allocation
        assert s.execute(select(Allocation.location_id, Allocation.quantity)
                         .where(Allocation.order_line_id == line.id)).all() == [(reno, 2)]
        docs = s.execute(select(EdiDocument.doc_type, EdiDocument.status).where(EdiDocument.direction == "in",
                                                                                EdiDocument.doc_type == "945")).all()
        assert sorted(docs) == [("945", "accepted"), ("945", "accepted")]
    acks = outbox(channel, "997")
    assert {g.transactions[0].segments[0].el(1) for _ic, g, _tx in acks} == {"SW"}
    assert all(seg.el(1) == "A" for _ic, _g, tx in acks for seg in tx.segments if seg.tag == "AK9")

    # Its 846: MUG-BLU counted at 6 (we had 4): an adjustment with the reason "3PL snapshot".
    from_warehouse(channel, "846.x12", "IB", "846", [Segment("BIA", ("00", "MM", "INV-1", "20991231", "0900")),
                                                     Segment("LIN", ("", "VN", "MUG-BLU")), Segment("QTY", ("33", "6"))], 74)
    engine.run_once()
    with db.read() as s:
        from oms.catalog.models import Product
        level = s.execute(select(StockLevel.on_hand).join(Product, Product.id == StockLevel.product_id)
                          .join(Location, Location.id == StockLevel.location_id)
                          .where(Product.sku == "MUG-BLU", Location.code == "DFW3PL")).scalar()
        assert level == 6
        assert s.scalar(select(StockMovement.quantity).where(StockMovement.reason == threepl.SNAPSHOT_REASON)) == 2


def test_a_945_for_an_order_never_sent_is_rejected_in_our_997_and_kept_with_its_reason(warehouse):
    db, channel = warehouse
    from_warehouse(channel, "945.x12", "SW", "945", a_945("#9999", "SR-1", "1", shipped=1), 80)
    Engine(db, {"shipright": channel}).run_once()
    with db.read() as s:
        doc = s.scalars(select(EdiDocument).where(EdiDocument.direction == "in", EdiDocument.doc_type == "945")).one()
        assert doc.status == "rejected" and "#9999" in doc.error
        assert s.scalar(select(func.count()).select_from(Shipment)) == 0
    [(_ic, _g, tx)] = outbox(channel, "997")
    assert next(seg for seg in tx.segments if seg.tag == "AK9").el(1) == "R"


def test_a_3pl_warehouse_serves_a_location_of_type_3pl(warehouse):
    db, _channel = warehouse
    with pytest.raises(InvalidInput, match="RNO is not a location of type 3PL"):
        with db.write() as s:
            edi.add_partner(s, ACTOR, code="other", name="Other", our_id="QUAYSIDE", their_id="OTHER3PL",
                            documents="940,945,997", location="RNO")


def test_a_947_adjusts_with_the_warehouse_reason_and_a_write_off_of_reserved_units_is_refused(warehouse):
    db, channel = warehouse
    from_warehouse(channel, "947.x12", "AW", "947", [Segment("W15", ("20261206", "ADJ-5")),
                                                     Segment("W19", ("AB", "-1", "EA", "", "VN", "MUG-BLU")),
                                                     Segment("W19", ("AC", "2", "EA", "", "VN", "MUG-RED"))], 90)
    engine = Engine(db, {"shipright": channel})
    engine.run_once()
    with db.read() as s:
        moves = sorted(s.execute(select(StockMovement.quantity, StockMovement.reason)
                                 .where(StockMovement.reason.like("3PL adjustment%"))).all())
        assert moves == [(-1, "3PL adjustment ADJ-5: damaged"), (2, "3PL adjustment ADJ-5: found")]
    # Writing off more than is free there (units reserved for an order sent to it) is refused whole, in our 997.
    with db.write() as s:
        take_in(s, make_order("3002", (("MUG-BLU", 3),)))
    engine.run_once()
    from_warehouse(channel, "947b.x12", "AW", "947", [Segment("W15", ("20261206", "ADJ-6")),
                                                      Segment("W19", ("AD", "-3", "EA", "", "VN", "MUG-BLU"))], 91)
    engine.run_once()
    with db.read() as s:
        doc = s.scalars(select(EdiDocument).where(EdiDocument.doc_type == "947", EdiDocument.status == "rejected")).one()
        assert "reserved for orders" in doc.error
        assert s.scalar(select(func.count()).select_from(StockMovement).where(StockMovement.reason.like("%ADJ-6%"))) == 0


def test_stock_sent_to_the_3pl_is_in_transit_until_its_944_and_a_difference_is_said(warehouse):
    db, channel = warehouse
    with db.write() as s:
        threepl.send_transfer(s, ACTOR, "shipright", "DFW3PL", "RNO", [("MUG-RED", 6, None)])
    with db.read() as s:
        assert threepl.in_transit(s, "DFW3PL") == {"MUG-RED": 6}
        from oms.catalog.models import Product

        def on_hand(code):
            return s.execute(select(StockLevel.on_hand).join(Product, Product.id == StockLevel.product_id)
                             .join(Location, Location.id == StockLevel.location_id)
                             .where(Product.sku == "MUG-RED", Location.code == code)).scalar()
        assert (on_hand("RNO"), on_hand("DFW3PL")) == (4, 10)  # gone from Reno, not yet on the 3PL's shelf
    engine = Engine(db, {"shipright": channel})
    engine.run_once()
    [(_ic, _g, tx)] = outbox(channel, "943")
    w06 = next(seg for seg in tx.segments if seg.tag == "W06")
    assert [(seg.el(1), seg.el(5)) for seg in tx.segments if seg.tag == "W04"] == [("6", "MUG-RED")]
    reference = w06.el(2)
    for name, control in (("944.x12", 95), ("944-again.x12", 96)):  # a resend under a new interchange changes nothing
        from_warehouse(channel, name, "RE", "944", [Segment("W17", ("F", "20261206", "RCV-1", reference)),
                                                    Segment("W07", ("5", "EA", "", "VN", "MUG-RED"))], control)
        engine.run_once()
    with db.read() as s:
        assert threepl.in_transit(s, "DFW3PL") == {}
        assert on_hand("DFW3PL") == 15
        from oms.integration import sync_store
        (q,) = [q for q in sync_store.quarantined(s) if q.stream == "exceptions"]
        assert "MUG-RED: 6 sent, 5 received" in q.error


def test_the_round_trip_over_sftp_a_940_out_a_945_in_and_our_997(db, sshd, remote):
    """The same documents through a real sshd: the 940 lands in the remote outbox, the 945 is taken from its inbox."""
    from sync.channels.edi_x12.sftp import EdiSftpChannel

    _world(db, sftp_transport(sshd, remote))
    with db.write() as s:
        (r,) = take_in(s, make_order("3101", (("MUG-RED", 2),)))
    ch = EdiSftpChannel("shipright", db, host="127.0.0.1", port=sshd.port, user=SFTP_USER, inbox=str(remote.inbox),
                        outbox=str(remote.outbox), key_file=sshd.client_key, timeout=(3, 5))
    engine = Engine(db, {"shipright": ch})
    engine.run_once()
    [name] = remote.files(remote.outbox)
    [ic] = parse_interchanges((remote.outbox / name).read_text())
    tx = ic.groups[0].transactions[0]
    assert tx.set_id == "940"
    line_ref = next(seg.el(1) for seg in tx.segments if seg.tag == "LX")
    group = Group(functional_id="SW", sender="SHIPRIGHT", receiver="QUAYSIDE", control="61", transactions=(
        Transaction(set_id="945", control="0001", segments=tuple(a_945("#3101", "SR-90", line_ref, shipped=2))),))
    (remote.inbox / "945.x12").write_text(write_interchange([group], sender_id="SHIPRIGHT", receiver_id="QUAYSIDE",
                                                            control=61, when=WHEN, newline=True))
    engine.run_once()
    ch.close()
    with db.read() as s:
        assert s.get(SalesOrder, r.order_id).status == "shipped"
        (shp,) = s.scalars(select(Shipment).where(Shipment.order_id == r.order_id)).all()
        assert shp.tracking_number == "1Z999AA10123456784"
    sets = sorted(parse_interchanges((remote.outbox / n).read_text())[0].groups[0].transactions[0].set_id
                  for n in remote.files(remote.outbox))
    assert sets == ["940", "997"] and remote.files(remote.archive) == ["945.x12"]
