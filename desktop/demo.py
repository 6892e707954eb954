"""Demo mode: an emulated Shopify shop and EasyPost account in-process, so a first start shows live sync without any account.

On the first start of an empty database (or with ``--demo``) Quayside starts both
emulators on free loopback ports, connects a "shop" channel and an "easypost" carrier
to them (tokens through ``sync.credentials`` like real ones, marked ``demo`` in the
connection's options), and lets the shop take a new order every ~20 seconds. On later
starts the demo connections, while switched on, bring their emulators back on the same
ports. Nothing here imports Qt: the app runs ``start`` on its database worker.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from oms import sync_queries, sync_store
from oms.audit import Actor
from oms.db import Database
from sync import credentials
from sync.emulators.easypost import EasyPostEmulator
from sync.emulators.shopify import ShopifyEmulator

log = logging.getLogger("quayside.demo")

SHOP = "shop"
CARRIER = "easypost"
DEMO_ACTOR = Actor("demo", "demo")
NEW_ORDER_EVERY_S = 20.0
FIRST_ORDERS = 6  # waiting in the shop when the demo starts, so the first sync pulls something at once
TRACKER_STEP = timedelta(minutes=2)  # a demo parcel moves on every two minutes instead of every six hours
SHOP_INTERVAL_S = 10
CARRIER_INTERVAL_S = 30


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
        self.shop: ShopifyEmulator | None = None
        self.carrier: EasyPostEmulator | None = None
        self.notes: list[str] = []  # what did not go to plan, in words

    def start(self) -> "DemoSync":
        """Start the emulators and make sure the connections exist. Blocking (database, key derivation): not on the GUI thread."""
        with self.db.read() as s:
            existing = {c.code: c for c in sync_store.connectors(s)}
            skus = sync_queries.demo_skus(s)
        if not skus:
            self.notes.append("No product has stock to sell; the demo shop is not started.")
            return self
        shop_cfg, carrier_cfg = existing.get(SHOP), existing.get(CARRIER)
        if self._ours(shop_cfg):
            token, new = self._token(SHOP, shop_cfg)
            self.shop = self._serve(ShopifyEmulator(token=token, port=_port(shop_cfg)), shop_cfg)
            if new:
                self.shop.seed_orders(self.first_orders, skus, spread=timedelta(hours=2))
            self.shop.start_demo(self.every_seconds, skus)
            if shop_cfg is None:
                self._connect(SHOP, "channel", "shopify", "Demo shop", self.shop.url, token)
        if self._ours(carrier_cfg):
            token, _new = self._token(CARRIER, carrier_cfg)
            self.carrier = self._serve(EasyPostEmulator(api_key=token, tracker_step=self.tracker_step, port=_port(carrier_cfg)),
                                       carrier_cfg)
            if carrier_cfg is None:
                self._connect(CARRIER, "carrier", "easypost", "Demo carrier (EasyPost)", self.carrier.url, token)
        log.info("demo: shop at %s, carrier at %s", self.shop and self.shop.url, self.carrier and self.carrier.url)
        return self

    def stop(self) -> None:
        for emulator in (self.shop, self.carrier):
            if emulator is not None:
                emulator.stop()
        self.shop = self.carrier = None

    # -- internals ------------------------------------------------------------------------------

    def _ours(self, cfg: sync_store.ConnectorInfo | None) -> bool:
        """A demo connection, switched on, or none yet; never a real connection that happens to use the code."""
        if cfg is None:
            return True
        if not is_demo(cfg):
            self.notes.append(f"A real connection named {cfg.code} exists; the demo leaves it alone.")
            return False
        return cfg.enabled

    def _token(self, code: str, cfg: sync_store.ConnectorInfo | None) -> tuple[str, bool]:
        token = credentials.get_secret(code) if cfg is not None else None
        if token:
            return token, False
        token = f"demo_{secrets.token_urlsafe(18)}"
        if cfg is not None:
            credentials.set_secret(code, token)  # the demo connection lost its token (another machine): a new pair
        return token, True

    def _serve(self, emulator, cfg: sync_store.ConnectorInfo | None):
        try:
            return emulator.start()
        except OSError as exc:
            # The port of last time is taken: serve elsewhere; the connection keeps its old address and shows offline.
            self.notes.append(f"The demo port {emulator.port} is in use ({exc}); the demo {emulator.name} runs elsewhere.")
            emulator.port = 0
            return emulator.start()

    def _connect(self, code: str, role: str, kind: str, name: str, url: str, token: str) -> None:
        with self.db.write() as s:
            sync_store.add_connector(s, DEMO_ACTOR, code=code, role=role, kind=kind, name=name, base_url=url,
                                     options={"demo": True}, interval_s=self.intervals[code])
            credentials.set_secret(code, token)


def _port(cfg: sync_store.ConnectorInfo | None) -> int:
    if cfg is None:
        return 0
    return urlsplit(cfg.base_url).port or 0
