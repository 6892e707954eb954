"""Stations racing for the same stock through the intake door: the database hands out each unit exactly once."""

import multiprocessing
import threading

import pytest
from sqlalchemy import func, select

from oms import check
from oms.core.db import Database
from oms.inventory.models import StockLevel
from oms.orders.models import OrderLine
from tests.conftest import make_order, ship_from, stock, take_in

WORKERS = 8
ORDERS_EACH = 25
STOCK = 100


def _station(url: str, schema: str | None, worker: int, errors) -> None:
    db = Database(url, schema=schema)
    try:
        for k in range(ORDERS_EACH):
            with db.write() as s:
                take_in(s, make_order(f"w{worker}-{k}", [("LANTERN", 1)]))
    except Exception as exc:  # noqa: BLE001 - reported to the test
        errors.append(f"worker {worker}: {exc!r}")
    finally:
        db.dispose()


def _assert_exact(db):
    with db.read() as s:
        level = s.scalars(select(StockLevel)).one()
        allocated_lines = s.scalar(select(func.sum(OrderLine.allocated)))
        backordered = s.scalar(select(func.sum(OrderLine.backordered)))
        assert level.on_hand == STOCK
        assert level.allocated == allocated_lines == STOCK
        assert backordered == WORKERS * ORDERS_EACH - STOCK
        assert check.run(s) == []


def test_threads_on_sqlite_never_oversell(world):
    if world.dialect != "sqlite":
        pytest.skip("the thread race is the SQLite case; PostgreSQL races across processes below")
    ship_from(world, "RNO")  # the rule in place before the race: stations only read it
    stock(world, "LANTERN", "RNO", STOCK)
    errors: list[str] = []
    threads = [threading.Thread(target=_station, args=(world.url, None, w, errors)) for w in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    _assert_exact(world)


@pytest.mark.postgres
def test_processes_on_postgres_never_oversell(world):
    if world.dialect != "postgresql":
        pytest.skip("processes race on the shared PostgreSQL server")
    ship_from(world, "RNO")  # the rule in place before the race: stations only read it
    stock(world, "LANTERN", "RNO", STOCK)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager:
        errors = manager.list()
        procs = [ctx.Process(target=_station, args=(world.url, world.schema, w, errors)) for w in range(WORKERS)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(180)
        assert [p.exitcode for p in procs] == [0] * WORKERS
        assert list(errors) == []
    _assert_exact(world)
