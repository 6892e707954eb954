"""The database schema: SQLAlchemy 2.0 typed models shared by SQLite and PostgreSQL."""

from __future__ import annotations

import enum
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any, Iterator, Optional

from sqlalchemy import (
    JSON,
    BigInteger,
    LargeBinary,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Limits on free text; the services check them so a long value gets a clear message
# instead of a database error (PostgreSQL enforces VARCHAR length, SQLite does not).
SHORT = 64
NAME = 200
LINE = 300


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both databases (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Optional[datetime], dialect) -> Optional[datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Optional[datetime], dialect) -> Optional[datetime]:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


_now_override: ContextVar[datetime | None] = ContextVar("oms_now", default=None)


def utcnow() -> datetime:
    """The current time in UTC; demo seeding and tests may set it with ``at_time``."""
    return _now_override.get() or datetime.now(timezone.utc)


@contextmanager
def at_time(moment: datetime) -> Iterator[None]:
    """Make utcnow() return ``moment`` inside the block (for back-dated demo data)."""
    token = _now_override.set(moment)
    try:
        yield
    finally:
        _now_override.reset(token)


naming = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=naming)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class StrEnum(str, enum.Enum):
    def __str__(self) -> str:
        return self.value


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


class LocationKind(StrEnum):
    WAREHOUSE = "warehouse"
    THREE_PL = "3pl"


class MovementKind(StrEnum):
    RECEIPT = "receipt"
    SHIP = "ship"
    ADJUST = "adjust"
    TRANSFER = "transfer"
    RETURN = "return"
    COUNT = "count"


class ShipmentStatus(StrEnum):
    PACKED = "packed"
    SHIPPED = "shipped"
    VOIDED = "voided"


def _enum_values(e: type[enum.Enum]) -> str:
    return ", ".join(f"'{m.value}'" for m in e)


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(SHORT), unique=True)
    display_name: Mapped[str] = mapped_column(String(NAME))
    role: Mapped[str] = mapped_column(String(SHORT), default="staff")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Channel(Base):
    __tablename__ = "channel"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(SHORT), unique=True)
    name: Mapped[str] = mapped_column(String(NAME))
    kind: Mapped[str] = mapped_column(String(SHORT))  # shopify, amazon, edi_x12, manual, ...
    default_order_type: Mapped[str] = mapped_column(String(16), default=OrderType.DTC.value)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Product(Base):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(SHORT), unique=True)
    name: Mapped[str] = mapped_column(String(NAME))
    weight_g: Mapped[int] = mapped_column(Integer, default=0)
    price_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    tags: Mapped[str] = mapped_column(String(LINE), default="")  # comma separated, lower case
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    barcodes: Mapped[list[Barcode]] = relationship(back_populates="product", cascade="all, delete-orphan")

    __table_args__ = (
        CheckConstraint("weight_g >= 0", name="weight_nonneg"),
        Index("ix_product_name_lower", "name"),
    )


class Barcode(Base):
    __tablename__ = "barcode"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # gtin, upc, ean, custom
    code: Mapped[str] = mapped_column(String(SHORT), unique=True)

    product: Mapped[Product] = relationship(back_populates="barcodes")


class Location(Base):
    __tablename__ = "location"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(SHORT), unique=True)
    name: Mapped[str] = mapped_column(String(NAME))
    kind: Mapped[str] = mapped_column(String(16), default=LocationKind.WAREHOUSE.value)
    priority: Mapped[int] = mapped_column(Integer, default=100)
    address1: Mapped[str] = mapped_column(String(LINE), default="")
    city: Mapped[str] = mapped_column(String(NAME), default="")
    region: Mapped[str] = mapped_column(String(SHORT), default="")
    postal_code: Mapped[str] = mapped_column(String(SHORT), default="")
    country: Mapped[str] = mapped_column(String(2), default="US")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    bins: Mapped[list[Bin]] = relationship(back_populates="location", order_by="Bin.pick_sequence")

    __table_args__ = (CheckConstraint(f"kind IN ({_enum_values(LocationKind)})", name="kind"),)


class Bin(Base):
    __tablename__ = "bin"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    code: Mapped[str] = mapped_column(String(SHORT))
    pick_sequence: Mapped[int] = mapped_column(Integer, default=0)

    location: Mapped[Location] = relationship(back_populates="bins")

    __table_args__ = (
        UniqueConstraint("location_id", "code"),
        Index("ix_bin_walk", "location_id", "pick_sequence"),
    )


class StockLevel(Base):
    """Materialized stock per product and location; the ledger is the truth behind it."""

    __tablename__ = "stock_level"

    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), primary_key=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    allocated: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand_nonneg"),
        CheckConstraint("allocated >= 0", name="allocated_nonneg"),
        CheckConstraint("allocated <= on_hand", name="allocated_le_on_hand"),
        Index("ix_stock_level_location", "location_id", "product_id"),
    )


class BinStock(Base):
    __tablename__ = "bin_stock"

    bin_id: Mapped[int] = mapped_column(ForeignKey("bin.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), primary_key=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="on_hand_nonneg"),
        Index("ix_bin_stock_product", "product_id"),
    )


class StockMovement(Base):
    """The inventory ledger: every change of on-hand stock, signed."""

    __tablename__ = "stock_movement"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    bin_id: Mapped[Optional[int]] = mapped_column(ForeignKey("bin.id"))
    kind: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(LINE), default="")
    reference: Mapped[str] = mapped_column(String(SHORT), default="")
    user: Mapped[str] = mapped_column(String(SHORT), default="")
    station: Mapped[str] = mapped_column(String(SHORT), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint(f"kind IN ({_enum_values(MovementKind)})", name="kind"),
        CheckConstraint("quantity <> 0", name="quantity_nonzero"),
        Index("ix_stock_movement_product", "product_id", "location_id", "created_at"),
    )


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
        CheckConstraint(f"status IN ({_enum_values(OrderStatus)})", name="status"),
        CheckConstraint(f"order_type IN ({_enum_values(OrderType)})", name="order_type"),
        # The queues: a bucket is a status (or hold) sorted by promise or placement.
        Index("ix_sales_order_status_ship_by", "status", "ship_by"),
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
        CheckConstraint(f"status IN ({_enum_values(ShipmentStatus)})", name="status"),
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


class OrderNote(Base):
    __tablename__ = "order_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    user: Mapped[str] = mapped_column(String(SHORT), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """Who did what, from which station, with the state before and after."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user: Mapped[str] = mapped_column(String(SHORT), default="")
    station: Mapped[str] = mapped_column(String(SHORT), default="")
    action: Mapped[str] = mapped_column(String(SHORT))
    entity: Mapped[str] = mapped_column(String(SHORT))
    entity_id: Mapped[str] = mapped_column(String(SHORT))
    order_id: Mapped[Optional[int]] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(String(LINE), default="")
    before: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)
    after: Mapped[Optional[dict[str, Any]]] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_audit_event_order", "order_id", "at"),
        Index("ix_audit_event_entity", "entity", "entity_id"),
    )


class OutboxMessage(Base):
    """A message a remote party must receive, written in the same transaction as the change."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    destination: Mapped[str] = mapped_column(String(SHORT))  # channel or carrier code
    topic: Mapped[str] = mapped_column(String(SHORT))
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    order_id: Mapped[Optional[int]] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[Optional[datetime]] = mapped_column()

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'failed', 'superseded')", name="status"),
        Index("ix_outbox_pending", "destination", "status", "id"),
    )


class SyncCursor(Base):
    __tablename__ = "sync_cursor"

    connector: Mapped[str] = mapped_column(String(SHORT), primary_key=True)
    stream: Mapped[str] = mapped_column(String(SHORT), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuarantinedPayload(Base):
    """A remote payload that could not be understood, kept whole with a plain error."""

    __tablename__ = "quarantined_payload"

    id: Mapped[int] = mapped_column(primary_key=True)
    connector: Mapped[str] = mapped_column(String(SHORT))
    stream: Mapped[str] = mapped_column(String(SHORT))
    external_ref: Mapped[str] = mapped_column(String(NAME), default="")
    raw: Mapped[str] = mapped_column(Text)
    error: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[Optional[datetime]] = mapped_column()

    __table_args__ = (
        CheckConstraint("status IN ('open', 'retried', 'dismissed')", name="status"),
        Index("ix_quarantined_payload_open", "status", "received_at"),
    )



# -- routing ---------------------------------------------------------------------------


class RoutingRule(Base):
    """One ordered routing rule: conditions on the order, actions for its allocation.

    conditions: channel, order_type, country, region, postal_prefix, sku, sku_tag
    (lists), weight_min_g/weight_max_g, value_min_minor/value_max_minor (ints),
    service_level (list). actions: allowed_locations, preferred_locations (codes),
    split ("allow" | "ship_complete"), service_level, hold_reason.
    """

    __tablename__ = "routing_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(NAME))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    actions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_routing_rule_position", "position"),)


class ShippingZone(Base):
    """Which rate zone a destination is in, seen from one location."""

    __tablename__ = "shipping_zone"

    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True)
    region: Mapped[str] = mapped_column(String(SHORT), primary_key=True)  # "" = the whole country
    zone: Mapped[int] = mapped_column(Integer)


class ShippingRate(Base):
    """Estimated cost and transit of one package from a location, by service and zone."""

    __tablename__ = "shipping_rate"

    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), primary_key=True)
    service_level: Mapped[str] = mapped_column(String(SHORT), primary_key=True)
    zone: Mapped[int] = mapped_column(Integer, primary_key=True)
    base_minor: Mapped[int] = mapped_column(Integer)
    per_kg_minor: Mapped[int] = mapped_column(Integer, default=0)
    transit_days: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="USD")

    __table_args__ = (
        CheckConstraint("base_minor >= 0 AND per_kg_minor >= 0", name="cost_nonneg"),
        CheckConstraint("transit_days >= 0", name="transit_nonneg"),
    )


class RoutingDecision(Base):
    """Why an order was allocated where it was: the rule, the candidates and the winner."""

    __tablename__ = "routing_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    rule_id: Mapped[Optional[int]] = mapped_column(Integer)
    rule_name: Mapped[str] = mapped_column(String(NAME), default="")
    outcome: Mapped[str] = mapped_column(String(24))  # allocated, split, backordered, partial, held
    explanation: Mapped[str] = mapped_column(Text)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON)  # {"shipments": [{"location": code, "lines": [...]}], ...}
    candidates: Mapped[dict[str, Any]] = mapped_column(JSON)
    est_cost_minor: Mapped[Optional[int]] = mapped_column(BigInteger)
    est_delivery: Mapped[Optional[datetime]] = mapped_column()

    __table_args__ = (Index("ix_routing_decision_order", "order_id", "at"),)


# -- fulfilment floor ----------------------------------------------------------------------


class WaveStatus(StrEnum):
    OPEN = "open"
    PICKED = "picked"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Wave(Base):
    """A batch of orders of one location picked together, walking the bins in order."""

    __tablename__ = "wave"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    name: Mapped[str] = mapped_column(String(NAME))
    status: Mapped[str] = mapped_column(String(16), default=WaveStatus.OPEN.value)
    batch_pick: Mapped[bool] = mapped_column(Boolean, default=False)  # single-unit orders picked by SKU
    cutoff_at: Mapped[Optional[datetime]] = mapped_column()
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(SHORT), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[Optional[datetime]] = mapped_column()

    __table_args__ = (
        CheckConstraint(f"status IN ({_enum_values(WaveStatus)})", name="status"),
        Index("ix_wave_location_status", "location_id", "status"),
    )


class WaveOrder(Base):
    __tablename__ = "wave_order"

    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"), primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("sales_order.id"), primary_key=True)
    tote: Mapped[str] = mapped_column(String(SHORT), default="")

    __table_args__ = (Index("ix_wave_order_order", "order_id"), Index("ix_wave_order_tote", "tote"))


class PickTask(Base):
    """Pick this many units of an order line from this bin into this tote."""

    __tablename__ = "pick_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    bin_id: Mapped[Optional[int]] = mapped_column(ForeignKey("bin.id"))
    sequence: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[int] = mapped_column(Integer)
    picked: Mapped[int] = mapped_column(Integer, default=0)
    short: Mapped[int] = mapped_column(Integer, default=0)
    tote: Mapped[str] = mapped_column(String(SHORT), default="")
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, done, short

    __table_args__ = (
        CheckConstraint("quantity > 0 AND picked >= 0 AND short >= 0 AND picked + short <= quantity", name="quantities"),
        CheckConstraint("status IN ('open', 'done', 'short', 'cancelled')", name="status"),
        Index("ix_pick_task_wave", "wave_id", "sequence"),
        Index("ix_pick_task_line", "order_line_id"),
    )


class BoxPreset(Base):
    __tablename__ = "box_preset"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(SHORT), unique=True)
    name: Mapped[str] = mapped_column(String(NAME))
    length_mm: Mapped[int] = mapped_column(Integer)
    width_mm: Mapped[int] = mapped_column(Integer)
    height_mm: Mapped[int] = mapped_column(Integer)
    tare_g: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (CheckConstraint("length_mm > 0 AND width_mm > 0 AND height_mm > 0 AND tare_g >= 0", name="sizes"),)


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


# -- sync ------------------------------------------------------------------------------------


class ConnectorConfig(Base):
    """A configured channel or carrier connection. Its secret lives in the OS keyring, never here."""

    __tablename__ = "connector_config"

    code: Mapped[str] = mapped_column(String(SHORT), primary_key=True)  # = channel code for channels
    role: Mapped[str] = mapped_column(String(16))  # channel, carrier
    kind: Mapped[str] = mapped_column(String(SHORT))  # shopify, easypost, ...
    name: Mapped[str] = mapped_column(String(NAME), default="")
    base_url: Mapped[str] = mapped_column(String(LINE), default="")
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    interval_s: Mapped[int] = mapped_column(Integer, default=60)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("role IN ('channel', 'carrier')", name="role"),)


class ConnectorState(Base):
    """How a connector is doing, as the status bar and the Sync screen show it."""

    __tablename__ = "connector_state"

    code: Mapped[str] = mapped_column(String(SHORT), primary_key=True)
    online: Mapped[bool] = mapped_column(Boolean, default=True)
    offline_since: Mapped[Optional[datetime]] = mapped_column()
    last_success_at: Mapped[Optional[datetime]] = mapped_column()
    last_attempt_at: Mapped[Optional[datetime]] = mapped_column()
    last_error: Mapped[str] = mapped_column(Text, default="")
    pulled: Mapped[int] = mapped_column(Integer, default=0)
    pushed: Mapped[int] = mapped_column(Integer, default=0)
    # One station at a time syncs a connector: the holder (station, process) until the lease runs out.
    lease_holder: Mapped[str] = mapped_column(String(NAME), default="", server_default="")
    lease_until: Mapped[Optional[datetime]] = mapped_column()


class ShipmentLabel(Base):
    """A label file as the carrier sold it (PDF or ZPL), kept so it can be printed again."""

    __tablename__ = "shipment_label"

    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id", ondelete="CASCADE"), primary_key=True)
    format: Mapped[str] = mapped_column(String(8), primary_key=True)  # pdf, zpl
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class InventoryPush(Base):
    """The stock level a channel was last told, per product and location, so only changes are sent."""

    __tablename__ = "inventory_push"

    connector: Mapped[str] = mapped_column(String(SHORT), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), primary_key=True)
    available: Mapped[int] = mapped_column(Integer)


# -- EDI -------------------------------------------------------------------------------------


class TradingPartner(Base):
    """A wholesale partner exchanging X12 documents: identities, delimiters, documents and transport."""

    __tablename__ = "trading_partner"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(SHORT), unique=True)
    name: Mapped[str] = mapped_column(String(NAME))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"))
    our_qualifier: Mapped[str] = mapped_column(String(2), default="ZZ")
    our_id: Mapped[str] = mapped_column(String(15))
    their_qualifier: Mapped[str] = mapped_column(String(2), default="ZZ")
    their_id: Mapped[str] = mapped_column(String(15))
    our_gs_id: Mapped[str] = mapped_column(String(15))
    their_gs_id: Mapped[str] = mapped_column(String(15))
    version: Mapped[str] = mapped_column(String(12), default="004010")
    element_sep: Mapped[str] = mapped_column(String(1), default="*")
    segment_term: Mapped[str] = mapped_column(String(1), default="~")
    component_sep: Mapped[str] = mapped_column(String(1), default=">")
    repetition_sep: Mapped[str] = mapped_column(String(1), default="^")
    documents: Mapped[str] = mapped_column(String(LINE), default="850,855,856,810,997")
    item_qualifier: Mapped[str] = mapped_column(String(2), default="UP")  # UP/EN (GTIN), VN (our SKU), BP (theirs)
    usage: Mapped[str] = mapped_column(String(1), default="P")
    transport: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {"kind": "folder"|"sftp", ...}
    ack_timeout_h: Mapped[int] = mapped_column(Integer, default=24)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class EdiControl(Base):
    """The next control number per partner and level (isa, gs, st): strictly increasing, never reused."""

    __tablename__ = "edi_control"

    partner_id: Mapped[int] = mapped_column(ForeignKey("trading_partner.id"), primary_key=True)
    level: Mapped[str] = mapped_column(String(4), primary_key=True)
    next_value: Mapped[int] = mapped_column(BigInteger, default=1)


class EdiItemXref(Base):
    """The partner's identifier for one of our products (their buyer part number, say)."""

    __tablename__ = "edi_item_xref"

    partner_id: Mapped[int] = mapped_column(ForeignKey("trading_partner.id"), primary_key=True)
    qualifier: Mapped[str] = mapped_column(String(2), primary_key=True)
    code: Mapped[str] = mapped_column(String(SHORT), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))


class EdiShipTo(Base):
    """A partner's ship-to location code (N1*ST*..*92*code) and the address it stands for."""

    __tablename__ = "edi_ship_to"

    partner_id: Mapped[int] = mapped_column(ForeignKey("trading_partner.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(SHORT), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME))
    address1: Mapped[str] = mapped_column(String(LINE), default="")
    city: Mapped[str] = mapped_column(String(NAME), default="")
    region: Mapped[str] = mapped_column(String(SHORT), default="")
    postal_code: Mapped[str] = mapped_column(String(SHORT), default="")
    country: Mapped[str] = mapped_column(String(2), default="US")


class EdiDocument(Base):
    """Every EDI document in or out, with its raw text and where it stands."""

    __tablename__ = "edi_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("trading_partner.id"))
    direction: Mapped[str] = mapped_column(String(3))  # in, out
    doc_type: Mapped[str] = mapped_column(String(3))  # 850, 855, 856, 810, 997
    isa_control: Mapped[str] = mapped_column(String(9), default="")
    gs_control: Mapped[str] = mapped_column(String(9), default="")
    st_control: Mapped[str] = mapped_column(String(9), default="")
    status: Mapped[str] = mapped_column(String(16))  # received, accepted, rejected, duplicate, quarantined, queued, sent, acknowledged, unacknowledged
    order_id: Mapped[Optional[int]] = mapped_column(Integer)
    shipment_id: Mapped[Optional[int]] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(LINE), default="")
    raw: Mapped[str] = mapped_column(Text)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[Optional[datetime]] = mapped_column()

    __table_args__ = (
        CheckConstraint("direction IN ('in', 'out')", name="direction"),
        Index("ix_edi_document_partner", "partner_id", "created_at"),
        Index("ix_edi_document_gs", "partner_id", "direction", "gs_control"),
        # The Documents screen: newest first, by status, and found by order, shipment, control number or file.
        Index("ix_edi_document_created", "created_at"),
        Index("ix_edi_document_status", "status", "created_at"),
        Index("ix_edi_document_order", "order_id"),
        Index("ix_edi_document_shipment", "shipment_id"),
        Index("ix_edi_document_isa", "isa_control"),
        Index("ix_edi_document_gs_control", "gs_control"),
        Index("ix_edi_document_filename", "filename"),
    )
