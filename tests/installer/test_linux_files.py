"""The Linux desktop entry and AppStream metainfo, validated by the tools distributions validate them with."""

from __future__ import annotations

import configparser
import plistlib
import shutil
import subprocess
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINUX = ROOT / "installer" / "linux"
APP_ID = "io.github.quayside.Quayside"
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: scripts/system-deps.sh installs it")
    return path


def test_appstream_metainfo_is_valid():
    out = subprocess.run([_tool("appstreamcli"), "validate", "--no-net", "--explain",
                          str(LINUX / f"{APP_ID}.metainfo.xml")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_metainfo_names_this_version_and_the_desktop_entry():
    root = ET.parse(LINUX / f"{APP_ID}.metainfo.xml").getroot()
    assert root.findtext("id") == APP_ID
    assert root.find("launchable").text == f"{APP_ID}.desktop"
    assert root.find("releases/release").get("version") == VERSION  # the newest release is this one


def test_desktop_entry_is_valid_and_starts_the_bundle():
    path = LINUX / f"{APP_ID}.desktop"
    out = subprocess.run([_tool("desktop-file-validate"), str(path)], capture_output=True, text=True)
    assert out.returncode == 0 and not out.stdout.strip(), out.stdout + out.stderr
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(path)
    d = entry["Desktop Entry"]
    assert d["Exec"] == "quayside" and d["Icon"] == APP_ID and d["Terminal"] == "false"
    for size in (16, 32, 48, 64, 128, 256):
        assert (ROOT / "resources" / "icons" / f"quayside-{size}.png").exists()


def test_macos_info_plist_and_windows_script_agree_on_names():
    info = plistlib.loads((ROOT / "installer" / "macos" / "Info.plist").read_bytes())
    assert info["CFBundleIdentifier"] == APP_ID and info["CFBundleExecutable"] == "quayside"
    assert (ROOT / "installer" / "macos" / info["CFBundleIconFile"]).exists()
    iss = (ROOT / "installer" / "windows" / "quayside.iss").read_text()
    assert r'Source: "{#Root}\dist\quayside\*"' in iss and '#define AppExe "quayside.exe"' in iss
    assert (ROOT / "installer" / "windows" / "quayside.ico").exists()
    spec = (ROOT / "installer" / "quayside.spec").read_text()
    assert 'NAME = "quayside"' in spec and "exclude_binaries=True" in spec  # onedir, named as the installers expect
