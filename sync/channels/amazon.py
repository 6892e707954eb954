"""Amazon (Selling Partner API) as a sales channel: orders in through Orders v0, shipment confirmations and
merchant-fulfilled stock out.

Decisions worth knowing:

* The connection's one secret is three words: the LWA client id, client secret and refresh token, separated by
  spaces (all three in the keyring). A refresh-token grant gives an access token for ``expires_in`` seconds;
  it is cached until a minute before then and sent as ``x-amz-access-token``. A 401/403 refreshes it once;
  a grant Amazon refuses is said as a refused token (the Sync screen says to replace it), never as offline.
* The endpoint (the connection's address) names the region: ``sellingpartnerapi-na|eu|fe.amazon.com``;
  the marketplace ids are the connection's ``marketplace_ids`` option, else the region's main marketplace.
  The LWA host is ``lwa_url``, else Amazon's; an endpoint on this machine (the emulator) serves both.
* Rate limits: each operation has its own token bucket with the documented rate and burst, drawn before every
  request, retries included, so no more is ever sent than the bucket allows. A response's
  ``x-amzn-RateLimit-Limit`` updates the rate (a 429 has no such header; the bucket does not need it).
  A 429 empties the bucket and backs off. ``requests`` through our ``HttpClient`` rather than the
  ``python-amazon-sp-api`` package: that one sleeps on 429 inside its calls, keeps no bucket per operation,
  and would bypass our error wording.
* Pull: ``getOrders`` by ``LastUpdatedAfter`` (never with ``CreatedAfter``), then ``NextToken`` pages; the
  cursor is the answer's ``LastUpdatedBefore`` (about two minutes behind Amazon's clock), stored with the last
  page it covers. Mid-pass the cursor keeps the ``NextToken``; a token Amazon no longer takes starts the pass
  again from its ``LastUpdatedAfter`` (re-reading is harmless: import is idempotent). Items come from
  ``getOrderItems`` per order, following its own ``NextToken``.
* Statuses: ``Unshipped`` and ``PartiallyShipped`` are work; ``Pending`` (payment not authorised) is held,
  not reserved, until it becomes ``Unshipped``; ``Canceled`` is a cancellation; orders fulfilled by Amazon
  (``AFN``) are shown held as fulfilled by Amazon and never routed or reserved. ``LatestShipDate`` is the
  ship-by promise, ``LatestDeliveryDate`` the deliver-by one. Routing rules match Amazon orders by their
  channel, their order type (``marketplace``) and service level, which a Prime order raises to at least
  ``expedited``, and by order tag: ``prime`` for ``IsPrime``, ``business`` for ``IsBusinessOrder``.
* Push: ``confirmShipment`` once per package (``packageReferenceId`` is our shipment id; Amazon refusing a
  package it already has means it was confirmed by an earlier try). Stock of a SKU goes through
  ``patchListingsItem`` (``fulfillment_availability``) less the connection's ``stock_buffer``.
* Many stock levels at once (more than ``feed_threshold``, 50 unless the connection says otherwise, after the
  engine's coalescing) go as one ``JSON_LISTINGS_FEED`` (Feeds 2021-06-30): ``createFeedDocument``, the
  document uploaded to the presigned URL, ``createFeed``, ``getFeed`` until ``DONE``/``FATAL``/``CANCELLED``,
  then the processing report through ``getFeedDocument`` (gunzipped when Amazon says ``GZIP``): a message with
  an ``ERROR`` issue (an unknown SKU) is failed with Amazon's words, the others are sent. Exactly once: the
  feed id is written against its messages (``IN_FLIGHT``, through the engine's ``remember``) before the first
  poll, so a station killed while Amazon processes resumes polling that feed on the next pass and never
  submits it again; a newer level of the same SKU waits until that feed is done. Polling stops after
  ``feed_wait_s`` and the messages wait for the next pass. A feed that ends ``FATAL`` or ``CANCELLED``, or that
  Amazon no longer knows, is submitted again (the levels are absolute, so applying one twice changes nothing).
  The only gap: a ``createFeed`` whose answer is lost (the station killed in that instant) is submitted again.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable, Mapping
from urllib.parse import quote, urlsplit

from oms.core import money
from oms.core.errors import InvalidInput
from oms.core.i18n import _, ngettext
from oms.orders.contract import Address, NormalizedLine, NormalizedOrder, check_order

from ..base import (IN_FLIGHT, Cancellation, CredentialsRefused, Offline, OutboundMessage, Outcome, PermanentError, PullPage,
                    Quarantine, RemoteError)
from ..emulators.amazon import AmazonEmulator
from ..http import HttpClient
from ..registry import ConnectorSpec, Setting, whole_number, words_list

log = logging.getLogger(__name__)

# operation: (requests per second, burst), from the models' usage plans
RATES = {"getOrders": (0.0167, 20), "getOrderItems": (0.5, 30), "confirmShipment": (2.0, 10), "patchListingsItem": (5.0, 5),
         "createFeedDocument": (0.5, 15), "createFeed": (0.0083, 15), "getFeed": (2.0, 15), "getFeedDocument": (0.0222, 10)}
FEEDS = "feeds/2021-06-30"
FEED_CONTENT_TYPE = "application/json; charset=UTF-8"
FEED_THRESHOLD = 50  # more stock levels than this in one pass go as one feed
SAFETY = 0.98  # draw a little under the advertised rate: our clock and Amazon's do not tick together
REGIONS = {"na": "ATVPDKIKX0DER", "eu": "A1F83G8C2ARO7P", "fe": "A1VC38T7YXB528"}
LWA_URL = "https://api.amazon.com/auth/o2/token"
# A Pending order has no total yet and its items may have no price: the marketplace says the currency.
CURRENCIES = {"ATVPDKIKX0DER": "USD", "A2EUQ1WTGCTBG2": "CAD", "A1AM78C64UM0Y8": "MXN", "A2Q3Y263D00KWC": "BRL",
              "A1F83G8C2ARO7P": "GBP", "A1PA6795UKMFR9": "EUR", "A13V1IB3VIYZZH": "EUR", "APJ6JRA9NG5V4": "EUR",
              "A1RKKUPIHCS9HS": "EUR", "A1805IZSGTT6HS": "EUR", "A1VC38T7YXB528": "JPY", "A39IBJ37TRP1C6": "AUD"}
CARRIERS = {"usps": "USPS", "ups": "UPS", "fedex": "FedEx", "dhl": "DHL", "amazon shipping": "Amazon Shipping",
            "ontrac": "OnTrac", "canada post": "Canada Post", "royal mail": "Royal Mail"}
LEVELS = {"Expedited": "expedited", "Priority": "expedited", "NextDay": "overnight", "SameDay": "overnight"}
WAITING = {"Pending": "Pending: payment not authorised yet", "PendingAvailability": "pre-order, not yet available",
           "Unfulfillable": "unfulfillable", "InvoiceUnconfirmed": "invoice not confirmed"}


class Unreadable(ValueError):
    """An Amazon order we cannot turn into ours; the message is shown to a person."""


class TokenBucket:
    """A client-side token bucket: ``take()`` waits (with the given sleep) until a request may go."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float], sleep: Callable[[float], None]):
        self.rate, self.burst = rate, burst
        self.clock, self.sleep = clock, sleep
        self.tokens = float(burst)
        self.at = clock()
        self.waited = 0.0
        self.until = 0.0  # while waiting: when the next request may go (on ``clock``)

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.burst, self.tokens + max(0.0, now - self.at) * self.rate * SAFETY)
        self.at = now

    def wait_time(self) -> float:
        self._refill()
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / (self.rate * SAFETY)

    def take(self) -> float:
        wait = self.wait_time()
        if wait > 0:
            self.until = self.clock() + wait
            self.sleep(wait)
            self.waited += wait
            self._refill()
        self.tokens = max(0.0, self.tokens - 1)
        return wait

    def empty(self) -> None:
        self._refill()
        self.tokens = 0.0


def split_secret(secret: str) -> tuple[str, str, str]:
    parts = (secret or "").split()
    if len(parts) != 3:
        raise InvalidInput(_("Give the Amazon keys as client id, client secret and refresh token, separated by spaces."))
    return parts[0], parts[1], parts[2]


def region_of(endpoint: str) -> str:
    host = urlsplit(endpoint).hostname or ""
    for region in REGIONS:
        if f"-{region}." in host:
            return region
    return "na"


@dataclass
class _Token:
    value: str
    expires: float


class AmazonChannel:
    """``ChannelConnector`` for one Amazon seller account.

    Cursor (opaque to the engine, JSON): ``{"after": LastUpdatedAfter}`` between passes; mid-pass also
    ``"next"`` (the NextToken) and ``"before"`` (the first page's LastUpdatedBefore).
    """

    def __init__(self, code: str, endpoint: str, secret: str, *, marketplace_ids: list[str] | None = None,
                 lwa_url: str | None = None, seller_id: str = "", stock_buffer: int = 0,
                 location_map: Mapping[str, Any] | None = None, feed_threshold: int = FEED_THRESHOLD,
                 feed_poll_s: float = 30.0, feed_wait_s: float = 60.0,
                 start_at: datetime | None = None, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, rng: random.Random | None = None,
                 max_attempts: int = 8, timeout: float | tuple[float, float] = (3.05, 30), session=None):
        self.code = code
        self.endpoint = endpoint.rstrip("/")
        self.problem = ""
        try:
            self.client_id, self.client_secret, self.refresh_token = split_secret(secret)
        except InvalidInput as exc:
            self.problem = str(exc)
            self.client_id = self.client_secret = self.refresh_token = ""
        self.marketplace_ids = list(marketplace_ids or [REGIONS[region_of(endpoint)]])
        host = urlsplit(self.endpoint).hostname or ""
        self.lwa_url = lwa_url or (f"{self.endpoint}/auth/o2/token" if host in ("127.0.0.1", "localhost", "::1") else LWA_URL)
        self.seller_id = seller_id
        self.stock_buffer = max(0, int(stock_buffer or 0))
        self.feed_threshold = max(0, int(feed_threshold))
        self.feed_poll_s, self.feed_wait_s = max(0.0, feed_poll_s), max(0.0, feed_wait_s)
        self.feeds = 0  # feeds submitted by this connector (for the tests and the bench)
        self.start_at = start_at
        self.clock, self.sleep = clock, sleep
        self.rng = rng or random.Random()
        self.max_attempts = max(1, max_attempts)
        # One attempt per HttpClient call: every retry goes back through our buckets.
        self.client = HttpClient(self.endpoint, timeout=timeout, max_attempts=1, sleep=sleep, rng=self.rng, session=session)
        self.buckets = {op: TokenBucket(rate, burst, clock, sleep) for op, (rate, burst) in RATES.items()}
        self.throttled = 0  # 429s we were answered
        self.requests = 0
        self._token: _Token | None = None
        # Our locations whose stock Amazon is told (the engine queues their levels); Amazon keeps one figure per
        # merchant-fulfilled SKU, so the first location is the one told.
        self.location_map: dict[str, Any] = dict(location_map or {})
        self._to_go = 0  # orders of the page in hand whose items are still to be read
        self._feed_in_hand, self._feed_levels = "", 0  # the feed being polled, and how many levels it carries

    # -- login and calls --------------------------------------------------------------------------

    def access_token(self) -> str:
        if self._token and self.clock() < self._token.expires:
            return self._token.value
        form = {"grant_type": "refresh_token", "refresh_token": self.refresh_token, "client_id": self.client_id,
                "client_secret": self.client_secret}
        try:
            reply = self.client.request("POST", self.lwa_url, form=form, idempotent=True)
        except CredentialsRefused as exc:
            raise CredentialsRefused(f"Amazon refused the client id or secret: {exc}", status=exc.status) from None
        except PermanentError as exc:
            raise CredentialsRefused(f"Amazon refused the refresh token: {exc}", status=exc.status) from None
        data = reply.data if isinstance(reply.data, dict) else {}
        if not data.get("access_token"):
            raise RemoteError("Login with Amazon answered without an access token", status=reply.status)
        life = float(data.get("expires_in") or 3600)
        self._token = _Token(str(data["access_token"]), self.clock() + max(0.0, life - 60))
        return self._token.value

    def call(self, op: str, method: str, path: str, *, params: Mapping[str, Any] | None = None, json_body: Any = None):
        """One SP-API operation: its bucket first, the access token, one refresh on 401/403, back-off on 429."""
        if self.problem:
            raise CredentialsRefused(f"{self.code}: {self.problem}")
        # A second document or an answer read again changes nothing; a second createFeed would be a second feed.
        idempotent = method == "GET" or op in ("patchListingsItem", "createFeedDocument")
        refreshed = False
        last: RemoteError | None = None
        for attempt in range(1, self.max_attempts + 1):
            self.buckets[op].take()
            token = self.access_token()
            self.requests += 1
            try:
                reply = self.client.request(method, path, params=params, json_body=json_body, idempotent=idempotent,
                                            headers={"x-amz-access-token": token})
            except CredentialsRefused:
                if refreshed:
                    raise
                refreshed, self._token = True, None  # expired or revoked: one new token, then believe the refusal
                continue
            except RemoteError as exc:
                last = exc
                if exc.status == 429:
                    self.throttled += 1
                    self.buckets[op].empty()
                    log.info("%s: %s throttled (429); backing off", self.code, op)
                elif not exc.retryable or not idempotent:
                    raise  # a POST that may have reached Amazon: the outbox sends it again, and Amazon refuses a repeat
                if attempt == self.max_attempts:
                    raise
                self.sleep(self.rng.uniform(0, min(30.0, 0.5 * 2 ** (attempt - 1))))
                continue
            limit = reply.headers.get("x-amzn-RateLimit-Limit")
            if limit:
                try:
                    self.buckets[op].rate = max(1e-4, float(limit))
                except ValueError:
                    pass
            return reply
        raise last or RemoteError(f"{op}: gave up")

    def progress(self) -> str:
        """What a pass in hand is waiting for, in words for the Sync screen ("next request in 12 s, 34 orders to
        go"); empty between passes. Read from another thread: only plain numbers are looked at."""
        feed, levels = self._feed_in_hand, self._feed_levels
        if feed and levels:
            return ngettext("Amazon is processing feed {feed} ({n} stock level)", "Amazon is processing feed {feed} ({n} stock levels)",
                            levels).format(feed=feed, n=levels)
        to_go = self._to_go
        if not to_go:
            return ""
        wait = max(0.0, max(b.until for b in self.buckets.values()) - self.clock())
        words = ngettext("{n} order to go", "{n} orders to go", to_go).format(n=to_go)
        return (_("next request in {s} s").format(s=math.ceil(wait)) + ", " + words) if wait >= 1 else words

    # -- pull -----------------------------------------------------------------------------------

    def check_connection(self) -> str:
        """A cheap call that proves the keys and the endpoint: a token from Login with Amazon, then one getOrders
        call (one of its burst) for the last day's orders of the connection's marketplaces."""
        since = datetime.fromtimestamp(self.clock(), timezone.utc) - timedelta(days=1)
        data = self.call("getOrders", "GET", "orders/v0/orders", params={
            "MarketplaceIds": ",".join(self.marketplace_ids), "CreatedAfter": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "MaxResultsPerPage": 1}).data
        more = _(" and more") if (data or {}).get("payload", {}).get("NextToken") else ""
        n = len((data or {}).get("payload", {}).get("Orders", []))
        return _("Amazon accepted the keys; marketplaces {ids}; {n}{more} orders in the last day.").format(
            ids=", ".join(self.marketplace_ids), n=n, more=more)

    def pull_orders(self, cursor: str | None) -> PullPage:
        state = _read_cursor(cursor)
        after = state.get("after") or _iso(self.start_at or datetime.now(timezone.utc) - timedelta(days=7))
        marketplaces = ",".join(self.marketplace_ids)
        first = {"LastUpdatedAfter": after, "MarketplaceIds": marketplaces, "MaxResultsPerPage": 100}
        if state.get("next"):
            try:
                reply = self.call("getOrders", "GET", "orders/v0/orders", params={"NextToken": state["next"], "MarketplaceIds": marketplaces})
            except PermanentError as exc:
                if exc.status != 400:
                    raise
                log.warning("%s: NextToken refused (%s); the pass starts again from %s", self.code, exc, after)
                state = {"after": after}
                reply = self.call("getOrders", "GET", "orders/v0/orders", params=first)
        else:
            reply = self.call("getOrders", "GET", "orders/v0/orders", params=first)
        payload = reply.data.get("payload") if isinstance(reply.data, dict) else None
        if not isinstance(payload, dict) or not isinstance(payload.get("Orders"), list):
            raise RemoteError(f"{self.code}: Amazon's getOrders answer has no payload.Orders list", retryable=True)
        before = payload.get("LastUpdatedBefore") or state.get("before")
        orders, cancellations, quarantined = [], [], []
        try:
            self._map_page(payload["Orders"], orders, cancellations, quarantined)
        finally:
            self._to_go = 0
        if payload.get("NextToken"):
            nxt = {"after": after, "before": before, "next": payload["NextToken"]}
            return PullPage(orders, cancellations, quarantined, json.dumps(nxt), done=False)
        # The next pass starts where Amazon says this one's view ended; without its word, where this one started.
        return PullPage(orders, cancellations, quarantined, json.dumps({"after": before or after}), done=True)

    def _map_page(self, raws: list, orders: list, cancellations: list, quarantined: list) -> None:
        """Each order of a getOrders page with its items, mapped; what cannot be read is quarantined with the reason."""
        for n, raw in enumerate(raws):
            self._to_go = len(raws) - n
            ref = raw.get("AmazonOrderId") if isinstance(raw, dict) else None
            items: list[dict] | None = None
            try:
                if not isinstance(ref, str) or not ref:
                    raise Unreadable("The order has no AmazonOrderId.")
                items = self.order_items(ref)
                order, cancel = self.map_order(raw, items)
            except CredentialsRefused:
                raise  # nothing more can be read: the whole pass stops and says so
            except PermanentError as exc:  # Amazon will not give this order's items: keep the order with the reason
                quarantined.append(Quarantine(str(ref or "(no id)"), json.dumps(raw, ensure_ascii=False), str(exc)))
                continue
            except (Unreadable, InvalidInput) as exc:
                quarantined.append(Quarantine(str(ref or "(no id)"), json.dumps({"Order": raw, "OrderItems": items},
                                                                                 ensure_ascii=False), str(exc)))
                continue
            orders.append(order)
            if cancel:
                cancellations.append(cancel)

    def order_items(self, order_id: str) -> list[dict]:
        items: list[dict] = []
        params: dict[str, Any] = {}
        while True:
            reply = self.call("getOrderItems", "GET", f"orders/v0/orders/{quote(order_id)}/orderItems", params=params or None)
            payload = reply.data.get("payload") if isinstance(reply.data, dict) else None
            if not isinstance(payload, dict) or not isinstance(payload.get("OrderItems"), list):
                raise RemoteError(f"{self.code}: getOrderItems for {order_id} has no payload.OrderItems list", retryable=True)
            items += payload["OrderItems"]
            if not payload.get("NextToken"):
                return items
            params = {"NextToken": payload["NextToken"]}

    def parse_raw(self, raw: str) -> PullPage:
        try:
            data = json.loads(raw)
            order, cancel = self.map_order(data["Order"], data["OrderItems"] or [])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            return PullPage([], quarantined=[Quarantine("(no id)", raw, f"The text is not an order with its items: {exc}")])
        except (Unreadable, InvalidInput) as exc:
            return PullPage([], quarantined=[Quarantine(str(data.get("Order", {}).get("AmazonOrderId")), raw, str(exc))])
        return PullPage([order], [cancel] if cancel else [])

    # -- mapping --------------------------------------------------------------------------------

    def map_order(self, o: Any, items: list[dict]) -> tuple[NormalizedOrder, Cancellation | None]:
        if not isinstance(o, dict):
            raise Unreadable("The order is not a JSON object.")
        oid = o.get("AmazonOrderId")
        status = o.get("OrderStatus")
        if not isinstance(status, str):
            raise Unreadable("The order has no OrderStatus.")
        total = o.get("OrderTotal") if isinstance(o.get("OrderTotal"), dict) else None
        currency = (total or {}).get("CurrencyCode") or next(
            (i["ItemPrice"].get("CurrencyCode") for i in items if isinstance(i, dict) and isinstance(i.get("ItemPrice"), dict)),
            CURRENCIES.get(o.get("MarketplaceId")))
        if not isinstance(currency, str):
            raise Unreadable("Neither the order nor its items say the currency.")
        currency = money.check_currency(currency)
        lines = []
        subtotal = shipping = tax = discount = 0
        for n, it in enumerate(items, 1):
            if not isinstance(it, dict) or not it.get("OrderItemId"):
                raise Unreadable(f"Item {n} has no OrderItemId.")
            qty = it.get("QuantityOrdered")
            if not isinstance(qty, int) or isinstance(qty, bool) or qty < 0:
                raise Unreadable(f"Item {n} has quantity {qty!r}, not a whole number.")
            price = _money(it.get("ItemPrice"), currency, f"price of item {n}", default=0)
            subtotal += price
            shipping += _money(it.get("ShippingPrice"), currency, "shipping", default=0) - _money(it.get("ShippingDiscount"), currency, "shipping discount", default=0)
            tax += _money(it.get("ItemTax"), currency, "tax", default=0) + _money(it.get("ShippingTax"), currency, "shipping tax", default=0)
            discount += _money(it.get("PromotionDiscount"), currency, "promotion", default=0)
            if qty == 0:
                continue  # an item the buyer cancelled: nothing to ship of it
            sku = it.get("SellerSKU").strip() if isinstance(it.get("SellerSKU"), str) else ""
            title = it.get("Title").strip() if isinstance(it.get("Title"), str) else ""
            if not sku:
                sku, title = f"AMAZON-ASIN-{it.get('ASIN') or it['OrderItemId']}", f"{title} (no seller SKU on Amazon)".strip()
            unit = int((Decimal(price) / qty).quantize(Decimal(1), ROUND_HALF_UP))
            lines.append(NormalizedLine(str(it["OrderItemId"]), sku, qty, unit, title))
        if not lines:
            raise Unreadable("The order has no items with a quantity.")
        addr = o.get("ShippingAddress") if isinstance(o.get("ShippingAddress"), dict) else {}
        buyer = o.get("BuyerInfo") if isinstance(o.get("BuyerInfo"), dict) else {}
        hold = ""
        if o.get("FulfillmentChannel") == "AFN":
            hold = _("Amazon: fulfilled by Amazon, nothing to ship here")
        elif status in WAITING:
            hold = _("Amazon: {state}").format(state=WAITING[status])
        elif status == "Shipped":  # shipped by us (then this changes nothing here) or outside Quayside: never ship twice
            hold = _("Amazon: already shipped")
        elif status not in ("Unshipped", "PartiallyShipped", "Canceled"):
            raise Unreadable(f"The order status {status!r} is not one Quayside knows.")
        order = NormalizedOrder(
            channel=self.code, external_id=str(oid), number=str(oid),
            placed_at=_time(o.get("PurchaseDate"), "purchase date"), currency=currency, lines=tuple(lines),
            order_type="marketplace", customer_name=_s(addr.get("Name")) or _s(buyer.get("BuyerName")),
            customer_email=_s(buyer.get("BuyerEmail")),
            ship_to=Address(name=_s(addr.get("Name")), company=_s(addr.get("CompanyName")), address1=_s(addr.get("AddressLine1")),
                            address2=" ".join(filter(None, (_s(addr.get("AddressLine2")), _s(addr.get("AddressLine3"))))),
                            city=_s(addr.get("City")), region=_s(addr.get("StateOrRegion")), postal_code=_s(addr.get("PostalCode")),
                            country=_s(addr.get("CountryCode")).upper(), phone=_s(addr.get("Phone"))),
            subtotal_minor=subtotal, shipping_minor=shipping, tax_minor=tax, discount_minor=discount,
            total_minor=_money(total, currency, "order total") if total else subtotal + shipping + tax - discount,
            service_level=_level(o),
            ship_by=_time(o["LatestShipDate"], "latest ship date") if o.get("LatestShipDate") else None,
            deliver_by=_time(o["LatestDeliveryDate"], "latest delivery date") if o.get("LatestDeliveryDate") else None,
            channel_hold=hold,
            # Prime and Business orders say so to routing rules (order tag prime / business), besides the level.
            tags=",".join(t for t, flag in (("prime", o.get("IsPrime")), ("business", o.get("IsBusinessOrder"))) if flag is True),
        )
        order = check_order(order)
        cancel = Cancellation(str(oid), "Canceled on Amazon", _time(o["LastUpdateDate"], "update date") if o.get("LastUpdateDate") else None) \
            if status == "Canceled" else None
        return order, cancel

    # -- push -----------------------------------------------------------------------------------

    def push(self, message: OutboundMessage) -> dict[str, Any]:
        handler = {"fulfillment.create": self._confirm_shipment, "inventory.set": self._push_stock}.get(message.topic)
        if handler is None:
            if message.topic == "order.cancelled":
                return {"skipped": "Amazon orders are cancelled in Seller Central; Quayside does not cancel them there yet"}
            return {"skipped": f"Amazon has no use for {message.topic}"}
        try:
            return handler(message.payload)
        except (KeyError, TypeError, ValueError) as exc:
            raise PermanentError(f"{message.topic} message {message.id} is missing or has a bad field: {exc}") from None

    def _confirm_shipment(self, p: dict) -> dict:
        oid = str(p["order_external_id"])
        carrier = str(p.get("carrier") or "").strip()
        code = CARRIERS.get(carrier.lower(), "Other")
        items: dict[str, int] = {}
        for line in p["lines"]:
            items[str(line["external_line_id"])] = items.get(str(line["external_line_id"]), 0) + int(line["quantity"])
        package = {"packageReferenceId": str(int(p["shipment_id"])), "carrierCode": code,
                   "trackingNumber": str(p.get("tracking_number") or ""), "shipDate": _iso(_time(p["shipped_at"], "ship date")),
                   "orderItems": [{"orderItemId": k, "quantity": v} for k, v in items.items()]}
        if code == "Other":
            package["carrierName"] = carrier or "Own delivery"
        if p.get("service"):
            package["shippingMethod"] = str(p["service"])
        body = {"marketplaceId": self.marketplace_ids[0], "packageDetail": package}
        try:
            self.call("confirmShipment", "POST", f"orders/v0/orders/{quote(oid)}/shipmentConfirmation", json_body=body)
        except PermanentError as exc:
            if exc.status == 400 and "already been confirmed" in str(exc):
                return {"already": package["packageReferenceId"]}
            raise
        return {"confirmed": package["packageReferenceId"]}

    def _stock_skip(self, p: dict) -> str:
        """Why a stock level is not told to Amazon ("" when it is); a bad level raises PermanentError."""
        sku, available = str(p["sku"]), p["available"]
        if not isinstance(available, int) or isinstance(available, bool):
            raise PermanentError(f"inventory.set for {sku}: available must be a whole number, not {available!r}")
        if self.location_map and str(p["location_code"]) != next(iter(self.location_map)):
            return f"Amazon keeps one stock figure; it is told {next(iter(self.location_map))}'s, not {p['location_code']}'s"
        if not self.seller_id:
            return "the connection has no seller_id, which Listings Items needs"
        return ""

    def _push_stock(self, p: dict) -> dict:
        skip = self._stock_skip(p)
        if skip:
            return {"skipped": skip}
        sku = str(p["sku"])
        quantity = max(0, p["available"] - self.stock_buffer)
        body = {"productType": "PRODUCT", "patches": _availability(quantity)}
        reply = self.call("patchListingsItem", "PATCH", f"listings/2021-08-01/items/{quote(self.seller_id)}/{quote(sku, safe='')}",
                          params={"marketplaceIds": ",".join(self.marketplace_ids)}, json_body=body)
        data = reply.data if isinstance(reply.data, dict) else {}
        if data.get("status") not in ("ACCEPTED", None):
            issues = "; ".join(str(i.get("message")) for i in data.get("issues") or [] if isinstance(i, dict))
            raise PermanentError(f"Amazon did not accept the stock of {sku}: {data.get('status')} {issues}")
        return {"sku": sku, "quantity": quantity, "status": data.get("status")}

    # -- stock in batches: a feed when there are many ------------------------------------------------

    batch_topics = ("inventory.set",)
    batch_limit = 2000  # levels handed over at once (a JSON_LISTINGS_FEED takes up to 10,000 messages)

    def push_batch(self, messages: list[OutboundMessage], remember: Callable[[dict[int, dict]], None]) -> dict[int, Outcome]:
        """Every due stock level: the feeds Amazon still processes first, then the new levels, one by one through
        ``patchListingsItem`` up to ``feed_threshold`` of them, else as one feed."""
        outcomes: dict[int, Outcome] = {}
        fresh: list[OutboundMessage] = []
        in_flight: dict[str, list[OutboundMessage]] = {}
        for m in messages:
            try:
                skip = self._stock_skip(m.payload)
            except (KeyError, TypeError, ValueError) as exc:
                outcomes[m.id] = Outcome.failed(f"{m.topic} message {m.id} is missing or has a bad field: {exc}")
                continue
            except PermanentError as exc:
                outcomes[m.id] = Outcome.failed(str(exc))
                continue
            feed = (m.payload.get(IN_FLIGHT) or {}).get("feed")
            if feed:
                in_flight.setdefault(str(feed), []).append(m)
            elif skip:
                outcomes[m.id] = Outcome.sent(skip)
            else:
                fresh.append(m)
        waiting = ""
        for feed_id, held in in_flight.items():
            log.info("%s: reading feed %s again (%d stock levels) after an earlier pass left it", self.code, feed_id, len(held))
            resolved = self._finish_feed(feed_id, held, remember, self.clock() + self.feed_wait_s)
            outcomes.update(resolved)
            waiting = waiting or next((o.detail for o in resolved.values() if o.state == "waiting"), "")
        if waiting:  # a newer level must not overtake an older one still in Amazon's hands
            for m in fresh:
                outcomes[m.id] = Outcome.waiting(_("waits for {what}").format(what=waiting), self.feed_poll_s)
            return outcomes
        # A level whose feed came to nothing (FATAL) would go again later, after a newer one of the same SKU that goes
        # now: the newer one makes it pointless.
        newer = {(str(m.payload["sku"]), str(m.payload.get("location_code"))): m.id for m in fresh}
        for held in in_flight.values():
            for m in held:
                later = newer.get((str(m.payload["sku"]), str(m.payload.get("location_code"))))
                if later is not None and outcomes[m.id].state == "retry":
                    outcomes[m.id] = Outcome.superseded(f"message {later} tells Amazon a newer level")
        if len(fresh) > self.feed_threshold:
            outcomes.update(self._submit_feed(fresh, remember))
            return outcomes
        for n, m in enumerate(fresh):
            try:
                self._push_stock(m.payload)
            except (Offline, CredentialsRefused):
                raise  # the engine keeps the whole batch; what went already is the same figure sent again
            except PermanentError as exc:
                outcomes[m.id] = Outcome.failed(str(exc))
                continue
            except RemoteError as exc:  # 5xx or 429 after the retries: this one and the rest go later
                for rest in fresh[n:]:
                    outcomes[rest.id] = Outcome.retry(str(exc), exc.retry_after)
                return outcomes
            outcomes[m.id] = Outcome.sent()
        return outcomes

    def _submit_feed(self, fresh: list[OutboundMessage], remember) -> dict[int, Outcome]:
        """One JSON_LISTINGS_FEED for these levels: document, upload, createFeed, the feed id remembered, then polled."""
        entries = [(m, n, max(0, m.payload["available"] - self.stock_buffer)) for n, m in enumerate(fresh, 1)]
        document = {"header": {"sellerId": self.seller_id, "version": "2.0", "issueLocale": "en_US"},
                    "messages": [{"messageId": n, "sku": str(m.payload["sku"]), "operationType": "PATCH", "productType": "PRODUCT",
                                  "patches": _availability(q)} for m, n, q in entries]}
        created = self.call("createFeedDocument", "POST", f"{FEEDS}/documents", json_body={"contentType": FEED_CONTENT_TYPE}).data
        if not isinstance(created, dict) or not created.get("feedDocumentId") or not created.get("url"):
            raise RemoteError(f"{self.code}: createFeedDocument answered without a feedDocumentId and url")
        self._transfer("PUT", created["url"], json_body=document, headers={"Content-Type": FEED_CONTENT_TYPE})
        reply = self.call("createFeed", "POST", f"{FEEDS}/feeds", json_body={
            "feedType": "JSON_LISTINGS_FEED", "marketplaceIds": self.marketplace_ids, "inputFeedDocumentId": created["feedDocumentId"]})
        feed_id = str((reply.data or {}).get("feedId") or "") if isinstance(reply.data, dict) else ""
        if not feed_id:
            raise RemoteError(f"{self.code}: createFeed answered without a feedId")
        self.feeds += 1
        # Before the first poll: a station killed from here on finds the feed again and never submits it twice.
        remember({m.id: {**m.payload, IN_FLIGHT: {"feed": feed_id, "message": n, "quantity": q}} for m, n, q in entries})
        log.info("%s: %d stock levels went as feed %s", self.code, len(entries), feed_id)
        held = [OutboundMessage(m.id, m.topic, m.idempotency_key, {**m.payload, IN_FLIGHT: {"feed": feed_id, "message": n, "quantity": q}})
                for m, n, q in entries]
        return self._finish_feed(feed_id, held, remember, self.clock() + self.feed_wait_s)

    def _finish_feed(self, feed_id: str, held: list[OutboundMessage], remember, deadline: float) -> dict[int, Outcome]:
        """Poll a feed until Amazon is done with it (or ``deadline``), then read each message's outcome."""
        self._feed_in_hand, self._feed_levels = feed_id, len(held)
        try:
            return self._poll_feed(feed_id, held, remember, deadline)
        finally:
            self._feed_in_hand, self._feed_levels = "", 0

    def _poll_feed(self, feed_id: str, held: list[OutboundMessage], remember, deadline: float) -> dict[int, Outcome]:
        while True:
            try:
                feed = self.call("getFeed", "GET", f"{FEEDS}/feeds/{quote(feed_id)}").data
            except PermanentError as exc:
                if isinstance(exc, CredentialsRefused) or exc.status not in (400, 404):
                    raise
                return self._again(held, remember, f"Amazon no longer knows feed {feed_id} ({exc}); the stock goes again")
            status = feed.get("processingStatus") if isinstance(feed, dict) else None
            if status == "DONE":
                return self._read_report(feed_id, feed, held)
            if status in ("FATAL", "CANCELLED"):
                why = self._fatal_reason(feed) if status == "FATAL" else ""
                return self._again(held, remember, f"Amazon feed {feed_id} ended {status}{': ' + why if why else ''}; the stock goes again")
            if self.clock() + self.feed_poll_s > deadline:
                note = f"Amazon feed {feed_id} ({status or 'no status'})"
                return {m.id: Outcome.waiting(note, self.feed_poll_s) for m in held}
            self.sleep(self.feed_poll_s)

    def _again(self, held: list[OutboundMessage], remember, why: str) -> dict[int, Outcome]:
        """The feed is gone without a result: its levels are new again (retried, then submitted anew)."""
        remember({m.id: {k: v for k, v in m.payload.items() if k != IN_FLIGHT} for m in held})
        log.warning("%s: %s", self.code, why)
        return {m.id: Outcome.retry(why) for m in held}

    def _report(self, feed: dict) -> dict:
        doc_id = feed.get("resultFeedDocumentId")
        if not doc_id:
            raise RemoteError(f"{self.code}: feed {feed.get('feedId')} is {feed.get('processingStatus')} without a report", retryable=True)
        info = self.call("getFeedDocument", "GET", f"{FEEDS}/documents/{quote(str(doc_id))}").data
        if not isinstance(info, dict) or not info.get("url"):
            raise RemoteError(f"{self.code}: getFeedDocument answered without a url", retryable=True)
        content = self._transfer("GET", info["url"]).content
        try:
            if info.get("compressionAlgorithm") == "GZIP":
                content = gzip.decompress(content)
            report = json.loads(content.decode("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise RemoteError(f"{self.code}: the processing report of feed {feed.get('feedId')} is unreadable: {exc}", retryable=True) from None
        if not isinstance(report, dict):
            raise RemoteError(f"{self.code}: the processing report of feed {feed.get('feedId')} is not a JSON object", retryable=True)
        return report

    def _fatal_reason(self, feed: dict) -> str:
        try:
            report = self._report(feed)
        except RemoteError as exc:
            return str(exc)
        return "; ".join(str(i.get("message")) for i in report.get("issues") or [] if isinstance(i, dict))

    def _read_report(self, feed_id: str, feed: dict, held: list[OutboundMessage]) -> dict[int, Outcome]:
        try:
            report = self._report(feed)
        except RemoteError as exc:  # done, but the report cannot be read yet: the messages stay with their feed
            if isinstance(exc, (Offline, CredentialsRefused)):
                raise
            return {m.id: Outcome.waiting(f"the report of Amazon feed {feed_id}: {exc}", self.feed_poll_s) for m in held}
        refused: dict[int, list[str]] = {}
        general = []
        for issue in report.get("issues") or []:
            if not isinstance(issue, dict) or issue.get("severity") != "ERROR":
                continue
            text = " ".join(str(issue[k]) for k in ("code", "message") if issue.get(k))
            if isinstance(issue.get("messageId"), int):
                refused.setdefault(issue["messageId"], []).append(text)
            else:
                general.append(text)
        outcomes = {}
        for m in held:
            n = m.payload[IN_FLIGHT]["message"]
            sku = m.payload["sku"]
            if n in refused:
                outcomes[m.id] = Outcome.failed(f"Amazon refused the stock of {sku} in feed {feed_id}: {'; '.join(refused[n])}")
            elif general:
                outcomes[m.id] = Outcome.failed(f"Amazon refused feed {feed_id}: {'; '.join(general)}")
            else:
                outcomes[m.id] = Outcome.sent(f"feed {feed_id}: {m.payload[IN_FLIGHT]['quantity']}")
        return outcomes

    def _transfer(self, method: str, url: str, *, json_body: Any = None, headers: Mapping[str, str] | None = None):
        """A presigned document URL (S3's): no access token, no SP-API bucket; repeated when it fails on the way."""
        for attempt in range(1, self.max_attempts + 1):
            try:
                return self.client.request(method, url, json_body=json_body, headers=headers, idempotent=True, expect_json=False)
            except RemoteError as exc:
                if not exc.retryable or attempt == self.max_attempts or isinstance(exc, PermanentError):
                    raise
                self.sleep(self.rng.uniform(0, min(30.0, 0.5 * 2 ** (attempt - 1))))
        raise RemoteError(f"{method} {url}: gave up")


def _availability(quantity: int) -> list[dict]:
    """The patch that sets a merchant-fulfilled SKU's available quantity."""
    return [{"op": "replace", "path": "/attributes/fulfillment_availability",
             "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}]}]


def _level(o: dict) -> str:
    """The service level routing rules match on: Amazon's category, and a Prime order at least expedited."""
    level = LEVELS.get(_s(o.get("ShipmentServiceLevelCategory")), "standard")
    return "expedited" if o.get("IsPrime") is True and level == "standard" else level


def _money(value: Any, currency: str, what: str, *, default: int | None = None) -> int:
    if value is None:
        if default is not None:
            return default
        raise Unreadable(f"The {what} is missing.")
    if not isinstance(value, dict) or not isinstance(value.get("Amount"), str):
        raise Unreadable(f"The {what} is {value!r}; Amazon sends money as {{CurrencyCode, Amount as text}}.")
    if value.get("CurrencyCode") and value["CurrencyCode"] != currency:
        raise Unreadable(f"The {what} is in {value['CurrencyCode']}, not the order currency {currency}.")
    try:
        return money.to_minor(value["Amount"], currency)
    except InvalidInput as exc:
        raise Unreadable(f"The {what} is not an amount of money: {exc}") from None


def _time(value: Any, what: str) -> datetime:
    if not isinstance(value, str) or not value:
        raise Unreadable(f"The {what} is missing.")
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Unreadable(f"The {what} {value!r} is not a date and time.") from None
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _s(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _read_cursor(cursor: str | None) -> dict:
    if not cursor:
        return {}
    try:
        state = json.loads(cursor)
    except json.JSONDecodeError:
        raise PermanentError(f"The stored Amazon cursor is not valid: {cursor[:80]!r}") from None
    return state if isinstance(state, dict) else {}


def _build(code: str, base_url: str, secret: str, options: dict, **http_options) -> AmazonChannel:
    extra = {k: http_options[k] for k in ("sleep", "rng", "max_attempts", "timeout", "session") if k in http_options}
    return AmazonChannel(code, base_url, secret, marketplace_ids=options.get("marketplace_ids") or None,
                         lwa_url=options.get("lwa_url") or None, seller_id=options.get("seller_id") or "",
                         stock_buffer=int(options.get("stock_buffer") or 0), location_map=options.get("location_map") or None,
                         feed_threshold=int(options["feed_threshold"]) if options.get("feed_threshold") not in (None, "") else FEED_THRESHOLD,
                         **extra)


def _emulator(secret: str, port: int = 0, state_file=None, **kw) -> AmazonEmulator:
    """The emulator for tests and demo mode: by default a minute of Amazon's throttling passes in a second."""
    parts = (secret or "").split()
    ids = dict(zip(("client_id", "client_secret", "refresh_token"), parts)) if len(parts) == 3 else {}
    kw.setdefault("time_scale", 60.0)
    return AmazonEmulator(port=port, state_file=state_file, **ids, **kw)


SPEC = ConnectorSpec(
    kind="amazon", role="channel", title="Amazon", build=_build,
    address_title=_("SP-API endpoint"), address_hint="https://sellingpartnerapi-na.amazon.com",
    default_address="https://sellingpartnerapi-na.amazon.com",
    secret_title=_("LWA keys"), secret_hint=_("client id, client secret and refresh token, separated by spaces"),
    default_interval_s=120,
    settings=(
        Setting("marketplace_ids", _("Marketplaces"), _("marketplace ids, e.g. ATVPDKIKX0DER (default: the endpoint's region)"),
                parse=words_list, show=lambda ids: ", ".join(ids or [])),
        Setting("seller_id", _("Seller id"), _("your merchant token, e.g. A2EXAMPLE123 (for stock through Listings)")),
        Setting("stock_buffer", _("Stock buffer"), _("units held back from what Amazon is told, e.g. 2"), parse=whole_number),
        Setting("feed_threshold", _("Feed above"), _("more stock levels than this in one pass go as one feed (default 50)"),
                parse=lambda text: whole_number(text) if text.strip() else FEED_THRESHOLD),
    ),
    test=lambda connector: connector.check_connection(),
    emulator=_emulator,
    demo_secret=lambda word: f"amzn1.application-oa2-client.{word} amzn1.oa2-cs.v1.{word} Atzr|{word}",
)
