"""10:15 — Priya, customer service, on the phone (JOURNEYS.md).

A customer gives part of her name and her email address. Priya, keyboard only, types part of the
surname, picks the order among the few found, then types part of the email and the one order opens.
It has shipped, and she sees that at once, with its timeline. The bucket counts she glances at agree
with the lists they open.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel
from sqlalchemy import select

from oms import desk
from oms.desk.queue import QueueFilter
from oms.orders.models import SalesOrder


def a_caller(db):
    """A customer with a shipped order: a piece inside her surname that finds a few orders, and a piece inside her
    email (not its start) that finds only this one."""
    with db.read() as s:
        rows = s.execute(select(SalesOrder.id, SalesOrder.customer_name, SalesOrder.customer_email)
                         .where(SalesOrder.status == "shipped", SalesOrder.customer_email.like("%.%@%"))
                         .order_by(SalesOrder.id)).all()
        for oid, name, email in rows:
            surname = name.split()[-1]
            by_surname = surname[1:-1].lower()  # "obinso" for Robinson
            by_email = email.split("@")[0][3:] + "@"  # "nah.robinson7@"
            if len(by_surname) < 4:
                continue
            several = desk.queue_count(s, QueueFilter(search=by_surname))
            if 2 <= several <= 12 and desk.queue_count(s, QueueFilter(search=by_email)) == 1:
                return oid, name, by_surname, several, by_email
    raise AssertionError("the demo data has no shipped order with a surname shared by a few orders")


def test_priya_finds_an_order_by_part_of_a_surname_and_part_of_an_email(station):
    s = station
    queue = s.window.queue
    model = queue.model
    oid, name, by_surname, several, by_email = a_caller(s.db)

    s.key("Ctrl+1")
    s.key("Ctrl+F")
    assert s.focused() is queue.search, "Ctrl+F puts the cursor in the order search"

    # Part of the surname: a few orders; she goes down into them and opens the caller's.
    s.type(by_surname)
    s.wait_for(lambda: model.query_filter.search == by_surname and not model.is_loading and model.rowCount() == several,
               f"the orders of customers called like {name}")
    assert s.sees(f"{several} orders")
    assert s.sees(name)
    s.key("Down")
    assert s.focused() is queue.table, "Down goes from the search into the orders found"
    rows = [model.order_id(r) for r in range(model.rowCount())]
    for _ in range(rows.index(oid)):
        s.key("Down")
    s.key("Return")
    s.wait_for(lambda: s.window.detail.order is not None and s.window.detail.order.id == oid, f"{name}'s order")
    assert s.window.detail.status_badge.text() == "Shipped"
    assert s.window.detail.timeline.findChildren(QLabel, "timelineText"), "the timeline is shown"
    s.key("Escape")
    s.wait_for(lambda: s.window.orders_stack.currentWidget() is queue, "the queue again")

    # Part of the email: one order, and Enter opens it straight away.
    s.key("Ctrl+F")
    assert s.focused() is queue.search
    s.type(by_email)
    s.key("Return")
    s.wait_for(lambda: s.window.detail.order is not None and s.window.detail.order.id == oid
               and s.window.orders_stack.currentWidget() is s.window.detail, "the one order found, opened")
    s.wait_text("Shipped")
    texts = [w.text() for w in s.window.detail.timeline.findChildren(QLabel, "timelineText")]
    assert any(t.startswith("Imported") for t in texts) and any(t.startswith("Shipped ") for t in texts), \
        f"the timeline, from the order's arrival to its shipping: {texts}"
    s.shot("find-order-detail")

    # Back to the queue; Escape again clears the search.
    s.key("Escape")
    s.wait_for(lambda: s.window.orders_stack.currentWidget() is queue, "the queue again")
    s.key("Ctrl+F")
    s.key("Escape")
    s.wait_for(lambda: model.query_filter.search == "" and not model.is_loading and model.rowCount() > several,
               "every order again")

    # Tab walks the filters, the buckets and the list, and Shift+Tab walks back: nothing keeps the keyboard.
    s.key("Ctrl+F")
    walk = [queue.channel, queue.location, queue.order_type, queue.ship_from, queue.ship_to, queue.clear_filters,
            queue.buckets, queue.table]
    for widget in walk:
        s.key("Tab")
        assert s.focused() is widget, f"Tab went to {s.focused().objectName()}, not {widget.objectName()}"
    for widget in reversed([queue.search, *walk[:-1]]):
        s.key("Shift+Tab")
        assert s.focused() is widget, f"Shift+Tab went to {s.focused().objectName()}, not {widget.objectName()}"

    # Every bucket's count is the number of orders its list shows, and the footer says the same.
    buckets = queue.buckets
    for key in buckets.keys():
        item = buckets.item(buckets.keys().index(key), 0)
        s.click(buckets.viewport(), buckets.visualItemRect(item).center())
        s.wait_for(lambda: model.query_filter.bucket == key and not model.is_loading, f"the {item.text()} list")
        rows = model.rowCount()
        assert buckets.count_text(key) == f"{rows:,}", f"{item.text()}: the bucket says {buckets.count_text(key)}, " \
                                                       f"the list shows {rows}"
        footer = "1 order" if rows == 1 else f"{rows:,} orders"
        assert queue.summary.text().startswith(footer), f"{item.text()}: the footer says {queue.summary.text()}"
    s.shot("find-order-buckets")
