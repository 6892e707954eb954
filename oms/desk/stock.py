"""A product's stock at a glance: found by scan (any barcode, GS1 element strings too) or search, with
levels per location and bin and the latest movements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oms import inventory
from oms.catalog.models import Barcode, Product
from oms.core.gs1 import Gs1Error, classify_scan, is_valid_gtin, normalize_gtin
from oms.core.i18n import _
from oms.desk.queue import _prefix
from oms.desk.search import MIN_SEARCH
from oms.inventory.models import Bin, BinStock, Location, StockLevel, StockMovement
from oms.inventory.stock import LevelView
from oms.orders.models import OrderLine


@dataclass(frozen=True)
class ProductHit:
    id: int
    sku: str
    name: str
    on_hand: int
    available: int


@dataclass(frozen=True)
class BinRow:
    location: str
    bin: str
    on_hand: int


@dataclass(frozen=True)
class MovementRow:
    at: datetime
    location: str
    bin: str
    kind: str
    quantity: int
    reason: str
    reference: str
    who: str


@dataclass(frozen=True)
class StockDetail:
    id: int
    sku: str
    name: str
    active: bool
    barcodes: tuple[str, ...]
    levels: tuple[LevelView, ...]  # every active location, zero where it has none
    bins: tuple[BinRow, ...]
    backordered: int  # units open orders wait for
    movements: tuple[MovementRow, ...]

    @property
    def on_hand(self) -> int:
        return sum(l.on_hand for l in self.levels)

    @property
    def available(self) -> int:
        return sum(l.available for l in self.levels)


@dataclass(frozen=True)
class StockLookup:
    """The answer to a typed or scanned lookup: one product, or candidates to choose from."""

    query: str
    product: StockDetail | None = None
    candidates: tuple[ProductHit, ...] = ()
    message: str = ""


def _gtin_forms(gtin14: str) -> list[str]:
    # Barcodes are stored as printed (UPC-A 12, EAN-13, GTIN-14, EAN-8); a scan gives 14 digits.
    forms = [gtin14, gtin14[1:], gtin14[2:]]
    if gtin14.startswith("000000"):
        forms.append(gtin14[6:])
    return forms


def product_for_code(session: Session, code: str) -> int | None:
    """The product a SKU, a barcode (any GTIN length) or GS1 data with an AI 01 names."""
    code = code.strip()
    if not code:
        return None
    pid = session.scalar(select(Product.id).where(Product.sku == code))
    if pid is None:
        pid = session.scalar(select(Barcode.product_id).where(Barcode.code == code))
    if pid is None:
        gtin = None
        if code.isdigit() and is_valid_gtin(code):
            gtin = normalize_gtin(code)
        else:
            try:
                gtin = classify_scan(code).gtin
            except Gs1Error:
                gtin = None
        if gtin:
            pid = session.scalar(select(Barcode.product_id).where(Barcode.code.in_(_gtin_forms(gtin))).limit(1))
    if pid is None and code.upper() != code:
        pid = session.scalar(select(Product.id).where(Product.sku == code.upper()))
    return pid


def stock_lookup(session: Session, text: str, *, gtin: str | None = None, limit: int = 50) -> StockLookup:
    """Look stock up by SKU, barcode, GS1 data or part of a product name."""
    query = text.strip()
    pid = None
    if gtin:
        pid = session.scalar(select(Barcode.product_id).where(Barcode.code.in_(_gtin_forms(gtin))).limit(1))
    if pid is None and query:
        pid = product_for_code(session, query)
    if pid is not None:
        return StockLookup(query, product=stock_detail(session, pid))
    if len(query) < MIN_SEARCH:
        return StockLookup(query, message=_("Type at least two letters of a SKU or name, or scan a barcode."))
    hits = product_search(session, query, limit=limit)
    if not hits:
        return StockLookup(query, message=_("No product matches “{query}”.").format(query=query))
    if len(hits) == 1:
        return StockLookup(query, product=stock_detail(session, hits[0].id))
    return StockLookup(query, candidates=hits)


def product_search(session: Session, text: str, *, limit: int = 50) -> tuple[ProductHit, ...]:
    """Products whose SKU starts with, or whose name contains, the text; SKU matches first."""
    q = " ".join(text.split())
    sku_ids = list(session.scalars(select(Product.id).where(_prefix(Product.sku, q.upper())).order_by(Product.sku).limit(limit)))
    ids = list(sku_ids)
    if len(ids) < limit:
        pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        more = session.scalars(select(Product.id).where(func.lower(Product.name).like(pattern, escape="\\"))
                               .order_by(Product.name).limit(limit)).all()
        ids += [i for i in more if i not in set(sku_ids)][: limit - len(ids)]
    if not ids:
        return ()
    stock = {r[0]: (int(r[1]), int(r[2])) for r in session.execute(
        select(StockLevel.product_id, func.sum(StockLevel.on_hand), func.sum(StockLevel.on_hand - StockLevel.allocated))
        .where(StockLevel.product_id.in_(ids)).group_by(StockLevel.product_id))}
    rows = {r.id: r for r in session.execute(select(Product.id, Product.sku, Product.name).where(Product.id.in_(ids)))}
    return tuple(ProductHit(i, rows[i].sku, rows[i].name, *stock.get(i, (0, 0))) for i in ids)


def stock_detail(session: Session, product_id: int, *, movements: int = 15) -> StockDetail | None:
    p = session.execute(select(Product.id, Product.sku, Product.name, Product.active).where(Product.id == product_id)).first()
    if p is None:
        return None
    barcodes = tuple(session.scalars(select(Barcode.code).where(Barcode.product_id == product_id).order_by(Barcode.id)))
    levels = tuple(inventory.levels(session, product_id))
    bins = tuple(
        BinRow(*r) for r in session.execute(
            select(Location.code, Bin.code, BinStock.on_hand)
            .join(Bin, Bin.id == BinStock.bin_id).join(Location, Location.id == Bin.location_id)
            .where(BinStock.product_id == product_id, BinStock.on_hand > 0)
            .order_by(Location.priority, Bin.pick_sequence))
    )
    backordered = int(session.scalar(select(func.coalesce(func.sum(OrderLine.backordered), 0))
                                     .where(OrderLine.product_id == product_id)) or 0)
    moves = tuple(
        MovementRow(m.created_at, m.location, m.bin or "", m.kind, m.quantity, m.reason, m.reference, m.user)
        for m in session.execute(
            select(StockMovement.created_at, Location.code.label("location"), Bin.code.label("bin"), StockMovement.kind,
                   StockMovement.quantity, StockMovement.reason, StockMovement.reference, StockMovement.user)
            .join(Location, Location.id == StockMovement.location_id)
            .outerjoin(Bin, Bin.id == StockMovement.bin_id)
            .where(StockMovement.product_id == product_id).order_by(StockMovement.id.desc()).limit(movements))
    )
    return StockDetail(p.id, p.sku, p.name, bool(p.active), barcodes, levels, bins, backordered, moves)
