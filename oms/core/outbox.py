"""The transactional outbox: a message to a shop, carrier or partner is a row written in the same
transaction as the change it reports, so a change and its message are kept or lost together. The sync
workers send the rows later, when the machine is online.

A message for one party is ``enqueue``d; what the business issues for whoever takes it (an invoice, a credit
note, a confirmed shipment: an ERP hand-off) is ``publish``ed, one row per subscribed destination."""

from __future__ import annotations

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from oms.core.models import OutboxMessage, OutboxSubscription
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


# -- publications: what the business issues, to every destination that subscribed ---------------------------


def publish(session: Session, topic: str, key: str, payload: dict, *, order_id: int | None = None) -> list[str]:
    """One outbox row per destination subscribed to ``topic``, in the caller's transaction.

    The row's idempotency key is ``destination:key``, so one publication reaches each subscriber once whatever
    happens on the way. Returns the destinations it was queued for (none: nobody subscribes yet).
    """
    destinations = subscribers(session, topic)
    for destination in destinations:
        enqueue(session, destination, topic, f"{destination}:{key}", payload, order_id=order_id)
    return destinations


def subscribers(session: Session, topic: str) -> list[str]:
    return list(session.scalars(select(OutboxSubscription.destination).where(OutboxSubscription.topic == topic)
                                .order_by(OutboxSubscription.destination)))


def subscribe(session: Session, destination: str, topics: list[str] | tuple[str, ...]) -> None:
    """``destination`` receives what is published on each of ``topics`` from now on (again: nothing changes)."""
    have = set(session.scalars(select(OutboxSubscription.topic).where(OutboxSubscription.destination == destination)))
    for topic in topics:
        if topic not in have:
            session.add(OutboxSubscription(destination=destination, topic=topic))
    session.flush()


def unsubscribe(session: Session, destination: str) -> None:
    session.execute(delete(OutboxSubscription).where(OutboxSubscription.destination == destination))
