"""Printed documents: pick lists, packing slips, purchase orders, return slips and labels (PDF and ZPL II), with their barcodes.

Every function takes an open session (or plain data) and returns the document's
bytes, ready to save or hand to oms.printing; errors are OmsError subclasses
whose message can be shown to the person at the station as it is.
"""

from __future__ import annotations

from typing import Sequence

from sqlalchemy.orm import Session

from oms import fulfilment, invoicing, purchasing, returns, users
from oms.core.audit import Actor
from oms.core.errors import InvalidInput
from oms.core.i18n import _
from oms.core.settings import Settings

from . import carrier_labels, data as _data
from .invoices import render_invoice, render_invoices
from .labels import Format, LabelSize, badge_label, bin_label, product_label, render, shipping_label, sscc_label
from .pages import render_packing_slip, render_packing_slips, render_pick_list
from .purchase_order import render_purchase_order
from .return_slip import render_return_slip

__all__ = [
    "badge_labels",
    "bin_labels",
    "credit_note_pdf",
    "invoice_pdf",
    "render_invoice",
    "render_invoices",
    "detect_format",
    "new_sscc_labels",
    "packing_slip",
    "pick_list",
    "product_labels",
    "purchase_order",
    "render_packing_slip",
    "render_packing_slips",
    "render_pick_list",
    "render_purchase_order",
    "render_return_slip",
    "return_slip",
    "shipping_labels",
    "sscc_labels",
]


def _check(fmt: str, dpi: int) -> None:
    if fmt not in ("pdf", "zpl"):
        raise InvalidInput(_("Labels can be made as pdf or zpl, not {fmt}.").format(fmt=fmt))
    if dpi not in (203, 300):
        raise InvalidInput(_("Label printers print at 203 or 300 dpi, not {dpi}.").format(dpi=dpi))


def badge_labels(session: Session, actor: Actor, usernames: Sequence[str], fmt: Format = "pdf", *,
                 dpi: int = 203) -> bytes:
    """Badge labels of these users (2.25x1.25 in): name, role and the badge code in Code 128, scanned to sign in."""
    _check(fmt, dpi)
    if not usernames:
        raise InvalidInput(_("Name at least one user to print a badge for."))
    rows = {u.username: u for u in users.list_users(session)}
    labels = []
    for name in usernames:
        code, display = users.badge_of(session, actor, name)
        labels.append(badge_label(display, rows[name.strip().lower()].role_label, code))
    return render(labels, fmt, dpi=dpi, title=_("Badges"))


def pick_list(session: Session, wave_id: int, paper: str = "Letter") -> bytes:
    """The wave's pick list as PDF (reads oms.fulfilment.pick_list)."""
    return render_pick_list(fulfilment.pick_list(session, wave_id), paper)


def packing_slip(session: Session, order_ref: str | int, shipment_id: int | None = None, *,
                 paper: str | None = None, settings: Settings | None = None) -> bytes:
    """The packing slip of one of an order's shipments, or of the order (number, channel id or id), as PDF.

    An order that shipped in several boxes gets a slip per box, one after the other.
    """
    settings = settings or Settings.load()
    return render_packing_slips(_data.packing_slips_data(session, order_ref, shipment_id, settings),
                                paper or settings.paper_size)


def purchase_order(session: Session, po_ref: str | int, *, paper: str | None = None,
                   settings: Settings | None = None) -> bytes:
    """A purchase order (number as printed, or id) as PDF, with the company's name from the settings."""
    settings = settings or Settings.load()
    return render_purchase_order(purchasing.po_detail(session, po_ref), settings.company_name, paper or settings.paper_size)


def return_slip(session: Session, rma_ref: str | int, *, paper: str | None = None,
                settings: Settings | None = None) -> bytes:
    """An RMA's return slip (number as printed, or id) as PDF, with the company's name from the settings."""
    settings = settings or Settings.load()
    detail = returns.rma_detail(session, rma_ref)
    title = dict(returns.reasons(session, active_only=False)).get(detail.reason, detail.reason)
    return render_return_slip(detail, settings.company_name, title, paper or settings.paper_size)


def invoice_pdf(session: Session, number: str, *, paper: str | None = None, settings: Settings | None = None) -> bytes:
    """An invoice (INV-…) as PDF, its number as a Code 128 barcode."""
    settings = settings or Settings.load()
    return render_invoice(invoicing.invoice_view(session, number), _data.ShopInfo.from_settings(settings),
                          paper or settings.paper_size)


def credit_note_pdf(session: Session, number: str, *, paper: str | None = None, settings: Settings | None = None) -> bytes:
    """A credit note (CN-…) as PDF."""
    settings = settings or Settings.load()
    return render_invoice(invoicing.credit_note_view(session, number), _data.ShopInfo.from_settings(settings),
                          paper or settings.paper_size)


def detect_format(label: bytes) -> Format:
    """Whether label bytes (ours or a carrier's) are PDF or ZPL."""
    head = label.lstrip()[:16]
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith((b"^XA", b"~", b"^")) or b"^XA" in label[:2048]:
        return "zpl"
    raise InvalidInput(_("The label is neither a PDF nor ZPL; it cannot be printed."))


def shipping_labels(session: Session, shipment_id: int, fmt: Format = "pdf", *, dpi: int = 203,
                    carrier_label: bytes | None = None) -> bytes:
    """The 4x6 shipping label(s) of a shipment, one per package.

    When the carrier sold a label (`carrier_label`, PDF, PNG or ZPL bytes as the
    carrier returned them), that label is what goes on the box: passed through when
    it is in the printer's format, else converted for the printer (carrier_labels).
    """
    _check(fmt, dpi)
    if carrier_label is not None:
        return carrier_labels.for_printer(carrier_label, fmt, dpi=dpi)
    labels = [shipping_label(d) for d in _data.shipping_label_data(session, shipment_id)]
    return render(labels, fmt, dpi=dpi, title=_("Shipping labels, shipment {id}").format(id=shipment_id))


def sscc_labels(session: Session, shipment_id: int, fmt: Format = "pdf", *, dpi: int = 203) -> bytes:
    """GS1 carton (and pallet) labels for the SSCCs the packing station gave the shipment's packages."""
    _check(fmt, dpi)
    labels = [sscc_label(d) for d in _data.sscc_label_data(session, shipment_id)]
    return render(labels, fmt, dpi=dpi, title=_("SSCC labels, shipment {id}").format(id=shipment_id))


def new_sscc_labels(session: Session, count: int, fmt: Format = "pdf", *, dpi: int = 203,
                    settings: Settings | None = None) -> tuple[list[str], bytes]:
    """`count` labels for new SSCCs (blank cartons); returns the SSCCs and the labels.

    The serials are taken in the caller's transaction: commit only after the labels
    were made, so a failure hands out no number.
    """
    _check(fmt, dpi)
    settings = settings or Settings.load()
    ssccs = fulfilment.allocate_ssccs(session, count, settings.gs1_company_prefix, settings.sscc_serial_start)
    labels = [sscc_label(_data.SsccLabelData(code, carton_index=i + 1, carton_count=count)) for i, code in enumerate(ssccs)]
    return ssccs, render(labels, fmt, dpi=dpi, title=_("SSCC labels"))


def product_labels(session: Session, skus: Sequence[str], fmt: Format = "pdf", *, size: LabelSize = "small",
                   dpi: int = 203, copies: int = 1) -> bytes:
    """Product labels (2.25x1.25 in "small" or "4x6") with the product's GTIN, or its SKU in Code 128."""
    _check(fmt, dpi)
    if size not in ("small", "4x6"):
        raise InvalidInput(_("Label size must be small or 4x6, not {size}.").format(size=size))
    if not 1 <= copies <= 1000:
        raise InvalidInput(_("Print between 1 and 1000 copies of each label."))
    labels = [product_label(d, size) for d in _data.product_label_data(session, skus) for _i in range(copies)]
    return render(labels, fmt, dpi=dpi, title=_("Product labels"))


def receiving_labels(session: Session, po_ref: str | int, what: str, fmt: Format = "pdf", *, dpi: int = 203,
                     size: LabelSize = "small") -> tuple[int, bytes]:
    """Labels for what a PO brings in: ``cartons``, the GS1 label of every carton its suppliers' ship notices list (to
    label a carton that came without, or with a torn one; "3 of 7" across the PO); or ``products``, a product label
    for every good unit on its open receipt. Returns (how many labels, the labels)."""
    _check(fmt, dpi)
    po = purchasing.po_detail(session, po_ref)
    if what == "cartons":
        codes = [c.sscc for a in purchasing.expected_receipts(session, po.number) for c in a.cartons]
        if not codes:
            raise InvalidInput(_("{po} has no cartons from a ship notice to label.").format(po=po.number))
        labels = [sscc_label(_data.SsccLabelData(code, po_number=po.number, carton_index=i + 1, carton_count=len(codes)))
                  for i, code in enumerate(codes)]
        return len(labels), render(labels, fmt, dpi=dpi, title=_("Carton labels, {po}").format(po=po.number))
    if what != "products":
        raise InvalidInput(_("Receiving labels are for cartons or products, not {what}.").format(what=what))
    if size not in ("small", "4x6"):
        raise InvalidInput(_("Label size must be small or 4x6, not {size}.").format(size=size))
    wanted = [(r.sku, r.good) for r in po.receipt_lines if r.good > 0]
    if not wanted:
        raise InvalidInput(_("Nothing good is on an open receipt of {po}: scan the items in first.").format(po=po.number))
    if sum(n for _s, n in wanted) > 1000:
        raise InvalidInput(_("That is more than 1000 labels; print them by SKU with `doc product-labels`."))
    data = {d.sku: d for d in _data.product_label_data(session, [sku for sku, _n in wanted])}
    labels = [product_label(data[sku], size) for sku, n in wanted for _i in range(n)]
    return len(labels), render(labels, fmt, dpi=dpi, title=_("Product labels, {po}").format(po=po.number))


def bin_labels(session: Session, location_code: str, fmt: Format = "pdf", *, size: LabelSize = "small",
               dpi: int = 203, bins: Sequence[str] | None = None) -> bytes:
    """Bin labels of a location in walk order (or only `bins`): the code large and in Code 128."""
    _check(fmt, dpi)
    if size not in ("small", "4x6"):
        raise InvalidInput(_("Label size must be small or 4x6, not {size}.").format(size=size))
    labels = [bin_label(d, size) for d in _data.bin_label_data(session, location_code, bins)]
    return render(labels, fmt, dpi=dpi, title=_("Bin labels {location}").format(location=location_code))
