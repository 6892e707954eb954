"""``tpl add`` with the token from standard input, ``tpl list``, then ``sync --once`` sends what is routed to the 3PL:
real processes, a real SQLite file, the warehouse emulator on loopback."""

from pathlib import Path

from oms import catalog, inventory, routing
from oms.core.db import Database
from sync.emulators.threepl import ThreePLEmulator
from tests.conftest import ACTOR, make_order, stock, take_in
from tests.sync.test_channels_cli import env, run  # noqa: F401 - the fixture, shared

ROOT = Path(__file__).resolve().parents[2]


def test_a_3pl_added_on_the_command_line_is_sent_its_orders_and_keeps_its_token_out_of_the_database(env):  # noqa: F811
    db = Database(env["OMS_DATABASE_URL"])
    with db.write() as s:
        inventory.add_location(s, ACTOR, "DFW3PL", "ShipRight Dallas", kind="3pl")
        inventory.add_location(s, ACTOR, "RNO", "Reno")
        catalog.add_product(s, ACTOR, "MUG-RED", "Mug, red", price="14.00")
        from oms import orders
        orders.add_channel(s, ACTOR, "web", "Web shop", "manual")
        routing.seed_rates(s)
        routing.ensure_default_rule(s)
    stock(db, "MUG-RED", "DFW3PL", 5)
    with db.write() as s:
        take_in(s, make_order("2001"))
    db.dispose()
    with ThreePLEmulator(token="tpl_cli_secret") as emu:
        out = run(env, "tpl", "add", "threepl_json", "--name", "ShipRight", "--url", emu.url, "--set", "location=RNO",
                  "--token-stdin", stdin="tpl_cli_secret\n")
        assert out.returncode != 0 and "RNO is a warehouse, not a 3PL" in out.stderr
        out = run(env, "tpl", "add", "threepl_json", "--name", "ShipRight", "--url", emu.url, "--set", "location=dfw3pl",
                  "--token-stdin", stdin="tpl_cli_secret\n")
        assert out.returncode == 0, out.stderr
        assert "Connected threepl shipright" in out.stdout
        listed = run(env, "tpl", "list")
        assert "shipright" in listed.stdout and "NO TOKEN" not in listed.stdout
        out = run(env, "sync", "--once")
        assert out.returncode == 0, out.stderr
        assert "shipright: online" in out.stdout and "pushed 1" in out.stdout
        assert [o["reference"] for o in emu.orders.values()] == ["#2001"]
    stored = b"".join(p.read_bytes() for p in Path(env["OMS_DATABASE_URL"].removeprefix("sqlite:///")).parent.glob("cli.sqlite3*"))
    assert b"tpl_cli_secret" not in stored
