"""The EasyPost connector against the EasyPost emulator over loopback HTTP."""

import random

import pytest
import requests

from sync.base import AddressData, Offline, Parcel, PermanentError, RateQuote, choose_rate
from sync.carriers.easypost import EasyPostCarrier
from sync.emulators._server import FakeClock
from sync.emulators.easypost import EasyPostEmulator

KEY = "EZTK_test_key"
WAREHOUSE = AddressData("Quayside Goods", "Quayside Goods LLC", "1 Quay Road", "", "Louisville", "KY", "40202", "US", "5025550100")
CUSTOMER = AddressData("Inès Okafor", "", "88 Water Street", "Unit 3", "Chicago", "IL", "60601", "US", "", "ines@example.net")
BOX = Parcel(weight_g=1850, length_mm=300, width_mm=200, height_mm=150)


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def ep(clock):
    with EasyPostEmulator(api_key=KEY, seed=11, clock=clock) as emu:
        yield emu


def carrier(ep, clock, key=KEY, **kw):
    client = EasyPostCarrier.make_client(ep.url, key, sleep=clock.sleep, rng=random.Random(2), timeout=(2, 5))
    return EasyPostCarrier("easypost", key, client=client, **kw)


def test_rates_are_quoted_in_minor_units(ep, clock):
    shipment_id, quotes = carrier(ep, clock).rates(WAREHOUSE, CUSTOMER, [BOX], reference="shipment:41")
    assert shipment_id.startswith("shp_")
    raw = {r["id"]: r for r in ep.shipments[shipment_id]["rates"]}
    assert len(quotes) == 6 and {q.carrier for q in quotes} == {"USPS", "UPS", "FedEx"}
    for q in quotes:
        assert q.rate_id.startswith("rate_") and q.currency == "USD"
        assert q.amount_minor == int(raw[q.rate_id]["rate"].replace(".", ""))  # "12.34" -> 1234, exactly
    assert {q.delivery_days for q in quotes} >= {None, 1, 2, 3}
    parcel = ep.shipments[shipment_id]["parcel"]
    assert (parcel["weight"], parcel["length"], parcel["width"], parcel["height"]) == (65.3, 11.9, 7.9, 6.0)  # oz and inches, rounded up
    assert ep.shipments[shipment_id]["reference"] == "shipment:41"


def test_buy_returns_a_real_pdf_label_and_buying_twice_buys_once(ep, clock):
    c = carrier(ep, clock)
    shipment_id, quotes = c.rates(WAREHOUSE, CUSTOMER, [BOX], reference="shipment:42")
    rate = choose_rate(quotes, "cheapest")
    first = c.buy(shipment_id, rate.rate_id, idempotency_key="easypost:label:42")
    assert first.label_pdf.startswith(b"%PDF-") and first.label_pdf.rstrip().endswith(b"%%EOF") and first.label_zpl is None
    assert (first.carrier, first.service, first.amount_minor, first.currency) == (rate.carrier, rate.service, rate.amount_minor, "USD")
    assert first.tracking_number and first.tracker_id.startswith("trk_") and first.remote_shipment_id == shipment_id
    again = c.buy(shipment_id, rate.rate_id, idempotency_key="easypost:label:42")
    assert again == first
    assert ep.buy_calls == 1


def test_a_purchase_whose_answer_was_lost_is_not_bought_again(ep, clock):
    c = carrier(ep, clock)
    shipment_id, quotes = c.rates(WAREHOUSE, CUSTOMER, [BOX], reference="shipment:43")
    rate = quotes[0]
    requests.post(f"{ep.url}/v2/shipments/{shipment_id}/buy", json={"rate": {"id": rate.rate_id}}, auth=(KEY, ""), timeout=5)
    label = c.buy(shipment_id, rate.rate_id, idempotency_key="easypost:label:43")
    assert label.tracking_number == ep.shipments[shipment_id]["tracking_code"]
    assert ep.buy_calls == 1


def test_buying_an_already_bought_shipment_directly_is_refused_as_the_real_api_does(ep, clock):
    c = carrier(ep, clock)
    shipment_id, quotes = c.rates(WAREHOUSE, CUSTOMER, [BOX], reference="shipment:44")
    c.buy(shipment_id, quotes[0].rate_id, idempotency_key="k")
    with pytest.raises(PermanentError, match="already"):
        c.client.post(f"shipments/{shipment_id}/buy", json_body={"rate": {"id": quotes[0].rate_id}})


def test_zpl_labels_are_zpl(ep, clock):
    c = carrier(ep, clock, label_format="ZPL")
    shipment_id, quotes = c.rates(WAREHOUSE, CUSTOMER, [BOX], reference="shipment:45")
    label = c.buy(shipment_id, quotes[0].rate_id, idempotency_key="k")
    assert label.label_pdf is None
    assert label.label_zpl.startswith(b"^XA") and label.label_zpl.rstrip().endswith(b"^XZ")
    assert label.tracking_number.encode() in label.label_zpl


def test_each_purchase_gets_the_format_its_station_asks_for(ep, clock):
    c = carrier(ep, clock)  # the connection's default is PDF; a thermal station asks for ZPL
    shipment_id, quotes = c.rates(WAREHOUSE, CUSTOMER, [BOX], reference="shipment:47", label_format="ZPL")
    assert ep.shipments[shipment_id]["options"]["label_format"] == "ZPL"
    label = c.buy(shipment_id, quotes[0].rate_id, idempotency_key="k", label_format="ZPL")
    assert label.label_pdf is None and label.label_zpl.startswith(b"^XA") and label.labels() == {"zpl": label.label_zpl}
    shipment_id, quotes = c.rates(WAREHOUSE, CUSTOMER, [BOX], reference="shipment:48", label_format="PNG")
    label = c.buy(shipment_id, quotes[0].rate_id, idempotency_key="k2", label_format="PNG")
    assert label.label_png.startswith(b"\x89PNG") and set(label.labels()) == {"png"}


def test_a_label_bought_in_another_format_is_converted_by_the_carrier_not_bought_again(ep, clock):
    c = carrier(ep, clock)
    shipment_id, quotes = c.rates(WAREHOUSE, CUSTOMER, [BOX], reference="shipment:49")
    first = c.buy(shipment_id, quotes[0].rate_id, idempotency_key="k")
    assert first.label_pdf.startswith(b"%PDF")
    again = c.buy(shipment_id, quotes[0].rate_id, idempotency_key="k", label_format="ZPL")
    assert again.label_zpl.startswith(b"^XA") and again.tracking_number.encode() in again.label_zpl
    assert again.tracking_number == first.tracking_number and ep.buy_calls == 1
    assert ep.shipments[shipment_id]["postage_label"]["label_pdf_url"]  # the PDF is still there too


def test_refund_is_idempotent_and_completes_later(ep, clock):
    c = carrier(ep, clock)
    shipment_id, quotes = c.rates(WAREHOUSE, CUSTOMER, [BOX], reference="shipment:46")
    assert c.refund(shipment_id) == "not_purchased"
    c.buy(shipment_id, quotes[0].rate_id, idempotency_key="k")
    assert c.refund(shipment_id) == "submitted"
    assert c.refund(shipment_id) == "submitted"
    ep.advance(2 * 3600)
    assert c.refund(shipment_id) == "refunded"


def test_tracking_moves_from_label_to_doorstep(ep, clock):
    c = carrier(ep, clock)
    shipment_id, quotes = c.rates(WAREHOUSE, CUSTOMER, [BOX], reference="shipment:47")
    label = c.buy(shipment_id, quotes[0].rate_id, idempotency_key="k")
    seen = []
    for _ in range(4):
        updates = c.track(label.tracker_id)
        seen.append([u.status for u in updates])
        ep.advance_tracker(label.tracker_id)
    assert seen == [["pre_transit"], ["pre_transit", "in_transit"], ["pre_transit", "in_transit", "out_for_delivery"],
                    ["pre_transit", "in_transit", "out_for_delivery", "delivered"]]
    final = c.track(label.tracking_number)  # by tracking code: EasyPost answers with the same tracker
    assert [u.status for u in final][-1] == "delivered"
    assert all(u.tracking_number == label.tracking_number and u.occurred_at.tzinfo for u in final)
    assert final[-1].city == "Chicago" and final[-1].description.startswith("Delivered")
    assert [u.occurred_at for u in final] == sorted(u.occurred_at for u in final)


def test_a_wrong_key_is_a_readable_permanent_error(ep, clock):
    with pytest.raises(PermanentError) as err:
        carrier(ep, clock, key="EZTK_wrong").rates(WAREHOUSE, CUSTOMER, [BOX], reference="x")
    assert err.value.status == 401 and "API key" in str(err.value)


def test_bad_addresses_come_back_in_plain_words(ep, clock):
    c = carrier(ep, clock)
    nowhere = AddressData("A. Person", "", "12 Main St", "", "Springfield", "IL", "00000", "US")
    with pytest.raises(PermanentError) as err:
        c.rates(WAREHOUSE, nowhere, [BOX], reference="x")
    assert err.value.status == 422 and "Unable to verify address." in str(err.value) and "ZIP code 00000" in str(err.value)
    blank = AddressData("A. Person", "", "", "", "Springfield", "IL", "62701", "US")
    with pytest.raises(PermanentError) as err:
        c.rates(WAREHOUSE, blank, [BOX], reference="x")
    assert "to_address.street1: cannot be blank" in str(err.value)
    with pytest.raises(PermanentError, match="one parcel"):
        c.rates(WAREHOUSE, CUSTOMER, [BOX, BOX], reference="x")


def test_flaky_api_still_quotes_and_labels(ep, clock):
    c = carrier(ep, clock)
    ep.set_faults(burst_429=2, rate_5xx=0.2, rate_malformed=0.1)
    shipment_id, quotes = c.rates(WAREHOUSE, CUSTOMER, [BOX], reference="shipment:48")
    assert quotes
    ep.clear_faults()
    ep.set_faults(rate_drop=1.0)
    with pytest.raises(Offline):
        c.buy(shipment_id, quotes[0].rate_id, idempotency_key="k")
    ep.clear_faults()
    label = c.buy(shipment_id, quotes[0].rate_id, idempotency_key="k")  # the retry reads first
    assert label.label_pdf and ep.buy_calls <= 1


def q(rate_id, amount, days):
    return RateQuote(rate_id, "C", "S", amount, "USD", days)


def test_choose_rate_policies():
    quotes = [q("slow", 500, 5), q("mid", 800, 2), q("fast", 2900, 1), q("unknown", 400, None)]
    assert choose_rate(quotes, "cheapest").rate_id == "unknown"
    assert choose_rate(quotes, "fastest").rate_id == "fast"
    assert choose_rate(quotes, "cheapest_on_time", 3).rate_id == "mid"
    assert choose_rate(quotes, "cheapest_on_time", 5).rate_id == "slow"
    assert choose_rate(quotes, "cheapest_on_time", 0).rate_id == "fast"  # nothing on time: the fastest
    assert choose_rate([q("a", 800, 2), q("b", 800, 1)], "cheapest").rate_id == "b"
    with pytest.raises(ValueError):
        choose_rate([], "cheapest")
    with pytest.raises(ValueError):
        choose_rate(quotes, "cheapest_that_meets")
