"""Partners' tables: trading partners, control numbers, item and ship-to cross references, documents."""

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
from sqlalchemy.orm import Mapped, mapped_column, relationship

from oms.core.types import LINE, NAME, SHORT, Base, utcnow


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
    transport: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # {"kind": ..., settings}: kinds are the transports' (sync)
    ack_timeout_h: Mapped[int] = mapped_column(Integer, default=24)
    # A 3PL warehouse that takes 940s for the orders routed to this location (of type 3PL) and reports in 945s and 846s.
    location_id: Mapped[Optional[int]] = mapped_column(ForeignKey("location.id"))

    location = relationship("Location")
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
