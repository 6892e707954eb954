"""Invoicing: what a customer owes for what shipped, and what is given back.

An invoice for every confirmed shipment, whatever its channel (ship confirm issues it in its own transaction):
the goods that shipped and the channel's shipping, discount and tax; credit notes against an invoice (some of
its lines, its shipping); the gap-free number series INV-000001… and CN-000001…; and the publication of each
document to the connections that take them (the ERP hand-off, through ``outbox.publish``). Owns the invoice,
credit note and number series tables."""

from .queries import (
    DocumentLine,
    InvoiceRow,
    InvoiceView,
    credit_note_view,
    credit_notes,
    invoice_view,
    invoices,
)
from .service import (
    CREDIT_NOTE_SERIES,
    CREDIT_NOTE_TOPIC,
    INVOICE_SERIES,
    INVOICE_TOPIC,
    ShippedLine,
    credit_note_payload,
    credit_shipment,
    credited,
    find_invoice,
    invoice_payload,
    invoice_shipment,
    issue_credit_note,
    next_number,
)

__all__ = [
    "CREDIT_NOTE_SERIES",
    "CREDIT_NOTE_TOPIC",
    "INVOICE_SERIES",
    "INVOICE_TOPIC",
    "DocumentLine",
    "InvoiceRow",
    "InvoiceView",
    "ShippedLine",
    "credit_note_payload",
    "credit_shipment",
    "credit_note_view",
    "credit_notes",
    "credited",
    "find_invoice",
    "invoice_payload",
    "invoice_shipment",
    "invoice_view",
    "invoices",
    "issue_credit_note",
    "next_number",
]
