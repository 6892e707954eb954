"""The connector registry: every kind of connection Quayside can make, as each connector package declares it.

A connector module (``sync/channels/*.py``, ``sync/carriers/*.py``, and later 3PLs) offers a ``SPEC``:
its kind and role, the words a person sees, its settings with their defaults, the name of its secret,
how to build it, and its emulator. The engine, the command line (``channel add KIND``, ``carrier add
KIND``), the Settings and Sync screens and demo mode read this registry; none of them names a kind,
and neither does the domain. Adding a connector is a module with a ``SPEC`` in one of those packages.

Connector modules are found by walking the packages (``pkgutil``), so nothing here imports them by
name and no import runs in a circle.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable

from oms.core.errors import InvalidInput
from oms.core.i18n import _

ROLES = ("channel", "carrier")
_PACKAGES = {"channel": "sync.channels", "carrier": "sync.carriers"}


@dataclass(frozen=True)
class ConnectorSpec:
    """What one kind of connection is, for everything that configures, builds or shows it."""

    kind: str  # stored on the connection: "shopify"
    role: str  # "channel" (a shop or marketplace) or "carrier"
    title: str  # "Shopify"
    # build(code, base_url, secret, options, **http_options) -> the connector the engine runs
    build: Callable[..., Any]
    address_title: str = ""  # "Shop address"
    address_hint: str = ""  # what an address looks like
    default_address: str = ""  # filled in for a new connection (a carrier's one API host)
    secret_title: str = ""  # "Admin API access token"
    secret_hint: str = ""  # "shpat_…"
    default_interval_s: int = 60
    options: dict[str, Any] = field(default_factory=dict)  # settings a new connection starts with
    # The emulator for tests and demo mode, a loopback server of the same API, or None:
    # emulator(secret, port=0, state_file=None, **options) -> a server to .start() and .stop().
    emulator: Callable[..., Any] | None = None
    demo_order: int = 100  # demo mode's main shop or carrier is the emulated kind with the lowest (then by title)
    # demo_secret(word) -> a secret of this kind's shape made from a random word (keys in two or three parts), for demo mode
    demo_secret: Callable[[str], str] = lambda word: word  # noqa: E731 - a plain default, kept as the instance's


@lru_cache(maxsize=1)
def _specs() -> dict[str, ConnectorSpec]:
    found: dict[str, ConnectorSpec] = {}
    for role, package_name in _PACKAGES.items():
        package = importlib.import_module(package_name)
        for module_info in pkgutil.iter_modules(package.__path__):
            if module_info.name.startswith("_"):
                continue
            spec = getattr(importlib.import_module(f"{package_name}.{module_info.name}"), "SPEC", None)
            if isinstance(spec, ConnectorSpec):
                if spec.role != role:
                    raise RuntimeError(f"{package_name}.{module_info.name} declares a {spec.role}, in the {role} package")
                found[spec.kind] = spec
    return found


def specs(role: str | None = None) -> list[ConnectorSpec]:
    """Every kind of connection, or those of one role, in a stable order (by title)."""
    return sorted((s for s in _specs().values() if role is None or s.role == role), key=lambda s: s.title)


def kinds(role: str) -> list[str]:
    return [s.kind for s in specs(role)]


def spec(kind: str, role: str | None = None) -> ConnectorSpec:
    """The spec of a kind; a kind Quayside does not know (or of another role) is refused in words."""
    found = _specs().get(kind)
    if found is None or (role is not None and found.role != role):
        known = ", ".join(kinds(role)) if role else ", ".join(sorted(_specs()))
        what = {"channel": _("a sales channel"), "carrier": _("a carrier")}.get(role or "", _("a connection"))
        raise InvalidInput(_("Quayside connects to {known} as {what}, not {kind!r}.").format(known=known, what=what, kind=kind))
    return found


def demo(role: str) -> ConnectorSpec | None:
    """The kind demo mode runs for a role: the first one that has an emulator, by ``demo_order`` then title."""
    return next((s for s in sorted(specs(role), key=lambda s: s.demo_order) if s.emulator is not None), None)


def title(kind: str) -> str:
    """A shop's or carrier's kind in words, for lists and screens; an unknown one (a connector since removed) as
    it is stored. A trading partner's transport is named by ``channels.edi_x12.transports.TITLES``."""
    found = _specs().get(kind)
    return found.title if found else kind
