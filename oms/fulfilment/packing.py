"""The packing bench's decisions as services: which totes wait, the box and its weight, how a packed box ships.

The packing screen and the benchmarks call the same functions: `totes_to_pack` lists what waits at the bench;
`default_box` and `estimated_weight_g` choose the box and weigh it when no scale is read; `pack_and_ship`
closes one order's boxes and takes the packing decision (a typed tracking number ships with a manual carrier;
otherwise a connected carrier is asked for a label, which confirms the shipment once printed; with no carrier,
the house delivers it and it is confirmed at once); `pack_and_ship_batch` does the same for many whole orders in
one go (single-unit orders off a batch cart, or orders a 3PL reports shipped), a few batched statements for all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Sequence

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.orm import Session

from oms import inventory
from oms.catalog.models import Product
from oms.core import audit, outbox
from oms.core.audit import Actor
from oms.core.errors import Conflict, InvalidInput, NotFound
from oms.core.i18n import _, ngettext
from oms.core.models import OutboxMessage
from oms.core.types import utcnow
from oms.fulfilment.floor import PackedBox, PackingView, PackResult, box_presets, complete_packing
from oms.fulfilment.models import Wave, WaveOrder, WaveStatus
from oms.integration import sync_store
from oms.orders import refresh_statuses
from oms.orders.models import Allocation, Channel, OrderLine, OrderStatus, OrderType, SalesOrder
from oms.shipping import shipments
from oms.shipping.models import Package, Shipment, ShipmentLine, ShipmentStatus

OWN_CARRIER = "Own"
MANUAL_CARRIER = "Manual"


# -- boxes and their weight --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BoxInfo:
    code: str
    name: str
    length_mm: int
    width_mm: int
    height_mm: int
    tare_g: int


def box_choices(session: Session) -> list[BoxInfo]:
    """The active box presets, smallest first, as plain data for the screen."""
    return [BoxInfo(b.code, b.name, b.length_mm, b.width_mm, b.height_mm, b.tare_g) for b in box_presets(session)]


def default_box(presets: Sequence[BoxInfo], view: PackingView | None) -> BoxInfo | None:
    """The box a packer starts with: a shipping carton for a wholesale order, a medium box otherwise."""
    if not presets:
        return None
    if view is not None and view.wholesale:
        return next((p for p in presets if p.code == "CTN"), presets[-1])
    return next((p for p in presets if p.code == "M"), presets[0])


def estimated_weight_g(view: PackingView | None, box: BoxInfo | None, items: dict[int, int]) -> int:
    """What a box weighs when no scale is read: its tare and each unit's catalogue weight (line id -> units)."""
    weights = {l.line_id: l.unit_weight_g for l in view.lines} if view is not None else {}
    return (box.tare_g if box else 0) + sum(weights.get(line_id, 0) * n for line_id, n in items.items())


def box_spec(box: BoxInfo | None, weight_g: int, sscc: str | None = None) -> shipments.PackageSpec:
    """The package a closed box becomes."""
    if box is None:
        return shipments.PackageSpec("", weight_g, sscc=sscc)
    return shipments.PackageSpec(box.code, weight_g, box.length_mm, box.width_mm, box.height_mm, sscc)


# -- what waits at the bench ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ToteToPack:
    tote: str
    order_id: int
    number: str
    wave_id: int
    wave_name: str
    units: int  # picked and not yet packed


def totes_to_pack(session: Session, location: int | str | None = None, *, wave_id: int | None = None,
                  limit: int = 500) -> list[ToteToPack]:
    """Orders of open or picked waves with picked units not yet packed, oldest wave first, tote by tote.

    Read from the orders in status Picking (an order with units picked and not packed is in it, unless held), so
    the question costs what is on the floor now, not the waves of the past year.
    """
    units = (select(func.sum(OrderLine.picked - OrderLine.packed)).where(OrderLine.order_id == SalesOrder.id)
             .scalar_subquery())
    q = (select(WaveOrder.tote, SalesOrder.id, SalesOrder.number, Wave.id, Wave.name, units)
         .select_from(SalesOrder)
         .join(WaveOrder, WaveOrder.order_id == SalesOrder.id)
         .join(Wave, Wave.id == WaveOrder.wave_id)
         .where(SalesOrder.status == OrderStatus.PICKING.value, SalesOrder.on_hold.is_(False),
                Wave.status.in_([WaveStatus.OPEN.value, WaveStatus.PICKED.value])))
    if wave_id is not None:
        q = q.where(Wave.id == wave_id)
    if location is not None:
        q = q.where(Wave.location_id == inventory.location_id(session, location))
    rows = [r for r in session.execute(q.order_by(Wave.id, WaveOrder.tote, SalesOrder.id)).all() if (r[5] or 0) > 0]
    rows = rows[:limit]
    return [ToteToPack(r[0], r[1], r[2], r[3], r[4], int(r[5])) for r in rows]


# -- the packing decision --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shipped:
    """How one packed shipment goes: "own" (confirmed now: a manual carrier's tracking number, or the house's own
    delivery) or "awaiting" (a carrier label asked for; confirmed when it has printed)."""

    order_id: int
    shipment_id: int
    mode: str
    carrier: str = ""


def _carrier(session: Session):
    carriers = sync_store.connectors(session, "carrier", enabled_only=True)
    return carriers[0] if carriers else None


def ship_packed(session: Session, actor: Actor, shipment_id: int, *, manual_tracking: str = "",
                label_format: str = "PDF") -> Shipped:
    """The packing decision for a packed shipment: a typed tracking number ships with a manual carrier now; otherwise
    the first connected carrier is asked for a label (in the printer's format); with none, the house delivers it."""
    order_id = shipments.order_of(session, shipment_id)
    manual_tracking = (manual_tracking or "").strip()
    if manual_tracking:
        shipments.confirm(session, actor, shipment_id, carrier=MANUAL_CARRIER, tracking_number=manual_tracking)
        return Shipped(order_id, shipment_id, "own", MANUAL_CARRIER)
    carrier = _carrier(session)
    if carrier is not None:
        shipments.request_label(session, actor, shipment_id, carrier.code, label_format=(label_format or "PDF").upper(),
                                carrier_name=carrier.name)
        return Shipped(order_id, shipment_id, "awaiting", carrier.name)
    shipments.confirm(session, actor, shipment_id, carrier=OWN_CARRIER, tracking_number=str(shipment_id))
    return Shipped(order_id, shipment_id, "own", OWN_CARRIER)


def pack_and_ship(session: Session, actor: Actor, order_id: int, boxes: Sequence[PackedBox], *, manual_tracking: str = "",
                  label_format: str = "PDF", company_prefix: str | None = None,
                  serial_start: int = 1) -> tuple[PackResult, Shipped]:
    """Close an order's boxes at the packing station (`complete_packing`) and ship them (`ship_packed`)."""
    result = complete_packing(session, actor, order_id, boxes, company_prefix=company_prefix, serial_start=serial_start)
    return result, ship_packed(session, actor, result.shipment_id, manual_tracking=manual_tracking, label_format=label_format)


# -- many orders in one go ---------------------------------------------------------------------------------------------


def pack_and_ship_batch(session: Session, actor: Actor, order_ids: Sequence[int], *, box: str | None = None,
                        label_format: str = "PDF", shipped_at: datetime | None = None) -> list[Shipped]:
    """Pack each whole order, everything picked for it in one box, and ship it by the packing decision; all or none.

    For orders whose units need no scan at the bench one by one: single-unit orders off a batch cart (the unit
    was scanned at the pick) and orders a 3PL reports shipped. An order must be wholly picked and not on hold; a
    wholesale order is packed carton by carton at the station (SSCCs). ``box`` is a preset code (default: the
    medium box); the weight is its tare and the units' catalogue weights. Written in a few batched statements for
    all the orders, with the same rows, ledger movements, outbox messages and audit events as `pack_and_ship`.
    """
    ids = list(dict.fromkeys(order_ids))
    if not ids:
        return []
    session.flush()
    now = shipped_at or utcnow()
    heads = {r.id: r for r in session.execute(
        select(SalesOrder.id, SalesOrder.number, SalesOrder.on_hold, SalesOrder.hold_reason, SalesOrder.order_type,
               SalesOrder.external_id, SalesOrder.currency, Channel.code.label("channel"))
        .join(Channel, Channel.id == SalesOrder.channel_id).where(SalesOrder.id.in_(ids)).with_for_update(of=SalesOrder))}
    for oid in ids:
        o = heads.get(oid)
        if o is None:
            raise NotFound(_("There is no order with id {id}.").format(id=oid))
        if o.on_hold:
            raise Conflict(_("Order {number} is on hold ({reason}); it cannot be packed.").format(number=o.number, reason=o.hold_reason))
        if o.order_type == OrderType.WHOLESALE.value:
            raise InvalidInput(_("Order {number} is wholesale: pack its cartons at the packing station, each with its SSCC.")
                               .format(number=o.number))
    lines: dict[int, list] = {oid: [] for oid in ids}
    for r in session.execute(
            select(OrderLine.id, OrderLine.order_id, OrderLine.product_id, OrderLine.sku, OrderLine.external_line_id,
                   OrderLine.unit_price_minor, OrderLine.quantity - OrderLine.shipped - OrderLine.cancelled,
                   OrderLine.picked - OrderLine.packed, func.coalesce(Product.weight_g, 0))
            .outerjoin(Product, Product.id == OrderLine.product_id)
            .where(OrderLine.order_id.in_(ids)).order_by(OrderLine.id)):
        lines[r[1]].append(r)
    allocs = {}
    for a in session.execute(select(Allocation.id, Allocation.order_line_id, Allocation.location_id, Allocation.quantity)
                             .where(Allocation.order_line_id.in_([l[0] for ls in lines.values() for l in ls]))):
        allocs.setdefault(a.order_line_id, []).append(a)
    presets = box_choices(session)
    chosen = next((p for p in presets if p.code == box), None) if box else default_box(presets, None)
    if box and chosen is None:
        raise InvalidInput(_("There is no box {code}.").format(code=box))
    plans = []  # (order id, location id, [(line row, units)], weight)
    for oid in ids:
        items = [(l, l[7]) for l in lines[oid] if l[7] > 0]
        if not items:
            raise Conflict(_("Nothing of order {n} is picked and waiting to be packed.").format(n=heads[oid].number))
        if any(l[6] > l[7] for l in lines[oid]):
            raise Conflict(_("Order {n} is not wholly picked: pack it at the packing station.").format(n=heads[oid].number))
        locs = {a.location_id for l, _q in items for a in allocs.get(l[0], [])}
        if len(locs) != 1:
            raise Conflict(_("The items come from more than one location; pack each location's items separately.")
                           if locs else _("These items are not reserved at any location."))
        lid = locs.pop()
        for l, q in items:
            here = next((a for a in allocs.get(l[0], []) if a.location_id == lid), None)
            if here is None or here.quantity < q:
                raise Conflict(_("Only {n} of {sku} are picked and not yet packed for order {number}.").format(
                    n=here.quantity if here else 0, sku=l[3], number=heads[oid].number))
        weight = (chosen.tare_g if chosen else 0) + sum(l[8] * q for l, q in items)
        plans.append((oid, lid, items, weight))

    carrier = _carrier(session)
    confirm_now = carrier is None
    conn = session.connection()
    status = ShipmentStatus.SHIPPED.value if confirm_now else ShipmentStatus.PACKED.value
    sids = list(session.scalars(insert(Shipment).returning(Shipment.id, sort_by_parameter_order=True), [
        {"order_id": oid, "location_id": lid, "status": status, "created_at": now,
         "carrier": OWN_CARRIER if confirm_now else "", "shipped_at": now if confirm_now else None}
        for oid, lid, _items, _w in plans]))
    if confirm_now:  # the house's own delivery: the shipment's number is its tracking number, as at the station
        st = Shipment.__table__
        conn.execute(update(st).where(st.c.id == bindparam("sid")).values(tracking_number=bindparam("tn")),
                     [{"sid": sid, "tn": str(sid)} for sid in sids])
    spec = box_spec(chosen, 0)
    pkg_ids = list(session.scalars(insert(Package).returning(Package.id, sort_by_parameter_order=True), [
        {"shipment_id": sid, "box": spec.box, "weight_g": w, "length_mm": spec.length_mm, "width_mm": spec.width_mm,
         "height_mm": spec.height_mm} for sid, (_oid, _lid, _items, w) in zip(sids, plans)]))
    conn.execute(insert(ShipmentLine.__table__), [
        {"shipment_id": sid, "package_id": pkg, "order_line_id": l[0], "quantity": q}
        for sid, pkg, (_oid, _lid, items, _w) in zip(sids, pkg_ids, plans) for l, q in items])
    lt = OrderLine.__table__
    if confirm_now:
        conn.execute(update(lt).where(lt.c.id == bindparam("lid")).values(
            allocated=lt.c.allocated - bindparam("q"), picked=lt.c.picked - bindparam("q"), shipped=lt.c.shipped + bindparam("q")),
            [{"lid": l[0], "q": q} for _oid, _lid, items, _w in plans for l, q in items])
        inventory.ship_many(session, actor, [(l[2], lid, q, f"shipment:{sid}")
                                             for sid, (_oid, lid, items, _w) in zip(sids, plans) for l, q in items])
        gone, less = [], []
        for _oid, lid, items, _w in plans:
            for l, q in items:
                a = next(a for a in allocs[l[0]] if a.location_id == lid)
                (gone if a.quantity == q else less).append({"aid": a.id, "q": q})
        at = Allocation.__table__
        if gone:
            conn.execute(delete(at).where(at.c.id.in_([g["aid"] for g in gone])))
        if less:
            conn.execute(update(at).where(at.c.id == bindparam("aid")).values(quantity=at.c.quantity - bindparam("q")), less)
    else:
        conn.execute(update(lt).where(lt.c.id == bindparam("lid"), lt.c.packed + bindparam("q") <= lt.c.picked)
                     .values(packed=lt.c.packed + bindparam("q")),
                     [{"lid": l[0], "q": q} for _oid, _lid, items, _w in plans for l, q in items])
    session.expire_all()  # the ORM's copies of these rows are behind the batched writes
    statuses = refresh_statuses(session, ids, shipped_at=now) if confirm_now else refresh_statuses(session, ids)

    audit_rows = []
    for sid, (oid, _lid, items, _w) in zip(sids, plans):
        units = sum(q for _l, q in items)
        audit_rows.append(_audit(actor, now, "shipment.packed", sid, oid,
                                 ngettext("Packed {units} unit", "Packed {units} units", units).format(units=units) + " "
                                 + ngettext("in {n} package", "in {n} packages", 1).format(n=1)))
        if confirm_now:
            audit_rows.append(_audit(actor, now, "shipment.shipped", sid, oid, ngettext(
                "Shipped {units} unit via {carrier} {tracking}", "Shipped {units} units via {carrier} {tracking}", units).format(
                units=units, carrier=OWN_CARRIER, tracking=str(sid)).strip(),
                after={"status": statuses[oid].value, "tracking_number": str(sid)}))
    audit.record_many(session, audit_rows)
    if not confirm_now:
        for sid in sids:
            shipments.request_label(session, actor, sid, carrier.code, label_format=(label_format or "PDF").upper(),
                                    carrier_name=carrier.name)
        return [Shipped(oid, sid, "awaiting", carrier.name) for sid, (oid, _l, _i, _w) in zip(sids, plans)]

    # The channel hears of each shipment and captures its payment, as shipments.confirm() tells it.
    earlier: dict[int, int] = {}
    for oid, payload in session.execute(select(OutboxMessage.order_id, OutboxMessage.payload).where(
            OutboxMessage.order_id.in_(ids), OutboxMessage.topic == "payment.capture")):
        earlier[oid] = earlier.get(oid, 0) + (payload or {}).get("amount_minor", 0)
    fulfil: dict[str, list] = {}
    capture: dict[str, list] = {}
    for sid, (oid, _lid, items, _w) in zip(sids, plans):
        o = heads[oid]
        lines_out = [{"external_line_id": l[4], "sku": l[3], "quantity": q, "unit_price_minor": l[5]} for l, q in items]
        fulfil.setdefault(o.channel, []).append((f"{o.channel}:fulfillment:{sid}", {
            "order_external_id": o.external_id, "shipment_id": sid, "lines": lines_out, "carrier": OWN_CARRIER, "service": "",
            "tracking_number": str(sid), "shipped_at": now.isoformat()}, oid))
        capture.setdefault(o.channel, []).append((f"{o.channel}:capture:{sid}", {
            "order_external_id": o.external_id, "currency": o.currency,
            "amount_minor": sum(q * l[5] for l, q in items), "captured_before_minor": earlier.get(oid, 0),
            "final": statuses[oid] in (OrderStatus.SHIPPED, OrderStatus.DELIVERED)}, oid))
    for channel, rows in fulfil.items():
        outbox.enqueue_many(session, channel, "fulfillment.create", rows)
    for channel, rows in capture.items():
        outbox.enqueue_many(session, channel, "payment.capture", rows)
    return [Shipped(oid, sid, "own", OWN_CARRIER) for sid, (oid, _l, _i, _w) in zip(sids, plans)]


def _audit(actor: Actor, at: datetime, action: str, shipment_id: int, order_id: int, summary: str, *, after=None) -> dict:
    return {"at": at, "user": actor.user[:64], "station": actor.station[:64], "action": action, "entity": "shipment",
            "entity_id": str(shipment_id), "order_id": order_id, "summary": summary[:300], "before": None, "after": after}


__all__ = ["BoxInfo", "OWN_CARRIER", "MANUAL_CARRIER", "Shipped", "ToteToPack", "box_choices", "box_spec", "default_box",
           "estimated_weight_g", "pack_and_ship", "pack_and_ship_batch", "ship_packed", "totes_to_pack"]
