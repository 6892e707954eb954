"""Page documents: the pick list a picker walks with, and the packing slip that goes in the box."""

from __future__ import annotations

import io
import os
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Sequence

from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from oms.core.errors import InvalidInput
from oms.core.i18n import _, ngettext

from .barcodes import code128
from .data import PackingSlipData
from .layout import Bars, Box, Text, column_width, draw_pdf, fit, font, set_code, size_to_fit, text_width, wrap

if TYPE_CHECKING:  # the fulfilment module builds it; documents only read it
    from oms.fulfilment.floor import PickListData

Paper = Literal["A4", "Letter"]
MARGIN = 14 * mm


def page_size(paper: str) -> tuple[float, float]:
    sizes = {"a4": A4, "letter": LETTER}
    try:
        return sizes[paper.lower()]
    except KeyError:
        raise InvalidInput(_("Paper size must be A4 or Letter, not {paper}.").format(paper=paper)) from None


def _when(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


# -- pick list ----------------------------------------------------------------------------------------

# Columns: (title, width in points, alignment); the SKU column's width comes from the wave's SKUs and the
# description takes what is left. Bin and quantity are what a picker looks for; walk order is the order of
# the rows, so the list prints no sequence number of its own.
_PICK_COLUMNS = (("✓", 22, "left"), ("Bin", 72, "left"), ("Qty", 40, "right"), ("SKU", 0, "left"),
                 ("Description", 0, "left"), ("Tote", 56, "left"))
_ROW = 30
_SKU_SIZE, _SKU_SMALLEST = 9, 7


def render_pick_list(data: PickListData, paper: Paper | str = "Letter") -> bytes:
    """The wave's pick list in walk order: bin and quantity large, a tick box per line, the orders each line serves."""
    w, h = page_size(paper)
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(w, h), pageCompression=1)
    c.setTitle(_("Pick list {name}").format(name=data.wave_name))
    c.setCreator("Quayside")
    inner = w - 2 * MARGIN
    fixed = sum(col[1] for col in _PICK_COLUMNS)
    # The SKU column gets the room of the longest SKU (a SKU is never cut), up to a third of the line.
    sku_w = column_width([t.sku for t in data.tasks], _SKU_SIZE, True, 96, inner * 0.35, pad=6)
    widths = [col[1] for col in _PICK_COLUMNS]
    widths[3] = sku_w
    widths[4] = inner - fixed - sku_w
    rows_first, rows_other = _rows_per_page(h, first=True), _rows_per_page(h, first=False)
    remaining = max(0, len(data.tasks) - rows_first)
    pages = 1 + -(-remaining // rows_other)
    index = 0
    for page in range(1, pages + 1):
        y = MARGIN
        if page == 1:
            y = _pick_header(c, data, w, h)
        c.setFont(font(True), 9)
        _header_row(c, widths, h, y)
        y += 16
        rows = rows_first if page == 1 else rows_other
        for task in data.tasks[index : index + rows]:
            _pick_row(c, task, widths, h, y)
            y += _ROW
        index += rows
        c.setFont(font(False), 8)
        c.drawString(MARGIN, MARGIN / 2, f"{data.wave_name} · {data.location_code}")
        c.drawRightString(w - MARGIN, MARGIN / 2, _("Page {page} of {pages}").format(page=page, pages=pages))
        c.showPage()
    c.save()
    return buf.getvalue()


def _rows_per_page(h: float, first: bool) -> int:
    top = MARGIN + (96 if first else 0) + 16
    return int((h - MARGIN - 10 - top) // _ROW)


def _pick_header(c: Canvas, data: PickListData, w: float, h: float) -> float:
    inner = w - 2 * MARGIN
    text_w = inner - 190
    kind = _("batch pick") if data.batch_pick else _("order pick")
    title = _("Pick list — {name}").format(name=data.wave_name)
    # The title is the wave's name: smaller type, then a second line, rather than a name cut short.
    size = size_to_fit(title, 20, 12, text_w, bold=True)
    title_lines = [title] if text_width(title, size, True) <= text_w else wrap(title, size, text_w, 2, bold=True)
    items: list = [Text(MARGIN, MARGIN + i * (size + 1), size, line, bold=True, width=text_w)
                   for i, line in enumerate(title_lines)]
    # The facts sit under the title: 16 points apart under one line, closer under two.
    top, step = (28, 16) if len(title_lines) == 1 else (len(title_lines) * (size + 1) + 4, 14)
    facts = [f"{data.location_code} · {data.location_name} · {kind}",
             _("{orders} orders, {units} units, {lines} lines").format(
                 orders=data.order_count, units=data.unit_count, lines=len(data.tasks)),
             _("Created {created}   Cut-off {cutoff}").format(created=_when(data.created_at), cutoff=_when(data.cutoff_at))]
    items += [Text(MARGIN, MARGIN + top + i * step, 10, fact, width=text_w) for i, fact in enumerate(facts)]
    items += [
        Bars(w - MARGIN - 180, MARGIN, 180, 56, code128(f"WAVE-{data.wave_id}"), align="right", max_module_mm=0.33,
             caption_size=9),
        Box(MARGIN, MARGIN + 82, inner, 1.5),
    ]
    draw_pdf(c, items, h)
    return MARGIN + 92


def _header_row(c: Canvas, widths: list[float], h: float, y: float) -> None:
    x = MARGIN
    for (title, _w, align), width in zip(_PICK_COLUMNS, widths):
        label = _(title) if title != "✓" else ""
        base = h - y - 10
        if align == "right":
            c.drawRightString(x + width - 4, base, label)
        else:
            c.drawString(x + 2, base, label)
        x += width
    c.setLineWidth(1)
    c.line(MARGIN, h - y - 14, MARGIN + sum(widths), h - y - 14)


def _code_lines(c: Canvas, lines: list[str], size: float, x: float, top: float) -> float:
    """Draw a code's lines in bold from baseline `top` down; returns the baseline of the next line."""
    c.setFont(font(True), size)
    for line in lines:
        c.drawString(x, top, line)
        top -= size + 0.5
    return top


def _pick_row(c: Canvas, task, widths: list[float], h: float, y: float) -> None:
    x = MARGIN
    base = h - y - 15
    c.setLineWidth(1)
    c.rect(x + 4, base - 3, 13, 13)  # tick box
    x += widths[0]
    size, lines = set_code(task.bin_code or "—", widths[1] - 4, 13, 8)
    _code_lines(c, lines, size, x + 2, base - 1 + (len(lines) - 1) * (size + 0.5) / 2)
    x += widths[1]
    c.setFont(font(True), 15)
    c.drawRightString(x + widths[2] - 6, base - 1, str(task.quantity))
    x += widths[2]
    size, lines = set_code(task.sku, widths[3] - 4, _SKU_SIZE, _SKU_SMALLEST)
    below = _code_lines(c, lines, size, x + 2, base + 3 + (len(lines) - 1) * (size + 0.5) / 2)
    c.setFont(font(False), 7)
    if task.barcode:
        c.drawString(x + 2, min(base - 7, below - 1), task.barcode)
    x += widths[3]
    c.setFont(font(False), 9)
    c.drawString(x + 2, base + 3, fit(task.description, 9, widths[4] - 4))
    c.setFont(font(False), 7)
    c.drawString(x + 2, base - 7, fit(_("for ") + ", ".join(task.order_numbers), 7, widths[4] - 4))
    x += widths[4]
    c.setFont(font(True), 10)
    c.drawString(x + 2, base, fit(task.tote or "", 10, widths[5] - 4, True))
    c.setLineWidth(0.4)
    c.setStrokeGray(0.6)
    c.line(MARGIN, h - y - _ROW + 2, MARGIN + sum(widths), h - y - _ROW + 2)
    c.setStrokeGray(0)


# -- packing slip -------------------------------------------------------------------------------------


def render_packing_slip(data: PackingSlipData, paper: Paper | str = "Letter") -> bytes:
    """One packing slip as PDF."""
    return render_packing_slips([data], paper)


def render_packing_slips(slips: Sequence[PackingSlipData], paper: Paper | str = "Letter") -> bytes:
    """Packing slips as one PDF, each starting on a new page (an order shipped in two boxes: two slips)."""
    if not slips:
        raise InvalidInput(_("There is no packing slip to print."))
    w, h = page_size(paper)
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(w, h), pageCompression=1)
    c.setTitle(_("Packing slip {number}").format(number=slips[0].order_number))
    c.setCreator("Quayside")
    for data in slips:
        _draw_packing_slip(c, data, w, h)
    c.save()
    return buf.getvalue()


_SLIP_SKU_SIZE, _SLIP_SKU_SMALLEST = 10, 8


def _draw_packing_slip(c: Canvas, data: PackingSlipData, w: float, h: float) -> None:
    inner = w - 2 * MARGIN

    def header(first: bool) -> float:
        y = MARGIN
        text_x = MARGIN
        if first and data.shop.logo_path:
            text_x = _logo(c, data.shop.logo_path, MARGIN, h - MARGIN, 60)
        items = [Text(text_x, y, 18, data.shop.name, bold=True, width=inner - 220 - (text_x - MARGIN))]
        for i, line in enumerate(data.shop.return_address[:4]):
            items.append(Text(text_x, y + 24 + i * 11, 9, line, width=inner - 220 - (text_x - MARGIN)))
        items.append(Text(w - MARGIN - 210, y, 14, _("PACKING SLIP"), bold=True, width=210, align="right"))
        items.append(Bars(w - MARGIN - 210, y + 20, 210, 44, code128(data.order_number), align="right",
                          max_module_mm=0.33, caption_size=9))
        draw_pdf(c, items, h)
        return y + 80

    y = header(True)
    half = inner / 2
    items = [Text(MARGIN, y, 8, _("SHIP TO"), bold=True)]
    for i, line in enumerate(data.ship_to.lines()[:7]):
        items.append(Text(MARGIN, y + 12 + i * 13, 11, line, bold=i == 0, width=half - 10))
    facts = [(_("Purchase order") if data.wholesale else _("Order"), data.order_number),
             (_("Placed"), _when(data.placed_at)), (_("Customer"), data.customer_name)]
    if data.box_count > 1:
        facts.append((_("Box"), _("{index} of {count}").format(index=data.box_index, count=data.box_count)))
    if data.shipped_at:
        facts.append((_("Shipped"), _when(data.shipped_at)))
    if data.service:
        facts.append((_("Service"), " ".join(p for p in (data.carrier, data.service) if p)))
    if data.tracking_number:
        facts.append((_("Tracking"), data.tracking_number))
    key_w = 84
    for i, (k, v) in enumerate(facts):
        items.append(Text(MARGIN + half, y + i * 14, 9, k, bold=True, width=key_w - 4))
        items.append(Text(MARGIN + half + key_w, y + i * 14, 10, v, width=half - key_w))
    draw_pdf(c, items, h)
    y += max(12 + 13 * min(7, len(data.ship_to.lines())), 14 * len(facts)) + 16

    # The SKU column is as wide as the slip's longest SKU (up to a third of the line): a SKU is never cut.
    sku_w = column_width([line.sku for line in data.lines], _SLIP_SKU_SIZE, True, 100, inner / 3, pad=8)
    cols = [(_("SKU"), sku_w, "left"), (_("Description"), inner - sku_w - 4 * 64, "left"), (_("Ordered"), 64, "right"),
            (_("In this box"), 64, "right"), (_("Sent before"), 64, "right"), (_("To follow"), 64, "right")]

    def table_header(y: float) -> float:
        return draw_table_header(c, cols, y, h, inner)

    y = table_header(y)
    for line in data.lines:
        desc = wrap(line.description, 10, cols[1][1] - 8, 2)
        sku_size, sku_lines = set_code(line.sku, sku_w - 8, _SLIP_SKU_SIZE, _SLIP_SKU_SMALLEST)
        row_h = 8 + max(13 * len(desc) + (11 if line.cancelled else 0), (sku_size + 2) * len(sku_lines))
        if y + row_h > h - MARGIN - 80:
            c.showPage()
            y = table_header(header(False))
        base = h - y - 11
        _code_lines(c, sku_lines, sku_size, MARGIN + 4, base)
        c.setFont(font(False), 10)
        for i, part in enumerate(desc):
            c.drawString(MARGIN + cols[0][1] + 4, base - 13 * i, part)
        if line.cancelled:
            c.setFont(font(False), 8)
            c.drawString(MARGIN + cols[0][1] + 4, base - 13 * len(desc), _("{n} cancelled").format(n=line.cancelled))
        x = MARGIN + cols[0][1] + cols[1][1]
        values = (line.ordered, line.in_this_shipment, line.shipped_before, line.to_follow)
        for i, (value, (_t, width, _a)) in enumerate(zip(values, cols[2:])):
            bold = i == 1 and value > 0  # what is in the box is what the packer checks
            c.setFont(font(bold), 12 if bold else 10)
            c.drawRightString(x + width - 4, base, str(value) if value else "–")
            x += width
        y += row_h
        c.setLineWidth(0.4)
        c.setStrokeGray(0.7)
        c.line(MARGIN, h - y + 2, MARGIN + inner, h - y + 2)
        c.setStrokeGray(0)

    y += 10
    units = sum(line.in_this_shipment for line in data.lines)
    c.setFont(font(True), 11)
    c.drawString(MARGIN, h - y - 12, ngettext("{units} unit in this box.", "{units} units in this box.", units).format(units=units))
    if data.units_follow:
        c.drawString(MARGIN, h - y - 27, ngettext("{units} more unit will follow in a separate shipment.",
                                                  "{units} more units will follow in a separate shipment.",
                                                  data.units_follow).format(units=data.units_follow))
    # At the foot of the last page: a consumer's returns, or a retailer's receiving note quoting its PO.
    if data.wholesale:
        title = _("Receiving")
        note = _("Please check this delivery against the slip and tell us of any shortage or damage, quoting "
                 "purchase order {po}.").format(po=data.order_number)
    else:
        title, note = _("Returns"), data.shop.return_instructions
    foot = [Box(MARGIN, h - MARGIN - 66, inner, 1), Text(MARGIN, h - MARGIN - 60, 9, title, bold=True)]
    for i, line in enumerate(wrap(note, 9, inner, 3)):
        foot.append(Text(MARGIN, h - MARGIN - 48 + i * 12, 9, line))
    if data.shop.return_address and not data.wholesale:
        foot.append(Text(MARGIN, h - MARGIN - 10, 8, _("Return address: ") + ", ".join(data.shop.return_address), width=inner))
    draw_pdf(c, foot, h)
    c.showPage()


def _logo(c: Canvas, path: str, x: float, top: float, size: float) -> float:
    """Draw the shop logo in a size x size box; a missing or broken file is skipped, the slip still prints."""
    if not os.path.exists(path):
        return x
    try:
        c.drawImage(path, x, top - size, width=size, height=size, preserveAspectRatio=True, anchor="nw", mask="auto")
    except Exception:  # noqa: BLE001 - an unreadable logo must not stop the packing station
        return x
    return x + size + 10


def draw_table_header(c: Canvas, cols: Sequence[tuple[str, float, str]], y: float, page_height: float, inner: float) -> float:
    """A document table's grey header row at ``y`` (from the top): each column's title, left or right aligned.
    Returns where the first row goes."""
    c.setFillGray(0.9)
    c.rect(MARGIN, page_height - y - 18, inner, 18, stroke=0, fill=1)
    c.setFillGray(0)
    c.setFont(font(True), 8)
    x = MARGIN
    for title, width, align in cols:
        if align == "right":
            c.drawRightString(x + width - 4, page_height - y - 13, title)
        else:
            c.drawString(x + 4, page_height - y - 13, title)
        x += width
    return y + 22
