"""The return slip that goes in a customer's parcel: the RMA number as a Code 128 barcode (the returns dock scans it
off the slip), the order, what is coming back and why, the resolution wanted, and where the parcel goes."""

from __future__ import annotations

import io

from reportlab.pdfgen.canvas import Canvas

from oms.core.i18n import _
from oms.returns.queries import RmaDetail

from .barcodes import code128
from .layout import Bars, Box, Text, draw_pdf, fit, font, set_code, wrap
from .pages import MARGIN, page_size

_ROW = 24
_SKU_SIZE, _SKU_SMALLEST = 10, 7


def render_return_slip(rma: RmaDetail, company: str, reason_title: str = "", paper: str = "Letter") -> bytes:
    """The slip as PDF, one page (a return names few lines; more than fit go on the next page under the same head)."""
    w, h = page_size(paper)
    inner = w - 2 * MARGIN
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(w, h), pageCompression=1)
    c.setTitle(_("Return slip {number}").format(number=rma.number))
    c.setCreator("Quayside")

    def header() -> float:
        draw_pdf(c, [Text(MARGIN, MARGIN, 18, company, bold=True, width=inner - 230),
                     Text(w - MARGIN - 220, MARGIN, 14, _("RETURN SLIP"), bold=True, width=220, align="right"),
                     Bars(w - MARGIN - 220, MARGIN + 20, 220, 44, code128(rma.number), align="right", max_module_mm=0.33,
                          caption_size=9)], h)
        return MARGIN + 84

    y = header()
    half = inner / 2
    items = [Text(MARGIN, y, 8, _("FROM"), bold=True), Text(MARGIN, y + 12, 11, rma.customer, bold=True, width=half - 10),
             Text(MARGIN, y + 26, 10, _("Order {number}").format(number=rma.order_number), width=half - 10),
             Text(MARGIN + half, y, 8, _("SEND TO"), bold=True)]
    for i, line in enumerate(rma.location_address[:5]):
        items.append(Text(MARGIN + half, y + 12 + i * 13, 11 if i == 0 else 10, line, bold=i == 0, width=half))
    draw_pdf(c, items, h)
    y += 12 + 13 * max(3, min(5, len(rma.location_address))) + 8
    facts = [(_("RMA"), rma.number), (_("Opened"), rma.created_at.astimezone().strftime("%Y-%m-%d")),
             (_("Reason"), reason_title or rma.reason), (_("Wanted"), rma.resolution)]
    fact_items = []
    for i, (k, v) in enumerate(facts):
        x = MARGIN + i * inner / 4
        fact_items += [Text(x, y, 8, k, bold=True, width=inner / 4 - 6), Text(x, y + 11, 11, v, width=inner / 4 - 6)]
    draw_pdf(c, fact_items, h)
    y += 40
    if rma.customer_note:
        for i, part in enumerate(wrap(_("Your note: {note}").format(note=rma.customer_note), 10, inner, 3)):
            draw_pdf(c, [Text(MARGIN, y + i * 13, 10, part)], h)
        y += 13 * len(wrap(rma.customer_note, 10, inner, 3)) + 6
    sku_w, qty_w = 150, 60
    cols = [(_("SKU"), sku_w, "left"), (_("Description"), inner - sku_w - qty_w, "left"), (_("Qty"), qty_w, "right")]

    def table_header(top: float) -> float:
        c.setFillGray(0.9)
        c.rect(MARGIN, h - top - 18, inner, 18, stroke=0, fill=1)
        c.setFillGray(0)
        c.setFont(font(True), 8)
        x = MARGIN
        for title, width, align in cols:
            if align == "right":
                c.drawRightString(x + width - 4, h - top - 13, title)
            else:
                c.drawString(x + 4, h - top - 13, title)
            x += width
        return top + 22

    y = table_header(y)
    for line in rma.lines:
        if y + _ROW > h - MARGIN - 80:
            c.showPage()
            y = table_header(header())
        base = h - y - 12
        size, parts = set_code(line.sku, sku_w - 8, _SKU_SIZE, _SKU_SMALLEST)
        c.setFont(font(True), size)
        for i, part in enumerate(parts):
            c.drawString(MARGIN + 4, base - i * (size + 0.5), part)
        c.setFont(font(False), 10)
        c.drawString(MARGIN + sku_w + 4, base, fit(line.description, 10, cols[1][1] - 8))
        c.setFont(font(True), 11)
        c.drawRightString(MARGIN + inner - 4, base, str(line.quantity))
        y += _ROW
        c.setLineWidth(0.4)
        c.setStrokeGray(0.7)
        c.line(MARGIN, h - y + 8, MARGIN + inner, h - y + 8)
        c.setStrokeGray(0)
    foot = [Box(MARGIN, h - MARGIN - 66, inner, 1)]
    text = _("Put this slip in the parcel with the items, and the return label on the outside. We refund or exchange "
             "once the parcel has reached us; please quote {number} if you write to us.").format(number=rma.number)
    for i, part in enumerate(wrap(text, 9, inner, 4)):
        foot.append(Text(MARGIN, h - MARGIN - 58 + i * 12, 9, part))
    draw_pdf(c, foot, h)
    c.showPage()
    c.save()
    return buf.getvalue()
