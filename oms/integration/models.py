"""The sync store's tables: connector settings and state, cursors, quarantine and stock pushes."""

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
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from oms.core.types import LINE, NAME, SHORT, Base, utcnow


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


class ConnectorConfig(Base):
    """A configured channel or carrier connection. Its secret lives in the OS keyring, never here."""

    __tablename__ = "connector_config"

    code: Mapped[str] = mapped_column(String(SHORT), primary_key=True)  # = channel code for channels
    role: Mapped[str] = mapped_column(String(16))  # channel, carrier, erp, threepl
    kind: Mapped[str] = mapped_column(String(SHORT))  # shopify, easypost, ...
    name: Mapped[str] = mapped_column(String(NAME), default="")
    base_url: Mapped[str] = mapped_column(String(LINE), default="")
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    interval_s: Mapped[int] = mapped_column(Integer, default=60)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (CheckConstraint("role IN ('channel', 'carrier', 'erp', 'threepl')", name="role"),)


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


class InventoryPush(Base):
    """The stock level a channel was last told, per product and location, so only changes are sent."""

    __tablename__ = "inventory_push"

    connector: Mapped[str] = mapped_column(String(SHORT), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("location.id"), primary_key=True)
    available: Mapped[int] = mapped_column(Integer)
