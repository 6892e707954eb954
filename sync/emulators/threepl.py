"""A 3PL warehouse's REST API on loopback, and the warehouse behind it: it takes shipping orders, acknowledges
them, "ships" them after a delay (cartons with SSCCs, tracking numbers) or ships them short when it lacks the
stock, and reports its stock.

The API, as a typical 3PL's JSON API has it (bearer token; every list a feed read with an opaque cursor):

* ``GET /v1/account``: the warehouse this token reaches.
* ``POST /v1/orders`` takes a shipping order; an ``Idempotency-Key`` header is required, and a request repeated
  with the same key is answered with the first answer (``Idempotent-Replayed: true``), whatever happened in
  between. A reference already used under another key is refused with a 409 that names the order holding it.
  ``GET /v1/orders?reference=R`` finds an order by reference; ``GET /v1/orders/{id}`` reads one.
* ``GET /v1/order-events?cursor=C``: acknowledgements, rejections and cancellations, oldest first.
* ``GET /v1/shipments?cursor=C``: shipments, each with its cartons (SSCC, weight, items) and its shorts.
* ``GET /v1/inventory?cursor=C``: stock snapshots per SKU (``on_hand`` as of ``as_of``) whenever one changes.
  Every feed answer says ``as_of``: the warehouse's clock when the page was read.
* ``POST /v1/webhooks`` registers a URL that is told of each new shipment (``shipment.created``), signed with
  HMAC-SHA256 of the body under the token (``X-Signature``). Webhooks are best effort: not retried.

Switches (``--faults`` and the test helpers): ``short_rate`` ships a line short, ``double_send_rate`` reports a
shipment twice in the feed (and its webhook twice), ``silent`` takes orders and then does nothing more (no
acknowledgement, no shipment), ``webhook_drop_rate`` loses webhooks; plus the common ones of every emulator
(5xx, dropped connections, slowness). ``time_scale`` runs the warehouse's delays that many times faster.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import hmac
import json
import logging
import threading
from datetime import datetime, timedelta, timezone
from typing import Any

import requests

from ._server import EmulatorServer, Faults, HttpError, Request, Response, iso, parse_time

log = logging.getLogger(__name__)

CARRIERS = [("UPS", "Ground", "1Z999AA1"), ("FedEx", "Home Delivery", "7489"), ("USPS", "Priority", "9405")]
PAGE_MAX = 200


def _error(status: int, code: str, message: str, **extra) -> HttpError:
    return HttpError(status, {"error": {"code": code, "message": message, **extra}})


class ThreePLEmulator(EmulatorServer):
    name = "threepl"

    def __init__(self, *, token: str = "tpl_test", warehouse: str = "ShipRight Dallas", ack_delay_s: float = 0.0,
                 ship_delay_s: float = 0.0, time_scale: float = 1.0, short_rate: float = 0.0, double_send_rate: float = 0.0,
                 silent: bool = False, webhook_drop_rate: float = 0.0,
                 gs1_prefix: str = "0860004", **kw):
        super().__init__(**kw)
        self.token = token
        self.warehouse = warehouse
        self.ack_delay_s, self.ship_delay_s = ack_delay_s, ship_delay_s
        self.time_scale = max(time_scale, 1e-6)
        self.short_rate, self.double_send_rate = short_rate, double_send_rate
        self.silent = silent
        self.webhook_drop_rate = webhook_drop_rate
        self.gs1_prefix = gs1_prefix
        self.orders: dict[int, dict] = {}
        self.keys: dict[str, dict] = {}  # idempotency key -> {"status", "body", "hash"}
        self.stock: dict[str, int] = {}
        self.order_events: list[dict] = []
        self.shipment_feed: list[dict] = []  # may hold the same shipment twice (double_send_rate)
        self.inventory_feed: list[dict] = []
        self.webhooks: list[str] = []
        self.webhook_log: list[tuple[str, int]] = []  # (shipment id, HTTP status or 0 when dropped)
        self._next_order, self._next_shipment, self._serial = 100, 5000, 1
        self.post_script: list[str] = []  # test switch: how the next POST /v1/orders calls fail ("503", "drop")
        self._ticker_stop = threading.Event()
        self._ticker: threading.Thread | None = None
        r = self.route
        r("GET", r"/v1/account", lambda q: {"warehouse": self.warehouse, "orders": len(self.orders)})
        r("POST", r"/v1/orders", self._create_order)
        r("GET", r"/v1/orders", self._find_orders)
        r("GET", r"/v1/orders/(?P<id>\d+)", lambda q: self._order(int(q.match["id"])))
        r("GET", r"/v1/order-events", lambda q: self._feed(q, self.order_events, "events"))
        r("GET", r"/v1/shipments", lambda q: self._feed(q, self.shipment_feed, "shipments"))
        r("GET", r"/v1/inventory", lambda q: self._feed(q, self.inventory_feed, "snapshots"))
        r("POST", r"/v1/webhooks", self._add_webhook)

    # -- test and demo helpers -----------------------------------------------------------------------

    def set_stock(self, sku: str, on_hand: int) -> None:
        """The warehouse counts ``on_hand`` of ``sku`` (a snapshot goes into the inventory feed)."""
        with self.lock:
            self.stock[sku] = on_hand
            self._snapshot(sku)
            self.save()

    def tick(self) -> None:
        """Let the warehouse do what is due: acknowledge and ship the orders whose time has come."""
        due_webhooks = []
        with self.lock:
            if self.silent:
                return
            now = self.now()
            for order in self.orders.values():
                received = parse_time(order["created_at"])
                if order["status"] == "received" and now >= received + self._delay(self.ack_delay_s):
                    order["status"], order["acknowledged_at"] = "acknowledged", iso(now)
                    self._event(order, "order.acknowledged")
                if order["status"] == "acknowledged" and now >= received + self._delay(self.ship_delay_s):
                    due_webhooks += self._ship(order, now)
            if due_webhooks:
                self.save()
        for url, shipment in due_webhooks:
            self._send_webhook(url, shipment)

    def start_warehouse(self, every_s: float = 1.0) -> None:
        """Tick in the background (the command line and demo mode): the warehouse works without being asked."""
        def run():
            while not self._ticker_stop.wait(every_s):
                try:
                    self.tick()
                except Exception:  # a bug must not stop the warehouse silently in demo mode
                    log.exception("threepl emulator tick failed")
        self._ticker = threading.Thread(target=run, name="threepl-warehouse", daemon=True)
        self._ticker.start()

    def stop(self) -> None:
        self._ticker_stop.set()
        super().stop()

    def fail_next_posts(self, *steps: str) -> None:
        """The next POST /v1/orders calls fail in turn: ``"503"`` answers 503 without taking the order, ``"drop"``
        takes it and then cuts the connection before the answer (the client cannot know it was taken)."""
        with self.lock:
            self.post_script.extend(steps)

    def _dispatch(self, h) -> None:
        step = None
        if h.command == "POST" and h.path.split("?")[0] == "/v1/orders":
            with self.lock:
                step = self.post_script.pop(0) if self.post_script else None
        if step == "503":
            length = int(h.headers.get("Content-Length") or 0)
            if length:
                h.rfile.read(length)
            req = Request("POST", "/v1/orders", {}, h.headers, b"")
            return self._write(h, req, Response(503, self.error_body(503, "Service Unavailable"), {"Retry-After": "0"}))
        if step == "drop":
            self._drop_next = True
        return super()._dispatch(h)

    def _write(self, h, req: Request, resp: Response) -> None:
        if getattr(self, "_drop_next", False) and req.method == "POST":
            self._drop_next = False
            return self._drop(h, req)
        return super()._write(h, req, resp)

    def shipments_of(self, order_id: int) -> list[dict]:
        with self.lock:
            seen, out = set(), []
            for s in self.shipment_feed:
                if s["order_id"] == order_id and s["id"] not in seen:
                    seen.add(s["id"])
                    out.append(copy.deepcopy(s))
            return out

    # -- state kept across restarts -----------------------------------------------------------------

    def state(self) -> dict:
        return {"orders": list(self.orders.values()), "keys": self.keys, "stock": self.stock,
                "order_events": self.order_events, "shipment_feed": self.shipment_feed,
                "inventory_feed": self.inventory_feed, "webhooks": self.webhooks,
                "next": [self._next_order, self._next_shipment, self._serial]}

    def restore(self, state: dict) -> None:
        self.orders = {o["id"]: o for o in state["orders"]}
        self.keys, self.stock = dict(state["keys"]), dict(state["stock"])
        self.order_events, self.shipment_feed = list(state["order_events"]), list(state["shipment_feed"])
        self.inventory_feed, self.webhooks = list(state["inventory_feed"]), list(state["webhooks"])
        self._next_order, self._next_shipment, self._serial = state["next"]

    # -- auth ------------------------------------------------------------------------------------------

    def check(self, req: Request) -> Response | None:
        header = req.headers.get("Authorization") or ""
        if header != f"Bearer {self.token}":
            return Response(401, {"error": {"code": "unauthorized", "message": "The API token is missing or not valid."}})
        self.tick()
        return None

    def error_body(self, status: int, message: str) -> Any:
        return {"error": {"code": str(status), "message": message}}

    # -- orders --------------------------------------------------------------------------------------

    def _create_order(self, req: Request) -> Response:
        key = (req.headers.get("Idempotency-Key") or "").strip()
        if not key:
            raise _error(400, "idempotency_key_required", "POST /v1/orders needs an Idempotency-Key header.")
        body = req.json()
        digest = hashlib.sha256(req.body).hexdigest()
        seen = self.keys.get(key)
        if seen is not None:
            if seen["hash"] != digest:
                raise _error(422, "idempotency_key_reused", "This Idempotency-Key was used with a different request.")
            return Response(seen["status"], copy.deepcopy(seen["body"]), {"Idempotent-Replayed": "true"})
        reference = str(body.get("reference") or "").strip()
        lines = body.get("lines")
        problems = []
        if not reference:
            problems.append("reference is required")
        if not isinstance(lines, list) or not lines:
            problems.append("lines must be a non-empty list")
        else:
            for k, line in enumerate(lines):
                if not isinstance(line, dict) or not str(line.get("sku") or "").strip() or not str(line.get("line_ref") or ""):
                    problems.append(f"lines[{k}] needs a sku and a line_ref")
                elif not isinstance(line.get("quantity"), int) or isinstance(line.get("quantity"), bool) or line["quantity"] <= 0:
                    problems.append(f"lines[{k}].quantity must be a whole number above 0")
        ship_to = body.get("ship_to") or {}
        if not isinstance(ship_to, dict) or not ship_to.get("name") or not ship_to.get("country"):
            problems.append("ship_to needs at least a name and a country")
        if problems:
            raise _error(422, "invalid_order", "; ".join(problems))
        holder = next((o for o in self.orders.values() if o["reference"] == reference), None)
        if holder is not None:
            raise _error(409, "reference_taken", f"Reference {reference} is already order {holder['id']}.", order_id=holder["id"])
        self._next_order += 1
        order = {"id": self._next_order, "reference": reference, "status": "received", "created_at": iso(self.now()),
                 "acknowledged_at": None, "ship_to": ship_to, "service_level": body.get("service_level") or "standard",
                 "lines": [{"line_ref": str(l["line_ref"]), "sku": str(l["sku"]).strip(), "quantity": l["quantity"]} for l in lines]}
        self.orders[order["id"]] = order
        answer = {k: order[k] for k in ("id", "reference", "status", "created_at")}
        self.keys[key] = {"status": 201, "body": answer, "hash": digest}
        return Response(201, copy.deepcopy(answer))

    def _find_orders(self, req: Request) -> dict:
        reference = req.query.get("reference")
        found = [o for o in self.orders.values() if reference is None or o["reference"] == reference]
        return {"orders": copy.deepcopy(found[:PAGE_MAX])}

    def _order(self, order_id: int) -> dict:
        order = self.orders.get(order_id)
        if order is None:
            raise _error(404, "not_found", f"There is no order {order_id}.")
        return copy.deepcopy(order)

    def _event(self, order: dict, kind: str, **extra) -> None:
        self.order_events.append({"seq": len(self.order_events) + 1, "type": kind, "order_id": order["id"],
                                  "reference": order["reference"], "at": iso(self.now()), **extra})

    # -- the warehouse -------------------------------------------------------------------------------

    def _delay(self, seconds: float) -> timedelta:
        return timedelta(seconds=seconds / self.time_scale)

    def _sscc(self) -> str:
        body = f"0{self.gs1_prefix}{self._serial:0{16 - len(self.gs1_prefix)}d}"
        self._serial += 1
        total = sum(int(d) * (3 if k % 2 == 0 else 1) for k, d in enumerate(reversed(body)))
        return body + str((10 - total % 10) % 10)

    def _ship(self, order: dict, now: datetime) -> list[tuple[str, dict]]:
        """Pick what there is, one carton per two lines, and report the rest short. Returns webhooks to send."""
        shipped, shorts = [], []
        for line in order["lines"]:
            have = self.stock.get(line["sku"], 0)
            qty = min(line["quantity"], have)
            if qty and self.roll(self.short_rate):
                qty = self.rng.randrange(0, qty)
            if qty:
                shipped.append({"line_ref": line["line_ref"], "sku": line["sku"], "quantity": qty})
                self.stock[line["sku"]] = have - qty
            if qty < line["quantity"]:
                shorts.append({"line_ref": line["line_ref"], "sku": line["sku"], "quantity": line["quantity"] - qty,
                               "reason": "out of stock" if have < line["quantity"] else "damaged in picking"})
        order["status"] = "shipped" if shipped else "closed"
        self._next_shipment += 1
        carrier, service, prefix = CARRIERS[self._next_shipment % len(CARRIERS)]
        cartons = [{"sscc": self._sscc(), "weight_g": 400 * sum(i["quantity"] for i in shipped[k:k + 2]),
                    "items": shipped[k:k + 2]} for k in range(0, len(shipped), 2)]
        shipment = {"id": f"SHP{self._next_shipment}", "order_id": order["id"], "reference": order["reference"],
                    "shipped_at": iso(now), "carrier": carrier if shipped else "", "service": service if shipped else "",
                    "tracking_number": f"{prefix}{self._next_shipment:010d}" if shipped else "",
                    "cartons": cartons, "shorts": shorts}
        copies = 2 if self.roll(self.double_send_rate) else 1
        for _copy in range(copies):
            self.shipment_feed.append(dict(copy.deepcopy(shipment), seq=len(self.shipment_feed) + 1))
        for item in shipped:
            self._snapshot(item["sku"])
        return [(url, shipment) for url in self.webhooks for _copy in range(copies)]

    def _snapshot(self, sku: str) -> None:
        when = self._stamp()
        self.inventory_feed.append({"seq": len(self.inventory_feed) + 1, "sku": sku, "on_hand": self.stock.get(sku, 0),
                                    "as_of": when})

    def _stamp(self) -> str:
        """Now to the millisecond, as the warehouse stamps counts and feed reads."""
        return (datetime.now(timezone.utc) + self.time_offset).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"

    # -- feeds ---------------------------------------------------------------------------------------

    def _feed(self, req: Request, feed: list[dict], name: str) -> dict:
        cursor = req.query.get("cursor") or "0"
        if not cursor.isdigit():
            raise _error(400, "bad_cursor", f"The cursor {cursor!r} is not one this API gave out.")
        try:
            limit = int(req.query.get("limit") or 100)
        except ValueError:
            raise _error(400, "bad_limit", "limit must be a whole number") from None
        if not 1 <= limit <= PAGE_MAX:
            raise _error(400, "bad_limit", f"limit must be between 1 and {PAGE_MAX}")
        start = int(cursor)
        page = feed[start:start + limit]
        return {name: copy.deepcopy(page), "next_cursor": str(start + len(page)), "has_more": start + len(page) < len(feed),
                "as_of": self._stamp()}

    # -- webhooks ------------------------------------------------------------------------------------

    def _add_webhook(self, req: Request) -> Response:
        url = str(req.json().get("url") or "")
        if not url.startswith(("http://", "https://")):
            raise _error(422, "invalid_url", "url must be an http(s) address")
        if url not in self.webhooks:
            self.webhooks.append(url)
        return Response(201, {"url": url})

    def _send_webhook(self, url: str, shipment: dict) -> None:
        if self.roll(self.webhook_drop_rate):
            with self.lock:
                self.webhook_log.append((shipment["id"], 0))
            return
        body = json.dumps({"type": "shipment.created", "shipment": shipment}).encode("utf-8")
        signature = hmac.new(self.token.encode("utf-8"), body, hashlib.sha256).hexdigest()
        try:
            status = requests.post(url, data=body, timeout=5, headers={"Content-Type": "application/json",
                                                                      "X-Signature": signature}).status_code
        except requests.RequestException:
            status = 0
        with self.lock:
            self.webhook_log.append((shipment["id"], status))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m sync.emulators.threepl",
                                description="A 3PL warehouse's REST API on loopback, with the warehouse behind it.")
    p.add_argument("--port", type=int, default=8806)
    p.add_argument("--token", default="tpl_test")
    p.add_argument("--ack-delay", type=float, default=60, metavar="SECONDS", help="from an order's arrival to its acknowledgement")
    p.add_argument("--ship-delay", type=float, default=600, metavar="SECONDS", help="from an order's arrival to its shipment")
    p.add_argument("--time-scale", type=float, default=1.0, metavar="N", help="run the warehouse N times faster")
    p.add_argument("--stock", action="append", default=[], metavar="SKU=N", help="stock the warehouse holds (repeatable)")
    p.add_argument("--faults", action="store_true", help="misbehave: ship short, report shipments twice, lose webhooks, 5xx")
    p.add_argument("--silent", action="store_true", help="take orders and then do nothing more")
    p.add_argument("--state", metavar="FILE", help="keep the warehouse in FILE across restarts")
    args = p.parse_args(argv)
    extra = dict(short_rate=0.1, double_send_rate=0.2, webhook_drop_rate=0.3) if args.faults else {}
    emulator = ThreePLEmulator(token=args.token, port=args.port, ack_delay_s=args.ack_delay, ship_delay_s=args.ship_delay,
                               time_scale=args.time_scale, silent=args.silent, state_file=args.state,
                               faults=Faults(rate_5xx=0.05, rate_drop=0.02) if args.faults else None, **extra)
    if not emulator.load():
        for item in args.stock:
            sku, _sep, n = item.partition("=")
            emulator.stock[sku.strip()] = int(n or 0)
            emulator._snapshot(sku.strip())
    emulator.start_warehouse()
    emulator.serve_forever()


if __name__ == "__main__":
    main()
