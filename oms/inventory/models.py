"""Inventory's tables: locations and bins, stock levels per location and bin, and the movement ledger."""

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
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from oms.core.types import LINE, NAME, SHORT, Base, StrEnum, enum_values, utcnow


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
    # Days from a delivery at the dock to units on the shelf, sellable; added to a PO's expected date.
    receiving_lead_days: Mapped[int] = mapped_column(Integer, default=1)

    bins: Mapped[list[Bin]] = relationship(back_populates="location", order_by="Bin.pick_sequence")

    __table_args__ = (CheckConstraint(f"kind IN ({enum_values(LocationKind)})", name="kind"),)


class Bin(Base):
    __tablename__ = "bin"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    code: Mapped[str] = mapped_column(String(SHORT))
    pick_sequence: Mapped[int] = mapped_column(Integer, default=0)
    zone: Mapped[str] = mapped_column(String(SHORT), default="")  # putaway looks for an empty bin in a product's zone

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
        CheckConstraint(f"kind IN ({enum_values(MovementKind)})", name="kind"),
        CheckConstraint("quantity <> 0", name="quantity_nonzero"),
        Index("ix_stock_movement_product", "product_id", "location_id", "created_at"),
    )
