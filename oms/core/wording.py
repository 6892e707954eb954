"""How codes the domain stores are said to a person: service levels, a partner's item codes, label rate choices.

A screen or a timeline never shows ``ground``, ``cheapest_on_time`` or ``BP:ACME-99999``:
it shows "Ground", "the cheapest rate that arrives in time" and "Buyer's part number
ACME-99999". Each code is said in one place, here.
"""

from __future__ import annotations

import re

from oms.core.i18n import _

# A partner's item code kept on an order line while no product matches it: "QQ:code", QQ the X12 qualifier.
_QUALIFIED = re.compile(r"^([A-Z0-9]{2}):(.+)$")


def service_level(code: str) -> str:
    """'overnight' -> 'Overnight'; an unknown level is shown as it is, capitalised."""
    words = {"standard": _("Standard"), "ground": _("Ground"), "expedited": _("Expedited"), "overnight": _("Overnight")}
    return words.get(code, (code or "").replace("_", " ").capitalize())


def item_code(qualifier: str, code: str) -> str:
    """An item code a trading partner sent, in words: ('BP', 'ACME-99999') -> "Buyer's part number ACME-99999"."""
    words = {
        "BP": _("Buyer's part number {code}"), "IN": _("Buyer's item number {code}"),
        "VN": _("Our item number {code}"), "VP": _("Our part number {code}"), "SK": _("SKU {code}"),
        "UP": _("UPC {code}"), "EN": _("EAN {code}"), "UK": _("GTIN {code}"), "UA": _("Case code {code}"),
    }
    template = words.get(qualifier.upper())
    return template.format(code=code) if template else _("Item code {code}").format(code=code)


def sku(value: str) -> str:
    """A line's SKU as a person reads it: our SKUs as they are, a partner's qualified code in words."""
    m = _QUALIFIED.match(value or "")
    return item_code(m.group(1), m.group(2)) if m else value


def label_policy(policy: str) -> str:
    words = {"cheapest": _("the cheapest rate"), "fastest": _("the fastest rate"),
             "cheapest_on_time": _("the cheapest rate that arrives in time")}
    return words.get(policy, policy.replace("_", " "))
