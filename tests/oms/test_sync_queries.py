"""What the status bar counts, on SQLite and PostgreSQL: orders waiting at the packing bench, and unreadable
payloads that a person at this station must look at (a trading partner's are for the Documents screen)."""

from oms import orders
from oms.integration import sync_queries, sync_store
from oms.partners import edi
from oms.shipping import shipments
from oms.shipping.shipments import PackageSpec, PackItem
from tests.conftest import ACTOR
from tests.oms.test_shipments import picked_order


def test_the_bench_count_follows_picking_and_packing(world):
    with world.read() as s:
        assert sync_queries.overview(s).to_pack == 0
    oid, (line,) = picked_order(world, (("MUG-RED", 2),))
    with world.read() as s:
        assert sync_queries.overview(s).to_pack == 1
    with world.write() as s:
        orders.hold(s, ACTOR, oid, "Address check")
    with world.read() as s:
        assert sync_queries.overview(s).to_pack == 0  # on hold: not for the packer
    with world.write() as s:
        orders.release_hold(s, ACTOR, oid)
        shipments.pack(s, ACTOR, oid, [PackItem(line, 2)], [PackageSpec("M", 900)])
    with world.read() as s:
        assert sync_queries.overview(s).to_pack == 0


def test_a_partners_unreadable_file_is_not_counted_for_the_station(world):
    with world.write() as s:
        edi.add_partner(s, ACTOR, code="ACME", name="ACME Stores", our_id="QUAYSIDE", their_id="ACMESTORES",
                        transport={"kind": "folder", "path": "/tmp/acme"})
        sync_store.quarantine(s, "ACME", "edi", "850 814/0001", "ST*850*0001~SE*11*0001~", "Segments lost")
        sync_store.quarantine(s, "web", "orders", "#1007", "{}", "The order has no currency.")
    with world.read() as s:
        assert sync_queries.overview(s).quarantined == 1
