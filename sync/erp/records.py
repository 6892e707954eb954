"""What the ERP hand-off carries, in one shape for every kind: the record of an outbox message, and its CSV rows."""

from __future__ import annotations

from typing import Any

from oms.core import money

from ..base import OutboundMessage

# The domain's publications an ERP connection takes (oms.invoicing and oms.shipping publish them).
TOPICS = ("invoice.issued", "credit_note.issued", "shipment.confirmed")

CSV_COLUMNS = ("batch_id", "record_id", "type", "number", "invoice_number", "order_number", "channel", "issued_at",
               "currency", "document_total", "line", "line_kind", "sku", "description", "quantity", "unit_price",
               "amount", "carrier", "service", "tracking_number")


def record(message: OutboundMessage) -> dict[str, Any]:
    """One record as it goes out: its idempotency key (the receiver's dedupe key), its topic and its data."""
    return {"id": message.idempotency_key, "topic": message.topic, "data": message.payload}


def csv_rows(batch_id: str, message: OutboundMessage) -> list[dict[str, str]]:
    """The record as CSV rows, one per line (of a document, or of what a shipment carried); money as decimals."""
    p = message.payload
    currency = str(p.get("currency") or "")

    def amount(minor) -> str:
        return money.to_text(int(minor), currency) if currency and minor is not None else ""

    kind = str(p.get("type") or message.topic.split(".")[0])
    base = {"batch_id": batch_id, "record_id": message.idempotency_key, "type": kind,
            "number": str(p.get("number") or (p.get("shipment_id") if kind == "shipment" else "") or ""),
            "invoice_number": str(p.get("invoice_number") or ""), "order_number": str(p.get("order_number") or ""),
            "channel": str(p.get("channel") or ""), "issued_at": str(p.get("issued_at") or p.get("shipped_at") or ""),
            "currency": currency, "document_total": amount(p.get("total_minor")) if "total_minor" in p else "",
            "carrier": str(p.get("carrier") or ""), "service": str(p.get("service") or ""),
            "tracking_number": str(p.get("tracking_number") or "")}
    rows = []
    for i, line in enumerate(p.get("lines") or [], 1):
        rows.append({**base, "line": str(line.get("position") or i), "line_kind": str(line.get("kind") or "goods"),
                     "sku": str(line.get("sku") or ""), "description": str(line.get("description") or ""),
                     "quantity": str(line.get("quantity") or ""),
                     "unit_price": amount(line.get("unit_price_minor")) if "unit_price_minor" in line else "",
                     "amount": amount(line.get("amount_minor")) if "amount_minor" in line else ""})
    if not rows:
        rows.append({**base, "line": "", "line_kind": "", "sku": "", "description": "", "quantity": "", "unit_price": "",
                     "amount": ""})
    return rows
