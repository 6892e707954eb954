"""A scanned order barcode (order number, channel order id, tracking number or SSCC) to an order id."""

from __future__ import annotations

from typing import Callable

from oms import queries
from oms.gs1 import Scan


def accepts_order_scan(scan: Scan) -> bool:
    return scan.kind in ("text", "sscc") or (scan.kind == "gs1" and scan.sscc is not None)


def find_scanned_order(screen, scan: Scan, found: Callable[[int], None]) -> None:
    """Look the scan up on the database worker; the screen's scan_result says how it went."""
    ref = scan.sscc or scan.value

    def job(session):
        return queries.find_order(session, ref)

    def done(order_id) -> None:
        if order_id is None:
            screen.scan_result.emit(False, screen.tr("No order {ref}").format(ref=ref))
            return
        screen.scan_result.emit(True, "")
        found(order_id)

    screen.tasks.read(job, done, lambda m: screen.scan_result.emit(False, m), owner=screen)
