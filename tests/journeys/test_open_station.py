"""6:40 — Maria opens the packing station (JOURNEYS.md).

A fresh install with default settings: the first start seeds the demo data and starts the demo
shops and carrier. The status bar is calm, says the shops and the carrier are online and how many
orders wait for this station, nothing red and nothing cut on a 1366x768 screen. She goes to
Packing and closes Quayside; the next morning it opens on Packing again, and the demo shop still
has its orders and goes on numbering from where it was (never a second "#1002").
"""

from __future__ import annotations

import re

from PySide6.QtWidgets import QLabel
from sqlalchemy import select

from oms.orders.models import Channel, SalesOrder

# The demo shop, and beside it every other channel the registry can emulate: counted when there are three or more;
# the carrier, the demo 3PL and the EDI partner.
SYNC_CALM = re.compile(r"^(Shop|\d+ shops) online · Carrier online · 3PL online · (EDI online · )?(\d+) orders? waiting to be packed$")


def shop_numbers(station) -> list[str]:
    with station.db.read() as s:
        return list(s.scalars(select(SalesOrder.number).join(Channel).where(Channel.code == "shop")))


def highest(numbers: list[str]) -> int:
    return max(int(n.lstrip("#")) for n in numbers)


def status_fields(station) -> list[QLabel]:
    return [w for w in station.window.statusBar().findChildren(QLabel) if w.isVisible() and w.text()]


def assert_calm_and_whole(station) -> None:
    window = station.window
    sync = window.sync_label
    assert SYNC_CALM.match(sync.text()), sync.text()
    assert sync.property("state") == "ok", f"the status bar is {sync.property('state')}: {station.status()}"
    assert window.frameGeometry().width() <= 1366 and window.frameGeometry().height() <= 768
    for label in status_fields(station):  # every field shows its whole text: nothing squeezed to "Shop online · Carr…"
        room = label.contentsRect().width()
        assert label.fontMetrics().horizontalAdvance(label.text()) <= room, (label.text(), room)
        assert label.mapTo(window, label.rect().topRight()).x() <= window.width()


def test_maria_opens_the_station_twice_and_the_demo_shop_remembers(first_start):
    s = first_start
    s.wait_for(lambda: SYNC_CALM.match(s.window.sync_label.text()), "the status bar to say the shop and carrier are online",
               timeout=60)
    s.wait_for(lambda: len(shop_numbers(s)) >= 6, "the demo shop's first orders in the queue", timeout=60)
    assert_calm_and_whole(s)
    s.shot("open-station-first-start")

    s.key("Ctrl+6")  # Packing, where she works
    s.wait_text("Scan a tote or an order number")
    assert not s.window.statusBar().currentMessage()
    before = shop_numbers(s)
    assert len(before) == len(set(before)), before

    s.restart()  # the next morning: the same machine, the same database
    s.wait_text("Scan a tote or an order number")  # it opens on Packing, the screen she used last
    assert s.window.nav_buttons["packing"].isChecked()
    s.wait_for(lambda: SYNC_CALM.match(s.window.sync_label.text()), "the shop and carrier online again", timeout=60)

    # The shop goes on: a new order arrives (one every ~20 s) and is numbered after yesterday's.
    s.wait_for(lambda: highest(shop_numbers(s)) > highest(before), "the demo shop's next order", timeout=90)
    after = shop_numbers(s)
    assert len(after) == len(set(after)), sorted(after)
    assert set(before) <= set(after)
    shop = s.running.startup.demo.shop  # the shop itself still holds yesterday's orders
    assert {o["name"] for o in shop.orders.values()} >= set(before)
    assert_calm_and_whole(s)
    s.shot("open-station-second-start")
