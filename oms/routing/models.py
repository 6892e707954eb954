"""Routing's tables: rules, shipping zones and rates, and every decision made with its reason."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from oms.core.types import NAME, SHORT, Base, utcnow


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
