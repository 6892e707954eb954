"""Receiving returns at the dock, scanner first.

The parcel is named by any barcode on or in it: the RMA number on the return slip, the return label's tracking
number, the order number on the packing slip, or the tracking number of the shipment that took the goods out. A
parcel for an order without an RMA gets one on the spot (source "dock"), and its items go on it as they are scanned;
a parcel tied to no order is recorded as an "unidentified return" for review. Nothing is refused at the dock.

Each unit scanned gets a disposition: restock to a bin (the product's own bin at the location is suggested, and the
scan of the bin confirms it; the units go through the stock ledger as a return and release the orders waiting for
them), quarantine (purchasing's quarantine, on no stock level), refurbish, scrap or return to vendor (off the books:
the units never went back on a level). An item the RMA does not name, or more units than it names, is refused with a
message that says so; the person may record it as "received, not on RMA" for review instead.

Counts go up by conditional UPDATEs the database checks (an RMA line never receives more than it names, an order
line never has more returned than shipped), so two stations scanning the same parcel can never take in a unit twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from oms import inventory
from oms.catalog.models import Product
from oms.core import audit, validate
from oms.core.audit import Actor
from oms.core.errors import Conflict, InvalidInput, NotFound
from oms.core.i18n import _
from oms.core.types import LINE, utcnow
from oms.inventory.models import Bin, BinStock, Location, MovementKind
from oms.orders.models import OrderLine, SalesOrder
from oms.purchasing.models import QuarantinedStock
from oms.returns.models import Disposition, ReturnReview, ReturnUnit, ReviewKind, Rma, RmaLine, RmaStatus
from oms.returns.rmas import RECEIVABLE_STATES, RmaLineInput, add_line, move, next_rma_number, rma_id, status_title
from oms.routing import restock
from oms.shipping.models import Shipment

_rml = RmaLine.__table__
_ol = OrderLine.__table__

DISPOSITION_TITLES = {
    Disposition.RESTOCK: "restock", Disposition.QUARANTINE: "quarantine", Disposition.REFURBISH: "refurbish",
    Disposition.SCRAP: "scrap", Disposition.VENDOR: "return to vendor",
}
DOCK = "dock"  # the source of an RMA opened at the dock for a parcel that came without one


def disposition_title(value: str) -> str:
    try:
        return _(DISPOSITION_TITLES[Disposition(value)])
    except ValueError:
        return value


def parse_disposition(value: str) -> Disposition:
    text = str(value or "").strip().lower().replace(" ", "_")
    aliases = {"return_to_vendor": "vendor", "rtv": "vendor"}
    try:
        return Disposition(aliases.get(text, text))
    except ValueError:
        raise InvalidInput(_("A returned unit is restocked, quarantined, refurbished, scrapped or sent back to the vendor "
                             "(restock, quarantine, refurbish, scrap, vendor), not {value!r}.").format(value=value)) from None


@dataclass(frozen=True)
class Parcel:
    """What a scan at the dock named: the RMA to receive against (made at the dock for an order without one)."""

    rma_id: int
    rma_number: str
    order_number: str
    customer: str
    location: str
    status: str
    opened_here: bool  # the parcel came without an RMA; one was opened for it
    message: str


@dataclass(frozen=True)
class ItemCheck:
    """An item scanned from the parcel, before its disposition: where it stands on the RMA and the bin for a restock."""

    sku: str
    title: str
    expected: int  # units of it the RMA names (0: the order's item, not yet on a dock RMA)
    received: int
    suggested_bin: str | None  # None: the location keeps no bin for it; any bin scanned is taken
    message: str


@dataclass(frozen=True)
class Received:
    sku: str
    quantity: int
    disposition: str
    bin_code: str | None
    expected: int
    received: int
    rma_status: str
    message: str


# -- the parcel ---------------------------------------------------------------------------------------------


def _find_rma_for(session: Session, code: str) -> tuple[int | None, int | None]:
    """(rma id, order id) a barcode names; both None when it names nothing we know."""
    text = code.strip()
    try:
        return rma_id(session, text), None
    except NotFound:
        pass
    found = session.scalar(select(Rma.id).where(Rma.tracking_number == text).order_by(Rma.id.desc()).limit(1))
    if found:
        return found, None
    order = session.scalar(select(SalesOrder.id).where(or_(SalesOrder.number == text, SalesOrder.external_id == text))
                           .order_by(SalesOrder.id.desc()).limit(1))
    if order is None and not text.startswith("#"):
        order = session.scalar(select(SalesOrder.id).where(SalesOrder.number == f"#{text}").limit(1))
    if order is None:
        order = session.scalar(select(Shipment.order_id).where(Shipment.tracking_number == text).order_by(Shipment.id.desc()).limit(1))
    return None, order


def open_parcel(session: Session, actor: Actor, code: str, *, location: int | str | None = None) -> Parcel:
    """Start receiving the parcel a barcode names: its RMA, or the order's open RMA, or a new one for the order.

    Raises NotFound, in words, when the code names no RMA, order or tracking number: scan another barcode from the
    parcel, or record it as an unidentified return."""
    code = validate.text(code, "scan", 200, required=True)
    rid, oid = _find_rma_for(session, code)
    opened = False
    if rid is None and oid is not None:
        rid = session.scalar(select(Rma.id).where(Rma.order_id == oid, Rma.status.in_(RECEIVABLE_STATES))
                             .order_by(Rma.id.desc()).limit(1))
        if rid is None:
            rid = _open_at_dock(session, actor, oid, location)
            opened = True
    if rid is None:
        raise NotFound(_("“{code}” is no RMA, order or tracking number we know. Scan another barcode from the parcel "
                         "(the packing slip, the label), or record it as an unidentified return.").format(code=code))
    rma = session.get(Rma, rid)
    if rma.status not in RECEIVABLE_STATES:
        raise Conflict(_("{number} is {status}: nothing more can be received against it. Record the parcel as "
                         "received, not on the RMA, for review.").format(number=rma.number, status=status_title(rma.status)))
    order = session.get(SalesOrder, rma.order_id)
    loc = session.scalar(select(Location.code).where(Location.id == rma.location_id))
    if opened:
        message = _("{order} had no RMA: {number} opened for this parcel. Scan each item.").format(order=order.number, number=rma.number)
    else:
        message = _("{number} for order {order} ({customer}). Scan each item.").format(
            number=rma.number, order=order.number, customer=order.customer_name or order.ship_name)
    return Parcel(rma.id, rma.number, order.number, order.customer_name or order.ship_name, loc, rma.status, opened, message)


def _open_at_dock(session: Session, actor: Actor, order_id: int, location: int | str | None) -> int:
    order = session.get(SalesOrder, order_id)
    if location is not None:
        lid = inventory.location_id(session, location)
    else:
        lid = session.scalar(select(Shipment.location_id).where(Shipment.order_id == order_id).order_by(Shipment.id.desc()).limit(1)) \
            or order.location_id
    if lid is None:
        raise Conflict(_("Order {number} never shipped: a parcel for it cannot be a return. Record it as an unidentified "
                         "return for review.").format(number=order.number))
    now = utcnow()
    rma = Rma(number=next_rma_number(session), order_id=order_id, location_id=lid, status=RmaStatus.REQUESTED.value,
              reason_code="OTHER", customer_note="", resolution="refund", currency=order.currency, restocking_fee_minor=0,
              source=DOCK, external_id=None, user=actor.user[:64], created_at=now, updated_at=now)
    session.add(rma)
    session.flush()
    audit.record(session, actor, "rma.requested", "rma", rma.id, order_id=order_id,
                 summary=_("{number} opened at the dock: a parcel came back for {order} without an RMA").format(
                     number=rma.number, order=order.number), after={"status": rma.status, "source": DOCK})
    return rma.id


def _receivable(session: Session, rma_ref: int | str, *, lock: bool = True) -> Rma:
    rma = session.get(Rma, rma_id(session, rma_ref), with_for_update=lock, populate_existing=True)
    if rma.status not in RECEIVABLE_STATES:
        raise Conflict(_("{number} is {status}: nothing more can be received against it.").format(
            number=rma.number, status=status_title(rma.status)))
    return rma


def _product(session: Session, code: str) -> int:
    try:
        return inventory.product_id(session, code)
    except NotFound:
        raise NotFound(_("“{code}” is no product we know: scan the item's barcode or type its SKU. If it belongs to no "
                         "order, record it as received, not on the RMA.").format(code=code)) from None


def _own_bin(session: Session, location_id: int, product_id: int) -> str | None:
    """The product's bin at the location: where most of it is now, else where it was kept last."""
    return session.scalar(select(Bin.code).join(BinStock, BinStock.bin_id == Bin.id)
                          .where(Bin.location_id == location_id, BinStock.product_id == product_id)
                          .order_by(BinStock.on_hand.desc(), Bin.pick_sequence).limit(1))


def check_item(session: Session, rma: int | str, code: str) -> ItemCheck:
    """What an item scanned from the parcel is on the RMA, and the bin a restock goes to; writes nothing.

    Refused (Conflict, in words) when the RMA does not name the item or has all its units already."""
    code = validate.text(code, "scan", 200, required=True)
    row = _receivable(session, rma, lock=False)
    pid = _product(session, code)
    sku, title = session.execute(select(Product.sku, Product.name).where(Product.id == pid)).one()
    expected, received = _room(session, row, pid, sku, 1)
    bin_code = _own_bin(session, row.location_id, pid)
    where = _("restock to {bin}").format(bin=bin_code) if bin_code else _("scan the bin to restock it")
    message = _("{sku} ({title}): {n} of {of} — {where}, or choose another disposition").format(
        sku=sku, title=title, n=received + 1, of=expected or received + 1, where=where)
    return ItemCheck(sku, title, expected, received, bin_code, message)


def _room(session: Session, rma: Rma, pid: int, sku: str, qty: int) -> tuple[int, int]:
    """(units named, units received) of the item on the RMA, checked to take `qty` more; a dock RMA takes any unit the
    order shipped and has not had back."""
    lines = session.execute(select(RmaLine.quantity, RmaLine.received).where(RmaLine.rma_id == rma.id, RmaLine.product_id == pid)).all()
    expected, received = sum(l.quantity for l in lines), sum(l.received for l in lines)
    if received + qty <= expected:
        return expected, received
    if rma.source == DOCK:
        from oms.returns.rmas import returnable

        order_lines = session.scalars(select(OrderLine.id).where(OrderLine.order_id == rma.order_id, OrderLine.product_id == pid)).all()
        if sum(returnable(session, l) for l in order_lines) >= qty:
            return expected, received
    order = session.scalar(select(SalesOrder.number).where(SalesOrder.id == rma.order_id))
    if not lines and rma.source != DOCK:
        raise Conflict(_("{sku} is not on {number}: put it aside, or record it as received, not on the RMA.").format(
            sku=sku, number=rma.number))
    if not lines:
        raise Conflict(_("{sku} did not ship on order {order}, or has all come back: put it aside, or record it as "
                         "received, not on the RMA.").format(sku=sku, order=order))
    raise Conflict(_("Over-return refused: {number} names {expected} × {sku} and {received} are received already. Put it "
                     "aside, or record it as received, not on the RMA.").format(
        number=rma.number, expected=expected, sku=sku, received=received))


def receive_unit(session: Session, actor: Actor, rma: int | str, code: str, disposition: str | Disposition, *,
                 quantity: int = 1, bin: str | None = None, note: str = "", follow_suggestion: bool = True) -> Received:
    """Receive `quantity` units of the scanned item against the RMA with their disposition and condition note.

    A restock needs the bin: with ``follow_suggestion`` it must be the product's own bin at the location, when it has
    one (a slip of the scanner puts nothing on the wrong shelf). Nothing is written when anything is refused."""
    qty = validate.quantity(quantity)
    code = validate.text(code, "scan", 200, required=True)
    note = validate.text(note, "condition note", LINE)
    how = parse_disposition(disposition) if not isinstance(disposition, Disposition) else disposition
    row = _receivable(session, rma)
    pid = _product(session, code)
    sku = session.scalar(select(Product.sku).where(Product.id == pid))
    _room(session, row, pid, sku, qty)
    bid, bin_code = None, None
    if how == Disposition.RESTOCK:
        suggested = _own_bin(session, row.location_id, pid)
        has_bins = session.scalar(select(func.count()).select_from(Bin).where(Bin.location_id == row.location_id))
        if bin is None or not str(bin).strip():
            if has_bins:
                raise InvalidInput(_("Scan the bin {sku} goes back to{hint}.").format(
                    sku=sku, hint=_(" ({bin})").format(bin=suggested) if suggested else ""))
        else:
            bin_code = str(bin).strip()
            if follow_suggestion and suggested is not None and bin_code != suggested:
                raise Conflict(_("Wrong bin: {got} scanned; {sku} goes back to {want}.").format(got=bin_code, sku=sku, want=suggested))
            bid = inventory.bin_id(session, row.location_id, bin_code)
    # The units go on the RMA's lines of the item with room, first line first; a dock RMA grows a line as needed.
    left = qty
    line_ids = []
    for line in session.execute(select(RmaLine.id, RmaLine.order_line_id, RmaLine.quantity, RmaLine.received)
                                .where(RmaLine.rma_id == row.id, RmaLine.product_id == pid).order_by(RmaLine.id)).all():
        take = min(left, line.quantity - line.received)
        if take > 0:
            line_ids.append((line.id, line.order_line_id, take))
            left -= take
    if left and row.source == DOCK:
        new = add_line(session, actor, row.id, RmaLineInput(sku, left))
        ol = session.scalar(select(RmaLine.order_line_id).where(RmaLine.id == new))
        mine = next((i for i, l in enumerate(line_ids) if l[0] == new), None)
        if mine is None:
            line_ids.append((new, ol, left))
        else:
            line_ids[mine] = (new, ol, line_ids[mine][2] + left)
        left = 0
    if left:
        raise Conflict(_("Over-return refused: {number} has no room for {qty} more × {sku}.").format(number=row.number, qty=qty, sku=sku))
    now = utcnow()
    for line_id, order_line_id, take in line_ids:
        took = session.execute(update(_rml).where(_rml.c.id == line_id, _rml.c.received + take <= _rml.c.quantity)
                               .values(received=_rml.c.received + take)).rowcount
        back = session.execute(update(_ol).where(_ol.c.id == order_line_id, _ol.c.returned + take <= _ol.c.shipped)
                               .values(returned=_ol.c.returned + take)).rowcount
        if took != 1 or back != 1:  # another station took the same units in a moment ago
            raise Conflict(_("Over-return refused: {sku} on {number} was received at another station meanwhile.").format(
                sku=sku, number=row.number))
        session.add(ReturnUnit(rma_line_id=line_id, quantity=take, disposition=how.value, location_id=row.location_id,
                               bin_id=bid, condition_note=note, user=actor.user[:64], station=actor.station[:64], created_at=now))
    if how == Disposition.RESTOCK:
        restock.receive(session, actor, pid, row.location_id, qty, bin=bid, reference=row.number, kind=MovementKind.RETURN,
                        reason=_("returned on {number}").format(number=row.number))
    elif how == Disposition.QUARANTINE:
        reason = _("returned on {number}").format(number=row.number) + (f": {note}" if note else "")
        session.add(QuarantinedStock(receipt_line_id=None, product_id=pid, location_id=row.location_id, quantity=qty,
                                     reason=reason[:LINE], created_at=now))
    session.flush()
    if row.status != RmaStatus.RECEIVED.value:
        move(session, actor, row, RmaStatus.RECEIVED)
    row.updated_at = now
    expected, received = session.execute(select(func.sum(RmaLine.quantity), func.sum(RmaLine.received))
                                         .where(RmaLine.rma_id == row.id, RmaLine.product_id == pid)).one()
    where = f" → {bin_code}" if bin_code else ""
    audit.record(session, actor, f"rma.unit_{how.value}", "rma", row.id, order_id=row.order_id,
                 summary=(_("{number}: {qty} × {sku} received, {disposition}").format(
                     number=row.number, qty=qty, sku=sku, disposition=disposition_title(how.value)) + where
                     + (f" — {note}" if note else ""))[:300],
                 after={"sku": sku, "quantity": qty, "disposition": how.value, "bin": bin_code, "note": note})
    message = _("{sku}: {received} of {expected} back — {disposition}").format(
        sku=sku, received=received, expected=expected, disposition=disposition_title(how.value)) + where
    return Received(sku, qty, how.value, bin_code, int(expected), int(received), row.status, message)


# -- for review ---------------------------------------------------------------------------------------------


def record_not_on_rma(session: Session, actor: Actor, rma: int | str, code: str, *, quantity: int = 1, note: str = "") -> int:
    """An item the RMA does not name (or more units than it names): kept for review, off the books. Returns its id."""
    qty = validate.quantity(quantity)
    code = validate.text(code, "scan", 200, required=True)
    row = session.get(Rma, rma_id(session, rma))
    try:
        pid = inventory.product_id(session, code)
    except NotFound:
        pid = None
    review = ReturnReview(kind=ReviewKind.NOT_ON_RMA.value, location_id=row.location_id, rma_id=row.id, order_id=row.order_id,
                          product_id=pid, scanned=code, quantity=qty, note=validate.text(note, "note", LINE),
                          user=actor.user[:64], station=actor.station[:64], created_at=utcnow())
    session.add(review)
    session.flush()
    audit.record(session, actor, "rma.not_on_rma", "rma", row.id, order_id=row.order_id,
                 summary=_("{number}: {qty} × {code} received, not on the RMA — for review").format(
                     number=row.number, qty=qty, code=code), after={"review": review.id})
    return review.id


def record_unidentified(session: Session, actor: Actor, location: int | str, scanned: list[str] | str = (), *,
                        quantity: int = 1, note: str = "") -> int:
    """A parcel tied to no order: kept for review with every code read off it. Returns its id."""
    lid = inventory.location_id(session, location)
    codes = [scanned] if isinstance(scanned, str) else list(scanned)
    text = " ".join(c.strip() for c in codes if c and c.strip())
    note = validate.text(note, "note", LINE)
    if not text and not note:
        raise InvalidInput(_("Say something about the parcel: scan what is on it, or write a note."))
    pid = None
    for c in codes:
        try:
            pid = inventory.product_id(session, c)
            break
        except (NotFound, InvalidInput):
            continue
    review = ReturnReview(kind=ReviewKind.UNIDENTIFIED.value, location_id=lid, product_id=pid, scanned=text[:LINE],
                          quantity=validate.quantity(quantity), note=note, user=actor.user[:64], station=actor.station[:64],
                          created_at=utcnow())
    session.add(review)
    session.flush()
    audit.record(session, actor, "return.unidentified", "return_review", review.id,
                 summary=_("Unidentified return received: {what}").format(what=text or note)[:300])
    return review.id
