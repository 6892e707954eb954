"""Invoicing's tables: invoices and their lines, credit notes and theirs, and the number series."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from oms.core.types import LINE, NAME, SHORT, Base, StrEnum, enum_values, utcnow


class LineKind(StrEnum):
    GOODS = "goods"
    SHIPPING = "shipping"
    DISCOUNT = "discount"
    TAX = "tax"


class NumberSeries(Base):
    """The next number of a document series (INV-, CN-): taken by a conditional update in the issuing
    transaction, so a number is used only when the document is kept, and two stations never get the same one."""

    __tablename__ = "number_series"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)  # invoice, credit_note
    prefix: Mapped[str] = mapped_column(String(8))
    next_value: Mapped[int] = mapped_column(BigInteger, default=1)


class Invoice(Base):
    """What a customer owes for one shipment: the goods that shipped and their share of shipping and tax."""

    __tablename__ = "invoice"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(SHORT), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"))
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id"), unique=True)
    currency: Mapped[str] = mapped_column(String(3))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    customer_name: Mapped[str] = mapped_column(String(NAME), default="")
    customer_email: Mapped[str] = mapped_column(String(NAME), default="")
    goods_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    shipping_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0)  # taken off the total (its line is negative)
    tax_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    total_minor: Mapped[int] = mapped_column(BigInteger, default=0)

    lines: Mapped[list[InvoiceLine]] = relationship(back_populates="invoice", order_by="InvoiceLine.position")

    __table_args__ = (
        Index("ix_invoice_order", "order_id"),
        Index("ix_invoice_issued_at", "issued_at"),
    )


class InvoiceLine(Base):
    __tablename__ = "invoice_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    order_line_id: Mapped[Optional[int]] = mapped_column(ForeignKey("order_line.id"))
    sku: Mapped[str] = mapped_column(String(SHORT), default="")
    description: Mapped[str] = mapped_column(String(LINE), default="")
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_minor: Mapped[int] = mapped_column(BigInteger, default=0)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")

    __table_args__ = (
        CheckConstraint(f"kind IN ({enum_values(LineKind)})", name="kind"),
        CheckConstraint("quantity > 0", name="quantity_pos"),
    )


class CreditNote(Base):
    """Money given back against an invoice (a return, a damaged item): some of its lines, some of its shipping."""

    __tablename__ = "credit_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(SHORT), unique=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(LINE), default="")
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    goods_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    shipping_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    total_minor: Mapped[int] = mapped_column(BigInteger, default=0)  # what is credited, as a positive amount

    lines: Mapped[list[CreditNoteLine]] = relationship(back_populates="credit_note", order_by="CreditNoteLine.position")


class CreditNoteLine(Base):
    __tablename__ = "credit_note_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_note_id: Mapped[int] = mapped_column(ForeignKey("credit_note.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    invoice_line_id: Mapped[Optional[int]] = mapped_column(ForeignKey("invoice_line.id"), index=True)
    sku: Mapped[str] = mapped_column(String(SHORT), default="")
    description: Mapped[str] = mapped_column(String(LINE), default="")
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_minor: Mapped[int] = mapped_column(BigInteger, default=0)

    credit_note: Mapped[CreditNote] = relationship(back_populates="lines")

    __table_args__ = (
        CheckConstraint(f"kind IN ({enum_values(LineKind)})", name="kind"),
        CheckConstraint("quantity > 0", name="quantity_pos"),
    )
