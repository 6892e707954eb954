"""Label layouts: 4x6 shipping label, GS1 SSCC carton/pallet label, product and bin labels."""

from __future__ import annotations

from typing import Literal, Sequence

from oms.core.errors import InvalidInput
from oms.core.i18n import _

from .barcodes import code128, sscc_symbol
from .data import BinLabelData, ProductLabelData, ShippingLabelData, SsccLabelData, service_name
from .layout import (
    LEADING,
    SIZE_4X6,
    SIZE_SMALL,
    Bars,
    Box,
    Item,
    Label,
    Text,
    render_pdf,
    render_zpl,
    size_to_fit,
    text_lines,
    text_width,
    wrap,
)

LabelSize = Literal["4x6", "small"]
Format = Literal["pdf", "zpl"]

M = 10  # margin, points


def _kg(grams: int) -> str:
    return f"{grams / 1000:.2f} kg" if grams else "—"


def _address_block(items: list[Item], title: str, lines: list[str], x: float, y: float, width: float,
                   size: float, first_size: float, max_lines: int) -> float:
    """An address under its title in at most `max_lines` printed lines.

    The name shrinks towards the size of the other lines before anything else; a line still
    too long wraps onto a second one while the block has lines to spare (the street first,
    then the name), and is shortened only when it has none.
    """
    items.append(Text(x, y, 7, title, bold=True, width=width))
    y += 10
    lines = lines[:max_lines]
    bold = [i == 0 or first_size > 12 for i in range(len(lines))]
    sizes = [size_to_fit(line, first_size, size, width, bold[0]) if i == 0 else size for i, line in enumerate(lines)]
    wants = [len(text_lines(Text(x, y, sizes[i], line, bold=bold[i], width=width, lines=2))) for i, line in enumerate(lines)]
    spare = max_lines - len(lines)
    gets = [1] * len(lines)
    for i in [*range(1, len(lines)), 0][: len(lines)]:
        if wants[i] > 1 and spare > 0:
            gets[i], spare = 2, spare - 1
    for i, line in enumerate(lines):
        items.append(Text(x, y, sizes[i], line, bold=bold[i], width=width, lines=gets[i]))
        y += sizes[i] * LEADING * gets[i]
    return y


def shipping_label(d: ShippingLabelData) -> Label:
    w, h = SIZE_4X6
    inner = w - 2 * M
    items: list[Item] = []
    _address_block(items, _("FROM"), d.ship_from.lines(), M, 8, 170, 8, 8, 5)
    items.append(Text(190, 8, 9, _("PACKAGE"), bold=True, width=inner + M - 190, align="right"))
    items.append(Text(190, 20, 18, f"{d.package_index} / {d.package_count}", bold=True, width=inner + M - 190, align="right"))
    if d.ship_date:
        items.append(Text(190, 44, 8, d.ship_date.isoformat(), width=inner + M - 190, align="right"))
    items.append(Box(0, 66, w, 2))
    _address_block(items, _("SHIP TO"), d.ship_to.lines(), M, 72, inner, 13, 15, 6)
    items.append(Box(0, 186, w, 2))
    # This label is ours, never a carrier's: it carries no postage, names no carrier and has no tracking barcode
    # (a carrier's barcode is in the carrier's own format, on the carrier's label). Said where a carrier puts its service.
    items.append(Text(M, 192, 17, _("NOT A CARRIER LABEL"), bold=True, width=inner, align="center"))
    items.append(Text(M, 211, 9, _("No postage · own delivery, or add the carrier's label"), width=inner,
                      align="center"))
    items.append(Box(0, 226, w, 2))
    weight = _kg(d.weight_g)
    if d.package_count > 1:
        weight += "  " + _("(all: {w})").format(w=_kg(d.shipment_weight_g))
    # The service takes what the weight leaves, and shrinks before it is cut ("Ground Advantage" whole).
    weight_size = size_to_fit(weight, 12, 8, inner - 100)
    weight_width = min(inner - 100, text_width(weight, weight_size) + 4)
    service = service_name(d.service or "standard")
    service_width = inner - weight_width - 6
    items.append(Text(M, 232, 8, _("SERVICE"), bold=True, width=service_width))
    items.append(Text(M, 243, size_to_fit(service, 12, 7, service_width, bold=True), service, bold=True, width=service_width))
    items.append(Text(M + inner - weight_width, 232, 8, _("WEIGHT"), bold=True, width=weight_width, align="right"))
    items.append(Text(M + inner - weight_width, 243, weight_size, weight, width=weight_width, align="right"))
    if d.tracking_number:
        items.append(Text(M, 276, 8, _("TRACKING NUMBER (FOR REFERENCE)"), bold=True, width=inner))
        items.append(Text(M, 289, size_to_fit(d.tracking_number, 18, 10, inner, bold=True), d.tracking_number, bold=True,
                          width=inner))
    else:
        items.append(Text(M, 282, 12, _("NO TRACKING NUMBER"), bold=True, width=inner, align="center"))
    items.append(Box(0, 340, w, 2))
    items.append(Text(M, 346, 8, _("ORDER"), bold=True))
    items.append(Text(M + 40, 343, 13, d.order_number, bold=True, width=inner - 40))
    items.append(Bars(M, 364, inner, 52, code128(d.order_number), max_module_mm=0.33, caption_size=0))
    items.append(Text(M, 420, 6, _("Shipment {id}").format(id=d.shipment_id), width=inner, align="right"))
    return Label(w, h, tuple(items), "shipping")


def _pretty_sscc(sscc: str) -> str:
    return f"{sscc[0]} {sscc[1:-1]} {sscc[-1]}"


def sscc_label(d: SsccLabelData) -> Label:
    """A GS1 logistic label: parties at the top, order data in the middle, the SSCC at the bottom."""
    w, h = SIZE_4X6
    inner = w - 2 * M
    half = inner / 2
    items: list[Item] = []
    if d.ship_from:
        _address_block(items, _("FROM"), d.ship_from.lines(), M, 8, half - 6, 8, 9, 6)
    if d.ship_to:
        _address_block(items, _("TO"), d.ship_to.lines(), M + half + 4, 8, half - 4, 9, 11, 6)
        items.append(Box(M + half - 2, 6, 1, 98))
    items.append(Box(0, 106, w, 2))
    y = 114
    if d.po_number:
        items.append(Text(M, y, 8, _("PURCHASE ORDER"), bold=True))
        items.append(Text(M, y + 11, 18, d.po_number, bold=True, width=half + 30))
    elif d.order_number:
        items.append(Text(M, y, 8, _("ORDER"), bold=True))
        items.append(Text(M, y + 11, 18, d.order_number, bold=True, width=half + 30))
    if d.carton_index and d.carton_count:
        kind = _("PALLET") if d.pallet else _("CARTON")
        items.append(Text(M + half, y, 8, kind, bold=True, width=half, align="right"))
        items.append(Text(M + half, y + 11, 22, _("{i} of {n}").format(i=d.carton_index, n=d.carton_count),
                          bold=True, width=half, align="right"))
    facts = [f for f in (d.carrier.upper(), _kg(d.weight_g) if d.weight_g else "") if f]
    if facts:
        items.append(Text(M, y + 40, 10, "   ".join(facts), width=inner))
    items.append(Box(0, 176, w, 2))
    items.append(Text(M, 184, 9, _("SSCC"), bold=True))
    items.append(Text(M + 36, 182, 16, _pretty_sscc(d.sscc), bold=True, width=inner - 36))
    # GS1 logistic label: X-dimension 0.495-1.016 mm, bars at least 31.75 mm high.
    items.append(Bars(M - 6, 226, inner + 12, 160, sscc_symbol(d.sscc), max_module_mm=0.5, min_module_mm=0.33,
                      caption_size=12))
    items.append(Text(M, 416, 6, "GS1-128 · SSCC-18", width=inner, align="right"))
    return Label(w, h, tuple(items), "sscc")


def product_label(d: ProductLabelData, size: LabelSize = "small") -> Label:
    if size == "small":
        w, h = SIZE_SMALL
        items: list[Item] = [
            Text(6, 4, 11, d.sku, bold=True, width=w - 12),
            Text(6, 17, 7, d.name, width=w - 12),
            Bars(2, 28, w - 4, 58, d.symbol, max_module_mm=0.33, caption_size=7),
        ]
        return Label(w, h, tuple(items), "product")
    w, h = SIZE_4X6
    inner = w - 2 * M
    items = [Text(M, 14, 30, d.sku, bold=True, width=inner)]
    for i, line in enumerate(wrap(d.name, 16, inner, 4)):
        items.append(Text(M, 60 + i * 20, 16, line, width=inner))
    items.append(Box(0, 150, w, 2))
    items.append(Bars(M - 6, 190, inner + 12, 150, d.symbol, max_module_mm=0.5, caption_size=14))
    return Label(w, h, tuple(items), "product")


def bin_label(d: BinLabelData, size: LabelSize = "small") -> Label:
    sym = code128(d.code)
    if size == "small":
        w, h = SIZE_SMALL
        items: list[Item] = [
            Text(4, 3, 24, d.code, bold=True, width=w - 8, align="center"),
            Bars(2, 34, w - 4, 50, sym, max_module_mm=0.38, caption_size=0),
        ]
        return Label(w, h, tuple(items), "bin")
    w, h = SIZE_4X6
    inner = w - 2 * M
    items = [
        Text(M, 14, 10, _("LOCATION {code}").format(code=d.location_code) if d.location_code else "", bold=True),
        Text(M, 50, 64, d.code, bold=True, width=inner, align="center"),
        Box(0, 150, w, 2),
        Bars(M - 6, 190, inner + 12, 170, sym, max_module_mm=0.6, caption_size=0),
    ]
    return Label(w, h, tuple(items), "bin")


def badge_label(name: str, role: str, code: str) -> Label:
    """A worker's badge (2.25x1.25 in): the name, the role, and the badge code in Code 128 to scan at sign-in."""
    w, h = SIZE_SMALL
    items: list[Item] = [
        Text(6, 4, 12, name, bold=True, width=w - 12),
        Text(6, 18, 7, role, width=w - 12),
        Bars(2, 28, w - 4, 58, code128(code), max_module_mm=0.33, caption_size=7),
    ]
    return Label(w, h, tuple(items), "badge")


def render(labels: Sequence[Label], fmt: Format, *, dpi: int = 203, title: str = "Labels") -> bytes:
    """A batch of labels as one PDF (a page each) or one ZPL stream (a ^XA..^XZ each)."""
    if fmt == "pdf":
        return render_pdf(labels, title=title)
    if fmt == "zpl":
        return render_zpl(labels, dpi=dpi)
    raise InvalidInput(_("Labels can be made as pdf or zpl, not {fmt}.").format(fmt=fmt))
