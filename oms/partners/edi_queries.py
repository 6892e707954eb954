"""Read-only views of the EDI document log for the Documents screen: a filtered page, one document whole, counts per status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, and_, func, select, union
from sqlalchemy.orm import Session

from oms.core.errors import NotFound
from oms.core.i18n import _
from oms.orders.models import SalesOrder
from oms.partners.models import EdiDocument, TradingPartner
from oms.shipping.models import Shipment

DIRECTIONS = ("in", "out")
DOC_TYPES = ("850", "860", "855", "856", "810", "940", "945", "943", "944", "846", "947", "997", "ISA")
STATUSES = ("received", "accepted", "rejected", "duplicate", "quarantined", "queued", "sent", "acknowledged",
            "unacknowledged")
PROBLEM_STATUSES = ("rejected", "quarantined", "duplicate", "unacknowledged")  # a person should look at these
HEAD_CHARS = 600  # enough of the raw text for its envelope and its first segments (BEG, BAK, BSN, BIG, AK1)
ERROR_CHARS = 300
MIN_SEARCH = 2
SEARCH_CAP = 5000  # a search that matches more than this is narrowed, not paged through


def type_title(doc_type: str) -> str:
    """'850 Purchase order': the number partners use, and what it is in words."""
    titles = {
        "850": _("Purchase order"), "860": _("PO change"), "855": _("PO ack"), "856": _("Ship notice"), "810": _("Invoice"),
        "940": _("Warehouse order"), "945": _("Warehouse shipping advice"), "943": _("Stock transfer to 3PL"),
        "944": _("3PL receipt advice"), "846": _("Inventory advice"), "947": _("Inventory adjustment"),
        "997": _("Functional ack"), "ISA": _("Interchange"),
    }
    name = titles.get(doc_type)
    return f"{doc_type} {name}" if name else doc_type


def status_title(status: str) -> str:
    titles = {
        "received": _("Received"), "accepted": _("Accepted"), "rejected": _("Rejected"), "duplicate": _("Duplicate"),
        "quarantined": _("Quarantined"), "queued": _("Waiting to send"), "sent": _("Sent"),
        "acknowledged": _("Acknowledged"), "unacknowledged": _("Not acknowledged"),
    }
    return titles.get(status, status.replace("_", " ").capitalize())


@dataclass(frozen=True)
class DocumentFilter:
    partner_id: int | None = None
    direction: str | None = None  # "in", "out" or None for both
    doc_type: str | None = None
    status: str | None = None
    search: str = ""  # PO (order) number, interchange or group control number, or the start of a file name


@dataclass(frozen=True)
class DocumentRow:
    id: int
    created_at: datetime
    partner_id: int
    partner_code: str
    direction: str
    doc_type: str
    status: str
    isa_control: str
    gs_control: str
    st_control: str
    order_id: int | None  # the document's own order, or its shipment's
    order_number: str
    shipment_id: int | None
    filename: str
    error: str  # the first ERROR_CHARS characters
    head: str  # the first HEAD_CHARS characters of the raw text


@dataclass(frozen=True)
class DocumentDetail:
    row: DocumentRow
    raw: str
    error: str
    partner_name: str
    delimiters: str  # the partner's four (element, segment, component, repetition): to read a transaction kept without its ISA
    ack_timeout_h: int
    acknowledged_at: datetime | None
    order_status: str = ""  # where the linked order stands, when there is one
    hold_reason: str = ""  # "" unless the order is on hold


@dataclass(frozen=True)
class PartnerChoice:
    id: int
    code: str
    name: str


def partner_choices(session: Session) -> list[PartnerChoice]:
    rows = session.execute(select(TradingPartner.id, TradingPartner.code, TradingPartner.name).order_by(TradingPartner.code))
    return [PartnerChoice(*r) for r in rows]


# -- search ----------------------------------------------------------------------------------


def _next_prefix(text: str) -> str:
    return text[:-1] + chr(ord(text[-1]) + 1)


def _prefix(column, text: str):
    """column starts with text, as an index range (LIKE would not use the index on both databases)."""
    return and_(column >= text, column < _next_prefix(text))


def search_ids(text: str) -> Select | None:
    """Ids of documents whose order (PO) number starts with text, whose interchange or group control number is
    text, or whose file name starts with text. None when text is too short to be a search."""
    q = " ".join(text.split())
    if len(q) < MIN_SEARCH:
        return None
    variants = list(dict.fromkeys((q, q.upper(), q.lower())))
    order_ids = union(*[select(SalesOrder.id).where(_prefix(column, v))
                        for column in (SalesOrder.number, SalesOrder.external_id) for v in variants])
    parts = [
        select(EdiDocument.id).where(EdiDocument.order_id.in_(order_ids)),
        select(EdiDocument.id).join(Shipment, Shipment.id == EdiDocument.shipment_id).where(Shipment.order_id.in_(order_ids)),
        *[select(EdiDocument.id).where(_prefix(EdiDocument.filename, v)) for v in variants],
    ]
    if q.isdigit() and len(q) <= 9:
        # Inbound control numbers are kept as sent (000000412), ours as numbers (412): match both.
        numbers = list(dict.fromkeys((q, str(int(q)), q.zfill(9))))
        parts.append(select(EdiDocument.id).where(EdiDocument.isa_control.in_(numbers)))
        parts.append(select(EdiDocument.id).where(EdiDocument.gs_control.in_(numbers)))
    return union(*parts)


def _filtered(query: Select, f: DocumentFilter, *, status: bool = True) -> Select:
    if f.partner_id is not None:
        query = query.where(EdiDocument.partner_id == f.partner_id)
    if f.direction:
        query = query.where(EdiDocument.direction == f.direction)
    if f.doc_type:
        query = query.where(EdiDocument.doc_type == f.doc_type)
    if status and f.status:
        query = query.where(EdiDocument.status == f.status)
    ids = search_ids(f.search)
    if ids is not None:
        query = query.where(EdiDocument.id.in_(select(ids.subquery().c[0]).limit(SEARCH_CAP)))
    return query


# -- the list ---------------------------------------------------------------------------------


def count(session: Session, f: DocumentFilter) -> int:
    return int(session.scalar(_filtered(select(func.count()).select_from(EdiDocument), f)))


def status_counts(session: Session, f: DocumentFilter) -> dict[str, int]:
    """How many documents of each status the filter finds, its own status aside: the numbers on the status chips."""
    q = _filtered(select(EdiDocument.status, func.count()).select_from(EdiDocument), f, status=False)
    return {status: int(n) for status, n in session.execute(q.group_by(EdiDocument.status))}


def _row_query() -> Select:
    order_id = func.coalesce(EdiDocument.order_id, Shipment.order_id)
    return (select(EdiDocument.id, EdiDocument.created_at, EdiDocument.partner_id, EdiDocument.direction,
                   EdiDocument.doc_type, EdiDocument.status, EdiDocument.isa_control, EdiDocument.gs_control,
                   EdiDocument.st_control, order_id.label("order_id"), SalesOrder.number, EdiDocument.shipment_id,
                   EdiDocument.filename, func.substr(EdiDocument.error, 1, ERROR_CHARS).label("error"),
                   func.substr(EdiDocument.raw, 1, HEAD_CHARS).label("head"))
            .select_from(EdiDocument)
            .outerjoin(Shipment, Shipment.id == EdiDocument.shipment_id)
            .outerjoin(SalesOrder, SalesOrder.id == order_id))


def _codes(session: Session) -> dict[int, str]:
    return dict(session.execute(select(TradingPartner.id, TradingPartner.code)).all())


def _row(r, codes: dict[int, str]) -> DocumentRow:
    return DocumentRow(r.id, r.created_at, r.partner_id, codes.get(r.partner_id, "?"), r.direction, r.doc_type, r.status,
                       r.isa_control, r.gs_control, r.st_control, r.order_id, r.number or "", r.shipment_id, r.filename,
                       r.error or "", r.head or "")


def page(session: Session, f: DocumentFilter, offset: int, limit: int) -> list[DocumentRow]:
    """One page of documents, newest first."""
    q = _filtered(_row_query(), f).order_by(EdiDocument.created_at.desc(), EdiDocument.id.desc()).offset(offset).limit(limit)
    codes = _codes(session)
    return [_row(r, codes) for r in session.execute(q)]


def document(session: Session, doc_id: int) -> DocumentDetail:
    """One document with its whole raw text and error."""
    r = session.execute(_row_query().where(EdiDocument.id == doc_id)).first()
    if r is None:
        raise NotFound(_("There is no EDI document {id}.").format(id=doc_id))
    doc = session.get(EdiDocument, doc_id)
    p = session.get(TradingPartner, doc.partner_id)
    order = session.get(SalesOrder, r.order_id) if r.order_id is not None else None
    return DocumentDetail(_row(r, {p.id: p.code}), doc.raw, doc.error or "", p.name,
                          p.element_sep + p.segment_term + p.component_sep + p.repetition_sep, p.ack_timeout_h,
                          doc.acknowledged_at, order.status if order else "",
                          (order.hold_reason or "") if order is not None and order.on_hold else "")


def version(session: Session) -> tuple:
    """Changes when a document arrives, is written or changes status: the Documents screen's cheap poll."""
    newest = session.scalar(select(func.max(EdiDocument.id)))
    return newest, tuple(sorted(status_counts(session, DocumentFilter()).items()))
