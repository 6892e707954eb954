"""The return label: bought through the carrier connector by the outbox (EasyPost's return shipment, ``is_return``),
kept with the RMA to print or e-mail, and followed: the first tracking event that shows the carrier has the parcel
moves the RMA to "in transit"."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oms.catalog.models import Product
from oms.core import audit, outbox, validate
from oms.core.audit import Actor
from oms.core.errors import Conflict, InvalidInput
from oms.core.i18n import _
from oms.core.models import OutboxMessage
from oms.core.types import SHORT, utcnow
from oms.inventory.models import Location
from oms.orders.models import SalesOrder
from oms.returns.models import Rma, RmaLabel, RmaLine, RmaStatus
from oms.returns.rmas import move, rma_id, status_title

LABEL_FORMATS = ("PDF", "ZPL", "PNG")
# Tracking statuses that mean the carrier has the parcel (pre_transit is only "label created").
MOVING = ("in_transit", "out_for_delivery", "delivered", "available_for_pickup")


def label_key(carrier_account: str, rma: int) -> str:
    """The return label purchase's outbox idempotency key: one purchase per RMA and carrier account."""
    return f"{carrier_account}:return-label:{rma}"


def request_return_label(session: Session, actor: Actor, rma: int | str, carrier_account: str, *,
                         label_format: str = "PDF", carrier_name: str = "") -> None:
    """Ask the carrier connector for a return label for an approved RMA (through the outbox, so it waits offline).

    The addresses are those of the outbound shipment, as EasyPost wants them for a return (it swaps them itself):
    to the customer, from the location the parcel comes back to."""
    label_format = (label_format or "").upper()
    if label_format not in LABEL_FORMATS:
        raise InvalidInput(_("A label is made as PDF, ZPL or PNG, not {f!r}.").format(f=label_format))
    carrier_account = validate.text(carrier_account, "carrier", SHORT, required=True)
    row = session.get(Rma, rma_id(session, rma), with_for_update=True)
    if row.status != RmaStatus.APPROVED.value:
        raise Conflict(_("{number} is {status}: a return label is sent for an approved RMA.").format(
            number=row.number, status=status_title(row.status)))
    key = label_key(carrier_account, row.id)
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)):
        raise Conflict(_("A return label for {number} has already been asked for.").format(number=row.number))
    order = session.get(SalesOrder, row.order_id)
    loc = session.get(Location, row.location_id)
    grams = session.scalar(select(func.coalesce(func.sum(RmaLine.quantity * Product.weight_g), 0))
                           .join(Product, Product.id == RmaLine.product_id).where(RmaLine.rma_id == row.id))
    payload = {
        "rma_id": row.id, "reference": row.number, "label_format": label_format, "is_return": True, "station": actor.station,
        "ship_from": {"name": loc.name, "company": "", "street1": loc.address1, "street2": "", "city": loc.city,
                      "state": loc.region, "zip": loc.postal_code, "country": loc.country},
        "ship_to": {"name": order.ship_name, "company": order.ship_company, "street1": order.ship_address1,
                    "street2": order.ship_address2, "city": order.ship_city, "state": order.ship_region,
                    "zip": order.ship_postal_code, "country": order.ship_country, "phone": order.ship_phone,
                    "email": order.customer_email},
        "parcels": [{"weight_g": max(int(grams), 100), "length_mm": 0, "width_mm": 0, "height_mm": 0}],
    }
    row.carrier_account = carrier_account
    outbox.enqueue(session, carrier_account, "label.return", key, payload, order_id=order.id)
    audit.record(session, actor, "rma.label_requested", "rma", row.id, order_id=row.order_id,
                 summary=_("{number}: return label asked for from {carrier}").format(
                     number=row.number, carrier=carrier_name or carrier_account))


def attach_return_label(session: Session, actor: Actor, rma: int, *, carrier_account: str, carrier: str, tracking_number: str,
                        carrier_ref: str, tracker_ref: str | None, cost_minor: int | None, labels: dict[str, bytes]) -> None:
    """The carrier sold the return label: keep it with its tracking number; the RMA is "label sent"."""
    row = session.get(Rma, rma, with_for_update=True)
    for fmt, data in labels.items():
        if data and session.get(RmaLabel, (row.id, fmt)) is None:
            session.add(RmaLabel(rma_id=row.id, format=fmt, data=data, created_at=utcnow()))
    row.carrier_account, row.carrier_ref = carrier_account, carrier_ref
    row.tracker_ref, row.label_cost_minor = tracker_ref or "", cost_minor
    row.carrier = validate.text(carrier, "carrier", SHORT)
    row.tracking_number = validate.text(tracking_number, "tracking number", SHORT)
    session.flush()
    audit.record(session, actor, "rma.label_bought", "rma", row.id, order_id=row.order_id,
                 summary=_("{number}: return label {carrier} {tracking}").format(
                     number=row.number, carrier=carrier, tracking=tracking_number))
    if row.status == RmaStatus.APPROVED.value:
        move(session, actor, row, RmaStatus.LABEL_SENT)


def return_label_files(session: Session, rma: int | str) -> dict[str, bytes]:
    """Every file of the return label by format (pdf, zpl, png); empty before it is bought."""
    rid = rma_id(session, rma)
    return {r.format: r.data for r in session.scalars(select(RmaLabel).where(RmaLabel.rma_id == rid))}


def tracking_targets(session: Session, carrier_account: str, *, limit: int = 200) -> list[tuple[int, str]]:
    """(RMA id, tracker ref) of return labels sent through this account whose parcel the carrier has not yet taken."""
    rows = session.execute(select(Rma.id, Rma.tracker_ref).where(
        Rma.carrier_account == carrier_account, Rma.status == RmaStatus.LABEL_SENT.value, Rma.tracker_ref != "")
        .order_by(Rma.updated_at).limit(limit)).all()
    return [(r[0], r[1]) for r in rows]


def record_return_tracking(session: Session, actor: Actor, rma: int, status: str, *, description: str = "") -> bool:
    """A tracking event of the return label: the carrier has the parcel -> "in transit". True when the RMA moved."""
    row = session.get(Rma, rma, with_for_update=True)
    if status not in MOVING or row.status != RmaStatus.LABEL_SENT.value:
        return False
    move(session, actor, row, RmaStatus.IN_TRANSIT, (_("tracking: {status}").format(status=status.replace("_", " "))
                                                     + (f" — {description}" if description else ""))[:200])
    return True
