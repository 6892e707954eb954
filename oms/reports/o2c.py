"""Order to cash: where the money of what shipped stands, now.

Four sections, each read from what the other capabilities wrote:
- shipped but not invoiced: confirmed shipments without an invoice (ship confirm invoices every shipment, so
  these are shipments from before invoicing existed, or a database restored half-way); `invoice issue
  --shipment ID` invoices one;
- payment captures (the outbox's ``payment.capture`` messages to the shops) captured against pending, by age;
- captures that failed: refused for good (a person must send them again) or being retried, with the attempts,
  the remote's last answer and when the next try is;
- invoices sent to EDI partners (810) and whether their 997 arrived, is overdue, or never will.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from oms.core.i18n import _
from oms.core.models import OutboxMessage
from oms.core.types import utcnow
from oms.invoicing.models import Invoice
from oms.orders.models import SalesOrder
from oms.partners.models import EdiDocument, TradingPartner
from oms.shipping.models import Shipment, ShipmentLine, ShipmentStatus

CAPTURE_TOPIC = "payment.capture"
EDI_INVOICE_TOPIC = "invoice.create"
# Age buckets of a capture, by days since the shipment asked for it: (upper bound in days, title).
AGE_BUCKETS = ((1, "0–1 days"), (3, "2–3 days"), (7, "4–7 days"), (None, "over 7 days"))


@dataclass(frozen=True)
class NotInvoiced:
    shipment_id: int
    order_id: int
    order_number: str
    shipped_at: datetime | None
    units: int


@dataclass(frozen=True)
class CaptureAge:
    bucket: str
    currency: str
    captured: int
    captured_minor: int
    pending: int
    pending_minor: int
    failed: int
    failed_minor: int


@dataclass(frozen=True)
class FailedCapture:
    message_id: int
    order_id: int | None
    order_number: str
    channel: str
    currency: str
    amount_minor: int
    state: str  # failed (a person must act) or retrying
    attempts: int
    last_error: str
    next_attempt_at: datetime | None


@dataclass(frozen=True)
class EdiInvoice:
    partner: str
    order_id: int | None
    order_number: str
    shipment_id: int | None
    invoice_number: str
    state: str  # waiting to be sent, sent: awaiting 997, 997 arrived, no 997 in time, rejected
    sent_at: datetime | None
    acknowledged_at: datetime | None
    overdue: bool


@dataclass(frozen=True)
class OrderToCash:
    as_of: datetime
    not_invoiced: tuple[NotInvoiced, ...]
    captures: tuple[CaptureAge, ...]
    failed_captures: tuple[FailedCapture, ...]
    edi_invoices: tuple[EdiInvoice, ...]

    def as_dict(self) -> dict:
        def plain(value):
            if isinstance(value, datetime):
                return value.isoformat()
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return [plain(v) for v in value]
            return value

        return plain(asdict(self))


def _bucket(age: timedelta) -> str:
    days = age.total_seconds() / 86400
    for bound, title in AGE_BUCKETS:
        if bound is None or days <= bound:
            return title
    return AGE_BUCKETS[-1][1]  # pragma: no cover


def not_invoiced(session: Session, *, limit: int = 500) -> list[NotInvoiced]:
    rows = session.execute(
        select(Shipment.id, Shipment.order_id, SalesOrder.number, Shipment.shipped_at)
        .join(SalesOrder, SalesOrder.id == Shipment.order_id)
        .outerjoin(Invoice, Invoice.shipment_id == Shipment.id)
        .where(Shipment.status == ShipmentStatus.SHIPPED.value, Invoice.id.is_(None))
        .order_by(Shipment.shipped_at, Shipment.id).limit(limit)).all()
    units: dict[int, int] = {}
    if rows:
        for sid, qty in session.execute(select(ShipmentLine.shipment_id, ShipmentLine.quantity)
                                        .where(ShipmentLine.shipment_id.in_([r[0] for r in rows]))):
            units[sid] = units.get(sid, 0) + qty
    return [NotInvoiced(r[0], r[1], r[2], r[3], units.get(r[0], 0)) for r in rows]


def order_to_cash(session: Session, *, now: datetime | None = None, captured_days: int = 30) -> OrderToCash:
    """The order-to-cash view as of ``now``: captures sent in the last ``captured_days``, and everything still open."""
    now = now or utcnow()
    since = now - timedelta(days=captured_days)
    msgs = session.execute(
        select(OutboxMessage.id, OutboxMessage.order_id, OutboxMessage.destination, OutboxMessage.payload,
               OutboxMessage.status, OutboxMessage.attempts, OutboxMessage.last_error, OutboxMessage.created_at,
               OutboxMessage.next_attempt_at)
        .where(OutboxMessage.topic == CAPTURE_TOPIC,
               (OutboxMessage.status != "sent") | (OutboxMessage.created_at >= since))
        .order_by(OutboxMessage.id)).all()
    order_numbers = dict(session.execute(select(SalesOrder.id, SalesOrder.number).where(
        SalesOrder.id.in_({m.order_id for m in msgs if m.order_id}))).all()) if msgs else {}
    ages: dict[tuple[str, str], list[int]] = {}
    failed: list[FailedCapture] = []
    for m in msgs:
        payload = m.payload or {}
        currency, amount = str(payload.get("currency") or ""), int(payload.get("amount_minor") or 0)
        cell = ages.setdefault((_bucket(now - m.created_at), currency), [0] * 6)
        slot = {"sent": 0, "pending": 2, "failed": 4}.get(m.status)
        if slot is None:
            continue  # superseded: nothing to capture
        cell[slot] += 1
        cell[slot + 1] += amount
        if m.status == "failed" or (m.status == "pending" and m.attempts > 0):
            failed.append(FailedCapture(
                m.id, m.order_id, order_numbers.get(m.order_id, ""), m.destination, currency, amount,
                "failed" if m.status == "failed" else "retrying", m.attempts, m.last_error or "",
                m.next_attempt_at if m.status == "pending" else None))
    order = {title: i for i, (_b, title) in enumerate(AGE_BUCKETS)}
    captures = tuple(CaptureAge(bucket, currency, *cell) for (bucket, currency), cell
                     in sorted(ages.items(), key=lambda kv: (order[kv[0][0]], kv[0][1])))
    return OrderToCash(now, tuple(not_invoiced(session)), captures, tuple(failed), tuple(edi_invoices(session, now=now)))


def edi_invoices(session: Session, *, now: datetime | None = None, limit: int = 500) -> list[EdiInvoice]:
    """The 810s: the outbox messages that carry them, and the documents they became, with their 997's state."""
    now = now or utcnow()
    docs = session.execute(
        select(EdiDocument.shipment_id, EdiDocument.order_id, EdiDocument.status, EdiDocument.created_at,
               EdiDocument.acknowledged_at, TradingPartner.code, TradingPartner.ack_timeout_h)
        .join(TradingPartner, TradingPartner.id == EdiDocument.partner_id)
        .where(EdiDocument.direction == "out", EdiDocument.doc_type == "810")
        .order_by(EdiDocument.created_at.desc()).limit(limit)).all()
    seen = {d.shipment_id for d in docs}
    waiting = session.execute(
        select(OutboxMessage.destination, OutboxMessage.order_id, OutboxMessage.payload, OutboxMessage.created_at)
        .where(OutboxMessage.topic == EDI_INVOICE_TOPIC, OutboxMessage.status == "pending")).all()
    shipment_ids = seen | {(w.payload or {}).get("shipment_id") for w in waiting}
    invoice_of = dict(session.execute(select(Invoice.shipment_id, Invoice.number)
                                      .where(Invoice.shipment_id.in_([s for s in shipment_ids if s]))).all())
    order_ids = {d.order_id for d in docs} | {w.order_id for w in waiting}
    numbers = dict(session.execute(select(SalesOrder.id, SalesOrder.number)
                                   .where(SalesOrder.id.in_([o for o in order_ids if o]))).all())
    out = []
    for w in waiting:
        sid = (w.payload or {}).get("shipment_id")
        if sid in seen:
            continue
        out.append(EdiInvoice(w.destination, w.order_id, numbers.get(w.order_id, ""), sid, invoice_of.get(sid, ""),
                              _("waiting to be sent"), None, None, False))
    states = {"acknowledged": _("997 arrived"), "unacknowledged": _("no 997 in time"), "rejected": _("rejected"),
              "queued": _("waiting to be sent")}
    for d in docs:
        overdue = d.status == "unacknowledged" or (d.status == "sent" and now - d.created_at > timedelta(hours=d.ack_timeout_h))
        state = states.get(d.status) or (_("no 997 in time") if overdue else _("sent: awaiting 997"))
        out.append(EdiInvoice(d.code, d.order_id, numbers.get(d.order_id, ""), d.shipment_id, invoice_of.get(d.shipment_id, ""),
                              state, d.created_at, d.acknowledged_at, overdue))
    return out
