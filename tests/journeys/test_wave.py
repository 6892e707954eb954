"""6:45 — Deshawn builds and picks a wave, with a short pick (JOURNEYS.md).

On default settings: he goes to Waves with the keyboard, reads how many orders are ready, builds the
wave (it takes exactly that many), prints the pick list, scans its WAVE barcode at the Picking screen
and picks by scanning the bin, then the item. One bin is empty: he scans SHORT twice (none found); the
line goes back to routing and another bin or warehouse takes it. The figures on the picking screen, its
wave chooser and the Waves list agree, and the short notice goes away on his next pick.
"""

from __future__ import annotations

import re

from sqlalchemy import func, select

from oms.catalog.models import Barcode, Product
from oms.fulfilment.models import PickTask, WaveOrder
from oms.inventory.models import Bin, BinStock, Location, StockLevel
from oms.orders.models import Allocation, OrderLine, SalesOrder

WAVE_SIZE = 40  # the Size field's default


def _barcode(s, sku: str) -> str:
    """What is printed under the bars on the item's label."""
    with s.db.read() as session:
        code = session.scalar(select(Barcode.code).join(Product, Product.id == Barcode.product_id)
                              .where(Product.sku == sku).order_by(Barcode.id).limit(1))
    return code or sku


def _someone_else_has_it(s, task, bin_code: str) -> bool:
    """Whether, with this bin empty, routing has somewhere to send the line: another Reno bin holds it, or
    (for an order that may split) another warehouse does."""
    with s.db.read() as session:
        reno = session.scalar(select(Location.id).where(Location.code == "RNO"))
        order_id = session.scalar(select(SalesOrder.id).where(SalesOrder.number == task.order_number))
        pid = session.scalar(select(Product.id).where(Product.sku == task.sku))
        other_bins = session.scalar(
            select(func.coalesce(func.sum(BinStock.on_hand), 0)).join(Bin, Bin.id == BinStock.bin_id)
            .where(BinStock.product_id == pid, Bin.location_id == reno, Bin.code != bin_code)) or 0
        promised = session.scalar(
            select(func.coalesce(func.sum(PickTask.quantity - PickTask.picked - PickTask.short), 0))
            .join(Bin, Bin.id == PickTask.bin_id)
            .where(PickTask.product_id == pid, PickTask.status == "open", Bin.location_id == reno,
                   Bin.code != bin_code)) or 0
        if other_bins - promised >= task.quantity:
            return True
        # A consumer order may split: another warehouse with the units takes the line. (A wholesale order
        # ships complete, so what Reno cannot find waits for Reno.)
        if session.scalar(select(SalesOrder.order_type).where(SalesOrder.id == order_id)) == "wholesale":
            return False
        elsewhere = session.scalar(
            select(func.coalesce(func.max(StockLevel.on_hand - StockLevel.allocated), 0))
            .join(Location, Location.id == StockLevel.location_id)
            .where(StockLevel.product_id == pid, Location.id != reno, Location.kind != "3pl")) or 0
        return elsewhere >= task.quantity


def _reserved(s, wave_id: int, sku: str) -> int:
    """Units of this SKU reserved anywhere for the wave's orders."""
    with s.db.read() as session:
        return session.scalar(
            select(func.coalesce(func.sum(Allocation.quantity - OrderLine.picked), 0))
            .join(OrderLine, OrderLine.id == Allocation.order_line_id)
            .join(WaveOrder, WaveOrder.order_id == OrderLine.order_id)
            .where(WaveOrder.wave_id == wave_id, OrderLine.sku == sku)) or 0


def test_deshawn_builds_and_picks_a_wave_with_a_short_pick(station):
    s = station
    s.key("Ctrl+4")
    s.wait_text("Build a wave")
    waves = s.window.waves

    # What the screen promises before he builds.
    s.wait_for(lambda: re.search(r"ready to pick with these choices", waves.ready_label.text()), "the ready count")
    said = waves.ready_label.text()
    m = re.match(r"(\d+) orders? at RNO are ready|1 order at RNO is ready", said)
    assert m, said
    ready = int(m.group(1)) if m.group(1) else 1
    expected = min(ready, WAVE_SIZE)
    assert ready > 0, said

    s.click_text("Build wave")  # the one mouse action of his shift
    s.wait_text("Wave built:")
    built = next(t for t in s.texts() if t.startswith("Wave built:"))
    assert built.startswith(f"Wave built: {expected} orders") or (expected == 1 and built.startswith("Wave built: 1 order,"))
    s.wait_for(lambda: waves.selected_wave() is not None and waves.pick_list is not None, "the new wave and its pick list")
    wave = waves.selected_wave()
    assert wave.orders == expected
    s.wait_text("No orders at RNO are ready to pick with these choices." if ready <= WAVE_SIZE else
                f"{ready - expected} order")
    with s.db.read() as session:
        assert session.scalar(select(func.count()).select_from(WaveOrder).where(WaveOrder.wave_id == wave.id)) == expected

    # The pick list: a preview, Enter prints it; no printer is chosen yet on a new station, and it says so.
    s.click_text("Print pick list…")
    s.wait_for(lambda: waves.preview is not None and waves.preview.isVisible(), "the pick list preview")
    s.key("Return")
    s.wait_for(lambda: waves.last_print is not None, "the pick list sent to the printer")
    assert waves.last_print.failed and s.sees("did not print")

    # At the Picking screen he scans the WAVE barcode on the pick list.
    s.key("Ctrl+5")
    picking = s.window.picking
    s.wait_text("or scan the WAVE barcode on the pick list")
    s.scan(f"WAVE-{wave.id}")
    s.wait_for(lambda: picking.summary is not None and picking.summary.id == wave.id and picking.current is not None,
               "the wave's first pick")

    def pick_one() -> None:
        """Scan the bin, type how many when more than one, scan the item."""
        bin_code, sku = picking.bin_label.text(), picking.sku_label.text()
        qty = int(picking.qty_label.text().replace(",", ""))
        before = picking.summary.picked
        if bin_code != "no bin":
            s.scan(bin_code)
            s.wait_text(f"Bin {bin_code} — now scan the item")
        if qty > 1:
            s.type(str(qty))
        s.scan(_barcode(s, sku))
        s.wait_for(lambda: picking.summary.picked == before + qty, f"{qty} × {sku} confirmed")

    shorted = None
    for _stop in range(60):
        assert picking.current is not None, "the wave ran out of picks before one could be shorted"
        t = picking.current
        if t.bin_code and len(t.tasks) == 1 and _someone_else_has_it(s, t.tasks[0], t.bin_code):
            shorted = t
            break
        pick_one()
    assert shorted is not None
    reserved_before = _reserved(s, wave.id, shorted.sku)

    # The bin is empty: SHORT, and SHORT again with nothing found.
    s.scan(shorted.bin_code)
    s.wait_text(f"Bin {shorted.bin_code} — now scan the item")
    s.scan("SHORT")
    s.wait_text("Short pick: how many did you find?")
    s.scan("SHORT")
    s.wait_for(lambda: picking.route_label.isVisible(), "the short's outcome")
    notice = picking.route_label.text()
    assert notice.startswith(f"Short at {shorted.bin_code}: 0 of {shorted.quantity} × {shorted.sku} found"), notice
    assert "went back to routing" in notice
    # Another bin or warehouse took the line: it is reserved again, not lost.
    assert _reserved(s, wave.id, shorted.sku) == reserved_before, notice

    # The same figures wherever the wave's progress is shown.
    def progress() -> str:
        return picking.progress_text.text().split(" · ")[0]

    figures = progress()
    assert f"{shorted.quantity} short" in figures, figures
    s.shot("wave-short-notice")
    assert picking.wave_combo.currentText().endswith("— " + figures)

    # His next pick: the short's notice is old news.
    assert picking.current is not None
    pick_one()
    assert not picking.route_label.isVisible()
    figures = progress()
    assert picking.wave_combo.currentText().endswith("— " + figures)

    s.key("Ctrl+4")
    s.wait_for(lambda: any(w.id == wave.id for w in waves.waves) and waves.table.rowCount() == len(waves.waves),
               "the open waves")
    row = next(r for r, w in enumerate(waves.waves) if w.id == wave.id)
    s.wait_for(lambda: waves.table.item(row, 4).text() == figures, f"the Waves list to say {figures!r}")
    # Its pick list is what is left to pick, not what was there when the wave was built.
    left = picking.summary.to_pick - picking.summary.picked
    s.wait_text(f"{wave.orders} orders, {left} units still to pick")
    with s.db.read() as session:
        order = session.scalar(select(SalesOrder.number).join(OrderLine, OrderLine.order_id == SalesOrder.id)
                               .join(PickTask, PickTask.order_line_id == OrderLine.id)
                               .where(PickTask.wave_id == wave.id, PickTask.short > 0).limit(1))
    assert order and order in notice
    s.shot("wave-short-pick")
