"""Shipments: packing picked units into packages, ship confirm, void, tracking and delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from oms import inventory, invoicing, orders
from oms.core import audit, outbox, validate, wording
from oms.core.audit import Actor
from oms.core.errors import Conflict, InvalidInput, NotFound
from oms.core.i18n import _, ngettext
from oms.core.models import OutboxMessage
from oms.core.types import SHORT, utcnow
from oms.orders.models import Allocation, Channel, OrderLine, OrderStatus, OrderType, SalesOrder
from oms.shipping.models import Package, Shipment, ShipmentLine, ShipmentStatus, TrackingEvent


@dataclass(frozen=True)
class PackageSpec:
    box: str = ""
    weight_g: int = 0
    length_mm: int = 0
    width_mm: int = 0
    height_mm: int = 0
    sscc: str | None = None


@dataclass(frozen=True)
class PackItem:
    line_id: int
    quantity: int
    package: int = 0  # index into the packages list


# What ship confirm publishes for the connections that take shipments (outbox.publish): the ERP hand-off.
SHIPMENT_TOPIC = "shipment.confirmed"

TRACKING_STATUSES = ("pre_transit", "in_transit", "out_for_delivery", "delivered", "return_to_sender", "failure", "unknown")


def pack(
    session: Session,
    actor: Actor,
    order_id: int,
    items: list[PackItem],
    packages: list[PackageSpec] | None = None,
) -> int:
    """Put picked units into packages: a shipment in status 'packed' awaiting ship confirm."""
    packages = packages or [PackageSpec()]
    if not items:
        raise InvalidInput(_("Nothing was scanned into the box."))
    order = session.get(SalesOrder, order_id, with_for_update=True)
    if order is None:
        raise NotFound(_("There is no order with id {id}.").format(id=order_id))
    if order.on_hold:
        raise Conflict(_("Order {number} is on hold ({reason}); it cannot be packed.").format(number=order.number, reason=order.hold_reason))
    lines = {l.id: l for l in order.lines}
    for item in items:
        validate.quantity(item.quantity)
        if item.line_id not in lines:
            raise InvalidInput(_("Line {id} is not part of order {number}.").format(id=item.line_id, number=order.number))
        if not 0 <= item.package < len(packages):
            raise InvalidInput(_("Package {n} does not exist.").format(n=item.package + 1))
    locations = set(session.scalars(select(Allocation.location_id).where(
        Allocation.order_line_id.in_({i.line_id for i in items}))).all())
    if len(locations) != 1:
        raise Conflict(_("The items come from more than one location; pack each location's items separately.")
                       if locations else _("These items are not reserved at any location."))
    for spec in packages:
        validate.quantity(spec.weight_g, "weight in grams", allow_zero=True)
        validate.text(spec.box, "box", SHORT)
    shipment = Shipment(order_id=order_id, location_id=locations.pop(), status=ShipmentStatus.PACKED.value, created_at=utcnow())
    session.add(shipment)
    session.flush()
    pkg_rows = []
    for spec in packages:
        pkg = Package(shipment_id=shipment.id, box=spec.box, weight_g=spec.weight_g, length_mm=spec.length_mm,
                      width_mm=spec.width_mm, height_mm=spec.height_mm, sscc=spec.sscc)
        session.add(pkg)
        pkg_rows.append(pkg)
    session.flush()
    for item in items:
        line = lines[item.line_id]
        if line.packed + item.quantity > line.picked:
            raise Conflict(_("Only {n} of {sku} are picked and not yet packed for order {number}.").format(
                n=line.picked - line.packed, sku=line.sku, number=order.number))
        line.packed += item.quantity
    session.connection().execute(insert(ShipmentLine.__table__), [
        {"shipment_id": shipment.id, "package_id": pkg_rows[i.package].id, "order_line_id": i.line_id, "quantity": i.quantity}
        for i in items])
    orders.refresh_loaded_status(order)
    session.flush()
    units = sum(i.quantity for i in items)
    audit.record(session, actor, "shipment.packed", "shipment", shipment.id, order_id=order_id,
                 summary=ngettext("Packed {units} unit", "Packed {units} units", units).format(units=units) + " "
                 + ngettext("in {n} package", "in {n} packages", len(packages)).format(n=len(packages)))
    return shipment.id


def _shipment(session: Session, shipment_id: int) -> Shipment:
    s = session.get(Shipment, shipment_id, with_for_update=True)
    if s is None:
        raise NotFound(_("There is no shipment {id}.").format(id=shipment_id))
    return s


def confirm(
    session: Session,
    actor: Actor,
    shipment_id: int,
    *,
    carrier: str = "",
    service: str = "",
    tracking_number: str = "",
    shipped_at: datetime | None = None,
) -> None:
    """Ship confirm: units leave stock through the ledger, the channel and payment hear of it."""
    carrier = validate.text(carrier, "carrier", SHORT)
    service = validate.text(service, "service", SHORT)
    tracking_number = validate.text(tracking_number, "tracking number", SHORT)
    shipped_at = validate.aware(shipped_at, "ship date") or utcnow()
    shipment = _shipment(session, shipment_id)
    if shipment.status != ShipmentStatus.PACKED.value:
        raise Conflict(_("Shipment {id} is {status}; only a packed shipment can be confirmed.").format(id=shipment_id, status=shipment.status))
    order = session.get(SalesOrder, shipment.order_id, with_for_update=True)
    lid = shipment.location_id
    ref = f"shipment:{shipment.id}"
    lines_out = []
    shipped_lines: list[invoicing.ShippedLine] = []
    order_lines = {l.id: l for l in order.lines}
    allocs = {a.order_line_id: a for a in session.scalars(select(Allocation).where(
        Allocation.order_line_id.in_([sl.order_line_id for sl in shipment.lines]), Allocation.location_id == lid))}
    for sl in shipment.lines:
        line = order_lines[sl.order_line_id]
        inventory.ship(session, actor, line.product_id, lid, sl.quantity, reference=ref)
        alloc = allocs[line.id]
        alloc.quantity -= sl.quantity
        if alloc.quantity == 0:
            session.delete(alloc)
        line.allocated -= sl.quantity
        line.picked -= sl.quantity
        line.packed -= sl.quantity
        line.shipped += sl.quantity
        lines_out.append({"external_line_id": line.external_line_id, "sku": line.sku, "quantity": sl.quantity,
                          "unit_price_minor": line.unit_price_minor})
        shipped_lines.append(invoicing.ShippedLine(line.id, sl.quantity))
    shipment.status = ShipmentStatus.SHIPPED.value
    shipment.carrier, shipment.service, shipment.tracking_number = carrier, service, tracking_number
    shipment.shipped_at = shipped_at
    order.shipped_at = shipped_at
    status = orders.refresh_loaded_status(order)
    session.flush()
    audit.record(session, actor, "shipment.shipped", "shipment", shipment.id, order_id=order.id,
                 summary=ngettext("Shipped {units} unit via {carrier} {tracking}", "Shipped {units} units via {carrier} {tracking}",
                                  sum(l["quantity"] for l in lines_out)).format(
                     units=sum(l["quantity"] for l in lines_out), carrier=carrier or _("own carrier"), tracking=tracking_number).strip(),
                 after={"status": status.value, "tracking_number": tracking_number})
    channel = session.scalar(select(Channel.code).where(Channel.id == order.channel_id))
    base = {"order_external_id": order.external_id, "shipment_id": shipment.id, "lines": lines_out,
            "carrier": carrier, "service": service, "tracking_number": tracking_number, "shipped_at": shipped_at.isoformat()}
    outbox.enqueue(session, channel, "fulfillment.create", f"{channel}:fulfillment:{shipment.id}", base, order_id=order.id)
    amount = sum(l["quantity"] * l["unit_price_minor"] for l in lines_out)
    # Every shipment is invoiced as it leaves, whatever its channel; a partner's 810 carries the same number.
    number = invoicing.invoice_shipment(session, actor, order, shipment.id, shipped_lines, issued_at=shipped_at)
    if order.order_type == OrderType.WHOLESALE.value:
        outbox.enqueue(session, channel, "invoice.create", f"{channel}:invoice:{shipment.id}",
                      {**base, "currency": order.currency, "amount_minor": amount, "invoice_number": number},
                      order_id=order.id)
        outbox.enqueue(session, channel, "asn.create", f"{channel}:asn:{shipment.id}", asn_data(session, shipment, order),
                      order_id=order.id)
    else:
        earlier = session.scalars(select(OutboxMessage.payload).where(
            OutboxMessage.order_id == order.id, OutboxMessage.topic == "payment.capture")).all()
        outbox.enqueue(session, channel, "payment.capture", f"{channel}:capture:{shipment.id}",
                      {"order_external_id": order.external_id, "currency": order.currency, "amount_minor": amount,
                       "captured_before_minor": sum(p.get("amount_minor", 0) for p in earlier),
                       "final": status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED)}, order_id=order.id)
    # The ERP hand-off hears of the shipment (and, through invoicing, of its invoice).
    outbox.publish(session, SHIPMENT_TOPIC, f"shipment:{shipment.id}",
                   {"type": "shipment", **base, "order_number": order.number, "channel": channel,
                    "invoice_number": number, "currency": order.currency}, order_id=order.id)


def asn_data(session: Session, shipment: Shipment, order: SalesOrder) -> dict:
    """Shipment -> order -> pallet (tare) -> carton (pack, with SSCC) -> items: what an 856 describes."""
    from oms.inventory.models import Location
    from oms.shipping.models import Pallet

    lines = {l.id: l for l in order.lines}
    cartons = []
    for pkg in shipment.packages:
        items = [{"external_line_id": lines[sl.order_line_id].external_line_id, "sku": lines[sl.order_line_id].sku,
                  "quantity": sl.quantity} for sl in shipment.lines if sl.package_id == pkg.id]
        cartons.append({"package_id": pkg.id, "sscc": pkg.sscc, "pallet_id": pkg.pallet_id, "weight_g": pkg.weight_g,
                        "items": items})
    pallets = [{"pallet_id": p.id, "sscc": p.sscc, "weight_g": p.weight_g}
               for p in session.scalars(select(Pallet).where(Pallet.shipment_id == shipment.id).order_by(Pallet.id))]
    loc = session.get(Location, shipment.location_id)
    return {
        "shipment_id": shipment.id, "order_external_id": order.external_id, "po_number": order.number,
        "ship_from": {"code": loc.code, "name": loc.name, "city": loc.city, "region": loc.region, "postal_code": loc.postal_code},
        "ship_to": {k: getattr(order, f"ship_{k}") for k in ("name", "company", "address1", "city", "region", "postal_code", "country")},
        "carrier": shipment.carrier, "service": shipment.service, "tracking_number": shipment.tracking_number,
        "shipped_at": shipment.shipped_at.isoformat() if shipment.shipped_at else None,
        "weight_g": sum(c["weight_g"] for c in cartons), "pallets": pallets, "cartons": cartons,
        "line_count": len({i["external_line_id"] for c in cartons for i in c["items"]}),
    }


def void(session: Session, actor: Actor, shipment_id: int, *, reason: str) -> None:
    """Undo a shipment before the carrier has it: units go back to picked (packed) or to stock (shipped)."""
    reason = validate.text(reason, "reason", 300, required=True)
    shipment = _shipment(session, shipment_id)
    if shipment.status == ShipmentStatus.VOIDED.value:
        raise Conflict(_("Shipment {id} is already void.").format(id=shipment_id))
    if session.scalar(select(TrackingEvent.id).where(TrackingEvent.shipment_id == shipment.id,
                                                     TrackingEvent.status != "pre_transit").limit(1)):
        raise Conflict(_("Shipment {id} is already with the carrier; it cannot be voided.").format(id=shipment_id))
    order = session.get(SalesOrder, shipment.order_id, with_for_update=True)
    was_shipped = shipment.status == ShipmentStatus.SHIPPED.value
    for sl in shipment.lines:
        line = session.get(OrderLine, sl.order_line_id)
        if was_shipped:
            inventory.unship(session, actor, line.product_id, shipment.location_id, sl.quantity, reference=f"shipment:{shipment.id}")
            alloc = session.scalar(select(Allocation).where(Allocation.order_line_id == line.id,
                                                            Allocation.location_id == shipment.location_id))
            if alloc:
                alloc.quantity += sl.quantity
            else:
                session.add(Allocation(order_line_id=line.id, location_id=shipment.location_id,
                                       product_id=line.product_id, quantity=sl.quantity))
            line.shipped -= sl.quantity
            line.allocated += sl.quantity
            line.picked += sl.quantity
        else:
            line.packed -= sl.quantity
    if was_shipped:
        # What was invoiced for the shipment is given back: the invoice stays, a credit note answers it.
        invoicing.credit_shipment(session, actor, shipment.id, reason=_("Shipment voided: {reason}").format(reason=reason)[:300])
        channel = session.scalar(select(Channel.code).where(Channel.id == order.channel_id))
        outbox.enqueue(session, channel, "fulfillment.cancel", f"{channel}:fulfillment-cancel:{shipment.id}",
                      {"order_external_id": order.external_id, "shipment_id": shipment.id,
                       "tracking_number": shipment.tracking_number}, order_id=order.id)
    if shipment.carrier_account and shipment.carrier_ref:  # a bought label is refunded, printed or not
        outbox.enqueue(session, shipment.carrier_account, "label.refund", f"{shipment.carrier_account}:refund:{shipment.id}",
                      {"shipment_id": shipment.id, "carrier_ref": shipment.carrier_ref}, order_id=order.id)
    shipment.status = ShipmentStatus.VOIDED.value
    shipment.voided_at = utcnow()
    if not any(s.status == ShipmentStatus.SHIPPED.value for s in session.scalars(select(Shipment).where(Shipment.order_id == order.id))):
        order.shipped_at = None
    session.flush()
    orders.refresh_status(session, order.id)
    audit.record(session, actor, "shipment.voided", "shipment", shipment.id, order_id=order.id,
                 summary=_("Shipment voided: {reason}").format(reason=reason))


def add_tracking_event(
    session: Session, actor: Actor, shipment_id: int, status: str, occurred_at: datetime, *, description: str = "", city: str = ""
) -> bool:
    """Record a carrier's tracking event once; 'delivered' on every shipment delivers the order."""
    if status not in TRACKING_STATUSES:
        raise InvalidInput(_("{status!r} is not a tracking status.").format(status=status))
    validate.aware(occurred_at, "tracking time", required=True)
    shipment = _shipment(session, shipment_id)
    exists = session.scalar(select(TrackingEvent.id).where(
        TrackingEvent.shipment_id == shipment_id, TrackingEvent.status == status, TrackingEvent.occurred_at == occurred_at))
    if exists:
        return False
    session.add(TrackingEvent(shipment_id=shipment_id, status=status, occurred_at=occurred_at,
                              description=validate.text(description, "description", 300), city=validate.text(city, "city", 200)))
    session.flush()
    order = session.get(SalesOrder, shipment.order_id, with_for_update=True)
    if status == "delivered":
        shipped = session.scalars(select(Shipment.id).where(Shipment.order_id == order.id, Shipment.status == ShipmentStatus.SHIPPED.value)).all()
        delivered = set(session.scalars(select(TrackingEvent.shipment_id).where(
            TrackingEvent.shipment_id.in_(shipped), TrackingEvent.status == "delivered")).all())
        if set(shipped) <= delivered and order.delivered_at is None:
            order.delivered_at = occurred_at
            session.flush()
            orders.refresh_status(session, order.id)
    audit.record(session, actor, f"tracking.{status}", "shipment", shipment_id, order_id=order.id,
                 summary=(_("Tracking: {status}").format(status=status.replace("_", " ")) + (f" — {description}" if description else ""))[:300])
    return True


# -- carrier labels ----------------------------------------------------------------------------

LABEL_POLICIES = ("cheapest", "fastest", "cheapest_on_time")


LABEL_FORMATS = ("PDF", "ZPL", "PNG")


def order_of(session: Session, shipment_id: int) -> int:
    """The id of the order a shipment belongs to."""
    return _shipment(session, shipment_id).order_id


def label_key(carrier_account: str, shipment_id: int) -> str:
    """The label purchase's outbox idempotency key: one purchase per shipment and carrier account."""
    return f"{carrier_account}:label:{shipment_id}"


def request_label(session: Session, actor: Actor, shipment_id: int, carrier_account: str, *,
                  policy: str = "cheapest_on_time", label_format: str = "PDF", carrier_name: str = "") -> None:
    """Ask the carrier connector for a label (through the outbox, so it waits while offline).

    ``label_format`` is what the station's label printer takes (ZPL for a thermal printer, PDF
    for any other): the carrier is asked for that format, so the label prints as it comes.
    The shipment stays packed ("awaiting label") until the label is bought and has gone to
    the printer (label_printed).
    """
    from oms.inventory.models import Location
    from oms.orders.models import SalesOrder as Order

    label_format = (label_format or "").upper()
    if label_format not in LABEL_FORMATS:
        raise InvalidInput(_("A label is printed as ZPL or PDF, not {f!r}.").format(f=label_format))
    if policy not in LABEL_POLICIES:
        raise InvalidInput(_("A rate is chosen as {policies}, not {p!r}.").format(policies=", ".join(LABEL_POLICIES), p=policy))
    shipment = _shipment(session, shipment_id)
    if shipment.status != ShipmentStatus.PACKED.value:
        raise Conflict(_("Shipment {id} is {status}; labels are bought for packed shipments.").format(id=shipment_id, status=shipment.status))
    order = session.get(Order, shipment.order_id)
    loc = session.get(Location, shipment.location_id)
    promise_days = None
    if order.deliver_by:
        promise_days = max(0, (order.deliver_by - utcnow()).days)
    payload = {
        "shipment_id": shipment.id, "reference": order.number, "policy": policy, "promise_days": promise_days,
        "label_format": label_format, "service_level": order.service_level, "station": actor.station,
        "ship_from": {"name": loc.name, "company": "", "street1": loc.address1, "street2": "", "city": loc.city,
                      "state": loc.region, "zip": loc.postal_code, "country": loc.country},
        "ship_to": {"name": order.ship_name, "company": order.ship_company, "street1": order.ship_address1,
                    "street2": order.ship_address2, "city": order.ship_city, "state": order.ship_region,
                    "zip": order.ship_postal_code, "country": order.ship_country, "phone": order.ship_phone,
                    "email": order.customer_email},
        "parcels": [{"weight_g": p.weight_g, "length_mm": p.length_mm, "width_mm": p.width_mm, "height_mm": p.height_mm}
                    for p in shipment.packages],
    }
    key = label_key(carrier_account, shipment.id)
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)):
        raise Conflict(_("A label for shipment {id} has already been asked for.").format(id=shipment_id))
    shipment.carrier_account = carrier_account  # where the purchase was asked for: the station follows it there
    outbox.enqueue(session, carrier_account, "label.buy", key, payload, order_id=order.id)
    audit.record(session, actor, "shipment.label_requested", "shipment", shipment.id, order_id=order.id,
                 summary=_("Label asked for from {carrier}: {policy}").format(
                     carrier=carrier_name or carrier_account, policy=wording.label_policy(policy)))


def attach_label(session: Session, actor: Actor, shipment_id: int, *, carrier_account: str, carrier: str, service: str,
                 tracking_number: str, carrier_ref: str, tracker_ref: str | None, cost_minor: int | None,
                 labels: dict[str, bytes]) -> None:
    """The carrier sold the label: keep it with its tracking number; the shipment is "label ready".

    It is confirmed (stock leaves, the shop hears of the tracking number) only when the label
    has gone to the printer (label_printed): a box without its label has not shipped.
    """
    from oms.shipping.models import ShipmentLabel

    shipment = _shipment(session, shipment_id)
    for fmt, data in labels.items():
        if data:
            if session.get(ShipmentLabel, (shipment_id, fmt)) is None:
                session.add(ShipmentLabel(shipment_id=shipment_id, format=fmt, data=data))
    shipment.carrier_account, shipment.carrier_ref = carrier_account, carrier_ref
    shipment.tracker_ref, shipment.label_cost_minor = tracker_ref or "", cost_minor
    if shipment.status == ShipmentStatus.PACKED.value:
        shipment.carrier = validate.text(carrier, "carrier", SHORT)
        shipment.service = validate.text(service, "service", SHORT)
        shipment.tracking_number = validate.text(tracking_number, "tracking number", SHORT)
    session.flush()
    audit.record(session, actor, "shipment.label_bought", "shipment", shipment.id, order_id=shipment.order_id,
                 summary=_("Label bought: {carrier} {service} {tracking}").format(
                     carrier=carrier, service=service, tracking=tracking_number).strip())


def label_printed(session: Session, actor: Actor, shipment_id: int) -> bool:
    """The carrier's label went to the printer: confirm the shipment with the label's tracking number.

    False when there is nothing to confirm (already shipped, voided, or no carrier label yet).
    """
    shipment = _shipment(session, shipment_id)
    if shipment.status != ShipmentStatus.PACKED.value or not shipment.carrier_ref:
        return False
    audit.record(session, actor, "shipment.label_printed", "shipment", shipment.id, order_id=shipment.order_id,
                 summary=_("Label printed at {station}").format(station=actor.station or _("a station")))
    confirm(session, actor, shipment_id, carrier=shipment.carrier, service=shipment.service,
            tracking_number=shipment.tracking_number)
    return True


def label_data(session: Session, shipment_id: int, fmt: str) -> bytes | None:
    from oms.shipping.models import ShipmentLabel

    row = session.get(ShipmentLabel, (shipment_id, fmt))
    return row.data if row else None


def label_files(session: Session, shipment_id: int) -> dict[str, bytes]:
    """Every file of the carrier's label for a shipment, by format (pdf, zpl, png); empty before it is bought."""
    from oms.shipping.models import ShipmentLabel

    return {r.format: r.data for r in session.scalars(select(ShipmentLabel).where(ShipmentLabel.shipment_id == shipment_id))}


def tracking_targets(session: Session, carrier_account: str, *, limit: int = 200) -> list[tuple[int, str]]:
    """(shipment id, tracker ref) of shipped, undelivered shipments labelled through this account."""
    delivered = select(TrackingEvent.shipment_id).where(TrackingEvent.status == "delivered")
    rows = session.execute(select(Shipment.id, Shipment.tracker_ref).where(
        Shipment.carrier_account == carrier_account, Shipment.status == ShipmentStatus.SHIPPED.value,
        Shipment.tracker_ref != "", Shipment.id.not_in(delivered)).order_by(Shipment.shipped_at).limit(limit)).all()
    return [(r[0], r[1]) for r in rows]
