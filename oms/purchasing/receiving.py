"""Receiving against a PO, scanner first, and putting the units away.

A receipt is one delivery at the dock. Each scan names an item (barcode or SKU); it is counted on the receipt's
line for that PO line, so scanning the same item again adds to the line, never a second row. Good units go
through the stock ledger at once (``routing.restock``: on hand at the location, and the orders waiting for them
released, oldest promise first); damaged units go to quarantine, on no stock level, so nothing sells them. The
PO line's received count is raised by a conditional UPDATE that the database checks against the tolerance, so
two stations scanning the same delivery can never take in more than allowed.

Putaway: the suggestion is the product's bin at the location, else an empty bin in the product's zone (the zone of
its bins elsewhere), else the first empty bin on the walk; the worker confirms it by scanning the bin, which moves
the received units from the dock into it (a transfer in the ledger).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from oms import inventory
from oms.catalog.models import Product
from oms.core import audit, validate
from oms.core.audit import Actor
from oms.core.errors import Conflict, NotFound
from oms.core.i18n import _
from oms.core.settings import Settings
from oms.core.types import utcnow
from oms.core.upsert import insert_ignore
from oms.inventory.models import Bin, BinStock, Location
from oms.purchasing.models import (
    PoStatus,
    PurchaseOrder,
    PurchaseOrderLine,
    QuarantinedStock,
    Receipt,
    ReceiptLine,
    ReceiptStatus,
    Supplier,
)
from oms.purchasing.orders import RECEIVABLE_STATES, move, po_id, status_after_is
from oms.routing import restock

_pol = PurchaseOrderLine.__table__
_rl = ReceiptLine.__table__


@dataclass(frozen=True)
class ReceiptStart:
    receipt_id: int
    po_number: str
    supplier: str
    location: str


@dataclass(frozen=True)
class ScanResult:
    """What one scan did: the receipt line it counted on and where that line stands now."""

    receipt_line_id: int
    sku: str
    quantity: int  # units this scan added
    damaged: bool
    good_on_receipt: int  # on this receipt's line
    damaged_on_receipt: int
    ordered: int  # of the PO line
    received: int  # of the PO line, every receipt, good and damaged
    po_status: str
    message: str


@dataclass(frozen=True)
class PutawaySuggestion:
    receipt_line_id: int
    sku: str
    quantity: int  # units still on the dock
    bin_code: str | None  # None: no bin to suggest
    reason: str


def tolerance_limit(ordered: int, percent: int) -> int:
    """The most units a line of `ordered` may receive at `percent` over-receipt tolerance (whole units, rounded down)."""
    return ordered + ordered * percent // 100


def start_receipt(session: Session, actor: Actor, po: int | str) -> ReceiptStart:
    """Begin (or carry on with) receiving a PO: the open receipt of the PO, or a new one."""
    pid = po_id(session, po)
    row = session.execute(select(PurchaseOrder.number, PurchaseOrder.status, PurchaseOrder.location_id, Supplier.name,
                                 Location.code).join(Supplier, Supplier.id == PurchaseOrder.supplier_id)
                          .join(Location, Location.id == PurchaseOrder.location_id).where(PurchaseOrder.id == pid)).one()
    if row.status not in RECEIVABLE_STATES:
        hint = _(" Send it first.") if row.status == PoStatus.DRAFT.value else ""
        raise Conflict(_("{number} is {status}: nothing can be received against it.").format(
            number=row.number, status=status_after_is(row.status)) + hint)
    rid = session.scalar(select(Receipt.id).where(Receipt.po_id == pid, Receipt.status == ReceiptStatus.OPEN.value)
                         .order_by(Receipt.id).limit(1))
    if rid is None:
        receipt = Receipt(po_id=pid, location_id=row.location_id, status=ReceiptStatus.OPEN.value,
                          user=actor.user[:64], station=actor.station[:64])
        session.add(receipt)
        session.flush()
        rid = receipt.id
        audit.record(session, actor, "receipt.started", "purchase_order", pid,
                     summary=_("Receiving {number} at {location}").format(number=row.number, location=row.code),
                     after={"receipt": rid})
    return ReceiptStart(rid, row.number, row.name, row.code)


def _open_receipt(session: Session, receipt_id: int) -> Receipt:
    receipt = session.get(Receipt, receipt_id)
    if receipt is None:
        raise NotFound(_("There is no receipt {id}.").format(id=receipt_id))
    if receipt.status != ReceiptStatus.OPEN.value:
        raise Conflict(_("Receipt {id} is finished; scan the PO again to receive more.").format(id=receipt_id))
    return receipt


def _house_tolerance() -> int:
    """The house's over-receipt tolerance, for suppliers without their own (a station setting, 0 % by default)."""
    return Settings.load().over_receipt_percent


def scan_item(session: Session, actor: Actor, receipt_id: int, code: str, quantity: int = 1, *, damaged: bool = False,
              tolerance_percent: int | None = None) -> ScanResult:
    """Count `quantity` units of the scanned item (barcode or SKU) on the receipt.

    Refused, with nothing written, when the item is not on the PO or when the PO line would receive more than
    ordered plus the tolerance: the supplier's own, else `tolerance_percent`, else the house setting (0 %)."""
    qty = validate.quantity(quantity)
    code = validate.text(code, "scan", 200, required=True)
    receipt = _open_receipt(session, receipt_id)
    po = session.get(PurchaseOrder, receipt.po_id)
    if po.status not in RECEIVABLE_STATES:
        raise Conflict(_("{number} is {status}: nothing more can be received against it.").format(
            number=po.number, status=status_after_is(po.status)))
    try:
        product = inventory.product_id(session, code)
    except NotFound:
        raise NotFound(_("“{code}” is no product we know: scan the item's barcode or type its SKU.").format(code=code)) from None
    lines = session.execute(select(PurchaseOrderLine.id, PurchaseOrderLine.sku, PurchaseOrderLine.quantity,
                                   PurchaseOrderLine.received)
                            .where(PurchaseOrderLine.po_id == po.id, PurchaseOrderLine.product_id == product)
                            .order_by(PurchaseOrderLine.expected_date, PurchaseOrderLine.line_no)).all()
    if not lines:
        sku = session.scalar(select(Product.sku).where(Product.id == product))
        raise Conflict(_("{sku} is not on {number}. Put it aside and tell the buyer.").format(sku=sku, number=po.number))
    percent = session.scalar(select(Supplier.over_receipt_percent).where(Supplier.id == po.supplier_id))
    if percent is None:
        percent = tolerance_percent if tolerance_percent is not None else _house_tolerance()
    # The first line still short takes the units; when all are complete, the first with room within the tolerance.
    line = next((l for l in lines if l.received + qty <= l.quantity), None) or \
        next((l for l in lines if l.received + qty <= tolerance_limit(l.quantity, percent)), None)
    if line is None:
        ordered, received = sum(l.quantity for l in lines), sum(l.received for l in lines)
        most = sum(tolerance_limit(l.quantity, percent) for l in lines)
        raise Conflict(_("Over-receipt refused: {number} ordered {ordered} × {sku} and {received} are received already; "
                         "a tolerance of {percent} % allows {most} in all, so {qty} more cannot be taken in. "
                         "Put them aside and tell the buyer.").format(
            number=po.number, ordered=ordered, sku=lines[0].sku, received=received, percent=percent, most=most, qty=qty))
    limit = tolerance_limit(line.quantity, percent)
    took = session.execute(update(_pol).where(_pol.c.id == line.id, _pol.c.received + qty <= limit)
                           .values(received=_pol.c.received + qty, damaged=_pol.c.damaged + (qty if damaged else 0))).rowcount
    if took != 1:  # another station counted the same units a moment ago
        raise Conflict(_("Over-receipt refused: {sku} on {number} reached {limit} (with a tolerance of {percent} %) "
                         "while this was scanned.").format(sku=line.sku, number=po.number, limit=limit, percent=percent))
    now = utcnow()
    insert_ignore(session, ReceiptLine, {"receipt_id": receipt.id, "po_line_id": line.id, "product_id": product, "good": 0,
                                         "damaged": 0, "put_away": 0, "updated_at": now}, ["receipt_id", "po_line_id"])
    column = _rl.c.damaged if damaged else _rl.c.good
    session.execute(update(_rl).where(_rl.c.receipt_id == receipt.id, _rl.c.po_line_id == line.id)
                    .values({column.key: column + qty, "updated_at": now}))
    rl = session.execute(select(_rl.c.id, _rl.c.good, _rl.c.damaged)
                         .where(_rl.c.receipt_id == receipt.id, _rl.c.po_line_id == line.id)).one()
    if damaged:
        insert_ignore(session, QuarantinedStock, {"receipt_line_id": rl.id, "product_id": product,
                                                  "location_id": receipt.location_id, "quantity": 0,
                                                  "reason": "damaged on receipt", "created_at": now}, ["receipt_line_id"])
        q = QuarantinedStock.__table__
        session.execute(update(q).where(q.c.receipt_line_id == rl.id).values(quantity=q.c.quantity + qty))
        audit.record(session, actor, "receipt.damaged", "purchase_order", po.id,
                     summary=_("{qty} × {sku} damaged on {number}: to quarantine").format(qty=qty, sku=line.sku, number=po.number),
                     after={"receipt": receipt.id, "sku": line.sku, "quantity": qty})
    else:
        restock.receive(session, actor, product, receipt.location_id, qty, reference=po.number,
                        reason=f"receipt {receipt.id}")
    _settle_status(session, actor, po)
    received = line.received + qty
    if damaged:
        message = _("{sku}: {qty} damaged, to quarantine ({received} of {ordered} received)").format(
            sku=line.sku, qty=qty, received=received, ordered=line.quantity)
    else:
        message = _("{sku}: {received} of {ordered}").format(sku=line.sku, received=received, ordered=line.quantity)
        if received > line.quantity:
            message += _(" — {over} over, within the tolerance").format(over=received - line.quantity)
    return ScanResult(rl.id, line.sku, qty, damaged, rl.good, rl.damaged, line.quantity, received, po.status, message)


def _settle_status(session: Session, actor: Actor, po: PurchaseOrder) -> None:
    """Partly received once anything came; received when every line has all it ordered."""
    short = session.scalar(select(func.count()).select_from(PurchaseOrderLine)
                           .where(PurchaseOrderLine.po_id == po.id, PurchaseOrderLine.received < PurchaseOrderLine.quantity))
    target = PoStatus.RECEIVED if not short else PoStatus.PARTLY_RECEIVED
    if po.status != target.value:
        move(session, actor, po, target)


def finish_receipt(session: Session, actor: Actor, receipt_id: int) -> None:
    """The delivery is counted; the receipt closes (units not yet put away stay on the dock, on hand)."""
    receipt = _open_receipt(session, receipt_id)
    receipt.status = ReceiptStatus.DONE.value
    receipt.finished_at = utcnow()
    good, damaged = session.execute(select(func.coalesce(func.sum(_rl.c.good), 0), func.coalesce(func.sum(_rl.c.damaged), 0))
                                    .where(_rl.c.receipt_id == receipt.id)).one()
    number = session.scalar(select(PurchaseOrder.number).where(PurchaseOrder.id == receipt.po_id))
    audit.record(session, actor, "receipt.finished", "purchase_order", receipt.po_id,
                 summary=_("Receipt {id} of {number} finished: {good} good, {damaged} damaged").format(
                     id=receipt.id, number=number, good=good, damaged=damaged),
                 after={"receipt": receipt.id, "good": int(good), "damaged": int(damaged)})


# -- putaway --------------------------------------------------------------------------------------------


def _empty_bins(location_id: int):
    held = select(BinStock.bin_id).where(BinStock.on_hand > 0)
    return select(Bin.code).where(Bin.location_id == location_id, Bin.id.not_in(held)).order_by(Bin.pick_sequence, Bin.id)


def suggest_putaway(session: Session, receipt_line_id: int) -> PutawaySuggestion:
    """Where the line's units on the dock should go: the product's bin, else an empty bin in its zone, else the
    first empty bin on the walk; no bin (None) when the location has none free."""
    rl = session.get(ReceiptLine, receipt_line_id)
    if rl is None:
        raise NotFound(_("There is no receipt line {id}.").format(id=receipt_line_id))
    lid = session.scalar(select(Receipt.location_id).where(Receipt.id == rl.receipt_id))
    sku = session.scalar(select(Product.sku).where(Product.id == rl.product_id))
    waiting = rl.good - rl.put_away
    # The product's own bin: where most of it is now, else where it was kept last.
    own = session.scalar(select(Bin.code).join(BinStock, BinStock.bin_id == Bin.id)
                         .where(Bin.location_id == lid, BinStock.product_id == rl.product_id)
                         .order_by(BinStock.on_hand.desc(), Bin.pick_sequence).limit(1))
    if own:
        return PutawaySuggestion(rl.id, sku, waiting, own, _("{sku} is kept in {bin}").format(sku=sku, bin=own))
    zone = session.scalar(select(Bin.zone).join(BinStock, BinStock.bin_id == Bin.id)
                          .where(BinStock.product_id == rl.product_id, BinStock.on_hand > 0, Bin.zone != "")
                          .group_by(Bin.zone).order_by(func.sum(BinStock.on_hand).desc(), Bin.zone).limit(1))
    if zone:
        code = session.scalar(_empty_bins(lid).where(Bin.zone == zone).limit(1))
        if code:
            return PutawaySuggestion(rl.id, sku, waiting, code,
                                     _("an empty bin in zone {zone}, where {sku} is kept").format(zone=zone, sku=sku))
    code = session.scalar(_empty_bins(lid).limit(1))
    if code:
        return PutawaySuggestion(rl.id, sku, waiting, code, _("the first empty bin"))
    return PutawaySuggestion(rl.id, sku, waiting, None, _("no bin is empty here: scan the bin you put it in"))


def put_away(session: Session, actor: Actor, receipt_line_id: int, bin_scan: str, *, follow_suggestion: bool = True) -> str:
    """Move the line's units from the dock into the scanned bin; returns the bin's code. With ``follow_suggestion``
    a scan of another bin than the one suggested is refused (a slip of the scanner puts nothing in the wrong place)."""
    rl = session.get(ReceiptLine, receipt_line_id)
    if rl is None:
        raise NotFound(_("There is no receipt line {id}.").format(id=receipt_line_id))
    scanned = validate.text(bin_scan, "bin", 64, required=True)
    waiting = rl.good - rl.put_away
    sku = session.scalar(select(Product.sku).where(Product.id == rl.product_id))
    if waiting <= 0:
        raise Conflict(_("All of {sku} on this receipt is put away already.").format(sku=sku))
    lid = session.scalar(select(Receipt.location_id).where(Receipt.id == rl.receipt_id))
    if follow_suggestion:
        suggestion = suggest_putaway(session, receipt_line_id)
        if suggestion.bin_code is not None and scanned != suggestion.bin_code:
            raise Conflict(_("Wrong bin: {got} scanned; put {sku} away in {want}.").format(
                got=scanned, sku=sku, want=suggestion.bin_code))
    bid = inventory.bin_id(session, lid, scanned)
    moved = session.execute(update(_rl).where(_rl.c.id == rl.id, _rl.c.put_away + waiting <= _rl.c.good)
                            .values(put_away=_rl.c.put_away + waiting, bin_id=bid, updated_at=utcnow())).rowcount
    if moved != 1:
        raise Conflict(_("{sku} was put away at another station meanwhile.").format(sku=sku))
    number = session.scalar(select(PurchaseOrder.number).join(Receipt, Receipt.po_id == PurchaseOrder.id)
                            .where(Receipt.id == rl.receipt_id))
    restock.transfer(session, actor, rl.product_id, waiting, from_location=lid, to_bin=bid,
                     reason=_("putaway of {number}").format(number=number))
    session.expire(rl)
    return scanned


def receive(session: Session, actor: Actor, po: int | str, code: str, quantity: int, *, bin: str | None = None,
            damaged: int = 0, tolerance_percent: int | None = None) -> list[ScanResult]:
    """Receive units of one item in one go (the command line's ``po receive``): good units, then `damaged` ones,
    put away into `bin` when one is given (any bin of the location: the person chose it)."""
    validate.quantity(damaged, "damaged quantity", allow_zero=True)
    validate.quantity(quantity, allow_zero=damaged > 0)
    start = start_receipt(session, actor, po)
    results = []
    if quantity:
        results.append(scan_item(session, actor, start.receipt_id, code, quantity, tolerance_percent=tolerance_percent))
    if damaged:
        results.append(scan_item(session, actor, start.receipt_id, code, damaged, damaged=True,
                                 tolerance_percent=tolerance_percent))
    if bin is not None and quantity:
        put_away(session, actor, results[0].receipt_line_id, bin, follow_suggestion=False)
    finish_receipt(session, actor, start.receipt_id)
    return results


def quarantined(session: Session, location: int | str | None = None) -> list[tuple[str, str, int, str]]:
    """Damaged units held: (location code, SKU, quantity, reason)."""
    q = (select(Location.code, Product.sku, func.sum(QuarantinedStock.quantity), QuarantinedStock.reason)
         .join(Location, Location.id == QuarantinedStock.location_id).join(Product, Product.id == QuarantinedStock.product_id)
         .where(QuarantinedStock.quantity > 0)
         .group_by(Location.code, Product.sku, QuarantinedStock.reason).order_by(Location.code, Product.sku))
    if location is not None:
        q = q.where(QuarantinedStock.location_id == inventory.location_id(session, location))
    return [(r[0], r[1], int(r[2]), r[3]) for r in session.execute(q)]

