"""Core tables: the audit trail and the outbox, written by every capability in its own transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from oms.core.types import LINE, SHORT, Base, utcnow


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
    # The hash chain (oms.core.audit.seal): the event's place in the chain, the hash of the event before it and
    # its own. Set once, after the event's transaction commits; the database refuses any other change or delete.
    chain_seq: Mapped[Optional[int]] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    prev_hash: Mapped[Optional[str]] = mapped_column(String(64))
    hash: Mapped[Optional[str]] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_event_order", "order_id", "at"),
        Index("ix_audit_event_entity", "entity", "entity_id"),
        Index("ix_audit_event_user_at", "user", "at"),
        Index("uq_audit_event_chain_seq", "chain_seq", unique=True),
    )


class AuditChain(Base):
    """The head of the audit hash chain: one row, locked by whoever seals the next events."""

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default="")


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


class OutboxSubscription(Base):
    """A destination that receives every message of a topic the domain publishes (``outbox.publish``).

    Connections that take what the business issues rather than answering one channel's orders (an ERP's file
    drop or webhook) subscribe when they are added; each publication then becomes one outbox row per
    subscriber, so each connection sends it once, on its own.
    """

    __tablename__ = "outbox_subscription"

    destination: Mapped[str] = mapped_column(String(SHORT), primary_key=True)
    topic: Mapped[str] = mapped_column(String(SHORT), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ChangeLog(Base):
    """One committed write transaction: the tables it wrote, so other stations read again what changed.

    Written by the commit itself (oms.core.db), in the same transaction as the change; on PostgreSQL the same
    commit sends the row's id as a NOTIFY. Stations read it after a wake-up (NOTIFY, or SQLite's data_version).
    Only recent rows are kept: a station that was away longer reads every screen again anyway.
    """

    __tablename__ = "change_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    origin: Mapped[str] = mapped_column(String(SHORT), default="")  # the Database whose screens already know it; "" else
    tables: Mapped[str] = mapped_column(Text, default="")  # comma-separated table names
