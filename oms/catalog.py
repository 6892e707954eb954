"""Master data: products and their barcodes, locations and bins, channels, users."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from . import audit, money, validate
from .audit import Actor
from .errors import Conflict, InvalidInput
from .gs1 import is_valid_gtin
from .i18n import _
from .models import LINE, NAME, SHORT, Barcode, Bin, Channel, Location, LocationKind, OrderType, Product, User

BARCODE_KINDS = ("gtin", "upc", "ean", "custom")


def _unique(session: Session, column, value, what: str) -> None:
    if session.scalar(select(column).where(column == value)) is not None:
        raise Conflict(_("A {what} {value} already exists.").format(what=what, value=value))


def add_channel(session: Session, actor: Actor, code: str, name: str, kind: str,
                default_order_type: str = OrderType.DTC.value) -> int:
    code = validate.text(code, "channel code", SHORT, required=True)
    name = validate.text(name, "channel name", NAME, required=True)
    kind = validate.text(kind, "channel kind", SHORT, required=True)
    if default_order_type not in {o.value for o in OrderType}:
        raise InvalidInput(_("{value!r} is not an order type.").format(value=default_order_type))
    _unique(session, Channel.code, code, _("channel"))
    channel = Channel(code=code, name=name, kind=kind, default_order_type=default_order_type)
    session.add(channel)
    session.flush()
    audit.record(session, actor, "channel.added", "channel", channel.id, summary=f"{code}: {name} ({kind})")
    return channel.id


def add_location(session: Session, actor: Actor, code: str, name: str, *, kind: str = LocationKind.WAREHOUSE.value,
                 priority: int = 100, address1: str = "", city: str = "", region: str = "", postal_code: str = "",
                 country: str = "US") -> int:
    code = validate.text(code, "location code", SHORT, required=True)
    if kind not in {k.value for k in LocationKind}:
        raise InvalidInput(_("A location is a warehouse or a 3pl, not {value!r}.").format(value=kind))
    _unique(session, Location.code, code, _("location"))
    loc = Location(code=code, name=validate.text(name, "location name", NAME, required=True), kind=kind,
                   priority=validate.quantity(priority, "priority", allow_zero=True),
                   address1=validate.text(address1, "address", LINE), city=validate.text(city, "city", NAME),
                   region=validate.text(region, "region", SHORT), postal_code=validate.text(postal_code, "postal code", SHORT),
                   country=validate.country(country))
    session.add(loc)
    session.flush()
    audit.record(session, actor, "location.added", "location", loc.id, summary=f"{code}: {name} ({kind})")
    return loc.id


def add_bins(session: Session, location_id: int, codes: list[str]) -> list[int]:
    """Add bins to a location; their pick sequence follows the order given (the walk path)."""
    start = session.scalar(select(Bin.pick_sequence).where(Bin.location_id == location_id).order_by(Bin.pick_sequence.desc()).limit(1)) or 0
    rows = [{"location_id": location_id, "code": validate.text(c, "bin code", SHORT, required=True), "pick_sequence": start + (i + 1) * 10}
            for i, c in enumerate(codes)]
    if len({r["code"] for r in rows}) != len(rows):
        raise InvalidInput(_("The same bin code is given twice."))
    return list(session.scalars(insert(Bin).returning(Bin.id, sort_by_parameter_order=True), rows)) if rows else []


def add_product(session: Session, actor: Actor, sku: str, name: str, *, price: str | int = 0, currency: str = "USD",
                weight_g: int = 0, tags: str = "", barcodes: list[tuple[str, str]] | None = None) -> int:
    """A new product; barcodes are (kind, code) pairs and GTIN-type codes must carry a valid check digit."""
    sku = validate.text(sku, "SKU", SHORT, required=True)
    if any(c.isspace() for c in sku):
        raise InvalidInput(_("A SKU cannot contain spaces ({sku!r}).").format(sku=sku))
    _unique(session, Product.sku, sku, _("product with SKU"))
    currency = money.check_currency(currency)
    product = Product(sku=sku, name=validate.text(name, "product name", NAME, required=True),
                      price_minor=money.to_minor(price, currency), currency=currency,
                      weight_g=validate.quantity(weight_g, "weight in grams", allow_zero=True),
                      tags=",".join(t.strip().lower() for t in validate.text(tags, "tags", LINE).split(",") if t.strip()))
    session.add(product)
    session.flush()
    for kind, code in barcodes or []:
        add_barcode(session, product.id, kind, code)
    audit.record(session, actor, "product.added", "product", product.id, summary=f"{sku}: {name}")
    return product.id


def add_barcode(session: Session, product_id: int, kind: str, code: str) -> None:
    if kind not in BARCODE_KINDS:
        raise InvalidInput(_("A barcode kind is one of {kinds}, not {value!r}.").format(kinds=", ".join(BARCODE_KINDS), value=kind))
    code = validate.text(code, "barcode", SHORT, required=True)
    if kind != "custom" and not is_valid_gtin(code):
        raise InvalidInput(_("{code} is not a valid {kind}: wrong length or check digit.").format(code=code, kind=kind.upper()))
    _unique(session, Barcode.code, code, _("barcode"))
    session.add(Barcode(product_id=product_id, kind=kind, code=code))
    session.flush()


def add_user(session: Session, actor: Actor, username: str, display_name: str, role: str = "staff") -> int:
    username = validate.text(username, "user name", SHORT, required=True).lower()
    _unique(session, User.username, username, _("user"))
    user = User(username=username, display_name=validate.text(display_name, "display name", NAME, required=True),
                role=validate.text(role, "role", SHORT, required=True))
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.added", "user", user.id, summary=f"{username} ({role})")
    return user.id
