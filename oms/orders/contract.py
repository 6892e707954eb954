"""The connector contract: the normalized order every channel (shop, marketplace, EDI, 3PL) maps onto,
and the checks it must pass before anything is written."""

from __future__ import annotations

import hashlib
import weakref
from dataclasses import dataclass, field, fields
from datetime import datetime
from functools import cached_property
from typing import Iterable

from oms.core import money, validate, wording
from oms.core.address import Address
from oms.core.errors import InvalidInput
from oms.core.i18n import _
from oms.core.types import LINE, NAME, SHORT
from oms.orders.models import OrderType


@dataclass(frozen=True)
class NormalizedLine:
    external_line_id: str
    sku: str
    quantity: int
    unit_price_minor: int = 0
    description: str = ""


@dataclass(frozen=True)
class NormalizedOrder:
    """An order as a channel sent it, in our terms. Money is in minor units of ``currency``."""

    channel: str
    external_id: str
    number: str
    placed_at: datetime
    currency: str
    lines: tuple[NormalizedLine, ...]
    order_type: str = OrderType.DTC.value
    customer_name: str = ""
    customer_email: str = ""
    ship_to: Address = field(default_factory=Address)
    subtotal_minor: int = 0
    shipping_minor: int = 0
    tax_minor: int = 0
    discount_minor: int = 0
    total_minor: int = 0
    service_level: str = "standard"
    ship_by: datetime | None = None
    deliver_by: datetime | None = None
    # The channel says the order must wait (payment not taken yet, fulfilled by the marketplace itself): it is
    # imported on hold with this reason and not reserved; when a later import no longer says so, the hold lifts
    # and the order is routed. Empty: nothing waits on the channel.
    channel_hold: str = ""
    # The channel's words about the order (Amazon's prime and business, a shop's own tags), comma-separated;
    # check_order makes them lower case, sorted and unique. Routing rules can match them (order_tag).
    tags: str = ""

    def fingerprint(self) -> str:
        """A stable hash of the content, so an unchanged re-import is recognised at once."""
        return self._fingerprint

    @cached_property
    def _fingerprint(self) -> str:
        values = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("channel_hold", "tags") and not value:
                continue  # came later than the rest: an order without them hashes as it always did
            if f.name == "lines":
                value = tuple((l.external_line_id, l.sku, l.quantity, l.unit_price_minor, l.description) for l in value)
            elif f.name == "ship_to":
                value = tuple(getattr(value, g.name) for g in fields(value))
            values.append(value)
        return hashlib.sha256(repr(values).encode()).hexdigest()


def order_tags(text: str | None) -> str:
    """Tags as kept: lower case, without blanks, sorted and each once ("Prime, gift ,prime" -> "gift,prime")."""
    return ",".join(sorted({t.strip().lower() for t in (text or "").split(",") if t.strip()}))


_checked: "weakref.WeakSet[NormalizedOrder]" = weakref.WeakSet()


def check_order(order: NormalizedOrder) -> NormalizedOrder:
    """Validate and tidy a normalized order; raise InvalidInput naming the bad field.

    What this returns is remembered as checked, so a connector that already checked an
    order does not pay for the same checks again at import."""
    if order in _checked:
        return order
    checked = _check_order(order)
    _checked.add(checked)
    return checked


def _check_order(order: NormalizedOrder) -> NormalizedOrder:
    where = _("order {ref}").format(ref=order.number or order.external_id)

    def t(value, what, limit, required=False):
        return validate.text(value, f"{what} of {where}", limit, required=required)

    external_id = t(order.external_id, "channel order id", SHORT, True)
    number = t(order.number, "order number", SHORT) or external_id
    currency = money.check_currency(order.currency)
    if order.order_type not in {o.value for o in OrderType}:
        raise InvalidInput(_("The order type {value!r} of {where} is not dtc, wholesale or marketplace.").format(value=order.order_type, where=where))
    validate.aware(order.placed_at, f"order date of {where}", required=True)
    validate.aware(order.ship_by, f"ship-by date of {where}")
    validate.aware(order.deliver_by, f"deliver-by date of {where}")
    for name in ("subtotal_minor", "shipping_minor", "tax_minor", "discount_minor", "total_minor"):
        value = getattr(order, name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(_("The {what} of {where} must be an amount in minor units, not {value!r}.").format(what=name.removesuffix("_minor"), where=where, value=value))
    if not order.lines:
        raise InvalidInput(_("{where} has no lines.").format(where=where).capitalize())
    seen: set[str] = set()
    lines = []
    for i, line in enumerate(order.lines, 1):
        lw = _("line {n} of {where}").format(n=i, where=where)
        lid = validate.text(line.external_line_id, f"line id of {lw}", SHORT, required=True)
        if lid in seen:
            raise InvalidInput(_("{where} has two lines with the id {id}.").format(where=where, id=lid).capitalize())
        seen.add(lid)
        validate.quantity(line.quantity, f"quantity of {lw}")
        if isinstance(line.unit_price_minor, bool) or not isinstance(line.unit_price_minor, int) or line.unit_price_minor < 0:
            raise InvalidInput(_("The unit price of {where} must be a non-negative amount in minor units, not {value!r}.").format(where=lw, value=line.unit_price_minor))
        lines.append(
            NormalizedLine(
                lid,
                validate.text(line.sku, f"SKU of {lw}", SHORT, required=True),
                line.quantity,
                line.unit_price_minor,
                validate.text(line.description, f"description of {lw}", LINE),
            )
        )
    a = order.ship_to
    ship_to = Address(
        t(a.name, "ship-to name", NAME), t(a.company, "ship-to company", NAME), t(a.address1, "ship-to address", LINE),
        t(a.address2, "ship-to address line 2", LINE), t(a.city, "ship-to city", NAME), t(a.region, "ship-to region", SHORT),
        t(a.postal_code, "ship-to postal code", SHORT), validate.country(a.country, f"ship-to country of {where}"),
        t(a.phone, "ship-to phone", SHORT),
    )
    return NormalizedOrder(
        channel=order.channel, external_id=external_id, number=number, placed_at=order.placed_at, currency=currency,
        lines=tuple(lines), order_type=order.order_type,
        customer_name=t(order.customer_name, "customer name", NAME), customer_email=t(order.customer_email, "customer email", NAME).lower(),
        ship_to=ship_to, subtotal_minor=order.subtotal_minor, shipping_minor=order.shipping_minor, tax_minor=order.tax_minor,
        discount_minor=order.discount_minor, total_minor=order.total_minor,
        service_level=t(order.service_level, "service level", SHORT) or "standard",
        ship_by=order.ship_by, deliver_by=order.deliver_by,
        channel_hold=t(order.channel_hold, "channel's hold reason", 200),
        tags=t(order_tags(order.tags), "tags", LINE),
    )


def unknown_items_reason(skus: Iterable[str]) -> str:
    """Why an order waits: "Unknown SKU GHOST-1", or a partner's code in words ("Buyer's part number ACME-99999")."""
    skus = list(dict.fromkeys(skus))
    if all(wording.sku(s) == s for s in skus):
        return _("Unknown SKU {skus}").format(skus=", ".join(skus))
    return _("Not in the catalogue: {items}").format(items=", ".join(wording.sku(s) for s in skus))
