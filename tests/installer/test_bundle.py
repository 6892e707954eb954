"""The PyInstaller bundle, built, packed, installed from its tarball and started as a user would: no checkout, no
virtualenv, a fresh home and a fresh database. Minutes long: run with ``-m bundle``, or with
OMS_TEST_BUNDLE=1 as ``.ci/run`` does in the whole suite (installer/README.md)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]

pytestmark = [pytest.mark.slow, pytest.mark.bundle]


@pytest.fixture(autouse=True)
def _only_when_asked(request):
    if "bundle" not in (request.config.option.markexpr or "") and os.environ.get("OMS_TEST_BUNDLE") != "1":
        pytest.skip("builds the bundle for minutes: run with -m bundle, or OMS_TEST_BUNDLE=1 (as CI does)")


def _clean_env(home: Path) -> dict[str, str]:
    """A user's environment: a home of their own, no checkout or virtualenv on any path, no screen."""
    env = {"HOME": str(home), "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "QT_QPA_PLATFORM": "offscreen",
           "OMS_SECRET_STORE": "file"}
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        env[name] = str(home / name.lower())
    return env


def _build(tmp: Path) -> Path:
    prebuilt = os.environ.get("QUAYSIDE_BUNDLE")
    if prebuilt:
        return Path(prebuilt).resolve().parent
    if importlib.util.find_spec("PyInstaller") is None:
        pytest.fail("PyInstaller is not installed: pip install -e '.[bundle]'")
    dist = tmp / "dist"
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
                    "--distpath", str(dist), "--workpath", str(tmp / "build"), str(ROOT / "installer" / "quayside.spec")],
                   cwd=ROOT, check=True, timeout=1800)
    return dist


def test_the_bundle_installs_from_its_tarball_and_starts_on_a_fresh_database(tmp_path):
    dist = _build(tmp_path)
    assert (dist / "quayside" / "quayside").exists()
    internal = dist / "quayside" / "_internal"
    # what is found at run time, not by following imports: each missing one fails a station, not the build
    for part in ("oms/migrations/env.py", "resources/quayside.qss", "resources/sounds/success.wav",
                 "pypdfium2_raw/libpdfium.so", "PySide6/Qt/plugins/platforms/libqxcb.so",
                 "PySide6/Qt/plugins/printsupport", "PySide6/Qt/plugins/multimedia", "PySide6/Qt/plugins/imageformats"):
        assert (internal / part).exists(), f"the bundle lacks {part}"
    # an editable install's metadata is quayside.egg-info in the checkout, a built wheel's quayside-X.dist-info
    assert list(internal.glob("quayside-*.dist-info")) + list(internal.glob("quayside.egg-info")), \
        "the version and licences need the package metadata"
    size_mb = sum(f.stat().st_size for f in (dist / "quayside").rglob("*") if f.is_file() and not f.is_symlink()) / 1e6
    out = subprocess.run(["bash", str(ROOT / "installer" / "linux" / "make-tarball.sh")], cwd=ROOT, check=True,
                         capture_output=True, text=True, env={**os.environ, "DIST": str(dist), "BUILD": str(tmp_path / "b")})
    tarball = Path(out.stdout.strip().splitlines()[-1])
    assert tarball.name.startswith(f"quayside-{VERSION}-linux-") and tarball.exists()

    clean = tmp_path / "clean"
    clean.mkdir()
    with tarfile.open(tarball) as tar:
        tar.extractall(clean, filter="tar")
    (unpacked,) = clean.iterdir()
    home = tmp_path / "home"
    home.mkdir()
    env = _clean_env(home)
    subprocess.run([str(unpacked / "install.sh")], cwd=clean, env=env, check=True, timeout=300)
    installed = home / ".local" / "bin" / "quayside"
    entry = home / "xdg_data_home" / "applications" / "io.github.quayside.Quayside.desktop"
    assert installed.exists() and entry.exists()
    assert f"Exec={home / 'xdg_data_home' / 'quayside' / 'app' / 'quayside'}" in entry.read_text()
    shutil.rmtree(unpacked)  # what is installed must not lean on the unpacked tarball

    said = subprocess.run([str(installed), "--version"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert said.stdout.strip() == f"Quayside {VERSION}", said.stdout + said.stderr

    db = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    started = time.monotonic()
    smoke = subprocess.run([str(installed), "--smoke", "--db", db], cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=600)
    elapsed = time.monotonic() - started
    assert smoke.returncode == 0, smoke.stdout + smoke.stderr
    assert "smoke ok: SQLite" in smoke.stdout and "orders in the queue" in smoke.stdout
    # the headless commands from the same bundle: migrations, backup API, the integrity check
    backup = subprocess.run([str(installed), "db", "backup", "--db", db], cwd=tmp_path, env=env, capture_output=True,
                            text=True, timeout=300)
    assert backup.returncode == 0 and "Backed up SQLite" in backup.stdout, backup.stdout + backup.stderr
    check = subprocess.run([str(installed), "check", "--db", db], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=300)
    assert check.returncode == 0 and "No problems found" in check.stdout, check.stdout + check.stderr
    print(f"\nbundle: {size_mb:.0f} MB unpacked, tarball {tarball.stat().st_size / 1e6:.0f} MB; "
          f"--smoke with demo data in {elapsed:.1f} s ({smoke.stdout.strip()})")
