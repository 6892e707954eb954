"""A 3PL's tables: what we sent it (one row per transmission, with its lines) and the shipments it reported."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from oms.core.types import LINE, SHORT, Base, utcnow

TRANSMISSION_STATUSES = ("queued", "sent", "acknowledged", "shipped", "closed", "cancelled", "rejected")


class ThreePLOrder(Base):
    """One shipping order sent to a 3PL: an order's units allocated at the 3PL's location (a release of a backorder
    is a further one, with the next ``seq``). ``reference`` is what the 3PL knows it by and reports it under."""

    __tablename__ = "threepl_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection: Mapped[str] = mapped_column(String(SHORT))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer, default=1)
    reference: Mapped[str] = mapped_column(String(SHORT))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    remote_id: Mapped[str] = mapped_column(String(SHORT), default="")
    note: Mapped[str] = mapped_column(String(LINE), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[Optional[datetime]] = mapped_column()
    acknowledged_at: Mapped[Optional[datetime]] = mapped_column()
    closed_at: Mapped[Optional[datetime]] = mapped_column()
    flagged_at: Mapped[Optional[datetime]] = mapped_column()  # when "not acknowledged in time" was raised

    lines: Mapped[list[ThreePLOrderLine]] = relationship(back_populates="transmission", order_by="ThreePLOrderLine.id")

    __table_args__ = (
        UniqueConstraint("connection", "reference"),
        UniqueConstraint("order_id", "location_id", "seq"),
        CheckConstraint("status IN ('queued', 'sent', 'acknowledged', 'shipped', 'closed', 'cancelled', 'rejected')",
                        name="status"),
        Index("ix_threepl_order_open", "connection", "status"),
        Index("ix_threepl_order_order", "order_id"),
    )


class ThreePLOrderLine(Base):
    """Units of one order line in a transmission, and what became of them: shipped, or reported short."""

    __tablename__ = "threepl_order_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    transmission_id: Mapped[int] = mapped_column(ForeignKey("threepl_order.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(Integer)
    shipped: Mapped[int] = mapped_column(Integer, default=0)
    shorted: Mapped[int] = mapped_column(Integer, default=0)

    transmission: Mapped[ThreePLOrder] = relationship(back_populates="lines")

    __table_args__ = (
        UniqueConstraint("transmission_id", "order_line_id"),
        CheckConstraint("quantity > 0", name="quantity_pos"),
        CheckConstraint("shipped >= 0 AND shorted >= 0 AND shipped + shorted <= quantity", name="accounted"),
        Index("ix_threepl_order_line_line", "order_line_id"),
    )


class ThreePLShipment(Base):
    """A shipment the 3PL reported, by its own id: a report seen twice is applied once."""

    __tablename__ = "threepl_shipment"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection: Mapped[str] = mapped_column(String(SHORT))
    remote_id: Mapped[str] = mapped_column(String(SHORT))
    transmission_id: Mapped[int] = mapped_column(ForeignKey("threepl_order.id", ondelete="CASCADE"))
    shipment_id: Mapped[Optional[int]] = mapped_column(ForeignKey("shipment.id"))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("connection", "remote_id"),)


class ThreePLTransfer(Base):
    """Stock we send to a 3PL (a 943 tells it what is coming): in transit, on nobody's shelf, until its receipt
    advice (944) says what arrived."""

    __tablename__ = "threepl_transfer"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection: Mapped[str] = mapped_column(String(SHORT))
    reference: Mapped[str] = mapped_column(String(SHORT))
    from_location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    status: Mapped[str] = mapped_column(String(16), default="in_transit")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    received_at: Mapped[Optional[datetime]] = mapped_column()

    lines: Mapped[list[ThreePLTransferLine]] = relationship(order_by="ThreePLTransferLine.id")

    __table_args__ = (
        UniqueConstraint("connection", "reference"),
        CheckConstraint("status IN ('in_transit', 'received')", name="status"),
    )


class ThreePLTransferLine(Base):
    __tablename__ = "threepl_transfer_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("threepl_transfer.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    received: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        UniqueConstraint("transfer_id", "product_id"),
        CheckConstraint("quantity > 0 AND received >= 0", name="quantities"),
    )
