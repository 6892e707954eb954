"""The purchase order a supplier receives: who orders what, delivered where, by when, at what cost, with the PO
number as a Code 128 barcode, so the receiving station scans the PO off the paperwork that comes with the goods."""

from __future__ import annotations

import io
from datetime import datetime

from reportlab.pdfgen.canvas import Canvas

from oms.core.i18n import _
from oms.core.money import format_money
from oms.purchasing.queries import PoDetail

from .barcodes import code128
from .layout import Bars, Box, Text, column_width, draw_pdf, fit, font, set_code, wrap
from .pages import MARGIN, draw_table_header, page_size

_SKU_SIZE, _SKU_SMALLEST = 10, 7
_ROW = 28


def _day(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d") if moment else "—"


def render_purchase_order(po: PoDetail, company: str, paper: str = "Letter") -> bytes:
    """The PO as PDF: a header with the barcode on every page, the lines in order, the total on the last page."""
    w, h = page_size(paper)
    inner = w - 2 * MARGIN
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(w, h), pageCompression=1)
    c.setTitle(_("Purchase order {number}").format(number=po.number))
    c.setCreator("Quayside")
    sku_w = column_width([l.sku for l in po.lines], _SKU_SIZE, True, 80, inner * 0.3, pad=8)
    cols = [("#", 24, "right"), (_("SKU"), sku_w, "left"), (_("Description"), 0, "left"), (_("Qty"), 44, "right"),
            (_("Unit cost"), 70, "right"), (_("Amount"), 78, "right"), (_("Expected"), 70, "right")]
    fixed = sum(width for _t, width, _a in cols)
    cols[2] = (cols[2][0], inner - fixed, "left")

    def header(page: int) -> float:
        items = [Text(MARGIN, MARGIN, 18, company, bold=True, width=inner - 230),
                 Text(w - MARGIN - 220, MARGIN, 14, _("PURCHASE ORDER"), bold=True, width=220, align="right"),
                 Bars(w - MARGIN - 220, MARGIN + 20, 220, 44, code128(po.number), align="right", max_module_mm=0.33,
                      caption_size=9)]
        if page > 1:
            items.append(Text(MARGIN, MARGIN + 26, 10, _("{number}, continued").format(number=po.number), width=inner - 230))
        draw_pdf(c, items, h)
        return MARGIN + 84

    def table_header(y: float) -> float:
        return draw_table_header(c, cols, y, h, inner)

    page = 1
    y = header(page)
    half = inner / 2
    items = [Text(MARGIN, y, 8, _("SUPPLIER"), bold=True),
             Text(MARGIN, y + 12, 11, po.supplier_name, bold=True, width=half - 10),
             Text(MARGIN, y + 26, 10, po.supplier_code, width=half - 10)]
    if po.supplier_email:
        items.append(Text(MARGIN, y + 40, 10, po.supplier_email, width=half - 10))
    items.append(Text(MARGIN + half, y, 8, _("DELIVER TO"), bold=True))
    for i, line in enumerate(po.location_address[:5]):
        items.append(Text(MARGIN + half, y + 12 + i * 13, 11 if i == 0 else 10, line, bold=i == 0, width=half))
    draw_pdf(c, items, h)
    y += 12 + 13 * max(3, min(5, len(po.location_address))) + 8
    facts = [(_("PO number"), po.number), (_("Date"), _day(po.sent_at or po.created_at)), (_("Currency"), po.currency),
             (_("Status"), po.status_title)]
    fact_items = []
    for i, (k, v) in enumerate(facts):
        x = MARGIN + i * inner / 4
        fact_items += [Text(x, y, 8, k, bold=True, width=inner / 4 - 6), Text(x, y + 11, 11, v, width=inner / 4 - 6)]
    draw_pdf(c, fact_items, h)
    y = table_header(y + 34)
    for line in po.lines:
        if y + _ROW > h - MARGIN - 70:
            c.showPage()
            page += 1
            y = table_header(header(page))
        base = h - y - 12
        x = MARGIN
        c.setFont(font(False), 10)
        c.drawRightString(x + cols[0][1] - 4, base, str(line.line_no))
        x += cols[0][1]
        size, sku_lines = set_code(line.sku, cols[1][1] - 8, _SKU_SIZE, _SKU_SMALLEST)
        c.setFont(font(True), size)
        for i, part in enumerate(sku_lines):
            c.drawString(x + 4, base - i * (size + 0.5), part)
        x += cols[1][1]
        c.setFont(font(False), 10)
        c.drawString(x + 4, base, fit(line.description, 10, cols[2][1] - 8))
        x += cols[2][1]
        values = [(str(line.quantity), True), (line.unit_cost, False), (line.total, False),
                  (line.expected_date.isoformat(), False)]
        for (value, bold), (_t, width, _a) in zip(values, cols[3:]):
            c.setFont(font(bold), 11 if bold else 10)
            c.drawRightString(x + width - 4, base, value)
            x += width
        y += _ROW
        c.setLineWidth(0.4)
        c.setStrokeGray(0.7)
        c.line(MARGIN, h - y + 8, MARGIN + inner, h - y + 8)
        c.setStrokeGray(0)
    y += 6
    c.setFont(font(True), 12)
    c.drawRightString(MARGIN + inner - cols[-1][1] - 4, h - y - 12,
                      _("Total {amount}").format(amount=format_money(po.total_minor, po.currency)))
    units = sum(l.quantity for l in po.lines)
    c.setFont(font(False), 10)
    c.drawString(MARGIN, h - y - 12, _("{lines} lines, {units} units").format(lines=len(po.lines), units=units))
    foot = [Box(MARGIN, h - MARGIN - 56, inner, 1)]
    note = _("Please quote {number} on the delivery note and on every carton.").format(number=po.number)
    if po.note:
        note = po.note + "  " + note
    for i, part in enumerate(wrap(note, 9, inner, 3)):
        foot.append(Text(MARGIN, h - MARGIN - 48 + i * 12, 9, part))
    draw_pdf(c, foot, h)
    c.showPage()
    c.save()
    return buf.getvalue()
