"""Labels described once (text, rules, barcodes in points from the top-left) and drawn as PDF or ZPL II."""

from __future__ import annotations

import io
import math
import os
import re
from dataclasses import dataclass, replace
from typing import Literal, Sequence, Union

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.code128 import Code128
from reportlab.graphics.barcode.eanbc import UPCA, Ean8BarcodeWidget, Ean13BarcodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.units import inch, mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from oms.core.errors import InvalidInput
from oms.core.i18n import _

from .barcodes import Symbol, code128_codewords, code128_subset_c, linear_modules, quiet_modules

Align = Literal["left", "center", "right"]

# -- fonts -------------------------------------------------------------------------------------------

_DEJAVU = "/usr/share/fonts/truetype/dejavu"
_fonts: tuple[str, str] | None = None


def fonts() -> tuple[str, str]:
    """(regular, bold) font names: DejaVu Sans when installed (any script), else Helvetica (Latin-1)."""
    global _fonts
    if _fonts is None:
        regular, bold = os.path.join(_DEJAVU, "DejaVuSans.ttf"), os.path.join(_DEJAVU, "DejaVuSans-Bold.ttf")
        if os.path.exists(regular) and os.path.exists(bold):
            pdfmetrics.registerFont(TTFont("QS-Regular", regular))
            pdfmetrics.registerFont(TTFont("QS-Bold", bold))
            _fonts = ("QS-Regular", "QS-Bold")
        else:
            _fonts = ("Helvetica", "Helvetica-Bold")
    return _fonts


def font(bold: bool) -> str:
    return fonts()[1 if bold else 0]


def text_width(text: str, size: float, bold: bool = False) -> float:
    return pdfmetrics.stringWidth(text, font(bold), size)


def size_to_fit(text: str, largest: float, smallest: float, width: float, bold: bool = False) -> float:
    """The largest type size, down to `smallest`, at which `text` fits in `width` points."""
    size = largest
    while size > smallest and text_width(text, size, bold) > width:
        size -= 1
    return size


def fit(text: str, size: float, width: float, bold: bool = False, ellipsis: str = "…") -> str:
    """`text` shortened with an ellipsis so that it fits in `width` points."""
    if text_width(text, size, bold) <= width:
        return text
    while text and text_width(text + ellipsis, size, bold) > width:
        text = text[:-1]
    return text.rstrip() + ellipsis


# Where a code may break: after a hyphen, slash, dot, underscore or space ("BOWL-|CLAY-|LG-|E4").
_CODE_PIECES = re.compile(r"[^-/._ ]+[-/._ ]*|[-/._ ]+")


def break_code(text: str, size: float, width: float, bold: bool = True) -> list[str]:
    """A code (SKU, bin, order number) on as many lines as it needs to fit `width`, none of it dropped.

    Lines break after a hyphen, slash or dot where they can, between characters where a
    piece alone is wider than the box. A code is never shortened: its last characters
    ("-E4") are often the ones that tell two variants apart.
    """
    lines: list[str] = []
    current = ""
    for piece in _CODE_PIECES.findall(text):
        if text_width((current + piece).rstrip(), size, bold) <= width:
            current += piece
            continue
        if current:
            lines.append(current.rstrip())
            current = ""
        while len(piece) > 1 and text_width(piece.rstrip(), size, bold) > width:
            n = len(piece) - 1
            while n > 1 and text_width(piece[:n], size, bold) > width:
                n -= 1
            lines.append(piece[:n])
            piece = piece[n:]
        current = piece
    if current.strip() or not lines:
        lines.append(current.rstrip())
    return lines


def set_code(text: str, width: float, largest: float, smallest: float, bold: bool = True) -> tuple[float, list[str]]:
    """(size, lines) to print a code whole in `width` points: one line at the largest size
    from `largest` down to `smallest` that fits, else broken over lines at `smallest`."""
    size = size_to_fit(text, largest, smallest, width, bold)
    if text_width(text, size, bold) <= width:
        return size, [text]
    return smallest, break_code(text, smallest, width, bold)


def column_width(texts: Sequence[str], size: float, bold: bool, least: float, most: float, pad: float = 0) -> float:
    """A column wide enough for the widest of `texts` (plus `pad`), between `least` and `most` points."""
    widest = max((text_width(t, size, bold) for t in texts), default=0) + pad
    return max(least, min(most, math.ceil(widest)))


def wrap(text: str, size: float, width: float, max_lines: int, bold: bool = False, ellipsis: str = "…") -> list[str]:
    """Word-wrap into at most `max_lines` lines; the last one is shortened when text is left over."""
    words = text.split()
    lines: list[str] = []
    current = ""
    for i, word in enumerate(words):
        candidate = f"{current} {word}".strip()
        if text_width(candidate, size, bold) <= width or not current:
            current = candidate
            continue
        lines.append(current)
        current = word
        if len(lines) == max_lines - 1:
            current = " ".join(words[i:])
            break
    if current:
        lines.append(current)
    return [fit(line, size, width, bold, ellipsis) for line in lines[:max_lines]]


# -- the description ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # top of the line
    size: float  # points; the cap height is about 0.72 of it
    text: str
    bold: bool = False
    width: float | None = None  # the box for alignment and shortening
    align: Align = "left"
    lines: int = 1  # with a width: wrapped at words onto up to this many lines, LEADING apart


LEADING = 1.2  # line pitch as a multiple of the type size


# Printer font 0 (^A0 with width = height) sets text at 0.66-0.74 of DejaVu Sans Bold's width (measured
# on addresses, digits, W and i); counting it as 0.8 leaves a margin, and the field block holds the rest.
FONT0_WIDTH = 0.8


def text_lines(t: Text, ellipsis: str = "…", width_scale: float = 1.0) -> list[str]:
    """The lines a Text prints as: wrapped at words to its width, the last one shortened if text is left over.

    Measured in DejaVu Sans; `width_scale` is how wide another font sets the same text
    (FONT0_WIDTH for a ZPL printer's font 0).
    """
    if not t.width:
        return [t.text]
    width = t.width / width_scale
    if t.lines <= 1:
        return [fit(t.text, t.size, width, t.bold, ellipsis)]
    return wrap(t.text, t.size, width, t.lines, t.bold, ellipsis) or [""]


@dataclass(frozen=True)
class Box:
    """A filled rectangle (a rule when thin) or, with `line`, an outline of that thickness."""

    x: float
    y: float
    w: float
    h: float
    line: float | None = None


@dataclass(frozen=True)
class Bars:
    """A barcode centred (or aligned) in a box that also holds its quiet zones and text line."""

    x: float
    y: float
    width: float
    height: float  # bars, plus the digits of EAN/UPC
    symbol: Symbol
    align: Align = "center"
    max_module_mm: float = 0.5
    min_module_mm: float = 0.19
    caption_size: float = 10  # Code 128 / GS1-128 interpretation line under the bars; 0 for none


Item = Union[Text, Box, Bars]


@dataclass(frozen=True)
class Label:
    width: float  # points
    height: float
    items: tuple[Item, ...]
    name: str = "label"

    @property
    def media(self) -> str:
        """The CUPS media option for this label size, e.g. Custom.4x6in."""
        return f"Custom.{_num(self.width / inch)}x{_num(self.height / inch)}in"


def _num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


SIZE_4X6 = (4 * inch, 6 * inch)
SIZE_SMALL = (2.25 * inch, 1.25 * inch)


def _too_long(symbol: Symbol) -> InvalidInput:
    return InvalidInput(
        _("The barcode {data} is too long for this label size; print it on a larger label.").format(data=symbol.data)
    )


# -- PDF -----------------------------------------------------------------------------------------------


def render_pdf(labels: Sequence[Label], *, title: str = "Labels") -> bytes:
    """One PDF page per label, each page the size of its label."""
    if not labels:
        raise InvalidInput(_("There are no labels to print."))
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(labels[0].width, labels[0].height), pageCompression=1)
    c.setTitle(title)
    c.setCreator("Quayside")
    for label in labels:
        c.setPageSize((label.width, label.height))
        draw_pdf(c, label.items, label.height)
        c.showPage()
    c.save()
    return buf.getvalue()


def draw_pdf(c: Canvas, items: Sequence[Item], page_height: float, dx: float = 0, dy: float = 0) -> None:
    """Draw items on a canvas; (dx, dy) moves their top-left origin (for labels placed on a page)."""
    for item in items:
        if isinstance(item, Text):
            _pdf_text(c, item, page_height, dx, dy)
        elif isinstance(item, Box):
            top = page_height - (item.y + dy)
            if item.line:
                c.setLineWidth(item.line)
                half = item.line / 2
                c.rect(item.x + dx + half, top - item.h + half, item.w - item.line, item.h - item.line, stroke=1, fill=0)
            else:
                c.rect(item.x + dx, top - item.h, item.w, item.h, stroke=0, fill=1)
        else:
            _pdf_bars(c, item, page_height, dx, dy)


def _pdf_text(c: Canvas, t: Text, page_height: float, dx: float, dy: float) -> None:
    c.setFont(font(t.bold), t.size)
    x = t.x + dx
    for i, text in enumerate(text_lines(t)):
        baseline = page_height - (t.y + dy) - t.size * 0.8 - i * t.size * LEADING
        if t.align == "left" or not t.width:
            c.drawString(x, baseline, text)
        elif t.align == "center":
            c.drawCentredString(x + t.width / 2, baseline, text)
        else:
            c.drawRightString(x + t.width, baseline, text)


def _module_pt(b: Bars, modules: int) -> float:
    left, right = quiet_modules(b.symbol)
    module = min(b.max_module_mm * mm, b.width / (modules + left + right))
    if module < b.min_module_mm * mm:
        raise _too_long(b.symbol)
    return module


def _pdf_bars(c: Canvas, b: Bars, page_height: float, dx: float, dy: float) -> None:
    sym = b.symbol
    top = page_height - (b.y + dy)
    if sym.symbology in ("code128", "gs1-128"):
        value = "\xf1" + sym.element_string(fnc1="\xf1") if sym.symbology == "gs1-128" else sym.data
        modules = Code128(value, barWidth=1, quiet=False).width
        module = _module_pt(b, int(modules))
        bar_h = b.height - (b.caption_size * 1.25 if b.caption_size else 0)
        bc = Code128(value, barWidth=module, barHeight=bar_h, quiet=False, humanReadable=False)
        x = _aligned_x(b, bc.width, module)
        bc.drawOn(c, x + dx, top - bar_h)
        if b.caption_size:
            c.setFont(font(False), b.caption_size)
            c.drawCentredString(x + dx + bc.width / 2, top - b.height + b.caption_size * 0.2, sym.human_readable)
        return
    widget_cls = {"ean13": Ean13BarcodeWidget, "upca": UPCA, "ean8": Ean8BarcodeWidget}[sym.symbology]
    module = _module_pt(b, linear_modules(sym))
    font_size = max(6.0, module * 9)
    w = widget_cls(sym.data, barWidth=module, barHeight=b.height, fontSize=font_size, fontName="Helvetica",
                   humanReadable=True, quiet=False)
    x0, y0, x1, y1 = w.getBounds()
    d = Drawing(x1 - x0, y1 - y0)
    d.add(w)
    x = _aligned_x(b, x1 - x0, module)
    renderPDF.draw(d, c, x + dx - x0, top - b.height - y0)


def _aligned_x(b: Bars, drawn: float, module: float) -> float:
    left, right = quiet_modules(b.symbol)
    if b.align == "left":
        return b.x + left * module
    if b.align == "right":
        return b.x + b.width - right * module - drawn
    return b.x + (b.width - drawn) / 2


# -- ZPL II -----------------------------------------------------------------------------------------


def render_zpl(labels: Sequence[Label], *, dpi: int = 203) -> bytes:
    """One ^XA..^XZ format per label, UTF-8 (^CI28), for a printer of `dpi` dots per inch."""
    if dpi not in (203, 300):
        raise InvalidInput(_("Label printers print at 203 or 300 dpi, not {dpi}.").format(dpi=dpi))
    if not labels:
        raise InvalidInput(_("There are no labels to print."))
    return "".join(label_zpl(label, dpi) for label in labels).encode("utf-8")


def dots(points: float, dpi: int) -> int:
    return int(round(points * dpi / 72))


def label_zpl(label: Label, dpi: int) -> str:
    out = [f"^XA^CI28^PW{dots(label.width, dpi)}^LL{dots(label.height, dpi)}^LH0,0\n"]
    for item in label.items:
        if isinstance(item, Text):
            out.append(_zpl_text(item, dpi))
        elif isinstance(item, Box):
            w, h = max(1, dots(item.w, dpi)), max(1, dots(item.h, dpi))
            t = min(w, h) if item.line is None else max(1, dots(item.line, dpi))
            out.append(f"^FO{dots(item.x, dpi)},{dots(item.y, dpi)}^GB{w},{h},{t}^FS\n")
        else:
            out.append(_zpl_bars(item, dpi))
    out.append("^XZ\n")
    return "".join(out)


def zpl_escape(text: str) -> str:
    """Field data for ^FH: the characters ZPL treats as commands written as hex."""
    return text.replace("_", "_5F").replace("^", "_5E").replace("~", "_7E").replace("\\", "_5C")


def _zpl_text(t: Text, dpi: int) -> str:
    """A text field; with a width, a field block (^FB width, lines, spacing, justification) so the
    printer itself keeps the text inside its box, whatever its font's widths, at 203 or 300 dpi."""
    # Printer-resident font 0 has no ellipsis glyph.
    # A one-line field is measured as font 0 sets it; a wrapped one breaks where the PDF breaks, so the
    # lines the label's layout made room for are the lines the printer prints.
    lines = text_lines(replace(t, text=t.text.replace("…", "...")), "...", FONT0_WIDTH if t.lines <= 1 else 1.0)
    h = dots(t.size, dpi)
    block = ""
    if t.width:
        spacing = dots(t.size * (LEADING - 1), dpi) if len(lines) > 1 else 0
        block = f"^FB{dots(t.width, dpi)},{len(lines)},{spacing},{_JUSTIFY[t.align]},0"
    # In a field block \& starts a new line: the same breaks as the PDF.
    data = "\\&".join(zpl_escape(line) for line in lines)
    return f"^FO{dots(t.x, dpi)},{dots(t.y, dpi)}^A0N,{h},{h}{block}^FH^FD{data}^FS\n"


_JUSTIFY = {"left": "L", "center": "C", "right": "R"}


def _module_dots(b: Bars, modules: int, dpi: int) -> int:
    left, right = quiet_modules(b.symbol)
    fit_dots = math.floor(dots(b.width, dpi) / (modules + left + right))
    # 0.5 mm is 3.99 dots at 203 dpi: round, or the bars would come out a quarter too thin.
    module = min(max(1, math.floor(b.max_module_mm / 25.4 * dpi + 0.1)), fit_dots)
    if module < math.ceil(b.min_module_mm / 25.4 * dpi - 0.05):
        raise _too_long(b.symbol)
    return module


def zpl_code128_data(symbol: Symbol) -> str:
    """^BC field data in mode N: start subset chosen explicitly, FNC1 as >8, '>' as >0."""
    chars = code128_codewords(symbol)
    start = ">;" if code128_subset_c(symbol) else ">:"
    return start + "".join(">8" if c == "\xf1" else ">0" if c == ">" else c for c in chars)


def _zpl_bars(b: Bars, dpi: int) -> str:
    sym = b.symbol
    modules = linear_modules(sym)
    module = _module_dots(b, modules, dpi)
    drawn = modules * module
    left, right = quiet_modules(sym)
    box_x, box_w = dots(b.x, dpi), dots(b.width, dpi)
    if b.align == "left":
        x = box_x + left * module
    elif b.align == "right":
        x = box_x + box_w - right * module - drawn
    else:
        x = box_x + (box_w - drawn) // 2
    y = dots(b.y, dpi)
    height = dots(b.height, dpi)
    if sym.symbology in ("code128", "gs1-128"):
        caption = dots(b.caption_size * 1.25, dpi) if b.caption_size else 0
        out = f"^BY{module}^FO{x},{y}^BCN,{height - caption},N,N,N^FH^FD{zpl_escape(zpl_code128_data(sym))}^FS\n"
        if b.caption_size:
            cap = dots(b.caption_size, dpi)
            out += (f"^FO{x - 10 * module},{y + height - cap}^A0N,{cap},{cap}^FB{drawn + 20 * module},1,0,C,0"
                    f"^FH^FD{zpl_escape(sym.human_readable)}^FS\n")
        return out
    digits_h = module * 11  # the interpretation line ZPL prints under EAN/UPC bars
    bar_h = max(module * 20, height - digits_h)
    if sym.symbology == "ean13":
        return f"^BY{module}^FO{x},{y}^BEN,{bar_h},Y,N^FD{sym.data[:12]}^FS\n"
    if sym.symbology == "upca":
        return f"^BY{module}^FO{x},{y}^BUN,{bar_h},Y,N,Y^FD{sym.data[:11]}^FS\n"
    return f"^BY{module}^FO{x},{y}^B8N,{bar_h},Y,N^FD{sym.data[:7]}^FS\n"
