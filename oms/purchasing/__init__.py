"""Purchasing: the inbound side of stock. Suppliers, purchase orders and their lines (SKU, quantity, unit cost
with its currency, expected date) with the PO number series (PO-1001, …) and the states a PO moves through
(draft, sent, confirmed, partly received, received, closed, cancelled), each move audited; receiving against a PO
by scanner (one receipt line per PO line however often the item is scanned, over-receipt refused beyond the
supplier's or the house tolerance, damaged units to quarantine); putaway with a suggested bin confirmed by scan;
and the dates backordered lines can expect their stock from the open POs; reorder points per product and location
(min, max, multiple, supplier) and the purchase orders they suggest, which never repeat what open POs bring; and
suppliers' ship notices (ASNs) with their cartons' SSCCs, a carton received whole by one scan of its label.

Owns the `supplier`, `po_counter`, `purchase_order`, `purchase_order_line`, `receipt`, `receipt_line`,
`quarantined_stock`, `reorder_point`, `expected_receipt`, `asn_carton` and `asn_carton_line` tables. Good units received go through the stock ledger by `routing.restock`, which releases
the orders waiting for them, oldest promise first; so purchasing stands above routing and below the desk, which
shows a backorder's expected date. The PO's PDF is made in `oms.documents`."""

from .asn import (
    AsnView,
    CartonInput,
    CartonReceived,
    CartonView,
    carton_po,
    expected_receipts,
    receive_carton,
    record_asn,
)
from .models import PoStatus, ReceiptStatus
from .orders import (
    OPEN_STATES,
    PO_PREFIX,
    TRANSITIONS,
    PoLineInput,
    add_line,
    add_supplier,
    cancel_po,
    close_po,
    confirm_po,
    create_po,
    next_po_number,
    po_id,
    send_po,
    set_supplier_tolerance,
    status_title,
    supplier_id,
)
from .queries import (
    Expected,
    PoDetail,
    PoLineView,
    PoSummary,
    ReceiptLineView,
    SupplierView,
    expected_for_lines,
    list_pos,
    po_detail,
    suppliers,
)
from .reorder import (
    ON_ORDER_STATES,
    ReorderView,
    Suggestion,
    create_suggested_pos,
    order_quantity,
    reorder_points,
    set_reorder_point,
    suggest,
)
from .receiving import (
    PutawaySuggestion,
    ReceiptStart,
    ScanResult,
    finish_receipt,
    put_away,
    quarantined,
    receive,
    scan_item,
    start_receipt,
    suggest_putaway,
    tolerance_limit,
)

__all__ = [
    "AsnView",
    "CartonInput",
    "CartonReceived",
    "CartonView",
    "carton_po",
    "expected_receipts",
    "receive_carton",
    "record_asn",
    "ON_ORDER_STATES",
    "ReorderView",
    "Suggestion",
    "create_suggested_pos",
    "order_quantity",
    "reorder_points",
    "set_reorder_point",
    "suggest",
    "PoStatus",
    "ReceiptStatus",
    "OPEN_STATES",
    "PO_PREFIX",
    "TRANSITIONS",
    "PoLineInput",
    "add_supplier",
    "set_supplier_tolerance",
    "supplier_id",
    "create_po",
    "add_line",
    "send_po",
    "confirm_po",
    "cancel_po",
    "close_po",
    "next_po_number",
    "po_id",
    "status_title",
    "SupplierView",
    "PoSummary",
    "PoLineView",
    "PoDetail",
    "ReceiptLineView",
    "Expected",
    "suppliers",
    "list_pos",
    "po_detail",
    "expected_for_lines",
    "ReceiptStart",
    "ScanResult",
    "PutawaySuggestion",
    "start_receipt",
    "scan_item",
    "finish_receipt",
    "suggest_putaway",
    "put_away",
    "receive",
    "quarantined",
    "tolerance_limit",
]
