"""Transfers between locations: a document (TR-n) of products and quantities; shipping takes the units off the
sending location through the ledger, and they are in transit until the receiving location books them in (all at
once, or line by line as they come). Receiving goes through ``routing.restock`` so orders waiting there are
released."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oms import inventory
from oms.catalog.models import Product
from oms.core import audit, validate
from oms.core.audit import Actor
from oms.core.errors import Conflict, InvalidInput, NotFound
from oms.core.i18n import _
from oms.core.types import utcnow
from oms.inventory.models import Location
from oms.routing import restock
from oms.transfers.models import StockTransfer, StockTransferLine, TransferStatus

TRANSFER_PREFIX = "TR-"


def transfer_number(tid: int) -> str:
    return f"{TRANSFER_PREFIX}{tid}"


def transfer_id(session: Session, ref: int | str) -> int:
    if isinstance(ref, int) and not isinstance(ref, bool):
        found = session.scalar(select(StockTransfer.id).where(StockTransfer.id == ref))
    else:
        text = str(ref).strip().upper()
        found = None
        if text.startswith(TRANSFER_PREFIX) and text[len(TRANSFER_PREFIX):].isdigit():
            found = session.scalar(select(StockTransfer.id).where(StockTransfer.id == int(text[len(TRANSFER_PREFIX):])))
    if found is None:
        raise NotFound(_("There is no transfer {ref}: a transfer's number looks like TR-7.").format(ref=ref))
    return found


def status_title(status: str) -> str:
    return {"draft": _("draft"), "shipped": _("in transit"), "partly_received": _("partly received"),
            "received": _("received"), "cancelled": _("cancelled")}.get(status, status)


def _transfer(session: Session, ref, *, for_update: bool = True) -> StockTransfer:
    q = select(StockTransfer).where(StockTransfer.id == transfer_id(session, ref))
    return session.scalars(q.with_for_update() if for_update else q).one()


def _must_be(t: StockTransfer, *states: TransferStatus) -> None:
    if t.status not in {s.value for s in states}:
        raise Conflict(_("{number} is {status}; that cannot be done to it now.").format(
            number=transfer_number(t.id), status=status_title(t.status)))


def create_transfer(session: Session, actor: Actor, from_location: int | str, to_location: int | str,
                    lines: list[tuple[str, int]], *, note: str = "") -> tuple[int, str]:
    """A draft transfer of ``lines`` [(SKU, quantity)] from one location to another. Returns (id, number)."""
    src, dst = inventory.location_id(session, from_location), inventory.location_id(session, to_location)
    if src == dst:
        raise InvalidInput(_("A transfer goes from one location to another, not to where it starts."))
    if not lines:
        raise InvalidInput(_("A transfer needs at least one line: a SKU and a quantity."))
    wanted: dict[int, int] = {}
    for sku, qty in lines:
        validate.quantity(qty)
        pid = inventory.product_id(session, sku)
        wanted[pid] = wanted.get(pid, 0) + qty  # the same SKU twice is one line
    t = StockTransfer(from_location_id=src, to_location_id=dst, note=validate.text(note, "note", 300),
                      created_by=actor.user[:64], created_at=utcnow())
    session.add(t)
    session.flush()
    session.add_all([StockTransferLine(transfer_id=t.id, product_id=p, quantity=q) for p, q in wanted.items()])
    session.flush()
    number = transfer_number(t.id)
    audit.record(session, actor, "transfer.create", "stock_transfer", t.id,
                 summary=_("{number}: {n} lines from {src} to {dst}").format(
                     number=number, n=len(wanted), src=_code(session, src), dst=_code(session, dst)),
                 after={"lines": {str(p): q for p, q in wanted.items()}})
    return t.id, number


def _code(session: Session, lid: int) -> str:
    return session.scalar(select(Location.code).where(Location.id == lid)) or str(lid)


def ship_transfer(session: Session, actor: Actor, ref: int | str, *, bins: dict[str, str] | None = None) -> str:
    """Every line leaves the sending location (from the bin given for its SKU, if any): all or nothing."""
    t = _transfer(session, ref)
    _must_be(t, TransferStatus.DRAFT)
    number = transfer_number(t.id)
    bins = {k.strip().upper(): v for k, v in (bins or {}).items()}
    for line in session.scalars(select(StockTransferLine).where(StockTransferLine.transfer_id == t.id)
                                .order_by(StockTransferLine.id)):
        sku = session.scalar(select(Product.sku).where(Product.id == line.product_id))
        inventory.transfer_out(session, actor, line.product_id, t.from_location_id, line.quantity,
                               bin=bins.pop(sku.upper(), None), reference=number)
        line.shipped = line.quantity
    if bins:
        raise InvalidInput(_("{skus} is not on {number}.").format(skus=", ".join(bins), number=number))
    t.status, t.shipped_at = TransferStatus.SHIPPED.value, utcnow()
    session.flush()
    audit.record(session, actor, "transfer.ship", "stock_transfer", t.id,
                 summary=_("{number} shipped from {src}").format(number=number, src=_code(session, t.from_location_id)),
                 before={"status": "draft"}, after={"status": t.status})
    return _("{number} shipped: in transit to {dst}.").format(number=number, dst=_code(session, t.to_location_id))


def receive_transfer(session: Session, actor: Actor, ref: int | str, *, lines: dict[str, int] | None = None,
                     bin: str | None = None) -> str:
    """Units of a shipped transfer arrive: ``lines`` {SKU: quantity}, or everything still in transit."""
    t = _transfer(session, ref)
    _must_be(t, TransferStatus.SHIPPED, TransferStatus.PARTLY_RECEIVED)
    number = transfer_number(t.id)
    rows = {session.scalar(select(Product.sku).where(Product.id == l.product_id)).upper(): l
            for l in session.scalars(select(StockTransferLine).where(StockTransferLine.transfer_id == t.id))}
    wanted = {k.strip().upper(): v for k, v in lines.items()} if lines else {k: l.shipped - l.received
                                                                              for k, l in rows.items()}
    for sku, qty in wanted.items():
        line = rows.get(sku)
        if line is None:
            raise InvalidInput(_("{sku} is not on {number}.").format(sku=sku, number=number))
        if qty == 0:
            continue
        validate.quantity(qty)
        if qty > line.shipped - line.received:
            raise InvalidInput(_("Only {n} of {sku} are still in transit on {number}, not {qty}.").format(
                n=line.shipped - line.received, sku=sku, number=number, qty=qty))
        restock.transfer_in(session, actor, line.product_id, t.to_location_id, qty, bin=bin, reference=number)
        line.received += qty
    session.flush()
    done = all(l.received == l.shipped for l in rows.values())
    before = t.status
    t.status = (TransferStatus.RECEIVED if done else TransferStatus.PARTLY_RECEIVED).value
    if done:
        t.received_at = utcnow()
    audit.record(session, actor, "transfer.receive", "stock_transfer", t.id,
                 summary=_("{number} received at {dst}").format(number=number, dst=_code(session, t.to_location_id)),
                 before={"status": before}, after={"status": t.status, "received": wanted})
    return _("{number} is {status}.").format(number=number, status=status_title(t.status))


def cancel_transfer(session: Session, actor: Actor, ref: int | str) -> str:
    t = _transfer(session, ref)
    _must_be(t, TransferStatus.DRAFT)
    t.status = TransferStatus.CANCELLED.value
    audit.record(session, actor, "transfer.cancel", "stock_transfer", t.id,
                 summary=_("{number} cancelled").format(number=transfer_number(t.id)))
    return _("{number} cancelled.").format(number=transfer_number(t.id))


# -- reading ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TransferLineView:
    sku: str
    quantity: int
    shipped: int
    received: int

    @property
    def in_transit(self) -> int:
        return self.shipped - self.received


@dataclass(frozen=True)
class TransferView:
    id: int
    number: str
    from_location: str
    to_location: str
    status: str
    status_title: str
    note: str
    created_at: datetime
    shipped_at: datetime | None
    lines: tuple[TransferLineView, ...]


def transfer_detail(session: Session, ref: int | str) -> TransferView:
    t = _transfer(session, ref, for_update=False)
    lines = tuple(TransferLineView(sku, q, s, r) for sku, q, s, r in session.execute(
        select(Product.sku, StockTransferLine.quantity, StockTransferLine.shipped, StockTransferLine.received)
        .join(Product, Product.id == StockTransferLine.product_id)
        .where(StockTransferLine.transfer_id == t.id).order_by(Product.sku)))
    return TransferView(t.id, transfer_number(t.id), _code(session, t.from_location_id), _code(session, t.to_location_id),
                        t.status, status_title(t.status), t.note, t.created_at, t.shipped_at, lines)


def list_transfers(session: Session, *, status: str | None = None, limit: int = 200) -> list[TransferView]:
    q = select(StockTransfer.id).order_by(StockTransfer.id.desc()).limit(limit)
    if status:
        q = q.where(StockTransfer.status == status)
    return [transfer_detail(session, tid) for tid in session.scalars(q)]


def in_transit(session: Session, *, to_location: int | str | None = None,
               products: list[int] | None = None) -> dict[tuple[int, int], int]:
    """Units shipped and not yet received, by (product id, the location they are going to)."""
    q = (select(StockTransferLine.product_id, StockTransfer.to_location_id,
                func.sum(StockTransferLine.shipped - StockTransferLine.received))
         .join(StockTransfer, StockTransfer.id == StockTransferLine.transfer_id)
         .where(StockTransfer.status.in_([TransferStatus.SHIPPED.value, TransferStatus.PARTLY_RECEIVED.value]))
         .group_by(StockTransferLine.product_id, StockTransfer.to_location_id))
    if to_location is not None:
        q = q.where(StockTransfer.to_location_id == inventory.location_id(session, to_location))
    if products is not None:
        q = q.where(StockTransferLine.product_id.in_(products))
    return {(p, l): int(n) for p, l, n in session.execute(q) if n}
