"""The `transfer`, `reorder` and `po suggest` commands, run as a real process against a real SQLite file."""

from __future__ import annotations

import json

import pytest

from tests.test_cli import run


@pytest.fixture(scope="module")
def house(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('tr-cli') / 'tr.sqlite3'}"
    run("seed", "--orders", "0", "--products", "10", "--db", url)
    run("supplier", "add", "ACME", "--name", "Acme", "--lead-days", "5", "--db", url)
    return url


def _stock(url, sku):
    return {l["location"]: l["on_hand"] for l in json.loads(run("stock", "show", sku, "--json", "--db", url).stdout)["locations"]}


def test_a_transfer_from_reno_to_newark_by_the_command_line(house):
    url = house
    before = _stock(url, "MUG-BLK-12OZ")
    assert before["RNO"] >= 3
    out = run("transfer", "create", "--from", "RNO", "--to", "EWR", "--line", "MUG-BLK-12OZ:3", "--ship", "--db", url).stdout
    assert out == "TR-1 shipped: in transit to EWR.\n"
    moving = run("transfer", "list", "--in-transit", "--db", url).stdout
    assert "TR-1" in moving and "MUG-BLK-12OZ" in moving and "3 in transit" in moving
    mid = _stock(url, "MUG-BLK-12OZ")
    assert mid["RNO"] == before["RNO"] - 3 and mid.get("EWR", 0) == before.get("EWR", 0)
    shown = json.loads(run("stock", "show", "MUG-BLK-12OZ", "--json", "--db", url).stdout)
    assert {l["location"]: l["in_transit"] for l in shown["locations"]}["EWR"] == 3  # visible where it is going
    assert run("transfer", "receive", "tr-1", "--line", "MUG-BLK-12OZ:1", "--db", url).stdout == "TR-1 is partly received.\n"
    assert run("transfer", "receive", "TR-1", "--db", url).stdout == "TR-1 is received.\n"
    assert _stock(url, "MUG-BLK-12OZ")["EWR"] == before.get("EWR", 0) + 3
    shown = json.loads(run("transfer", "show", "TR-1", "--json", "--db", url).stdout)
    assert shown["status"] == "received" and shown["lines"][0]["in_transit"] == 0
    assert run("transfer", "list", "--in-transit", "--db", url).stdout == "Nothing is in transit.\n"


def test_reorder_points_suggest_purchase_orders_once(house):
    url = house
    on_hand = _stock(url, "MUG-GRN-16OZ").get("RNO", 0)
    out = run("reorder", "set", "MUG-GRN-16OZ", "--location", "RNO", "--min", str(on_hand + 5), "--max",
              str(on_hand + 20), "--multiple", "6", "--supplier", "ACME", "--db", url).stdout
    assert out.startswith(f"Reorder point of MUG-GRN-16OZ at RNO: below {on_hand + 5}")
    assert "MUG-GRN-16OZ" in run("reorder", "list", "--db", url).stdout
    rows = json.loads(run("po", "suggest", "--json", "--db", url).stdout)
    mine = next(r for r in rows if r["sku"] == "MUG-GRN-16OZ")
    short = on_hand + 20 - mine["projected"]
    assert mine["quantity"] == -(-short // 6) * 6 and mine["supplier"] == "ACME"
    text = run("po", "suggest", "--supplier", "ACME", "--db", url).stdout
    assert text.startswith("ACME\n") and "MUG-GRN-16OZ" in text
    out = run("po", "suggest", "--supplier", "ACME", "--create", "--db", url).stdout
    assert out.endswith("created (draft) with 1 suggested lines.\n")
    number = out.split()[0]
    shown = json.loads(run("po", "show", number, "--json", "--db", url).stdout)
    assert [(l["sku"], l["quantity"]) for l in shown["lines"]] == [("MUG-GRN-16OZ", mine["quantity"])]
    again = run("po", "suggest", "--supplier", "ACME", "--create", "--db", url).stdout
    assert again == "Nothing to order: every reorder point is covered by stock, open POs and transfers.\n"


def test_bad_input_is_named(house):
    url = house
    cases = [
        (("transfer", "create", "--from", "RNO", "--to", "RNO", "--line", "MUG-BLK-12OZ:1"), "not to where it starts"),
        (("transfer", "create", "--from", "RNO", "--to", "EWR", "--line", "MUG-BLK-12OZ"), "a line is SKU:QUANTITY"),
        (("transfer", "create", "--from", "RNO", "--to", "EWR", "--line", "MUG-BLK-12OZ:0"), "more than zero"),
        (("transfer", "create", "--from", "RNO", "--to", "EWR", "--line", "NOPE:1"), "There is no product NOPE"),
        (("transfer", "ship", "TR-404"), "There is no transfer TR-404"),
        (("reorder", "set", "MUG-BLK-12OZ", "--location", "RNO", "--min", "9", "--max", "3"), "must not be below the minimum"),
        (("reorder", "set", "MUG-BLK-12OZ", "--location", "RNO", "--min", "1", "--max", "3", "--supplier", "ZZZ"), "ZZZ"),
        (("po", "suggest", "--supplier", "ZZZ"), "ZZZ"),
    ]
    for args, words in cases:
        proc = run(*args, "--db", url, check=False)
        assert proc.returncode != 0 and words in proc.stderr, (args, proc.stderr)
    assert "TR-2" not in run("transfer", "list", "--db", url).stdout  # nothing half-written
