"""Which barcode a document prints for a thing: symbology, encoded data and the line people read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Literal

from oms.core.errors import InvalidInput
from oms.core.gs1 import GS, Gs1Data, is_valid_gtin, is_valid_sscc
from oms.core.i18n import _

Symbology = Literal["code128", "gs1-128", "ean13", "upca", "ean8"]

#: Barcode kinds (oms.catalog.models.Barcode.kind) that carry a GS1 trade item number.
GTIN_KINDS = ("gtin", "ean", "upc")


@dataclass(frozen=True)
class Symbol:
    """One barcode to print.

    `data` is what a scanner reads back: the text for Code 128, the bracketed
    element string "(00)0061..." for GS1-128, the full number with its check
    digit for EAN-13 (13 digits), UPC-A (12) and EAN-8 (8).
    """

    symbology: Symbology
    data: str
    ais: tuple[tuple[str, str], ...] = ()

    @property
    def human_readable(self) -> str:
        """The interpretation line printed under Code 128 and GS1-128 symbols."""
        if self.symbology == "gs1-128":
            return " ".join(f"({ai}) {value}" for ai, value in self.ais)
        return self.data

    def element_string(self, fnc1: str = GS) -> str:
        """GS1-128 content as encoded after the leading FNC1, separators written as `fnc1`."""
        return Gs1Data.from_ais(self.ais).element_string(separator=fnc1)


def code128(text: str) -> Symbol:
    """Code 128 of plain text (order numbers, tracking numbers, SKUs, bin codes)."""
    if not text:
        raise InvalidInput(_("There is nothing to put in the barcode."))
    bad = sorted({c for c in text if not (" " <= c <= "~")})
    if bad:
        raise InvalidInput(
            _("“{text}” cannot be printed as a barcode: it contains {chars}. Use letters, digits and punctuation only.")
            .format(text=text, chars=" ".join(repr(c) for c in bad))
        )
    if len(text) > 48:
        raise InvalidInput(_("“{text}” is too long for a barcode (at most 48 characters).").format(text=text))
    return Symbol("code128", text)


def gs1_128(pairs: Iterable[tuple[str, str]]) -> Symbol:
    """GS1-128 of (AI, value) pairs; every value is checked (check digits, lengths, characters)."""
    data = Gs1Data.from_ais(pairs)  # raises Gs1Error (an InvalidInput) with a readable message
    return Symbol("gs1-128", data.human_readable(), data.ais)


def sscc_symbol(sscc: str) -> Symbol:
    """The GS1-128 barcode of a logistic unit: AI (00) and the 18-digit SSCC."""
    if not is_valid_sscc(sscc):
        raise InvalidInput(_("{sscc} is not a valid SSCC (18 digits with a correct check digit).").format(sscc=sscc))
    return gs1_128([("00", sscc)])


def gtin_symbol(gtin: str) -> Symbol:
    """A trade item number in the symbology GS1 assigns to its length.

    GTIN-13 as EAN-13, GTIN-12 as UPC-A, GTIN-8 as EAN-8. A GTIN-14 whose leading
    zeros make it a GTIN-13 or GTIN-12 is printed as that; a true GTIN-14 (case
    indicator 1-8) goes into GS1-128 with AI (01).
    """
    if not is_valid_gtin(gtin):
        raise InvalidInput(_("{code} is not a valid GTIN/EAN/UPC (wrong length or check digit).").format(code=gtin))
    if len(gtin) == 14:
        if gtin.startswith("00"):
            return Symbol("upca", gtin[2:])
        if gtin.startswith("0"):
            return Symbol("ean13", gtin[1:])
        return gs1_128([("01", gtin)])
    return Symbol({13: "ean13", 12: "upca", 8: "ean8"}[len(gtin)], gtin)  # type: ignore[arg-type]


def product_symbol(sku: str, barcodes: Iterable[tuple[str, str]] = ()) -> Symbol:
    """The product's own GTIN/EAN/UPC when it has a valid one, else Code 128 of the SKU."""
    for kind, code in barcodes:
        if kind in GTIN_KINDS and is_valid_gtin(code):
            return gtin_symbol(code)
    return code128(sku)


def code128_modules(symbol: Symbol) -> int:
    """Width in modules (without quiet zones) of a Code 128 / GS1-128 symbol as this package encodes it."""
    # start character, the symbol characters and the check character are 11 modules each; stop is 13
    return 11 * (len(code128_codewords(symbol)) + 2) + 13


def code128_codewords(symbol: Symbol) -> list[str]:
    """The symbol characters between start and check character, one string per character.

    Digits-only text of even length, and every GS1 element string that is all digits,
    use subset C (two digits a character); anything else subset B. The ZPL writer
    uses the same choice, so both formats produce the same bars.
    """
    if symbol.symbology == "gs1-128":
        body = symbol.element_string(fnc1="\xf1")
        chars = ["\xf1"]
        if all(c.isdigit() or c == "\xf1" for c in body) and _even_digit_runs(body):
            chars += _pairs(body)
        else:
            chars += list(body)
        return chars
    text = symbol.data
    if text.isdigit() and len(text) % 2 == 0:
        return _pairs(text)
    return list(text)


def code128_subset_c(symbol: Symbol) -> bool:
    chars = code128_codewords(symbol)
    return all(len(c) == 2 or c == "\xf1" for c in chars) and any(len(c) == 2 for c in chars)


def _even_digit_runs(body: str) -> bool:
    return all(len(run) % 2 == 0 for run in body.split("\xf1"))


def _pairs(body: str) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(body):
        if body[i] == "\xf1":
            out.append("\xf1")
            i += 1
        else:
            out.append(body[i : i + 2])
            i += 2
    return out


def linear_modules(symbol: Symbol) -> int:
    """Width in modules without quiet zones."""
    if symbol.symbology in ("code128", "gs1-128"):
        return code128_modules(symbol)
    return {"ean13": 95, "upca": 95, "ean8": 67}[symbol.symbology]


def quiet_modules(symbol: Symbol) -> tuple[int, int]:
    """Minimum quiet zones (left, right) in modules, as the symbology standards ask."""
    if symbol.symbology in ("code128", "gs1-128"):
        return 10, 10
    if symbol.symbology == "ean8":
        return 7, 7
    return (11, 7) if symbol.symbology == "ean13" else (9, 9)
