"""Purchasing's tables: suppliers, purchase orders and their lines, the PO number series, receipts with their
lines, and the damaged units held in quarantine."""

from __future__ import annotations

from datetime import date, datetime
from typing import Optional

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from oms.core.types import LINE, NAME, SHORT, Base, StrEnum, enum_values, utcnow


class PoStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    CONFIRMED = "confirmed"
    PARTLY_RECEIVED = "partly_received"
    RECEIVED = "received"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class ReceiptStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class Supplier(Base):
    """Who we buy from; ``over_receipt_percent`` overrides the house tolerance when set."""

    __tablename__ = "supplier"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(SHORT), unique=True)
    name: Mapped[str] = mapped_column(String(NAME))
    email: Mapped[str] = mapped_column(String(NAME), default="")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    lead_days: Mapped[int] = mapped_column(Integer, default=7)
    over_receipt_percent: Mapped[Optional[int]] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The trading partner (its code) a supplier that trades EDI gets its POs through, as 850s; else None.
    edi_partner: Mapped[Optional[str]] = mapped_column(String(SHORT))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("over_receipt_percent IS NULL OR (over_receipt_percent >= 0 AND over_receipt_percent <= 100)",
                        name="tolerance"),
        CheckConstraint("lead_days >= 0", name="lead_days_nonneg"),
    )


class PoCounter(Base):
    """The PO number series: one row, the next number to hand out (PO-1001 first)."""

    __tablename__ = "po_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_number: Mapped[int] = mapped_column(BigInteger, default=1001)


class PurchaseOrder(Base):
    __tablename__ = "purchase_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(SHORT), unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("supplier.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))  # where the goods are delivered
    status: Mapped[str] = mapped_column(String(16), default=PoStatus.DRAFT.value)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    note: Mapped[str] = mapped_column(String(LINE), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[Optional[datetime]] = mapped_column()
    closed_at: Mapped[Optional[datetime]] = mapped_column()

    __table_args__ = (
        CheckConstraint(f"status IN ({enum_values(PoStatus)})", name="status"),
        Index("ix_purchase_order_status", "status", "id"),
        Index("ix_purchase_order_supplier", "supplier_id", "id"),
    )


class PurchaseOrderLine(Base):
    """What was ordered of one SKU, at what unit cost, by when; ``received`` counts good and damaged units."""

    __tablename__ = "purchase_order_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    po_id: Mapped[int] = mapped_column(ForeignKey("purchase_order.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    sku: Mapped[str] = mapped_column(String(SHORT))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_cost_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    expected_date: Mapped[date] = mapped_column(Date)
    received: Mapped[int] = mapped_column(Integer, default=0)
    damaged: Mapped[int] = mapped_column(Integer, default=0)
    # What the supplier's 855 confirmed: the quantity and the date they will ship it (None until they say).
    confirmed_quantity: Mapped[Optional[int]] = mapped_column(Integer)
    confirmed_date: Mapped[Optional[date]] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("po_id", "line_no"),
        CheckConstraint("quantity > 0", name="quantity_pos"),
        CheckConstraint("unit_cost_minor >= 0", name="cost_nonneg"),
        CheckConstraint("received >= 0 AND damaged >= 0 AND damaged <= received", name="received_nonneg"),
        Index("ix_purchase_order_line_product", "product_id", "expected_date"),
    )


class Receipt(Base):
    """One delivery being received at a station against a PO; at most one open per PO."""

    __tablename__ = "receipt"

    id: Mapped[int] = mapped_column(primary_key=True)
    po_id: Mapped[int] = mapped_column(ForeignKey("purchase_order.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    status: Mapped[str] = mapped_column(String(8), default=ReceiptStatus.OPEN.value)
    user: Mapped[str] = mapped_column(String(SHORT), default="")
    station: Mapped[str] = mapped_column(String(SHORT), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[Optional[datetime]] = mapped_column()

    __table_args__ = (
        CheckConstraint(f"status IN ({enum_values(ReceiptStatus)})", name="status"),
        Index("ix_receipt_po", "po_id", "status"),
    )


class ReceiptLine(Base):
    """One PO line within a receipt: a second scan of the same item adds here, never a second row."""

    __tablename__ = "receipt_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("receipt.id", ondelete="CASCADE"))
    po_line_id: Mapped[int] = mapped_column(ForeignKey("purchase_order_line.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    good: Mapped[int] = mapped_column(Integer, default=0)
    damaged: Mapped[int] = mapped_column(Integer, default=0)
    put_away: Mapped[int] = mapped_column(Integer, default=0)
    bin_id: Mapped[Optional[int]] = mapped_column(ForeignKey("bin.id"))  # where the good units were put away
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("receipt_id", "po_line_id"),
        CheckConstraint("good >= 0 AND damaged >= 0", name="nonneg"),
        CheckConstraint("put_away >= 0 AND put_away <= good", name="put_away_le_good"),
    )


class QuarantinedStock(Base):
    """Damaged units received (from a supplier, or back from a customer), held apart: not on any stock level, so
    never sellable nor promised."""

    __tablename__ = "quarantined_stock"

    id: Mapped[int] = mapped_column(primary_key=True)
    # None for units a customer sent back (returns keep their own record of where they came from).
    receipt_line_id: Mapped[Optional[int]] = mapped_column(ForeignKey("receipt_line.id", ondelete="CASCADE"), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(LINE), default="damaged on receipt")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_nonneg"),
        Index("ix_quarantined_stock_product", "product_id", "location_id"),
    )


class ReorderPoint(Base):
    """When a product's projected stock at a location falls below ``min_qty``, order up to ``max_qty``, in
    multiples of ``multiple`` (a case), from ``supplier_id``."""

    __tablename__ = "reorder_point"

    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), primary_key=True)
    min_qty: Mapped[int] = mapped_column(Integer)
    max_qty: Mapped[int] = mapped_column(Integer)
    multiple: Mapped[int] = mapped_column(Integer, default=1)
    supplier_id: Mapped[Optional[int]] = mapped_column(ForeignKey("supplier.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("min_qty >= 0 AND max_qty > 0 AND max_qty >= min_qty", name="min_max"),
        CheckConstraint("multiple >= 1", name="multiple_pos"),
        Index("ix_reorder_point_supplier", "supplier_id"),
    )


class ExpectedReceipt(Base):
    """A supplier's advance ship notice (an 856, or typed in): a delivery on its way against one PO, in cartons."""

    __tablename__ = "expected_receipt"

    id: Mapped[int] = mapped_column(primary_key=True)
    po_id: Mapped[int] = mapped_column(ForeignKey("purchase_order.id"))
    asn_number: Mapped[str] = mapped_column(String(SHORT))  # the supplier's shipment id (BSN02)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("supplier.id"))
    shipped_on: Mapped[Optional[date]] = mapped_column(Date)
    expected_on: Mapped[Optional[date]] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16), default="856")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("supplier_id", "asn_number"),
        Index("ix_expected_receipt_po", "po_id"),
    )


class AsnCarton(Base):
    """One carton of an ASN, by the SSCC on its label; received whole by one scan of that label."""

    __tablename__ = "asn_carton"

    id: Mapped[int] = mapped_column(primary_key=True)
    expected_id: Mapped[int] = mapped_column(ForeignKey("expected_receipt.id", ondelete="CASCADE"))
    sscc: Mapped[str] = mapped_column(String(18), unique=True)
    received_at: Mapped[Optional[datetime]] = mapped_column()
    receipt_id: Mapped[Optional[int]] = mapped_column(ForeignKey("receipt.id"))


class AsnCartonLine(Base):
    __tablename__ = "asn_carton_line"

    carton_id: Mapped[int] = mapped_column(ForeignKey("asn_carton.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_pos"),)
