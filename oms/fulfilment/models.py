"""The floor's tables: waves, the orders in them, pick tasks and box presets."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from oms.core.types import NAME, SHORT, Base, StrEnum, enum_values, utcnow


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
        CheckConstraint(f"status IN ({enum_values(WaveStatus)})", name="status"),
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
        # A new wave's tasks leave out the units open tasks have already claimed in each bin: found by product.
        Index("ix_pick_task_product_status", "product_id", "status"),
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
