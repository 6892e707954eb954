"""Products from a CSV file (SKU, title, barcodes, bin, stock): how a station that starts empty gets its catalogue.

The file is read and checked whole before anything is written, and every problem is named with its line, so a
supervisor fixes the file once; then every row goes in one transaction, all or nothing. Stock arrives as a receipt
through the ledger (restock.receive), into the bin given, at one location (created when the database has none).

The standard library's ``csv`` reads it (with ``Sniffer`` for comma, semicolon or tab, as spreadsheets export).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from oms import catalog, inventory
from oms.core.audit import Actor
from oms.core.errors import InvalidInput, OmsError
from oms.core.gs1 import is_valid_gtin
from oms.core.i18n import _
from oms.inventory.models import Bin, Location
from oms.routing import restock

# The columns, and the other names a spreadsheet might give them.
ALIASES = {
    "sku": ("sku", "item", "item number", "article"),
    "title": ("title", "name", "product", "description"),
    "barcodes": ("barcodes", "barcode", "gtin", "ean", "upc"),
    "bin": ("bin", "location bin", "shelf"),
    "stock": ("stock", "qty", "quantity", "on hand"),
}
MAX_PROBLEMS_SHOWN = 20


class ImportProblems(InvalidInput):
    """The file cannot be imported as it is; ``problems`` names each, with its line."""

    def __init__(self, problems: list[str]) -> None:
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        text = "\n".join(shown) + (("\n" + _("…and {n} more.").format(n=more)) if more else "")
        super().__init__(_("Nothing was imported; fix the file and try again:") + "\n" + text)
        self.problems = problems


@dataclass(frozen=True)
class ProductRow:
    line: int
    sku: str
    title: str
    barcodes: tuple[tuple[str, str], ...]  # (kind, code)
    bin: str
    stock: int


@dataclass(frozen=True)
class ImportReport:
    products: int
    units: int
    bins: int
    location: str


def _barcode_kind(code: str) -> str | None:
    """The kind of a barcode by its shape; None for digits with a wrong check digit (a typo, not a custom code)."""
    if code.isdigit() and len(code) in (8, 12, 13, 14):
        if not is_valid_gtin(code):
            return None
        return {12: "upc", 13: "ean"}.get(len(code), "gtin")
    return "custom"


def read_products(text: str) -> list[ProductRow]:
    """Parse and check the file; raises ImportProblems naming every bad line (nothing is written here)."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise ImportProblems([_("The file is empty.")])
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = [h.strip().lower() for h in next(reader)]
    columns: dict[str, int] = {}
    for key, names in ALIASES.items():
        for i, h in enumerate(header):
            if h in names:
                columns[key] = i
                break
    missing = [k for k in ("sku", "title") if k not in columns]
    if missing:
        raise ImportProblems([_("Line 1 must name the columns; {missing} not found among: {found}. Expected: "
                                "SKU, title, barcodes, bin, stock.").format(missing=" and ".join(missing),
                                                                            found=", ".join(header) or _("nothing"))])
    rows: list[ProductRow] = []
    problems: list[str] = []
    seen_sku: dict[str, int] = {}
    seen_code: dict[str, int] = {}
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue

        def cell(key: str) -> str:
            i = columns.get(key)
            return values[i].strip() if i is not None and i < len(values) else ""

        sku, title, bin_code, stock_text = cell("sku"), cell("title"), cell("bin"), cell("stock")
        said = len(problems)
        if not sku:
            problems.append(_("Line {n}: the SKU is empty.").format(n=line))
        elif any(c.isspace() for c in sku):
            problems.append(_("Line {n}: the SKU {sku!r} contains a space.").format(n=line, sku=sku))
        elif sku in seen_sku:
            problems.append(_("Line {n}: the SKU {sku} is already on line {first}.").format(n=line, sku=sku, first=seen_sku[sku]))
        else:
            seen_sku[sku] = line
        if not title:
            problems.append(_("Line {n}: the title is empty.").format(n=line))
        barcodes = []
        for code in cell("barcodes").replace(";", " ").replace(",", " ").split():
            kind = _barcode_kind(code)
            if kind is None:
                problems.append(_("Line {n}: the barcode {code} has a wrong check digit.").format(n=line, code=code))
            elif code in seen_code:
                problems.append(_("Line {n}: the barcode {code} is already on line {first}.").format(
                    n=line, code=code, first=seen_code[code]))
            else:
                seen_code[code] = line
                barcodes.append((kind, code))
        stock = 0
        if stock_text:
            try:
                stock = int(stock_text.replace(",", "").replace("_", ""))
            except ValueError:
                stock = -1
            if stock < 0:
                problems.append(_("Line {n}: the stock {value!r} is not a whole number of 0 or more.").format(
                    n=line, value=stock_text))
        if stock > 0 and not bin_code:
            problems.append(_("Line {n}: {qty} in stock but no bin to put them in.").format(n=line, qty=stock))
        if len(problems) == said:
            rows.append(ProductRow(line, sku, title, tuple(barcodes), bin_code, stock))
    if problems:
        raise ImportProblems(problems)
    if not rows:
        raise ImportProblems([_("The file names its columns but holds no products.")])
    return rows


def import_products(session: Session, actor: Actor, rows: list[ProductRow], *, location: str = "MAIN",
                    location_name: str = "Main warehouse") -> ImportReport:
    """Write the checked rows in the caller's transaction; any row the database refuses stops it all, named."""
    loc_id = session.scalar(select(Location.id).where(Location.code == location))
    if loc_id is None:
        loc_id = inventory.add_location(session, actor, location, location_name, priority=10)
    have = set(session.scalars(select(Bin.code).where(Bin.location_id == loc_id)))
    new_bins = list(dict.fromkeys(r.bin for r in rows if r.bin and r.bin not in have))
    inventory.add_bins(session, loc_id, new_bins)
    problems, units = [], 0
    for r in rows:
        try:
            with session.begin_nested():
                catalog.add_product(session, actor, r.sku, r.title, barcodes=list(r.barcodes))
                if r.stock:
                    restock.receive(session, actor, r.sku, loc_id, r.stock, bin=r.bin, reason=_("CSV import"))
                    units += r.stock
        except OmsError as exc:
            problems.append(_("Line {n}: {error}").format(n=r.line, error=exc))
    if problems:
        raise ImportProblems(problems)
    return ImportReport(len(rows), units, len(new_bins), location)
