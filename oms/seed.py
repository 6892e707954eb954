"""Demo data: warehouses and a 3PL, ~500 products with barcodes and stock, channels, and orders in every state."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oms import catalog, fulfilment, intake, inventory, orders, orders as oms_orders, routing, users
from oms.catalog.models import Product
from oms.core.audit import Actor
from oms.core.db import Database
from oms.core.gs1 import gs1_check_digit
from oms.core.types import at_time
from oms.inventory.models import Bin, BinStock, Location
from oms.orders.contract import Address, NormalizedLine, NormalizedOrder
from oms.orders.models import Allocation, OrderLine, SalesOrder
from oms.routing import restock
from oms.shipping import shipments

SEED_ACTOR = Actor("demo", "seed")
# The demo's people (no password or PIN: a demo database never asks anyone to sign in); Sam is who the demo
# signs in as.
DEMO_USERS = [("maria", "Maria Lopez", "packer"), ("deshawn", "Deshawn Carter", "picker"),
              ("priya", "Priya Raman", "customer_service"), ("tom", "Tom Becker", "supervisor"),
              ("sam", "Sam", "supervisor")]  # oms.users.DEMO_SUPERVISOR
GS1_PREFIX = "0614141"  # the GS1 example company prefix

LOCATIONS = [
    # code, name, kind, priority, city, region, postal, aisles
    ("RNO", "Reno Warehouse", "warehouse", 10, "Reno", "NV", "89502", "ABCDEFGH"),
    ("EWR", "Newark Warehouse", "warehouse", 20, "Newark", "NJ", "07114", "ABCDEFGH"),
    ("DFW3PL", "ShipRight 3PL Dallas", "3pl", 30, "Dallas", "TX", "75212", "AB"),
]
CHANNELS = [
    ("web", "Harbor & Pine web shop", "shopify", "dtc"),
    ("amazon", "Amazon US", "amazon", "marketplace"),
    ("northwind", "Northwind Retail (EDI)", "edi_x12", "wholesale"),
]
PRODUCTS = [
    # prefix, noun, variants, sizes, base price (cents), weight g, tags
    ("MUG", "Stoneware Mug", ["RED", "BLU", "GRN", "WHT", "BLK", "SAND"], ["12OZ", "16OZ"], 1400, 420, "kitchen,fragile"),
    ("LANT", "Storm Lantern", ["BRASS", "BLK", "COPPER"], ["S", "L"], 3900, 1100, "outdoor,fragile"),
    ("TOTE", "Canvas Tote", ["NAT", "NAVY", "OLIVE", "RUST"], ["STD", "XL"], 2200, 350, "bags"),
    ("CNDL", "Soy Candle", ["CEDAR", "FIG", "SEA", "AMBER", "PINE"], ["8OZ", "14OZ"], 1800, 500, "home,hazmat-free"),
    ("BLNK", "Wool Throw Blanket", ["GREY", "OAT", "RED", "NAVY"], ["STD"], 8900, 1600, "home,bulky"),
    ("BOWL", "Ceramic Bowl", ["WHT", "SAGE", "CLAY"], ["SM", "MD", "LG"], 1600, 480, "kitchen,fragile"),
    ("BTL", "Insulated Bottle", ["BLK", "WHT", "TEAL", "CORAL", "SAND"], ["500", "750"], 2900, 380, "outdoor"),
    ("TWL", "Linen Tea Towel", ["NAT", "STRIPE", "CHECK", "INDIGO"], ["2PK"], 1900, 200, "kitchen"),
    ("CUTB", "Oak Cutting Board", ["OAK", "WALNUT"], ["S", "M", "L"], 4500, 1400, "kitchen,bulky"),
    ("BLKT", "Picnic Blanket", ["PLAID", "NAVY", "RED"], ["STD"], 5900, 1300, "outdoor,bulky"),
    ("NTBK", "Dot Grid Notebook", ["BLK", "KRAFT", "GRN", "RED", "BLU"], ["A5", "A6"], 1200, 250, "stationery"),
    ("PEN", "Brass Pen", ["BRASS", "BLK"], ["STD"], 3400, 60, "stationery"),
    ("PLNT", "Terracotta Planter", ["TERRA", "WHT", "BLK"], ["4IN", "6IN", "8IN"], 2100, 900, "garden,fragile"),
    ("GLVS", "Garden Gloves", ["GRN", "TAN"], ["S", "M", "L"], 1500, 150, "garden"),
    ("SOAP", "Olive Oil Soap", ["LAV", "MINT", "PLAIN", "CITRUS"], ["3PK"], 1300, 330, "bath"),
    ("TWLB", "Bath Towel", ["WHT", "GREY", "SAGE", "NAVY"], ["BATH", "HAND"], 3200, 700, "bath"),
    ("APRN", "Canvas Apron", ["NAT", "BLK", "RUST"], ["STD"], 3600, 400, "kitchen"),
    ("CRAF", "Glass Carafe", ["CLR"], ["1L"], 2800, 800, "kitchen,fragile"),
    ("HAMK", "Cotton Hammock", ["NAT", "STRIPE"], ["STD"], 9900, 2100, "outdoor,bulky"),
    ("KNIF", "Camp Knife", ["OAK", "BLK"], ["STD"], 4900, 180, "outdoor"),
]
COLOURS = {"RED": "Red", "BLU": "Blue", "GRN": "Green", "WHT": "White", "BLK": "Black", "SAND": "Sand", "BRASS": "Brass",
           "COPPER": "Copper", "NAT": "Natural", "NAVY": "Navy", "OLIVE": "Olive", "RUST": "Rust", "CEDAR": "Cedar",
           "FIG": "Fig", "SEA": "Sea Salt", "AMBER": "Amber", "PINE": "Pine", "GREY": "Grey", "OAT": "Oat", "SAGE": "Sage",
           "CLAY": "Clay", "TEAL": "Teal", "CORAL": "Coral", "STRIPE": "Stripe", "CHECK": "Check", "INDIGO": "Indigo",
           "OAK": "Oak", "WALNUT": "Walnut", "PLAID": "Plaid", "KRAFT": "Kraft", "TERRA": "Terracotta", "TAN": "Tan",
           "LAV": "Lavender", "MINT": "Mint", "PLAIN": "Unscented", "CITRUS": "Citrus", "CLR": "Clear"}
FIRST = ["Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "Lucas", "Mia", "Mateo", "Amelia",
         "Benjamin", "Harper", "Theo", "Evelyn", "Henry", "Priya", "Deshawn", "Maria", "Tom", "Aiko", "Kwame", "Sofia", "Omar",
         "Chloe", "Diego", "Grace", "Hannah", "Jun", "Leila", "Marcus", "Nina", "Rosa", "Samuel", "Yara", "Zoe", "Ethan", "Lena"]
LAST = ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez", "Hernandez",
        "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson",
        "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
        "Nguyen", "Patel", "Kim", "Okafor", "Schmidt"]
CITIES = [("Seattle", "WA", "98101"), ("Portland", "OR", "97205"), ("San Francisco", "CA", "94103"), ("Los Angeles", "CA", "90012"),
          ("San Diego", "CA", "92101"), ("Phoenix", "AZ", "85004"), ("Denver", "CO", "80202"), ("Salt Lake City", "UT", "84101"),
          ("Austin", "TX", "78701"), ("Houston", "TX", "77002"), ("Chicago", "IL", "60601"), ("Minneapolis", "MN", "55401"),
          ("Atlanta", "GA", "30303"), ("Miami", "FL", "33130"), ("Nashville", "TN", "37203"), ("Boston", "MA", "02108"),
          ("New York", "NY", "10001"), ("Brooklyn", "NY", "11201"), ("Philadelphia", "PA", "19103"), ("Washington", "DC", "20001"),
          ("Raleigh", "NC", "27601"), ("Columbus", "OH", "43215"), ("Detroit", "MI", "48226"), ("Boise", "ID", "83702"),
          ("Albuquerque", "NM", "87102"), ("Kansas City", "MO", "64105"), ("Pittsburgh", "PA", "15222"), ("Reno", "NV", "89501")]
STREETS = ["Main St", "Oak Ave", "Pine St", "Maple Ave", "Cedar Ln", "Elm St", "Harbor Blvd", "Lake Dr", "Hill Rd", "Park Ave",
           "2nd St", "Washington St", "Sunset Blvd", "Mission St", "River Rd"]
RULES = [
    ("Hold high-value web orders for a fraud check", {"channel": ["web"], "value_min_minor": 150000},
     {"hold_reason": "High value: check payment before shipping"}),
    ("Wholesale ships complete", {"order_type": ["wholesale"]}, {"split": "ship_complete", "service_level": "ground"}),
    ("Fragile items only from own warehouses", {"sku_tag": ["fragile"]}, {"allowed_locations": ["RNO", "EWR"], "split": "allow"}),
    ("Marketplace: 3PL first", {"channel": ["amazon"]}, {"preferred_locations": ["DFW3PL"], "split": "allow"}),
]
RETAILERS = [("Northwind Retail DC 14", "Northwind Retail"), ("Northwind Retail Store 221", "Northwind Retail")]
# What a parcel of each service level goes by: overnight by an overnight service, a business (a retailer's
# distribution centre or store) by a ground service, never a residential one. Three choices each.
CARRIER_SERVICES = {
    "overnight": [("UPS", "Next Day Air"), ("FedEx", "Priority Overnight"), ("USPS", "Priority Mail Express")],
    "expedited": [("UPS", "2nd Day Air"), ("FedEx", "2Day"), ("USPS", "Priority Mail")],
    "standard": [("UPS", "Ground"), ("USPS", "Ground Advantage"), ("FedEx", "Home Delivery")],
    "ground": [("UPS", "Ground"), ("FedEx", "Ground"), ("UPS", "Ground")],
}


@dataclass
class SeedReport:
    products: int
    orders: int
    by_status: dict[str, int]


def master_data(db: Database, *, rng: random.Random | None = None, products: int = 500) -> None:
    """Locations, bins, channels, users and products with stock; skipped if products exist."""
    rng = rng or random.Random(7)
    with db.write() as s:
        if s.scalar(select(func.count()).select_from(Product)):
            return
        for code, name, kind, prio, city, region, postal, aisles in LOCATIONS:
            lid = inventory.add_location(s, SEED_ACTOR, code, name, kind=kind, priority=prio, city=city, region=region,
                                       postal_code=postal, address1=f"{rng.randint(100, 9999)} Industrial Way")
            bins = [f"{a}-{bay:02d}-{level}" for a in aisles for bay in range(1, 13) for level in range(1, 5)]
            inventory.add_bins(s, lid, bins)
        for code, name, kind, otype in CHANNELS:
            oms_orders.add_channel(s, SEED_ACTOR, code, name, kind, otype)
        routing.seed_rates(s)
        routing.ensure_default_rule(s)
        for name, conditions, actions in RULES:
            routing.save_rule(s, SEED_ACTOR, name, conditions, actions)
        for username, display, role in DEMO_USERS:
            users.add_user(s, SEED_ACTOR, username, display, role, demo=True)
        skus = _product_specs(products)
        item_ref = 10000
        bins_by_loc = {lid: codes for lid, codes in _bins(s).items()}
        loc_ids = [l for l, in s.execute(select(Location.id).order_by(Location.priority))]
        for sku, name, price, weight, tags in skus:
            item_ref += 1
            body = GS1_PREFIX + f"{item_ref:05d}"
            gtin13 = body + str(gs1_check_digit(body))
            pid = catalog.add_product(s, SEED_ACTOR, sku, name, price=price, weight_g=weight, tags=tags,
                                      barcodes=[("ean", gtin13), ("custom", f"QS{item_ref}")])
            roll = rng.random()
            for i, lid in enumerate(loc_ids):
                if roll < 0.04:
                    continue  # out of stock everywhere: these make backorders
                if i > 0 and rng.random() < 0.35:
                    continue
                qty = rng.choice([6, 12, 24, 24, 36, 48, 60, 120]) if i < 2 else rng.choice([12, 24, 48])
                restock.receive(s, SEED_ACTOR, pid, lid, qty, bin=rng.choice(bins_by_loc[lid]), reference="PO-OPENING")


def _bins(session: Session) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for lid, code in session.execute(select(Bin.location_id, Bin.code).order_by(Bin.pick_sequence)):
        out.setdefault(lid, []).append(code)
    return out


def _product_specs(n: int) -> list[tuple[str, str, int, int, str]]:
    specs = []
    for prefix, noun, variants, sizes, price, weight, tags in PRODUCTS:
        for v in variants:
            for size in sizes:
                bump = 1 + 0.25 * sizes.index(size)
                specs.append((f"{prefix}-{v}-{size}" if size != "STD" else f"{prefix}-{v}",
                              f"{noun}, {COLOURS.get(v, v.title())}" + ("" if size == "STD" else f", {size.lower()}"),
                              int(price * bump) // 100 * 100 - 1, int(weight * bump), tags))
    # Fill up to n with numbered editions so the catalogue has the size a small shop has.
    i = 0
    base = list(specs)
    while len(specs) < n:
        sku, name, price, weight, tags = base[i % len(base)]
        edition = i // len(base) + 2
        specs.append((f"{sku}-E{edition}", f"{name} (edition {edition})", price, weight, tags))
        i += 1
    return specs[:n]


def demo_orders(db: Database, n: int, *, rng: random.Random | None = None, now: datetime | None = None,
                progress: Callable[[int], None] | None = None) -> SeedReport:
    """n orders placed over the last 30 days, each taken as far as its age makes believable."""
    rng = rng or random.Random(11)
    now = now or datetime.now(timezone.utc)
    with db.read() as s:
        catalog_rows = s.execute(select(Product.sku, Product.name, Product.price_minor)).all()
        start = s.scalar(select(func.count()).select_from(SalesOrder)) or 0
    placed = sorted(now - timedelta(minutes=rng.randint(5, 30 * 24 * 60)) for _ in range(n))
    done = 0
    for chunk_start in range(0, n, 200):
        batch = []
        for k in range(chunk_start, min(n, chunk_start + 200)):
            batch.append(_demo_order(rng, start + k, placed[k], catalog_rows))
        with db.write() as s:
            for order in batch:
                with at_time(order.placed_at):
                    result = intake.take_in(s, SEED_ACTOR, [order]).results[0]
                _advance(s, rng, result.order_id, order, now)
        done += len(batch)
        if progress:
            progress(done)
    with db.read() as s:
        by_status = dict(s.execute(select(SalesOrder.status, func.count()).group_by(SalesOrder.status)).all())
        count = s.scalar(select(func.count()).select_from(Product))
    return SeedReport(count, n, by_status)


def _demo_order(rng: random.Random, k: int, placed: datetime, catalog_rows) -> NormalizedOrder:
    r = rng.random()
    channel, otype = ("web", "dtc") if r < 0.6 else ("amazon", "marketplace") if r < 0.9 else ("northwind", "wholesale")
    first, last = rng.choice(FIRST), rng.choice(LAST)
    city, region, postal = rng.choice(CITIES)
    wholesale = otype == "wholesale"
    nlines = rng.choice([1, 1, 1, 2, 2, 3]) if not wholesale else rng.randint(3, 8)
    picks = rng.sample(catalog_rows, nlines)
    lines = []
    for j, (sku, name, price) in enumerate(picks):
        qty = rng.choice([1, 1, 1, 2]) if not wholesale else rng.choice([6, 12, 24])
        lines.append(NormalizedLine(str(j + 1), sku, qty, price if not wholesale else price // 2, name))
    if rng.random() < 0.004:
        lines.append(NormalizedLine(str(len(lines) + 1), f"OLD-{rng.randint(100, 999)}", 1, 999, "Discontinued item"))
    subtotal = sum(l.quantity * l.unit_price_minor for l in lines)
    shipping = 0 if wholesale or subtotal > 7500 else 795
    tax = subtotal * 8 // 100 if not wholesale else 0
    number = {"web": f"#{10000 + k}", "amazon": f"113-{rng.randint(1000000, 9999999)}-{rng.randint(1000000, 9999999)}",
              "northwind": f"PO{450000 + k}"}[channel]
    name = f"{first} {last}"
    company, _ = rng.choice(RETAILERS) if wholesale else ("", "")
    service = "ground" if wholesale else rng.choice(["standard", "standard", "standard", "expedited", "overnight"])
    days = {"standard": 2, "ground": 3, "expedited": 1, "overnight": 0}[service]
    ship_by = (placed + timedelta(days=days)).replace(hour=22, minute=0, second=0, microsecond=0)
    return NormalizedOrder(
        channel=channel, external_id=f"{channel.upper()}-{100000 + k}", number=number, placed_at=placed, currency="USD",
        lines=tuple(lines), order_type=otype, customer_name=company or name,
        customer_email=f"{first}.{last}{k % 97}@example.com".lower() if not wholesale else "edi@northwind.example",
        ship_to=Address(name=name if not wholesale else "Receiving", company=company,
                        address1=f"{rng.randint(10, 9999)} {rng.choice(STREETS)}", city=city, region=region,
                        postal_code=postal, country="US", phone=f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}"),
        subtotal_minor=subtotal, shipping_minor=shipping, tax_minor=tax, total_minor=subtotal + shipping + tax,
        service_level=service, ship_by=ship_by, deliver_by=placed + timedelta(days=days + 4),
    )


def _advance(s: Session, rng: random.Random, order_id: int, order: NormalizedOrder, now: datetime) -> None:
    """Take a freshly imported order as far as its age suggests, through the real services."""
    age_h = (now - order.placed_at).total_seconds() / 3600
    status = s.scalar(select(SalesOrder.status).where(SalesOrder.id == order_id))
    t = order.placed_at
    roll = rng.random()
    if status in ("on_hold", "backordered", "partially_allocated", "new"):
        if status == "partially_allocated" and age_h > 72 and roll < 0.5:
            with at_time(t + timedelta(hours=2)):
                orders.cancel_order(s, Actor("priya", "service-1"), order_id, reason="Customer did not want to wait for the backorder")
        return
    if roll < 0.02:
        with at_time(t + timedelta(minutes=30)):
            orders.cancel_order(s, Actor("priya", "service-1"), order_id, reason="Customer asked to cancel")
        return
    if roll < 0.035 and age_h < 72:
        with at_time(t + timedelta(minutes=20)):
            orders.hold(s, Actor("priya", "service-1"), order_id, "Address check: customer asked to confirm the apartment number")
        return
    # Progress: picked after ~1-4 h, packed ~20 min later, shipped at the evening pickup, delivered 1-4 days later.
    pick_at = t + timedelta(hours=rng.uniform(0.7, 4))
    if pick_at > now:
        return
    lines = s.execute(select(OrderLine.id, OrderLine.allocated, OrderLine.product_id, Allocation.location_id)
                      .join(Allocation, Allocation.order_line_id == OrderLine.id)
                      .where(OrderLine.order_id == order_id).order_by(OrderLine.id)).all()
    by_location: dict[int, list] = {}
    for line in lines:
        by_location.setdefault(line.location_id, []).append(line)
    picker = Actor("deshawn", "pick-1")
    with at_time(pick_at):
        for line in lines:
            orders.record_pick(s, picker, line.id, line.allocated, bin=_bin_with(s, line.product_id, line.location_id, line.allocated))
    pack_at = pick_at + timedelta(minutes=rng.uniform(5, 40))
    if pack_at > now:
        return
    packer = Actor("maria", "pack-1")
    wholesale = order.order_type == "wholesale"
    with at_time(pack_at):
        shipment_ids = []
        for group in by_location.values():
            weight = rng.randint(300, 4000)
            if wholesale:  # a retailer's cartons: one per line, each with its SSCC, as the packing bench does it
                ssccs = fulfilment.allocate_ssccs(s, len(group), GS1_PREFIX)
                items = [shipments.PackItem(l.id, l.allocated, i) for i, l in enumerate(group)]
                specs = [shipments.PackageSpec(box="CTN", weight_g=max(300, weight // len(group)), sscc=code) for code in ssccs]
            else:
                items = [shipments.PackItem(l.id, l.allocated) for l in group]
                specs = [shipments.PackageSpec(box="M", weight_g=weight)]
            shipment_ids.append(shipments.pack(s, packer, order_id, items, specs))
    ship_at = pack_at.replace(hour=23, minute=30) if pack_at.hour < 23 else pack_at + timedelta(minutes=20)
    if ship_at > now:
        return
    for shipment_id in shipment_ids:
        carrier, service = rng.choice(CARRIER_SERVICES.get(order.service_level, CARRIER_SERVICES["standard"]))
        tracking = {"UPS": "1Z" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(16)),
                    "USPS": "9400" + "".join(rng.choice("0123456789") for _ in range(18)),
                    "FedEx": "".join(rng.choice("0123456789") for _ in range(12))}[carrier]
        with at_time(ship_at):
            shipments.confirm(s, packer, shipment_id, carrier=carrier, service=service, tracking_number=tracking)
        for hours, st, desc in [(2, "in_transit", "Departed facility"), (rng.uniform(24, 90), "delivered", "Delivered, front door")]:
            at = ship_at + timedelta(hours=hours)
            if at > now:
                break
            with at_time(at):
                shipments.add_tracking_event(s, Actor("system", "carrier"), shipment_id, st, at, description=desc)


def _bin_with(s: Session, pid: int, lid: int, qty: int) -> str | None:
    return s.scalar(select(Bin.code).join(BinStock, BinStock.bin_id == Bin.id)
                    .where(Bin.location_id == lid, BinStock.product_id == pid, BinStock.on_hand >= qty)
                    .order_by(Bin.pick_sequence).limit(1))


def is_seeded(db: Database) -> bool:
    with db.read() as s:
        return bool(s.scalar(select(func.count()).select_from(Product)))
