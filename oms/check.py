"""Integrity check: the ledger equals the levels, nothing is negative or over-allocated, statuses agree, and purchase
order lines agree with their receipts and quarantine, and returns: no order line has more back than it shipped, and
each line's returned units are those its RMAs received."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from oms.catalog.models import Product
from oms.core import audit
from oms.core.i18n import _
from oms.inventory.models import Bin, BinStock, Location, StockLevel, StockMovement
from oms.orders.models import Allocation, OrderLine, SalesOrder
from oms.orders.status import LineQty, derive_status
from oms.purchasing.models import PurchaseOrder, PurchaseOrderLine, QuarantinedStock, ReceiptLine
from oms.returns.models import ReturnUnit, Rma, RmaLine
from oms.shipping.models import Shipment, ShipmentLine
from oms.transfers.models import StockTransfer, StockTransferLine


@dataclass(frozen=True)
class Finding:
    kind: str
    message: str


def run(session: Session, *, limit: int = 50) -> list[Finding]:
    """Every inconsistency found, in plain words (at most ``limit`` of each kind)."""
    findings: list[Finding] = []
    sku = dict(session.execute(select(Product.id, Product.sku)).all())
    loc = dict(session.execute(select(Location.id, Location.code)).all())

    def add(kind: str, message: str) -> None:
        if sum(1 for f in findings if f.kind == kind) < limit:
            findings.append(Finding(kind, message))

    ledger = {
        (r[0], r[1]): r[2]
        for r in session.execute(
            select(StockMovement.product_id, StockMovement.location_id, func.sum(StockMovement.quantity))
            .group_by(StockMovement.product_id, StockMovement.location_id)
        )
    }
    levels = {(r[0], r[1]): (r[2], r[3]) for r in session.execute(
        select(StockLevel.product_id, StockLevel.location_id, StockLevel.on_hand, StockLevel.allocated))}
    for key in ledger.keys() | levels.keys():
        on_hand, allocated = levels.get(key, (0, 0))
        booked = ledger.get(key, 0)
        where = f"{sku.get(key[0], key[0])} at {loc.get(key[1], key[1])}"
        if booked != on_hand:
            add("ledger", _("{where}: the ledger adds up to {booked} but {on_hand} are on hand.").format(where=where, booked=booked, on_hand=on_hand))
        if on_hand < 0:
            add("negative", _("{where}: on hand is negative ({n}).").format(where=where, n=on_hand))
        if allocated < 0 or allocated > on_hand:
            add("over-allocated", _("{where}: {a} allocated with {o} on hand.").format(where=where, a=allocated, o=on_hand))

    reserved = {(r[0], r[1]): r[2] for r in session.execute(
        select(Allocation.product_id, Allocation.location_id, func.sum(Allocation.quantity))
        .group_by(Allocation.product_id, Allocation.location_id))}
    for key in reserved.keys() | {k for k, v in levels.items() if v[1]}:
        allocated = levels.get(key, (0, 0))[1]
        if reserved.get(key, 0) != allocated:
            add("allocation", _("{sku} at {loc}: order allocations add up to {r} but the stock level says {a} allocated.").format(
                sku=sku.get(key[0]), loc=loc.get(key[1]), r=reserved.get(key, 0), a=allocated))

    bins = session.execute(
        select(BinStock.product_id, Bin.location_id, func.sum(BinStock.on_hand), func.min(BinStock.on_hand))
        .join(Bin, Bin.id == BinStock.bin_id).group_by(BinStock.product_id, Bin.location_id))
    for pid, lid, total, lowest in bins:
        if lowest < 0:
            add("negative", _("{sku} at {loc}: a bin holds a negative quantity.").format(sku=sku.get(pid), loc=loc.get(lid)))
        if total > levels.get((pid, lid), (0, 0))[0]:
            add("bins", _("{sku} at {loc}: bins hold {b} but only {o} are on hand.").format(
                sku=sku.get(pid), loc=loc.get(lid), b=total, o=levels.get((pid, lid), (0, 0))[0]))

    line_alloc = dict(session.execute(select(Allocation.order_line_id, func.sum(Allocation.quantity)).group_by(Allocation.order_line_id)).all())
    orders: dict[int, list] = {}
    for row in session.execute(select(
            OrderLine.id, OrderLine.order_id, OrderLine.quantity, OrderLine.allocated, OrderLine.backordered, OrderLine.picked,
            OrderLine.packed, OrderLine.shipped, OrderLine.cancelled, OrderLine.sku)):
        orders.setdefault(row.order_id, []).append(row)
        if line_alloc.get(row.id, 0) != row.allocated:
            add("allocation", _("Order line {id} ({sku}) says {a} allocated but its allocations add up to {r}.").format(
                id=row.id, sku=row.sku, a=row.allocated, r=line_alloc.get(row.id, 0)))
        if min(row.allocated, row.picked, row.packed, row.shipped, row.cancelled, row.backordered) < 0 or \
                row.allocated + row.backordered + row.shipped + row.cancelled > row.quantity:
            add("line", _("Order line {id} ({sku}) has impossible quantities.").format(id=row.id, sku=row.sku))

    shipped_lines = dict(session.execute(
        select(ShipmentLine.order_line_id, func.sum(ShipmentLine.quantity)).join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .where(Shipment.status == "shipped").group_by(ShipmentLine.order_line_id)).all())
    for o in session.execute(select(SalesOrder.id, SalesOrder.number, SalesOrder.status, SalesOrder.on_hold, SalesOrder.delivered_at)):
        lines = orders.get(o.id)
        if not lines:
            add("orphan", _("Order {number} has no lines.").format(number=o.number))
            continue
        for l in lines:
            if shipped_lines.get(l.id, 0) != l.shipped:
                add("shipment", _("Order {number} line {sku}: {s} shipped but shipments carry {c}.").format(
                    number=o.number, sku=l.sku, s=l.shipped, c=shipped_lines.get(l.id, 0)))
        expected = derive_status([LineQty(l.quantity, l.allocated, l.backordered, l.picked, l.packed, l.shipped, l.cancelled) for l in lines],
                                 on_hold=o.on_hold, delivered=o.delivered_at is not None)
        if expected.value != o.status:
            add("status", _("Order {number} is stored as {stored} but its lines say {expected}.").format(
                number=o.number, stored=o.status, expected=expected.value))

    orphans = session.scalar(select(func.count()).select_from(OrderLine).outerjoin(SalesOrder, SalesOrder.id == OrderLine.order_id)
                             .where(SalesOrder.id.is_(None)))
    if orphans:
        add("orphan", _("{n} order lines belong to no order.").format(n=orphans))

    # Purchasing: what a PO line says came equals what its receipts counted; its damaged units are in quarantine.
    counted = {r[0]: (int(r[1] or 0), int(r[2] or 0)) for r in session.execute(
        select(ReceiptLine.po_line_id, func.sum(ReceiptLine.good + ReceiptLine.damaged), func.sum(ReceiptLine.damaged))
        .group_by(ReceiptLine.po_line_id))}
    held = {r[0]: int(r[1] or 0) for r in session.execute(
        select(ReceiptLine.po_line_id, func.sum(QuarantinedStock.quantity))
        .join(QuarantinedStock, QuarantinedStock.receipt_line_id == ReceiptLine.id).group_by(ReceiptLine.po_line_id))}
    for line in session.execute(select(PurchaseOrderLine.id, PurchaseOrder.number, PurchaseOrderLine.sku,
                                       PurchaseOrderLine.received, PurchaseOrderLine.damaged)
                                .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.po_id)
                                .where((PurchaseOrderLine.received > 0) | PurchaseOrderLine.id.in_(list(counted) or [0]))):
        got, damaged = counted.get(line.id, (0, 0))
        if (line.received, line.damaged) != (got, damaged):
            add("receipt", _("{po} {sku}: the PO line says {r} received ({d} damaged) but its receipts count {g} ({gd} damaged).")
                .format(po=line.number, sku=line.sku, r=line.received, d=line.damaged, g=got, gd=damaged))
        if held.get(line.id, 0) != damaged:
            add("quarantine", _("{po} {sku}: {d} damaged on receipt but {q} in quarantine.").format(
                po=line.number, sku=line.sku, d=damaged, q=held.get(line.id, 0)))

    # Returns: what came back of an order line is what its RMAs received, never more than shipped; an RMA line's
    # received units are those given a disposition.
    came_back = dict(session.execute(select(RmaLine.order_line_id, func.sum(RmaLine.received)).group_by(RmaLine.order_line_id)).all())
    for line in session.execute(select(OrderLine.id, OrderLine.sku, OrderLine.shipped, OrderLine.returned, SalesOrder.number)
                                .join(SalesOrder, SalesOrder.id == OrderLine.order_id)
                                .where((OrderLine.returned > 0) | OrderLine.id.in_(list(came_back) or [0]))):
        if line.returned > line.shipped:
            add("returns", _("Order {number} line {sku}: {r} returned but only {s} shipped.").format(
                number=line.number, sku=line.sku, r=line.returned, s=line.shipped))
        if int(came_back.get(line.id, 0) or 0) != line.returned:
            add("returns", _("Order {number} line {sku}: {r} returned but its RMAs received {g}.").format(
                number=line.number, sku=line.sku, r=line.returned, g=int(came_back.get(line.id, 0) or 0)))
    units = dict(session.execute(select(ReturnUnit.rma_line_id, func.sum(ReturnUnit.quantity)).group_by(ReturnUnit.rma_line_id)).all())
    for rl in session.execute(select(RmaLine.id, RmaLine.sku, RmaLine.received, Rma.number).join(Rma, Rma.id == RmaLine.rma_id)
                              .where((RmaLine.received > 0) | RmaLine.id.in_(list(units) or [0]))):
        if int(units.get(rl.id, 0) or 0) != rl.received:
            add("returns", _("{rma} {sku}: {r} received but {u} units have a disposition.").format(
                rma=rl.number, sku=rl.sku, r=rl.received, u=int(units.get(rl.id, 0) or 0)))
    # Transfers: what a transfer's lines say left and arrived equals its movements in the ledger (the rest is on the road).
    booked = {(r[0], r[1]): (int(r[2] or 0), int(r[3] or 0)) for r in session.execute(
        select(StockMovement.reference, StockMovement.product_id,
               func.sum(case((StockMovement.quantity < 0, -StockMovement.quantity), else_=0)),
               func.sum(case((StockMovement.quantity > 0, StockMovement.quantity), else_=0)))
        .where(StockMovement.kind == "transfer", StockMovement.reference.like("TR-%"))
        .group_by(StockMovement.reference, StockMovement.product_id))}
    for tid, pid, shipped, received in session.execute(
            select(StockTransfer.id, StockTransferLine.product_id, StockTransferLine.shipped, StockTransferLine.received)
            .join(StockTransfer, StockTransfer.id == StockTransferLine.transfer_id)):
        out, arrived = booked.get((f"TR-{tid}", pid), (0, 0))
        if (shipped, received) != (out, arrived):
            add("transfer", _("TR-{id} {sku}: {s} shipped and {r} received, but the ledger moved {o} out and {a} in.").format(
                id=tid, sku=sku.get(pid, pid), s=shipped, r=received, o=out, a=arrived))

    for message in audit.verify_chain(session, limit=limit):
        add("audit", message)
    return findings
