"""The connector registry: every kind of connection Quayside can make, as each connector package declares it.

A connector module (``sync/channels/*.py``, ``sync/carriers/*.py``, ``sync/erp/*.py``, ``sync/threepl/*.py``) offers a ``SPEC``:
its kind and role, the words a person sees, its settings (with their defaults and how a typed value is
checked), what its secret is called, how to build it, its connection test, and its emulator. The engine, the command line (``channel add KIND``, ``carrier add
KIND``, ``erp add KIND``), the Settings and Sync screens and demo mode read this registry; none of them names a kind,
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

ROLES = ("channel", "carrier", "erp", "threepl")
# Where the connectors of each role live. An ERP connection only sends: what the business issues (invoices,
# credit notes, shipments), which it subscribes to (``ConnectorSpec.subscribes``).
_PACKAGES = {"channel": "sync.channels", "carrier": "sync.carriers", "erp": "sync.erp", "threepl": "sync.threepl"}


def _text(value: str) -> str:
    return value.strip()


@dataclass(frozen=True)
class Setting:
    """One setting a connection of a kind takes beyond its address and secret (Amazon's marketplaces, a buffer)."""

    key: str  # where it is kept in the connection's options
    title: str  # "Marketplaces"
    hint: str = ""  # what a value looks like
    # text typed -> the value kept; raises InvalidInput (or ValueError) saying what is wrong
    parse: Callable[[str], Any] = _text
    show: Callable[[Any], str] = lambda value: "" if value is None else str(value)  # noqa: E731 - the kept value as typed


def words_list(text: str) -> list[str]:
    """A list typed with commas or spaces between its items."""
    return [w for w in text.replace(",", " ").split() if w]


def location_map(text: str) -> dict[str, str]:
    """Our location codes to the remote's ids, typed as ``RNO=655441491, EWR=655441492``."""
    out = {}
    for item in words_list(text):
        ours, sep, theirs = item.partition("=")
        if not sep or not ours or not theirs:
            raise InvalidInput(_("Write each location as our code=their id, e.g. RNO=655441491; not {item!r}.").format(item=item))
        out[ours.upper()] = theirs
    return out


def whole_number(text: str) -> int:
    text = text.strip() or "0"
    if not text.isdigit():
        raise InvalidInput(_("A whole number of 0 or more, not {text!r}.").format(text=text))
    return int(text)


@dataclass(frozen=True)
class ConnectorSpec:
    """What one kind of connection is, for everything that configures, builds or shows it."""

    kind: str  # stored on the connection: "shopify"
    role: str  # "channel" (a shop or marketplace), "carrier", or "threepl" (a third-party warehouse)
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
    settings: tuple[Setting, ...] = ()  # what else a connection of this kind takes, kept in its options
    # test(connector) -> what the remote answered, in words: a cheap call that proves the address and the secret
    test: Callable[[Any], str] | None = None
    demo_order: int = 100  # demo mode's main shop or carrier is the emulated kind with the lowest (then by title)
    # demo_secret(word) -> a secret of this kind's shape made from a random word (keys in two or three parts), for demo mode
    demo_secret: Callable[[str], str] = lambda word: word  # noqa: E731 - a plain default, kept as the instance's
    # The outbox topics the domain publishes that a connection of this kind receives (outbox.publish): an ERP's
    # invoices, credit notes and shipments. A channel or carrier answers its own orders and takes none.
    subscribes: tuple[str, ...] = ()
    needs_secret: bool = True  # False: the kind has no token or password (a folder on this machine)
    # parse_address(text) -> the address kept (a folder typed as a path is kept as a file:// URL); raises
    # InvalidInput saying what is wrong. None: an http(s) address, as typed.
    parse_address: Callable[[str], str] | None = None
    # build(..., db=Database) too: the connector applies what it reads through the domain itself (a 3PL's reports)
    needs_db: bool = False


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
        what = {"channel": _("a sales channel"), "carrier": _("a carrier"), "erp": _("an ERP hand-off"),
                "threepl": _("a 3PL")}.get(role or "", _("a connection"))
        raise InvalidInput(_("Quayside connects to {known} as {what}, not {kind!r}.").format(known=known, what=what, kind=kind))
    return found


def options(spec: ConnectorSpec, given: dict[str, str] | None = None) -> dict[str, Any]:
    """A new connection's options: the kind's defaults, then each setting given (as typed), checked.

    A setting the kind does not take is refused with the ones it does take, so a typo is not kept silently."""
    out = dict(spec.options)
    known = {st.key: st for st in spec.settings}
    for key, text in (given or {}).items():
        st = known.get(key)
        if st is None:
            takes = ", ".join(known) or _("none")
            raise InvalidInput(_("{kind} takes no setting {key!r}; it takes: {known}.").format(kind=spec.title, key=key, known=takes))
        try:
            out[key] = st.parse(text)
        except ValueError as exc:
            raise InvalidInput(_("{title}: {error}").format(title=st.title, error=exc)) from None
        except InvalidInput as exc:
            raise InvalidInput(_("{title}: {error}").format(title=st.title, error=exc)) from None
    return out


def try_connection(spec: ConnectorSpec, code: str, base_url: str, secret: str, options_: dict[str, Any],
                    **http_options) -> str:
    """Build the connection as sync would and make the kind's test call: what the remote answered, in words.

    Raises the connector's own errors (a refused token, an address that does not answer), which say what is wrong.
    """
    if spec.test is None:
        return _("{kind} has no connection test; the first sync will show whether it works.").format(kind=spec.title)
    return spec.test(spec.build(code, base_url, secret, options_, **http_options))


def demo(role: str) -> ConnectorSpec | None:
    """The kind demo mode runs for a role: the first one that has an emulator, by ``demo_order`` then title."""
    return next((s for s in sorted(specs(role), key=lambda s: s.demo_order) if s.emulator is not None), None)


def title(kind: str) -> str:
    """A shop's or carrier's kind in words, for lists and screens; an unknown one (a connector since removed) as
    it is stored. A trading partner's transport is named by ``channels.edi_x12.transports.TITLES``."""
    found = _specs().get(kind)
    return found.title if found else kind
