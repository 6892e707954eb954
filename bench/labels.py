"""Label and pick-list rendering speed: `python -m bench labels --count 1000`.

Prints labels per second for 4x6 labels as PDF and as ZPL, and the time for a
500-line pick list, each next to a bare baseline measured in the same run (a
reportlab canvas with one Code 128 per page; a ZPL string format per label).
"""

from __future__ import annotations

import argparse
import io
import time
from datetime import date, datetime, timezone


def _rate(n: int, seconds: float) -> str:
    return f"{n / seconds:9.0f} labels/s  ({seconds * 1000:7.1f} ms for {n})"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench labels")
    ap.add_argument("--count", type=int, default=1000, help="labels per batch (default 1000)")
    ap.add_argument("--lines", type=int, default=500, help="pick list lines (default 500)")
    args = ap.parse_args(argv)

    from reportlab.graphics.barcode.code128 import Code128
    from reportlab.lib.units import inch
    from reportlab.pdfgen.canvas import Canvas

    from oms.core.gs1 import sscc
    from oms.documents.data import Address, ShippingLabelData, SsccLabelData
    from oms.documents.labels import render, shipping_label, sscc_label
    from oms.documents.pages import render_pick_list
    from oms.fulfilment.floor import PickListData, PickTaskView

    n = args.count
    frm = Address("Harbor & Pine Goods", address1="1200 Industrial Way", city="Reno", region="NV", postal_code="89502", country="US")
    to = Address("Ada Lovelace", "", "1 Main St", "", "Seattle", "WA", "98101", "US")
    tracking = [f"1Z999AA1{i:010d}" for i in range(n)]

    # Baseline: the least a PDF label can cost, one Code 128 on a bare canvas.
    t = time.perf_counter()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=(4 * inch, 6 * inch))
    for code in tracking:
        Code128(code, barWidth=1.2, barHeight=72).drawOn(c, 20, 200)
        c.showPage()
    c.save()
    base_pdf = time.perf_counter() - t

    t = time.perf_counter()
    labels = [shipping_label(ShippingLabelData(frm, to, f"#{10000 + i}", i, "ups", "expedited", code, 1250, 1250, 1, 1,
                                               date(2026, 11, 20))) for i, code in enumerate(tracking)]
    layout = time.perf_counter() - t
    t = time.perf_counter()
    pdf = render(labels, "pdf")
    ship_pdf = time.perf_counter() - t

    t = time.perf_counter()
    base = "".join(f"^XA^FO50,50^BY3^BCN,150,N,N,N^FD{code}^FS^XZ\n" for code in tracking).encode()
    base_zpl = time.perf_counter() - t
    t = time.perf_counter()
    zpl = render(labels, "zpl", dpi=203)
    ship_zpl = time.perf_counter() - t

    ssccs = [SsccLabelData(sscc("0614141", i), frm, to, "PO-1", "#1", "ups", i % 3 + 1, 3, 8000) for i in range(n)]
    t = time.perf_counter()
    sscc_pdf = render([sscc_label(d) for d in ssccs], "pdf")
    sscc_pdf_s = time.perf_counter() - t
    t = time.perf_counter()
    render([sscc_label(d) for d in ssccs], "zpl", dpi=300)
    sscc_zpl_s = time.perf_counter() - t

    tasks = tuple(PickTaskView(i + 1, f"A-{i // 20:02d}-{i % 20}", f"SKU-{i:05d}", f"Product {i}, a plain description",
                               1 + i % 5, f"T{i % 40:02d}", (f"#{10000 + i}",), None) for i in range(args.lines))
    data = PickListData(1, "Bench wave", "RNO", "Reno", datetime.now(timezone.utc), None, False, args.lines,
                        sum(x.quantity for x in tasks), tasks)
    t = time.perf_counter()
    pick = render_pick_list(data, "Letter")
    pick_s = time.perf_counter() - t
    t = time.perf_counter()
    buf = io.BytesIO()
    c = Canvas(buf)
    for i, task in enumerate(tasks):
        if i % 24 == 0 and i:
            c.showPage()
        c.drawString(40, 750 - (i % 24) * 30, f"{task.bin_code} {task.quantity} {task.sku} {task.description}")
    c.save()
    pick_base = time.perf_counter() - t

    print(f"4x6 shipping label, PDF   {_rate(n, ship_pdf)}   {len(pdf) / n:6.0f} bytes/label  (+ layout {layout * 1000:.0f} ms)")
    print(f"  baseline canvas+Code128 {_rate(n, base_pdf)}")
    print(f"4x6 shipping label, ZPL   {_rate(n, ship_zpl)}   {len(zpl) / n:6.0f} bytes/label")
    print(f"  baseline ZPL format     {_rate(n, base_zpl)}   {len(base) / n:6.0f} bytes/label")
    print(f"SSCC label, PDF           {_rate(n, sscc_pdf_s)}   {len(sscc_pdf) / n:6.0f} bytes/label")
    print(f"SSCC label, ZPL 300 dpi   {_rate(n, sscc_zpl_s)}")
    print(f"pick list, {args.lines} lines       {pick_s * 1000:9.1f} ms  ({len(pick) // 1024} KiB)")
    print(f"  baseline text lines     {pick_base * 1000:9.1f} ms")
    return 0
