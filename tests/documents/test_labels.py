"""Every barcode on every label, rendered at 203 and 300 dpi from PDF and from ZPL, reads back as meant."""

from __future__ import annotations

import re
from datetime import date

import pypdfium2 as pdfium
import pytest
import zxingcpp

from oms import documents
from oms.core.errors import Conflict, InvalidInput, NotFound
from oms.core.gs1 import is_valid_sscc, parse_element_string, sscc
from oms.documents.barcodes import code128, gtin_symbol, product_symbol, sscc_symbol
from oms.documents.data import (
    Address,
    BinLabelData,
    ProductLabelData,
    ShippingLabelData,
    SsccLabelData,
)
from oms.documents.labels import bin_label, product_label, render, shipping_label, sscc_label
from oms.documents.layout import dots
from oms.fulfilment import allocate_ssccs
from oms.shipping.models import Shipment
from oms.shipping.shipments import PackageSpec
from tests.documents.conftest import decode_pdf, decode_zpl, expected, packed_shipment, pdf_pages, zpl_labels

DPIS = (203, 300)
FROM = Address("Harbor & Pine Goods", address1="1200 Industrial Way", city="Reno", region="NV", postal_code="89502",
               country="US")
TO = Address("Ada Lovelace", "Analytical Engines Ltd", "1 Main St", "Suite 400", "Seattle", "WA", "98101", "US")

# Published GS1 examples (GS1 General Specifications; EAN/UPC examples as printed on packs).
GS1_SSCC = "106141411234567897"  # (00) 1 0614141 123456789 7
GS1_GTIN14 = "09506000134352"


def sample_labels():
    return [
        (shipping_label(ShippingLabelData(FROM, TO, "#10422", 17, "ups", "expedited", "1Z999AA10123456784", 1250, 2600,
                                          1, 2, date(2026, 11, 20))),
         [code128("#10422")]),  # our own label: the order's barcode only, never one that passes for the carrier's
        (sscc_label(SsccLabelData(GS1_SSCC, FROM, TO, "PO-778812", "#10422", "ups", 1, 3, 8400)), [sscc_symbol(GS1_SSCC)]),
        (product_label(ProductLabelData("MUG-RED", "Mug, red", product_symbol("MUG-RED", [("ean", "4006381333931")]))),
         [gtin_symbol("4006381333931")]),
        (product_label(ProductLabelData("MUG-BLU", "Mug, blue", product_symbol("MUG-BLU", [("upc", "036000291452")]))),
         [gtin_symbol("036000291452")]),
        (product_label(ProductLabelData("PEN-8", "Pen", product_symbol("PEN-8", [("gtin", "96385074")]))),
         [gtin_symbol("96385074")]),
        (product_label(ProductLabelData("CASE-12", "Case of 12", product_symbol("CASE-12", [("gtin", "10614141000415")])),
                       "4x6"), [gtin_symbol("10614141000415")]),
        (product_label(ProductLabelData("LANTERN", "Storm lantern, a name far too long for a small label of this size",
                                        product_symbol("LANTERN"))), [code128("LANTERN")]),
        (product_label(ProductLabelData("MUG-RED", "Mug, red", product_symbol("MUG-RED", [("ean", "4006381333931")])),
                       "4x6"), [gtin_symbol("4006381333931")]),
        (bin_label(BinLabelData("A-03-2", "RNO")), [code128("A-03-2")]),
        (bin_label(BinLabelData("C-11-1", "RNO"), "4x6"), [code128("C-11-1")]),
    ]


def assert_reads(pages, wanted_per_page):
    assert len(pages) == len(wanted_per_page)
    for i, (reads, wanted) in enumerate(zip(pages, wanted_per_page)):
        assert sorted(reads, key=repr) == sorted([expected(s) for s in wanted], key=repr), f"label {i + 1}"


@pytest.mark.parametrize("dpi", DPIS)
def test_every_pdf_label_barcode_reads_back(dpi):
    labels = sample_labels()
    pdf = render([lab for lab, _ in labels], "pdf")
    assert_reads(decode_pdf(pdf, dpi), [want for _, want in labels])


@pytest.mark.parametrize("dpi", DPIS)
def test_every_zpl_label_barcode_reads_back(dpi):
    labels = sample_labels()
    zpl = render([lab for lab, _ in labels], "zpl", dpi=dpi)
    assert_reads(decode_zpl(zpl, dpi), [want for _, want in labels])


def test_upc_a_reads_as_upc_a():
    pdf = render([product_label(ProductLabelData("MUG-BLU", "Mug", gtin_symbol("036000291452")))], "pdf")
    (img,) = pdf_pages(pdf, 203)
    (r,) = zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.UPCA)
    assert r.format == zxingcpp.BarcodeFormat.UPCA and r.text.endswith("036000291452")


def test_gs1_128_is_a_gs1_symbol_and_parses_as_the_sscc():
    pdf = render([sscc_label(SsccLabelData(GS1_SSCC))], "pdf")
    ((read,),) = decode_pdf(pdf, 203)
    assert (read.format, read.symbology_identifier, read.gs1) == ("Code 128", "]C1", True)
    assert read.text == "(00)106141411234567897"
    assert parse_element_string(read.text).sscc == GS1_SSCC


def test_check_digits_against_published_gs1_examples():
    assert sscc("0614141", 123456789, extension_digit=1) == GS1_SSCC
    assert sscc_symbol(GS1_SSCC).human_readable == "(00) 106141411234567897"
    with pytest.raises(InvalidInput):
        sscc_symbol("106141411234567898")  # wrong check digit
    assert gtin_symbol(GS1_GTIN14).symbology == "ean13" and gtin_symbol(GS1_GTIN14).data == "9506000134352"
    assert gtin_symbol("00036000291452").symbology == "upca"
    assert gtin_symbol("10614141000415").symbology == "gs1-128"
    with pytest.raises(InvalidInput):
        gtin_symbol("4006381333932")


def test_product_barcode_choice():
    assert product_symbol("X", [("custom", "ABC"), ("upc", "036000291452")]) == gtin_symbol("036000291452")
    assert product_symbol("X", [("ean", "4006381333932")]).symbology == "code128"  # a wrong check digit is not printed
    assert product_symbol("MUG-RED", []) == code128("MUG-RED")
    with pytest.raises(InvalidInput, match="cannot be printed"):
        code128("Tasse, grün")


# -- ZPL structure --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dpi", DPIS)
def test_zpl_structure_and_field_origins_inside_the_label(dpi):
    labels = [lab for lab, _ in sample_labels()]
    zpl = render(labels, "zpl", dpi=dpi)
    formats = zpl_labels(zpl)
    assert len(formats) == len(labels)
    for label, text in zip(labels, formats):
        assert text.startswith("^XA^CI28") and text.endswith("^XZ")
        pw, ll = int(re.search(r"\^PW(\d+)", text).group(1)), int(re.search(r"\^LL(\d+)", text).group(1))
        assert (pw, ll) == (dots(label.width, dpi), dots(label.height, dpi))
        for x, y in re.findall(r"\^FO(\d+),(\d+)", text):
            assert 0 <= int(x) < pw and 0 <= int(y) < ll
        # Each barcode with its quiet zones stays on the label.
        for module, x, kind in re.findall(r"\^BY(\d+)\^FO(\d+),\d+\^(B[CEU8])", text):
            assert int(module) >= (2 if dpi == 203 else 3)
            assert int(x) >= 10 * int(module) - 1 or kind != "BC"


def test_zpl_sscc_is_gs1_128_with_fnc1_in_subset_c():
    zpl = render([sscc_label(SsccLabelData(GS1_SSCC))], "zpl", dpi=203).decode()
    assert "^BCN," in zpl and f"^FD>;>800{GS1_SSCC}^FS" in zpl
    module = int(re.search(r"\^BY(\d+)\^FO\d+,\d+\^BC", zpl).group(1))
    assert 0.495 <= module / 203 * 25.4 <= 1.016  # GS1 logistic label X-dimension


def test_zpl_product_and_text_escaping():
    zpl = render([product_label(ProductLabelData("MUG_RED^1", "Mug ~ red", gtin_symbol("4006381333931")))], "zpl").decode()
    assert "^BEN," in zpl and "^FD400638133393^FS" in zpl  # the printer adds the check digit
    assert "MUG_5FRED_5E1" in zpl and "Mug _7E red" in zpl
    zpl = render([product_label(ProductLabelData("B", "b", gtin_symbol("036000291452")))], "zpl").decode()
    assert "^BUN," in zpl and "^FD03600029145^FS" in zpl
    zpl = render([bin_label(BinLabelData("A>1"))], "zpl").decode()
    assert "^FD>:A>01^FS" in zpl  # '>' is an invocation character in ^BC: written as >0


def test_batches_one_page_or_format_per_label():
    labels = [bin_label(BinLabelData(f"A-{i:02d}-1")) for i in range(25)]
    assert len(pdf_pages(render(labels, "pdf"), 72)) == 25
    assert len(zpl_labels(render(labels, "zpl", dpi=300))) == 25


def test_too_long_for_a_small_label_is_a_clear_error():
    with pytest.raises(InvalidInput, match="too long for this label size"):
        render([bin_label(BinLabelData("AISLE-0001-SHELF-0002-LEVEL-03"))], "pdf")
    with pytest.raises(InvalidInput, match="203 or 300"):
        render([bin_label(BinLabelData("A"))], "zpl", dpi=600)


# -- from the database ----------------------------------------------------------------------------------


def test_shipping_labels_of_a_shipment(world):
    _oid, sid = packed_shipment(world, packages=[PackageSpec("M", 1250), PackageSpec("S", 600)])
    with world.read() as s:
        pdf = documents.shipping_labels(s, sid, "pdf")
        zpl = documents.shipping_labels(s, sid, "zpl", dpi=300)
    want = [[code128("#1")]] * 2
    assert_reads(decode_pdf(pdf, 203), want)
    assert_reads(decode_zpl(zpl, 300), want)
    assert "1.25 kg" in zpl.decode() and "1.85 kg" in zpl.decode()  # this package, and all packages


def test_our_own_shipping_label_cannot_pass_for_a_carrier_label(world):
    """No postage, no carrier's name, no tracking barcode in a format that is not the carrier's: said plainly."""
    _oid, sid = packed_shipment(world, tracking="9400111899223344556677")
    with world.write() as s:
        s.get(Shipment, sid).carrier, s.get(Shipment, sid).service = "USPS", "Priority"
    with world.read() as s:
        pdf = documents.shipping_labels(s, sid, "pdf")
        zpl = documents.shipping_labels(s, sid, "zpl", dpi=203).decode()
    text = pdfium.PdfDocument(pdf)[0].get_textpage().get_text_range()
    for words in (text, zpl):
        assert "NOT A CARRIER LABEL" in words and "No postage" in words
        assert "USPS" not in words and "PRIORITY" not in words
        assert "9400111899223344556677" in words  # the number is there to read, for reference
    assert_reads(decode_pdf(pdf, 203), [[code128("#1")]])
    assert_reads(decode_zpl(zpl.encode(), 203), [[code128("#1")]])


def test_carrier_label_passes_through_unchanged(world):
    _oid, sid = packed_shipment(world)
    carrier = b"^XA^FO50,50^BCN,100^FD1Z999^FS^XZ"
    with world.read() as s:
        assert documents.shipping_labels(s, sid, "zpl", carrier_label=carrier) is carrier
        with pytest.raises(InvalidInput, match="thermal label printer"):  # ZPL is not a picture: said, not guessed
            documents.shipping_labels(s, sid, "pdf", carrier_label=carrier)
        with pytest.raises(NotFound):
            documents.shipping_labels(s, 9999, "pdf")


def test_sscc_labels_of_a_wholesale_shipment(world):
    codes = [sscc("0614141", n) for n in (7, 8, 9)]
    _oid, sid = packed_shipment(world, lines=(("MUG-RED", 3), ("MUG-BLU", 2), ("LANTERN", 1)), channel="edi",
                                packages=[PackageSpec("CTN", 4000, sscc=c) for c in codes])
    with world.read() as s:
        pdf = documents.sscc_labels(s, sid, "pdf")
        zpl = documents.sscc_labels(s, sid, "zpl", dpi=203)
    want = [[sscc_symbol(c)] for c in codes]
    assert_reads(decode_pdf(pdf, 300), want)
    assert_reads(decode_zpl(zpl, 203), want)
    text = zpl.decode()
    assert "PURCHASE ORDER" in text and "#1" in text and "1 of 3" in text and "3 of 3" in text


def test_sscc_labels_need_ssccs(world):
    _oid, sid = packed_shipment(world)
    with world.read() as s, pytest.raises(Conflict, match="SSCC"):
        documents.sscc_labels(s, sid, "pdf")


def test_new_sscc_labels_take_fresh_serials_from_the_range_start(world):
    from oms.core.settings import Settings

    settings = Settings(gs1_company_prefix="0614141", sscc_serial_start=5000)
    with world.write() as s:
        first, pdf = documents.new_sscc_labels(s, 3, "pdf", settings=settings)
    with world.write() as s:
        second, zpl = documents.new_sscc_labels(s, 2, "zpl", settings=settings)
    assert first == [sscc("0614141", n) for n in (5000, 5001, 5002)]
    assert second == [sscc("0614141", n) for n in (5003, 5004)]
    assert all(is_valid_sscc(c) for c in first + second)
    assert_reads(decode_pdf(pdf, 203), [[sscc_symbol(c)] for c in first])
    assert_reads(decode_zpl(zpl, 203), [[sscc_symbol(c)] for c in second])
    with world.write() as s, pytest.raises(InvalidInput, match="company prefix"):
        allocate_ssccs(s, 1, "12AB")


def test_product_and_bin_labels_from_the_catalogue(world):
    with world.read() as s:
        pdf = documents.product_labels(s, ["MUG-RED", "MUG-BLU", "LANTERN", "4006381333931"], "pdf")
        zpl = documents.product_labels(s, ["MUG-RED", "LANTERN"], "zpl", size="4x6", dpi=300)
        bins = documents.bin_labels(s, "RNO", "pdf")
        with pytest.raises(NotFound, match="NOPE"):
            documents.product_labels(s, ["NOPE"], "pdf")
        with pytest.raises(NotFound, match="no location"):
            documents.bin_labels(s, "XXX", "pdf")
    assert_reads(decode_pdf(pdf, 203), [[gtin_symbol("4006381333931")], [gtin_symbol("036000291452")],
                                        [code128("LANTERN")], [gtin_symbol("4006381333931")]])
    assert_reads(decode_zpl(zpl, 300), [[gtin_symbol("4006381333931")], [code128("LANTERN")]])
    assert_reads(decode_pdf(bins, 203), [[code128(c)] for c in ("A-01-1", "A-03-2", "C-11-1")])


def test_pdf_label_pages_are_label_sized():
    pdf = render([shipping_label(ShippingLabelData(FROM, TO, "#1", 1)), bin_label(BinLabelData("A-1"))], "pdf")
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    assert [tuple(round(v) for v in p.get_size()) for p in doc] == [(288, 432), (162, 90)]


# -- a carrier's label made printable -----------------------------------------------------------------------


def carrier_pdf(tracking: str) -> bytes:
    """A carrier's 4x6 PDF label as EasyPost sends it: text and the tracking number in Code 128."""
    import io as _io

    from reportlab.graphics.barcode import code128 as rl_code128
    from reportlab.lib.units import inch
    from reportlab.pdfgen import canvas

    buf = _io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(4 * inch, 6 * inch))
    c.setFont("Helvetica-Bold", 14)
    c.drawString(0.3 * inch, 5.5 * inch, "USPS Priority")
    rl_code128.Code128(tracking, barHeight=0.9 * inch, barWidth=1.1).drawOn(c, 0.2 * inch, 1.5 * inch)
    c.showPage()
    c.save()
    return buf.getvalue()


def carrier_png(tracking: str) -> bytes:
    """The same label as the 300 dpi PNG image EasyPost sends when asked for PNG."""
    import io as _io

    image = pdf_pages(carrier_pdf(tracking), 300)[0]
    out = _io.BytesIO()
    image.save(out, format="PNG", dpi=(300, 300))
    return out.getvalue()


@pytest.mark.parametrize("dpi", DPIS)
@pytest.mark.parametrize("source", ["pdf", "png"])
def test_a_carrier_pdf_or_png_label_prints_on_a_zpl_printer_and_its_barcode_still_scans(source, dpi):
    from oms.documents import carrier_labels

    tracking = "9400111899223344556677"
    data = carrier_pdf(tracking) if source == "pdf" else carrier_png(tracking)
    zpl = carrier_labels.for_printer(data, "zpl", dpi=dpi)
    assert zpl.startswith(b"^XA") and b"^GF" in zpl and zpl.rstrip().endswith(b"^XZ")
    (label,) = zpl_labels(zpl)
    assert f"^PW{4 * dpi}" in label  # the label's own width at the printer's resolution: 4 inches
    (reads,) = decode_zpl(zpl, dpi)
    assert [r.text for r in reads] == [tracking]


def test_a_carrier_png_label_prints_on_a_pdf_printer_and_a_zpl_one_is_refused_plainly():
    from oms.documents import carrier_labels

    tracking = "9400111899223344556677"
    pdf = carrier_labels.for_printer(carrier_png(tracking), "pdf")
    assert pdf.startswith(b"%PDF")
    (reads,) = decode_pdf(pdf, 203)
    assert [r.text for r in reads] == [tracking]
    with pytest.raises(InvalidInput, match="Failed prints on a ZPL label printer"):
        carrier_labels.for_printer(b"^XA^FO50,50^BCN,100^FD1Z999^FS^XZ", "pdf")
    with pytest.raises(InvalidInput, match="not a PDF, an image or ZPL"):
        carrier_labels.for_printer(b"GIF89a...", "zpl")


LONG_TO = Address("Alexandria Montgomery-Featherstonehaugh", "Northwind Retail Store 221",
                  "12345 Extraordinarily Long Boulevard Northwest, Suite 1000", "", "Rancho Santa Margarita", "CA",
                  "92688-1234", "United States")
_TEXT_FIELD = re.compile(r"\^FO(\d+),(\d+)\^A0N,(\d+),\d+(?:\^FB(\d+),(\d+),(\d+),([LCRJ]),0)?\^FH\^FD(.*?)\^FS")


@pytest.mark.parametrize("dpi", DPIS)
def test_zpl_address_lines_are_field_blocks_that_stay_on_the_label(dpi):
    """Every address line is a ^FB field block with its box's width; a long street wraps whole onto a second
    line instead of running off or losing words, and nothing is printed beyond the block, at 203 and 300 dpi."""
    from tests.documents.conftest import render_zpl

    ship = shipping_label(ShippingLabelData(FROM, LONG_TO, "PO450006", 17, "UPS", "Ground", "1Z999AA10123456784", 1250,
                                            1250, 1, 1, date(2026, 11, 20)))
    carton = sscc_label(SsccLabelData(GS1_SSCC, FROM, LONG_TO, "PO450006", "PO450006", "UPS", 1, 3, 5000))
    for label in (ship, carton):
        (text,) = zpl_labels(render([label], "zpl", dpi=dpi))
        pw = int(re.search(r"\^PW(\d+)", text).group(1))
        fields = _TEXT_FIELD.findall(text)
        assert len(fields) == text.count("^A0N"), "a text field the pattern does not know"
        image = render_zpl(text, dpi).convert("L")
        address = [line.split(" ")[0] for line in FROM.lines() + LONG_TO.lines()]
        for x, y, h, width, lines, spacing, _justify, data in fields:
            if not width:  # a text without a box of its own (a caption such as TRACKING NUMBER)
                assert not any(data.startswith(word) for word in address), f"no field block for {data!r}"
                continue
            x, y, h, width, lines, spacing = map(int, (x, y, h, width, lines, spacing))
            assert x + width <= pw
            assert data.count("\\&") == lines - 1
            # Just right of the block (3 points: up to the next column or the label's edge) there is no ink.
            gap = (x + width + 1, y, min(pw, x + width + 1 + dots(3, dpi)), y + lines * h + (lines - 1) * spacing)
            if gap[2] > gap[0]:
                assert image.crop(gap).getextrema()[0] > 128, f"{data!r} runs out of its block"
        if label is ship:
            street = next(d for *_rest, d in fields if d.startswith("12345"))
            assert street.replace("\\&", " ") == "12345 Extraordinarily Long Boulevard Northwest, Suite 1000"


def test_our_labels_service_is_named_whole_beside_the_weight():
    """A carrier's service code prints in words and whole ("Ground Advantage"), never cut short beside the weight."""
    label = shipping_label(ShippingLabelData(FROM, TO, "#10001", 2, "usps", "ground_advantage", "9400529466451918173150",
                                             2250, 2250))
    zpl = render([label], "zpl", dpi=203).decode()
    assert "^FDGround Advantage^FS" in zpl
    assert "Ground advan" not in zpl and "…" not in zpl
