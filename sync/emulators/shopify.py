"""A Shopify Admin REST API stand-in on loopback: orders, fulfillments, payments, inventory, rate limits, faults."""

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

from ._server import EmulatorServer, Faults, HttpError, Request, Response, parse_time

API = r"/admin/api/(?P<version>\d{4}-\d{2})"
SHOP_TZ = timezone(timedelta(hours=-5))  # the shop prints local time with an offset, as Shopify does
CENT = Decimal("0.01")

FIRST = ["Ava", "Noah", "Mia", "Liam", "Zoë", "Mateo", "Priya", "Kenji", "Fatima", "Oliver", "Sofía", "Jonas", "Amara", "Lukas"]
LAST = ["Nguyen", "Smith", "García", "Okafor", "Müller", "Kowalski", "Haddad", "Tanaka", "O'Brien", "Rossi", "Johansson", "Patel"]
PLACES = [
    ("Louisville", "Kentucky", "KY", "40202"), ("Portland", "Oregon", "OR", "97205"), ("Austin", "Texas", "TX", "78701"),
    ("Brooklyn", "New York", "NY", "11201"), ("Denver", "Colorado", "CO", "80202"), ("Madison", "Wisconsin", "WI", "53703"),
]
STREETS = ["Chestnut Street", "Elm Avenue", "Harbor Drive", "Maple Road", "Water Street", "Pine Court"]
SHIPPING = [("Standard Shipping", "5.90"), ("Express", "14.50"), ("Overnight", "29.00"), ("Free Shipping", "0.00")]
DEFAULT_SKUS = ["MUG-RED", "MUG-BLUE", "TEE-M-BLK", "TEE-L-WHT", "CAP-NAVY", "BAG-TOTE", "SOCK-3PK"]
UNAUTHORIZED = "[API] Invalid API key or access token (unrecognized login or wrong password)"


def money(d: Decimal) -> str:
    return str(d.quantize(CENT))


def money_set(amount: str, currency: str) -> dict:
    return {"shop_money": {"amount": amount, "currency_code": currency},
            "presentment_money": {"amount": amount, "currency_code": currency}}


def stamp(dt: datetime) -> str:
    return dt.astimezone(SHOP_TZ).isoformat()


class ShopifyEmulator(EmulatorServer):
    name = "shopify"
    bucket_size = 40
    leak_per_second = 2.0

    def __init__(self, *, token: str = "shpat_test", currency: str = "USD", rate_limit: bool = True, **kw):
        super().__init__(**kw)
        self.token = token
        self.currency = currency
        self.rate_limit = rate_limit
        self.orders: dict[int, dict] = {}  # storage key -> the order JSON as the API returns it
        self._changes = 0  # bumped on every change, so listings know when their sorted order is stale
        self._listing_cache: dict = {}
        self._updated: dict[int, datetime] = {}
        self._created: dict[int, datetime] = {}
        self._fulfillments: dict[int, dict] = {}  # fulfillment id -> fulfillment (with order_id)
        self._transactions: dict[int, list[dict]] = {}
        self.refund_calls = 0  # refunds created through the API (tests count them)
        self.products: list[dict] = []
        self.locations = [
            {"id": 655441491, "name": "Main Warehouse", "address1": "1 Quay Road", "city": "Louisville", "zip": "40202",
             "province": "Kentucky", "country": "US", "country_code": "US", "active": True, "legacy": False},
            {"id": 655441492, "name": "Shop Floor", "address1": "9 Market Street", "city": "Louisville", "zip": "40202",
             "province": "Kentucky", "country": "US", "country_code": "US", "active": True, "legacy": False},
        ]
        self._levels: dict[tuple[int, int], dict] = {}
        self._seq = 0
        self._next_id = 5_500_000_000_000
        self._number = 1000
        self._listed_at: datetime | None = None  # when a client last read the order list
        self._bucket = 0.0
        self._bucket_at: float | None = None
        self._demo_stop = threading.Event()
        self._demo_thread: threading.Thread | None = None
        self._install_routes()

    # -- test and demo helpers ------------------------------------------------------------------

    def new_id(self) -> int:
        with self.lock:
            self._next_id += self.rng.randint(1, 97)
            return self._next_id

    def add_order(self, order: dict) -> int:
        """Store an order as given (the API's own JSON, possibly broken on purpose); returns its storage key."""
        with self.lock:
            self._changes += 1
            order = copy.deepcopy(order)
            key = order["id"] if isinstance(order.get("id"), int) else -(len(self.orders) + 1)
            self.orders[key] = order
            self._created[key] = _when(order.get("created_at")) or self.now()
            self._updated[key] = _when(order.get("updated_at")) or self._created[key]
            if self._listed_at is not None and self._updated[key] < self._listed_at:
                # A client has read the list since: an order that appears now was changed now, as in a real
                # shop (a backdated seed would hide behind the client's updated_at cursor for ever).
                self._updated[key] = self._listed_at
                order["updated_at"] = stamp(self._listed_at)
            self._seq += 1
            if isinstance(order.get("id"), int) and key not in self._transactions:
                self._transactions[key] = self._opening_transactions(order)
            return key

    def edit_order(self, order_id: int, **changes) -> dict:
        """Change fields of an order as a merchant would; updated_at moves on."""
        with self.lock:
            order = self._order(order_id)
            order.update(copy.deepcopy(changes))
            self._touch(order_id)
            self.save()
            return copy.deepcopy(order)

    def refund_order(self, order_id: int, lines: dict[int, int], *, restock_type: str = "return", note: str = "") -> dict:
        """A refund made in the Shopify admin for line items (line item id -> quantity), restocked as ``restock_type``
        ("return", "no_restock", "cancel"); listed on the order as the API lists it. Returns the refund."""
        with self.lock:
            order = self._order(order_id)
            by_id = {li["id"]: li for li in order["line_items"]}
            now = stamp(self.now())
            items = [{"id": self.new_id(), "line_item_id": lid, "quantity": qty, "restock_type": restock_type,
                      "location_id": None, "subtotal": str(Decimal(by_id[lid]["price"]) * qty),
                      "total_tax": "0.00", "line_item": copy.deepcopy(by_id[lid])} for lid, qty in lines.items()]
            refund = {"id": self.new_id(), "order_id": order_id, "created_at": now, "processed_at": now, "note": note,
                      "restock": restock_type != "no_restock", "refund_line_items": items, "transactions": [],
                      "order_adjustments": []}
            order.setdefault("refunds", []).append(refund)
            self._touch(order_id)
            self.save()
            return copy.deepcopy(refund)

    def cancel_order(self, order_id: int, reason: str = "customer") -> dict:
        """Cancel upstream, as the merchant would in the Shopify admin."""
        with self.lock:
            cancelled = copy.deepcopy(self._cancel(self._order(order_id), reason))
            self.save()
            return cancelled

    def state(self) -> dict:
        return {
            "orders": [[k, o, self._created[k].isoformat(), self._updated[k].isoformat()] for k, o in self.orders.items()],
            "fulfillments": list(self._fulfillments.values()),
            "transactions": [[k, txs] for k, txs in self._transactions.items()],
            "products": self.products,
            "levels": list(self._levels.values()),
            "next_id": self._next_id, "number": self._number, "seq": self._seq,
            "listed_at": self._listed_at.isoformat() if self._listed_at else None,
        }

    def restore(self, state: dict) -> None:
        self.orders = {int(k): o for k, o, _c, _u in state["orders"]}
        self._created = {int(k): datetime.fromisoformat(c) for k, _o, c, _u in state["orders"]}
        self._updated = {int(k): datetime.fromisoformat(u) for k, _o, _c, u in state["orders"]}
        self._fulfillments = {int(f["id"]): f for f in state["fulfillments"]}
        for f in self._fulfillments.values():  # the order and its fulfillments share one object, as before the restart
            order = self.orders.get(f["order_id"])
            if order is not None:
                order["fulfillments"] = [x for x in self._fulfillments.values() if x["order_id"] == order["id"]]
        self._transactions = {int(k): txs for k, txs in state["transactions"]}
        self.products = state["products"]
        self._levels = {(int(l["inventory_item_id"]), int(l["location_id"])): l for l in state["levels"]}
        self._next_id, self._number, self._seq = int(state["next_id"]), int(state["number"]), int(state["seq"])
        self._listed_at = datetime.fromisoformat(state["listed_at"]) if state.get("listed_at") else None
        self._changes += 1

    def continue_numbering(self, after: int) -> None:
        """The next order is numbered after ``after`` (an order number the merchant has already used)."""
        with self.lock:
            self._number = max(self._number, after)

    def fulfillments(self, order_id: int) -> list[dict]:
        with self.lock:
            return [copy.deepcopy(f) for f in self._fulfillments.values() if f["order_id"] == order_id]

    def captures(self, order_id: int) -> list[dict]:
        with self.lock:
            return [copy.deepcopy(t) for t in self._transactions.get(order_id, []) if t["kind"] == "capture" and t["status"] == "success"]

    def inventory_levels(self) -> list[dict]:
        with self.lock:
            return [copy.deepcopy(v) for v in self._levels.values()]

    def add_product(self, sku: str, title: str | None = None, price: str = "19.00") -> dict:
        with self.lock:
            for p in self.products:
                for v in p["variants"]:
                    if v["sku"] == sku:
                        return v
            pid, vid, iid = self.new_id(), self.new_id(), self.new_id()
            variant = {"id": vid, "product_id": pid, "title": "Default Title", "price": price, "sku": sku,
                       "inventory_item_id": iid, "inventory_management": "shopify", "inventory_quantity": 0,
                       "requires_shipping": True, "grams": 250, "admin_graphql_api_id": f"gid://shopify/ProductVariant/{vid}"}
            product = {"id": pid, "title": title or sku.replace("-", " ").title(), "status": "active", "variants": [variant],
                       "admin_graphql_api_id": f"gid://shopify/Product/{pid}"}
            self.products.append(product)
            return variant

    def seed_orders(self, n: int, skus: Iterable[str] = DEFAULT_SKUS, *, start: datetime | None = None,
                    spread: timedelta = timedelta(days=2)) -> list[int]:
        """Generate n realistic orders, created over ``spread`` before now, some updated since."""
        skus = list(skus)
        with self.lock:
            prices = {}
            for sku in skus:
                v = self.add_product(sku, price=money(Decimal(self.rng.randint(450, 6900)) / 100))
                prices[sku] = v
            now = self.now()
            start = start or now - spread
            step = (now - start) / max(n, 1)
            ids = []
            for i in range(n):
                created = start + step * i
                updated = min(now, created + timedelta(minutes=self.rng.choice([0, 0, 0, 3, 45, 300])))
                ids.append(self.add_order(self.make_order(prices, created, updated)))
            self.save()
            return ids

    def make_order(self, variants: dict[str, dict], created: datetime, updated: datetime | None = None) -> dict:
        rng, cur = self.rng, self.currency
        oid = self.new_id()
        self._number += 1
        first, last = rng.choice(FIRST), rng.choice(LAST)
        city, province, pcode, zip_ = rng.choice(PLACES)
        address = {"first_name": first, "last_name": last, "name": f"{first} {last}", "company": None,
                   "address1": f"{rng.randint(1, 999)} {rng.choice(STREETS)}", "address2": rng.choice(["", "", "Apt 4"]),
                   "city": city, "province": province, "province_code": pcode, "zip": zip_, "country": "United States",
                   "country_code": "US", "phone": f"555-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}",
                   "latitude": None, "longitude": None}
        email = f"{first}.{last}@example.com".lower().replace("'", "")
        lines = []
        for sku in rng.sample(sorted(variants), k=min(len(variants), rng.choice([1, 1, 2, 3]))):
            v = variants[sku]
            qty = rng.choice([1, 1, 1, 2, 3])
            lid = self.new_id()
            lines.append({
                "id": lid, "admin_graphql_api_id": f"gid://shopify/LineItem/{lid}", "variant_id": v["id"],
                "product_id": v["product_id"], "title": self._product(v["product_id"])["title"], "variant_title": None,
                "name": self._product(v["product_id"])["title"], "sku": sku, "vendor": "Quayside Goods", "quantity": qty,
                "current_quantity": qty, "fulfillable_quantity": qty, "fulfillment_status": None, "fulfillment_service": "manual",
                "requires_shipping": True, "taxable": True, "gift_card": False, "grams": 250, "price": v["price"],
                "price_set": money_set(v["price"], cur), "total_discount": "0.00", "total_discount_set": money_set("0.00", cur),
                "discount_allocations": [], "tax_lines": [], "properties": [], "product_exists": True,
            })
        items = sum(Decimal(l["price"]) * l["quantity"] for l in lines)
        discount = Decimal(0)
        codes = []
        if rng.random() < 0.2:
            discount = (items * Decimal("0.10")).quantize(CENT, ROUND_HALF_UP)
            codes = [{"code": "TENOFF", "amount": money(discount), "type": "percentage"}]
        title, ship_price = rng.choice(SHIPPING)
        if items - discount >= 100 and rng.random() < 0.5:
            title, ship_price = "Free Shipping", "0.00"
        shipping = Decimal(ship_price)
        rate = Decimal("0.06")
        tax = ((items - discount) * rate).quantize(CENT, ROUND_HALF_UP)
        total = items - discount + shipping + tax
        for l in lines:
            share = (Decimal(l["price"]) * l["quantity"] * rate).quantize(CENT, ROUND_HALF_UP)
            l["tax_lines"] = [{"title": "State Tax", "price": money(share), "rate": 0.06, "price_set": money_set(money(share), cur)}]
        financial = "authorized" if rng.random() < 0.7 else "paid"
        created_s = stamp(created)
        return {
            "id": oid, "admin_graphql_api_id": f"gid://shopify/Order/{oid}", "name": f"#{self._number}",
            "number": self._number - 1000, "order_number": self._number, "email": email, "contact_email": email,
            "phone": None, "created_at": created_s, "updated_at": stamp(updated or created), "processed_at": created_s,
            "cancelled_at": None, "cancel_reason": None, "closed_at": None, "confirmed": True, "test": False,
            "currency": cur, "presentment_currency": cur, "financial_status": financial, "fulfillment_status": None,
            "taxes_included": False, "tags": "", "note": None, "source_name": "web", "buyer_accepts_marketing": False,
            "total_line_items_price": money(items), "total_line_items_price_set": money_set(money(items), cur),
            "subtotal_price": money(items - discount), "subtotal_price_set": money_set(money(items - discount), cur),
            "total_discounts": money(discount), "total_discounts_set": money_set(money(discount), cur),
            "total_shipping_price_set": money_set(money(shipping), cur),
            "total_tax": money(tax), "total_tax_set": money_set(money(tax), cur),
            "total_price": money(total), "total_price_set": money_set(money(total), cur),
            "current_subtotal_price": money(items - discount), "current_total_discounts": money(discount),
            "current_total_tax": money(tax), "current_total_price": money(total),
            "total_outstanding": money(total) if financial == "authorized" else "0.00",
            "total_weight": 250 * sum(l["quantity"] for l in lines),
            "discount_codes": codes,
            "tax_lines": [{"title": "State Tax", "price": money(tax), "rate": 0.06, "price_set": money_set(money(tax), cur)}],
            "shipping_lines": [{"id": self.new_id(), "title": title, "code": title, "source": "shopify", "price": money(shipping),
                                "price_set": money_set(money(shipping), cur), "discounted_price": money(shipping),
                                "tax_lines": [], "discount_allocations": []}],
            "customer": {"id": self.new_id(), "email": email, "first_name": first, "last_name": last, "state": "enabled",
                         "currency": cur, "default_address": dict(address)},
            "billing_address": dict(address), "shipping_address": dict(address),
            "line_items": lines, "fulfillments": [], "refunds": [],
        }

    def start_demo(self, every_seconds: float = 20.0, skus: Iterable[str] = DEFAULT_SKUS) -> None:
        """Demo mode: a new order arrives every few seconds, so a first-time user sees sync at work."""
        variants = {sku: self.add_product(sku) for sku in skus}

        def loop():
            while not self._demo_stop.wait(every_seconds):
                with self.lock:
                    self.add_order(self.make_order(variants, self.now()))
                    self.save()

        self._demo_stop.clear()
        self._demo_thread = threading.Thread(target=loop, name="shopify-demo", daemon=True)
        self._demo_thread.start()

    def stop(self) -> None:
        self._demo_stop.set()
        if self._demo_thread:
            self._demo_thread.join(timeout=5)
            self._demo_thread = None
        super().stop()

    def load_dir(self, folder: str | Path) -> int:
        """Seed from the API's own JSON files: one ``order`` or an ``orders`` list per file."""
        count = 0
        for path in sorted(Path(folder).glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            found = [data["order"]] if isinstance(data, dict) and "order" in data else data.get("orders", []) if isinstance(data, dict) else []
            for order in found:
                self.add_order(order)
                count += 1
        return count

    # -- plumbing -------------------------------------------------------------------------------

    def error_body(self, status: int, message: str) -> Any:
        return {"errors": message}

    def check(self, req: Request) -> Response | None:
        if not req.path.startswith("/admin/"):
            return None
        if req.headers.get("X-Shopify-Access-Token") != self.token:
            return Response(401, {"errors": UNAUTHORIZED})
        if self.rate_limit:
            with self.lock:
                now = self.clock()
                if self._bucket_at is not None:
                    self._bucket = max(0.0, self._bucket - (now - self._bucket_at) * self.leak_per_second)
                self._bucket_at = now
                if self._bucket + 1 > self.bucket_size:
                    return Response(429, {"errors": "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."},
                                    {"Retry-After": "2.0"})
                self._bucket += 1
        return None

    def decorate(self, req: Request, resp: Response) -> None:
        if req.path.startswith("/admin/") and self.rate_limit:
            resp.headers = dict(resp.headers or {})
            resp.headers["X-Shopify-Shop-Api-Call-Limit"] = f"{min(self.bucket_size, math.ceil(self._bucket))}/{self.bucket_size}"
            resp.headers.setdefault("X-Shopify-API-Version", req.match["version"] if req.match and "version" in req.match.groupdict() else "2024-10")

    def _install_routes(self) -> None:
        r = self.route
        r("GET", API + r"/orders\.json", self._list_orders)
        r("GET", API + r"/orders/(?P<id>\d+)\.json", lambda q: {"order": self._order(int(q.match["id"]))})
        r("POST", API + r"/orders/(?P<id>\d+)/cancel\.json", self._post_cancel)
        r("GET", API + r"/orders/(?P<id>\d+)/fulfillment_orders\.json",
          lambda q: {"fulfillment_orders": self._fulfillment_orders(self._order(int(q.match["id"])))})
        r("GET", API + r"/orders/(?P<id>\d+)/fulfillments\.json",
          lambda q: {"fulfillments": [f for f in self._fulfillments.values() if f["order_id"] == self._order(int(q.match["id"]))["id"]]})
        r("POST", API + r"/fulfillments\.json", self._post_fulfillment)
        r("POST", API + r"/fulfillments/(?P<id>\d+)/cancel\.json", self._post_fulfillment_cancel)
        r("GET", API + r"/orders/(?P<id>\d+)/transactions\.json",
          lambda q: {"transactions": self._transactions.get(self._order(int(q.match["id"]))["id"], [])})
        r("POST", API + r"/orders/(?P<id>\d+)/transactions\.json", self._post_transaction)
        r("GET", API + r"/orders/(?P<id>\d+)/refunds\.json",
          lambda q: {"refunds": self._order(int(q.match["id"])).get("refunds", [])})
        r("POST", API + r"/orders/(?P<id>\d+)/refunds\.json", self._post_refund)
        r("GET", API + r"/locations\.json", lambda q: {"locations": self.locations})
        r("GET", API + r"/products\.json", self._list_products)
        r("GET", API + r"/variants/(?P<id>\d+)\.json", self._get_variant)
        r("POST", API + r"/inventory_levels/set\.json", self._post_inventory_set)
        r("GET", API + r"/inventory_levels\.json", self._list_levels)

    def _order(self, order_id: int) -> dict:
        order = self.orders.get(order_id)
        if order is None:
            raise HttpError(404, {"errors": "Not Found"})
        return order

    def _product(self, product_id: int) -> dict:
        return next(p for p in self.products if p["id"] == product_id)

    def _touch(self, key: int) -> None:
        self._changes += 1
        # Strictly later than before, even within one clock second, so updated_at filters see the change.
        when = max(self.now(), self._updated.get(key, self.now()) + timedelta(seconds=1))
        self._updated[key] = when
        self.orders[key]["updated_at"] = stamp(when)

    # -- orders -----------------------------------------------------------------------------------

    def _list_orders(self, req: Request) -> Response:
        self._listed_at = self.now()
        q = dict(req.query)
        limit = _int(q.pop("limit", "50"), "limit")
        if not 1 <= limit <= 250:
            raise HttpError(400, {"errors": {"limit": ["must be between 1 and 250"]}})
        q.pop("fields", None)
        if "page_info" in q:
            token = q.pop("page_info")
            if q:
                raise HttpError(400, {"errors": {"page_info": [f"cannot be combined with {', '.join(sorted(q))}; only limit and fields are allowed"]}})
            state = _untoken(token)
            filters, order_by, after = state["f"], state["o"], state["a"]
        else:
            filters, order_by, after = q, q.pop("order", "id asc"), None
            filters.pop("order", None)
        field, _, direction = order_by.partition(" ")
        if field not in ("id", "created_at", "updated_at", "processed_at") or direction not in ("", "asc", "desc"):
            raise HttpError(400, {"errors": {"order": [f"{order_by!r} is not a valid sort order"]}})
        desc = direction == "desc"
        rows = self._sorted_rows(filters, field, desc)
        if after is not None:
            a = (after[0], after[1])
            # The list is sorted: find where the page starts instead of filtering every order again.
            if desc:
                lo, hi = 0, len(rows)
                while lo < hi:
                    mid = (lo + hi) // 2
                    if (rows[mid][0], rows[mid][1]) < a:
                        hi = mid
                    else:
                        lo = mid + 1
                start = lo
            else:
                start = bisect.bisect_right(rows, (a[0], a[1]))
            rows = rows[start:]
        page = rows[:limit]
        headers = {}
        if len(rows) > limit:
            last = page[-1]
            nxt = {"f": filters, "o": order_by, "a": [last[0], last[1]]}
            if self.roll(self.faults.rate_duplicate_page):
                nxt = {"f": filters, "o": order_by, "a": after, "dup": self.rng.random()}  # the same page once more
            link = f'<{self.url}{req.path}?limit={limit}&page_info={_token(nxt)}>; rel="next"'
            if after is not None:
                link = f'<{self.url}{req.path}?limit={limit}&page_info={_token({"f": filters, "o": order_by, "a": None})}>; rel="previous", ' + link
            headers["Link"] = link
        return Response(200, {"orders": [self.orders[k] for _, k in page]}, headers)

    def _sorted_rows(self, filters: dict, field: str, desc: bool) -> list:
        """The matching orders sorted for one listing, kept until an order is added or changed."""
        cache_key = (json.dumps(filters, sort_keys=True), field, desc, len(self.orders), self._changes)
        if self._listing_cache.get("key") != cache_key:
            rows = sorted((self._sort_key(k, field), k) for k in self.orders if self._matches(k, filters))
            if desc:
                rows.reverse()
            self._listing_cache = {"key": cache_key, "rows": rows}
        return self._listing_cache["rows"]

    def _sort_key(self, key: int, field: str):
        if field == "updated_at":
            return self._updated[key].timestamp()
        if field in ("created_at", "processed_at"):
            return self._created[key].timestamp()
        return key

    def _matches(self, key: int, f: dict) -> bool:
        order = self.orders[key]
        status = f.get("status", "open")
        cancelled = bool(order.get("cancelled_at"))
        closed = bool(order.get("closed_at"))
        if status == "open" and (cancelled or closed) or status == "closed" and not closed or status == "cancelled" and not cancelled:
            return False
        if status not in ("open", "closed", "cancelled", "any"):
            raise HttpError(400, {"errors": {"status": [f"{status!r} is not one of open, closed, cancelled, any"]}})
        for name, stored, op in (("updated_at_min", self._updated, "ge"), ("updated_at_max", self._updated, "le"),
                                 ("created_at_min", self._created, "ge"), ("created_at_max", self._created, "le")):
            if name in f:
                try:
                    bound = parse_time(f[name])
                except ValueError:
                    raise HttpError(400, {"errors": {name: ["is not a valid date"]}}) from None
                if op == "ge" and stored[key] < bound or op == "le" and stored[key] > bound:
                    return False
        if "since_id" in f and key <= _int(f["since_id"], "since_id"):
            return False
        if "ids" in f and str(key) not in f["ids"].split(","):
            return False
        return True

    def _post_cancel(self, req: Request) -> dict:
        order = self._order(int(req.match["id"]))
        body = req.json()
        return {"order": self._cancel(order, body.get("reason") or "other"), "notice": "Order has been cancelled"}

    def _cancel(self, order: dict, reason: str) -> dict:
        if order.get("cancelled_at"):
            raise HttpError(422, {"errors": {"base": ["Order has already been cancelled"]}})
        if any(f["status"] == "success" for f in self._fulfillments.values() if f["order_id"] == order["id"]):
            raise HttpError(422, {"errors": {"base": ["Cannot cancel an order that has fulfillments"]}})
        if reason not in ("customer", "fraud", "inventory", "declined", "staff", "other"):
            raise HttpError(422, {"errors": {"reason": [f"{reason!r} is not included in the list"]}})
        order["cancelled_at"] = stamp(self.now())
        order["cancel_reason"] = reason
        order["closed_at"] = order["cancelled_at"]
        if order.get("financial_status") == "authorized":
            order["financial_status"] = "voided"
        self._touch(order["id"])
        return order

    # -- fulfillments -----------------------------------------------------------------------------

    def _fulfilled(self, order_id: int) -> dict[int, int]:
        done: dict[int, int] = {}
        for f in self._fulfillments.values():
            if f["order_id"] == order_id and f["status"] == "success":
                for li in f["line_items"]:
                    done[li["id"]] = done.get(li["id"], 0) + li["quantity"]
        return done

    def _fulfillment_orders(self, order: dict) -> list[dict]:
        done = self._fulfilled(order["id"])
        items, remaining_total = [], 0
        for li in order.get("line_items", []):
            qty = li.get("current_quantity", li["quantity"])
            remaining = max(0, qty - done.get(li["id"], 0))
            remaining_total += remaining
            items.append({"id": li["id"] * 10 + 1, "shop_id": 690933842, "fulfillment_order_id": order["id"] * 10 + 3,
                          "line_item_id": li["id"], "inventory_item_id": None, "quantity": remaining,
                          "fulfillable_quantity": remaining, "variant_id": li.get("variant_id")})
        status = "cancelled" if order.get("cancelled_at") else "open" if remaining_total else "closed"
        return [{"id": order["id"] * 10 + 3, "order_id": order["id"], "assigned_location_id": self.locations[0]["id"],
                 "status": status, "request_status": "unsubmitted", "supported_actions": ["create_fulfillment"] if status == "open" else [],
                 "line_items": items, "created_at": order["created_at"], "updated_at": order["updated_at"],
                 "destination": order.get("shipping_address"), "delivery_method": {"method_type": "shipping"}}]

    def _post_fulfillment(self, req: Request) -> Response:
        body = req.json().get("fulfillment") or {}
        groups = body.get("line_items_by_fulfillment_order")
        if not groups:
            raise HttpError(400, {"errors": {"fulfillment": "Required parameter missing or invalid"}})
        order = None
        wanted: dict[int, int] = {}
        for g in groups:
            fo_id = int(g.get("fulfillment_order_id") or 0)
            order = self.orders.get(fo_id // 10) if fo_id % 10 == 3 else None
            if order is None:
                raise HttpError(404, {"errors": "Not Found"})
            fo = self._fulfillment_orders(order)[0]
            if fo["status"] != "open":
                raise HttpError(422, {"errors": [f"Fulfillment order {fo_id} has an unfulfillable status= {fo['status']}."]})
            by_id = {i["id"]: i for i in fo["line_items"]}
            chosen = g.get("fulfillment_order_line_items") or [{"id": i["id"], "quantity": i["quantity"]} for i in fo["line_items"] if i["quantity"]]
            for c in chosen:
                item = by_id.get(int(c["id"]))
                qty = int(c["quantity"])
                if item is None or qty <= 0 or qty > item["quantity"]:
                    raise HttpError(422, {"errors": ["Invalid fulfillment order line item quantity requested."]})
                wanted[item["line_item_id"]] = wanted.get(item["line_item_id"], 0) + qty
        tracking = body.get("tracking_info") or {}
        fid = self.new_id()
        lines = {li["id"]: li for li in order["line_items"]}
        count = 1 + sum(1 for f in self._fulfillments.values() if f["order_id"] == order["id"])
        now = stamp(self.now())
        f = {"id": fid, "order_id": order["id"], "status": "success", "created_at": now, "updated_at": now,
             "service": "manual", "location_id": self.locations[0]["id"], "name": f"{order['name']}.{count}",
             "tracking_company": tracking.get("company"), "tracking_number": tracking.get("number") or None,
             "tracking_numbers": [tracking["number"]] if tracking.get("number") else [],
             "tracking_url": tracking.get("url"), "tracking_urls": [tracking["url"]] if tracking.get("url") else [],
             "shipment_status": None, "admin_graphql_api_id": f"gid://shopify/Fulfillment/{fid}",
             "line_items": [{**{k: lines[i][k] for k in ("id", "variant_id", "title", "sku", "price", "name")}, "quantity": q}
                            for i, q in wanted.items()]}
        self._fulfillments[fid] = f
        self._refresh_fulfillment_status(order)
        return Response(201, {"fulfillment": f})

    def _post_fulfillment_cancel(self, req: Request) -> dict:
        f = self._fulfillments.get(int(req.match["id"]))
        if f is None:
            raise HttpError(404, {"errors": "Not Found"})
        if f["status"] == "cancelled":
            raise HttpError(422, {"errors": {"base": ["Fulfillment is already cancelled"]}})
        f["status"] = "cancelled"
        f["updated_at"] = stamp(self.now())
        self._refresh_fulfillment_status(self.orders[f["order_id"]])
        return {"fulfillment": f}

    def _refresh_fulfillment_status(self, order: dict) -> None:
        done = self._fulfilled(order["id"])
        total = partial = 0
        for li in order["line_items"]:
            qty = li.get("current_quantity", li["quantity"])
            got = done.get(li["id"], 0)
            li["fulfillable_quantity"] = max(0, qty - got)
            li["fulfillment_status"] = "fulfilled" if got >= qty else "partial" if got else None
            total += qty
            partial += min(got, qty)
        order["fulfillment_status"] = "fulfilled" if partial >= total else "partial" if partial else None
        order["fulfillments"] = [f for f in self._fulfillments.values() if f["order_id"] == order["id"]]
        self._touch(order["id"])

    # -- payments -------------------------------------------------------------------------------

    def _opening_transactions(self, order: dict) -> list[dict]:
        kind = {"authorized": "authorization", "paid": "sale", "partially_paid": "authorization"}.get(order.get("financial_status"))
        amount = order.get("total_price")
        if kind is None or not isinstance(amount, str):
            return []
        tid = self.new_id()
        return [{"id": tid, "order_id": order["id"], "kind": kind, "status": "success", "amount": amount,
                 "currency": order.get("currency", self.currency), "gateway": "bogus", "parent_id": None,
                 "created_at": order.get("created_at"), "processed_at": order.get("created_at"), "test": True,
                 "authorization": f"auth-{tid}", "admin_graphql_api_id": f"gid://shopify/OrderTransaction/{tid}"}]

    def _post_transaction(self, req: Request) -> Response:
        order = self._order(int(req.match["id"]))
        body = req.json().get("transaction") or {}
        if body.get("kind") != "capture":
            raise HttpError(422, {"errors": {"kind": ["only capture is emulated"]}})
        txs = self._transactions.setdefault(order["id"], [])
        auths = [t for t in txs if t["kind"] == "authorization" and t["status"] == "success"]
        parent = next((t for t in auths if t["id"] == body.get("parent_id")), None) if body.get("parent_id") else (auths[0] if auths else None)
        if parent is None:
            raise HttpError(422, {"errors": {"base": ["No capturable transaction was found"]}})
        captured = sum(Decimal(t["amount"]) for t in txs if t["kind"] == "capture" and t["status"] == "success" and t["parent_id"] == parent["id"])
        left = Decimal(parent["amount"]) - captured
        if order.get("cancelled_at") or left <= 0:
            raise HttpError(422, {"errors": {"base": ["The authorization has already been captured or voided"]}})
        amount = Decimal(str(body["amount"])) if body.get("amount") is not None else left
        if body.get("currency") and body["currency"] != parent["currency"]:
            raise HttpError(422, {"errors": {"currency": ["must match the authorization's currency"]}})
        if amount <= 0 or amount > left:
            raise HttpError(422, {"errors": {"amount": [f"must be greater than 0 and at most {money(left)}"]}})
        tid = self.new_id()
        now = stamp(self.now())
        tx = {"id": tid, "order_id": order["id"], "kind": "capture", "status": "success", "amount": money(amount),
              "currency": parent["currency"], "gateway": parent["gateway"], "parent_id": parent["id"], "created_at": now,
              "processed_at": now, "test": True, "authorization": parent["authorization"],
              "admin_graphql_api_id": f"gid://shopify/OrderTransaction/{tid}"}
        txs.append(tx)
        order["financial_status"] = "paid" if amount == left else "partially_paid"
        self._touch(order["id"])
        return Response(201, {"transaction": tx})

    def _post_refund(self, req: Request) -> Response:
        """POST /orders/:id/refunds.json: line items (each with its restock_type) and refund transactions against the
        order's captures or sales, never more than was paid and not yet refunded."""
        order = self._order(int(req.match["id"]))
        body = req.json().get("refund") or {}
        by_id = {li["id"]: li for li in order["line_items"]}
        refunded: dict[int, int] = {}
        for r in order.get("refunds", []):
            for rli in r.get("refund_line_items", []):
                refunded[rli["line_item_id"]] = refunded.get(rli["line_item_id"], 0) + rli["quantity"]
        items = []
        for rli in body.get("refund_line_items") or []:
            li = by_id.get(rli.get("line_item_id"))
            qty = rli.get("quantity")
            if li is None or not isinstance(qty, int) or qty <= 0 or qty > li["quantity"] - refunded.get(li["id"], 0):
                raise HttpError(422, {"errors": {"refund_line_items": [f"{rli.get('line_item_id')} cannot be refunded {qty} more"]}})
            if rli.get("restock_type", "no_restock") not in ("no_restock", "cancel", "return"):
                raise HttpError(422, {"errors": {"restock_type": ["is not included in the list"]}})
            items.append({"id": self.new_id(), "line_item_id": li["id"], "quantity": qty,
                          "restock_type": rli.get("restock_type", "no_restock"), "location_id": rli.get("location_id"),
                          "subtotal": money(Decimal(li["price"]) * qty), "total_tax": "0.00", "line_item": copy.deepcopy(li)})
        txs = self._transactions.setdefault(order["id"], [])
        paid = [t for t in txs if t["kind"] in ("capture", "sale") and t["status"] == "success"]
        out = []
        now = stamp(self.now())
        for t in body.get("transactions") or []:
            parent = next((p for p in paid if p["id"] == t.get("parent_id")), None)
            if parent is None or t.get("kind") != "refund":
                raise HttpError(422, {"errors": {"transactions": ["a refund needs the id of a capture or sale as parent_id"]}})
            back = sum(Decimal(x["amount"]) for x in txs if x["kind"] == "refund" and x["parent_id"] == parent["id"])
            amount = Decimal(str(t.get("amount")))
            if amount <= 0 or amount > Decimal(parent["amount"]) - back:
                raise HttpError(422, {"errors": {"amount": [f"must be greater than 0 and at most {money(Decimal(parent['amount']) - back)}"]}})
            tid = self.new_id()
            tx = {"id": tid, "order_id": order["id"], "kind": "refund", "status": "success", "amount": money(amount),
                  "currency": parent["currency"], "gateway": parent["gateway"], "parent_id": parent["id"], "created_at": now,
                  "processed_at": now, "test": True, "authorization": parent.get("authorization"),
                  "admin_graphql_api_id": f"gid://shopify/OrderTransaction/{tid}"}
            txs.append(tx)
            out.append(tx)
        if not items and not out:
            raise HttpError(422, {"errors": {"base": ["A refund needs line items or transactions"]}})
        refund = {"id": self.new_id(), "order_id": order["id"], "created_at": now, "processed_at": now,
                  "note": body.get("note") or "", "restock": any(i["restock_type"] != "no_restock" for i in items),
                  "refund_line_items": items, "transactions": out, "order_adjustments": []}
        order.setdefault("refunds", []).append(refund)
        self.refund_calls += 1
        self._touch(order["id"])
        return Response(201, {"refund": refund})

    # -- catalogue and inventory ------------------------------------------------------------------

    def _list_products(self, req: Request) -> Response:
        limit = _int(req.query.get("limit", "50"), "limit")
        if not 1 <= limit <= 250:
            raise HttpError(400, {"errors": {"limit": ["must be between 1 and 250"]}})
        after = _untoken(req.query["page_info"])["a"] if "page_info" in req.query else 0
        rows = sorted((p for p in self.products if p["id"] > after), key=lambda p: p["id"])
        headers = {}
        if len(rows) > limit:
            headers["Link"] = f'<{self.url}{req.path}?limit={limit}&page_info={_token({"a": rows[limit - 1]["id"]})}>; rel="next"'
        return Response(200, {"products": rows[:limit]}, headers)

    def _get_variant(self, req: Request) -> dict:
        vid = int(req.match["id"])
        for p in self.products:
            for v in p["variants"]:
                if v["id"] == vid:
                    return {"variant": v}
        raise HttpError(404, {"errors": "Not Found"})

    def _post_inventory_set(self, req: Request) -> dict:
        body = req.json()
        try:
            loc, item, available = int(body["location_id"]), int(body["inventory_item_id"]), body["available"]
        except (KeyError, TypeError, ValueError):
            raise HttpError(400, {"errors": "Required parameter missing or invalid"}) from None
        if not isinstance(available, int) or isinstance(available, bool):
            raise HttpError(422, {"errors": {"available": ["must be an integer"]}})
        if loc not in {l["id"] for l in self.locations}:
            raise HttpError(422, {"errors": ["Inventory item does not have inventory tracking enabled or location is unknown"]})
        if item not in {v["inventory_item_id"] for p in self.products for v in p["variants"]}:
            raise HttpError(404, {"errors": "Not Found"})
        level = {"inventory_item_id": item, "location_id": loc, "available": available, "updated_at": stamp(self.now()),
                 "admin_graphql_api_id": f"gid://shopify/InventoryLevel/{loc}?inventory_item_id={item}"}
        self._levels[(item, loc)] = level
        return {"inventory_level": level}

    def _list_levels(self, req: Request) -> dict:
        items = {int(x) for x in req.query.get("inventory_item_ids", "").split(",") if x}
        locs = {int(x) for x in req.query.get("location_ids", "").split(",") if x}
        return {"inventory_levels": [l for l in self._levels.values()
                                     if (not items or l["inventory_item_id"] in items) and (not locs or l["location_id"] in locs)]}


def _when(value: Any) -> datetime | None:
    try:
        return parse_time(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise HttpError(400, {"errors": {name: ["is not a number"]}}) from None


def _token(state: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")


def _untoken(token: str) -> dict:
    try:
        return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, json.JSONDecodeError):
        raise HttpError(400, {"errors": {"page_info": ["Invalid value."]}}) from None


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m sync.emulators.shopify", description="Shopify Admin REST API emulator on loopback.")
    p.add_argument("--port", type=int, default=8801)
    p.add_argument("--orders-from", metavar="DIR", help="seed from Shopify JSON files (an 'order' or an 'orders' list each)")
    p.add_argument("--seed-orders", type=int, default=25, help="generated orders when --orders-from is not given")
    p.add_argument("--faults", action="store_true", help="misbehave: 429 bursts, 5xx, slow and dropped calls, bad JSON, repeated pages")
    p.add_argument("--token", default="shpat_test", help="the access token to accept")
    p.add_argument("--demo-every", type=float, default=0, metavar="SECONDS", help="add a new order every SECONDS (demo mode)")
    p.add_argument("--no-rate-limit", action="store_true", help="serve without the API call limit (for benchmarks)")
    p.add_argument("--state", metavar="FILE", help="keep the shop's orders in FILE across restarts (read on start if it exists)")
    args = p.parse_args(argv)
    emu = ShopifyEmulator(port=args.port, token=args.token, faults=Faults.chaos() if args.faults else None,
                          rate_limit=not args.no_rate_limit, state_file=args.state)
    if emu.load():
        print(f"loaded {len(emu.orders)} orders from {args.state}")
    elif args.orders_from:
        print(f"loaded {emu.load_dir(args.orders_from)} orders from {args.orders_from}")
    else:
        emu.seed_orders(args.seed_orders)
    if args.demo_every:
        emu.start_demo(args.demo_every)
    print(f"shop URL for ShopifyChannel: http://127.0.0.1:{args.port}  (token: the --token value)")
    emu.serve_forever()


if __name__ == "__main__":
    main()
