"""The change feed: a change committed by another process reaches this one as Changes, on SQLite and PostgreSQL.

The other station is a process of its own (tests/live/other_station.py) on the same database. On PostgreSQL the
feed's connection is killed (pg_terminate_backend) and must come back, telling its screens to read everything.
"""

from __future__ import annotations

import queue
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from oms.core.changes import LOG_KEEP, LOG_PRUNE_EVERY, Changes
from oms.core.models import ChangeLog
from oms.orders.models import SalesOrder
from sync.change_feed import ChangeFeed
from tests.conftest import ACTOR, make_order, ship_from, stock, take_in

OTHER = Path(__file__).with_name("other_station.py")


def other_station(db, action: str, order_id: int, reason: str) -> None:
    done = subprocess.run([sys.executable, str(OTHER), db.url, db.schema or "-", action, str(order_id), reason],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


class Heard:
    """What a feed delivered, in order."""

    def __init__(self) -> None:
        self.q: queue.Queue[tuple[Changes, bool]] = queue.Queue()

    def __call__(self, changes: Changes, everything: bool) -> None:
        self.q.put((changes, everything))

    def next(self, timeout: float = 3.0) -> tuple[Changes, bool]:
        return self.q.get(timeout=timeout)

    def nothing(self, wait: float = 1.2) -> bool:
        try:
            self.q.get(timeout=wait)
        except queue.Empty:
            return True
        return False


@pytest.fixture
def one_order(world):
    ship_from(world)
    stock(world, "MUG-RED", "RNO", 10)
    with world.write() as s:
        take_in(s, make_order("5001"))
        return s.scalar(select(SalesOrder.id).where(SalesOrder.external_id == "5001"))


@pytest.fixture
def feed(world):
    heard = Heard()
    f = ChangeFeed(world, heard)  # as a station runs it: SQLite polled every half second
    f.start()
    assert f.wait_connected()
    yield f, heard
    f.stop()


def test_another_station_holding_an_order_reaches_this_one_within_a_second(world, one_order, feed):
    f, heard = feed
    other_station(world, "hold", one_order, "Customer called: wrong size")
    changes, everything = heard.next(1.0)  # the other process has committed and exited: a second at most
    assert not everything and changes.touches("orders")
    assert "sales_order" in changes.tables


def test_own_run_writes_are_not_heard_again_but_other_writes_of_this_process_are(world, one_order, feed):
    from oms import orders

    f, heard = feed
    world.run(lambda s: orders.add_note(s, ACTOR, one_order, "said by this station's screen"))
    assert heard.nothing(), "the screens heard of their own write through Database.run already"
    with world.write() as s:  # as the sync threads write: not through Database.run
        orders.hold(s, ACTOR, one_order, "Channel asked to hold")
    changes, everything = heard.next()
    assert changes.touches("orders") and not everything


def test_nothing_is_heard_before_the_commit_nor_of_a_rolled_back_write(world, one_order, feed):
    from oms import orders

    f, heard = feed
    session = world.session()
    orders.hold(session, ACTOR, one_order, "not yet")
    session.flush()
    assert heard.nothing(0.6), "a change was announced before it was committed"
    session.rollback()
    session.close()
    assert heard.nothing(0.6), "a rolled-back change was announced"
    session = world.session()
    orders.hold(session, ACTOR, one_order, "now")
    session.commit()
    session.close()
    changes, _ = heard.next()
    assert changes.touches("orders")


@pytest.mark.postgres
def test_a_killed_listener_comes_back_and_misses_nothing(world, one_order):
    from oms import orders

    if world.dialect != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    heard = Heard()
    f = ChangeFeed(world, heard, retry_seconds=(2.0,))  # away two seconds after losing its connection
    f.start()
    try:
        assert f.wait_connected()
        killed_pid = f.backend_pid
        with world.engine.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": killed_pid}).scalar()
        deadline = time.monotonic() + 5
        while f.connected.is_set() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not f.connected.is_set(), "the feed did not notice its connection was gone"
        # While the feed is away, this station's sync holds the order: its NOTIFY goes to nobody.
        with world.write() as s:
            orders.hold(s, ACTOR, one_order, "Fraud check")
        assert not f.connected.is_set(), "the change was meant to be committed while the feed was away"
        changes, everything = heard.next(10)
        assert everything, "after a reconnect every screen reads again what it shows"
        assert changes.touches("orders", "fulfilment", "inventory", "shipping", "routing")
        assert f.reconnects == 1 and f.backend_pid != killed_pid
        # and it listens again: the next change, made by another process, arrives as itself
        other_station(world, "cancel", one_order, "Customer cancelled")
        changes, everything = heard.next(5)
        assert not everything and changes.touches("orders")
    finally:
        f.stop()


def test_on_sqlite_a_change_made_while_the_poller_was_away_is_read_when_it_comes_back(sqlite_db):
    """The poller's connection is closed under it: it opens another and reads everything again."""
    from oms import orders

    heard = Heard()
    f = ChangeFeed(sqlite_db, heard, interval=0.1, retry_seconds=(0.5,))
    f.start()
    try:
        assert f.wait_connected()
        with f._lock:
            f._conn.connection.driver_connection.close()  # as if the file went away a moment
        with sqlite_db.write() as s:
            orders.add_channel(s, ACTOR, "web", "Web shop", "shopify")
        seen = [heard.next(5)]
        while not seen[-1][1]:
            seen.append(heard.next(5))
        assert seen[-1][0].touches("orders") and f.reconnects == 1
    finally:
        f.stop()


def test_the_change_log_keeps_only_recent_rows(world):
    from oms import orders

    with world.write() as s:
        orders.add_channel(s, ACTOR, "shop2", "Second shop", "shopify")
    with world.read() as s:
        first = s.scalar(select(func.max(ChangeLog.id)))
    # Jump the ids to just before a pruning commit, as a long-running database would be.
    with world.engine.begin() as conn:
        conn.execute(ChangeLog.__table__.insert(), [{"id": LOG_PRUNE_EVERY * 20 - 1, "origin": "", "tables": "x"}])
        if world.dialect == "postgresql":  # an id given by hand does not move the sequence
            conn.execute(text("SELECT setval(pg_get_serial_sequence('change_log', 'id'), :n)"), {"n": LOG_PRUNE_EVERY * 20 - 1})
    with world.write() as s:  # gets id LOG_PRUNE_EVERY * 20: prunes what is older than LOG_KEEP rows
        orders.add_channel(s, ACTOR, "shop3", "Third shop", "shopify")
    with world.read() as s:
        ids = s.scalars(select(ChangeLog.id).order_by(ChangeLog.id)).all()
    assert ids[-1] == LOG_PRUNE_EVERY * 20
    assert first not in ids and min(ids) >= LOG_PRUNE_EVERY * 20 - LOG_KEEP
