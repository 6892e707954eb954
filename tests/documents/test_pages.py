"""Pick lists and packing slips: content, page breaks and their barcodes."""

from __future__ import annotations

import subprocess
from datetime import datetime, timezone

import pypdfium2 as pdfium
import pytest

from oms import documents
from oms.core.errors import Conflict, InvalidInput, NotFound
from oms.documents.barcodes import code128
from oms.documents.pages import render_pick_list
from oms.shipping.shipments import PackageSpec
from tests.documents.conftest import decode_pdf, expected, packed_shipment

try:
    from oms.fulfilment.floor import PickListData, PickTaskView
except ImportError:  # documents only need the shape
    PickListData = PickTaskView = None


def pick_data(n: int) -> "PickListData":
    if PickListData is None:
        pytest.skip("oms.fulfilment is not there yet")
    tasks = tuple(PickTaskView(i + 1, f"A-{i // 10:02d}-{i % 10}", f"SKU-{i:04d}", f"Product number {i} with a long description",
                               1 + i % 4, f"T{i % 12:02d}", (f"#{1000 + i}", f"#{2000 + i}"), "4006381333931" if i % 3 == 0 else None)
                  for i in range(n))
    return PickListData(7, "Morning wave", "RNO", "Reno", datetime(2026, 11, 20, 6, 45, tzinfo=timezone.utc),
                        datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc), False, n, sum(t.quantity for t in tasks), tasks)


def page_texts(pdf: bytes) -> list[str]:
    return [p.get_textpage().get_text_range() for p in pdfium.PdfDocument(pdf)]


@pytest.mark.parametrize("paper", ["Letter", "A4"])
def test_pick_list_walks_every_task_across_pages(paper):
    data = pick_data(120)
    pdf = render_pick_list(data, paper)
    texts = page_texts(pdf)
    assert len(texts) > 3
    joined = "\n".join(texts)
    for task in data.tasks:
        assert task.sku in joined and task.bin_code in joined
    assert joined.index("SKU-0000") < joined.index("SKU-0119")  # walk order kept
    assert f"Page 1 of {len(texts)}" in texts[0]
    for reads in decode_pdf(pdf, 203)[:1]:
        assert reads == [expected(code128("WAVE-7"))]


def _chars(page, start: int, length: int) -> list[tuple[float, float, float, float]]:
    tp = page.get_textpage()
    return [tp.get_charbox(i) for i in range(start, start + length)]


@pytest.mark.parametrize("paper", ["Letter", "A4"])
def test_pick_list_prints_every_sku_whole_and_its_title(paper):
    """The demo's longest SKUs (the -E4 tells variants apart) and a supplier's very long code print whole,
    inside the SKU column; the list has no "#" column and its title is there in full."""
    if PickListData is None:
        pytest.skip("oms.fulfilment is not there yet")
    skus = ("CNDL-AMBER-14OZ-E4", "BOWL-CLAY-LG-E4", "MUG-RED", "A-VERY-LONG-SUPPLIER-CODE-WITH-MANY-PARTS-0001-XL-E12")
    tasks = tuple(PickTaskView(i + 1, f"A-0{i}-2", sku, "Scented Candle, Amber, 14oz (edition 4)", 2, f"T0{i}",
                               ("#10422",), "4006381333931") for i, sku in enumerate(skus))
    title = "Morning wave for the 10:00 UPS cut-off, Reno single units"
    data = PickListData(7, title, "RNO", "Reno", datetime(2026, 11, 20, 6, 45, tzinfo=timezone.utc), None, False, 4, 8, tasks)
    pdf = render_pick_list(data, paper)
    (page,) = pdfium.PdfDocument(pdf)
    text = page.get_textpage().get_text_range()
    # pdfium reads a hyphen that ends a line as a soft hyphen (U+FFFE); on paper it is the SKU's own hyphen.
    flat = "".join(text.replace("\ufffe", "-").split())
    for sku in skus:
        assert sku in flat, sku
    assert "".join(f"Pick list — {title}".split()) in flat
    header = text[text.index("Bin"):text.index("Tote")]
    assert "#" not in header.split()
    # Every SKU character sits left of the Description column.
    tp = page.get_textpage()
    desc_left = tp.get_charbox(text.index("Description"))[0]
    for sku in skus[:2]:
        for left, _bottom, right, _top in _chars(page, text.index(sku), len(sku)):
            assert right < desc_left
    assert decode_pdf(pdf, 203) == [[expected(code128("WAVE-7"))]]


def test_pick_list_paper_must_be_known():
    with pytest.raises(InvalidInput, match="A4 or Letter"):
        render_pick_list(pick_data(1), "A3")


def test_pick_list_from_a_wave_on_the_database(world):
    with world.read() as s, pytest.raises(NotFound):
        documents.pick_list(s, 12345)


def test_packing_slip_of_a_partial_shipment(world):
    oid, sid = packed_shipment(world, lines=(("MUG-RED", 3), ("LANTERN", 1)), pack={0: 2},
                               packages=[PackageSpec("M", 900)])
    with world.read() as s:
        pdf = documents.packing_slip(s, "#1", sid)
        whole = documents.packing_slip(s, "#1")
        with pytest.raises(NotFound, match="no order"):
            documents.packing_slip(s, "#nope")
        with pytest.raises(NotFound):
            documents.packing_slip(s, "#1", 999)
    (text,) = page_texts(pdf)
    assert "PACKING SLIP" in text and "MUG-RED" in text and "LANTERN" in text
    assert "2 units in this box" in text
    assert "2 more units will follow" in text  # one mug and the lantern
    assert "Returns" in text
    assert decode_pdf(pdf, 203) == [[expected(code128("#1"))]]
    assert decode_pdf(whole, 300) == [[expected(code128("#1"))]]


def test_packing_slip_shipment_of_another_order(world):
    _oid, sid = packed_shipment(world, ext="1")
    _oid2, _sid2 = packed_shipment(world, ext="2", tracking="1Z2")
    with world.read() as s, pytest.raises(Conflict, match="another order"):
        documents.packing_slip(s, "#2", sid)


def test_long_packing_slip_breaks_pages(world):
    lines = tuple((sku, 1) for sku in ("MUG-RED", "MUG-BLU", "LANTERN"))
    _oid, sid = packed_shipment(world, lines=lines)
    from oms.documents.data import Address, PackingSlipData, ShopInfo, SlipLine
    from oms.documents.pages import render_packing_slip

    data = PackingSlipData(ShopInfo("Shop", ("1 Quay",), "", "Send it back."), "#9", datetime.now(timezone.utc), "Ada",
                           Address("Ada"), tuple(SlipLine(f"S{i}", "Thing " * 12, 2, 1, 0, 1) for i in range(80)))
    texts = page_texts(render_packing_slip(data, "A4"))
    assert len(texts) >= 2 and "S79" in texts[-1] and "80 more units will follow" in texts[-1]


def test_pdftoppm_renders_what_pdfium_reads(tmp_path):
    if subprocess.run(["which", "pdftoppm"], capture_output=True).returncode:
        pytest.skip("poppler-utils not installed")
    pdf = render_pick_list(pick_data(5), "Letter")
    (tmp_path / "p.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "203", "-gray", "-png", str(tmp_path / "p.pdf"), str(tmp_path / "p")], check=True)
    import zxingcpp
    from PIL import Image

    (png,) = tmp_path.glob("p*.png")
    (r,) = zxingcpp.read_barcodes(Image.open(png))
    assert r.text == "WAVE-7"


def _add_product(db, sku: str, name: str) -> None:
    from oms import catalog
    from tests.conftest import ACTOR

    with db.write() as s:
        catalog.add_product(s, ACTOR, sku, name, price="12.00", weight_g=300)


def test_shipped_order_slip_shows_what_shipped_in_each_box(world):
    """`doc packing-slip --order N` on a shipped order: a slip per box with what went in it, never "0 units"."""
    from sqlalchemy import select

    from oms.orders.models import OrderLine
    from oms.shipping import shipments
    from tests.conftest import ACTOR

    oid, first = packed_shipment(world, lines=(("MUG-RED", 3), ("LANTERN", 1)), pack={0: 2},
                                 packages=[PackageSpec("M", 900)])
    with world.write() as s:
        mug, lantern = s.scalars(select(OrderLine.id).where(OrderLine.order_id == oid).order_by(OrderLine.id)).all()
        second = shipments.pack(s, ACTOR, oid, [shipments.PackItem(mug, 1), shipments.PackItem(lantern, 1)],
                                [PackageSpec("L", 1500)])
        shipments.confirm(s, ACTOR, second, carrier="ups", service="expedited", tracking_number="1Z999AA10123456791")
    with world.read() as s:
        pdf = documents.packing_slip(s, "#1")
    texts = page_texts(pdf)
    assert len(texts) == 2
    one, two = texts
    assert "0 units in this box" not in one + two
    assert "2 units in this box" in one and "Box 1 of 2" in one and "1Z999AA10123456784" in one
    assert "2 more units will follow" in one
    assert "2 units in this box" in two and "Box 2 of 2" in two and "1Z999AA10123456791" in two
    assert "will follow" not in two
    assert decode_pdf(pdf, 203) == [[expected(code128("#1"))], [expected(code128("#1"))]]


def test_shipped_order_in_one_box_has_one_slip(world):
    packed_shipment(world)
    with world.read() as s:
        (text,) = page_texts(documents.packing_slip(s, "#1"))
    assert "4 units in this box" in text and "Box" not in text.split()


def test_packing_slip_prints_skus_whole_and_services_as_names(world):
    skus = ("CNDL-AMBER-14OZ-E4", "A-VERY-LONG-SUPPLIER-CODE-WITH-MANY-PARTS-0001-XL-E12")
    for sku in skus:
        _add_product(world, sku, "Soy Candle, Amber, 14oz (edition 4)")
    packed_shipment(world, lines=((skus[0], 1), (skus[1], 2)))
    with world.read() as s:
        (text,) = page_texts(documents.packing_slip(s, "#1"))
    flat = "".join(text.replace("\ufffe", "-").split())
    for sku in skus:
        assert sku in flat, sku
    assert "UPS Expedited" in text  # the carrier and the service as a person says them, not "UPS expedited"


def test_wholesale_slip_quotes_the_purchase_order_not_consumer_returns(world):
    packed_shipment(world, channel="edi", ext="PO4500")
    packed_shipment(world, ext="1002", tracking="1Z999AA10123456800")
    with world.read() as s:
        (wholesale,) = page_texts(documents.packing_slip(s, "#PO4500"))
        (consumer,) = page_texts(documents.packing_slip(s, "#1002"))
    assert "Purchase order" in wholesale and "Receiving" in wholesale and "purchase order #PO4500" in wholesale
    assert "To return an item" not in wholesale and "Return address" not in wholesale
    assert "To return an item" in consumer and "Returns" in consumer
