"""What purchasing shows: suppliers, POs in a list and one PO whole, and when backordered lines can expect
their stock (from the open POs, in the order backorders are released)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oms.catalog.models import Product
from oms.core.i18n import _
from oms.core.money import format_money
from oms.core.types import utcnow
from oms.inventory.models import Bin, Location
from oms.orders.models import OrderLine, SalesOrder
from oms.purchasing.models import PurchaseOrder, PurchaseOrderLine, Receipt, ReceiptLine, ReceiptStatus, Supplier
from oms.purchasing.orders import OPEN_STATES, po_id, status_title


@dataclass(frozen=True)
class SupplierView:
    id: int
    code: str
    name: str
    email: str
    currency: str
    lead_days: int
    over_receipt_percent: int | None


@dataclass(frozen=True)
class PoSummary:
    id: int
    number: str
    supplier: str
    location: str
    status: str
    lines: int
    units: int
    received: int
    total: str
    expected: date | None  # the earliest expected date of its lines
    created_at: datetime

    @property
    def status_title(self) -> str:
        return status_title(self.status)


@dataclass(frozen=True)
class PoLineView:
    id: int
    line_no: int
    sku: str
    description: str
    quantity: int
    unit_cost_minor: int
    currency: str
    expected_date: date
    received: int
    damaged: int
    confirmed_quantity: int | None = None  # what the supplier's 855 confirmed (None: not yet)
    confirmed_date: date | None = None

    @property
    def unit_cost(self) -> str:
        return format_money(self.unit_cost_minor, self.currency)

    @property
    def total(self) -> str:
        return format_money(self.unit_cost_minor * self.quantity, self.currency)

    @property
    def outstanding(self) -> int:
        return max(0, self.quantity - self.received)


@dataclass(frozen=True)
class ReceiptLineView:
    id: int
    sku: str
    good: int
    damaged: int
    put_away: int
    bin_code: str


@dataclass(frozen=True)
class PoDetail:
    id: int
    number: str
    status: str
    supplier_code: str
    supplier_name: str
    supplier_email: str
    location_code: str
    location_name: str
    location_address: tuple[str, ...]
    currency: str
    note: str
    created_at: datetime
    sent_at: datetime | None
    lines: tuple[PoLineView, ...]
    open_receipt: int | None
    receipt_lines: tuple[ReceiptLineView, ...]  # of the open receipt

    @property
    def status_title(self) -> str:
        return status_title(self.status)

    @property
    def total_minor(self) -> int:
        return sum(l.unit_cost_minor * l.quantity for l in self.lines)

    @property
    def total(self) -> str:
        return format_money(self.total_minor, self.currency)


def suppliers(session: Session) -> list[SupplierView]:
    return [SupplierView(*r) for r in session.execute(
        select(Supplier.id, Supplier.code, Supplier.name, Supplier.email, Supplier.currency, Supplier.lead_days,
               Supplier.over_receipt_percent).where(Supplier.active.is_(True)).order_by(Supplier.code))]


def list_pos(session: Session, *, status: str | None = None, supplier: str | None = None, limit: int = 200) -> list[PoSummary]:
    """POs newest first, optionally of one state or supplier (by code)."""
    agg = (select(PurchaseOrderLine.po_id, func.count().label("n"), func.sum(PurchaseOrderLine.quantity).label("units"),
                  func.sum(PurchaseOrderLine.received).label("received"),
                  func.sum(PurchaseOrderLine.quantity * PurchaseOrderLine.unit_cost_minor).label("total"),
                  func.min(PurchaseOrderLine.expected_date).label("expected"))
           .group_by(PurchaseOrderLine.po_id).subquery())
    q = (select(PurchaseOrder.id, PurchaseOrder.number, Supplier.code, Location.code, PurchaseOrder.status,
                agg.c.n, agg.c.units, agg.c.received, agg.c.total, PurchaseOrder.currency, agg.c.expected,
                PurchaseOrder.created_at)
         .join(Supplier, Supplier.id == PurchaseOrder.supplier_id).join(Location, Location.id == PurchaseOrder.location_id)
         .outerjoin(agg, agg.c.po_id == PurchaseOrder.id).order_by(PurchaseOrder.id.desc()).limit(limit))
    if status:
        q = q.where(PurchaseOrder.status == status)
    if supplier:
        q = q.where(Supplier.code == supplier)
    return [PoSummary(r[0], r[1], r[2], r[3], r[4], int(r[5] or 0), int(r[6] or 0), int(r[7] or 0),
                      format_money(int(r[8] or 0), r[9]), r[10], r[11]) for r in session.execute(q)]


def po_detail(session: Session, ref: int | str) -> PoDetail:
    pid = po_id(session, ref)
    h = session.execute(
        select(PurchaseOrder.id, PurchaseOrder.number, PurchaseOrder.status, Supplier.code, Supplier.name, Supplier.email,
               Location.code.label("lcode"), Location.name.label("lname"), Location.address1, Location.city, Location.region,
               Location.postal_code, Location.country, PurchaseOrder.currency, PurchaseOrder.note,
               PurchaseOrder.created_at, PurchaseOrder.sent_at)
        .join(Supplier, Supplier.id == PurchaseOrder.supplier_id).join(Location, Location.id == PurchaseOrder.location_id)
        .where(PurchaseOrder.id == pid)).one()
    lines = tuple(PoLineView(r.id, r.line_no, r.sku, r.name or "", r.quantity, r.unit_cost_minor, r.currency,
                             r.expected_date, r.received, r.damaged, r.confirmed_quantity, r.confirmed_date)
                  for r in session.execute(
                      select(PurchaseOrderLine.id, PurchaseOrderLine.line_no, PurchaseOrderLine.sku, Product.name,
                             PurchaseOrderLine.quantity, PurchaseOrderLine.unit_cost_minor, PurchaseOrderLine.currency,
                             PurchaseOrderLine.expected_date, PurchaseOrderLine.received, PurchaseOrderLine.damaged,
                             PurchaseOrderLine.confirmed_quantity, PurchaseOrderLine.confirmed_date)
                      .join(Product, Product.id == PurchaseOrderLine.product_id)
                      .where(PurchaseOrderLine.po_id == pid).order_by(PurchaseOrderLine.line_no)))
    rid = session.scalar(select(Receipt.id).where(Receipt.po_id == pid, Receipt.status == ReceiptStatus.OPEN.value)
                         .order_by(Receipt.id).limit(1))
    receipt_lines: tuple[ReceiptLineView, ...] = ()
    if rid is not None:
        receipt_lines = tuple(ReceiptLineView(r.id, r.sku, r.good, r.damaged, r.put_away, r.code or "") for r in session.execute(
            select(ReceiptLine.id, Product.sku, ReceiptLine.good, ReceiptLine.damaged, ReceiptLine.put_away, Bin.code)
            .join(Product, Product.id == ReceiptLine.product_id).outerjoin(Bin, Bin.id == ReceiptLine.bin_id)
            .where(ReceiptLine.receipt_id == rid).order_by(ReceiptLine.id)))
    region = " ".join(p for p in (h.city + ("," if h.city and h.region else ""), h.region, h.postal_code) if p)
    address = tuple(p for p in (h.lname, h.address1, region, h.country) if p)
    return PoDetail(h.id, h.number, h.status, h.code, h.name, h.email, h.lcode, h.lname, address, h.currency, h.note,
                    h.created_at, h.sent_at, lines, rid, receipt_lines)


# -- backorders' expected dates -------------------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """When a backordered line can expect its stock, and from which PO."""

    day: date
    po_number: str

    @property
    def text(self) -> str:
        """"expected 12 Dec from PO-1042" """
        return _("expected {day} from {po}").format(day=f"{self.day.day} {self.day:%b}", po=self.po_number)


def expected_for_lines(session: Session, order_line_ids: Iterable[int], today: date | None = None) -> dict[int, Expected]:
    """The expected date of each backordered order line among `order_line_ids` that an open PO covers.

    Supply is every open PO line's outstanding quantity, available on its expected date (today, when that is past)
    plus its location's receiving lead time. It is handed to the backordered lines of the product in the order
    stock releases them (oldest promise first, as ``routing.release_backorders``), so a line waits for the PO that
    will actually reach it, not merely the first one. A line no open PO covers gets no date (absent)."""
    ids = list(set(order_line_ids))
    if not ids:
        return {}
    today = today or utcnow().date()
    products = set(session.scalars(select(OrderLine.product_id).where(OrderLine.id.in_(ids), OrderLine.backordered > 0,
                                                                      OrderLine.product_id.is_not(None))))
    if not products:
        return {}
    supply: dict[int, list[tuple[date, int, str]]] = {}
    for r in session.execute(
            select(PurchaseOrderLine.product_id, PurchaseOrderLine.expected_date, Location.receiving_lead_days,
                   PurchaseOrderLine.quantity - PurchaseOrderLine.received, PurchaseOrder.number, PurchaseOrder.id)
            .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.po_id)
            .join(Location, Location.id == PurchaseOrder.location_id)
            .where(PurchaseOrderLine.product_id.in_(products), PurchaseOrder.status.in_(OPEN_STATES),
                   PurchaseOrderLine.received < PurchaseOrderLine.quantity)):
        arrives = max(r[1], today) + timedelta(days=r[2] or 0)
        supply.setdefault(r[0], []).append((arrives, r[5], r[4], r[3]))
    if not supply:
        return {}
    for chunks in supply.values():
        chunks.sort()
    wanted = set(ids)
    found: dict[int, Expected] = {}
    waiting = session.execute(
        select(OrderLine.id, OrderLine.product_id, OrderLine.backordered)
        .join(SalesOrder, SalesOrder.id == OrderLine.order_id)
        .where(OrderLine.product_id.in_(list(supply)), OrderLine.backordered > 0)
        .order_by(func.coalesce(SalesOrder.deliver_by, SalesOrder.ship_by, SalesOrder.placed_at), SalesOrder.placed_at,
                  SalesOrder.id, OrderLine.id)).all()
    left = {pid: [[c[0], c[2], c[3]] for c in chunks] for pid, chunks in supply.items()}
    for line_id, pid, need in waiting:
        chunks = left[pid]
        covered = None
        while need > 0 and chunks:
            chunk = chunks[0]
            take = min(need, chunk[2])
            need -= take
            chunk[2] -= take
            covered = chunk
            if chunk[2] == 0:
                chunks.pop(0)
        if need == 0 and covered is not None and line_id in wanted:
            found[line_id] = Expected(covered[0], covered[1])
        if wanted <= found.keys():
            break
    return found
