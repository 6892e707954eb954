"""Read-only questions the floor screens ask: open waves and their progress, the choices for a new wave."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oms.fulfilment.models import PickTask, Wave, WaveOrder, WaveStatus
from oms.inventory.models import Location
from oms.orders.models import Channel, SalesOrder
from oms.orders.status import ORDER_TYPE_TITLES
from oms.shipping.models import Shipment


@dataclass(frozen=True)
class WaveSummary:
    id: int
    name: str
    location: str
    status: str
    batch_pick: bool
    created_at: datetime
    cutoff_at: datetime | None
    orders: int
    units: int  # all units the wave's tasks asked for
    picked: int
    short: int

    @property
    def to_pick(self) -> int:
        """Units the wave still means to pick here: what its tasks asked for less what was short (gone back to routing)."""
        return self.units - self.short


@dataclass(frozen=True)
class WaveChoices:
    locations: tuple[tuple[str, str], ...]  # (code, name) of own warehouses
    channels: tuple[tuple[str, str], ...]  # (code, name)
    order_types: tuple[tuple[str, str], ...]  # (value, what a person calls it)


def waves(session: Session, *, statuses: tuple[str, ...] = (WaveStatus.OPEN.value,), limit: int = 200,
          wave_ids: list[int] | None = None) -> list[WaveSummary]:
    """Waves in these statuses (or these waves), newest first, with their units picked so far.

    The counts are read per wave by its key (correlated), so the question costs the waves shown, not every wave
    and task of the past."""
    live = PickTask.status != "cancelled"
    n_orders = select(func.count()).select_from(WaveOrder).where(WaveOrder.wave_id == Wave.id).scalar_subquery()

    def total(col):
        return select(func.coalesce(func.sum(col), 0)).where(PickTask.wave_id == Wave.id, live).scalar_subquery()

    q = (select(Wave.id, Wave.name, Location.code, Wave.status, Wave.batch_pick, Wave.created_at, Wave.cutoff_at,
                n_orders, total(PickTask.quantity), total(PickTask.picked), total(PickTask.short))
         .join(Location, Location.id == Wave.location_id))
    q = q.where(Wave.id.in_(wave_ids)) if wave_ids is not None else q.where(Wave.status.in_(statuses))
    rows = session.execute(q.order_by(Wave.id.desc()).limit(limit)).all()
    return [WaveSummary(*r) for r in rows]


def wave(session: Session, wave_id: int) -> WaveSummary | None:
    found = waves(session, wave_ids=[wave_id])
    return found[0] if found else None


def wave_choices(session: Session) -> WaveChoices:
    locations = session.execute(select(Location.code, Location.name).where(Location.active.is_(True), Location.kind != "3pl")
                                .order_by(Location.priority, Location.code)).all()
    channels = session.execute(select(Channel.code, Channel.name).order_by(Channel.code)).all()
    types = session.scalars(select(SalesOrder.order_type).distinct().order_by(SalesOrder.order_type)).all()
    return WaveChoices(tuple((c, n) for c, n in locations), tuple((c, n) for c, n in channels),
                       tuple((t, ORDER_TYPE_TITLES.get(t, t.replace("_", " ").capitalize())) for t in types))


@dataclass(frozen=True)
class LabelState:
    """Where a shipment's carrier label is, as the packing station shows it while the box waits.

    ``state``: "waiting" (asked for, the carrier not reached yet), "offline" (the carrier cannot be
    reached: it is bought when the network is back), "retrying" (the carrier answered with a passing
    error), "refused" (the carrier will not sell it: a person must act), "ready" (bought, to print),
    "shipped" (printed and confirmed) or "voided".
    """

    shipment_id: int
    order_number: str
    state: str
    error: str = ""  # the carrier's last answer, when it refused or failed
    offline_since: datetime | None = None
    formats: tuple[str, ...] = ()  # the label files kept (pdf, zpl, png)


def label_states(session: Session, shipment_ids: list[int]) -> list[LabelState]:
    """The label state of each shipment the station waits on (by primary and unique keys only: polled often)."""
    from oms.core.models import OutboxMessage
    from oms.integration.models import ConnectorState
    from oms.shipping.models import ShipmentLabel

    if not shipment_ids:
        return []
    rows = session.execute(select(Shipment.id, SalesOrder.number, Shipment.status, Shipment.carrier_account, Shipment.carrier_ref)
                           .join(SalesOrder, SalesOrder.id == Shipment.order_id).where(Shipment.id.in_(shipment_ids))).all()
    formats: dict[int, list[str]] = {}
    for sid, fmt in session.execute(select(ShipmentLabel.shipment_id, ShipmentLabel.format)
                                    .where(ShipmentLabel.shipment_id.in_(shipment_ids))):
        formats.setdefault(sid, []).append(fmt)
    keys = {f"{r.carrier_account}:label:{r.id}": r.id for r in rows if r.carrier_account}
    outbox = {keys[m.idempotency_key]: m for m in session.scalars(
        select(OutboxMessage).where(OutboxMessage.idempotency_key.in_(list(keys))))} if keys else {}
    carriers = {r.carrier_account for r in rows if r.carrier_account}
    online = {c.code: c for c in session.scalars(select(ConnectorState).where(ConnectorState.code.in_(carriers)))} if carriers else {}
    out = []
    for r in rows:
        fmts = tuple(sorted(formats.get(r.id, ())))
        m = outbox.get(r.id)
        conn = online.get(r.carrier_account)
        if r.status in ("shipped", "voided"):
            state, error = r.status, ""
        elif fmts and r.carrier_ref:
            state, error = "ready", ""
        elif m is not None and m.status == "failed":
            state, error = "refused", m.last_error
        elif conn is not None and not conn.online:
            state, error = "offline", conn.last_error
        elif m is not None and m.last_error:
            state, error = "retrying", m.last_error
        else:
            state, error = "waiting", ""
        out.append(LabelState(r.id, r.number, state, error, conn.offline_since if conn is not None and not conn.online else None,
                              fmts))
    order = {sid: i for i, sid in enumerate(shipment_ids)}
    return sorted(out, key=lambda st: order.get(st.shipment_id, 0))


def station_awaited_labels(session: Session, station: str) -> list[LabelState]:
    """Packed shipments whose carrier label this station asked for and has not printed yet, oldest first.

    What the packing station picks up again when it starts: the labels it was waiting for print
    by themselves once bought, even after a restart.
    """
    from oms.core.models import OutboxMessage

    candidates = session.execute(select(Shipment.id, Shipment.carrier_account).where(
        Shipment.status == "packed", Shipment.carrier_account != "").order_by(Shipment.id)).all()
    if not candidates:
        return []
    keys = {f"{acct}:label:{sid}": sid for sid, acct in candidates}
    mine = [keys[key] for key, payload in session.execute(
        select(OutboxMessage.idempotency_key, OutboxMessage.payload).where(OutboxMessage.idempotency_key.in_(list(keys))))
        if (payload or {}).get("station", "") == station]
    return label_states(session, sorted(mine))


__all__ = ["LabelState", "WaveChoices", "WaveSummary", "label_states", "station_awaited_labels", "wave", "wave_choices",
           "waves"]


def task_states(session: Session, task_ids: list[int]) -> dict[int, str]:
    """Each pick task's status now ("open", "done", "short", "cancelled"): what became of the tasks a picker holds."""
    if not task_ids:
        return {}
    return dict(session.execute(select(PickTask.id, PickTask.status).where(PickTask.id.in_(task_ids))).all())
