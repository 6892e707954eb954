"""The transactional outbox: a message to a shop, carrier or partner is a row written in the same
transaction as the change it reports, so a change and its message are kept or lost together. The sync
workers send the rows later, when the machine is online."""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.orm import Session

from oms.core.models import OutboxMessage
from oms.core.types import utcnow


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
