"""Who did what: the actor of a change and the audit events written in the change's own transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from oms.core.models import AuditEvent
from oms.core.types import utcnow


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
