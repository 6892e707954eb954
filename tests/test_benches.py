"""Every benchmark still runs: each one on a handful of rows, as a process, so a change that breaks a bench's
imports or calls is caught by the suite and not at the next measurement. The figures are not looked at here."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SMALL = {
    "ingest": ["--orders", "200", "--batch", "100"],
    "route": ["--orders", "100", "--batch", "50"],
    "sync": ["--orders", "100"],
    "pack": ["--orders", "10"],
    "flow": ["--orders", "60", "--backlog", "100"],
    "labels": ["--count", "5", "--lines", "5"],
    "edi": ["--pos", "20"],
    "edi_documents": ["--docs", "200"],
    "woocommerce": ["--orders", "120", "--skus", "150"],
    "amazon": ["--orders", "20", "--time-scale", "1000", "--skus", "120"],
    "gui": ["--orders", "300", "--skus", "200", "--repeats", "1", "--rebuild"],
    "reports": ["--orders", "300", "--repeat", "1"],
    "backup": [],
    "receiving": ["--scans", "100"],
    "threepl": ["--orders", "20"],
}


def test_every_benchmark_has_a_small_run():
    from bench.__main__ import available

    assert set(available()) <= set(SMALL), "a new benchmark: give it a small run here"


@pytest.mark.parametrize("name", sorted(SMALL))
def test_the_benchmark_runs_on_a_few_rows(name, tmp_path):
    from bench.__main__ import available

    if name not in available():
        pytest.skip(f"no bench {name}")
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"), "XDG_CACHE_HOME": str(tmp_path),
           "OMS_CONFIG_DIR": str(tmp_path / "cfg"), "OMS_SECRET_STORE": "file"}
    out = subprocess.run([sys.executable, "-m", "bench", name, *SMALL[name]], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-3000:]
    assert out.stdout.strip(), "a benchmark prints its figures"
