"""Shipping's tables: shipments, packages and their lines, labels, tracking events, pallets, SSCC counters."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from oms.core.types import LINE, NAME, SHORT, Base, StrEnum, enum_values, utcnow


class ShipmentStatus(StrEnum):
    PACKED = "packed"
    SHIPPED = "shipped"
    VOIDED = "voided"


class Shipment(Base):
    __tablename__ = "shipment"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    status: Mapped[str] = mapped_column(String(16), default=ShipmentStatus.PACKED.value)
    carrier: Mapped[str] = mapped_column(String(SHORT), default="")
    service: Mapped[str] = mapped_column(String(SHORT), default="")
    tracking_number: Mapped[str] = mapped_column(String(SHORT), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    shipped_at: Mapped[Optional[datetime]] = mapped_column()
    voided_at: Mapped[Optional[datetime]] = mapped_column()
    # Set when a carrier connector bought the label: the carrier's own ids, for refunds and tracking.
    carrier_account: Mapped[str] = mapped_column(String(SHORT), default="")
    carrier_ref: Mapped[str] = mapped_column(String(SHORT), default="")
    tracker_ref: Mapped[str] = mapped_column(String(SHORT), default="")
    label_cost_minor: Mapped[Optional[int]] = mapped_column(BigInteger)

    packages: Mapped[list[Package]] = relationship(back_populates="shipment", order_by="Package.id")
    lines: Mapped[list[ShipmentLine]] = relationship(back_populates="shipment", order_by="ShipmentLine.id")

    __table_args__ = (
        CheckConstraint(f"status IN ({enum_values(ShipmentStatus)})", name="status"),
        Index("ix_shipment_order", "order_id"),
        Index("ix_shipment_tracking", "tracking_number"),
        Index("ix_shipment_shipped_at", "shipped_at"),
    )


class Package(Base):
    __tablename__ = "package"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id", ondelete="CASCADE"), index=True)
    box: Mapped[str] = mapped_column(String(SHORT), default="")
    weight_g: Mapped[int] = mapped_column(Integer, default=0)
    length_mm: Mapped[int] = mapped_column(Integer, default=0)
    width_mm: Mapped[int] = mapped_column(Integer, default=0)
    height_mm: Mapped[int] = mapped_column(Integer, default=0)
    sscc: Mapped[Optional[str]] = mapped_column(String(18), unique=True)
    tracking_number: Mapped[str] = mapped_column(String(SHORT), default="")
    pallet_id: Mapped[Optional[int]] = mapped_column(ForeignKey("pallet.id"))

    shipment: Mapped[Shipment] = relationship(back_populates="packages")


class ShipmentLine(Base):
    __tablename__ = "shipment_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id", ondelete="CASCADE"), index=True)
    package_id: Mapped[Optional[int]] = mapped_column(ForeignKey("package.id"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)

    shipment: Mapped[Shipment] = relationship(back_populates="lines")

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_pos"),)


class TrackingEvent(Base):
    __tablename__ = "tracking_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(SHORT))
    description: Mapped[str] = mapped_column(String(LINE), default="")
    city: Mapped[str] = mapped_column(String(NAME), default="")
    occurred_at: Mapped[datetime] = mapped_column()

    __table_args__ = (
        UniqueConstraint("shipment_id", "status", "occurred_at"),
        Index("ix_tracking_event_shipment", "shipment_id", "occurred_at"),
    )


class Pallet(Base):
    """A pallet of a wholesale shipment: the Tare level of an ASN, with its own SSCC."""

    __tablename__ = "pallet"

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id", ondelete="CASCADE"), index=True)
    sscc: Mapped[str] = mapped_column(String(18), unique=True)
    weight_g: Mapped[int] = mapped_column(Integer, default=0)


class SsccCounter(Base):
    """The next serial reference per GS1 company prefix; taken with a conditional update."""

    __tablename__ = "sscc_counter"

    company_prefix: Mapped[str] = mapped_column(String(12), primary_key=True)
    next_serial: Mapped[int] = mapped_column(BigInteger, default=1)


class ShipmentLabel(Base):
    """A label file as the carrier sold it (PDF or ZPL), kept so it can be printed again."""

    __tablename__ = "shipment_label"

    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id", ondelete="CASCADE"), primary_key=True)
    format: Mapped[str] = mapped_column(String(8), primary_key=True)  # pdf, zpl
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
