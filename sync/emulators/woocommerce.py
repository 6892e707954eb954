"""A WooCommerce REST API v3 stand-in on loopback: orders, notes, refunds, the Shipment Tracking extension,
products and variations with their batch endpoints, and faults.

It holds the contracts a client trips over in a real shop: ``per_page`` above 100 is refused with a 400
``rest_invalid_param``; every list says ``X-WP-Total`` and ``X-WP-TotalPages`` and links the next page;
pages are numbered, so an order modified while a client pages moves to the end of a list sorted by
``modified`` (the others shift up a place); ``modified_after``/``modified_before`` are strict, as WordPress's
date query makes them; dates come as ``*_gmt`` without an offset and as site-local time. The batch endpoints
take at most 100 items a request and refuse more as WooCommerce's ``check_batch_limit`` does (413
``woocommerce_rest_request_entity_too_large``); an item they cannot update is answered in its place with an
``error``. Fault switch ``batch_5xx`` (after ``batch_5xx_after`` requests): batch requests fail with a 503.
Keys go as HTTP Basic (``consumer_key:consumer_secret``), as WooCommerce takes them over HTTPS.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import copy
import json
import math
import threading
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlencode

from ._server import EmulatorServer, Faults, HttpError, Request, Response, parse_time

API = r"/wp-json/wc/v3"
TRACKING_API = r"/wp-json/wc-shipment-tracking/v3"
SITE_TZ = timezone(timedelta(hours=1))  # the shop's local time differs from GMT, as most shops' do
CENT = Decimal("0.01")
STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed", "trash", "checkout-draft")

FIRST = ["Ava", "Noah", "Zoë", "Mateo", "Priya", "Søren", "Fatima", "Oliver", "Sofía", "Jonas", "Amara", "Łukasz", "Chloé", "Kenji"]
LAST = ["Nguyen", "García", "Okafor", "Müller", "Kowalski", "Haddad", "Tanaka", "O'Brien", "Rossi", "Johansson", "Østergaard"]
PLACES = [("Niagara Falls", "NY", "14304"), ("Portland", "OR", "97205"), ("Austin", "TX", "78701"),
          ("Denver", "CO", "80202"), ("Madison", "WI", "53703"), ("Louisville", "KY", "40202")]
STREETS = ["Chestnut Street", "Elm Avenue", "Harbor Drive", "Maple Road", "Water Street", "Pine Court"]
SHIPPING = [("Flat rate", "flat_rate", "5.90"), ("Express delivery", "flat_rate", "14.50"),
            ("Overnight Express", "usps", "29.00"), ("Free shipping", "free_shipping", "0.00")]
DEFAULT_SKUS = ["MUG-RED", "MUG-BLUE", "TEE-M-BLK", "TEE-L-WHT", "CAP-NAVY", "BAG-TOTE", "SOCK-3PK"]


def money(d: Decimal) -> str:
    return str(d.quantize(CENT, ROUND_HALF_UP))


def gmt(dt: datetime) -> str:
    """WooCommerce's ``*_gmt`` dates: UTC without an offset."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def local(dt: datetime) -> str:
    """And the site-local ones, also without an offset."""
    return dt.astimezone(SITE_TZ).strftime("%Y-%m-%dT%H:%M:%S")


def _error(status: int, code: str, message: str, params: dict | None = None) -> HttpError:
    data: dict[str, Any] = {"status": status}
    if params:
        data["params"] = params
    return HttpError(status, {"code": code, "message": message, "data": data})


class WooCommerceEmulator(EmulatorServer):
    name = "woocommerce"

    def __init__(self, *, consumer_key: str = "ck_test", consumer_secret: str = "cs_test", currency: str = "USD",
                 tracking_extension: bool = True, **kw):
        super().__init__(**kw)
        self.consumer_key, self.consumer_secret = consumer_key, consumer_secret
        self.currency = currency
        self.tracking_extension = tracking_extension  # False: a shop without the Shipment Tracking extension
        self.orders: dict[int, dict] = {}
        self.modified: dict[int, datetime] = {}
        self.notes: dict[int, list[dict]] = {}
        self.trackings: dict[int, list[dict]] = {}
        self.refund_items: dict[int, list[dict]] = {}
        self.refund_calls = 0  # refunds created through the API (tests count them)  # refund id -> its line items, as /refunds lists them
        self.products: dict[int, dict] = {}
        self.variations: dict[int, dict[int, dict]] = {}  # parent product id -> variation id -> variation
        self.batch_calls: list[tuple[str, dict]] = []
        self.modify_mid_pull = 0  # fault: the next N order listings past page 1 touch an order already served
        self.batch_5xx = 0  # fault: N batch requests fail with a 503, changing nothing ...
        self.batch_5xx_after = 0  # ... once this many more have gone through
        self._next_id = 700
        self._number = 1000
        self._changes = 0  # bumped on every change, so a cached listing knows it is stale
        self._listing_cache: dict[tuple, tuple] = {}
        self._last_page: dict[str, list[int]] = {}  # listing key -> the ids of the page served last (repeat fault)
        self._demo_stop = threading.Event()
        self._demo_thread: threading.Thread | None = None
        self._install_routes()

    # -- test and demo helpers --------------------------------------------------------------------

    def new_id(self) -> int:
        with self.lock:
            self._next_id += 1
            return self._next_id

    def add_order(self, order: dict, modified: datetime | None = None) -> int:
        """Store an order as given (the API's own JSON, possibly broken on purpose); returns its id."""
        with self.lock:
            order = copy.deepcopy(order)
            if not isinstance(order.get("id"), int):
                order["id"] = self.new_id()
            oid = order["id"]
            self._next_id = max(self._next_id, oid)
            when = modified or _when(order.get("date_modified_gmt")) or self.now()
            self.orders[oid] = order
            self._stamp(oid, when)
            return oid

    def edit_order(self, order_id: int, **changes) -> dict:
        """Change fields of an order as the shop owner would; date_modified moves on."""
        with self.lock:
            order = self._order(order_id)
            order.update(copy.deepcopy(changes))
            self._touch(order_id)
            self.save()
            return copy.deepcopy(order)

    def set_status(self, order_id: int, status: str) -> dict:
        return self.edit_order(order_id, status=status)

    def refund(self, order_id: int, amount: str, reason: str = "", *, lines: dict[int, int] | None = None) -> dict:
        """A refund made in the shop: listed on the order as WooCommerce lists it (a negative total). With ``lines``
        (order item id -> quantity) it refunds those items, which ``/orders/<id>/refunds`` lists as WooCommerce does:
        negative quantities, the order item in ``_refunded_item_id``."""
        with self.lock:
            order = self._order(order_id)
            rid = self.new_id()
            order.setdefault("refunds", []).append({"id": rid, "reason": reason, "total": f"-{money(Decimal(amount))}"})
            items = {li["id"]: li for li in order.get("line_items") or []}
            self.refund_items[rid] = [
                {"id": self.new_id(), "name": items[item]["name"], "product_id": items[item].get("product_id"),
                 "variation_id": items[item].get("variation_id", 0), "quantity": -qty, "sku": items[item].get("sku"),
                 "subtotal": f"-{money(Decimal(str(items[item]['price'])) * qty)}",
                 "total": f"-{money(Decimal(str(items[item]['price'])) * qty)}",
                 "meta_data": [{"id": self.new_id(), "key": "_refunded_item_id", "value": str(item)}]}
                for item, qty in (lines or {}).items()]
            refunded = sum(-Decimal(r["total"]) for r in order["refunds"])
            if refunded >= Decimal(order["total"]):
                order["status"] = "refunded"
            self._touch(order_id)
            self.save()
            return copy.deepcopy(order)

    def add_product(self, sku: str, name: str | None = None, price: str = "19.00", *, parent: int | None = None) -> dict:
        """A simple product, or with ``parent`` a variation of that variable product."""
        with self.lock:
            found = self.product_by_sku(sku)
            if found is not None:
                return found
            pid = self.new_id()
            now = self.now()
            item = {"id": pid, "name": name or sku.replace("-", " ").title(), "sku": sku, "price": price, "regular_price": price,
                    "manage_stock": True, "stock_quantity": 0, "stock_status": "outofstock", "date_modified_gmt": gmt(now)}
            if parent is None:
                item.update(type="simple", status="publish", variations=[], parent_id=0)
                self.products[pid] = item
            else:
                base = self.products[parent]
                base["type"] = "variable"
                base.setdefault("variations", []).append(pid)
                item.update(parent_id=parent, attributes=[{"id": 0, "name": "Option", "option": name or sku}])
                self.variations.setdefault(parent, {})[pid] = item
            return item

    def product_by_sku(self, sku: str) -> dict | None:
        for p in self.products.values():
            if p.get("sku") == sku:
                return p
        for vs in self.variations.values():
            for v in vs.values():
                if v.get("sku") == sku:
                    return v
        return None

    def stock(self, sku: str) -> int | None:
        with self.lock:
            item = self.product_by_sku(sku)
            return None if item is None else item.get("stock_quantity")

    def continue_numbering(self, after: int) -> None:
        with self.lock:
            self._next_id = max(self._next_id, after)

    def seed_orders(self, n: int, skus: Iterable[str] = DEFAULT_SKUS, *, start: datetime | None = None,
                    spread: timedelta = timedelta(days=2)) -> list[int]:
        """Generate n realistic processing orders, created over ``spread`` before now."""
        skus = list(skus)
        with self.lock:
            items = {sku: self.add_product(sku, price=money(Decimal(self.rng.randint(450, 6900)) / 100)) for sku in skus}
            now = self.now()
            start = start or now - spread
            step = (now - start) / max(n, 1)
            ids = []
            for i in range(n):
                created = start + step * i
                modified = min(now, created + timedelta(minutes=self.rng.choice([0, 0, 1, 5, 45])))
                ids.append(self.add_order(self.make_order(items, created), modified))
            self.save()
            return ids

    def make_order(self, items: dict[str, dict], created: datetime, status: str = "processing") -> dict:
        rng, cur = self.rng, self.currency
        oid = self.new_id()
        first, last = rng.choice(FIRST), rng.choice(LAST)
        city, state, postcode = rng.choice(PLACES)
        email = f"{first}.{last}@example.com".lower().replace("'", "")
        address = {"first_name": first, "last_name": last, "company": "", "address_1": f"{rng.randint(1, 999)} {rng.choice(STREETS)}",
                   "address_2": rng.choice(["", "", "Apt 4"]), "city": city, "state": state, "postcode": postcode, "country": "US",
                   "phone": f"555-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}"}
        lines = []
        for sku in rng.sample(sorted(items), k=min(len(items), rng.choice([1, 1, 2, 3]))):
            p = items[sku]
            qty = rng.choice([1, 1, 1, 2, 3])
            sub = Decimal(p["price"]) * qty
            tax = (sub * Decimal("0.06")).quantize(CENT, ROUND_HALF_UP)
            lines.append({"id": self.new_id(), "name": p["name"], "product_id": p.get("parent_id") or p["id"],
                          "variation_id": p["id"] if p.get("parent_id") else 0, "quantity": qty, "tax_class": "",
                          "subtotal": money(sub), "subtotal_tax": money(tax), "total": money(sub), "total_tax": money(tax),
                          "taxes": [{"id": 1, "total": money(tax), "subtotal": money(tax)}], "meta_data": [], "sku": sku,
                          "price": float(p["price"])})
        items_total = sum(Decimal(l["subtotal"]) for l in lines)
        title, method, ship = rng.choice(SHIPPING)
        cart_tax = sum(Decimal(l["total_tax"]) for l in lines)
        total = items_total + Decimal(ship) + cart_tax
        return {
            "id": oid, "parent_id": 0, "number": str(oid), "order_key": f"wc_order_{rng.getrandbits(40):010x}",
            "created_via": "checkout", "version": "8.9.1", "status": status, "currency": cur, "currency_symbol": "$",
            "date_created": local(created), "date_created_gmt": gmt(created),
            "date_modified": local(created), "date_modified_gmt": gmt(created),
            "discount_total": "0.00", "discount_tax": "0.00", "shipping_total": ship, "shipping_tax": "0.00",
            "cart_tax": money(cart_tax), "total": money(total), "total_tax": money(cart_tax), "prices_include_tax": False,
            "customer_id": 0, "customer_note": "", "billing": {**address, "email": email}, "shipping": dict(address),
            "payment_method": "stripe", "payment_method_title": "Credit Card (Stripe)", "transaction_id": f"ch_{oid}",
            "date_paid": local(created), "date_paid_gmt": gmt(created), "date_completed": None, "date_completed_gmt": None,
            "cart_hash": "", "meta_data": [], "line_items": lines,
            "tax_lines": [{"id": self.new_id(), "rate_code": "US-STATE-TAX-1", "rate_id": 1, "label": "State Tax", "compound": False,
                           "tax_total": money(cart_tax), "shipping_tax_total": "0.00", "rate_percent": 6.0, "meta_data": []}],
            "shipping_lines": [{"id": self.new_id(), "method_title": title, "method_id": method, "instance_id": "1", "total": ship,
                                "total_tax": "0.00", "taxes": [], "meta_data": []}],
            "fee_lines": [], "coupon_lines": [], "refunds": [],
        }

    def start_demo(self, every_seconds: float = 20.0, skus: Iterable[str] = DEFAULT_SKUS) -> None:
        """Demo mode: a new order arrives every few seconds."""
        items = {sku: self.add_product(sku) for sku in skus}

        def loop():
            while not self._demo_stop.wait(every_seconds):
                with self.lock:
                    self.add_order(self.make_order(items, self.now()), self.now())
                    self.save()

        self._demo_stop.clear()
        self._demo_thread = threading.Thread(target=loop, name="woocommerce-demo", daemon=True)
        self._demo_thread.start()

    def stop(self) -> None:
        self._demo_stop.set()
        if self._demo_thread:
            self._demo_thread.join(timeout=5)
            self._demo_thread = None
        super().stop()

    def load_dir(self, folder: str | Path) -> int:
        """Seed from WooCommerce JSON files: one order, a list of orders, or either in a ``{"data": ...}`` envelope."""
        count = 0
        for path in sorted(Path(folder).glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and "data" in data:
                data = data["data"]
            for order in data if isinstance(data, list) else [data]:
                if isinstance(order, dict):
                    self.add_order(order)
                    count += 1
        return count

    def state(self) -> dict:
        return {"orders": [[k, o, self.modified[k].isoformat()] for k, o in self.orders.items()],
                "notes": [[k, v] for k, v in self.notes.items()], "trackings": [[k, v] for k, v in self.trackings.items()],
                "products": list(self.products.values()),
                "variations": [[k, list(v.values())] for k, v in self.variations.items()], "next_id": self._next_id,
                "refund_items": [[k, v] for k, v in self.refund_items.items()]}

    def restore(self, state: dict) -> None:
        self.orders = {int(k): o for k, o, _m in state["orders"]}
        self.modified = {int(k): datetime.fromisoformat(m) for k, _o, m in state["orders"]}
        self.notes = {int(k): v for k, v in state["notes"]}
        self.trackings = {int(k): v for k, v in state["trackings"]}
        self.products = {int(p["id"]): p for p in state["products"]}
        self.variations = {int(k): {int(v["id"]): v for v in vs} for k, vs in state["variations"]}
        self._next_id = int(state["next_id"])
        self.refund_items = {int(k): v for k, v in state.get("refund_items", [])}
        self._changes += 1

    # -- plumbing ---------------------------------------------------------------------------------

    def error_body(self, status: int, message: str) -> Any:
        code = {404: "rest_no_route", 405: "rest_no_route", 429: "woocommerce_rest_too_many_requests"}.get(status, "internal_server_error")
        if status == 404:
            message = "No route was found matching the URL and request method."
        return {"code": code, "message": message, "data": {"status": status}}

    def check(self, req: Request) -> Response | None:
        if not req.path.startswith("/wp-json/"):
            return None
        auth = req.headers.get("Authorization") or ""
        ok = False
        if auth.startswith("Basic "):
            try:
                user, _sep, password = base64.b64decode(auth[6:]).decode("utf-8").partition(":")
                ok = user == self.consumer_key and password == self.consumer_secret
            except (ValueError, UnicodeDecodeError):
                ok = False
        if not ok:
            return Response(401, {"code": "woocommerce_rest_cannot_view", "message": "Sorry, you cannot list resources.",
                                  "data": {"status": 401}})
        if req.path.startswith(TRACKING_API) and not self.tracking_extension:
            return Response(404, self.error_body(404, ""))
        return None

    def _install_routes(self) -> None:
        r = self.route
        r("GET", API + r"/orders", self._list_orders)
        r("GET", API + r"/orders/(?P<id>\d+)", lambda q: self._order(int(q.match["id"])))
        r("PUT", API + r"/orders/(?P<id>\d+)", self._put_order)
        r("GET", API + r"/orders/(?P<id>\d+)/notes", lambda q: self.notes.get(self._order(int(q.match["id"]))["id"], []))
        r("POST", API + r"/orders/(?P<id>\d+)/notes", self._post_note)
        r("GET", API + r"/orders/(?P<id>\d+)/refunds", self._list_refunds)
        r("POST", API + r"/orders/(?P<id>\d+)/refunds", self._post_refund)
        r("GET", TRACKING_API + r"/orders/(?P<id>\d+)/shipment-trackings",
          lambda q: self.trackings.get(self._order(int(q.match["id"]))["id"], []))
        r("POST", TRACKING_API + r"/orders/(?P<id>\d+)/shipment-trackings", self._post_tracking)
        r("GET", API + r"/products", self._list_products)
        r("GET", API + r"/products/(?P<id>\d+)/variations", self._list_variations)
        r("POST", API + r"/products/batch", self._products_batch)
        r("POST", API + r"/products/(?P<id>\d+)/variations/batch", self._variations_batch)

    def _order(self, order_id: int) -> dict:
        order = self.orders.get(order_id)
        if order is None:
            raise _error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        return order

    def _stamp(self, oid: int, when: datetime) -> None:
        self._changes += 1
        self.modified[oid] = when
        order = self.orders[oid]
        order["date_modified_gmt"], order["date_modified"] = gmt(when), local(when)

    def _touch(self, oid: int) -> None:
        # WooCommerce keeps whole seconds: two changes in one second share a modified time.
        self._stamp(oid, max(self.now(), self.modified.get(oid, self.now())))

    # -- orders -----------------------------------------------------------------------------------

    def _paging(self, q: dict) -> tuple[int, int]:
        try:
            page, per_page = int(q.get("page", "1")), int(q.get("per_page", "10"))
        except ValueError:
            raise _error(400, "rest_invalid_param", "Invalid parameter(s): page, per_page", {"per_page": "per_page is not of type integer."}) from None
        if not 1 <= per_page <= 100:
            raise _error(400, "rest_invalid_param", "Invalid parameter(s): per_page",
                         {"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"})
        if page < 1:
            raise _error(400, "rest_invalid_param", "Invalid parameter(s): page", {"page": "page must be greater than or equal to 1"})
        return page, per_page

    def _list_orders(self, req: Request) -> Response:
        q = req.query
        page, per_page = self._paging(q)
        orderby, order = q.get("orderby", "date"), q.get("order", "desc")
        if orderby not in ("date", "modified", "id", "include", "title", "slug") or order not in ("asc", "desc"):
            raise _error(400, "rest_invalid_param", "Invalid parameter(s): orderby", {"orderby": "orderby is not one of date, modified, id, include, title, and slug."})
        gmt_dates = q.get("dates_are_gmt") in ("1", "true")
        bounds = {}
        for name in ("modified_after", "modified_before", "after", "before"):
            if q.get(name):
                try:
                    when = datetime.fromisoformat(q[name].replace("Z", "+00:00"))
                except ValueError:
                    raise _error(400, "rest_invalid_param", f"Invalid parameter(s): {name}", {name: "Invalid date."}) from None
                if when.tzinfo is None:
                    when = when.replace(tzinfo=timezone.utc if gmt_dates else SITE_TZ)
                bounds[name] = when
        statuses = [s for s in (q.get("status") or "any").split(",") if s]
        if any(s not in STATUSES + ("any",) for s in statuses):
            raise _error(400, "rest_invalid_param", "Invalid parameter(s): status", {"status": "status is not one of " + ", ".join(STATUSES)})
        rows = self._sorted(orderby, order == "desc", tuple(sorted(statuses)))
        if "modified_after" in bounds and orderby == "modified" and order == "asc":
            # The list is sorted by modified time: start where the bound is instead of looking at every order.
            rows = rows[bisect.bisect_right(rows, (bounds.pop("modified_after"), 2**63)):]
        if bounds:
            rows = [r for r in rows if self._within(r[1], bounds)]
        total = len(rows)
        pages = max(1, math.ceil(total / per_page))
        listing = json.dumps({k: v for k, v in q.items() if k != "page"}, sort_keys=True)
        ids = [oid for _k, oid in rows[(page - 1) * per_page: page * per_page]]
        if page > 1 and self._last_page.get(listing) and self.roll(self.faults.rate_duplicate_page):
            ids = self._last_page[listing]  # the previous page again (a caching proxy in front of the shop)
        self._last_page[listing] = ids
        body = [self.orders[oid] for oid in ids]  # serialised under the lock by the server
        if page > 1 and self.modify_mid_pull > 0 and rows:
            body = copy.deepcopy(body)  # as served, before the edit below
            # A person edits an order the client has already read: it moves to the end of a modified-sorted list.
            self.modify_mid_pull -= 1
            victim = rows[0][1]
            self.orders[victim]["customer_note"] = (self.orders[victim].get("customer_note") or "") + " Please gift-wrap."
            self._touch(victim)
        return Response(200, body, self._page_headers(req, total, pages, page))

    def _sorted(self, orderby: str, desc: bool, statuses: tuple[str, ...]) -> list[tuple[Any, int]]:
        """The orders of these statuses sorted for a listing, kept until an order changes (as a database index would)."""
        key = (orderby, desc, statuses, self._changes, len(self.orders))
        cached = self._listing_cache.get(key[:3])
        if cached is not None and cached[0] == key:
            return cached[1]
        rows = []
        for oid, o in self.orders.items():
            st = o.get("status")
            if "any" in statuses and st == "trash" or "any" not in statuses and st not in statuses:
                continue
            created = _when(o.get("date_created_gmt")) or self.modified[oid]
            rows.append(({"modified": self.modified[oid], "date": created, "id": oid}.get(orderby, created), oid))
        rows.sort(reverse=desc)
        self._listing_cache[key[:3]] = (key, rows)
        return rows

    def _within(self, oid: int, bounds: dict[str, datetime]) -> bool:
        """WordPress's date_query takes these bounds strictly (``inclusive`` is false), to the second."""
        m = self.modified[oid]
        c = _when(self.orders[oid].get("date_created_gmt")) or m
        return not ("modified_after" in bounds and m <= bounds["modified_after"] or "modified_before" in bounds and m >= bounds["modified_before"]
                    or "after" in bounds and c <= bounds["after"] or "before" in bounds and c >= bounds["before"])

    def _page_headers(self, req: Request, total: int, pages: int, page: int) -> dict[str, str]:
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        base = {k: v for k, v in req.query.items() if k != "page"}
        links = []
        if page < pages:
            links.append(f'<{self.url}{req.path}?{urlencode({**base, "page": page + 1})}>; rel="next"')
        if page > 1:
            links.append(f'<{self.url}{req.path}?{urlencode({**base, "page": page - 1})}>; rel="prev"')
        if links:
            headers["Link"] = ", ".join(links)
        return headers

    def _put_order(self, req: Request) -> dict:
        order = self._order(int(req.match["id"]))
        body = req.json()
        if not isinstance(body, dict):
            raise _error(400, "rest_invalid_json", "Invalid JSON body passed.")
        if "status" in body:
            if body["status"] not in STATUSES:
                raise _error(400, "rest_invalid_param", "Invalid parameter(s): status", {"status": "status is not one of " + ", ".join(STATUSES)})
            if body["status"] == "completed" and order.get("status") != "completed":
                order["date_completed_gmt"], order["date_completed"] = gmt(self.now()), local(self.now())
            order["status"] = body["status"]
        for meta in body.get("meta_data") or []:  # WooCommerce updates meta by key (or id), adds what is new
            if not isinstance(meta, dict) or "key" not in meta:
                raise _error(400, "rest_invalid_param", "Invalid parameter(s): meta_data")
            existing = next((m for m in order.setdefault("meta_data", []) if m.get("key") == meta["key"]), None)
            if existing is None:
                order["meta_data"].append({"id": self.new_id(), "key": meta["key"], "value": meta.get("value")})
            else:
                existing["value"] = meta.get("value")
        self._touch(order["id"])
        return order

    def _post_note(self, req: Request) -> Response:
        order = self._order(int(req.match["id"]))
        body = req.json()
        if not isinstance(body, dict) or not str(body.get("note") or "").strip():
            raise _error(400, "rest_missing_callback_param", "Missing parameter(s): note", {"note": "note is required"})
        now = self.now()
        note = {"id": self.new_id(), "author": "system", "date_created": local(now), "date_created_gmt": gmt(now),
                "note": str(body["note"]), "customer_note": bool(body.get("customer_note"))}
        self.notes.setdefault(order["id"], []).insert(0, note)  # newest first, as WooCommerce lists them
        return Response(201, note)

    def _post_refund(self, req: Request) -> Response:
        """POST /orders/<id>/refunds: an amount (at most what is not refunded yet), a reason and the items, each with
        its quantity and refund_total, as the REST API v3 takes them; listed on the order and by /refunds."""
        order = self._order(int(req.match["id"]))
        body = req.json()
        if not isinstance(body, dict):
            raise _error(400, "rest_invalid_json", "Invalid JSON body passed.")
        try:
            amount = Decimal(str(body.get("amount")))
        except ArithmeticError:
            raise _error(400, "rest_invalid_param", "Invalid parameter(s): amount", {"amount": "amount is not a number"}) from None
        refunded = sum(-Decimal(r["total"]) for r in order.get("refunds", []))
        if amount <= 0 or amount > Decimal(order["total"]) - refunded:
            raise _error(400, "woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.")
        items = {li["id"]: li for li in order.get("line_items") or []}
        lines = {}
        for li in body.get("line_items") or []:
            item = items.get(int(li.get("id", 0) or 0)) if isinstance(li, dict) else None
            qty = li.get("quantity") if isinstance(li, dict) else None
            if item is None or not isinstance(qty, int) or not 0 < qty <= item["quantity"]:
                raise _error(400, "woocommerce_rest_cannot_create_order_refund", "Invalid line item.")
            lines[item["id"]] = qty
        with self.lock:
            self.refund_calls += 1
        self.refund(order["id"], str(amount), str(body.get("reason") or ""), lines=lines)
        rid = order["refunds"][-1]["id"]
        now = self.now()
        return Response(201, {"id": rid, "date_created": local(now), "date_created_gmt": gmt(now), "amount": money(amount),
                              "reason": str(body.get("reason") or ""), "refunded_by": 1, "refunded_payment": bool(body.get("api_refund")),
                              "meta_data": [], "line_items": copy.deepcopy(self.refund_items.get(rid, []))})

    def _list_refunds(self, req: Request) -> list:
        order = self._order(int(req.match["id"]))
        now = self.now()
        return [{"id": r["id"], "date_created": local(now), "date_created_gmt": gmt(now), "amount": r["total"].lstrip("-"),
                 "reason": r.get("reason", ""), "refunded_by": 1, "refunded_payment": True, "meta_data": [],
                 "line_items": copy.deepcopy(self.refund_items.get(r["id"], []))}
                for r in order.get("refunds", [])]

    def _post_tracking(self, req: Request) -> Response:
        order = self._order(int(req.match["id"]))
        body = req.json()
        number = str(body.get("tracking_number") or "").strip() if isinstance(body, dict) else ""
        if not number:
            raise _error(400, "woocommerce_rest_shipment_tracking_missing_tracking_number", "Tracking number is required.")
        tid = f"{self.rng.getrandbits(64):016x}"
        provider = str(body.get("tracking_provider") or body.get("custom_tracking_provider") or "")
        tracking = {"tracking_id": tid, "tracking_provider": provider, "tracking_link": str(body.get("custom_tracking_link") or ""),
                    "tracking_number": number, "date_shipped": str(body.get("date_shipped") or self.now().date().isoformat())}
        self.trackings.setdefault(order["id"], []).append(tracking)
        return Response(201, tracking)

    # -- catalogue --------------------------------------------------------------------------------

    def _list_products(self, req: Request) -> Response:
        page, per_page = self._paging(req.query)
        rows = sorted(self.products.values(), key=lambda p: p["id"])
        if req.query.get("sku"):
            rows = [p for p in rows if p.get("sku") == req.query["sku"]]
        total, pages = len(rows), max(1, math.ceil(len(rows) / per_page))
        return Response(200, rows[(page - 1) * per_page: page * per_page], self._page_headers(req, total, pages, page))

    def _list_variations(self, req: Request) -> Response:
        pid = int(req.match["id"])
        if pid not in self.products:
            raise _error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
        page, per_page = self._paging(req.query)
        rows = sorted(self.variations.get(pid, {}).values(), key=lambda v: v["id"])
        total, pages = len(rows), max(1, math.ceil(len(rows) / per_page))
        return Response(200, rows[(page - 1) * per_page: page * per_page], self._page_headers(req, total, pages, page))

    def _apply_batch(self, items: dict[int, dict], body: Any, what: str) -> dict:
        if self.batch_5xx > 0 and self.batch_5xx_after > 0:
            self.batch_5xx_after -= 1
        elif self.batch_5xx > 0:
            self.batch_5xx -= 1
            raise _error(503, "internal_server_error", "The server is temporarily unable to handle the request.")
        if not isinstance(body, dict):
            raise _error(400, "rest_invalid_json", "Invalid JSON body passed.")
        updates = body.get("update") or []
        if len(updates) + len(body.get("create") or []) + len(body.get("delete") or []) > 100:
            # As WC_REST_Controller::check_batch_limit answers (woocommerce_rest_batch_items_limit, 100): a 413.
            raise _error(413, "woocommerce_rest_request_entity_too_large", "Unable to accept more than 100 items for this request.")
        done = []
        for u in updates:
            item = items.get(int(u.get("id") or 0)) if isinstance(u, dict) else None
            if item is None:
                done.append({"id": u.get("id") if isinstance(u, dict) else 0,
                             "error": {"code": f"woocommerce_rest_{what}_invalid_id", "message": "Invalid ID.", "data": {"status": 400}}})
                continue
            for key in ("stock_quantity", "manage_stock", "regular_price", "name"):
                if key in u:
                    item[key] = u[key]
            if "stock_quantity" in u:
                item["stock_status"] = "instock" if int(u["stock_quantity"] or 0) > 0 else "outofstock"
            item["date_modified_gmt"] = gmt(self.now())
            done.append(copy.deepcopy(item))
        self.batch_calls.append((what, copy.deepcopy(body)))
        return {"update": done}

    def _products_batch(self, req: Request) -> dict:
        return self._apply_batch(self.products, req.json(), "product")

    def _variations_batch(self, req: Request) -> dict:
        pid = int(req.match["id"])
        if pid not in self.products:
            raise _error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
        return self._apply_batch(self.variations.get(pid, {}), req.json(), "product_variation")


def _when(value: Any) -> datetime | None:
    """A ``*_gmt`` date (no offset: GMT) as an aware time."""
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = parse_time(value)
    except ValueError:
        return None
    return dt


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m sync.emulators.woocommerce", description="WooCommerce REST API v3 emulator on loopback.")
    p.add_argument("--port", type=int, default=8803)
    p.add_argument("--orders-from", metavar="DIR", help="seed from WooCommerce order JSON files")
    p.add_argument("--seed-orders", type=int, default=25, help="generated orders when --orders-from is not given")
    p.add_argument("--products", type=int, default=0, metavar="N", help="also sell N generated simple products (SKU P00001, P00002, …)")
    p.add_argument("--faults", action="store_true", help="misbehave: 5xx, slow pages, repeated pages, an order modified mid-pull")
    p.add_argument("--consumer-key", default="ck_test")
    p.add_argument("--consumer-secret", default="cs_test")
    p.add_argument("--no-tracking-extension", action="store_true", help="a shop without the Shipment Tracking extension")
    p.add_argument("--demo-every", type=float, default=0, metavar="SECONDS", help="add a new order every SECONDS")
    p.add_argument("--state", metavar="FILE", help="keep the shop in FILE across restarts")
    args = p.parse_args(argv)
    faults = Faults(rate_5xx=0.05, rate_slow=0.05, slow_seconds=1.0, rate_duplicate_page=0.1) if args.faults else None
    emu = WooCommerceEmulator(port=args.port, consumer_key=args.consumer_key, consumer_secret=args.consumer_secret,
                              tracking_extension=not args.no_tracking_extension, faults=faults, state_file=args.state)
    if args.faults:
        emu.modify_mid_pull = 10**9
    if emu.load():
        print(f"loaded {len(emu.orders)} orders from {args.state}")
    elif args.orders_from:
        print(f"loaded {emu.load_dir(args.orders_from)} orders from {args.orders_from}")
    else:
        emu.seed_orders(args.seed_orders)
    for n in range(1, args.products + 1):
        emu.add_product(f"P{n:05d}")
    if args.demo_every:
        emu.start_demo(args.demo_every)
    print(f"shop address for the WooCommerce connection: http://127.0.0.1:{args.port}  "
          f"(keys: {args.consumer_key}:<the --consumer-secret value>)")
    emu.serve_forever()


if __name__ == "__main__":
    main()
