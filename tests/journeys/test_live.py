"""Live across stations: what customer service does at another station reaches the floor's screens by itself.

The other station is a process of its own (tests/live/other_station.py) on the same database, changing an order
through the domain services while this station's window shows it. On SQLite the window wakes through
``PRAGMA data_version``; the PostgreSQL journey (LISTEN/NOTIFY) runs the same window on a shared server.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from oms import routing
from oms.core.audit import Actor
from oms.fulfilment.models import PickTask, Wave, WaveOrder
from oms.inventory.models import Location
from oms.orders.models import OrderLine
from tests.conftest import postgres_url
from tests.journeys.conftest import Machine, Station, _start_app, _stop_app
from tests.journeys.packing_steps import picked_orders_at_the_bench

OTHER = Path(__file__).resolve().parents[1] / "live" / "other_station.py"
SUPERVISOR = Actor("supervisor", "desk-2")


def other_station(s, action: str, order_id: int, reason: str) -> float:
    """Another station changes the order, while this one's window keeps running; returns the time it committed."""
    db = s.db
    schema = db.schema or "-"
    proc = subprocess.Popen([sys.executable, str(OTHER), db.url, schema, action, str(order_id), reason],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    s.wait_for(lambda: proc.poll() is not None, "the other station's change", timeout=60)
    out, err = proc.communicate()
    assert proc.returncode == 0, err
    return float(out.strip().splitlines()[-1])


def packing_refuses_an_order_held_elsewhere(s) -> float:
    """Maria has an order open and one item in the box when customer service holds it at their desk: the bench
    refuses it by itself, with the reason, within a second. Returns the seconds from the commit to the refusal."""
    (order,) = picked_orders_at_the_bench(s.db)
    s.key("Ctrl+6")
    s.wait_text("Scan a tote or an order number")
    k = s.window.packing
    s.scan(order["tote"])
    s.wait_text(f"Order {order['number']}")
    sku, code = order["items"][0]
    s.scan(code)
    s.wait_for(lambda: k.status.state == "ok" and k.totals(), f"{sku} in the box")

    committed = other_station(s, "hold", order["id"], "Customer called: wrong size")
    refusal = f"Order {order['number']} was put on hold meanwhile (Customer called: wrong size): do not pack it."
    s.wait_text(refusal, timeout=5)
    seen = time.time()
    assert k.view is None and not k.totals(), "the held order is no longer open at the bench"
    assert k.status.state == "error"
    # Scanning its tote again is refused too, with the reason.
    s.scan(order["tote"])
    s.wait_text(f"Order {order['number']} is on hold (Customer called: wrong size); do not pack it.")
    return seen - committed


def test_maria_is_stopped_when_customer_service_holds_the_order_she_packs(station):
    lag = packing_refuses_an_order_held_elsewhere(station)
    assert lag <= 1.5, f"the refusal came {lag:.2f} s after the other station's commit"


@pytest.fixture
def pg_station(qtbot, _homes):
    """The same station, started on a shared PostgreSQL database (a schema of its own, demo data seeded by the
    start as on an empty database): the other station is a second process on that server."""
    url = postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL server (set OMS_TEST_POSTGRES_URL to require it)")
    schema = f"qs_live_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    home, template = _homes
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(template, home, symlinks=True)
    try:
        with Machine(home) as machine:
            station = Station(_start_app(["--db", f"{url}?options=-csearch_path%3D{schema}"]), machine, qtbot)
            station._settle()
            yield station
            _stop_app(station.running)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.postgres
def test_on_postgresql_the_hold_reaches_the_bench_by_notify_even_after_the_listener_was_cut_off(pg_station):
    s = pg_station
    assert s.db.dialect == "postgresql"
    feed = s.window.change_feed
    assert feed is not None and feed.wait_connected(), "the station listens for other stations' changes"
    # The listener's connection is cut (a server restart, a network blip, an administrator): it comes back by itself.
    killed = feed.backend_pid
    with s.db.engine.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": killed}).scalar()
    s.wait_for(lambda: feed.reconnects >= 1 and feed.connected.is_set() and feed.backend_pid != killed,
               "the station to listen again", timeout=15)
    lag = packing_refuses_an_order_held_elsewhere(s)
    assert lag <= 1.5, f"the refusal came {lag:.2f} s after the other station's commit"


def test_deshawn_loses_the_pick_of_an_order_re_routed_at_another_station(station):
    s = station
    # A wave of two or more orders at one warehouse, built before Deshawn's shift.
    with s.db.write() as session:
        from oms import fulfilment

        wave = None
        for loc in session.scalars(select(Location.code).order_by(Location.id)):
            try:
                result = fulfilment.build_wave(session, SUPERVISOR, loc, limit=6)
            except Exception:  # noqa: BLE001 - no orders ready there
                continue
            if session.scalar(select(WaveOrder.order_id).where(WaveOrder.wave_id == result.wave_id).offset(1).limit(1)):
                wave = session.get(Wave, result.wave_id)
                break
        assert wave is not None, "no warehouse has two orders ready to pick"
        wave_id, wave_location = wave.id, wave.location_id
        others = [c for c in session.scalars(select(Location.code).where(Location.id != wave_location,
                                                                         Location.kind != "3pl"))]
        # Every order routed from now on may only ship from another warehouse: the re-routed one leaves this wave.
        mine = routing.save_rule(session, SUPERVISOR, "Tests: not from the wave's warehouse", {},
                                 {"allowed_locations": others})
        rules = [r.id for r in routing.load_rules(session) if not r.is_default]
        routing.reorder(session, SUPERVISOR, [mine, *[r for r in rules if r != mine]])

    s.key("Ctrl+5")
    picking = s.window.picking
    s.scan(f"WAVE-{wave_id}")
    s.wait_for(lambda: picking.summary is not None and picking.summary.id == wave_id and picking.current is not None,
               "the wave open at its first pick")
    shown = picking.current
    victim = shown.tasks[0]
    with s.db.read() as session:
        victim_order = session.scalar(select(OrderLine.order_id).join(PickTask, PickTask.order_line_id == OrderLine.id)
                                      .where(PickTask.id == victim.task_id))
    held_before = {t.task_id for stop in picking.open for t in stop.tasks}

    committed = other_station(s, "reroute", victim_order, "Customer wants it from the other coast")
    s.wait_text(f"Order {victim.order_number} was re-routed at another station", timeout=5)
    lag = time.time() - committed
    still = {t.task_id for stop in picking.open for t in stop.tasks}
    assert victim.task_id not in still and still < held_before
    assert all(t.order_number != victim.order_number for stop in picking.open for t in stop.tasks)
    assert lag <= 1.5, f"the picking screen followed {lag:.2f} s after the commit"


def test_priya_sees_the_order_she_has_open_put_on_hold_at_another_desk(station):
    """Order detail follows while it is open, and the queue's bucket counts behind it follow too."""
    s = station
    queue = s.window.queue
    model = queue.model
    with s.db.read() as session:
        from oms.orders.models import SalesOrder

        oid, number = session.execute(select(SalesOrder.id, SalesOrder.number).where(
            SalesOrder.status == "allocated", SalesOrder.on_hold.is_(False)).order_by(SalesOrder.id).limit(1)).one()
    s.key("Ctrl+1")
    s.key("Ctrl+F")
    s.type(number)
    s.wait_for(lambda: model.query_filter.search == number and not model.is_loading and model.rowCount() == 1,
               f"order {number} found")
    s.wait_for(lambda: queue._counts is not None and queue._counts.get("on_hold") == 0, "the counts of what was found")
    s.key("Down")
    s.key("Return")
    s.wait_for(lambda: s.window.detail.order is not None and s.window.detail.order.id == oid, f"order {number} open")
    assert not s.sees("On hold:")

    committed = other_station(s, "hold", oid, "Address to be confirmed")
    s.wait_text("On hold: Address to be confirmed", timeout=5)
    lag = time.time() - committed
    assert lag <= 1.5, f"the order detail followed {lag:.2f} s after the commit"
    s.wait_for(lambda: queue._counts.get("on_hold") == 1, "the On hold bucket to count the order", timeout=5)
