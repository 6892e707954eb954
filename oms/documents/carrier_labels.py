"""A carrier's label made printable on the station's label printer: as it came, or converted where it must be.

The station asks the carrier for the format its printer takes, so a label normally
prints as it came. A label kept in another format (bought before the printer changed,
or by a station with another printer) is converted here:

- PDF or PNG to ZPL: drawn into a ZPL graphic field (^GF) at the printer's resolution,
  by zebrafy (rendering with pdfium, as the printer's own driver would). A hard black and
  white threshold, not dithering, so the carrier's bars keep their edges.
- PNG to PDF: the image on a 4x6 page (reportlab).
- ZPL to PDF is not attempted: ZPL is a printer language, not a picture; such a label is
  refused with words that say where it can print.
"""

from __future__ import annotations

import io

from oms.core.errors import InvalidInput
from oms.core.i18n import _

LABEL_WIDTH_IN = 4
LABEL_HEIGHT_IN = 6

# Which kept file to start from for each printer format, best first: the same format, then the
# one that converts most faithfully (a PDF is vector, a PNG is already pixels).
SOURCES = {"zpl": ("zpl", "pdf", "png"), "pdf": ("pdf", "png", "zpl")}


def kind(data: bytes) -> str | None:
    """'pdf', 'zpl' or 'png' from a label file's first bytes."""
    head = data.lstrip()[:16]
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"\x89PNG"):
        return "png"
    if head.startswith((b"^XA", b"~", b"^")) or b"^XA" in data[:2048]:
        return "zpl"
    return None


def best_source(files: dict[str, bytes], fmt: str) -> bytes | None:
    """The kept label file to print on a ``fmt`` printer (it may still need converting), or None."""
    for name in SOURCES.get(fmt, (fmt,)):
        if files.get(name):
            return files[name]
    return None


def for_printer(data: bytes, fmt: str, *, dpi: int = 203) -> bytes:
    """The carrier's label ``data`` in the printer's format ``fmt`` ("zpl" or "pdf")."""
    got = kind(data)
    if got is None:
        raise InvalidInput(_("The carrier's label is not a PDF, an image or ZPL; it cannot be printed."))
    if got == fmt:
        return data
    if fmt == "zpl":
        return _to_zpl(data, got, dpi)
    if fmt == "pdf" and got == "png":
        return _png_to_pdf(data)
    raise InvalidInput(_("The carrier sent this label for a thermal label printer (ZPL); it cannot be printed on a "
                         "PDF printer. Print it from Failed prints on a ZPL label printer, or set this station's "
                         "label format to ZPL."))


def _to_zpl(data: bytes, got: str, dpi: int) -> bytes:
    from zebrafy import ZebrafyImage, ZebrafyPDF

    try:
        if got == "pdf":
            zpl = ZebrafyPDF(data, dpi=dpi, format="Z64", dither=False, threshold=160, set_label_size=True).to_zpl()
        else:
            from PIL import Image

            image = Image.open(io.BytesIO(data))
            width = LABEL_WIDTH_IN * dpi  # a carrier's image is the 4x6 label at its own resolution: fit the width
            height = round(image.height * width / image.width)
            image = image.convert("L").resize((width, height), Image.Resampling.LANCZOS)
            zpl = ZebrafyImage(image, format="Z64", dither=False, threshold=160, set_label_size=True).to_zpl()
    except Exception as exc:  # noqa: BLE001 - pdfium and Pillow raise their own types for a broken file
        raise InvalidInput(_("The carrier's label could not be converted for the label printer: {error}").format(
            error=str(exc) or type(exc).__name__)) from None
    return zpl.encode("ascii")


def _png_to_pdf(data: bytes) -> bytes:
    from reportlab.lib.units import inch
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    size = (LABEL_WIDTH_IN * inch, LABEL_HEIGHT_IN * inch)
    c = canvas.Canvas(buf, pagesize=size)
    c.setTitle(_("Carrier label"))
    c.drawImage(ImageReader(io.BytesIO(data)), 0, 0, width=size[0], height=size[1], preserveAspectRatio=True, anchor="n")
    c.showPage()
    c.save()
    return buf.getvalue()
