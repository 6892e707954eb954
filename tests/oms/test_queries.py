"""Read-side queries for the screens: buckets, counts, paging, search, order detail, stock lookup; both databases."""

from datetime import datetime, timedelta, timezone

import pytest

from oms import desk, orders, users
from oms.desk.queue import QueueFilter, QueueSort
from oms.shipping import shipments
from tests.conftest import ACTOR, make_order, ship_from, stock, take_in

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def queue(world):
    """Ten orders across buckets: allocated, backordered, held, new and one shipped today.
    The first eight come in by the intake door (routed); the last two are imported alone, so they wait to be routed."""
    ship_from(world, "RNO")
    stock(world, "MUG-RED", "RNO", 50, bin="A-01-1")
    people = [("Ada Lovelace", "ada@example.com"), ("Grace Hopper", "grace@example.com"),
              ("Alan Turing", "alan@example.com"), ("Edsger Dijkstra", "edsger@example.com"),
              ("Barbara Liskov", "barbara@example.com"), ("Ken Thompson", "ken@example.com"),
              ("Donald Knuth", "don@example.com"), ("Frances Allen", "fran@example.com"),
              ("John Backus", "john@example.com"), ("Radia Perlman", "radia@example.com")]
    ids = []
    with world.write() as s:
        for i, (name, email) in enumerate(people):
            lines = [("MUG-RED", 1)] if i % 3 else [("LANTERN", 2)]  # no lantern stock: backordered
            o = make_order(f"10{i:02d}", lines, customer_name=name, customer_email=email,
                           placed_at=T0 + timedelta(hours=i), channel="edi" if i == 9 else "web")
            ids.append((take_in(s, o) if i < 8 else orders.import_orders(s, ACTOR, [o]))[0].order_id)
        orders.hold(s, ACTOR, ids[1], "Address check")
    # Order 2 goes all the way: picked, packed, shipped now with a tracking number.
    with world.write() as s:
        detail = desk.order_detail(s, ids[2])
        line = detail.lines[0]
        orders.record_pick(s, ACTOR, line.id, 1, bin="A-01-1")
        sid = shipments.pack(s, ACTOR, ids[2], [shipments.PackItem(line.id, 1)])
        shipments.confirm(s, ACTOR, sid, carrier="UPS", service="Ground", tracking_number="1Z999AA10123456784")
        shipments.add_tracking_event(s, ACTOR, sid, "in_transit", datetime.now(timezone.utc), description="Departed", city="Reno")
        orders.add_note(s, ACTOR, ids[2], "Customer called: leave at the back door")
    return world, ids


def test_buckets_hold_the_right_orders_and_counts_agree(queue):
    db, ids = queue
    with db.read() as s:
        counts = desk.bucket_counts(s)
        assert counts == {"to_route": 2, "on_hold": 1, "backordered": 3, "ready_to_pick": 3, "picking": 0,
                          "ready_to_ship": 0, "shipped_today": 1, "all": 10}
        for b in desk.BUCKETS:
            f = QueueFilter(bucket=b.key)
            rows = desk.queue_page(s, f, QueueSort(), 0, 50)
            assert len(rows) == counts[b.key] == desk.queue_count(s, f)
            if b.statuses:
                assert {r.status for r in rows} <= set(b.statuses)
        held = desk.queue_page(s, QueueFilter(bucket="on_hold"), QueueSort(), 0, 5)[0]
        assert held.id == ids[1] and held.hold_reason == "Address check" and held.customer == "Grace Hopper"


def test_filters_channel_location_type_and_ship_by(queue):
    db, ids = queue
    with db.read() as s:
        opts = desk.filter_options(s)
        edi = next(c.id for c in opts.channels if c.code == "edi")
        rno = next(c.id for c in opts.locations if c.code == "RNO")
        assert [r.id for r in desk.queue_page(s, QueueFilter(channel_id=edi), QueueSort(), 0, 50)] == [ids[9]]
        assert desk.queue_count(s, QueueFilter(location_id=rno)) == 8
        assert desk.queue_count(s, QueueFilter(order_type="wholesale")) == 0
        # make_order promises shipment two days after placing.
        start = T0 + timedelta(days=2, hours=3)
        f = QueueFilter(ship_by_from=start, ship_by_before=start + timedelta(hours=3))
        assert {r.id for r in desk.queue_page(s, f, QueueSort(), 0, 50)} == set(ids[3:6])
        assert desk.bucket_counts(s, QueueFilter(channel_id=edi))["all"] == 1


def test_the_orders_behind_a_report_figure_are_exactly_the_ones_listed_and_counted(queue):
    db, ids = queue
    pinned = (ids[0], ids[1], ids[2], ids[7])  # to route, on hold, shipped, ready to pick
    with db.read() as s:
        f = QueueFilter(pinned_ids=pinned)
        assert {r.id for r in desk.queue_page(s, f, QueueSort(), 0, 50)} == set(pinned) and desk.queue_count(s, f) == 4
        counts = desk.bucket_counts(s, f)
        assert counts["all"] == 4 and counts["on_hold"] == 1 and counts["shipped_today"] == 1
        # with a search on top, only the pinned orders that match it
        found = desk.resolve_search(s, QueueFilter(pinned_ids=pinned, search="Grace"))
        assert [r.id for r in desk.queue_page(s, found, QueueSort(), 0, 50)] == [ids[1]]
        assert desk.queue_count(s, QueueFilter(pinned_ids=(ids[3],), bucket="on_hold")) == 0


@pytest.mark.parametrize("text, expected", [
    ("ada", [0]),  # customer name, any case
    ("GRACE", [1]),
    ("Turing", [2]),  # a last name: found inside the name
    ("uring", [2]),  # part of a surname
    ("Ada Love", [0]),  # several words, each found
    ("lovelace ada", [0]),  # in any order
    ("knuth 1006", [6]),  # in different fields
    ("radia@ex", [9]),  # email prefix
    ("dia@", [9]),  # inside an email
    ("#1004", [4]),  # our order number
    ("1005", [5]),  # the number without its '#'
    ("004", [4]),  # part of the number
    ("LANT", [0, 3, 6, 9]),  # SKU prefix
    ("ntern", [0, 3, 6, 9]),  # inside a SKU, in lower case
    ("1z999aa1", [2]),  # tracking number, typed in lower case
    ("Ed", [3]),  # two letters: the start of a field
    ("ur", []),  # two letters are not looked for inside words
    ('a"b OR c', []),  # text, never query syntax
    ("100%", []),
    ("x", None),  # too short to search: everything
])
def test_search(queue, text, expected):
    db, ids = queue
    with db.read() as s:
        rows = desk.queue_page(s, QueueFilter(search=text), QueueSort("placed", False), 0, 50)
        want = ids if expected is None else [ids[i] for i in expected]
        assert [r.id for r in rows] == want
        assert desk.queue_count(s, QueueFilter(search=text)) == len(want)
        counts = desk.bucket_counts(s, QueueFilter(search=text))
        assert counts["all"] == len(want)  # the buckets count what it finds
        assert desk.bucket_counts(s, desk.resolve_search(s, QueueFilter(search=text))) == counts


def test_search_follows_a_changed_email_and_a_new_order(queue):
    db, ids = queue
    edited = make_order("1006", [("LANTERN", 2)], customer_name="Donald Knuth", customer_email="d.knuth@stanford.example",
                        placed_at=T0 + timedelta(hours=6))
    with db.write() as s:
        orders.import_order(s, ACTOR, edited)  # the shop changed the customer's email
        new = orders.import_order(s, ACTOR, make_order("2001", [("MUG-BLU", 1)], customer_name="Hannah Robinson",
                                                       customer_email="hannah.robinson7@example.com")).order_id

    def found(text):
        with db.read() as s:
            return [r.id for r in desk.queue_page(s, QueueFilter(search=text), QueueSort("placed", False), 0, 50)]

    assert found("stanford") == [ids[6]] and found("don@") == []
    assert found("obins") == [new] and found("son7@") == [new] and found("Robinson") == [new]
    assert found("mug-b") == [new]


@pytest.mark.parametrize("column", sorted(desk.SORT_COLUMNS))
def test_every_column_sorts_and_pages_read_the_same_from_either_end(queue, column):
    db, _ids = queue
    with db.read() as s:
        for descending in (False, True):
            sort = QueueSort(column, descending)
            whole = desk.queue_page(s, QueueFilter(), sort, 0, 50)
            paged = []
            for offset in range(0, 10, 3):
                paged += desk.queue_page(s, QueueFilter(), sort, offset, 3, total=10)
            assert [r.id for r in paged] == [r.id for r in whole]
    if column == "customer":
        with db.read() as s:
            names = [r.customer for r in desk.queue_page(s, QueueFilter(), QueueSort("customer", False), 0, 50)]
        assert names == sorted(names)


def test_order_detail_merges_audit_tracking_and_notes(queue):
    db, ids = queue
    with db.read() as s:
        d = desk.order_detail(s, ids[2])
    assert d.status == "shipped" and not d.is_open and not d.can_cancel
    assert d.ship_to == ("Ada Lovelace", "1 Main St", "Seattle, WA 98101", "US")
    assert [(l.sku, l.ordered, l.shipped) for l in d.lines] == [("MUG-RED", 1, 1)]
    assert d.shipments[0].tracking_number == "1Z999AA10123456784" and d.shipments[0].units == 1
    kinds = [e.kind for e in d.timeline]
    assert kinds.count("note") == 1 and kinds.count("tracking") == 1
    texts = [e.text for e in d.timeline]
    assert "Customer called: leave at the back door" in texts
    assert "In transit — Departed (Reno)" in texts
    # The audit copies of the note and the tracking event are not shown twice.
    assert not any(t.startswith("Tracking:") for t in texts)
    assert texts.count("Customer called: leave at the back door") == 1
    assert d.timeline == tuple(sorted(d.timeline, key=lambda e: e.at, reverse=True))
    with db.read() as s:
        assert desk.order_detail(s, 999_999) is None
        backordered = desk.order_detail(s, ids[0])
    assert backordered.lines[0].backordered == 2 and backordered.lines[0].cancellable == 2 and backordered.can_cancel


def test_find_order_by_number_external_id_and_tracking(queue):
    db, ids = queue
    with db.read() as s:
        assert desk.find_order(s, "#1003") == ids[3]
        assert desk.find_order(s, "1003") == ids[3]
        assert desk.find_order(s, "1003 ") == ids[3]
        assert desk.find_order(s, "1Z999AA10123456784") == ids[2]
        assert desk.find_order(s, "nothing") is None


def test_stock_lookup_by_sku_barcode_gtin14_and_name(queue):
    db, _ids = queue
    with db.read() as s:
        by_sku = desk.stock_lookup(s, "MUG-RED").product
        assert by_sku.sku == "MUG-RED" and by_sku.on_hand == 49  # 50 received, one shipped
        rno = next(l for l in by_sku.levels if l.location_code == "RNO")
        assert (rno.allocated, rno.available) == (4, 45)  # five reserved, one of them since shipped
        assert [(b.location, b.bin) for b in by_sku.bins] == [("RNO", "A-01-1")]
        assert by_sku.movements[0].kind == "ship" and by_sku.movements[-1].kind == "receipt"
        assert desk.stock_lookup(s, "mug-red").product.sku == "MUG-RED"
        assert desk.stock_lookup(s, "4006381333931").product.sku == "MUG-RED"  # EAN-13 as stored
        assert desk.stock_lookup(s, "", gtin="04006381333931").product.sku == "MUG-RED"  # GTIN-14 from a scan
        assert desk.stock_lookup(s, "036000291452").product.sku == "MUG-BLU"  # UPC-A
        assert desk.stock_lookup(s, "(01)00036000291452(10)LOT7").product.sku == "MUG-BLU"  # GS1 data
        lantern = desk.stock_lookup(s, "storm")
        assert lantern.product.sku == "LANTERN" and lantern.product.backordered == 6
        several = desk.stock_lookup(s, "mug")
        assert several.product is None and [c.sku for c in several.candidates] == ["MUG-BLU", "MUG-RED"]
        assert "No product matches" in desk.stock_lookup(s, "teapot").message


def test_data_version_changes_with_any_order_change(queue):
    db, ids = queue
    with db.read() as s:
        before = desk.data_version(s)
    assert before.newest_order == ids[-1]
    with db.write() as s:
        orders.release_hold(s, ACTOR, ids[1])
    with db.read() as s:
        after = desk.data_version(s)
    assert after != before and after.newest_order == ids[-1]


def test_user_display_name(world):

    with world.write() as s:
        users.add_user(s, ACTOR, "maria", "Maria Lopez", "packer")
    with world.read() as s:
        assert users.user_display_name(s, "maria") == "Maria Lopez"
        assert users.user_display_name(s, "nobody") is None
        assert users.user_display_name(s, "") is None
