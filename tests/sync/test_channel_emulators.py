"""The Amazon and WooCommerce emulators as programs: ``python -m sync.emulators.amazon|woocommerce`` with
``--orders-from`` a folder of the APIs' own JSON, served over loopback to the connectors."""

import json
import socket
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from sync.channels.amazon import AmazonChannel
from sync.channels.woocommerce import WooCommerceChannel

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_amazon_emulator_serves_orders_from_a_folder_of_sp_api_answers(tmp_path):
    data = json.loads((FIXTURES / "amazon_orders.json").read_text(encoding="utf-8"))
    (tmp_path / "orders.json").write_text(json.dumps(data["getOrders"]), encoding="utf-8")
    for oid, items in data["getOrderItems"].items():
        (tmp_path / f"items-{oid}.json").write_text(json.dumps({"payload": {"AmazonOrderId": oid, "OrderItems": items}}),
                                                    encoding="utf-8")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sync.emulators.amazon", "--port", str(port), "--orders-from", str(tmp_path),
                             "--time-scale", "100"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "listening" in line:
                break
        assert "loaded 3 orders" in "".join(lines)
        ch = AmazonChannel("amz", f"http://127.0.0.1:{port}", "amzn1.application-oa2-client.test amzn1.oa2-cs.v1.test Atzr|test",
                           start_at=datetime(2026, 11, 1, tzinfo=timezone.utc))
        page = ch.pull_orders(None)
        assert page.done and sorted(o.external_id for o in page.orders) == sorted(data["getOrderItems"])
        assert {o.external_id: len(o.lines) for o in page.orders}["114-3941689-8772232"] == 2
    finally:
        proc.terminate()
        proc.wait(10)


def test_woocommerce_emulator_serves_orders_from_a_folder_and_refuses_wrong_keys(tmp_path):
    order = json.loads((FIXTURES / "woocommerce_order.json").read_text(encoding="utf-8"))
    (tmp_path / "order.json").write_text(json.dumps({"data": order}), encoding="utf-8")  # the proxy envelope is read too
    (tmp_path / "more.json").write_text(json.dumps([{**order, "id": 4712, "number": "4712"}]), encoding="utf-8")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "sync.emulators.woocommerce", "--port", str(port), "--orders-from", str(tmp_path),
                             "--consumer-key", "ck_x", "--consumer-secret", "cs_y"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if "listening" in line:
                break
        assert "loaded 2 orders" in "".join(lines)
        url = f"http://127.0.0.1:{port}"
        page = WooCommerceChannel("woo", url, "ck_x:cs_y").pull_orders(None)
        assert page.done and sorted(o.external_id for o in page.orders) == ["4711", "4712"]
        with pytest.raises(Exception, match="401"):
            WooCommerceChannel("woo", url, "ck_x:wrong").pull_orders(None)
    finally:
        proc.terminate()
        proc.wait(10)


REFERENCE = Path("/work/shared/reference")


@pytest.mark.skipif(not REFERENCE.exists(), reason="the public reference payloads are not on this machine")
def test_the_public_reference_payloads_are_read_or_refused_with_the_reason():
    """Vendors' own fixtures (hand-edited, see SOURCES.md): each is read, or quarantined saying why."""
    woo = WooCommerceChannel("woo", "https://shop.example.com", "ck_a:cs_b")
    edited = json.loads((REFERENCE / "woocommerce" / "woocommerce-ios__order.json").read_text(encoding="utf-8"))["data"]
    assert "quantity 1.5" in woo.parse_raw(json.dumps(edited)).quarantined[0].error
    refunded = json.loads((REFERENCE / "woocommerce" / "woocommerce-ios__order-details-partially-refunded.json")
                          .read_text(encoding="utf-8"))["data"]
    (order,) = woo.parse_raw(json.dumps(refunded)).orders
    assert order.total_minor == 30445 and len(order.lines) == 8 and "completed" in order.channel_hold
    amazon = AmazonChannel("amz", "https://sellingpartnerapi-na.amazon.com", "a b c")
    sample = json.loads((REFERENCE / "amazon-sp-api" / "sp-api-samples__orders-getOrder.json").read_text(encoding="utf-8"))["payload"]
    items = json.loads((REFERENCE / "amazon-sp-api" / "sp-api-samples__orders-getOrderItems.json")
                       .read_text(encoding="utf-8"))["payload"]["OrderItems"]
    # Two samples from different orders: BRL items under a USD order are refused, not converted.
    page = amazon.parse_raw(json.dumps({"Order": sample, "OrderItems": items}))
    assert "in BRL, not the order currency USD" in page.quarantined[0].error
    (mapped,) = amazon.parse_raw(json.dumps({"Order": {**sample, "OrderTotal": None, "MarketplaceId": "A2Q3Y263D00KWC"},
                                             "OrderItems": items})).orders
    assert mapped.currency == "BRL" and mapped.lines[0].description == "Blusão Moletom com Capuz Plus Size"
