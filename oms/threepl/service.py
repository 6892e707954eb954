"""A 3PL as a fulfilment location: what goes out to it and what its reports do to our orders and stock.

Orders are not sent by routing: a 3PL connection's pass asks ``queue_new_work`` which units are allocated at its
location and not yet sent, and each order's new units become one shipping order (a ``threepl_order`` row and an
outbox message, in one transaction). A backorder released later to the 3PL is a further shipping order of the same
order (``seq`` 2, 3, ...). The 3PL's reports come back through ``apply_shipment`` (ship confirm for what it shipped,
shorts back to routing), ``acknowledge`` and ``apply_snapshot`` (its stock, the truth for its location). Each is
idempotent: a report seen twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oms import inventory, orders, routing
from oms.catalog.models import Product
from oms.core import audit, outbox, validate
from oms.core.audit import Actor
from oms.core.errors import Conflict, InvalidInput, NotFound
from oms.core.i18n import _, ngettext
from oms.core.types import utcnow
from oms.inventory.models import Location, LocationKind, MovementKind, StockLevel, StockMovement
from oms.orders import lifecycle
from oms.orders.models import Allocation, OrderLine, OrderStatus, SalesOrder
from oms.shipping import shipments
from oms.shipping.models import Package

from .models import ThreePLOrder, ThreePLOrderLine, ThreePLShipment, ThreePLTransfer, ThreePLTransferLine

ORDER_TOPIC = "threepl.order"
OPEN = ("queued", "sent", "acknowledged")
SNAPSHOT_REASON = "3PL snapshot"


def threepl_location(session: Session, code: str) -> Location:
    """The location a 3PL connection serves; it must be a location of type 3PL."""
    loc = session.scalar(select(Location).where(Location.code == (code or "").strip().upper()))
    if loc is None:
        raise NotFound(_("There is no location {code}.").format(code=code))
    if loc.kind != LocationKind.THREE_PL.value:
        raise InvalidInput(_("Location {code} is a {kind}, not a 3PL; a 3PL connection serves a 3PL location.").format(
            code=loc.code, kind=loc.kind))
    return loc


def threepl_locations(session: Session) -> list[str]:
    """The codes of the active locations of type 3PL, by priority."""
    return list(session.scalars(select(Location.code).where(Location.kind == LocationKind.THREE_PL.value,
                                                            Location.active.is_(True))
                                .order_by(Location.priority, Location.code)))


def location_stock(session: Session, location: str) -> dict[str, int]:
    """On-hand units per SKU at a location, as our ledger has them (what a 3PL should hold, by our books)."""
    loc = threepl_location(session, location)
    return dict(session.execute(select(Product.sku, StockLevel.on_hand).join(Product, Product.id == StockLevel.product_id)
                                .where(StockLevel.location_id == loc.id, StockLevel.on_hand > 0)).all())


# -- out: shipping orders -----------------------------------------------------------------------------


def _outstanding(session: Session, line_ids: list[int], location_id: int) -> dict[int, int]:
    """Units of each line the 3PL holds for us: sent (or queued) and neither shipped nor reported short."""
    if not line_ids:
        return {}
    rows = session.execute(
        select(ThreePLOrderLine.order_line_id,
               func.sum(ThreePLOrderLine.quantity - ThreePLOrderLine.shipped - ThreePLOrderLine.shorted))
        .join(ThreePLOrder, ThreePLOrder.id == ThreePLOrderLine.transmission_id)
        .where(ThreePLOrderLine.order_line_id.in_(line_ids), ThreePLOrder.location_id == location_id,
               ThreePLOrder.status.not_in(("cancelled", "rejected")))
        .group_by(ThreePLOrderLine.order_line_id)).all()
    return {lid: int(n or 0) for lid, n in rows}


def queue_new_work(session: Session, actor: Actor, connection: str, location: str, *, limit: int = 500) -> list[int]:
    """Queue a shipping order for every order with units allocated at the 3PL's location and not yet sent.

    One transmission per order per call, with an outbox message to ``connection`` under an idempotency key made
    of its reference, in the caller's transaction. An order on hold waits. Returns the new transmissions' ids."""
    loc = threepl_location(session, location)
    rows = session.execute(
        select(Allocation.order_line_id, func.sum(Allocation.quantity), OrderLine.order_id, OrderLine.picked)
        .join(OrderLine, OrderLine.id == Allocation.order_line_id)
        .join(SalesOrder, SalesOrder.id == OrderLine.order_id)
        .where(Allocation.location_id == loc.id, SalesOrder.on_hold.is_(False),
               SalesOrder.status != OrderStatus.CANCELLED.value)
        .group_by(Allocation.order_line_id, OrderLine.order_id, OrderLine.picked)
        .order_by(OrderLine.order_id)).all()
    held = _outstanding(session, [r[0] for r in rows], loc.id)
    wanted: dict[int, dict[int, int]] = {}
    for line_id, allocated, order_id, picked in rows:
        # Units already picked (by hand, before the order was the 3PL's) are not the 3PL's to pick.
        new = int(allocated or 0) - min(int(picked or 0), int(allocated or 0)) - held.get(line_id, 0)
        if new > 0:
            wanted.setdefault(order_id, {})[line_id] = new
    created = []
    for order_id, lines in list(wanted.items())[:limit]:
        order = session.get(SalesOrder, order_id)
        seq = (session.scalar(select(func.max(ThreePLOrder.seq)).where(
            ThreePLOrder.order_id == order_id, ThreePLOrder.location_id == loc.id)) or 0) + 1
        reference = order.number if seq == 1 else f"{order.number}-{seq}"
        t = ThreePLOrder(connection=connection, location_id=loc.id, order_id=order_id, seq=seq, reference=reference,
                         status="queued", created_at=utcnow())
        session.add(t)
        session.flush()
        by_id = {l.id: l for l in order.lines}
        payload_lines = []
        for line_id, qty in sorted(lines.items()):
            session.add(ThreePLOrderLine(transmission_id=t.id, order_line_id=line_id, quantity=qty, shipped=0, shorted=0))
            payload_lines.append({"line_ref": str(line_id), "sku": by_id[line_id].sku, "quantity": qty,
                                  "description": by_id[line_id].description})
        payload = {
            "transmission_id": t.id, "order_id": order_id, "reference": reference, "order_number": order.number, "release": seq > 1,
            "service_level": order.service_level,
            "ship_to": {"name": order.ship_name, "company": order.ship_company, "address1": order.ship_address1,
                        "address2": order.ship_address2, "city": order.ship_city, "region": order.ship_region,
                        "postal_code": order.ship_postal_code, "country": order.ship_country, "phone": order.ship_phone,
                        "email": order.customer_email},
            "lines": payload_lines,
        }
        outbox.enqueue(session, connection, ORDER_TOPIC, f"{connection}:order:{reference}", payload, order_id=order_id)
        units = sum(lines.values())
        audit.record(session, actor, "threepl.queued", "order", order_id, order_id=order_id,
                     summary=ngettext("{n} unit queued for {loc} as {ref}", "{n} units queued for {loc} as {ref}", units).format(
                         n=units, loc=loc.code, ref=reference))
        created.append(t.id)
    session.flush()
    return created


def _transmission(session: Session, connection: str, reference: str) -> ThreePLOrder:
    t = session.scalar(select(ThreePLOrder).where(ThreePLOrder.connection == connection, ThreePLOrder.reference == reference))
    if t is None:
        raise NotFound(_("{c} reported on {ref}, which was never sent to it.").format(c=connection, ref=reference))
    return t


def mark_sent(session: Session, transmission_id: int, remote_id: str, *, acknowledged_at: datetime | None = None) -> None:
    """The 3PL took the shipping order under its own id (and may have acknowledged it at once)."""
    t = session.get(ThreePLOrder, transmission_id, with_for_update=True)
    if t is None:
        raise NotFound(_("There is no 3PL shipping order {id}.").format(id=transmission_id))
    t.remote_id = str(remote_id or "")[:64]
    if t.status == "queued":
        t.status = "sent"
        t.sent_at = utcnow()
    if acknowledged_at is not None:
        _ack(t, acknowledged_at)


def _ack(t: ThreePLOrder, at: datetime) -> None:
    if t.acknowledged_at is None:
        t.acknowledged_at = at
    if t.status in ("queued", "sent"):
        t.status = "acknowledged"
        t.sent_at = t.sent_at or at


def acknowledge(session: Session, connection: str, reference: str, *, remote_id: str = "", at: datetime | None = None) -> bool:
    """The 3PL acknowledged a shipping order. False when it was acknowledged before (nothing changed)."""
    t = _transmission(session, connection, reference)
    if t.acknowledged_at is not None:
        return False
    if remote_id and not t.remote_id:
        t.remote_id = str(remote_id)[:64]
    _ack(t, validate.aware(at, "acknowledged at") or utcnow())
    return True


def acknowledge_order(session: Session, connection: str, order_id: int, remote_id: str, *,
                      at: datetime | None = None) -> bool:
    """The 3PL acknowledged the shipping order it knows as ``remote_id`` (an X12 997 for our 940 #…)."""
    t = session.scalar(select(ThreePLOrder).where(ThreePLOrder.connection == connection, ThreePLOrder.order_id == order_id,
                                                  ThreePLOrder.remote_id == remote_id))
    if t is None or t.acknowledged_at is not None:
        return False
    _ack(t, at or utcnow())
    return True


def reject(session: Session, actor: Actor, connection: str, reference: str, reason: str) -> None:
    """The 3PL refused a shipping order for good: its units go back to routing, and a person is told by the
    caller (an exception). The order is held so it does not go straight back to the same 3PL."""
    t = _transmission(session, connection, reference)
    if t.status not in OPEN:
        return
    t.status, t.note, t.closed_at = "rejected", reason[:300], utcnow()
    orders.hold(session, actor, t.order_id, _("The 3PL refused it: {reason}").format(reason=reason)[:300])


def unacknowledged(session: Session, connection: str, before: datetime) -> list[tuple[int, str, str, datetime]]:
    """Shipping orders sent before ``before`` that the 3PL has not acknowledged and that are not flagged yet:
    [(transmission id, reference, order number, sent at)]."""
    rows = session.execute(
        select(ThreePLOrder.id, ThreePLOrder.reference, SalesOrder.number, ThreePLOrder.sent_at)
        .join(SalesOrder, SalesOrder.id == ThreePLOrder.order_id)
        .where(ThreePLOrder.connection == connection, ThreePLOrder.status == "sent", ThreePLOrder.flagged_at.is_(None),
               ThreePLOrder.sent_at < before)
        .order_by(ThreePLOrder.id)).all()
    return [tuple(r) for r in rows]


def mark_flagged(session: Session, transmission_ids: list[int]) -> None:
    for t in session.scalars(select(ThreePLOrder).where(ThreePLOrder.id.in_(transmission_ids))):
        t.flagged_at = utcnow()


# -- in: shipments -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Carton:
    sscc: str | None
    weight_g: int
    items: tuple[tuple[str, int], ...]  # (line_ref, quantity)


@dataclass(frozen=True)
class Short:
    line_ref: str
    quantity: int
    reason: str = ""


@dataclass(frozen=True)
class ShipmentAdvice:
    """What a 3PL reports it shipped for one shipping order (a 945, or a REST shipment)."""

    remote_id: str
    reference: str
    shipped_at: datetime | None
    carrier: str = ""
    service: str = ""
    tracking_number: str = ""
    cartons: tuple[Carton, ...] = ()
    shorts: tuple[Short, ...] = ()


@dataclass
class ShipmentApplied:
    duplicate: bool = False
    shipment_id: int | None = None
    shipped_units: int = 0
    short_units: int = 0
    rerouted: list[str] = field(default_factory=list)  # routing's words for the shorts


def apply_shipment(session: Session, actor: Actor, connection: str, advice: ShipmentAdvice) -> ShipmentApplied:
    """Apply one shipment report in the caller's transaction: the shipped units are picked, packed (one package per
    carton, with its SSCC) and ship confirmed at the 3PL's location, so the channel, payment and invoice hear of
    them as of any shipment; short units leave the 3PL's books and go back to routing.

    A report applied before (same remote id) changes nothing. A report that does not fit what we sent (unknown
    reference, a line we did not send, more than is outstanding) raises InvalidInput/NotFound and writes nothing:
    the caller quarantines it with that reason."""
    remote_id = validate.text(advice.remote_id, "3PL shipment id", 64, required=True)
    if session.scalar(select(ThreePLShipment.id).where(ThreePLShipment.connection == connection,
                                                       ThreePLShipment.remote_id == remote_id)) is not None:
        return ShipmentApplied(duplicate=True)
    t = _transmission(session, connection, advice.reference)
    if t.status in ("cancelled", "rejected"):
        raise Conflict(_("{c} reported shipment {s} for {ref}, which is {status}.").format(
            c=connection, s=remote_id, ref=advice.reference, status=t.status))
    lines = {str(l.order_line_id): l for l in t.lines}
    shipped: dict[str, int] = {}
    for carton in advice.cartons:
        for ref, qty in carton.items:
            shipped[ref] = shipped.get(ref, 0) + qty
    shorts: dict[str, int] = {}
    for s in advice.shorts:
        shorts[s.line_ref] = shorts.get(s.line_ref, 0) + s.quantity
    for ref, qty in [*shipped.items(), *shorts.items()]:
        if ref not in lines:
            raise InvalidInput(_("{c} reported line {line} on {ref}, which was not sent on it.").format(
                c=connection, line=ref, ref=advice.reference))
        if isinstance(qty, bool) or not isinstance(qty, int) or qty <= 0:
            raise InvalidInput(_("{c} reported {qty!r} units of line {line} on {ref}.").format(
                c=connection, qty=qty, line=ref, ref=advice.reference))
    for ref, l in lines.items():
        left = l.quantity - l.shipped - l.shorted
        if shipped.get(ref, 0) + shorts.get(ref, 0) > left:
            raise InvalidInput(_("{c} reported {n} units of line {line} on {ref}; only {left} were outstanding.").format(
                c=connection, n=shipped.get(ref, 0) + shorts.get(ref, 0), line=ref, ref=advice.reference, left=left))
    ssccs = [c.sscc for c in advice.cartons if c.sscc]
    if len(ssccs) != len(set(ssccs)):
        raise InvalidInput(_("{c} reported the same SSCC on two cartons of shipment {s}.").format(c=connection, s=remote_id))
    taken = session.scalar(select(Package.sscc).where(Package.sscc.in_(ssccs)).limit(1)) if ssccs else None
    if taken:
        raise InvalidInput(_("{c} reported carton SSCC {sscc} on shipment {s}; that SSCC is already on another of our "
                             "shipments.").format(c=connection, sscc=taken, s=remote_id))
    if not shipped and not shorts:
        raise InvalidInput(_("{c} reported shipment {s} for {ref} with nothing in it.").format(c=connection, s=remote_id, ref=advice.reference))
    result = ShipmentApplied()
    order = session.get(SalesOrder, t.order_id, with_for_update=True)
    if shipped:
        if order.on_hold:
            # The goods left the 3PL: the shipment wins over a hold put on since (the hold stays for a person).
            hold_reason = order.hold_reason
            order.on_hold = False
            session.flush()
        else:
            hold_reason = None
        for ref, qty in shipped.items():
            orders.record_pick(session, actor, int(ref), qty)
        packages = [shipments.PackageSpec(box="3PL", weight_g=max(0, int(c.weight_g or 0)), sscc=c.sscc or None)
                    for c in advice.cartons if c.items]
        items = [shipments.PackItem(int(ref), qty, k)
                 for k, c in enumerate([c for c in advice.cartons if c.items]) for ref, qty in c.items]
        sid = shipments.pack(session, actor, t.order_id, items, packages)
        shipments.confirm(session, actor, sid, carrier=advice.carrier[:64], service=advice.service[:64],
                          tracking_number=advice.tracking_number[:64], shipped_at=advice.shipped_at)
        if hold_reason is not None:
            session.refresh(order)
            order.on_hold, order.hold_reason = True, hold_reason
            orders.refresh_loaded_status(order)
        for ref, qty in shipped.items():
            lines[ref].shipped += qty
        result.shipment_id, result.shipped_units = sid, sum(shipped.values())
    if shorts:
        for ref, qty in shorts.items():
            line = session.get(OrderLine, int(ref))
            lifecycle._release_line(session, line, qty)
            line.backordered += qty
            lines[ref].shorted += qty
            # As for a short pick on our own floor (the bin is counted empty): the 3PL has none of it free, and our
            # books for its location say so too until its next snapshot, so routing looks elsewhere.
            session.flush()
            level = session.get(StockLevel, (line.product_id, t.location_id))
            session.refresh(level) if level is not None else None
            take = (level.on_hand - level.allocated) if level else 0
            if take > 0:
                inventory.adjust(session, actor, line.product_id, t.location_id, -take,
                                 _("3PL short-shipped {ref}").format(ref=advice.reference))
        result.short_units = sum(shorts.values())
        session.flush()
        orders.refresh_status(session, t.order_id)
        audit.record(session, actor, "threepl.short", "order", t.order_id, order_id=t.order_id,
                     summary=ngettext("{c} shipped {n} unit short on {ref}; it goes back to routing",
                                      "{c} shipped {n} units short on {ref}; they go back to routing", result.short_units).format(
                         c=connection, n=result.short_units, ref=advice.reference),
                     after={"shorts": [{"line": s.line_ref, "quantity": s.quantity, "reason": s.reason} for s in advice.shorts]})
        session.flush()
        if not session.get(SalesOrder, t.order_id).on_hold:
            r = routing.route_order(session, actor, t.order_id, reason=_("3PL short-shipped {ref}").format(ref=advice.reference))
            result.rerouted.append(r.explanation)
    if all(l.shipped + l.shorted >= l.quantity for l in t.lines):
        t.status = "shipped" if any(l.shipped for l in t.lines) else "closed"
        t.closed_at = utcnow()
    if t.acknowledged_at is None:  # a shipment says it was received, whatever became of the acknowledgement
        t.acknowledged_at = advice.shipped_at or utcnow()
    session.add(ThreePLShipment(connection=connection, remote_id=remote_id, transmission_id=t.id,
                                shipment_id=result.shipment_id, received_at=utcnow()))
    session.flush()
    return result


# -- in: stock ----------------------------------------------------------------------------------------


@dataclass
class SnapshotApplied:
    adjusted: int = 0  # SKUs whose on-hand changed
    unchanged: int = 0
    stale: list[str] = field(default_factory=list)  # SKUs with movements newer than the snapshot: not applied
    unknown: list[str] = field(default_factory=list)  # SKUs we do not sell
    arrived: list[int] = field(default_factory=list)  # products that rose (backorders may be released)


def apply_snapshot(session: Session, actor: Actor, location: str, items: list[tuple[str, int]], as_of: datetime, *,
                   own_user: str | None = None) -> SnapshotApplied:
    """The 3PL's stock for its location as of ``as_of``: the truth there. Each difference from our ledger becomes
    an adjustment with the reason "3PL snapshot". A SKU with a movement of ours newer than the snapshot is left
    alone (the snapshot cannot know of it; the next one will); movements the 3PL itself reported (made by
    ``own_user``) are in its snapshot and do not count. The 3PL reporting fewer units than are reserved there for
    orders sent to it takes on-hand down to the reserved units, and says so."""
    as_of = validate.aware(as_of, "snapshot time")
    loc = threepl_location(session, location)
    out = SnapshotApplied()
    skus = {sku for sku, _n in items}
    pids = dict(session.execute(select(Product.sku, Product.id).where(Product.sku.in_(skus))).all()) if skus else {}
    for sku, theirs in items:
        if isinstance(theirs, bool) or not isinstance(theirs, int) or theirs < 0:
            raise InvalidInput(_("The 3PL reported {qty!r} units of {sku}; a stock level is a whole number of 0 or more.").format(
                qty=theirs, sku=sku))
        pid = pids.get(sku)
        if pid is None:
            out.unknown.append(sku)
            continue
        newest = select(func.max(StockMovement.created_at)).where(
            StockMovement.product_id == pid, StockMovement.location_id == loc.id)
        if own_user:
            newest = newest.where(StockMovement.user != own_user)
        last = session.scalar(newest)
        if last is not None and last > as_of:
            out.stale.append(sku)
            continue
        level = session.get(StockLevel, (pid, loc.id))
        ours, allocated = (level.on_hand, level.allocated) if level else (0, 0)
        if theirs < allocated:
            # Fewer than our orders hold there: shipments it made are not in yet (they take the units off, and the
            # snapshot after them applies). Units it really lost come back as its shorts, which go to routing.
            out.stale.append(sku)
            continue
        target = theirs
        if target == ours:
            out.unchanged += 1
            continue
        change = inventory.adjust(session, actor, pid, loc.id, target - ours, SNAPSHOT_REASON)
        out.adjusted += 1
        if change.arrived:
            out.arrived.append(pid)
    if out.arrived:
        routing.release_backorders(session, actor, out.arrived)
    return out


@dataclass
class AdjustmentsApplied:
    adjusted: int = 0
    unknown: list[str] = field(default_factory=list)  # SKUs we do not sell


def apply_adjustments(session: Session, actor: Actor, location: str, items: list[tuple[str, int, str]],
                      reference: str) -> AdjustmentsApplied:
    """The 3PL's own adjustments (a 947): each (SKU, signed units, its reason) becomes an adjustment at its location,
    with the reason "3PL adjustment <reference>: <reason>". Units found release backorders. A write-off of units
    reserved for orders sent to it is refused (InsufficientStock says which), and nothing of the document is kept."""
    loc = threepl_location(session, location)
    out = AdjustmentsApplied()
    arrived = []
    for sku, delta, reason in items:
        if isinstance(delta, bool) or not isinstance(delta, int):
            raise InvalidInput(_("The 3PL adjusted {sku} by {qty!r}; an adjustment is a whole number.").format(sku=sku, qty=delta))
        pid = session.scalar(select(Product.id).where(Product.sku == sku))
        if pid is None:
            out.unknown.append(sku)
            continue
        if delta == 0:
            continue
        words = _("3PL adjustment {ref}: {reason}").format(ref=reference, reason=reason or _("no reason given"))
        change = inventory.adjust(session, actor, pid, loc.id, delta, words[:300])
        out.adjusted += 1
        if change.arrived:
            arrived.append(pid)
    if arrived:
        routing.release_backorders(session, actor, arrived)
    return out


# -- stock sent to the 3PL ------------------------------------------------------------------------------

TRANSFER_TOPIC = "threepl.transfer"


def send_transfer(session: Session, actor: Actor, connection: str, location: str, from_location: str,
                  items: list[tuple[str, int, str | None]]) -> int:
    """Send stock from one of our locations to the 3PL's: each (SKU, units, bin or None) leaves the source now and
    is in transit (on no shelf, promised to nobody) until the 3PL's receipt advice (``receive_transfer``). A 943
    (or the 3PL's own request) goes out through the outbox to ``connection``. Returns the transfer's id."""
    loc = threepl_location(session, location)
    src = session.scalar(select(Location).where(Location.code == (from_location or "").strip().upper()))
    if src is None:
        raise NotFound(_("There is no location {code}.").format(code=from_location))
    if src.id == loc.id:
        raise InvalidInput(_("Stock for the 3PL comes from another location than {code}.").format(code=loc.code))
    if not items:
        raise InvalidInput(_("Name at least one SKU to send to the 3PL."))
    wanted: dict[int, int] = {}
    skus: dict[int, str] = {}
    for sku, qty, _bin in items:
        validate.quantity(qty)
        pid = session.scalar(select(Product.id).where(Product.sku == sku))
        if pid is None:
            raise NotFound(_("There is no product {sku}.").format(sku=sku))
        wanted[pid] = wanted.get(pid, 0) + qty
        skus[pid] = sku
    n = (session.scalar(select(func.count()).select_from(ThreePLTransfer).where(ThreePLTransfer.connection == connection)) or 0) + 1
    reference = f"T{loc.code}-{n:05d}"[:64]
    t = ThreePLTransfer(connection=connection, reference=reference, from_location_id=src.id, location_id=loc.id,
                        status="in_transit", created_at=utcnow())
    session.add(t)
    session.flush()
    for sku, qty, bin_ref in items:
        inventory.adjust(session, actor, sku, src.id, -qty, _("in transit to {loc} ({ref})").format(loc=loc.code, ref=reference),
                         bin=bin_ref)
    for pid, qty in wanted.items():
        session.add(ThreePLTransferLine(transfer_id=t.id, product_id=pid, quantity=qty, received=0))
    outbox.enqueue(session, connection, TRANSFER_TOPIC, f"{connection}:transfer:{reference}", {
        "transfer_id": t.id, "reference": reference, "ship_from": {"code": src.code, "name": src.name, "city": src.city,
                                                                   "region": src.region, "postal_code": src.postal_code},
        "lines": [{"sku": skus[pid], "quantity": qty} for pid, qty in wanted.items()]})
    audit.record(session, actor, "threepl.transfer", "location", loc.id,
                 summary=_("{n} units sent from {src} to {loc} as {ref}, in transit").format(
                     n=sum(wanted.values()), src=src.code, loc=loc.code, ref=reference))
    session.flush()
    return t.id


def in_transit(session: Session, location: str) -> dict[str, int]:
    """Units on their way to a 3PL's location, by SKU: sent, not yet confirmed received."""
    loc = threepl_location(session, location)
    rows = session.execute(select(Product.sku, func.sum(ThreePLTransferLine.quantity))
                           .join(ThreePLTransfer, ThreePLTransfer.id == ThreePLTransferLine.transfer_id)
                           .join(Product, Product.id == ThreePLTransferLine.product_id)
                           .where(ThreePLTransfer.location_id == loc.id, ThreePLTransfer.status == "in_transit")
                           .group_by(Product.sku)).all()
    return {sku: int(n) for sku, n in rows}


@dataclass
class TransferReceived:
    received: int = 0
    differences: list[str] = field(default_factory=list)  # in words: "MUG-RED: 10 sent, 8 received"


def receive_transfer(session: Session, actor: Actor, connection: str, reference: str,
                     items: list[tuple[str, int]]) -> TransferReceived:
    """The 3PL's receipt advice (944) for a transfer: what arrived goes on its shelf (orders waiting for it are
    routed), the transfer leaves transit; a difference from what was sent is said in words for a person. A receipt
    for a transfer already received changes nothing."""
    t = session.scalar(select(ThreePLTransfer).where(ThreePLTransfer.connection == connection,
                                                     ThreePLTransfer.reference == reference))
    if t is None:
        raise NotFound(_("{c} confirmed receipt of {ref}, which was never sent to it.").format(c=connection, ref=reference))
    out = TransferReceived()
    if t.status == "received":
        return out
    by_pid = {l.product_id: l for l in t.lines}
    got: dict[int, int] = {}
    for sku, qty in items:
        validate.quantity(qty, allow_zero=True)
        pid = session.scalar(select(Product.id).where(Product.sku == sku))
        if pid is None:
            raise InvalidInput(_("{c} received {sku} on {ref}; we do not sell it.").format(c=connection, sku=sku, ref=reference))
        got[pid] = got.get(pid, 0) + qty
    arrived = []
    for pid, qty in got.items():
        if qty:
            inventory.receive(session, actor, pid, t.location_id, qty, kind=MovementKind.TRANSFER, reference=reference,
                              reason=_("received by the 3PL ({ref})").format(ref=reference))
            arrived.append(pid)
        line = by_pid.get(pid)
        if line is not None:
            line.received += qty
        out.received += qty
    for pid in set(by_pid) | set(got):
        sent = by_pid[pid].quantity if pid in by_pid else 0
        if got.get(pid, 0) != sent:
            sku = session.scalar(select(Product.sku).where(Product.id == pid))
            out.differences.append(_("{sku}: {sent} sent, {got} received").format(sku=sku, sent=sent, got=got.get(pid, 0)))
    t.status, t.received_at = "received", utcnow()
    audit.record(session, actor, "threepl.transfer_received", "location", t.location_id,
                 summary=_("{ref} received by the 3PL: {n} units").format(ref=reference, n=out.received)
                 + ("; " + "; ".join(out.differences) if out.differences else ""))
    if arrived:
        routing.release_backorders(session, actor, arrived)
    session.flush()
    return out


# -- what a person sees ----------------------------------------------------------------------------------


def _status_words(status: str) -> str:
    return {"sent": _("not acknowledged yet"), "acknowledged": _("acknowledged"), "cancelled": _("cancelled"),
            "rejected": _("rejected")}.get(status, status)


def order_standing(session: Session, order_id: int) -> str:
    """Where an order stands with a 3PL, in words, from its latest shipping order: "sent to 3PL (#123,
    acknowledged)"; empty when it was never sent to one."""
    t = session.scalar(select(ThreePLOrder).where(ThreePLOrder.order_id == order_id)
                       .order_by(ThreePLOrder.id.desc()).limit(1))
    if t is None:
        return ""
    return standing_text(t.status, t.remote_id)


def standing_text(status: str, remote_id: str) -> str:
    state = _status_words(status)
    if status == "queued":
        return _("waiting to go to the 3PL")
    if status in ("shipped", "closed"):
        if not remote_id:
            return _("shipped by the 3PL")
        return _("shipped by the 3PL ({id})").format(id=f"#{remote_id}" if remote_id.isdigit() else remote_id)
    if not remote_id:
        return _("sent to 3PL ({state})").format(state=state)
    # The 3PL's own order number (#123), or the document it was sent in ("940 #123")
    shown = f"#{remote_id}" if remote_id.isdigit() else remote_id
    return _("sent to 3PL ({id}, {state})").format(id=shown, state=state)


def standings(session: Session, order_ids: list[int]) -> dict[int, str]:
    """``order_standing`` for many orders at once (the queue's page)."""
    if not order_ids:
        return {}
    latest = (select(func.max(ThreePLOrder.id)).where(ThreePLOrder.order_id.in_(order_ids))
              .group_by(ThreePLOrder.order_id)).scalar_subquery()
    rows = session.execute(select(ThreePLOrder.order_id, ThreePLOrder.status, ThreePLOrder.remote_id)
                           .where(ThreePLOrder.id.in_(latest))).all()
    return {oid: standing_text(st, rid) for oid, st, rid in rows}


def shipment_of(session: Session, connection: str, remote_id: str) -> int | None:
    """Our shipment for a 3PL's shipment id, when it was applied and shipped something."""
    return session.scalar(select(ThreePLShipment.shipment_id).where(ThreePLShipment.connection == connection,
                                                                   ThreePLShipment.remote_id == remote_id))

