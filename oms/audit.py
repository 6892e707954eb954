"""Who did what: the actor of a change, audit events and transactional outbox rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from .models import AuditEvent, OutboxMessage, utcnow


@dataclass(frozen=True)
class Actor:
    """The person and station behind a change; 'system' for automatic work."""

    user: str = "system"
    station: str = ""


SYSTEM = Actor()


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: Any,
    *,
    summary: str = "",
    before: dict | None = None,
    after: dict | None = None,
    order_id: int | None = None,
) -> None:
    """Write an audit event in the caller's transaction."""
    session.connection().execute(
        insert(AuditEvent.__table__),
        [
            {
                "at": utcnow(),
                "user": actor.user[:64],
                "station": actor.station[:64],
                "action": action,
                "entity": entity,
                "entity_id": str(entity_id),
                "order_id": order_id,
                "summary": summary[:300],
                "before": before,
                "after": after,
            }
        ],
    )


def record_many(session: Session, rows: list[dict]) -> None:
    """Bulk form of record() for batch services; each row has record()'s keywords."""
    if rows:
        session.connection().execute(insert(AuditEvent.__table__), rows)


def enqueue(
    session: Session,
    destination: str,
    topic: str,
    key: str,
    payload: dict,
    *,
    order_id: int | None = None,
) -> None:
    """Add an outbox row in the caller's transaction; the idempotency key makes it unique."""
    enqueue_many(session, destination, topic, [(key, payload, order_id)])


def enqueue_many(session: Session, destination: str, topic: str, rows: list[tuple[str, dict, int | None]]) -> None:
    """Bulk form of enqueue(): rows of (idempotency key, payload, order id), in one statement."""
    if not rows:
        return
    now = utcnow()
    session.connection().execute(
        insert(OutboxMessage.__table__),
        [
            {
                "destination": destination,
                "topic": topic,
                "idempotency_key": key,
                "order_id": order_id,
                "payload": payload,
                "status": "pending",
                "created_at": now,
                "next_attempt_at": now,
            }
            for key, payload, order_id in rows
        ],
    )
