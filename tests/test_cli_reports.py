"""`report`: the command line over the small house of tests/oms/reports_house.py, as a real process on a SQLite file."""

import csv
import io
import json
import subprocess
import sys

import pytest

from tests.oms.reports_house import build
from tests.test_cli import ROOT, run

WEEK = ("--from", "2026-11-20", "--to", "2026-11-26")


def value(v):
    """A cell as a value: numbers as numbers (the CSV's 1.0 is the workbook's 1), nothing as empty text."""
    if v is None or v == "":
        return ""
    try:
        return float(v)
    except (TypeError, ValueError):
        return str(v)


@pytest.fixture
def house(world):
    ids = build(world)
    return str(world.engine.url), ids


pytestmark = pytest.mark.parametrize("db", ["sqlite"], indirect=True)


def test_fill_rate_as_text_with_its_definition(house):
    url, _ids = house
    out = run("report", "fill-rate", *WEEK, "--db", url).stdout
    assert "Fill rate: 2026-11-20 – 2026-11-26 (previous period 2026-11-13 – 2026-11-19)" in out
    line = next(l for l in out.splitlines() if l.startswith("Order fill, final"))
    assert line.split() == ["Order", "fill,", "final", "2", "6", "33.3%", "100.0%"]  # A and B of six; H the week before
    assert "first allocation" in out  # the definition, in words


def test_json_carries_the_orders_behind_each_row_and_options_go_anywhere(house):
    url, o = house
    # The name between options, --db before the subcommand, --to before --from.
    proc = run("--db", url, "report", "--to", "2026-11-26", "fill-rate", "--json", "--from", "2026-11-20")
    data = json.loads(proc.stdout)
    rows = {r["Measure"]: r for r in data["rows"]}
    assert rows["Order fill, final"]["Count"] == 2 and rows["Order fill, final"]["Of"] == 6
    assert rows["Order fill, first time"]["orders"] == sorted(o[x] for x in "ABCDFG")
    assert data["previous_period"] == {"from": "2026-11-13", "to": "2026-11-19"}
    carrier = json.loads(run("report", "carrier-cost", *WEEK, "--json", "--carrier", "UPS", "--db", url).stdout)
    (ups,) = carrier["rows"]
    assert ups["Label cost (USD)"] == 29.0 and ups["orders"] == sorted(o[x] for x in "ACD")


@pytest.mark.parametrize("name", ["fill-rate", "cycle-time", "on-time", "backorders", "throughput", "carrier-cost",
                                  "productivity"])
def test_xlsx_reads_back_equal_to_the_csv(house, tmp_path, name):
    from openpyxl import load_workbook

    url, _ids = house
    text = run("report", name, *WEEK, "--csv", "--db", url).stdout
    rows = list(csv.reader(io.StringIO(text)))
    path = tmp_path / f"{name}.xlsx"
    out = run("report", name, *WEEK, "--xlsx", str(path), "--db", url).stdout
    assert f"to {path}" in out
    wb = load_workbook(path)
    ws = wb.worksheets[0]
    back = [[value(v) for v in r] for r in ws.iter_rows(values_only=True)]
    assert back == [[value(v) for v in r] for r in rows] and len(rows) > 1
    assert ws.freeze_panes == "B2" and ws["A1"].font.bold
    assert wb["Definitions"]["A2"].value == ws.title
    kinds = json.loads(run("report", name, *WEEK, "--json", "--db", url).stdout)["columns"]
    for i, col in enumerate(kinds, start=1):
        want = {"rate": "0.0%", "hours": "0.0", "money": "#,##0.00", "count": "#,##0", "number": "0.00"}.get(col["kind"])
        if want:
            assert ws.cell(row=2, column=i).number_format == want, col


def test_bad_input_is_one_clear_message(house):
    url, _ids = house
    out = run("report", "fill-rate", "--from", "2026-11-31", "--to", "2026-12-01", "--db", url, check=False)
    assert out.returncode == 2 and "'2026-11-31' is not a date; write it as YYYY-MM-DD" in out.stderr
    out = run("report", "fill-rate", "--from", "2026-11-26", "--to", "2026-11-20", "--db", url, check=False)
    assert out.returncode == 2 and out.stderr.strip() == "error: The period ends (2026-11-20) before it starts (2026-11-26)."
    out = run("report", "fill-rate", *WEEK, "--channel", "ebay", "--db", url, check=False)
    assert out.returncode == 2 and out.stderr.strip() == "error: There is no channel ebay."
    out = run("report", "returns", *WEEK, "--db", url, check=False)
    assert out.returncode == 2 and "invalid choice: 'returns'" in out.stderr
    assert "Traceback" not in out.stderr


def test_output_cut_short_by_head_is_no_error(house):
    url, _ids = house
    for fmt in ([], ["--csv"], ["--json"]):
        proc = subprocess.Popen([sys.executable, str(ROOT / "main.py"), "report", "throughput", "--by", "hour", *WEEK, *fmt,
                                 "--db", url], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        proc.stdout.close()
        _out, err = proc.communicate(timeout=300)
        assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()
