"""The `doc` commands, through the real argument parser, as main.py will wire them."""

from __future__ import annotations

import argparse

import pypdfium2 as pdfium
import pytest

from oms.cli import documents as doc_cli
from oms.core.errors import OmsError
from oms.documents.barcodes import code128, gtin_symbol, sscc_symbol
from oms.shipping.shipments import PackageSpec
from tests.documents.conftest import Listener, decode_pdf, decode_zpl, expected, packed_shipment


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="quayside")
    sub = parser.add_subparsers(dest="command")
    doc_cli.register(sub)
    args = parser.parse_args(list(argv))
    return args.func(args)


def test_doc_commands_write_scannable_files(world, tmp_path, capsys):
    url = str(world.engine.url.render_as_string(hide_password=False))
    if world.engine.dialect.name != "sqlite":
        pytest.skip("the CLI opens the database by URL; the schema-scoped PostgreSQL fixture has no URL for it")
    _oid, sid = packed_shipment(world, packages=[PackageSpec("M", 900, sscc="006141410000000012")])
    out = tmp_path / "x"
    assert run("doc", "label", "--db", url, "--shipment", str(sid), "--format", "zpl", "--dpi", "300", "--out", f"{out}.zpl") == 0
    # Our own label: the order's barcode only; the tracking number is text (it is not a carrier's label).
    assert decode_zpl(out.with_suffix(".zpl").read_bytes(), 300) == [[expected(code128("#1"))]]
    assert run("doc", "packing-slip", "--db", url, "--order", "#1", "--shipment", str(sid), "--out", f"{out}.pdf") == 0
    assert decode_pdf(out.with_suffix(".pdf").read_bytes(), 203) == [[expected(code128("#1"))]]
    # The order shipped: its slip without --shipment shows what went in the box, not "0 units".
    assert run("doc", "packing-slip", "--db", url, "--order", "#1", "--out", f"{out}-o.pdf") == 0
    (slip,) = [p.get_textpage().get_text_range() for p in pdfium.PdfDocument((tmp_path / "x-o.pdf").read_bytes())]
    assert "4 units in this box" in slip and "UPS Expedited" in slip
    assert run("doc", "sscc", "--db", url, "--shipment", str(sid), "--format", "pdf", "--out", f"{out}-s.pdf") == 0
    assert decode_pdf((tmp_path / "x-s.pdf").read_bytes(), 203) == [[expected(sscc_symbol("006141410000000012"))]]
    assert run("doc", "sscc", "--db", url, "--count", "2", "--format", "zpl", "--out", f"{out}-n.zpl") == 0
    assert "SSCCs 0" in capsys.readouterr().out
    assert run("doc", "product-labels", "--db", url, "--sku", "MUG-RED", "--sku", "LANTERN", "--format", "pdf",
               "--out", f"{out}-p.pdf") == 0
    assert decode_pdf((tmp_path / "x-p.pdf").read_bytes(), 203) == [[expected(gtin_symbol("4006381333931"))],
                                                                     [expected(code128("LANTERN"))]]
    assert run("doc", "bin-labels", "--db", url, "--location", "EWR", "--format", "zpl", "--out", f"{out}-b.zpl") == 0
    with pytest.raises(OmsError, match="no order"):
        run("doc", "packing-slip", "--db", url, "--order", "#404", "--out", f"{out}.pdf")
    with pytest.raises(OmsError, match="folder"):
        run("doc", "bin-labels", "--db", url, "--location", "EWR", "--format", "zpl", "--out", str(tmp_path / "no" / "b.zpl"))

    listener = Listener()
    try:
        assert run("doc", "print", f"{out}-b.zpl", "--printer", f"socket://127.0.0.1:{listener.port}") == 0
        assert listener.wait_for(1) == [(tmp_path / "x-b.zpl").read_bytes()]
    finally:
        listener.close()
    assert run("doc", "failed-prints") == 0
    assert "No failed prints" in capsys.readouterr().out
