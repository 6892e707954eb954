"""Money as integer minor units plus an ISO 4217 currency code; never floats."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from oms.core.errors import InvalidInput
from oms.core.i18n import _

# Currencies whose minor unit is not the cent.
_EXPONENTS = {
    "JPY": 0, "KRW": 0, "VND": 0, "CLP": 0, "ISK": 0, "HUF": 2, "TWD": 2,
    "BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3, "IQD": 3, "LYD": 3,
}


_PLAIN = re.compile(r"(?P<sign>-?)(?P<whole>[0-9]+)(?:\.(?P<frac>[0-9]*))?\Z", re.ASCII)


def exponent(currency: str) -> int:
    return _EXPONENTS.get(currency.upper(), 2)


def check_currency(currency: str) -> str:
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isalpha():
        raise InvalidInput(_("{value!r} is not a currency code (expected three letters such as USD).").format(value=currency))
    return currency.upper()


def to_minor(amount: str | int | Decimal, currency: str) -> int:
    """Parse a decimal amount ("12.30", Decimal) into minor units; ints are taken as minor units.

    Amounts with more decimals than the currency has are refused rather than rounded:
    a channel that sends 12.345 USD has sent something we must not guess at.
    """
    currency = check_currency(currency)
    if isinstance(amount, bool):
        raise InvalidInput(_("{value!r} is not an amount of money.").format(value=amount))
    if isinstance(amount, int):
        return amount
    if isinstance(amount, float):
        raise InvalidInput(_("Money must not be given as a floating-point number ({value!r}).").format(value=amount))
    if isinstance(amount, str):
        plain = _PLAIN.match(amount.strip())
        exp = exponent(currency)
        if plain and len(plain["frac"] or "") <= exp:  # "12.30": the common case, without Decimal
            units = int(plain["whole"]) * 10 ** exp + int((plain["frac"] or "").ljust(exp, "0") or 0)
            return -units if plain["sign"] else units
    try:
        value = Decimal(str(amount).strip().replace(",", "")) if isinstance(amount, str) else Decimal(amount)
    except InvalidOperation:
        raise InvalidInput(_("{value!r} is not an amount of money.").format(value=amount)) from None
    if not value.is_finite():
        raise InvalidInput(_("{value!r} is not an amount of money.").format(value=amount))
    scale = Decimal(10) ** exponent(currency)
    minor = value * scale
    if minor != minor.to_integral_value():
        raise InvalidInput(
            _("{value} has more decimal places than {currency} allows.").format(value=amount, currency=currency)
        )
    return int(minor.to_integral_value(rounding=ROUND_HALF_EVEN))


def to_text(minor: int, currency: str) -> str:
    """An amount as the APIs write it, with the currency's own decimals and no symbol: 1230 USD -> "12.30"."""
    exp = exponent(currency)
    return str(Decimal(minor).scaleb(-exp).quantize(Decimal(1).scaleb(-exp)))


def format_money(minor: int, currency: str) -> str:
    exp = exponent(currency)
    sign = "-" if minor < 0 else ""
    value = abs(minor)
    if exp == 0:
        body = f"{value:,}"
    else:
        whole, frac = divmod(value, 10**exp)
        body = f"{whole:,}.{frac:0{exp}d}"
    symbol = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "AUD": "A$", "JPY": "¥"}.get(currency.upper())
    return f"{sign}{symbol}{body}" if symbol else f"{sign}{body} {currency.upper()}"
