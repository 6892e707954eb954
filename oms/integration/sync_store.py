"""What the sync engine keeps in the database: connectors, cursors, the outbox, quarantine, status."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from oms.core import audit, outbox, validate
from oms.core.audit import Actor
from oms.core.errors import Conflict, InvalidInput, NotFound
from oms.core.i18n import _
from oms.core.models import OutboxMessage
from oms.core.types import LINE, NAME, SHORT, utcnow
from oms.core.upsert import insert_ignore
from oms.integration.models import ConnectorConfig, ConnectorState, InventoryPush, QuarantinedPayload, SyncCursor
from oms.orders.models import Channel
from oms.partners.models import TradingPartner
from oms.threepl import threepl_location
from oms.users import require

# -- connectors ---------------------------------------------------------------------------------

ROLES = ("channel", "carrier", "erp", "threepl")  # a shop or marketplace, a carrier, an ERP that takes what is issued, a third-party warehouse


@dataclass(frozen=True)
class ConnectorInfo:
    code: str
    role: str
    kind: str
    name: str
    base_url: str
    options: dict[str, Any]
    enabled: bool
    interval_s: int


def add_connector(session: Session, actor: Actor, *, code: str, role: str, kind: str, name: str, base_url: str,
                  options: dict | None = None, interval_s: int = 60, subscribes: tuple[str, ...] | list[str] = ()) -> None:
    """Configure a channel, carrier, ERP or 3PL connection; a channel connector also creates its sales channel, and a
    3PL's must name its location (``options["location"]``), of type 3PL.

    ``subscribes``: the topics the domain publishes that this connection receives from now on (an ERP's
    invoices, credit notes and shipments: ``outbox.publish`` queues each for it)."""
    require(actor, "settings.connections")
    code = validate.text(code, "code", SHORT, required=True)
    if any(c.isspace() for c in code):
        raise InvalidInput(_("A code cannot contain spaces ({code!r}).").format(code=code))
    if role not in ROLES:
        raise InvalidInput(_("A connector is a channel, a carrier, an ERP hand-off or a 3PL, not {role!r}.").format(role=role))
    # Which kinds exist is the connector registry's to say (sync.registry); the domain keeps what it is given.
    kind = validate.text(kind, "kind", SHORT, required=True)
    base_url = validate.text(base_url, "address", LINE, required=True)
    if not base_url.startswith(("http://", "https://") + (("file:///",) if role == "erp" else ())):
        raise InvalidInput(_("The address must start with https:// (or http:// for a local test server), not {url!r}.").format(url=base_url))
    validate.quantity(interval_s, "interval in seconds")
    if session.get(ConnectorConfig, code) is not None:
        raise Conflict(_("A connection named {code} already exists.").format(code=code))
    name = validate.text(name, "name", NAME) or code
    if role == "channel" and session.scalar(select(Channel.id).where(Channel.code == code)) is None:
        from oms.orders.channels import add_channel

        add_channel(session, actor, code, name, kind)
    if role == "threepl":  # a 3PL connection serves one location of type 3PL, which must exist
        if not (options or {}).get("location"):
            raise InvalidInput(_("A 3PL connection needs the location it ships from (a location of type 3PL)."))
        threepl_location(session, options["location"])
    session.add(ConnectorConfig(code=code, role=role, kind=kind, name=name, base_url=base_url.rstrip("/"),
                                options=options or {}, enabled=True, interval_s=interval_s))
    session.add(ConnectorState(code=code, online=True, pulled=0, pushed=0, last_error=""))
    session.flush()
    if subscribes:
        outbox.subscribe(session, code, tuple(subscribes))
    audit.record(session, actor, "connector.added", "connector", code, summary=f"{role} {kind} {code}: {base_url}")


def connectors(session: Session, role: str | None = None, *, enabled_only: bool = False) -> list[ConnectorInfo]:
    q = select(ConnectorConfig).order_by(ConnectorConfig.role, ConnectorConfig.code)
    if role:
        q = q.where(ConnectorConfig.role == role)
    if enabled_only:
        q = q.where(ConnectorConfig.enabled.is_(True))
    return [ConnectorInfo(c.code, c.role, c.kind, c.name, c.base_url, dict(c.options or {}), c.enabled, c.interval_s)
            for c in session.scalars(q)]


def update_connector(session: Session, actor: Actor, code: str, *, name: str | None = None, base_url: str | None = None,
                     interval_s: int | None = None, options: dict | None = None) -> None:
    """Change a connection's name, address, interval or options (its token is changed through the keyring)."""
    require(actor, "settings.connections")
    c = session.get(ConnectorConfig, code)
    if c is None:
        raise NotFound(_("There is no connection {code}.").format(code=code))
    before = {"name": c.name, "base_url": c.base_url, "interval_s": c.interval_s, "options": c.options}
    if name is not None:
        c.name = validate.text(name, "name", NAME, required=True)
    if base_url is not None:
        base_url = validate.text(base_url, "address", LINE, required=True)
        if not base_url.startswith(("http://", "https://")):
            raise InvalidInput(_("The address must start with https:// (or http:// for a local test server), not {url!r}.").format(url=base_url))
        c.base_url = base_url.rstrip("/")
    if interval_s is not None:
        c.interval_s = validate.quantity(interval_s, "interval in seconds")
    if options is not None:
        c.options = dict(options)
    session.flush()
    audit.record(session, actor, "connector.changed", "connector", code, summary=code, before=before,
                 after={"name": c.name, "base_url": c.base_url, "interval_s": c.interval_s, "options": c.options})


def set_connector_enabled(session: Session, actor: Actor, code: str, enabled: bool) -> None:
    require(actor, "settings.connections")
    c = session.get(ConnectorConfig, code)
    if c is None:
        raise NotFound(_("There is no connection {code}.").format(code=code))
    c.enabled = enabled
    audit.record(session, actor, "connector.enabled" if enabled else "connector.disabled", "connector", code, summary=code)


# -- cursors ---------------------------------------------------------------------------------------


def get_cursor(session: Session, connector: str, stream: str) -> str | None:
    value = session.scalar(select(SyncCursor.value).where(SyncCursor.connector == connector, SyncCursor.stream == stream))
    return value or None


def save_cursor(session: Session, connector: str, stream: str, value: str | None) -> None:
    """Store a cursor in the caller's transaction: it commits together with the rows it covers."""
    row = session.get(SyncCursor, (connector, stream))
    if row is None:
        session.add(SyncCursor(connector=connector, stream=stream, value=value or "", updated_at=utcnow()))
    else:
        row.value, row.updated_at = value or "", utcnow()
    session.flush()


# -- quarantine ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuarantineView:
    id: int
    connector: str
    stream: str
    external_ref: str
    error: str
    raw: str
    status: str
    received_at: datetime


def quarantine(session: Session, connector: str, stream: str, external_ref: str, raw: str, error: str) -> bool:
    """Keep a payload we could not understand; the same open payload is kept once. True if new."""
    raw = raw if isinstance(raw, str) else repr(raw)
    raw = validate.storable(raw)
    exists = session.scalar(select(QuarantinedPayload.id).where(
        QuarantinedPayload.connector == connector, QuarantinedPayload.stream == stream,
        QuarantinedPayload.external_ref == external_ref[:200], QuarantinedPayload.status == "open",
        QuarantinedPayload.raw == raw).limit(1))
    if exists:
        return False
    session.add(QuarantinedPayload(connector=connector, stream=stream, external_ref=external_ref[:200], raw=raw,
                                   error=error, status="open", received_at=utcnow()))
    session.flush()
    return True


def quarantined(session: Session, *, include_closed: bool = False, limit: int = 500) -> list[QuarantineView]:
    q = select(QuarantinedPayload).order_by(QuarantinedPayload.received_at.desc()).limit(limit)
    if not include_closed:
        q = q.where(QuarantinedPayload.status == "open")
    return [QuarantineView(p.id, p.connector, p.stream, p.external_ref, p.error, p.raw, p.status, p.received_at)
            for p in session.scalars(q)]


def close_quarantined(session: Session, actor: Actor, payload_id: int, status: str) -> QuarantineView:
    """Mark a quarantined payload retried (its content was taken in again) or dismissed by a person."""
    if status not in ("retried", "dismissed"):
        raise InvalidInput(_("A quarantined payload is retried or dismissed."))
    p = session.get(QuarantinedPayload, payload_id)
    if p is None:
        raise NotFound(_("There is no quarantined payload {id}.").format(id=payload_id))
    if p.status != "open":
        raise Conflict(_("That payload was already {status}.").format(status=p.status))
    p.status, p.resolved_at = status, utcnow()
    audit.record(session, actor, f"quarantine.{status}", "quarantined_payload", p.id, summary=f"{p.connector} {p.external_ref}: {p.error}"[:300])
    return QuarantineView(p.id, p.connector, p.stream, p.external_ref, p.error, p.raw, p.status, p.received_at)


# -- outbox ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboxRow:
    id: int
    destination: str
    topic: str
    idempotency_key: str
    payload: dict[str, Any]
    attempts: int


def due(session: Session, destination: str, *, now: datetime | None = None, limit: int = 100) -> list[OutboxRow]:
    """Pending messages for one destination, oldest first, stopping at the first one not yet due.

    Messages to one party are delivered in order: a message waiting for its retry time
    holds back the ones behind it.
    """
    now = now or utcnow()
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.destination == destination, OutboxMessage.status == "pending")
                           .order_by(OutboxMessage.id).limit(limit)).all()
    out = []
    for r in rows:
        if r.next_attempt_at > now:
            break
        out.append(OutboxRow(r.id, r.destination, r.topic, r.idempotency_key, dict(r.payload), r.attempts))
    return out


def update_payload(session: Session, message_id: int, payload: dict[str, Any]) -> None:
    """Remember a step of a two-step delivery (e.g. the carrier's shipment id before buying)."""
    session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(payload=payload))


def mark_sent(session: Session, message_id: int) -> None:
    session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.status == "pending")
                    .values(status="sent", sent_at=utcnow(), attempts=OutboxMessage.attempts + 1, last_error=""))


def mark_superseded(session: Session, message_ids: list[int]) -> None:
    """Older inventory pushes made pointless by a newer one for the same SKU and location."""
    if message_ids:
        session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(message_ids), OutboxMessage.status == "pending")
                        .values(status="superseded", sent_at=utcnow()))


def mark_retry(session: Session, message_id: int, error: str, retry_at: datetime) -> None:
    session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                    .values(attempts=OutboxMessage.attempts + 1, last_error=error[:4000], next_attempt_at=retry_at))


def mark_waiting(session: Session, message_id: int, note: str, retry_at: datetime) -> None:
    """The remote has the message and has not said yet how it went: ask again at ``retry_at``. Not a failed
    attempt (the back-off does not grow); ``note`` says what it waits for."""
    session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.status == "pending")
                    .values(last_error=note[:4000], next_attempt_at=retry_at))


def mark_failed(session: Session, message_id: int, error: str) -> None:
    """The remote refused for good: a person must look (the Sync screen lists these)."""
    session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id)
                    .values(status="failed", attempts=OutboxMessage.attempts + 1, last_error=error[:4000]))


def requeue(session: Session, actor: Actor, message_id: int) -> None:
    """A person asks to send a failed message again."""
    m = session.get(OutboxMessage, message_id)
    if m is None:
        raise NotFound(_("There is no outbox message {id}.").format(id=message_id))
    if m.status != "failed":
        raise Conflict(_("Only a failed message can be sent again."))
    m.status, m.next_attempt_at = "pending", utcnow()
    audit.record(session, actor, "outbox.requeued", "outbox", m.id, summary=f"{m.destination} {m.topic}")


def waiting_count(session: Session, destination: str | None = None) -> int:
    q = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "pending")
    if destination:
        q = q.where(OutboxMessage.destination == destination)
    return int(session.scalar(q))


# -- status -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectorStatus:
    code: str
    role: str
    kind: str
    name: str
    enabled: bool
    online: bool
    offline_since: datetime | None
    last_success_at: datetime | None
    last_error: str
    pulled: int
    pushed: int
    waiting: int
    failed: int


def _state(session: Session, code: str) -> ConnectorState:
    st = session.get(ConnectorState, code)
    if st is None:
        st = ConnectorState(code=code, online=True, pulled=0, pushed=0, last_error="")
        session.add(st)
        session.flush()
    return st


LEASE_S = 300  # a station that stalls (or dies elsewhere) mid-pass loses its connector this long after its last step


def take_lease(session: Session, code: str, holder: str, *, now: datetime | None = None, seconds: int = LEASE_S,
               takeover_from: str | None = None) -> bool:
    """Take or renew the right to sync ``code``: True for the holder, or when the last holder's lease ran out (or it
    is ``takeover_from``, a holder known to be gone). Several stations on one database thus never pull the same
    pages or send the same message at once."""
    now = now or utcnow()
    insert_ignore(session, ConnectorState, {"code": code, "online": True, "pulled": 0, "pushed": 0, "last_error": "",
                                             "lease_holder": ""}, ["code"])  # two stations may arrive first at once
    table = ConnectorState.__table__
    taken = session.connection().execute(
        update(table).where(table.c.code == code, or_(table.c.lease_holder == holder, table.c.lease_until.is_(None),
                                                      table.c.lease_until < now,
                                                      table.c.lease_holder == (takeover_from or holder)))
        .values(lease_holder=holder, lease_until=now + timedelta(seconds=seconds)))
    return taken.rowcount == 1


def release_lease(session: Session, code: str, holder: str) -> None:
    """Give the connector up at the end of a pass, so whichever station comes next takes it without waiting."""
    table = ConnectorState.__table__
    session.connection().execute(update(table).where(table.c.code == code, table.c.lease_holder == holder)
                                 .values(lease_until=None))


def lease_holder(session: Session, code: str, *, now: datetime | None = None) -> str:
    """Who syncs ``code`` now ("" when nobody holds a live lease)."""
    st = session.get(ConnectorState, code)
    now = now or utcnow()
    return st.lease_holder if st is not None and st.lease_until is not None and st.lease_until >= now else ""


def record_success(session: Session, code: str, *, pulled: int = 0, pushed: int = 0) -> None:
    st = _state(session, code)
    now = utcnow()
    st.online, st.offline_since, st.last_success_at, st.last_attempt_at, st.last_error = True, None, now, now, ""
    st.pulled += pulled
    st.pushed += pushed


def record_failure(session: Session, code: str, error: str, *, offline: bool) -> None:
    st = _state(session, code)
    now = utcnow()
    st.last_attempt_at = now
    st.last_error = error[:2000]
    if offline:
        if st.online:
            st.offline_since = now
        st.online = False


def statuses(session: Session) -> list[ConnectorStatus]:
    waiting = dict(session.execute(select(OutboxMessage.destination, func.count()).where(OutboxMessage.status == "pending")
                                   .group_by(OutboxMessage.destination)).all())
    failed = dict(session.execute(select(OutboxMessage.destination, func.count()).where(OutboxMessage.status == "failed")
                                  .group_by(OutboxMessage.destination)).all())
    out = []
    for c in session.scalars(select(ConnectorConfig).order_by(ConnectorConfig.role, ConnectorConfig.code)):
        st = session.get(ConnectorState, c.code)
        out.append(ConnectorStatus(
            c.code, c.role, c.kind, c.name, c.enabled, st.online if st else True, st.offline_since if st else None,
            st.last_success_at if st else None, st.last_error if st else "", st.pulled if st else 0, st.pushed if st else 0,
            waiting.get(c.code, 0), failed.get(c.code, 0)))
    # EDI trading partners sync like channels (their files in, our documents out): they are connections too.
    for p in session.scalars(select(TradingPartner).order_by(TradingPartner.code)):
        st = session.get(ConnectorState, p.code)
        out.append(ConnectorStatus(
            p.code, "partner", f"edi_{(p.transport or {}).get('kind') or 'x12'}", p.name, p.active, st.online if st else True,
            st.offline_since if st else None, st.last_success_at if st else None, st.last_error if st else "",
            st.pulled if st else 0, st.pushed if st else 0, waiting.get(p.code, 0), failed.get(p.code, 0)))
    return out


def backoff_delay(attempts: int, *, base: float = 2.0, cap: float = 900.0, jitter: float = 0.0) -> timedelta:
    """Exponential backoff for outbox retries; ``jitter`` in [0, 1) spreads stations apart."""
    delay = min(cap, base * (2 ** max(0, attempts)))
    return timedelta(seconds=delay * (0.5 + jitter / 2))


# -- inventory levels for channels ------------------------------------------------------------------


def queue_inventory_changes(session: Session, connector: str, location_map: dict[str, Any]) -> int:
    """Queue an ``inventory.set`` for every mapped product and location whose available stock changed
    since the channel was last told. Returns how many were queued. Only mapped locations are told."""
    from oms.catalog.models import Product
    from oms.inventory.models import Location, StockLevel

    if not location_map:
        return 0
    locations = dict(session.execute(select(Location.code, Location.id).where(Location.code.in_(list(location_map)))).all())
    if not locations:
        return 0
    told = {(r.product_id, r.location_id): r for r in session.scalars(
        select(InventoryPush).where(InventoryPush.connector == connector))}
    code_of = {lid: code for code, lid in locations.items()}
    queued = 0
    now = utcnow()
    for pid, sku, lid, available in session.execute(
            select(StockLevel.product_id, Product.sku, StockLevel.location_id, StockLevel.on_hand - StockLevel.allocated)
            .join(Product, Product.id == StockLevel.product_id).where(StockLevel.location_id.in_(list(code_of)))):
        before = told.get((pid, lid))
        if before is not None and before.available == available:
            continue
        if before is None:
            session.add(InventoryPush(connector=connector, product_id=pid, location_id=lid, available=available))
        else:
            before.available = available
        outbox.enqueue(session, connector, "inventory.set", f"{connector}:inv:{sku}:{code_of[lid]}:{now.isoformat()}",
                      {"sku": sku, "location_code": code_of[lid], "available": max(0, available)})
        queued += 1
    session.flush()
    return queued
