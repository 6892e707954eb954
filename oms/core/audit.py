"""Who did what: the actor of a change and the audit events written in the change's own transaction.

The trail cannot be rewritten: the database refuses UPDATE and DELETE on ``audit_event`` (a trigger on
PostgreSQL and on SQLite, migration 0017), except the one update that seals an event into the hash chain.
``seal`` chains the events committed since the last seal, in one short transaction that locks the chain's head:
each event stores the hash of the one before it, so ``verify_chain`` (run by ``check``) finds an event that was
edited, removed or slipped in by someone who went around the triggers.

Decisions worth knowing:
- Events are chained after their own transaction commits, not while it is open. Chaining at insert would make
  every write on every station wait for one lock until it commits (and deadlock against stock rows locked in a
  different order); the chain's order is therefore the order of sealing, which is the order of commits, not ids.
- An unsealed event is still protected by the triggers; ``check`` and ``audit list`` seal before they read.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from oms.core.i18n import _
from oms.core.models import AuditChain, AuditEvent
from oms.core.types import utcnow


@dataclass(frozen=True)
class Actor:
    """The person and station behind a change; 'system' for automatic work.

    A person signed in carries their role (and, when their role is limited to some locations, those locations'
    codes); ``oms.users.require`` checks them. An actor without a role is the system's own work (sync, EDI,
    seeding demo data), which no person starts by hand.
    """

    user: str = "system"
    station: str = ""
    role: str = ""
    name: str = ""
    locations: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """How a person is named in messages: "Maria (packer)"."""
        who = self.name or self.user
        return f"{who} ({self.role.replace('_', ' ')})" if self.role else who


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


# -- the hash chain ----------------------------------------------------------------------------------------

SEAL_BATCH = 2000
_T = AuditEvent.__table__


def _at_text(at: datetime) -> str:
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")


def event_hash(prev_hash: str, seq: int, row: Any) -> str:
    """The SHA-256 of an event's content and the hash before it (``row`` has the audit_event columns)."""
    content = [seq, _at_text(row.at), row.user, row.station, row.action, row.entity, row.entity_id, row.order_id,
               row.summary, row.before, row.after]
    text = prev_hash + "\n" + json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_CONTENT = (_T.c.id, _T.c.at, _T.c.user, _T.c.station, _T.c.action, _T.c.entity, _T.c.entity_id, _T.c.order_id,
            _T.c.summary, _T.c.before, _T.c.after)


def seal(session: Session) -> int:
    """Chain every committed event not yet in the chain; returns how many. Call in a transaction of its own."""
    head = session.execute(select(AuditChain).where(AuditChain.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:  # a database made from the models rather than the migrations
        head = AuditChain(id=1, last_seq=0, last_hash="")
        session.add(head)
        session.flush()
    seq, last = head.last_seq, head.last_hash
    done = 0
    stmt = (update(_T).where(_T.c.id == bindparam("_id"))
            .values(chain_seq=bindparam("_seq"), prev_hash=bindparam("_prev"), hash=bindparam("_hash")))
    while True:
        rows = session.execute(select(*_CONTENT).where(_T.c.chain_seq.is_(None)).order_by(_T.c.id).limit(SEAL_BATCH)).all()
        if not rows:
            break
        params = []
        for row in rows:
            seq += 1
            digest = event_hash(last, seq, row)
            params.append({"_id": row.id, "_seq": seq, "_prev": last, "_hash": digest})
            last = digest
        session.connection().execute(stmt, params)
        done += len(rows)
    if done:
        head.last_seq, head.last_hash = seq, last
        session.flush()
    return done


def verify_chain(session: Session, *, limit: int = 20) -> list[str]:
    """What is wrong with the sealed trail, in words (empty when the chain is whole); at most ``limit`` findings."""
    findings: list[str] = []
    head = session.get(AuditChain, 1)
    expected_seq, prev = 0, ""
    after = 0
    while len(findings) < limit:
        rows = session.execute(select(*_CONTENT, _T.c.chain_seq, _T.c.prev_hash, _T.c.hash)
                               .where(_T.c.chain_seq > after).order_by(_T.c.chain_seq).limit(SEAL_BATCH)).all()
        if not rows:
            break
        for row in rows:
            expected_seq += 1
            if row.chain_seq != expected_seq:
                findings.append(_("Audit trail: {n} event(s) missing before event {id} (chain position {seq}); "
                                  "events were deleted.").format(n=row.chain_seq - expected_seq, id=row.id, seq=row.chain_seq))
                expected_seq = row.chain_seq
            elif row.prev_hash != prev:
                findings.append(_("Audit trail: event {id} does not follow the event before it in the chain.").format(id=row.id))
            if event_hash(row.prev_hash or "", row.chain_seq, row) != row.hash:
                findings.append(_("Audit trail: event {id} ({action} by {user}) was changed after it was written.").format(
                    id=row.id, action=row.action, user=row.user or "?"))
            prev = row.hash or ""
            after = row.chain_seq
    if head is not None and len(findings) < limit and (head.last_seq != expected_seq or head.last_hash != prev):
        if head.last_seq > expected_seq:
            findings.append(_("Audit trail: the last {n} event(s) of the chain are missing; events were deleted.").format(
                n=head.last_seq - expected_seq))
        else:
            findings.append(_("Audit trail: the chain does not end where it was last sealed (position {seq}).").format(
                seq=head.last_seq))
    return findings[:limit]


# -- reading the trail -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrailEvent:
    """One event as a person reads it."""

    id: int
    at: datetime
    user: str
    station: str
    action: str
    entity: str
    entity_id: str
    order_id: int | None
    summary: str
    before: dict | None
    after: dict | None

    def as_dict(self) -> dict:
        return {"id": self.id, "at": self.at.isoformat(), "user": self.user, "station": self.station,
                "action": self.action, "entity": self.entity, "entity_id": self.entity_id, "order_id": self.order_id,
                "summary": self.summary, "before": self.before, "after": self.after}


def trail(session: Session, *, user: str | None = None, since: datetime | None = None, until: datetime | None = None,
          action: str | None = None, order_id: int | None = None, limit: int = 500) -> list[TrailEvent]:
    """Events newest first. ``action`` matches an action exactly or as its family ("order" finds "order.held");
    ``until`` is exclusive."""
    q = select(*_CONTENT)
    if user:
        q = q.where(_T.c.user == user.strip().lower())
    if since is not None:
        q = q.where(_T.c.at >= since)
    if until is not None:
        q = q.where(_T.c.at < until)
    if action:
        a = action.strip()
        q = q.where(or_(_T.c.action == a, _T.c.action.startswith(a.rstrip(".") + ".", autoescape=True)))
    if order_id is not None:
        q = q.where(_T.c.order_id == order_id)
    rows = session.execute(q.order_by(_T.c.at.desc(), _T.c.id.desc()).limit(limit)).all()
    return [TrailEvent(r.id, r.at, r.user, r.station, r.action, r.entity, r.entity_id, r.order_id, r.summary,
                       r.before, r.after) for r in rows]
