"""What Quayside says about itself: its version, the libraries it ships with and their licences, its folders."""

from __future__ import annotations

import importlib.metadata as md
import re
from dataclasses import dataclass
from pathlib import Path

from oms.core.i18n import _

DIST = "quayside"
ROOT = Path(__file__).resolve().parent.parent


def version() -> str:
    """The installed version (package metadata, kept in the bundle too), else the checkout's pyproject.toml."""
    try:
        return md.version(DIST)
    except md.PackageNotFoundError:
        pass
    pyproject = ROOT / "pyproject.toml"
    if pyproject.exists():
        import tomllib

        return tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
    return _("unknown")


@dataclass(frozen=True)
class Library:
    name: str
    version: str
    licence: str
    home: str


def _licence(meta) -> str:
    expression = meta.get("License-Expression")
    if expression:
        return expression
    text = (meta.get("License") or "").strip()
    if text and "\n" not in text and len(text) <= 80:
        return re.sub(r"\s*\(.*$", "", text)  # "BSD license (see license.txt …)" -> "BSD license"
    classifiers = [c.split(" :: ")[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    if classifiers:
        return " / ".join(classifiers)
    return re.sub(r"\s*\(.*$", "", text.splitlines()[0]) if text else _("see the package")


def _home(meta) -> str:
    if meta.get("Home-page"):
        return meta["Home-page"]
    for url in meta.get_all("Project-URL") or []:
        label, _sep, link = url.partition(",")
        if label.strip().lower() in ("homepage", "home", "source", "repository"):
            return link.strip()
    return ""


def libraries() -> list[Library]:
    """Every library Quayside runs on, its own requirements' requirements included, sorted by name."""
    try:
        pending = [(r, frozenset()) for r in md.requires(DIST) or []]
    except md.PackageNotFoundError:
        return []
    seen: dict[str, Library] = {}
    while pending:
        req, extras = pending.pop()
        spec, _sep, marker = req.partition(";")
        wanted = re.search(r"extra\s*==\s*[\"']([^\"']+)", marker)
        if wanted and wanted.group(1) not in extras:
            continue  # optional parts (tests, bundling) are not shipped, unless asked for as psycopg[binary] is
        name = re.split(r"[\s\[<>=!~(]", spec.strip(), maxsplit=1)[0]
        asked = re.search(r"\[([^\]]+)\]", spec)
        key = name.lower().replace("_", "-")
        if not name or key in seen:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue  # a requirement for another platform (pywin32-ctypes on Linux)
        meta = dist.metadata
        seen[key] = Library(meta["Name"], dist.version, _licence(meta), _home(meta))
        its_extras = frozenset(e.strip() for e in asked.group(1).split(",")) if asked else frozenset()
        pending.extend((r, its_extras) for r in dist.requires or [])
    return sorted(seen.values(), key=lambda lib: lib.name.lower())


def folders() -> dict[str, Path]:
    """Where this station keeps its things, in the words the About box and the diagnostics use."""
    from platformdirs import user_data_dir

    from oms.core import logs
    from oms.core.settings import Settings, config_dir
    from oms.printing import spool_dir

    return {
        _("Settings"): Settings.path(),
        _("Data"): Path(user_data_dir("Quayside", "Quayside")),
        _("Logs"): logs.log_dir(),
        _("Prints waiting to be retried"): spool_dir(),
        _("Configuration"): config_dir(),
    }
