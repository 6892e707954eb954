"""Orders' tables: sales channels, orders, their lines, allocations and notes."""

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
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from oms.core.types import LINE, NAME, SHORT, Base, StrEnum, enum_values, utcnow


class OrderType(StrEnum):
    DTC = "dtc"
    WHOLESALE = "wholesale"
    MARKETPLACE = "marketplace"


class OrderStatus(StrEnum):
    NEW = "new"
    BACKORDERED = "backordered"
    PARTIALLY_ALLOCATED = "partially_allocated"
    ALLOCATED = "allocated"
    PICKING = "picking"
    PACKED = "packed"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    ON_HOLD = "on_hold"


class Channel(Base):
    __tablename__ = "channel"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(SHORT), unique=True)
    name: Mapped[str] = mapped_column(String(NAME))
    kind: Mapped[str] = mapped_column(String(SHORT))  # shopify, amazon, edi_x12, manual, ...
    default_order_type: Mapped[str] = mapped_column(String(16), default=OrderType.DTC.value)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SalesOrder(Base):
    __tablename__ = "sales_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"))
    external_id: Mapped[str] = mapped_column(String(SHORT))
    number: Mapped[str] = mapped_column(String(SHORT))
    order_type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24), default=OrderStatus.NEW.value)
    on_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    hold_reason: Mapped[str] = mapped_column(String(LINE), default="")
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    shipping_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    tax_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    discount_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    total_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    customer_name: Mapped[str] = mapped_column(String(NAME), default="")
    customer_email: Mapped[str] = mapped_column(String(NAME), default="")
    ship_name: Mapped[str] = mapped_column(String(NAME), default="")
    ship_company: Mapped[str] = mapped_column(String(NAME), default="")
    ship_address1: Mapped[str] = mapped_column(String(LINE), default="")
    ship_address2: Mapped[str] = mapped_column(String(LINE), default="")
    ship_city: Mapped[str] = mapped_column(String(NAME), default="")
    ship_region: Mapped[str] = mapped_column(String(SHORT), default="")
    ship_postal_code: Mapped[str] = mapped_column(String(SHORT), default="")
    ship_country: Mapped[str] = mapped_column(String(2), default="")
    ship_phone: Mapped[str] = mapped_column(String(SHORT), default="")
    service_level: Mapped[str] = mapped_column(String(SHORT), default="standard")
    # The channel's words about the order, comma-separated, lower case ("prime,business"): routing rules match them.
    tags: Mapped[str] = mapped_column(String(LINE), default="", server_default="")
    location_id: Mapped[Optional[int]] = mapped_column(ForeignKey("location.id"))
    placed_at: Mapped[datetime] = mapped_column()
    ship_by: Mapped[Optional[datetime]] = mapped_column()
    deliver_by: Mapped[Optional[datetime]] = mapped_column()
    delivered_at: Mapped[Optional[datetime]] = mapped_column()
    cancelled_at: Mapped[Optional[datetime]] = mapped_column()
    shipped_at: Mapped[Optional[datetime]] = mapped_column()
    line_count: Mapped[int] = mapped_column(Integer, default=0)
    unit_count: Mapped[int] = mapped_column(Integer, default=0)
    payload_hash: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    channel: Mapped[Channel] = relationship()
    lines: Mapped[list[OrderLine]] = relationship(
        back_populates="order", order_by="OrderLine.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("channel_id", "external_id"),
        CheckConstraint(f"status IN ({enum_values(OrderStatus)})", name="status"),
        CheckConstraint(f"order_type IN ({enum_values(OrderType)})", name="order_type"),
        # The queues: a bucket is a status (or hold) sorted by promise or placement.
        Index("ix_sales_order_status_ship_by_placed", "status", "ship_by", "placed_at", "id"),  # also a wave's urgency order
        Index("ix_sales_order_status_placed", "status", "placed_at"),
        Index("ix_sales_order_placed", "placed_at"),
        Index("ix_sales_order_number", "number"),
        Index("ix_sales_order_email", "customer_email"),
        Index("ix_sales_order_location_status", "location_id", "status"),
        # Queue search by channel order id and customer, "shipped today", and change polling.
        Index("ix_sales_order_external_id", "external_id"),
        Index("ix_sales_order_customer_name", "customer_name"),
        Index("ix_sales_order_shipped_at", "shipped_at"),
        Index("ix_sales_order_updated_at", "updated_at"),
    )


class OrderLine(Base):
    """One line of an order; its quantities drive the order's derived status.

    allocated, picked and packed count units on their way (they drop when the units
    ship); shipped, cancelled and returned are cumulative; backordered counts units
    waiting for stock.
    """

    __tablename__ = "order_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id", ondelete="CASCADE"))
    external_line_id: Mapped[str] = mapped_column(String(SHORT))
    product_id: Mapped[Optional[int]] = mapped_column(ForeignKey("product.id"))
    sku: Mapped[str] = mapped_column(String(SHORT))
    description: Mapped[str] = mapped_column(String(LINE), default="")
    unknown_sku: Mapped[bool] = mapped_column(Boolean, default=False)
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    allocated: Mapped[int] = mapped_column(Integer, default=0)
    backordered: Mapped[int] = mapped_column(Integer, default=0)
    picked: Mapped[int] = mapped_column(Integer, default=0)
    packed: Mapped[int] = mapped_column(Integer, default=0)
    shipped: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)
    returned: Mapped[int] = mapped_column(Integer, default=0)

    order: Mapped[SalesOrder] = relationship(back_populates="lines")

    __table_args__ = (
        UniqueConstraint("order_id", "external_line_id"),
        CheckConstraint("quantity > 0", name="quantity_pos"),
        CheckConstraint(
            "allocated >= 0 AND backordered >= 0 AND picked >= 0 AND packed >= 0 "
            "AND shipped >= 0 AND cancelled >= 0 AND returned >= 0",
            name="quantities_nonneg",
        ),
        CheckConstraint("packed <= picked AND picked <= allocated", name="pipeline"),
        CheckConstraint("allocated + backordered + shipped + cancelled <= quantity", name="within_ordered"),
        CheckConstraint("returned <= shipped", name="returned_le_shipped"),
        Index("ix_order_line_product", "product_id"),
        Index("ix_order_line_sku", "sku"),
    )


class Allocation(Base):
    """Units of an order line reserved at a location."""

    __tablename__ = "allocation"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("order_line_id", "location_id"),
        CheckConstraint("quantity > 0", name="quantity_pos"),
        Index("ix_allocation_location_product", "location_id", "product_id"),
    )


class OrderNote(Base):
    __tablename__ = "order_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    user: Mapped[str] = mapped_column(String(SHORT), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
