"""Adding products and their barcodes; a GTIN-type code must carry a valid check digit."""

from __future__ import annotations

from sqlalchemy.orm import Session

from oms.catalog.models import Barcode, Product
from oms.core import audit, money, validate
from oms.core.audit import Actor
from oms.core.errors import InvalidInput
from oms.core.gs1 import is_valid_gtin
from oms.core.i18n import _
from oms.core.types import LINE, NAME, SHORT
from oms.core.validate import unique

BARCODE_KINDS = ("gtin", "upc", "ean", "custom")


def add_product(session: Session, actor: Actor, sku: str, name: str, *, price: str | int = 0, currency: str = "USD",
                weight_g: int = 0, tags: str = "", barcodes: list[tuple[str, str]] | None = None) -> int:
    """A new product; barcodes are (kind, code) pairs and GTIN-type codes must carry a valid check digit."""
    sku = validate.text(sku, "SKU", SHORT, required=True)
    if any(c.isspace() for c in sku):
        raise InvalidInput(_("A SKU cannot contain spaces ({sku!r}).").format(sku=sku))
    unique(session, Product.sku, sku, _("product with SKU"))
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
    unique(session, Barcode.code, code, _("barcode"))
    session.add(Barcode(product_id=product_id, kind=kind, code=code))
    session.flush()
