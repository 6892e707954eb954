"""The `count` commands, run as a real process against a real SQLite file: a blind count from creation to the
ledger, a supervisor's approval, and bad input named in words with nothing written."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from oms import inventory
from oms.core.db import Database
from oms.counting.models import CountTask
from oms.inventory.models import Bin, BinStock, Location
from oms.catalog.models import Product
from tests.test_cli import run


@pytest.fixture(scope="module")
def house(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('count-cli') / 'count.sqlite3'}"
    run("seed", "--orders", "0", "--products", "10", "--db", url)
    return url


def _a_stocked_bin(url):
    """A bin at RNO and what it holds: [(sku, on hand)]."""
    db = Database(url)
    with db.read() as s:
        code = s.scalar(select(Bin.code).join(BinStock, BinStock.bin_id == Bin.id)
                        .join(Location, Location.id == Bin.location_id)
                        .where(Location.code == "RNO", BinStock.on_hand > 2).order_by(Bin.code).limit(1))
        held = s.execute(select(Product.sku, BinStock.on_hand).join(BinStock, BinStock.product_id == Product.id)
                         .join(Bin, Bin.id == BinStock.bin_id).join(Location, Location.id == Bin.location_id)
                         .where(Location.code == "RNO", Bin.code == code, BinStock.on_hand > 0)
                         .order_by(Product.sku)).all()
    db.dispose()
    return code, [tuple(h) for h in held]


def test_a_blind_count_with_a_variance_approved_by_a_supervisor(house):
    url = house
    code, held = _a_stocked_bin(url)
    out = run("count", "create", "--location", "RNO", "--bin", code, "--threshold", "1", "--db", url).stdout
    assert out == f"CNT-1 created: 1 bins, {len(held)} lines to count at RNO.\n"
    shown = json.loads(run("count", "show", "CNT-1", "--json", "--db", url).stdout)
    assert shown["status"] == "open" and all("expected" not in l for l in shown["lines"])  # blind
    (sku, on_hand), *rest = held
    counted = [f"{code}:{sku}:{on_hand - 2}"] + [f"{code}:{s}:{q}" for s, q in rest]
    args = [a for c in counted for a in ("--counted", c)]
    out = run("count", "submit", "cnt-1", *args, "--db", url).stdout
    assert out == "CNT-1 submitted: 1 of its lines differ from the books by more than 1; a supervisor must approve it.\n"
    listed = run("count", "list", "--db", url).stdout
    assert listed.startswith("CNT-1") and "waiting for a supervisor" in listed
    shown = run("count", "show", "CNT-1", "--db", url).stdout
    assert f"books {on_hand:>5}  counted {on_hand - 2:>5}  -2 !" in shown

    bad = run("count", "approve", "CNT-1", "--supervisor", "maria", "--reason", "lost", "--db", url, check=False)
    assert bad.returncode != 0 and "maria is no supervisor" in bad.stderr
    bad = run("count", "approve", "CNT-1", "--supervisor", "tom", "--reason", "gremlins", "--db", url, check=False)
    assert bad.returncode == 2 and "invalid choice: 'gremlins'" in bad.stderr
    out = run("count", "approve", "CNT-1", "--supervisor", "tom", "--reason", "damaged", "--note", "crushed",
              "--db", url).stdout
    assert out == "CNT-1 approved (Damaged, written off); the stock now follows the count.\n"
    stock = json.loads(run("stock", "show", sku, "--json", "--db", url).stdout)
    assert "ledger" not in run("check", "--db", url, check=False).stdout
    db = Database(url)
    with db.read() as s:
        lid = inventory.location_id(s, "RNO")
        assert s.scalar(select(BinStock.on_hand).where(BinStock.bin_id == inventory.bin_id(s, lid, code),
                                                       BinStock.product_id == inventory.product_id(s, sku))) == on_hand - 2
    db.dispose()
    assert stock


def test_bad_input_is_named_and_writes_nothing(house):
    url = house
    code, held = _a_stocked_bin(url)
    db = Database(url)
    with db.read() as s:
        before = s.scalar(select(func.count()).select_from(CountTask))
    db.dispose()
    cases = [
        (("count", "create", "--location", "RNO", "--bin", code, "--sku", "X"), "not allowed with argument"),
        (("count", "create", "--location", "RNO", "--zone", "QQ"), "No bin of RNO is in zone QQ"),
        (("count", "create", "--location", "NOPE", "--bin", code), "There is no location NOPE"),
        (("count", "create", "--location", "RNO", "--bin", code, "--threshold", "-3"), "more than zero"),
        (("count", "submit", "CNT-77"), "There is no count CNT-77"),
        (("count", "submit", "CNT-1", "--counted", "A-01-1:MUG:1:2"), "a count is BIN:SKU:QUANTITY"),
        (("count", "submit", "CNT-1", "--counted", "A-01-1:MUG:lots"), "must be a whole number"),
    ]
    for args, words in cases:
        proc = run(*args, "--db", url, check=False)
        assert proc.returncode != 0 and words in proc.stderr, (args, proc.stderr)
    out = run("count", "create", "--location", "RNO", "--bin", code, "--db", url).stdout
    number = out.split()[0]
    proc = run("count", "submit", number, "--db", url, check=False)  # nothing counted
    assert proc.returncode != 0 and f"Not counted yet: {code}" in proc.stderr
    assert json.loads(run("count", "show", number, "--json", "--db", url).stdout)["status"] == "open"
    assert run("count", "cancel", number, "--db", url).stdout == f"{number} cancelled.\n"
    db = Database(url)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(CountTask)) == before + 1
    db.dispose()
