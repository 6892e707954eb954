"""Read-only questions the floor screens ask: open waves and their progress, the choices for a new wave."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .models import Channel, Location, PickTask, SalesOrder, Shipment, Wave, WaveOrder, WaveStatus
from .queries import ORDER_TYPE_TITLES


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


def waves(session: Session, *, statuses: tuple[str, ...] = (WaveStatus.OPEN.value,), limit: int = 200) -> list[WaveSummary]:
    """Waves in these statuses, newest first, with their units picked so far."""
    orders = (select(WaveOrder.wave_id, func.count().label("n")).group_by(WaveOrder.wave_id).subquery())
    units = (select(PickTask.wave_id, func.sum(PickTask.quantity).label("units"), func.sum(PickTask.picked).label("picked"),
                    func.sum(PickTask.short).label("short"))
             .where(PickTask.status != "cancelled").group_by(PickTask.wave_id).subquery())
    rows = session.execute(
        select(Wave.id, Wave.name, Location.code, Wave.status, Wave.batch_pick, Wave.created_at, Wave.cutoff_at,
               func.coalesce(orders.c.n, 0), func.coalesce(units.c.units, 0), func.coalesce(units.c.picked, 0),
               func.coalesce(units.c.short, 0))
        .join(Location, Location.id == Wave.location_id)
        .outerjoin(orders, orders.c.wave_id == Wave.id)
        .outerjoin(units, units.c.wave_id == Wave.id)
        .where(Wave.status.in_(statuses))
        .order_by(Wave.id.desc()).limit(limit)).all()
    return [WaveSummary(*r) for r in rows]


def wave(session: Session, wave_id: int) -> WaveSummary | None:
    found = [w for w in waves(session, statuses=tuple(s.value for s in WaveStatus)) if w.id == wave_id]
    return found[0] if found else None


def wave_choices(session: Session) -> WaveChoices:
    locations = session.execute(select(Location.code, Location.name).where(Location.active.is_(True), Location.kind != "3pl")
                                .order_by(Location.priority, Location.code)).all()
    channels = session.execute(select(Channel.code, Channel.name).order_by(Channel.code)).all()
    types = session.scalars(select(SalesOrder.order_type).distinct().order_by(SalesOrder.order_type)).all()
    return WaveChoices(tuple((c, n) for c, n in locations), tuple((c, n) for c, n in channels),
                       tuple((t, ORDER_TYPE_TITLES.get(t, t.replace("_", " ").capitalize())) for t in types))


@dataclass(frozen=True)
class ShipmentState:
    shipment_id: int
    order_number: str
    status: str
    tracking_number: str
    has_label: bool


def shipment_state(session: Session, shipment_id: int, label_format: str) -> ShipmentState | None:
    """Whether a packed shipment has its carrier label yet (the packing station polls this)."""
    from .models import ShipmentLabel

    row = session.execute(select(Shipment.id, SalesOrder.number, Shipment.status, Shipment.tracking_number)
                          .join(SalesOrder, SalesOrder.id == Shipment.order_id).where(Shipment.id == shipment_id)).first()
    if row is None:
        return None
    has = session.scalar(select(func.count()).select_from(ShipmentLabel).where(
        ShipmentLabel.shipment_id == shipment_id, ShipmentLabel.format == label_format)) or 0
    return ShipmentState(row[0], row[1], row[2], row[3] or "", bool(has))


__all__ = ["ShipmentState", "WaveChoices", "WaveSummary", "shipment_state", "wave", "wave_choices", "waves"]
