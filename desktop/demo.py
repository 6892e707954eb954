"""Demo mode: an emulated shop and carrier account in-process (the first kinds the connector registry can emulate), so a first start shows live sync without any account;
beside the shop, every other sales channel the registry can emulate (a marketplace, a second web shop), each
with its own demo connection ``demo-<kind>``; a 3PL warehouse behind the first location of type 3PL, which
acknowledges and ships what is routed there; and a wholesale trading partner whose purchase orders came in by
EDI, so the Documents screen has something to show.

On the first start of an empty database (or with ``--demo``) Quayside starts both
emulators on free loopback ports, connects a "shop" channel and an "easypost" carrier
to them (tokens through ``sync.credentials`` like real ones, marked ``demo`` in the
connection's options), and lets the shop take a new order every ~20 seconds. On later
starts the demo connections, while switched on, bring their emulators back on the same
ports with what they held before: like a real shop, the demo shop keeps its orders,
their fulfilments and its order numbering in a state file in the app's folder
(``demo/`` under the config folder, one file per connection token, so a fresh database
starts a fresh shop). Nothing here imports Qt: the app runs ``start`` on its database worker.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

from oms import threepl
from oms.core.audit import Actor
from oms.core.db import Database
from oms.core.i18n import _
from oms.core.settings import config_dir
from oms.integration import sync_queries, sync_store
from oms.partners import edi
from sync import credentials, registry
from sync.channels.edi_x12 import transports

log = logging.getLogger("quayside.demo")

SHOP = "shop"
CARRIER = "easypost"
DEMO_ACTOR = Actor("demo", "demo")
NEW_ORDER_EVERY_S = 20.0
FIRST_ORDERS = 6  # waiting in the shop when the demo starts, so the first sync pulls something at once
TRACKER_STEP = timedelta(minutes=2)  # a demo parcel moves on every two minutes instead of every six hours
SHOP_INTERVAL_S = 10
CARRIER_INTERVAL_S = 30
OTHER_EVERY = 3  # the other demo channels take a new order three times less often than the shop
THREEPL_ACK_S, THREEPL_SHIP_S = 5.0, 600.0  # the demo 3PL acknowledges an order within seconds and ships it in ten minutes
THREEPL_TICK_S = 2.0
THREEPL_INTERVAL_S = 15


def is_demo(info: sync_store.ConnectorInfo) -> bool:
    return bool(info.options.get("demo"))


def wanted(db: Database) -> bool:
    """True when the database has demo connections switched on: their emulators should run."""
    with db.read() as s:
        return any(is_demo(c) for c in sync_store.connectors(s, enabled_only=True))


class DemoSync:
    """The two emulators and the connections pointing at them."""

    def __init__(self, db: Database, *, every_seconds: float | None = None, first_orders: int | None = None,
                 tracker_step: timedelta | None = None) -> None:
        self.db = db
        self.every_seconds = every_seconds or NEW_ORDER_EVERY_S
        self.first_orders = FIRST_ORDERS if first_orders is None else first_orders
        self.tracker_step = tracker_step or TRACKER_STEP
        self.intervals = {SHOP: SHOP_INTERVAL_S, CARRIER: CARRIER_INTERVAL_S}
        self.shop = None  # the demo shop's emulator, of the first shop kind the connector registry can emulate
        self.carrier = None  # and the demo carrier's
        self.others: dict[str, object] = {}  # connection code -> the emulator of another channel kind, beside the shop
        self.threepl = None  # the demo 3PL's warehouse, behind the first location of type 3PL
        self.notes: list[str] = []  # what did not go to plan, in words

    def start(self) -> "DemoSync":
        """Start the emulators and make sure the connections exist. Blocking (database, key derivation): not on the GUI thread."""
        with self.db.read() as s:
            existing = {c.code: c for c in sync_store.connectors(s)}
            skus = sync_queries.demo_skus(s)
        if not skus:
            self.notes.append(_("No product has stock to sell; the demo shop is not started."))
            return self
        shop_cfg, carrier_cfg = existing.get(SHOP), existing.get(CARRIER)
        shop_spec, carrier_spec = registry.demo("channel"), registry.demo("carrier")
        if shop_spec is not None and self._ours(shop_cfg):
            token, new = self._token(SHOP, shop_cfg)
            shop = shop_spec.emulator(token, port=_port(shop_cfg), state_file=state_file(SHOP, token))
            if new:
                shop.seed_orders(self.first_orders, skus, spread=timedelta(hours=2))
            elif not shop.load():  # an older demo without its state file: at least never number an order twice
                with self.db.read() as s:
                    shop.continue_numbering(sync_queries.highest_order_number(s, SHOP))
            self.shop = self._serve(shop, shop_cfg)
            self.shop.start_demo(self.every_seconds, skus)
            if shop_cfg is None:
                self._connect(SHOP, "channel", shop_spec.kind, "Demo shop", self.shop.url, token)
        if carrier_spec is not None and self._ours(carrier_cfg):
            token, _new = self._token(CARRIER, carrier_cfg)
            carrier = carrier_spec.emulator(token, tracker_step=self.tracker_step, port=_port(carrier_cfg),
                                            state_file=state_file(CARRIER, token))
            carrier.load()
            self.carrier = self._serve(carrier, carrier_cfg)
            if carrier_cfg is None:
                self._connect(CARRIER, "carrier", carrier_spec.kind, f"Demo carrier ({carrier_spec.title})", self.carrier.url,
                              token)
        self._start_threepl(existing)
        for spec in registry.specs("channel"):
            if spec.emulator is None or spec is shop_spec:
                continue
            code = f"demo-{spec.kind}"
            cfg = existing.get(code)
            if not self._ours(cfg):
                continue
            token, new = self._token(code, cfg, spec.demo_secret)
            emulator = spec.emulator(token, port=_port(cfg), state_file=state_file(code, token))
            if new:
                emulator.seed_orders(max(1, self.first_orders // 2), skus, spread=timedelta(hours=2))
            else:
                emulator.load()
            self.others[code] = self._serve(emulator, cfg)
            self.others[code].start_demo(self.every_seconds * OTHER_EVERY, skus)
            if cfg is None:
                self.intervals[code] = SHOP_INTERVAL_S
                self._connect(code, "channel", spec.kind, f"Demo {spec.title}", self.others[code].url, token)
        log.info("demo: shop at %s, carrier at %s, beside them %s", self.shop and self.shop.url, self.carrier and self.carrier.url,
                 ", ".join(f"{code} at {e.url}" for code, e in self.others.items()) or "nothing")
        return self

    def stop(self) -> None:
        for emulator in (self.shop, self.carrier, self.threepl, *self.others.values()):
            if emulator is not None:
                emulator.stop()
        self.shop = self.carrier = self.threepl = None
        self.others = {}

    def _start_threepl(self, existing: dict[str, sync_store.ConnectorInfo]) -> None:
        """The demo 3PL: the warehouse behind the first 3PL location, holding what our books say it holds, which
        acknowledges what it is sent within seconds and ships it within a minute or so."""
        spec = registry.demo("threepl")
        if spec is None:
            return
        code = f"demo-{spec.kind}"
        cfg = existing.get(code)
        with self.db.read() as s:
            where = (cfg.options.get("location") if cfg else None) or next(iter(threepl.threepl_locations(s)), None)
            held = threepl.location_stock(s, where) if where else {}
        if not where or not self._ours(cfg):
            return
        token, _new = self._token(code, cfg, spec.demo_secret)
        emulator = spec.emulator(token, port=_port(cfg), state_file=state_file(code, token),
                                 ack_delay_s=THREEPL_ACK_S, ship_delay_s=THREEPL_SHIP_S)
        if not emulator.load():
            emulator.stock.update(held)
        self.threepl = self._serve(emulator, cfg)
        self.threepl.start_warehouse(THREEPL_TICK_S)
        if cfg is None:
            self.intervals[code] = THREEPL_INTERVAL_S
            self._connect(code, "threepl", spec.kind, _("Demo 3PL ({location})").format(location=where), self.threepl.url,
                          token, location=where)

    # -- internals ------------------------------------------------------------------------------

    def _ours(self, cfg: sync_store.ConnectorInfo | None) -> bool:
        """A demo connection, switched on, or none yet; never a real connection that happens to use the code."""
        if cfg is None:
            return True
        if not is_demo(cfg):
            self.notes.append((_("Your own connection “{name}” is set up where the demo shop would be; the demo shop "
                                 "stays off.") if cfg.role == "channel" else
                               _("Your own connection “{name}” is set up where the demo 3PL would be; the demo "
                                 "3PL stays off.") if cfg.role == "threepl" else
                               _("Your own connection “{name}” is set up where the demo carrier would be; the demo "
                                 "carrier stays off.")).format(name=cfg.name))
            return False
        return cfg.enabled

    def _token(self, code: str, cfg: sync_store.ConnectorInfo | None, shape=lambda word: word) -> tuple[str, bool]:
        token = credentials.get_secret(code) if cfg is not None else None
        if token:
            return token, False
        token = shape(f"demo_{secrets.token_urlsafe(18)}")
        if cfg is not None:
            credentials.set_secret(code, token)  # the demo connection lost its token (another machine): a new pair
        return token, True

    def _serve(self, emulator, cfg: sync_store.ConnectorInfo | None):
        try:
            return emulator.start()
        except OSError as exc:
            # The port of last time is taken by another program: serve on a free one and point the demo
            # connection there, so the shop and carrier are online as before (the connection is ours).
            log.info("demo: port %s in use (%s); %s moves to a free port", emulator.port, exc, emulator.name)
            emulator.port = 0
            emulator.start()
            if cfg is not None:
                with self.db.write() as s:
                    sync_store.update_connector(s, DEMO_ACTOR, cfg.code, base_url=emulator.url)
            return emulator

    def _connect(self, code: str, role: str, kind: str, name: str, url: str, token: str, **settings) -> None:
        with self.db.write() as s:
            sync_store.add_connector(s, DEMO_ACTOR, code=code, role=role, kind=kind, name=name, base_url=url,
                                     options={"demo": True, **settings}, interval_s=self.intervals.get(code, SHOP_INTERVAL_S))
            credentials.set_secret(code, token)


def state_file(code: str, token: str) -> Path:
    """Where a demo emulator keeps what it holds: named after a hash of its token, so each demo database has its own."""
    return config_dir() / "demo" / f"{code}-{hashlib.sha256(token.encode()).hexdigest()[:16]}.json"


def _port(cfg: sync_store.ConnectorInfo | None) -> int:
    if cfg is None:
        return 0
    return urlsplit(cfg.base_url).port or 0


# -- EDI: a retail chain that sends purchase orders ------------------------------------------------

EDI_PARTNER = "ACME"
EDI_ACTOR = Actor("demo", "demo")


def _demo_850(po: str, lines: list[tuple[str, int, str, str, str]], control: int, *, ship_to: str = "0014",
              when: datetime | None = None) -> str:
    """An interchange from ACME with one purchase order: lines are (line id, quantity, qualifier, item code, price)."""
    from sync.channels.edi_x12.x12 import Group, Segment, Transaction, write_interchange

    when = when or datetime.now(timezone.utc)
    body = [Segment("BEG", ("00", "SA", po, "", when.strftime("%Y%m%d"))), Segment("REF", ("DP", "021")),
            Segment("DTM", ("002", (when + timedelta(days=5)).strftime("%Y%m%d"))),
            Segment("N1", ("ST", "ACME Stores DC " + ship_to.lstrip("0"), "92", ship_to))]
    for line_id, qty, qualifier, code, price in lines:
        body += [Segment("PO1", (line_id, str(qty), "EA", price, "PE", qualifier, code)),
                 Segment("PID", ("F", "08", "", "", code))]
    body.append(Segment("CTT", (str(len(lines)),)))
    group = Group(functional_id="PO", sender="ACMESTORES", receiver="QUAYSIDE", control=str(control),
                  transactions=(Transaction(set_id="850", control="0001", segments=tuple(body)),))
    return write_interchange([group], sender_id="ACMESTORES", receiver_id="QUAYSIDE", control=control, when=when,
                             newline=True)


def seed_edi(db: Database, folder: str | None = None) -> bool:
    """A trading partner ACME with a few purchase orders imported through the real EDI service (which writes the
    997s and 855s back, queued for the partner's folder), one of them refused. Skipped when ACME exists or no
    product has stock. Returns True when something was added."""
    from sync.channels.edi_x12.service import import_interchanges

    with db.read() as s:
        if any(p.code == EDI_PARTNER for p in edi.partners(s)):
            return False
        skus = sync_queries.demo_skus(s, 6)
    if len(skus) < 4:
        return False
    path = folder or str(config_dir() / "edi-demo" / EDI_PARTNER)
    with db.write() as s:
        pid = transports.add_partner(s, EDI_ACTOR, code=EDI_PARTNER, name="ACME Stores", our_id="QUAYSIDE", their_id="ACMESTORES",
                                     transport={"kind": "folder", "path": path})
        edi.add_item_xref(s, pid, "BP", "ACME-10442", skus[3], actor=EDI_ACTOR)
        edi.add_ship_to(s, pid, "0014", "ACME Stores DC 14", address1="1 Dock Rd", city="Sparks", region="NV",
                        postal_code="89431", actor=EDI_ACTOR)
        edi.add_ship_to(s, pid, "0221", "ACME Stores #221", address1="88 Harbor Blvd", city="Oakland", region="CA",
                        postal_code="94607", actor=EDI_ACTOR)
    files = [
        ("ACME_PO_4500811.x12", _demo_850("4500811", [("1", 12, "VN", skus[0], "7.25"), ("2", 6, "VN", skus[1], "19.50")], 811)),
        ("ACME_PO_4500812.x12", _demo_850("4500812", [("1", 24, "VN", skus[2], "7.25"), ("2", 4, "BP", "ACME-10442", "42.00"),
                                                      ("3", 2, "VN", skus[1], "19.50")], 812, ship_to="0221")),
        ("ACME_PO_4500813.x12", _demo_850("4500813", [("1", 8, "VN", skus[0], "7.25"), ("2", 5, "BP", "ACME-99999", "11.00")],
                                          813)),
        # Segments lost on the way: SE counts two more than arrived, so it is refused (and our 997 says so).
        ("ACME_PO_4500814.x12", re.sub(r"SE\*(\d+)\*0001", lambda m: f"SE*{int(m.group(1)) + 2}*0001",
                                       _demo_850("4500814", [("1", 3, "VN", skus[2], "7.25")], 814))),
    ]
    for name, text in files:
        with db.write() as s:
            import_interchanges(s, text, filename=name, partner_code=EDI_PARTNER, actor=EDI_ACTOR)
    log.info("demo: trading partner %s with %d purchase orders", EDI_PARTNER, len(files))
    return True
