"""The headless command line, run as a real process against a real SQLite file."""

import json
import argparse
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import text

from oms.core.db import Database

ROOT = Path(__file__).resolve().parents[1]


def run(*args, db_url=None, check=True):
    env = {**os.environ}
    if db_url:
        env["OMS_DATABASE_URL"] = db_url
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=300)
    if check and proc.returncode != 0:
        raise AssertionError(f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('cli') / 'cli.sqlite3'}"
    out = run("seed", "--orders", "60", "--products", "60", "--db", url)
    assert "Seeded 60 orders over 60 products" in out.stdout
    return url


def test_orders_list_json_and_filters(seeded):
    rows = json.loads(run("orders", "list", "--json", "--limit", "500", "--db", seeded).stdout)
    assert len(rows) == 60
    assert {"number", "channel", "status", "placed_at", "units", "total"} <= rows[0].keys()
    shipped = json.loads(run("orders", "list", "--json", "--status", "delivered", "--db", seeded).stdout)
    assert shipped and all(r["status"] == "delivered" for r in shipped)
    web = json.loads(run("orders", "list", "--json", "--channel", "web", "--limit", "500", db_url=seeded).stdout)
    assert web and all(r["channel"] == "web" for r in web)
    one = json.loads(run("orders", "list", "--json", "--number", rows[0]["number"], "--db", seeded).stdout)
    assert [r["id"] for r in one] == [rows[0]["id"]]


def test_orders_show(seeded):
    rows = json.loads(run("orders", "list", "--json", "--status", "delivered", "--db", seeded).stdout)
    detail = json.loads(run("orders", "show", rows[0]["number"], "--json", "--db", seeded).stdout)
    assert detail["status"] == "delivered" and detail["shipments"][0]["tracking_number"]
    assert all(l["shipped"] == l["quantity"] - l["cancelled"] for l in detail["lines"])
    human = run("orders", "show", rows[0]["number"], "--db", seeded).stdout
    assert rows[0]["number"] in human and "Ship to:" in human


def test_stock_show(seeded):
    data = json.loads(run("stock", "show", "MUG-RED-12OZ", "--json", "--db", seeded).stdout)
    assert data["sku"] == "MUG-RED-12OZ" and len(data["barcodes"]) == 2
    assert [l["location"] for l in data["locations"]] == ["RNO", "EWR", "DFW3PL"]
    for l in data["locations"]:
        assert l["available"] == l["on_hand"] - l["allocated"]
    by_barcode = json.loads(run("stock", "show", data["barcodes"][0], "--json", "--db", seeded).stdout)
    assert by_barcode["sku"] == "MUG-RED-12OZ"


def test_check_clean_then_finds_a_broken_level(seeded, tmp_path):
    assert "No problems found" in run("check", "--db", seeded).stdout
    path = seeded.removeprefix("sqlite:///")
    copy = tmp_path / "broken.sqlite3"
    Database(seeded).engine.dispose()
    import sqlite3

    src = sqlite3.connect(path)
    dst = sqlite3.connect(copy)
    src.backup(dst)
    src.close()
    dst.execute("UPDATE stock_level SET on_hand = on_hand + 5 WHERE rowid = (SELECT min(rowid) FROM stock_level)")
    dst.commit()
    dst.close()
    out = run("check", "--db", f"sqlite:///{copy}", check=False)
    assert out.returncode == 1
    assert "the ledger adds up to" in out.stdout and "Traceback" not in out.stdout + out.stderr


def test_errors_are_one_clear_line(seeded):
    out = run("orders", "show", "#does-not-exist", "--db", seeded, check=False)
    assert out.returncode == 2 and out.stderr.strip() == "error: There is no order #does-not-exist."
    out = run("stock", "show", "NOPE", "--db", seeded, check=False)
    assert out.returncode == 2 and out.stderr.strip() == "error: There is no product NOPE."
    out = run("orders", "list", "--channel", "ebay", "--db", seeded, check=False)
    assert out.returncode == 2 and "no sales channel ebay" in out.stderr


def test_db_upgrade_and_newer_database_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'u.sqlite3'}"
    assert "Upgraded" in run("db", "upgrade", "--db", url).stdout
    assert "up to date" in run("db", "upgrade", "--db", url).stdout
    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    db.dispose()
    out = run("orders", "list", "--db", url, check=False)
    assert out.returncode == 2 and "newer version of Quayside" in out.stderr and "Traceback" not in out.stderr


def test_statuses_read_as_on_screen(seeded):
    from oms.orders.models import OrderStatus
    from oms.orders.status import status_title

    rows = json.loads(run("orders", "list", "--json", "--limit", "500", "--db", seeded).stdout)
    human = run("orders", "list", "--limit", "500", "--db", seeded).stdout.splitlines()
    assert len(human) == len(rows)
    for r, line in zip(rows, human):
        assert f" {status_title(r['status'])} " in line, line
        assert "_" not in line.split("  ")[2], line  # never "partially_allocated"
        assert f" {r['units']} unit " in line if r["units"] == 1 else f" {r['units']} units " in line, line
    assert {r["status"] for r in rows} <= {s.value for s in OrderStatus}  # JSON keeps the values, for scripts
    delivered = next(r for r in rows if r["status"] == "delivered")
    shown = run("orders", "show", delivered["number"], "--db", seeded).stdout.splitlines()[0]
    assert shown.endswith("  Delivered") and "DELIVERED" not in shown


def test_output_cut_short_by_the_reader_is_no_error(seeded):
    """`quayside orders list | head`: when the reader stops reading, the command stops quietly."""
    for args in (["orders", "list", "--limit", "500"], ["orders", "list", "--json", "--limit", "500"]):
        proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), *args, "--db", seeded], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        proc.stdout.close()  # the reader is gone before the first line
        _out, err = proc.communicate(timeout=300)
        assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
        assert proc.returncode == 1


def _leaf_commands(parser, path=()):
    """Every runnable subcommand of the CLI, as (its words, its parser)."""
    import argparse

    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
        return
    for name, sub in subs[0].choices.items():
        yield from _leaf_commands(sub, (*path, name))


def _minimal_args(parser) -> list[str]:
    """Values for a subcommand's required arguments, enough for it to parse."""
    out: list[str] = []

    def fitting(action) -> str:
        """A value the argument's type takes: a number, a date, a purchase order line or a transfer line."""
        if action.choices:
            return str(action.choices[0])
        for candidate in ("1", "2026-01-02", "MUG-RED:1:1.00:2026-01-02", "MUG-RED:1"):
            try:
                if action.type is not None:
                    action.type(candidate)
                return candidate
            except (ValueError, TypeError, argparse.ArgumentTypeError):
                continue
        return "1"

    for action in parser._actions:
        value = fitting(action)
        if not action.option_strings and action.nargs not in ("?", "*"):
            out.append(value)
        elif action.option_strings and action.required:
            out += [action.option_strings[0], value]
    for group in parser._mutually_exclusive_groups:
        if group.required:
            out += [group._group_actions[0].option_strings[0], "1"]
    return out


def _all_leaves():
    from main import build_parser

    return [(" ".join(words), sub) for words, sub in _leaf_commands(build_parser())
            if any("--db" in a.option_strings for a in sub._actions)]  # the ones that open a database


@pytest.mark.parametrize("words,sub", _all_leaves(), ids=[w for w, _s in _all_leaves()])
def test_db_before_or_after_any_subcommand_is_the_database_used(words, sub):
    from main import build_parser

    parser = build_parser()
    rest = [*words.split(), *_minimal_args(sub)]
    assert parser.parse_args(["--db", "sqlite:///before.sqlite3", *rest]).db == "sqlite:///before.sqlite3"
    assert parser.parse_args([*rest, "--db", "sqlite:///after.sqlite3"]).db == "sqlite:///after.sqlite3"
    assert parser.parse_args(rest).db is None


def test_seed_with_db_before_the_subcommand_writes_there_and_nowhere_else(tmp_path):
    url = f"sqlite:///{tmp_path / 'before.sqlite3'}"
    env_home = tmp_path / "home"
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "--db", url, "seed", "--orders", "5", "--products", "20"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**os.environ, "XDG_DATA_HOME": str(env_home / "data"), "XDG_CONFIG_HOME": str(env_home / "cfg")})
    assert proc.returncode == 0, proc.stderr
    assert "Seeded 5 orders" in proc.stdout
    db = Database(url)
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM sales_order")).scalar() == 5
    db.dispose()
    assert not (env_home / "data" / "Quayside" / "quayside.sqlite3").exists(), "the default local database was written"


def test_a_file_that_is_not_a_database_is_one_clear_line_and_stays_untouched(tmp_path):
    path = tmp_path / "notes.sqlite3"
    path.write_bytes(b"shopping list: tape, labels, coffee\n" * 200)
    before = path.read_bytes()
    for args in (("orders", "list", "--db", f"sqlite:///{path}"), ("--db", f"sqlite:///{path}", "seed", "--orders", "1")):
        out = run(*args, check=False)
        assert out.returncode == 2, out.stdout
        assert out.stderr.strip() == (f"error: {path} is not a Quayside database: it is another kind of file, or damaged. "
                                      "Nothing was written to it.")
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("notes.sqlite3-*")), "no WAL or journal left beside it"


def test_version_says_which_quayside_this_is():
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert run("--version").stdout.strip() == f"Quayside {version}"
