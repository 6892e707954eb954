"""Counting's tables: count tasks (a bin, a zone or a SKU at one location), the bins each covers with when the
counter scanned them, and the lines counted, with the quantity the books held when the count was submitted."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oms.core.types import LINE, SHORT, Base, StrEnum, enum_values, utcnow


class CountScope(StrEnum):
    BIN = "bin"
    ZONE = "zone"
    SKU = "sku"


class CountStatus(StrEnum):
    OPEN = "open"  # being counted
    REVIEW = "review"  # submitted; a variance beyond the threshold waits for a supervisor
    DONE = "done"  # applied through the ledger
    CANCELLED = "cancelled"


class CountTask(Base):
    """One count to make: what it covers, how far a count may differ from the books before a supervisor must
    approve it, and who counted and approved."""

    __tablename__ = "count_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"))
    scope: Mapped[str] = mapped_column(String(8))
    scope_ref: Mapped[str] = mapped_column(String(SHORT))  # the bin code, the zone, or the SKU
    status: Mapped[str] = mapped_column(String(16), default=CountStatus.OPEN.value)
    threshold: Mapped[int] = mapped_column(Integer, default=2)  # units either way a line may differ unapproved
    created_by: Mapped[str] = mapped_column(String(SHORT), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    counted_by: Mapped[str] = mapped_column(String(SHORT), default="")
    submitted_at: Mapped[Optional[datetime]] = mapped_column()
    approved_by: Mapped[str] = mapped_column(String(SHORT), default="")
    reason_code: Mapped[str] = mapped_column(String(32), default="")
    note: Mapped[str] = mapped_column(String(LINE), default="")
    closed_at: Mapped[Optional[datetime]] = mapped_column()

    __table_args__ = (
        CheckConstraint(f"scope IN ({enum_values(CountScope)})", name="scope"),
        CheckConstraint(f"status IN ({enum_values(CountStatus)})", name="status"),
        CheckConstraint("threshold >= 0", name="threshold_nonneg"),
        Index("ix_count_task_status", "status", "id"),
    )


class CountBin(Base):
    """A bin a task covers; ``visited_at`` is set when the counter scans it (an empty bin is counted so)."""

    __tablename__ = "count_bin"

    task_id: Mapped[int] = mapped_column(ForeignKey("count_task.id", ondelete="CASCADE"), primary_key=True)
    bin_id: Mapped[int] = mapped_column(ForeignKey("bin.id"), primary_key=True)
    visited_at: Mapped[Optional[datetime]] = mapped_column()


class CountLine(Base):
    """A product in a bin (or at a location without bins) as counted. ``expected`` is what the books held when
    the count was submitted: never shown to the counter. ``found`` marks a product scanned where none was listed."""

    __tablename__ = "count_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("count_task.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"))
    bin_id: Mapped[Optional[int]] = mapped_column(ForeignKey("bin.id"))
    counted: Mapped[Optional[int]] = mapped_column(Integer)
    expected: Mapped[Optional[int]] = mapped_column(Integer)
    found: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        UniqueConstraint("task_id", "product_id", "bin_id"),
        CheckConstraint("counted IS NULL OR counted >= 0", name="counted_nonneg"),
        Index("ix_count_line_task", "task_id", "bin_id"),
    )
