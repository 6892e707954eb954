"""A write says what it changed: the tables its statements wrote, whatever way they were written, and their owners."""

import pytest
from sqlalchemy import insert, text, update

from oms import catalog, intake, routing
from oms.catalog.models import Product
from oms.core.changes import Changes, tables_written
from oms.inventory.models import StockLevel
from oms.routing import restock
from tests.conftest import ACTOR, make_order


def test_an_orm_flush_a_bulk_update_and_a_core_insert_are_all_seen(world):
    def job(s):
        catalog.add_product(s, ACTOR, "CUP-1", "Cup")  # ORM add and flush
        s.execute(update(StockLevel).where(StockLevel.product_id == -1).values(on_hand=0))  # ORM-enabled bulk update
        s.connection().execute(insert(Product.__table__).values(sku="CUP-2", name="Cup 2", price_minor=0, currency="USD",
                                                                weight_g=0, tags=""))  # Core
    _result, changes = world.run(job)
    assert {"product", "stock_level"} <= changes.tables
    assert changes.capabilities == {"catalog", "inventory"}
    assert changes.touches("inventory") and not changes.touches("orders")


def test_taking_in_an_order_touches_orders_routing_and_stock(world):
    with world.write() as s:
        routing.seed_rates(s)
        routing.ensure_default_rule(s)
        restock.receive(s, ACTOR, "MUG-RED", "RNO", 5, bin="A-01-1")
    _report, changes = world.run(lambda s: intake.take_in(s, ACTOR, [make_order("X1")]))
    assert changes.capabilities == {"orders", "routing", "inventory"}


def test_a_read_only_job_and_the_audit_trail_alone_are_no_change(world):
    _r, changes = world.run(lambda s: s.scalar(text("SELECT 1")))
    assert not changes and changes == Changes()
    assert not Changes(frozenset({"audit_event"}))


def test_a_refused_write_rolls_back_and_returns_nothing(world):
    def job(s):
        catalog.add_product(s, ACTOR, "CUP-3", "Cup")
        raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        world.run(job)
    with world.read() as s:
        assert s.query(Product).filter_by(sku="CUP-3").count() == 0


def test_text_statements_name_their_table():
    assert tables_written(text("UPDATE sales_order SET on_hold = 1")) == {"sales_order"}
    assert tables_written(text('insert or ignore into "bin_stock" VALUES (1)')) == {"bin_stock"}
    assert tables_written(text("SELECT * FROM sales_order")) == set()


def test_changes_add_up():
    assert (Changes(frozenset({"product"})) | Changes(frozenset({"sales_order"}))).tables == {"product", "sales_order"}
