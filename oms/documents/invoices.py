"""The invoice and the credit note as PDF: who owes what for which shipment, the number as a Code 128 barcode.

Drawn with reportlab as the packing slip is (``pages``): the seller (the settings' company name and address),
the customer, the document's facts, a table of its lines (goods, shipping, discount, tax) and the totals.
Amounts are written as the currency's own exponent says (``oms.core.money``); a long invoice runs onto more
pages with the table's header repeated and "Page n of m" at the foot.
"""

from __future__ import annotations

import io
from typing import Sequence

from reportlab.pdfgen.canvas import Canvas

from oms.core import money
from oms.core.i18n import _
from oms.invoicing import InvoiceView

from .barcodes import code128
from .data import ShopInfo
from .layout import Bars, Text, draw_pdf, font, wrap
from .pages import MARGIN, Paper, _when, page_size

_ROW = 16


def _amount(minor: int, currency: str) -> str:
    return money.to_text(minor, currency)


def _kind_word(kind: str) -> str:
    return {"shipping": _("Shipping"), "discount": _("Discount"), "tax": _("Tax")}.get(kind, "")


def render_invoice(doc: InvoiceView, shop: ShopInfo, paper: Paper | str = "Letter") -> bytes:
    """One invoice or credit note as PDF."""
    return render_invoices([doc], shop, paper)


def render_invoices(docs: Sequence[InvoiceView], shop: ShopInfo, paper: Paper | str = "Letter") -> bytes:
    w, h = page_size(paper)
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(w, h), pageCompression=1)
    c.setTitle(", ".join(d.number for d in docs))
    c.setCreator("Quayside")
    for doc in docs:
        _draw(c, doc, shop, w, h)
    c.save()
    return buf.getvalue()


def _pages(doc: InvoiceView, h: float) -> int:
    first = int((h - 2 * MARGIN - 250 - 120) // _ROW)
    rest = int((h - 2 * MARGIN - 120 - 120) // _ROW)
    n = len(doc.lines)
    return 1 if n <= first else 1 + -(-(n - first) // rest)


def _draw(c: Canvas, doc: InvoiceView, shop: ShopInfo, w: float, h: float) -> None:
    inner = w - 2 * MARGIN
    title = _("INVOICE") if doc.kind == "invoice" else _("CREDIT NOTE")
    total_pages = _pages(doc, h)
    page = 1
    cols = [(_("SKU"), 110, "left"), (_("Description"), inner - 110 - 3 * 80, "left"), (_("Qty"), 80, "right"),
            (_("Unit price"), 80, "right"), (_("Amount"), 80, "right")]

    def header() -> float:
        items = [Text(MARGIN, MARGIN, 18, shop.name or _("Quayside"), bold=True, width=inner - 230)]
        for i, line in enumerate(shop.return_address[:4]):
            items.append(Text(MARGIN, MARGIN + 24 + i * 11, 9, line, width=inner - 230))
        items.append(Text(w - MARGIN - 220, MARGIN, 14, f"{title} {doc.number}", bold=True, width=220, align="right"))
        items.append(Bars(w - MARGIN - 220, MARGIN + 20, 220, 44, code128(doc.number), align="right",
                          max_module_mm=0.33, caption_size=9))
        draw_pdf(c, items, h)
        return MARGIN + 84

    def foot() -> None:
        c.setFont(font(False), 8)
        c.drawRightString(w - MARGIN, MARGIN - 14, _("Page {n} of {m}").format(n=page, m=total_pages))

    def table_header(y: float) -> float:
        c.setFillGray(0.9)
        c.rect(MARGIN, h - y - 18, inner, 18, stroke=0, fill=1)
        c.setFillGray(0)
        c.setFont(font(True), 8)
        x = MARGIN
        for name, width, align in cols:
            if align == "right":
                c.drawRightString(x + width - 4, h - y - 13, name)
            else:
                c.drawString(x + 4, h - y - 13, name)
            x += width
        return y + 22

    y = header()
    half = inner / 2
    items = [Text(MARGIN, y, 8, _("BILL TO"), bold=True)]
    for i, line in enumerate(doc.bill_to[:6]):
        items.append(Text(MARGIN, y + 12 + i * 13, 10, line, bold=i == 0, width=half - 10))
    facts = [(_("Number"), doc.number), (_("Date"), _when(doc.issued_at)), (_("Order"), doc.order_number),
             (_("Channel"), doc.channel)]
    if doc.kind == "credit_note":
        facts.append((_("Against invoice"), doc.invoice_number))
        if doc.reason:
            facts.append((_("Reason"), doc.reason))
    elif doc.shipment_id:
        facts.append((_("Shipment"), str(doc.shipment_id)))
    facts.append((_("Currency"), doc.currency))
    key_w = 96
    for i, (k, v) in enumerate(facts):
        items.append(Text(MARGIN + half, y + i * 14, 9, k, bold=True, width=key_w - 4))
        items.append(Text(MARGIN + half + key_w, y + i * 14, 10, v, width=half - key_w))
    draw_pdf(c, items, h)
    y += max(12 + 13 * min(6, len(doc.bill_to)), 14 * len(facts)) + 16
    y = table_header(y)
    for line in doc.lines:
        if y + _ROW > h - MARGIN - 110:
            foot()
            c.showPage()
            page += 1
            y = table_header(header())
        base = h - y - 11
        c.setFont(font(True), 9)
        c.drawString(MARGIN + 4, base, line.sku if line.kind == "goods" else "")
        c.setFont(font(False), 9)
        desc = line.description if line.kind == "goods" else _kind_word(line.kind)
        c.drawString(MARGIN + cols[0][1] + 4, base, (wrap(desc, 9, cols[1][1] - 8, 1) or [""])[0])
        x = MARGIN + cols[0][1] + cols[1][1]
        values = (str(line.quantity) if line.kind == "goods" else "", _amount(line.unit_price_minor, doc.currency)
                  if line.kind == "goods" else "", _amount(line.amount_minor, doc.currency))
        for value, (_n, width, _a) in zip(values, cols[2:]):
            c.drawRightString(x + width - 4, base, value)
            x += width
        y += _ROW
        c.setLineWidth(0.4)
        c.setStrokeGray(0.7)
        c.line(MARGIN, h - y + 4, MARGIN + inner, h - y + 4)
        c.setStrokeGray(0)
    y += 8
    totals = [(_("Goods"), doc.goods_minor)]
    if doc.shipping_minor:
        totals.append((_("Shipping"), doc.shipping_minor))
    if doc.discount_minor:
        totals.append((_("Discount"), -doc.discount_minor))
    totals.append((_("Tax"), doc.tax_minor))
    totals.append((_("Total due") if doc.kind == "invoice" else _("Total credited"), doc.total_minor))
    for i, (k, v) in enumerate(totals):
        last = i == len(totals) - 1
        c.setFont(font(last), 11 if last else 10)
        c.drawRightString(w - MARGIN - 84, h - y - 12 - i * 15, k)
        c.drawRightString(w - MARGIN - 4, h - y - 12 - i * 15, f"{_amount(v, doc.currency)} {doc.currency}" if last
                          else _amount(v, doc.currency))
    foot()
    c.showPage()
