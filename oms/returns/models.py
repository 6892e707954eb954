"""Returns' tables: reason codes, the RMA number series, RMAs with their lines, the units received back with their
disposition, the return label the carrier sold, and what the dock received that needs a person's review."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from oms.core.types import LINE, NAME, SHORT, Base, StrEnum, enum_values, utcnow


class RmaStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    LABEL_SENT = "label_sent"
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"
    RESOLVED = "resolved"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Resolution(StrEnum):
    REFUND = "refund"
    EXCHANGE = "exchange"
    STORE_CREDIT = "store_credit"


class Disposition(StrEnum):
    RESTOCK = "restock"
    QUARANTINE = "quarantine"
    REFURBISH = "refurbish"
    SCRAP = "scrap"
    VENDOR = "vendor"  # return to vendor


class ReviewKind(StrEnum):
    UNIDENTIFIED = "unidentified"  # a parcel we could tie to no order
    NOT_ON_RMA = "not_on_rma"  # an item, or more units, than the RMA named


class ReturnReason(Base):
    """A reason a customer may give (configurable; the migration seeds the usual ones)."""

    __tablename__ = "return_reason"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(SHORT), unique=True)
    title: Mapped[str] = mapped_column(String(NAME))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class RmaCounter(Base):
    """The RMA number series: one row, the next number to hand out (RMA-1001 first)."""

    __tablename__ = "rma_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_number: Mapped[int] = mapped_column(BigInteger, default=1001)


class Rma(Base):
    """A return merchandise authorisation: what a customer sends back from one order, why, and what they want."""

    __tablename__ = "rma"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(SHORT), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))  # where the parcel comes back to
    status: Mapped[str] = mapped_column(String(16), default=RmaStatus.REQUESTED.value)
    reason_code: Mapped[str] = mapped_column(String(SHORT))
    customer_note: Mapped[str] = mapped_column(String(LINE), default="")
    resolution: Mapped[str] = mapped_column(String(16), default=Resolution.REFUND.value)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    restocking_fee_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refund_minor: Mapped[Optional[int]] = mapped_column(BigInteger)  # what was refunded or credited, at resolve
    resolution_note: Mapped[str] = mapped_column(String(LINE), default="")
    credit_notes: Mapped[str] = mapped_column(String(LINE), default="")  # the credit notes issued at resolve (CN-…)
    source: Mapped[str] = mapped_column(String(SHORT), default="desk")  # desk, dock, or the channel's code
    external_id: Mapped[Optional[str]] = mapped_column(String(SHORT))  # the channel's refund or return id
    carrier_account: Mapped[str] = mapped_column(String(SHORT), default="")
    carrier: Mapped[str] = mapped_column(String(SHORT), default="")
    tracking_number: Mapped[str] = mapped_column(String(SHORT), default="")
    carrier_ref: Mapped[str] = mapped_column(String(SHORT), default="")
    tracker_ref: Mapped[str] = mapped_column(String(SHORT), default="")
    label_cost_minor: Mapped[Optional[int]] = mapped_column(BigInteger)
    user: Mapped[str] = mapped_column(String(SHORT), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_at: Mapped[Optional[datetime]] = mapped_column()
    resolved_at: Mapped[Optional[datetime]] = mapped_column()

    __table_args__ = (
        CheckConstraint(f"status IN ({enum_values(RmaStatus)})", name="status"),
        CheckConstraint(f"resolution IN ({enum_values(Resolution)})", name="resolution"),
        CheckConstraint("restocking_fee_minor >= 0", name="fee_nonneg"),
        CheckConstraint("refund_minor IS NULL OR refund_minor >= 0", name="refund_nonneg"),
        UniqueConstraint("source", "external_id"),
        Index("ix_rma_status", "status", "created_at"),
        Index("ix_rma_order", "order_id"),
        Index("ix_rma_tracking", "tracking_number"),
    )


class RmaLine(Base):
    """Units of one order line the customer sends back; ``received`` counts those that came, whatever their fate."""

    __tablename__ = "rma_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    rma_id: Mapped[int] = mapped_column(ForeignKey("rma.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    sku: Mapped[str] = mapped_column(String(SHORT))
    quantity: Mapped[int] = mapped_column(Integer)
    received: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("rma_id", "order_line_id"),
        CheckConstraint("quantity > 0", name="quantity_pos"),
        CheckConstraint("received >= 0 AND received <= quantity", name="received_le_quantity"),
        Index("ix_rma_line_order_line", "order_line_id"),
    )


class ReturnUnit(Base):
    """Units of an RMA line received at the dock and what became of them."""

    __tablename__ = "return_unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    rma_line_id: Mapped[int] = mapped_column(ForeignKey("rma_line.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    disposition: Mapped[str] = mapped_column(String(16))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    bin_id: Mapped[Optional[int]] = mapped_column(ForeignKey("bin.id"))  # restocked into
    condition_note: Mapped[str] = mapped_column(String(LINE), default="")
    user: Mapped[str] = mapped_column(String(SHORT), default="")
    station: Mapped[str] = mapped_column(String(SHORT), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_pos"),
        CheckConstraint(f"disposition IN ({enum_values(Disposition)})", name="disposition"),
    )


class RmaLabel(Base):
    """The return label file as the carrier sold it, kept to print again or e-mail."""

    __tablename__ = "rma_label"

    rma_id: Mapped[int] = mapped_column(ForeignKey("rma.id", ondelete="CASCADE"), primary_key=True)
    format: Mapped[str] = mapped_column(String(8), primary_key=True)  # pdf, zpl, png
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReturnReview(Base):
    """What came back that no RMA explains, kept for a person to look at: never refused at the dock."""

    __tablename__ = "return_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    rma_id: Mapped[Optional[int]] = mapped_column(ForeignKey("rma.id"))
    order_id: Mapped[Optional[int]] = mapped_column(ForeignKey("sales_order.id"))
    product_id: Mapped[Optional[int]] = mapped_column(ForeignKey("product.id"))
    scanned: Mapped[str] = mapped_column(String(LINE), default="")  # every code read off the parcel
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    note: Mapped[str] = mapped_column(String(LINE), default="")
    user: Mapped[str] = mapped_column(String(SHORT), default="")
    station: Mapped[str] = mapped_column(String(SHORT), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_at: Mapped[Optional[datetime]] = mapped_column()

    __table_args__ = (
        CheckConstraint(f"kind IN ({enum_values(ReviewKind)})", name="kind"),
        CheckConstraint("quantity > 0", name="quantity_pos"),
        Index("ix_return_review_open", "reviewed_at", "created_at"),
    )
