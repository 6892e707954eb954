"""``channel add amazon|woocommerce`` with the keys from standard input, then ``sync --once``: real processes,
a real SQLite file, the emulators on loopback. Nothing here names more than the command line does."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from oms.core.db import Database
from oms.orders.models import SalesOrder
from sync.emulators.amazon import AmazonEmulator
from sync.emulators.woocommerce import WooCommerceEmulator

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    Database(url).migrate()
    return {**os.environ, "OMS_DATABASE_URL": url, "OMS_CONFIG_DIR": str(tmp_path / "cfg"), "OMS_SECRET_STORE": "file",
            "QT_QPA_PLATFORM": "offscreen"}


def run(env, *args, stdin=""):
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], input=stdin, capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=120)


def orders(env) -> int:
    db = Database(env["OMS_DATABASE_URL"])
    try:
        with db.read() as s:
            return s.scalar(select(func.count()).select_from(SalesOrder))
    finally:
        db.dispose()


@pytest.mark.parametrize("kind", ["woocommerce", "amazon"])
def test_a_channel_added_on_the_command_line_syncs_and_keeps_its_keys_out_of_the_database(env, kind):
    if kind == "woocommerce":
        emu, keys = WooCommerceEmulator(consumer_key="ck_cli", consumer_secret="cs_cli"), "ck_cli:cs_cli"
    else:
        emu = AmazonEmulator(client_id="amzn1.application-oa2-client.cli", client_secret="amzn1.oa2-cs.v1.cli",
                             refresh_token="Atzr|cli", time_scale=60)
        keys = "amzn1.application-oa2-client.cli amzn1.oa2-cs.v1.cli Atzr|cli"
    with emu:
        emu.seed_orders(5, ["MUG-RED"])
        # Options in any position; the keys only from standard input.
        out = run(env, "channel", "add", kind, "--token-stdin", "--name", "Harbor Channel", "--url", emu.url, stdin=keys + "\n")
        assert out.returncode == 0, out.stderr
        assert "Connected channel harbor-channel" in out.stdout
        listed = run(env, "channel", "list")
        assert "harbor-channel" in listed.stdout and "NO TOKEN" not in listed.stdout
        out = run(env, "sync", "--once")
        assert out.returncode == 0, out.stderr
        assert "pulled 5 (5 new" in out.stdout
    assert orders(env) == 5
    stored = b"".join(p.read_bytes() for p in Path(env["OMS_DATABASE_URL"].removeprefix("sqlite:///")).parent.glob("cli.sqlite3*"))
    assert keys.split(":")[-1].split()[-1].encode() not in stored


def test_a_kind_quayside_does_not_know_is_refused_with_the_ones_it_does(env):
    out = run(env, "channel", "add", "ebay", "--name", "E", "--url", "https://x", "--token-stdin", stdin="t\n")
    assert out.returncode != 0 and "amazon" in out.stderr and "woocommerce" in out.stderr
