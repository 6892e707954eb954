"""The edi commands as a person runs them."""

import os
import subprocess
import sys
from pathlib import Path

from tests.edi.test_edi_flow import an_850

ROOT = Path(__file__).resolve().parents[2]


def run(*args, env, check=True):
    out = subprocess.run([sys.executable, str(ROOT / "main.py"), *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    if check and out.returncode != 0:
        raise AssertionError(out.stdout + out.stderr)
    return out


def test_partner_import_ack_and_sync(tmp_path):
    env = {**os.environ, "OMS_DATABASE_URL": f"sqlite:///{tmp_path / 'edi.sqlite3'}", "OMS_CONFIG_DIR": str(tmp_path / "cfg")}
    run("seed", "--orders", "0", "--products", "30", env=env)
    run("edi", "partner-add", "northwind", "--name", "Northwind Retail", "--our-id", "QUAYSIDE", "--their-id", "NORTHWIND",
        "--folder", str(tmp_path / "nw"), env=env)
    assert "northwind" in run("edi", "partners", env=env).stdout
    po = tmp_path / "po.x12"
    po.write_text(an_850(lines=[("1", 2, "VN", "MUG-RED-12OZ", "7.00")]))
    ack = run("edi", "ack", str(po), env=env)
    assert "AK9*A*1*1*1" in ack.stdout
    bad = tmp_path / "bad.x12"
    bad.write_text(an_850(control=5).replace("SE*12*0001", "SE*3*0001"))
    assert run("edi", "ack", str(bad), env=env, check=False).returncode == 1
    out = run("edi", "import", str(po), "--partner", "northwind", env=env)
    assert "1 new order," in out.stdout
    assert "PO4500123" in run("orders", "list", "--channel", "northwind", env=env).stdout
    (tmp_path / "nw" / "inbox" / "again.x12").write_text(an_850(control=18))
    run("sync", "--once", "--connector", "northwind", env=env, check=False)
    assert (tmp_path / "nw" / "archive" / "again.x12").exists()
    assert any(p.name.startswith("northwind_997_") for p in (tmp_path / "nw" / "outbox").iterdir())
    err = run("edi", "export", "--shipment", "999", "--doc", "856", "--out", str(tmp_path / "x.x12"), env=env, check=False)
    assert err.returncode == 2 and "no shipment 999" in err.stderr


def test_a_3pl_warehouse_added_on_the_command_line_serves_its_3pl_location(tmp_path):
    env = {**os.environ, "OMS_DATABASE_URL": f"sqlite:///{tmp_path / 'edi.sqlite3'}", "OMS_CONFIG_DIR": str(tmp_path / "cfg")}
    run("seed", "--orders", "0", "--products", "10", env=env)
    out = run("edi", "partner-add", "shipright", "--name", "ShipRight", "--our-id", "QUAYSIDE", "--their-id", "SHIPRIGHT",
              "--folder", str(tmp_path / "sr"), "--location", "RNO", env=env, check=False)
    assert out.returncode != 0 and "RNO is not a location of type 3PL" in out.stderr
    run("edi", "partner-add", "shipright", "--name", "ShipRight", "--our-id", "QUAYSIDE", "--their-id", "SHIPRIGHT",
        "--folder", str(tmp_path / "sr"), "--location", "DFW3PL", env=env)
    from oms.core.db import Database
    from oms.partners import edi

    db = Database(env["OMS_DATABASE_URL"])
    try:
        with db.read() as s:
            p = edi.partner(s, "shipright")
            assert p.location_code == "DFW3PL" and set(p.documents) == set(edi.WAREHOUSE_DOCUMENT_TYPES)
    finally:
        db.dispose()
