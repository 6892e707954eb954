"""An Amazon Selling Partner API stand-in on loopback: Login with Amazon, Orders v0, Listings Items and Feeds
2021-06-30, with the documented rate limits and faults.

It serves the operations in the models' own shapes (``payload`` envelopes, PascalCase orders, ``errors`` lists):
``POST /auth/o2/token`` (the refresh-token grant; the LWA host is a different one in real life),
``getOrders``, ``getOrder``, ``getOrderItems``, ``confirmShipment``, ``patchListingsItem``, and the feed
operations ``createFeedDocument``, ``createFeed``, ``getFeed`` and ``getFeedDocument`` (Feeds 2021-06-30
answers without a ``payload`` envelope). The presigned document URLs point at ``/feed-documents/<id>`` here:
no access token, no rate limit, a signature in the query, as S3's. A ``JSON_LISTINGS_FEED`` waits in the
queue and is processed after a delay (``feed_queue_s`` + ``feed_process_s`` of Amazon's time, time-scaled);
then its PATCH messages apply to the listings, and its processing report (gzip, as Amazon compresses them)
says per message what was refused: an unknown SKU, a message without what a PATCH needs.
The seller's listings are the SKUs of the orders and of ``seed_orders``/``start_demo``, and ``add_listing``;
``patchListingsItem`` answers ``INVALID`` for any other SKU, as the feed's report does.

* Each operation has a token bucket with the documented rate and burst, times ``time_scale`` (a test or a
  benchmark runs 100 times faster than an hour of real throttling); an empty bucket answers 429
  ``QuotaExceeded`` without the ``x-amzn-RateLimit-Limit`` header, which the other answers carry.
* Changes appear about two minutes late: a listing covers orders updated up to two minutes before the request,
  says so in ``LastUpdatedBefore``, and refuses a ``LastUpdatedAfter`` later than that.
* Access tokens live 3,600 s of the emulator's clock.
* Fault switches: a 429 storm, 5xx (``Faults``), every access token expired at once, an expired ``NextToken``,
  item pages cut short, and an order that changes between pages.
"""

from __future__ import annotations

import argparse
import base64
import copy
import gzip
import json
import secrets
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import parse_qsl, unquote

from ._server import EmulatorServer, Faults, HttpError, Request, Response, iso, parse_time

CENT = Decimal("0.01")
US = "ATVPDKIKX0DER"
# operation: (rate per second, burst), as the models document them
LIMITS = {"getOrders": (0.0167, 20), "getOrder": (0.5, 30), "getOrderItems": (0.5, 30), "confirmShipment": (2.0, 10),
          "patchListingsItem": (5.0, 5), "createFeedDocument": (0.5, 15), "createFeed": (0.0083, 15), "getFeed": (2.0, 15),
          "getFeedDocument": (0.0222, 10), "token": (1000.0, 1000)}
FEEDS = "/feeds/2021-06-30"
FEED_TYPES = ("JSON_LISTINGS_FEED",)
FEED_QUEUE_S, FEED_PROCESS_S = 30.0, 90.0  # Amazon's seconds a feed waits in the queue, then is processed
DELAY = timedelta(minutes=2)
TOKEN_LIFE_S = 3600
FIRST = ["Ava", "Noah", "Zoë", "Mateo", "Priya", "Søren", "Fatima", "Oliver", "Sofía", "Jonas", "Amara", "Łukasz", "Chloé", "Kenji"]
LAST = ["Nguyen", "García", "Okafor", "Müller", "Kowalski", "Haddad", "Tanaka", "O'Brien", "Rossi", "Johansson", "Østergaard"]
PLACES = [("SEATTLE", "WA", "98109"), ("Portland", "OR", "97205"), ("Austin", "TX", "78701"), ("Denver", "CO", "80202"),
          ("Madison", "WI", "53703"), ("Louisville", "KY", "40202")]
DEFAULT_SKUS = ["MUG-RED", "MUG-BLUE", "TEE-M-BLK", "TEE-L-WHT", "CAP-NAVY", "BAG-TOTE", "SOCK-3PK"]


def amount(value: Decimal, currency: str = "USD") -> dict:
    return {"CurrencyCode": currency, "Amount": str(value.quantize(CENT, ROUND_HALF_UP))}


def errors(code: str, message: str, details: str = "") -> dict:
    return {"errors": [{"code": code, "message": message, "details": details}]}


@dataclass
class Bucket:
    rate: float
    burst: int
    tokens: float
    at: float


class AmazonEmulator(EmulatorServer):
    name = "amazon"

    def __init__(self, *, client_id: str = "amzn1.application-oa2-client.test", client_secret: str = "amzn1.oa2-cs.v1.test",
                 refresh_token: str = "Atzr|test", marketplace_id: str = US, time_scale: float = 1.0,
                 rate_limit: bool = True, **kw):
        super().__init__(**kw)
        self.client_id, self.client_secret, self.refresh_token = client_id, client_secret, refresh_token
        self.marketplace_id = marketplace_id
        self.time_scale = time_scale
        self.rate_limit = rate_limit
        self.orders: dict[str, dict] = {}
        self.items: dict[str, list[dict]] = {}
        self.packages: dict[str, list[dict]] = {}  # order id -> confirmed packages (confirmShipment bodies)
        self.listings: dict[str, dict] = {}  # sku -> the last fulfillment_availability value
        self.listing_skus: set[str] = set()  # the seller's listings: what a patch or a feed message may change
        self.documents: dict[str, dict] = {}  # feed document id -> {"content_type", "body" (bytes), "signature", "result"}
        self.feeds: dict[str, dict] = {}  # feed id -> the Feed, plus "_doc" (its input document) and "_at" (created, on clock)
        self.feed_queue_s, self.feed_process_s = FEED_QUEUE_S, FEED_PROCESS_S
        self.fatal_feeds = 0  # fault: the next N feeds end FATAL, having changed nothing
        self.applied: dict[str, int] = {}  # sku -> how many times a feed or a patch changed its availability
        self.tokens: dict[str, float] = {}  # access token -> expiry on self.clock
        self.grants = 0  # how many access tokens were handed out
        self.throttled: dict[str, int] = {}  # operation -> 429s answered for an empty bucket
        self.storm_429 = 0  # fault: the next N calls to the API are answered 429
        self.expire_next_tokens = False  # fault: every NextToken handed out so far is refused
        self.item_page_size = 100  # fault when small: getOrderItems pages cut short
        self.change_between_pages = 0  # fault: the next N getOrders pages with a NextToken touch an order already served
        self._buckets: dict[str, Bucket] = {}
        self._token_epoch = 0
        self._seq = 0
        self._demo_stop = threading.Event()
        self._demo_thread: threading.Thread | None = None
        r = self.route
        r("POST", r"/auth/o2/token", self._token, faults=False)
        r("GET", r"/orders/v0/orders", self._get_orders)
        r("GET", r"/orders/v0/orders/(?P<id>[\w-]+)", lambda q: {"payload": self._order(q.match["id"])})
        r("GET", r"/orders/v0/orders/(?P<id>[\w-]+)/orderItems", self._get_order_items)
        r("POST", r"/orders/v0/orders/(?P<id>[\w-]+)/shipmentConfirmation", self._confirm_shipment)
        r("PATCH", r"/listings/2021-08-01/items/(?P<seller>[\w-]+)/(?P<sku>[^/]+)", self._patch_listing)
        r("POST", FEEDS + r"/documents", self._create_feed_document)
        r("GET", FEEDS + r"/documents/(?P<id>[\w.-]+)", self._get_feed_document)
        r("POST", FEEDS + r"/feeds", self._create_feed)
        r("GET", FEEDS + r"/feeds/(?P<id>\d+)", self._get_feed)
        r("PUT", r"/feed-documents/(?P<id>[\w.-]+)", self._upload_document)
        r("GET", r"/feed-documents/(?P<id>[\w.-]+)", self._download_document)

    # -- test and demo helpers --------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Every access token handed out so far has expired (as an hour going by would do)."""
        with self.lock:
            self.tokens.clear()

    def add_listing(self, *skus: str) -> None:
        """The seller lists these SKUs on Amazon (a patch or a feed may change their availability)."""
        with self.lock:
            self.listing_skus.update(skus)

    def add_order(self, order: dict, items: list[dict] | None = None) -> str:
        with self.lock:
            order = copy.deepcopy(order)
            oid = order["AmazonOrderId"]
            self.orders[oid] = order
            if items is not None:
                self.items[oid] = copy.deepcopy(items)
                self.listing_skus.update(i["SellerSKU"] for i in items if isinstance(i, dict) and i.get("SellerSKU"))
            order.setdefault("LastUpdateDate", order.get("PurchaseDate") or iso(self.now()))
            self._seq += 1
            return oid

    def edit_order(self, oid: str, *, items: list[dict] | None = None, **changes) -> dict:
        """Amazon changes an order (the buyer's address, a status): LastUpdateDate moves on."""
        with self.lock:
            order = self._order(oid)
            order.update(copy.deepcopy(changes))
            if items is not None:
                self.items[oid] = copy.deepcopy(items)
            order["LastUpdateDate"] = iso(self.now())
            self.save()
            return copy.deepcopy(order)

    def set_status(self, oid: str, status: str) -> dict:
        return self.edit_order(oid, OrderStatus=status)

    def continue_numbering(self, after: int) -> None:
        """Amazon numbers its own orders; nothing to continue."""

    def new_order_id(self) -> str:
        return f"{self.rng.randint(100, 999)}-{self.rng.randint(1000000, 9999999)}-{self.rng.randint(1000000, 9999999)}"

    def make_order(self, skus: list[str], purchased: datetime, *, status: str = "Unshipped", channel: str = "MFN",
                   prices: dict[str, Decimal] | None = None) -> tuple[dict, list[dict]]:
        rng = self.rng
        oid = self.new_order_id()
        first, last = rng.choice(FIRST), rng.choice(LAST)
        city, state, postcode = rng.choice(PLACES)
        items, total = [], Decimal(0)
        for sku in rng.sample(sorted(skus), k=min(len(skus), rng.choice([1, 1, 1, 2, 3]))):
            qty = rng.choice([1, 1, 1, 2])
            unit = (prices or {}).get(sku) or Decimal(rng.randint(450, 6900)) / 100
            price, tax, ship = unit * qty, (unit * qty * Decimal("0.06")).quantize(CENT, ROUND_HALF_UP), Decimal("3.99")
            total += price + tax + ship
            items.append({"ASIN": f"B0{rng.getrandbits(32):08X}", "SellerSKU": sku, "OrderItemId": str(rng.randint(10**13, 10**14 - 1)),
                          "Title": f"{sku.replace('-', ' ').title()} – Quayside Goods", "QuantityOrdered": qty,
                          "QuantityShipped": 0, "ProductInfo": {"NumberOfItems": "1"}, "ItemPrice": amount(price),
                          "ShippingPrice": amount(ship), "ItemTax": amount(tax), "ShippingTax": amount(Decimal(0)),
                          "ShippingDiscount": amount(Decimal(0)), "ShippingDiscountTax": amount(Decimal(0)),
                          "PromotionDiscount": amount(Decimal(0)), "PromotionDiscountTax": amount(Decimal(0)),
                          "IsGift": "false", "ConditionId": "New", "ConditionSubtypeId": "New", "IsTransparency": False})
        prime = rng.random() < 0.3
        level = "Expedited" if prime else rng.choice(["Standard", "Standard", "Expedited", "NextDay"])
        order = {
            "AmazonOrderId": oid, "PurchaseDate": iso(purchased), "LastUpdateDate": iso(purchased), "OrderStatus": status,
            "FulfillmentChannel": channel, "SalesChannel": "Amazon.com", "OrderChannel": "Amazon.com",
            "ShipServiceLevel": f"{level} US D2D Dom", "OrderTotal": amount(total),
            "NumberOfItemsShipped": 0, "NumberOfItemsUnshipped": sum(i["QuantityOrdered"] for i in items),
            "PaymentMethod": "Other", "PaymentMethodDetails": ["Standard"], "IsReplacementOrder": False,
            "MarketplaceId": self.marketplace_id, "ShipmentServiceLevelCategory": level, "OrderType": "StandardOrder",
            "EarliestShipDate": iso(purchased), "LatestShipDate": iso(purchased + timedelta(days=2)),
            "EarliestDeliveryDate": iso(purchased + timedelta(days=3)), "LatestDeliveryDate": iso(purchased + timedelta(days=6)),
            "IsBusinessOrder": rng.random() < 0.1, "IsPrime": prime, "IsPremiumOrder": False, "IsGlobalExpressEnabled": False,
            "IsSoldByAB": False, "IsISPU": False, "IsAccessPointOrder": False, "HasRegulatedItems": False,
            "BuyerInfo": {"BuyerEmail": f"{rng.getrandbits(40):010x}@marketplace.amazon.com"},
            "ShippingAddress": {"Name": f"{first} {last}", "AddressLine1": f"{rng.randint(1, 999)} Harbor Drive",
                                "City": city, "StateOrRegion": state, "PostalCode": postcode, "CountryCode": "US",
                                "Phone": f"+1 555-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}", "AddressType": "Residential"},
        }
        if status == "Pending":
            del order["OrderTotal"]  # Amazon leaves the total out until the payment is authorised
        return order, items

    def seed_orders(self, n: int, skus: Iterable[str] = DEFAULT_SKUS, *, start: datetime | None = None,
                    spread: timedelta = timedelta(days=2), channel: str = "MFN") -> list[str]:
        skus = list(skus)
        with self.lock:
            self.listing_skus.update(skus)
            prices = {sku: Decimal(self.rng.randint(450, 6900)) / 100 for sku in skus}
            now = self.now() - DELAY - timedelta(minutes=1)
            start = start or now - spread
            step = (now - start) / max(n, 1)
            ids = [self.add_order(*self.make_order(skus, start + step * i, channel=channel, prices=prices)) for i in range(n)]
            self.save()
            return ids

    def start_demo(self, every_seconds: float = 20.0, skus: Iterable[str] = DEFAULT_SKUS) -> None:
        skus = list(skus)
        self.add_listing(*skus)

        def loop():
            while not self._demo_stop.wait(every_seconds):
                with self.lock:
                    self.add_order(*self.make_order(skus, self.now(), status=self.rng.choice(["Unshipped", "Unshipped", "Pending"])))
                    self.save()

        self._demo_stop.clear()
        self._demo_thread = threading.Thread(target=loop, name="amazon-demo", daemon=True)
        self._demo_thread.start()

    def stop(self) -> None:
        self._demo_stop.set()
        if self._demo_thread:
            self._demo_thread.join(timeout=5)
            self._demo_thread = None
        super().stop()

    def load_dir(self, folder: str | Path) -> int:
        """Seed from SP-API JSON files: getOrder answers (``payload`` an order), getOrders answers (``payload.Orders``),
        and getOrderItems answers (``payload.OrderItems`` with ``AmazonOrderId``), in any order."""
        count, items = 0, {}
        for path in sorted(Path(folder).glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            payload = data.get("payload") if isinstance(data, dict) else None
            if not isinstance(payload, dict):
                continue
            if "OrderItems" in payload:
                items[payload.get("AmazonOrderId")] = payload["OrderItems"]
            for order in payload.get("Orders") or ([payload] if "AmazonOrderId" in payload and "OrderStatus" in payload else []):
                self.add_order(order)
                count += 1
        for oid, found in items.items():
            self.items[oid] = found
            self.listing_skus.update(i["SellerSKU"] for i in found if isinstance(i, dict) and i.get("SellerSKU"))
        return count

    def state(self) -> dict:
        return {"orders": list(self.orders.values()), "items": self.items, "packages": self.packages, "listings": self.listings,
                "listing_skus": sorted(self.listing_skus)}

    def restore(self, state: dict) -> None:
        self.orders = {o["AmazonOrderId"]: o for o in state["orders"]}
        self.items, self.packages, self.listings = state["items"], state["packages"], state["listings"]
        self.listing_skus = set(state.get("listing_skus") or []) | set(self.listings) | {
            i["SellerSKU"] for found in self.items.values() for i in found if isinstance(i, dict) and i.get("SellerSKU")}

    # -- plumbing ---------------------------------------------------------------------------------

    def error_body(self, status: int, message: str) -> Any:
        code = {404: "NotFound", 429: "QuotaExceeded", 500: "InternalFailure", 503: "ServiceUnavailable"}.get(status, "InvalidInput")
        return errors(code, message)

    def operation(self, req: Request) -> str:
        p = req.path
        if p == "/auth/o2/token" or p.startswith("/feed-documents/"):
            return "token"  # LWA, and the presigned document URLs (S3's): no access token, no SP-API rate limit
        if p.startswith("/listings/"):
            return "patchListingsItem"
        if p.startswith(FEEDS + "/documents"):
            return "createFeedDocument" if req.method == "POST" else "getFeedDocument"
        if p.startswith(FEEDS + "/feeds"):
            return "createFeed" if req.method == "POST" else "getFeed"
        if p == "/orders/v0/orders":
            return "getOrders"
        if p.endswith("/orderItems"):
            return "getOrderItems"
        if p.endswith("/shipmentConfirmation"):
            return "confirmShipment"
        return "getOrder"

    def _take(self, op: str) -> bool:
        rate, burst = LIMITS[op]
        rate *= self.time_scale
        now = self.clock()
        b = self._buckets.get(op)
        if b is None:
            b = self._buckets[op] = Bucket(rate, burst, float(burst), now)
        b.tokens = min(b.burst, b.tokens + (now - b.at) * b.rate)
        b.at = now
        if b.tokens >= 1 - 1e-9:
            b.tokens -= 1
            return True
        return False

    def check(self, req: Request) -> Response | None:
        op = self.operation(req)
        if op == "token":
            return None
        with self.lock:
            if self.storm_429 > 0:
                self.storm_429 -= 1
                return Response(429, errors("QuotaExceeded", "You exceeded your quota for the requested resource."))
            if self.rate_limit and not self._take(op):
                self.throttled[op] = self.throttled.get(op, 0) + 1
                return Response(429, errors("QuotaExceeded", "You exceeded your quota for the requested resource."))
            token = req.headers.get("x-amz-access-token") or ""
            expiry = self.tokens.get(token)
            if expiry is None or expiry <= self.clock():
                details = "The access token you provided has expired." if token.startswith("Atza|") else ""
                return Response(403, errors("Unauthorized", "Access to requested resource is denied.", details))
        return None

    def decorate(self, req: Request, resp: Response) -> None:
        if resp.headers and not resp.headers.get("Retry-After", "x"):
            resp.headers = {k: v for k, v in resp.headers.items() if k != "Retry-After"}  # Amazon sends none
        op = self.operation(req)
        if op != "token" and resp.status != 429:
            resp.headers = dict(resp.headers or {})
            resp.headers["x-amzn-RateLimit-Limit"] = f"{LIMITS[op][0] * self.time_scale:g}"
            resp.headers["x-amzn-RequestId"] = f"{self.rng.getrandbits(64):016x}"

    def _token(self, req: Request) -> Response:
        form = dict(parse_qsl(req.body.decode("utf-8"), keep_blank_values=True))
        if form.get("grant_type") != "refresh_token":
            return Response(400, {"error": "unsupported_grant_type", "error_description": "The authorization grant type is not supported"})
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return Response(401, {"error": "invalid_client", "error_description": "Client authentication failed"})
        if form.get("refresh_token") != self.refresh_token:
            return Response(400, {"error": "invalid_grant", "error_description": "The request has an invalid grant parameter : refresh_token"})
        token = "Atza|" + secrets.token_urlsafe(24)
        self.tokens[token] = self.clock() + TOKEN_LIFE_S
        self.grants += 1
        return Response(200, {"access_token": token, "refresh_token": self.refresh_token, "token_type": "bearer", "expires_in": TOKEN_LIFE_S})

    def _order(self, oid: str) -> dict:
        order = self.orders.get(oid)
        if order is None:
            raise HttpError(404, errors("NotFound", f"Order {oid} was not found."))
        return order

    # -- orders -----------------------------------------------------------------------------------

    def _get_orders(self, req: Request) -> Response:
        q = req.query
        if not q.get("MarketplaceIds"):
            raise HttpError(400, errors("InvalidInput", "Missing required 'MarketplaceIds'."))
        if self.marketplace_id not in q["MarketplaceIds"].split(","):
            raise HttpError(400, errors("InvalidInput", f"Invalid Input: MarketplaceIds {q['MarketplaceIds']!r}."))
        if "NextToken" in q:
            state = self._untoken(q["NextToken"])
        else:
            if q.get("LastUpdatedAfter") and q.get("CreatedAfter"):
                raise HttpError(400, errors("InvalidInput", "Exactly one of CreatedAfter and LastUpdatedAfter must be specified."))
            if not q.get("LastUpdatedAfter") and not q.get("CreatedAfter"):
                raise HttpError(400, errors("InvalidInput", "Exactly one of CreatedAfter and LastUpdatedAfter must be specified."))
            try:
                size = int(q.get("MaxResultsPerPage", "100"))
            except ValueError:
                size = 0
            if not 1 <= size <= 100:
                raise HttpError(400, errors("InvalidInput", "MaxResultsPerPage must be between 1 and 100."))
            latest = self.now() - DELAY
            field = "LastUpdateDate" if q.get("LastUpdatedAfter") else "PurchaseDate"
            try:
                after = parse_time(q.get("LastUpdatedAfter") or q["CreatedAfter"])
            except ValueError:
                raise HttpError(400, errors("InvalidInput", "The date is not in ISO 8601 format.")) from None
            if after > latest:
                raise HttpError(400, errors("InvalidInput", "Date is later than expected. LastUpdatedAfter must be no later than "
                                            "two minutes before the time that the request was submitted."))
            state = {"f": field, "a": iso(after), "b": iso(latest), "k": None, "n": size, "e": self._token_epoch}
        rows = sorted((when, oid) for oid, o in self.orders.items() if state["a"] <= (when := _norm(o[state["f"]])) <= state["b"])
        if state["k"] is not None:
            rows = [r for r in rows if r > tuple(state["k"])]
        page = rows[: state["n"]]
        payload: dict[str, Any] = {"Orders": [self.orders[oid] for _k, oid in page]}
        if state["f"] == "LastUpdateDate":
            payload["LastUpdatedBefore"] = state["b"]
        else:
            payload["CreatedBefore"] = state["b"]
        if len(rows) > len(page):
            payload["NextToken"] = self._tokenize({**state, "k": list(page[-1]), "e": self._token_epoch})
            if self.change_between_pages > 0 and page:
                self.change_between_pages -= 1
                victim = self.orders[page[0][1]]
                victim["ShippingAddress"] = {**victim.get("ShippingAddress", {}), "AddressLine2": "Gate code 4711"}
                victim["LastUpdateDate"] = iso(self.now())
        body = {"payload": copy.deepcopy(payload)}
        return Response(200, body)

    def _tokenize(self, state: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode()

    def _untoken(self, token: str) -> dict:
        try:
            state = json.loads(base64.urlsafe_b64decode(token.encode()))
        except (ValueError, json.JSONDecodeError):
            raise HttpError(400, errors("InvalidInput", "Invalid NextToken.")) from None
        if self.expire_next_tokens and state.get("e") == self._token_epoch:
            self._token_epoch += 1
            self.expire_next_tokens = False
        if state.get("e") != self._token_epoch:
            raise HttpError(400, errors("InvalidInput", "The NextToken has expired. Request the first page again."))
        return state

    def _get_order_items(self, req: Request) -> dict:
        oid = req.match["id"]
        self._order(oid)
        items = self.items.get(oid, [])
        start = 0
        if "NextToken" in req.query:
            try:
                start = int(base64.urlsafe_b64decode(req.query["NextToken"].encode()).decode().split(":")[1])
            except (ValueError, IndexError):
                raise HttpError(400, errors("InvalidInput", "Invalid NextToken.")) from None
        page = items[start: start + self.item_page_size]
        payload: dict[str, Any] = {"OrderItems": copy.deepcopy(page), "AmazonOrderId": oid}
        if start + len(page) < len(items):
            payload["NextToken"] = base64.urlsafe_b64encode(f"{oid}:{start + len(page)}".encode()).decode()
        return {"payload": payload}

    def _confirm_shipment(self, req: Request) -> Response:
        order = self._order(req.match["id"])
        body = req.json()
        pkg = body.get("packageDetail") if isinstance(body, dict) else None
        if not isinstance(pkg, dict) or body.get("marketplaceId") != self.marketplace_id:
            raise HttpError(400, errors("InvalidInput", "marketplaceId and packageDetail are required."))
        missing = [k for k in ("packageReferenceId", "carrierCode", "trackingNumber", "shipDate", "orderItems") if not pkg.get(k)]
        if missing:
            raise HttpError(400, errors("InvalidInput", f"Missing required field(s): {', '.join(missing)}."))
        if pkg["carrierCode"] == "Other" and not pkg.get("carrierName"):
            raise HttpError(400, errors("InvalidInput", "carrierName is required when carrierCode is Other."))
        if not str(pkg["packageReferenceId"]).isdigit():
            raise HttpError(400, errors("InvalidInput", "packageReferenceId must be a positive number."))
        if order.get("OrderStatus") in ("Canceled", "Pending") or order.get("FulfillmentChannel") == "AFN":
            raise HttpError(400, errors("InvalidInput", f"The order is {order.get('OrderStatus')}; it cannot be confirmed."))
        done = self.packages.setdefault(order["AmazonOrderId"], [])
        if any(p["packageReferenceId"] == str(pkg["packageReferenceId"]) for p in done):
            raise HttpError(400, errors("InvalidInput", f"Package {pkg['packageReferenceId']} has already been confirmed for this order."))
        items = {i["OrderItemId"]: i for i in self.items.get(order["AmazonOrderId"], [])}
        for it in pkg["orderItems"]:
            item = items.get(str(it.get("orderItemId")))
            qty = it.get("quantity")
            if item is None or not isinstance(qty, int) or qty < 1 or item["QuantityShipped"] + qty > item["QuantityOrdered"]:
                raise HttpError(400, errors("InvalidInput", f"Invalid order item {it.get('orderItemId')} or quantity {qty!r}."))
        for it in pkg["orderItems"]:
            items[str(it["orderItemId"])]["QuantityShipped"] += it["quantity"]
        done.append({**copy.deepcopy(pkg), "packageReferenceId": str(pkg["packageReferenceId"])})
        shipped = sum(i["QuantityShipped"] for i in items.values())
        ordered = sum(i["QuantityOrdered"] for i in items.values())
        order["NumberOfItemsShipped"], order["NumberOfItemsUnshipped"] = shipped, ordered - shipped
        order["OrderStatus"] = "Shipped" if shipped >= ordered else "PartiallyShipped"
        order["LastUpdateDate"] = iso(self.now())
        return Response(204, None)

    def _patch_listing(self, req: Request) -> dict:
        body = req.json()
        if not req.query.get("marketplaceIds"):
            raise HttpError(400, errors("InvalidInput", "Missing required 'marketplaceIds'."))
        patches = body.get("patches") if isinstance(body, dict) else None
        if not isinstance(patches, list) or not body.get("productType"):
            raise HttpError(400, errors("InvalidInput", "productType and patches are required."))
        sku = unquote(req.match["sku"])
        issues = self._apply_patches(sku, patches)
        if issues:
            return {"sku": sku, "status": "INVALID", "submissionId": secrets.token_hex(16), "issues": issues}
        return {"sku": sku, "status": "ACCEPTED", "submissionId": secrets.token_hex(16), "issues": []}

    def _apply_patches(self, sku: str, patches: Any) -> list[dict]:
        """Apply a listing's patches; the issues (ERROR) when it cannot, with nothing changed."""
        if sku not in self.listing_skus:
            return [{"code": "4000004", "message": f"The SKU '{sku}' is not listed by this seller in this marketplace.",
                     "severity": "ERROR", "categories": []}]
        if not isinstance(patches, list) or not patches or not all(isinstance(p, dict) for p in patches):
            return [{"code": "4000001", "message": "The patches are missing or not a list of patch operations.",
                     "severity": "ERROR", "categories": ["INVALID_ATTRIBUTE"]}]
        for p in patches:
            if p.get("path") == "/attributes/fulfillment_availability" and p.get("op") in ("replace", "merge"):
                value = p.get("value")
                if not isinstance(value, list) or not all(isinstance(v, dict) and isinstance(v.get("quantity"), int)
                                                          and v["quantity"] >= 0 for v in value):
                    return [{"code": "4000001", "message": "fulfillment_availability needs a whole quantity of 0 or more.",
                             "severity": "ERROR", "attributeNames": ["fulfillment_availability"], "categories": ["INVALID_ATTRIBUTE"]}]
        for p in patches:
            if p.get("path") == "/attributes/fulfillment_availability" and p.get("op") in ("replace", "merge"):
                self.listings[sku] = copy.deepcopy(p.get("value"))
                self.applied[sku] = self.applied.get(sku, 0) + 1
        return []

    # -- feeds ------------------------------------------------------------------------------------

    def _create_feed_document(self, req: Request) -> Response:
        body = req.json()
        if not isinstance(body, dict) or not isinstance(body.get("contentType"), str) or not body["contentType"]:
            raise HttpError(400, errors("InvalidInput", "contentType is required."))
        doc_id = f"amzn1.tortuga.4.na.{secrets.token_hex(16)}"
        signature = secrets.token_hex(20)
        self.documents[doc_id] = {"content_type": body["contentType"], "body": None, "signature": signature, "result": False}
        return Response(201, {"feedDocumentId": doc_id, "url": self._document_url(doc_id, signature)})

    def _document_url(self, doc_id: str, signature: str) -> str:
        return f"{self.url}/feed-documents/{doc_id}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=300&X-Amz-Signature={signature}"

    def _document(self, req: Request) -> dict:
        doc = self.documents.get(req.match["id"])
        if doc is None or req.query.get("X-Amz-Signature") != doc["signature"]:
            raise HttpError(403, "<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated "
                                 "does not match the signature you provided.</Message></Error>")
        return doc

    def _upload_document(self, req: Request) -> Response:
        doc = self._document(req)
        if doc["result"]:
            raise HttpError(403, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>")
        if (req.headers.get("Content-Type") or "").replace(" ", "").lower() != doc["content_type"].replace(" ", "").lower():
            raise HttpError(403, "<Error><Code>SignatureDoesNotMatch</Code><Message>The Content-Type is not the one the URL "
                                 "was signed for.</Message></Error>")
        doc["body"] = req.body
        return Response(200, None, content_type="application/xml")

    def _download_document(self, req: Request) -> Response:
        doc = self._document(req)
        if doc["body"] is None:
            raise HttpError(404, "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>")
        return Response(200, doc["body"], content_type=doc["content_type"], faultable=False)

    def _create_feed(self, req: Request) -> Response:
        body = req.json()
        if not isinstance(body, dict):
            raise HttpError(400, errors("InvalidInput", "Invalid input"))
        if body.get("feedType") not in FEED_TYPES:
            raise HttpError(400, errors("InvalidInput", f"Invalid feedType {body.get('feedType')!r}; this emulator takes {', '.join(FEED_TYPES)}."))
        ids = body.get("marketplaceIds")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 25 or self.marketplace_id not in ids:
            raise HttpError(400, errors("InvalidInput", "marketplaceIds must list 1 to 25 marketplaces, yours among them."))
        doc = self.documents.get(str(body.get("inputFeedDocumentId") or ""))
        if doc is None or doc["result"] or doc["body"] is None:
            raise HttpError(400, errors("InvalidInput", "Invalid input", "inputFeedDocumentId is unknown or its contents were not uploaded."))
        feed_id = str(50_000_000_000 + len(self.feeds) + 1)
        self.feeds[feed_id] = {"feedId": feed_id, "feedType": body["feedType"], "marketplaceIds": list(ids),
                               "createdTime": iso(self.now()), "processingStatus": "IN_QUEUE",
                               "_doc": body["inputFeedDocumentId"], "_at": self.clock(), "_fatal": self.fatal_feeds > 0}
        if self.fatal_feeds > 0:
            self.fatal_feeds -= 1
        return Response(202, {"feedId": feed_id})

    def _get_feed(self, req: Request) -> dict:
        feed = self.feeds.get(req.match["id"])
        if feed is None:
            raise HttpError(404, errors("NotFound", f"Feed {req.match['id']} was not found."))
        self._advance(feed)
        return {k: v for k, v in feed.items() if not k.startswith("_")}

    def _get_feed_document(self, req: Request) -> dict:
        doc = self.documents.get(req.match["id"])
        if doc is None:
            raise HttpError(404, errors("NotFound", f"Document {req.match['id']} was not found."))
        answer = {"feedDocumentId": req.match["id"], "url": self._document_url(req.match["id"], doc["signature"])}
        if doc["result"]:
            answer["compressionAlgorithm"] = "GZIP"
        return answer

    def _advance(self, feed: dict) -> None:
        """Move a feed on by the emulator's clock: in the queue, processing, then done (or FATAL)."""
        if feed["processingStatus"] not in ("IN_QUEUE", "IN_PROGRESS"):
            return
        waited = (self.clock() - feed["_at"]) * self.time_scale
        if waited < self.feed_queue_s:
            return
        feed.setdefault("processingStartTime", iso(self.now()))
        feed["processingStatus"] = "IN_PROGRESS"
        if waited < self.feed_queue_s + self.feed_process_s:
            return
        report = self._process(feed)
        result_id = f"amzn1.tortuga.4.na.{secrets.token_hex(16)}"
        self.documents[result_id] = {"content_type": "application/json; charset=UTF-8", "signature": secrets.token_hex(20),
                                     "result": True, "body": gzip.compress(json.dumps(report).encode("utf-8"))}
        feed.update(processingStatus="FATAL" if feed["_fatal"] else "DONE", processingEndTime=iso(self.now()),
                    resultFeedDocumentId=result_id)

    def _process(self, feed: dict) -> dict:
        """Apply a JSON_LISTINGS_FEED document; its processing report."""
        try:
            doc = json.loads(self.documents[feed["_doc"]]["body"].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            doc = None
        header = doc.get("header") if isinstance(doc, dict) else None
        messages = doc.get("messages") if isinstance(doc, dict) else None
        report_header = {"sellerId": (header or {}).get("sellerId", ""), "version": "2.0", "feedId": feed["feedId"]}
        if feed["_fatal"] or not isinstance(header, dict) or not header.get("sellerId") or not isinstance(messages, list):
            why = ("An internal error stopped the feed's processing; resubmit it." if feed["_fatal"]
                   else "The feed document is not a JSON_LISTINGS_FEED with a header (sellerId) and messages.")
            return {"header": report_header, "issues": [{"code": "4000000", "severity": "ERROR", "message": why}],
                    "summary": {"errors": 1, "warnings": 0, "messagesProcessed": 0, "messagesAccepted": 0, "messagesInvalid": 0}}
        issues: list[dict] = []
        accepted = invalid = 0
        for m in messages:
            mid = m.get("messageId") if isinstance(m, dict) else None
            if not isinstance(mid, int) or not isinstance(m.get("sku"), str) or m.get("operationType") not in ("PATCH", "UPDATE", "DELETE", "PARTIAL_UPDATE"):
                found = [{"code": "4000001", "severity": "ERROR",
                          "message": "The message needs a messageId (a number), a sku and an operationType."}]
            elif m["operationType"] != "PATCH":
                found = [{"code": "4000001", "severity": "ERROR", "message": f"This emulator only applies PATCH messages, not {m['operationType']}."}]
            elif not m.get("productType"):
                found = [{"code": "4000001", "severity": "ERROR", "message": "productType is required for PATCH."}]
            else:
                found = self._apply_patches(m["sku"], m.get("patches"))
            for issue in found:
                issues.append({"messageId": mid, **{k: v for k, v in issue.items() if k != "categories"}})
            if found:
                invalid += 1
            else:
                accepted += 1
        return {"header": report_header, "issues": issues,
                "summary": {"errors": len(issues), "warnings": 0, "messagesProcessed": len(messages),
                            "messagesAccepted": accepted, "messagesInvalid": invalid}}


def _norm(value: str) -> str:
    return iso(parse_time(value))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m sync.emulators.amazon", description="Amazon SP-API (Orders, Listings, LWA) emulator on loopback.")
    p.add_argument("--port", type=int, default=8804)
    p.add_argument("--orders-from", metavar="DIR", help="seed from SP-API JSON files (getOrder, getOrders, getOrderItems answers)")
    p.add_argument("--seed-orders", type=int, default=25, help="generated orders when --orders-from is not given")
    p.add_argument("--listings", type=int, default=0, metavar="N", help="also list N generated SKUs (P00001, P00002, …)")
    p.add_argument("--faults", action="store_true", help="misbehave: 429 storms, 5xx, expired tokens, short item pages, changes between pages")
    p.add_argument("--time-scale", type=float, default=1.0, metavar="N", help="run the rate limits N times faster")
    p.add_argument("--client-id", default="amzn1.application-oa2-client.test")
    p.add_argument("--client-secret", default="amzn1.oa2-cs.v1.test")
    p.add_argument("--refresh-token", default="Atzr|test")
    p.add_argument("--demo-every", type=float, default=0, metavar="SECONDS")
    p.add_argument("--state", metavar="FILE")
    args = p.parse_args(argv)
    emu = AmazonEmulator(port=args.port, client_id=args.client_id, client_secret=args.client_secret,
                         refresh_token=args.refresh_token, time_scale=args.time_scale, state_file=args.state,
                         faults=Faults(rate_5xx=0.05, rate_429=0.03, retry_after="") if args.faults else None)
    if args.faults:
        emu.item_page_size, emu.change_between_pages = 1, 10**9
    if emu.load():
        print(f"loaded {len(emu.orders)} orders from {args.state}")
    elif args.orders_from:
        print(f"loaded {emu.load_dir(args.orders_from)} orders from {args.orders_from}")
    else:
        emu.seed_orders(args.seed_orders)
    emu.add_listing(*(f"P{n:05d}" for n in range(1, args.listings + 1)))
    if args.demo_every:
        emu.start_demo(args.demo_every)
    print(f"endpoint for the Amazon connection: http://127.0.0.1:{args.port}  (LWA at /auth/o2/token; "
          f"secret: client id, client secret and refresh token separated by spaces)")
    emu.serve_forever()


if __name__ == "__main__":
    main()
