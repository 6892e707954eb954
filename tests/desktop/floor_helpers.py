"""Helpers for the floor tests: a scanner that types bursts through the real ScanInputFilter, and a small floor."""

from __future__ import annotations

from datetime import datetime, timezone

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from desktop.main_window import scanner_settings
from desktop.scanner import ScanInputFilter
from oms import catalog, intake
from oms.catalog.models import Barcode, Product
from oms.core.audit import Actor
from oms.core.gs1 import gs1_check_digit
from oms.routing import restock
from tests.conftest import make_order

SETUP = Actor("setup", "test")
SCANNER_GAP_MS = 4
HUMAN_GAP_MS = 150
RED = "4006381333931"  # EAN-13 of FLOOR-MUG-RED
BLUE = "036000291452"  # UPC-A of FLOOR-MUG-BLU


def ean(body12: str) -> str:
    return body12 + str(gs1_check_digit(body12))


TOTE_EAN = ean("061414199001")
LANTERN_EAN = ean("061414199002")


class FakeClock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, ms: float) -> None:
        self.now += ms / 1000.0


class Scanner:
    """A USB scanner at the station: each scan is a fast burst of key presses ended by Enter."""

    def __init__(self, qapp, window, clock: FakeClock | None = None) -> None:
        self.clock = clock or FakeClock()
        self.window = window
        self.filter = ScanInputFilter(scanner_settings(window.settings), clock=self.clock)
        qapp.installEventFilter(self.filter)
        self.filter.scanned.connect(window.router.route)
        self.filter.scan_failed.connect(window.feedback.scan_failed)
        self.results: list[tuple[bool, str]] = []
        for _k, _t, screen in window.screens:
            if hasattr(screen, "scan_result"):
                screen.scan_result.connect(lambda ok, text: self.results.append((bool(ok), text)))

    def scan(self, text: str) -> tuple[bool, str]:
        before = len(self.results)
        target = QApplication.focusWidget() or self.window
        for char in text:
            QTest.keyClick(target, char)
            self.clock.advance(SCANNER_GAP_MS)
        QTest.keyClick(target, Qt.Key.Key_Return)
        self.clock.advance(400)  # the person moves on to the next thing
        assert len(self.results) > before, f"the scan {text!r} got no answer"
        return self.results[before]  # the scan's own answer; a print failure may follow it

    def type(self, target, text: str, key=None) -> None:
        """A person typing: slow enough that the scan filter hands every key on to the widget."""
        for char in text:
            QTest.keyClick(target, char)
            self.clock.advance(HUMAN_GAP_MS)
        if key is not None:
            QTest.keyClick(target, key)
            self.clock.advance(HUMAN_GAP_MS)
        QTest.qWait(self.filter.settings.max_interval_ms + 40)  # the filter's flush timer lets held keys through

    def close(self, qapp) -> None:
        qapp.removeEventFilter(self.filter)
        shiboken6.delete(self.filter)


def add_floor(db, orders: list[tuple[str, list[tuple[str, int]]]], *, lantern_at_reno: int = 1) -> dict[str, int]:
    """Products with known barcodes and bins in Reno (and lanterns in Newark), and web orders for them."""
    with db.write() as s:
        catalog.add_product(s, SETUP, "FLOOR-MUG-RED", "Floor mug, red", price="14.00", weight_g=420, barcodes=[("ean", RED)])
        catalog.add_product(s, SETUP, "FLOOR-MUG-BLU", "Floor mug, blue", price="14.00", weight_g=420, barcodes=[("upc", BLUE)])
        catalog.add_product(s, SETUP, "FLOOR-TOTE", "Floor tote bag", price="22.00", weight_g=350, barcodes=[("ean", TOTE_EAN)])
        catalog.add_product(s, SETUP, "FLOOR-LANTERN", "Floor lantern", price="39.00", weight_g=1100,
                            barcodes=[("ean", LANTERN_EAN)])
        restock.receive(s, SETUP, "FLOOR-MUG-RED", "RNO", 20, bin="A-03-2", reference="TEST")
        restock.receive(s, SETUP, "FLOOR-MUG-BLU", "RNO", 20, bin="A-01-1", reference="TEST")
        restock.receive(s, SETUP, "FLOOR-TOTE", "RNO", 20, bin="B-05-1", reference="TEST")
        if lantern_at_reno:
            restock.receive(s, SETUP, "FLOOR-LANTERN", "RNO", lantern_at_reno, bin="C-11-1", reference="TEST")
        restock.receive(s, SETUP, "FLOOR-LANTERN", "EWR", 5, bin="B-02-1", reference="TEST")
    ids = {}
    with db.write() as s:
        for number, lines in orders:
            (r,) = intake.take_in(s, SETUP, [make_order(f"FLOOR-{number}", lines, number=number,
                                                                  placed_at=datetime(2026, 11, 20, 14, 0, tzinfo=timezone.utc))]).results
            ids[number] = r.order_id
    return ids


def barcode_of(db, sku: str) -> str:
    with db.read() as s:
        codes = s.scalars(select(Barcode.code).join(Product, Product.id == Barcode.product_id).where(Product.sku == sku)
                          .order_by(Barcode.id)).all()
    return codes[0] if codes else sku
