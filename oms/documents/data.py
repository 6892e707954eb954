"""What goes on each document, as plain frozen dataclasses, and the builders that read it from the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterable, Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from oms.catalog.models import Barcode, Product
from oms.core.address import Address
from oms.core.errors import Conflict, InvalidInput, NotFound
from oms.core.i18n import _
from oms.core.settings import Settings
from oms.core.types import utcnow
from oms.inventory.models import Bin, Location
from oms.orders.models import OrderType, SalesOrder
from oms.shipping.models import Pallet, Shipment, ShipmentLine, ShipmentStatus

from .barcodes import Symbol, product_symbol


@dataclass(frozen=True)
class ShopInfo:
    name: str
    return_address: tuple[str, ...] = ()
    logo_path: str = ""
    return_instructions: str = ""

    @classmethod
    def from_settings(cls, settings: Settings, fallback_address: Address | None = None) -> ShopInfo:
        lines = tuple(line.strip() for line in settings.return_address.splitlines() if line.strip())
        if not lines and fallback_address is not None:
            lines = tuple(fallback_address.lines())
        return cls(settings.company_name, lines, settings.logo_path, settings.return_instructions)


@dataclass(frozen=True)
class ShippingLabelData:
    ship_from: Address
    ship_to: Address
    order_number: str
    shipment_id: int
    carrier: str = ""
    service: str = ""
    tracking_number: str = ""
    weight_g: int = 0  # this package
    shipment_weight_g: int = 0  # all packages of the shipment
    package_index: int = 1
    package_count: int = 1
    ship_date: date | None = None


@dataclass(frozen=True)
class SsccLabelData:
    sscc: str
    ship_from: Address | None = None
    ship_to: Address | None = None
    po_number: str = ""  # the customer's purchase order (wholesale orders)
    order_number: str = ""
    carrier: str = ""
    carton_index: int | None = None  # "1 of 3"
    carton_count: int | None = None
    weight_g: int = 0
    pallet: bool = False


@dataclass(frozen=True)
class ProductLabelData:
    sku: str
    name: str
    symbol: Symbol


@dataclass(frozen=True)
class BinLabelData:
    code: str
    location_code: str = ""


@dataclass(frozen=True)
class SlipLine:
    sku: str
    description: str
    ordered: int
    in_this_shipment: int
    shipped_before: int
    to_follow: int
    cancelled: int = 0


@dataclass(frozen=True)
class PackingSlipData:
    shop: ShopInfo
    order_number: str
    placed_at: datetime
    customer_name: str
    ship_to: Address
    lines: tuple[SlipLine, ...]
    shipment_id: int | None = None
    carrier: str = ""
    service: str = ""  # as a person reads it: "Ground", "Standard", see service_name
    tracking_number: str = ""
    printed_at: datetime = field(default_factory=utcnow)
    wholesale: bool = False  # a retailer's purchase order: no consumer returns text, the PO is quoted
    box_index: int = 1  # this shipment among the order's shipments ("Box 1 of 2")
    box_count: int = 1
    shipped_at: datetime | None = None

    @property
    def units_follow(self) -> int:
        return sum(line.to_follow for line in self.lines)


# -- builders ------------------------------------------------------------------------------------------


def location_address(loc: Location, name: str | None = None) -> Address:
    return Address(name=name if name is not None else loc.name, address1=loc.address1,
                   city=loc.city, region=loc.region, postal_code=loc.postal_code, country=loc.country)


def order_address(order: SalesOrder) -> Address:
    return Address(order.ship_name or order.customer_name, order.ship_company, order.ship_address1, order.ship_address2,
                   order.ship_city, order.ship_region, order.ship_postal_code, order.ship_country, order.ship_phone)


def find_order(session: Session, ref: str) -> SalesOrder:
    """An order by its number, channel order id or database id; a clear error when none or several match."""
    ref = (ref or "").strip()
    if not ref:
        raise InvalidInput(_("Give an order number."))
    found = list(session.scalars(select(SalesOrder).where(or_(SalesOrder.number == ref, SalesOrder.external_id == ref))
                                 .order_by(SalesOrder.id).limit(3)))
    if not found and ref.isdigit():
        order = session.get(SalesOrder, int(ref))
        found = [order] if order else []
    if not found:
        raise NotFound(_("There is no order {ref}.").format(ref=ref))
    if len(found) > 1:
        raise Conflict(_("Order number {ref} exists in more than one sales channel; give the order's id ({ids}).")
                       .format(ref=ref, ids=", ".join(str(o.id) for o in found)))
    return found[0]


def _shipment(session: Session, shipment_id: int) -> Shipment:
    shipment = session.get(Shipment, shipment_id)
    if shipment is None:
        raise NotFound(_("There is no shipment {id}.").format(id=shipment_id))
    if shipment.status == ShipmentStatus.VOIDED.value:
        raise Conflict(_("Shipment {id} was voided; it needs no label.").format(id=shipment_id))
    return shipment


def shipping_label_data(session: Session, shipment_id: int) -> list[ShippingLabelData]:
    """One label per package of the shipment (one label when it has no packages yet)."""
    shipment = _shipment(session, shipment_id)
    order = session.get(SalesOrder, shipment.order_id)
    loc = session.get(Location, shipment.location_id)
    settings = Settings.load()
    ship_from = location_address(loc, name=settings.company_name)
    ship_to = order_address(order)
    packages = list(shipment.packages) or [None]
    total = sum(p.weight_g for p in shipment.packages)
    when = (shipment.shipped_at or utcnow()).date()
    return [
        ShippingLabelData(ship_from, ship_to, order.number, shipment.id, shipment.carrier, shipment.service or order.service_level,
                          (p.tracking_number if p and p.tracking_number else shipment.tracking_number),
                          p.weight_g if p else total, total, i + 1, len(packages), when)
        for i, p in enumerate(packages)
    ]


def sscc_label_data(session: Session, shipment_id: int) -> list[SsccLabelData]:
    """Carton labels for the shipment's packages that carry an SSCC, then one per pallet."""
    shipment = _shipment(session, shipment_id)
    order = session.get(SalesOrder, shipment.order_id)
    loc = session.get(Location, shipment.location_id)
    settings = Settings.load()
    ship_from = location_address(loc, name=settings.company_name)
    ship_to = order_address(order)
    po = order.number if order.order_type == OrderType.WHOLESALE.value else ""
    cartons = [p for p in shipment.packages if p.sscc]
    pallets = list(session.scalars(select(Pallet).where(Pallet.shipment_id == shipment.id).order_by(Pallet.id)))
    if not cartons and not pallets:
        raise Conflict(_("No carton of shipment {id} has an SSCC. Pack it with SSCC labels switched on, "
                         "or print new SSCC labels with “doc sscc”.").format(id=shipment_id))
    out = [SsccLabelData(p.sscc, ship_from, ship_to, po, order.number, shipment.carrier, i + 1, len(cartons), p.weight_g)
           for i, p in enumerate(cartons)]
    out += [SsccLabelData(p.sscc, ship_from, ship_to, po, order.number, shipment.carrier, i + 1, len(pallets), p.weight_g,
                          pallet=True) for i, p in enumerate(pallets)]
    return out


def product_label_data(session: Session, skus: Sequence[str]) -> list[ProductLabelData]:
    """Labels for the given SKUs (or barcodes), in the order given; an unknown SKU is an error."""
    if not skus:
        raise InvalidInput(_("Give at least one SKU."))
    out = []
    for sku in skus:
        product = session.scalar(select(Product).where(Product.sku == sku))
        if product is None:
            product = session.scalar(select(Product).join(Barcode).where(Barcode.code == sku))
        if product is None:
            raise NotFound(_("There is no product with SKU or barcode {sku}.").format(sku=sku))
        codes = [(b.kind, b.code) for b in sorted(product.barcodes, key=lambda b: b.id)]
        out.append(ProductLabelData(product.sku, product.name, product_symbol(product.sku, codes)))
    return out


def bin_label_data(session: Session, location_code: str, codes: Iterable[str] | None = None) -> list[BinLabelData]:
    """Labels for every bin of a location in walk order, or for the bins named in `codes`."""
    loc = session.scalar(select(Location).where(Location.code == location_code))
    if loc is None:
        raise NotFound(_("There is no location {code}.").format(code=location_code))
    q = select(Bin.code).where(Bin.location_id == loc.id).order_by(Bin.pick_sequence, Bin.code)
    wanted = list(codes or [])
    if wanted:
        q = q.where(Bin.code.in_(wanted))
    found = list(session.scalars(q))
    missing = [c for c in wanted if c not in found]
    if missing:
        raise NotFound(_("Location {loc} has no bin {bins}.").format(loc=location_code, bins=", ".join(missing)))
    if not found:
        raise NotFound(_("Location {loc} has no bins.").format(loc=location_code))
    return [BinLabelData(code, loc.code) for code in found]


# Service levels as a person says them; a carrier's own service names ("Ground", "Priority") print as they are.
_SERVICE_NAMES = {"standard": "Standard", "ground": "Ground", "expedited": "Expedited", "overnight": "Overnight"}


def service_name(service: str) -> str:
    """A service level or carrier service as printed for a person: "ground" reads "Ground", FEDEX_2_DAY "Fedex 2 Day"."""
    known = _SERVICE_NAMES.get(service.strip().lower())
    if known:
        return _(known)
    words = service.replace("_", " ").strip()
    return words.title() if words.islower() or words.isupper() else words


def carrier_name(carrier: str) -> str:
    """A carrier as printed: a lower-case code ("ups") in capitals, a name ("FedEx") as it is."""
    return carrier.upper() if carrier.islower() else carrier


def packing_slips_data(session: Session, order_ref: str | int, shipment_id: int | None = None,
                       settings: Settings | None = None) -> list[PackingSlipData]:
    """The packing slips of an order: what is in each box and what follows.

    With `shipment_id`, that shipment's slip. Without it, an order that has shipped (or
    been packed) gets one slip per shipment, each saying what went in that box; an
    order not yet packed gets one slip with everything still open in the box.
    """
    settings = settings or Settings.load()
    order = session.get(SalesOrder, order_ref) if isinstance(order_ref, int) else find_order(session, order_ref)
    if order is None:
        raise NotFound(_("There is no order {ref}.").format(ref=order_ref))
    live = list(session.scalars(select(Shipment).where(Shipment.order_id == order.id,
                                                       Shipment.status != ShipmentStatus.VOIDED.value)
                                .order_by(Shipment.id)))
    if shipment_id is not None:
        shipment = _shipment(session, shipment_id)
        if shipment.order_id != order.id:
            raise Conflict(_("Shipment {id} belongs to another order, not {number}.").format(id=shipment_id, number=order.number))
        chosen: list[Shipment | None] = [shipment]
    else:
        chosen = list(live) or [None]
    # Quantities per line in each live shipment, to tell "in this box" from "before" and "to follow".
    rows = session.execute(
        select(ShipmentLine.order_line_id, ShipmentLine.shipment_id, func.sum(ShipmentLine.quantity))
        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .where(Shipment.order_id == order.id, Shipment.status != ShipmentStatus.VOIDED.value)
        .group_by(ShipmentLine.order_line_id, ShipmentLine.shipment_id)).all()
    wholesale = order.order_type == OrderType.WHOLESALE.value
    live_ids = [s.id for s in live]
    slips = []
    for shipment in chosen:
        lines = []
        for line in order.lines:
            mine = [(sid, int(q)) for lid, sid, q in rows if lid == line.id]
            open_qty = line.quantity - line.cancelled
            if shipment is None:
                before = line.shipped
                this = max(0, open_qty - before)
                follow = 0
            else:
                this = sum(q for sid, q in mine if sid == shipment.id)
                before = sum(q for sid, q in mine if sid < shipment.id)
                follow = max(0, open_qty - before - this)
            lines.append(SlipLine(line.sku, line.description or line.sku, line.quantity, this, before, follow, line.cancelled))
        loc_id = shipment.location_id if shipment else order.location_id
        loc = session.get(Location, loc_id) if loc_id else None
        shop = ShopInfo.from_settings(settings, location_address(loc, name=settings.company_name) if loc else None)
        index = live_ids.index(shipment.id) + 1 if shipment is not None and shipment.id in live_ids else 1
        slips.append(PackingSlipData(
            shop, order.number, order.placed_at, order.customer_name, order_address(order), tuple(lines),
            shipment.id if shipment else None, carrier_name(shipment.carrier) if shipment else "",
            service_name((shipment.service if shipment else "") or order.service_level),
            shipment.tracking_number if shipment else "", wholesale=wholesale, box_index=index,
            box_count=max(1, len(live_ids)), shipped_at=shipment.shipped_at if shipment else None))
    return slips


# -- SSCC serials ------------------------------------------------------------------------------------
