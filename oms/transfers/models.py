"""Transfers' tables: a transfer document between two locations and its lines, with what was shipped from the one
and received at the other; shipped less received is in transit."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oms.core.types import LINE, SHORT, Base, StrEnum, enum_values, utcnow


class TransferStatus(StrEnum):
    DRAFT = "draft"
    SHIPPED = "shipped"  # in transit
    PARTLY_RECEIVED = "partly_received"
    RECEIVED = "received"
    CANCELLED = "cancelled"


class StockTransfer(Base):
    __tablename__ = "stock_transfer"

    id: Mapped[int] = mapped_column(primary_key=True)
    from_location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    to_location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    status: Mapped[str] = mapped_column(String(16), default=TransferStatus.DRAFT.value)
    note: Mapped[str] = mapped_column(String(LINE), default="")
    created_by: Mapped[str] = mapped_column(String(SHORT), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    shipped_at: Mapped[Optional[datetime]] = mapped_column()
    received_at: Mapped[Optional[datetime]] = mapped_column()

    __table_args__ = (
        CheckConstraint(f"status IN ({enum_values(TransferStatus)})", name="status"),
        CheckConstraint("from_location_id <> to_location_id", name="two_places"),
        Index("ix_stock_transfer_status", "status", "id"),
    )


class StockTransferLine(Base):
    __tablename__ = "stock_transfer_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("stock_transfer.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    shipped: Mapped[int] = mapped_column(Integer, default=0)
    received: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("transfer_id", "product_id"),
        CheckConstraint("quantity > 0", name="quantity_pos"),
        CheckConstraint("shipped >= 0 AND shipped <= quantity", name="shipped_range"),
        CheckConstraint("received >= 0 AND received <= shipped", name="received_range"),
        Index("ix_stock_transfer_line_product", "product_id", "transfer_id"),
    )
