"""WooCommerce as a sales channel: orders in through the REST API v3, tracking, completion and stock out.

Decisions worth knowing:

* Keys: the connection's one secret is ``consumer_key:consumer_secret``, sent as HTTP Basic as WooCommerce
  takes it over HTTPS. A plain ``http://`` shop address is refused, except on this machine (an emulator),
  so the keys never cross a network in clear. We use ``requests`` through our ``HttpClient`` rather than
  the ``woocommerce`` package, which adds nothing but OAuth 1.0a for plain HTTP (which we refuse anyway)
  and would bypass our retries, rate manners and error wording.
* Orders are asked for by ``modified_after`` (strictly after, as WordPress's date query has it) with
  ``orderby=modified&order=asc`` in pages of at most 100 (WooCommerce refuses more with a 400). Page numbers
  shift when an order is modified during a pull (it moves to the end), so after each page the next query
  starts again just before the last modified second read, page 1, and the (modified second, ids read in it)
  cursor skips what this pass has read; WooCommerce orders ties in a second as it likes, so ids are kept, not
  compared. When a whole page shares one second (more than a page of orders modified in the same second),
  that second is read by id, page by page, starting over when its total drops (an order left it, the pages
  shifted) or a page comes twice. Every page is read until ``X-WP-TotalPages`` says there is no other.
* Between passes the cursor keeps the latest modified second read minus ``overlap``: orders written in the
  same second as the last one read, or in a crowded second after its pages were read, are read next time
  (the rest unchanged, since import is idempotent).
* Statuses: ``processing`` is work; ``pending``, ``on-hold`` and ``failed`` are imported held until the shop
  says ``processing`` (payment not taken); ``completed`` that Quayside never shipped is held ("completed in
  the shop"); ``cancelled`` and ``refunded`` are cancellations. Refunds listed on an order are read: a
  partial refund is noted on the import as a hold for a person to look at. A refund of items (its line items, read
  from ``/orders/<id>/refunds`` for an order that lists refunds) is a return: it opens an RMA, requested, once.
* A line without a SKU is imported as ``WOO-NO-SKU-<line id>`` and, like an unknown SKU, holds the order
  with that reason; it is never dropped. A fractional quantity is quarantined with the reason.
* Tracking goes to the Shipment Tracking extension; a shop without it (404 ``rest_no_route``) gets an order
  note for the customer instead. What Quayside shipped is kept on the order (meta ``_quayside_shipments``),
  and the order is set to ``completed`` once every line has shipped. Each step reads before it writes, so a
  repeated message adds nothing twice.
* Stock: WooCommerce has one stock figure per product, so the first location in ``location_map`` is the one
  told; it goes by SKU through the products or variations ``batch`` endpoints. The engine hands every due
  stock level at once (``push_batch``): one request per 100 products (the most WooCommerce takes; it refuses
  more with a 413) and per 100 variations of one product. SKUs are looked up in the shop's catalogue, read once
  and kept; it is read again when a SKU is not in it or the shop says an id is no longer valid. A request the
  shop fails (5xx after the client's retries) leaves its levels and the later ones to be sent again; those
  already taken are marked sent. A SKU the shop does not sell is said and marked sent (nothing to tell).
"""

from __future__ import annotations

import json
import re
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Callable, Mapping
from urllib.parse import urlsplit

from oms.core import money
from oms.core.errors import InvalidInput
from oms.core.i18n import _
from oms.orders.contract import Address, NormalizedLine, NormalizedOrder, check_order
from oms.returns.channel import ChannelReturn

from ..base import (Cancellation, CredentialsRefused, Offline, OutboundMessage, Outcome, PermanentError, PullPage,
                    Quarantine, RemoteError)
from ..emulators.woocommerce import WooCommerceEmulator
from ..http import HttpClient
from ..registry import ConnectorSpec, Setting, location_map

log = logging.getLogger(__name__)

MAX_PER_PAGE = 100
MAX_PER_BATCH = 100  # WooCommerce's woocommerce_rest_batch_items_limit
SHIPPED_META = "_quayside_shipments"
WAITING = {"pending": "pending payment", "on-hold": "on hold, awaiting payment", "failed": "payment failed",
           "checkout-draft": "checkout not finished"}
OUR_REFUND = re.compile(r"^RMA-\d+: items returned$")  # the reason of the refunds _push_refund sends
CANCELLING = {"cancelled": "Cancelled in WooCommerce", "refunded": "Refunded in WooCommerce"}
PROVIDERS = {"usps": "usps", "ups": "ups", "fedex": "fedex", "dhl": "dhl", "canada post": "canada-post",
             "royal mail": "royal-mail", "australia post": "australia-post"}
SERVICE_WORDS = (("overnight", ("overnight", "next day", "next-day", "1 day")),
                 ("expedited", ("express", "expedited", "priority", "2 day", "2-day", "rush")))


class Unreadable(ValueError):
    """A WooCommerce order we cannot turn into ours; the message is shown to a person."""


def split_keys(secret: str, *, strict: bool = True) -> tuple[str, str]:
    """``consumer_key:consumer_secret`` -> the two; refused in words when it is not that. Not ``strict``: what was
    stored is sent as it is (the shop then refuses it, and the Sync screen says to replace the keys)."""
    key, sep, sec = (secret or "").strip().partition(":")
    if not sep or not key.strip() or not sec.strip():
        if not strict:
            return (secret or "").strip(), ""
        raise InvalidInput(_("Give the WooCommerce keys as consumer key, a colon, consumer secret (ck_…:cs_…)."))
    return key.strip(), sec.strip()


def check_address(shop_url: str) -> str:
    parts = urlsplit((shop_url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(_("The shop address {url!r} is not a web address such as https://shop.example.com.").format(url=shop_url))
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise InvalidInput(_("The shop address must start with https://: WooCommerce keys are never sent over plain http."))
    return shop_url.strip().rstrip("/")


class WooCommerceChannel:
    """``ChannelConnector`` for one WooCommerce shop.

    Cursor (opaque to the engine, JSON): between passes ``{"since": GMT time or null}``; within a pass also
    ``"a"`` (the current query's ``modified_after``), ``"t"`` (the latest modified second read) and ``"seen"``
    (the ids read at that second); while paging through one crowded second, ``"blk"`` (that second), ``"p"``
    (its page), ``"bid"`` (the highest id read in it) and ``"n"`` (its total at the last page, to see a shift).
    """

    def __init__(self, code: str, shop_url: str, secret: str, *, client: HttpClient | None = None,
                 location_map: Mapping[str, Any] | None = None, page_size: int = MAX_PER_PAGE,
                 overlap: timedelta = timedelta(minutes=2), start_at: datetime | None = None, **http_options):
        self.code = code
        self.problem = ""  # a connection that cannot work as stored (a plain-http address): said on every call
        if client is None:
            try:
                client = self.make_client(shop_url, secret, **http_options)
            except InvalidInput as exc:
                self.problem = str(exc)
        self.client = client
        self.location_map = dict(location_map or {})
        self.page_size = page_size  # above 100 the shop refuses; kept as given so that refusal is seen, not hidden
        self.overlap = overlap
        self.start_at = start_at
        self._catalogue: dict[str, tuple[int, int]] | None = None  # sku -> (id, parent product id or 0)

    @staticmethod
    def make_client(shop_url: str, secret: str, **http_options) -> HttpClient:
        return HttpClient(f"{check_address(shop_url)}/wp-json", auth=split_keys(secret, strict=False), **http_options)

    # -- pull -----------------------------------------------------------------------------------

    def _usable(self) -> None:
        """A connection stored with an address it cannot use says so on every call; what waits to be sent waits."""
        if self.problem:
            raise RemoteError(f"{self.code}: {self.problem}", retryable=True)

    def check_connection(self) -> str:
        """A cheap call that proves the address and the keys: one order, and the count the shop gives with it."""
        reply = self.client.get("wc/v3/orders", params={"per_page": 1})
        return _("The shop answered: {n} orders.").format(n=reply.headers.get("X-WP-Total") or "?")

    def pull_orders(self, cursor: str | None) -> PullPage:
        self._usable()
        state = _read_cursor(cursor)
        if state.get("blk"):
            return self._pull_block(state)
        in_pass = "a" in state
        since = state.get("since") or (_gmt(self.start_at) if self.start_at else None)
        after = state["a"] if in_pass else since
        t = _parse_gmt(state["t"]) if in_pass and state.get("t") else None
        seen = set(state.get("seen") or []) if in_pass else set()
        params: dict[str, Any] = {"orderby": "modified", "order": "asc", "per_page": self.page_size, "page": 1,
                                  "dates_are_gmt": "true", "status": "any"}
        if after:
            params["modified_after"] = after
        reply = self.client.get("wc/v3/orders", params=params)
        rows = _rows(reply, self.code)
        page = self._read(rows, lambda m, oid: t is not None and (m < t or m == t and oid in seen))
        for m, oid in page.keys:
            if t is None or m > t:
                t, seen = m, {oid}
            elif m == t:
                seen.add(oid)
        seconds = {m for m, _oid in page.all_keys}
        more = _pages(reply) > 1 if _pages(reply) else len(rows) >= self.page_size
        if more and len(seconds) == 1:
            # A whole page modified in one second: page through that second by id instead.
            (block,) = seconds
            nxt = {"since": since, "blk": _gmt(block), "p": 1, "seen": sorted(seen if block == t else set()), "bid": 0}
            return page.result(json.dumps(nxt), done=False)
        if more and seconds:
            # Start again just before the last second read: page numbers shift when an order is modified meanwhile.
            nxt = {"since": since, "a": _gmt(max(seconds) - timedelta(seconds=1)), "t": _gmt(t), "seen": sorted(seen)}
            return page.result(json.dumps(nxt), done=False)
        if more:
            raise RemoteError(f"{self.code}: WooCommerce sent a full page of orders without modified dates", retryable=True)
        return page.result(json.dumps({"since": self._next_since(since, t)}), done=True)

    def _pull_block(self, state: dict) -> PullPage:
        """Orders modified in one second, more than a page of them: by id, page after page. An order modified
        meanwhile leaves the second (it is read again later in the pass); when that shifts the pages (the total
        drops) or the shop serves a page again, the second is read again from its first page, skipping what was read."""
        block, p, bid = _parse_gmt(state["blk"]), int(state.get("p") or 1), int(state.get("bid") or 0)
        seen = set(state.get("seen") or [])
        params = {"orderby": "id", "order": "asc", "per_page": self.page_size, "page": p, "dates_are_gmt": "true",
                  "status": "any", "modified_after": _gmt(block - timedelta(seconds=1)),
                  "modified_before": _gmt(block + timedelta(seconds=1))}
        reply = self.client.get("wc/v3/orders", params=params)
        rows = _rows(reply, self.code)
        page = self._read(rows, lambda m, oid: m != block or oid <= bid or oid in seen)
        try:
            total = int(reply.headers.get("X-WP-Total") or -1)
        except ValueError:
            total = -1
        shifted = state.get("n") is not None and 0 <= total < int(state["n"])
        if shifted:  # what was read now may lie past orders the shift skipped: keep the ids, not a floor
            seen |= {oid for _m, oid in page.keys}
            new_bid = bid
        else:  # every id of the second up to this page's last has been read
            new_bid = max([bid, *(oid for _m, oid in page.keys)])
        # Pages of one second come in id order: a page that starts at or before the last id of the page before it
        # is that page (or an earlier one) served again.
        ids = [oid for m, oid in page.all_keys if m == block]
        repeated = (p > 1 and state.get("last") is not None and bool(ids) and min(ids) <= int(state["last"])
                    and int(state.get("r") or 0) < 10)
        pages = _pages(reply) or (p + 1 if len(rows) >= self.page_size else p)
        base = {"since": state.get("since"), "blk": state["blk"], "seen": sorted(seen), "bid": new_bid, "n": total}
        if shifted:
            return page.result(json.dumps({**base, "p": 1}), done=False)
        if repeated:
            return page.result(json.dumps({**base, "p": p, "last": state["last"], "r": int(state.get("r") or 0) + 1}), done=False)
        base["last"] = max(ids) if ids else state.get("last")
        if p < pages:
            return page.result(json.dumps({**base, "p": p + 1}), done=False)
        # The second is read: on after it (WooCommerce's modified_after is strictly after).
        nxt = {"since": state.get("since"), "a": _gmt(block), "t": _gmt(block), "seen": []}
        return page.result(json.dumps(nxt), done=False)

    def _read(self, rows: list, skip) -> "_Page":
        """Map a page's orders, leaving out those ``skip(modified, id)`` says were read already in this pass."""
        page = _Page()
        for raw in rows:
            key = _key(raw)
            if key is not None:
                page.all_keys.append(key)
                if skip(*key):
                    continue
                page.keys.append(key)
            try:
                order, cancel = self.map_order(raw)
            except (Unreadable, InvalidInput) as exc:
                page.quarantined.append(Quarantine(_ref(raw), json.dumps(raw, ensure_ascii=False), str(exc)))
                continue
            page.orders.append(order)
            if cancel:
                page.cancellations.append(cancel)
            page.returns.extend(self._returns(raw))
        return page

    def _returns(self, o: dict) -> list[ChannelReturn]:
        """The order's refunds that refund items (``/orders/<id>/refunds``, read only for an order that lists refunds):
        each is a return here, an RMA requested for the items. A refund of money alone is none."""
        if not o.get("refunds") or o.get("status") in ("cancelled", "trash") or not isinstance(o.get("id"), int):
            return []
        out = []
        for r in _rows(self.client.get(f"wc/v3/orders/{o['id']}/refunds"), self.code):
            if not isinstance(r, dict) or r.get("id") is None:
                continue
            if OUR_REFUND.match(str(r.get("reason") or "")):  # a refund we sent for an RMA of ours: no new return
                continue
            lines = []
            for li in r.get("line_items") or []:
                item = next((m.get("value") for m in li.get("meta_data") or [] if isinstance(m, dict)
                             and m.get("key") == "_refunded_item_id"), None) if isinstance(li, dict) else None
                qty = li.get("quantity") if isinstance(li, dict) else None
                if item is not None and isinstance(qty, int) and qty < 0:
                    lines.append((str(item), -qty))
            if lines:
                out.append(ChannelReturn(f"refund-{r['id']}", str(o["id"]), tuple(lines), note=str(r.get("reason") or "")))
        return out

    def _next_since(self, since: str | None, t: datetime | None) -> str | None:
        if t is None:
            return since
        candidate = t - self.overlap
        return _gmt(candidate) if since is None or candidate > _parse_gmt(since) else since

    def parse_raw(self, raw: str) -> PullPage:
        """Read a quarantined order again (the engine's retry)."""
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            return PullPage([], quarantined=[Quarantine("(no id)", raw, f"The text is not JSON: {exc}")])
        try:
            order, cancel = self.map_order(data)
        except (Unreadable, InvalidInput) as exc:
            return PullPage([], quarantined=[Quarantine(_ref(data), raw, str(exc))])
        return PullPage([order], [cancel] if cancel else [])

    # -- mapping --------------------------------------------------------------------------------

    def map_order(self, o: Any) -> tuple[NormalizedOrder, Cancellation | None]:
        if not isinstance(o, dict):
            raise Unreadable("The order is not a JSON object.")
        oid = o.get("id")
        if not isinstance(oid, int) or isinstance(oid, bool):
            raise Unreadable("The order has no numeric id.")
        currency = o.get("currency")
        if not isinstance(currency, str):
            raise Unreadable("The order has no currency.")
        currency = money.check_currency(currency)
        status = o.get("status")
        if not isinstance(status, str):
            raise Unreadable("The order has no status.")
        raw_lines = o.get("line_items")
        if not isinstance(raw_lines, list) or not raw_lines:
            raise Unreadable("The order has no line items.")
        lines = []
        for i, li in enumerate(raw_lines, 1):
            if not isinstance(li, dict) or not isinstance(li.get("id"), int):
                raise Unreadable(f"Line {i} has no numeric id.")
            qty = li.get("quantity")
            if not isinstance(qty, int) or isinstance(qty, bool):
                raise Unreadable(f"Line {i} ({li.get('name')}) has quantity {qty!r}, not a whole number.")
            if qty <= 0:
                continue  # WooCommerce keeps a line edited down to nothing; nothing is left to ship of it
            sku = li.get("sku").strip() if isinstance(li.get("sku"), str) else ""
            name = _s(li.get("name"))
            if not sku:
                sku, name = f"WOO-NO-SKU-{li['id']}", f"{name} (no SKU in WooCommerce)".strip()
            line_subtotal = _minor(li.get("subtotal"), currency, f"subtotal of line {i}")
            unit = int((Decimal(line_subtotal) / qty).quantize(Decimal(1), ROUND_HALF_UP))
            lines.append(NormalizedLine(str(li["id"]), sku, qty, unit, name))
        if not lines:
            raise Unreadable("Every line of the order has quantity 0.")
        subtotal = sum(_minor(li.get("subtotal"), currency, "line subtotal") for li in raw_lines
                       if isinstance(li, dict) and isinstance(li.get("quantity"), int) and li["quantity"] > 0)
        shipping = _minor(o.get("shipping_total", "0"), currency, "shipping total")
        tax = _minor(o.get("total_tax", "0"), currency, "tax total")
        discount = _minor(o.get("discount_total", "0"), currency, "discount total")
        total = _minor(o.get("total"), currency, "order total")
        refunds = o.get("refunds") or []
        refunded = sum(-_minor(r.get("total"), currency, "refund", negative=True) for r in refunds if isinstance(r, dict))

        ship = o.get("shipping") if isinstance(o.get("shipping"), dict) else {}
        bill = o.get("billing") if isinstance(o.get("billing"), dict) else {}
        addr = ship if _s(ship.get("address_1")) else bill
        name = " ".join(filter(None, (_s(addr.get("first_name")), _s(addr.get("last_name")))))
        customer = " ".join(filter(None, (_s(bill.get("first_name")), _s(bill.get("last_name"))))) or name
        placed = _parse_gmt(o.get("date_created_gmt"), what="order date")
        hold = ""
        if status in WAITING:
            hold = _("WooCommerce: {state}").format(state=WAITING[status])
        elif status == "completed":
            hold = _("WooCommerce: completed in the shop, not shipped by Quayside")
        elif status not in ("processing", "cancelled", "refunded"):
            raise Unreadable(f"The order status {status!r} is not one Quayside knows.")
        elif status == "processing" and refunded:
            hold = _("WooCommerce: {amount} {currency} refunded; check what is left to ship").format(
                amount=money.to_text(refunded, currency), currency=currency)
        order = NormalizedOrder(
            channel=self.code, external_id=str(oid), number=f"#{_s(o.get('number')) or oid}", placed_at=placed,
            currency=currency, lines=tuple(lines), order_type="dtc", customer_name=customer,
            customer_email=_s(bill.get("email")),
            ship_to=Address(name=name, company=_s(addr.get("company")), address1=_s(addr.get("address_1")),
                            address2=_s(addr.get("address_2")), city=_s(addr.get("city")), region=_s(addr.get("state")),
                            postal_code=_s(addr.get("postcode")), country=_s(addr.get("country")).upper(),
                            phone=_s(ship.get("phone")) or _s(bill.get("phone"))),
            subtotal_minor=subtotal, shipping_minor=shipping, tax_minor=tax, discount_minor=discount, total_minor=total,
            service_level=service_level(o.get("shipping_lines")), channel_hold=hold,
        )
        order = check_order(order)
        cancel = None
        if status in CANCELLING:
            when = _parse_gmt(o.get("date_modified_gmt"), what="modified date") if o.get("date_modified_gmt") else None
            cancel = Cancellation(str(oid), CANCELLING[status], when)
        return order, cancel

    # -- push -----------------------------------------------------------------------------------

    def push(self, message: OutboundMessage) -> dict[str, Any]:
        handler = {"fulfillment.create": self._push_fulfillment, "order.cancelled": self._push_cancel,
                   "inventory.set": self._push_inventory, "refund.create": self._push_refund}.get(message.topic)
        if handler is None:
            return {"skipped": f"WooCommerce has no use for {message.topic}"}
        self._usable()
        try:
            return handler(message.payload)
        except (KeyError, TypeError, ValueError) as exc:
            raise PermanentError(f"{message.topic} message {message.id} is missing or has a bad field: {exc}") from None

    def _push_fulfillment(self, p: dict) -> dict:
        oid = int(p["order_external_id"])
        sid = str(p["shipment_id"])
        tracking = str(p.get("tracking_number") or "").strip()
        carrier = str(p.get("carrier") or "").strip()
        order = _obj(self.client.get(f"wc/v3/orders/{oid}"))
        if order.get("status") in ("cancelled", "refunded", "trash"):
            return {"skipped": f"the order is {order.get('status')} in WooCommerce"}
        told = None
        if tracking:
            try:
                existing = self.client.get(f"wc-shipment-tracking/v3/orders/{oid}/shipment-trackings").data or []
                if not any(isinstance(t, dict) and t.get("tracking_number") == tracking for t in existing):
                    self.client.post(f"wc-shipment-tracking/v3/orders/{oid}/shipment-trackings", json_body=_tracking_body(p))
                told = "tracking"
            except PermanentError as exc:
                if exc.status != 404:
                    raise
                log.info("%s: no Shipment Tracking extension in the shop; tracking goes as an order note", self.code)
        if told is None:
            marker = f"[Quayside shipment {sid}]"
            notes = self.client.get(f"wc/v3/orders/{oid}/notes").data or []
            if not any(isinstance(n, dict) and marker in str(n.get("note") or "") for n in notes):
                text = (f"Shipped with {carrier or 'our carrier'}" + (f", tracking number {tracking}" if tracking else "")
                        + f". {marker}")
                self.client.post(f"wc/v3/orders/{oid}/notes", json_body={"note": text, "customer_note": True})
            told = "note"
        shipped = _shipped_meta(order)
        shipped[sid] = {str(l["external_line_id"]): int(l["quantity"]) for l in p["lines"]}
        done: dict[str, int] = {}
        for lines in shipped.values():
            for lid, qty in lines.items():
                done[lid] = done.get(lid, 0) + qty
        complete = all(done.get(str(li.get("id")), 0) >= int(li.get("quantity") or 0)
                       for li in order.get("line_items", []) if isinstance(li, dict) and isinstance(li.get("quantity"), int))
        body: dict[str, Any] = {"meta_data": [{"key": SHIPPED_META, "value": json.dumps(shipped, sort_keys=True)}]}
        if complete and order.get("status") != "completed":
            body["status"] = "completed"
        self.client.request("PUT", f"wc/v3/orders/{oid}", json_body=body)
        return {"told": told, "completed": complete}

    def _push_refund(self, p: dict) -> dict:
        """An RMA's refund, once: read before write (a refund whose reason names the RMA is the one sent before). The
        items are not restocked by WooCommerce (``restock_items`` false: its stock is ours, told from the ledger); the
        money goes back through the payment gateway (``api_refund``), never more than is left to refund."""
        oid = int(p["order_external_id"])
        rma = str(p["rma"])
        currency = money.check_currency(p["currency"])

        def sent_before():
            rows = _rows(self.client.get(f"wc/v3/orders/{oid}/refunds"), self.code)
            return next((r for r in rows if isinstance(r, dict) and rma in str(r.get("reason") or "")), None)

        found = sent_before()
        if found:
            return {"already": found.get("id")}
        order = _obj(self.client.get(f"wc/v3/orders/{oid}"))
        refunded = sum(-_minor(r.get("total"), currency, "refund", negative=True) for r in order.get("refunds") or []
                       if isinstance(r, dict))
        room = _minor(order.get("total"), currency, "order total") - refunded
        amount = min(int(p["amount_minor"]), room)
        if amount <= 0:
            return {"skipped": "nothing is left to refund in WooCommerce"}
        body = {"amount": money.to_text(amount, currency), "reason": f"{rma}: items returned", "api_refund": True,
                "restock_items": False,
                "line_items": [{"id": int(l["external_line_id"]), "quantity": int(l["quantity"])} for l in p["lines"]]}
        try:
            refund = _obj(self.client.post(f"wc/v3/orders/{oid}/refunds", json_body=body))
        except PermanentError:
            found = sent_before()
            if found:
                return {"already": found.get("id")}
            raise
        return {"refunded": refund.get("id")}

    def _push_cancel(self, p: dict) -> dict:
        oid = int(p["external_id"])
        order = _obj(self.client.get(f"wc/v3/orders/{oid}"))
        if order.get("status") in ("cancelled", "refunded"):
            return {"already": order.get("status")}
        if p.get("lines"):
            open_lines = {str(li["id"]): li.get("quantity") for li in order.get("line_items", []) if isinstance(li, dict)}
            cancelled = {}
            for line in p["lines"]:
                cancelled[str(line["external_line_id"])] = cancelled.get(str(line["external_line_id"]), 0) + int(line["quantity"])
            if any(cancelled.get(lid, 0) < (qty or 0) for lid, qty in open_lines.items()):
                return {"skipped": "only some lines were cancelled; WooCommerce cancels whole orders, so adjust this one in the shop"}
        self.client.request("PUT", f"wc/v3/orders/{oid}", json_body={"status": "cancelled"})
        return {"cancelled": oid}

    def _push_inventory(self, p: dict) -> dict:
        sku, location, available = str(p["sku"]), str(p["location_code"]), p["available"]
        if not isinstance(available, int) or isinstance(available, bool):
            raise PermanentError(f"inventory.set for {sku}: available must be a whole number, not {available!r}")
        if self.location_map and location != next(iter(self.location_map)):
            return {"skipped": f"WooCommerce keeps one stock figure; it is told {next(iter(self.location_map))}'s, not {location}'s"}
        found = self._item(sku)
        if found is None:
            return {"skipped": f"SKU {sku} is not in WooCommerce"}
        item_id, parent = found
        path = f"wc/v3/products/{parent}/variations/batch" if parent else "wc/v3/products/batch"
        reply = _obj(self.client.post(path, json_body={"update": [{"id": item_id, "manage_stock": True,
                                                                   "stock_quantity": max(0, available)}]}, idempotent=True))
        result = (reply.get("update") or [{}])[0]
        if isinstance(result, dict) and result.get("error"):
            err = result["error"]
            raise PermanentError(f"WooCommerce refused the stock of {sku}: {err.get('message') or err.get('code')}")
        return {"id": item_id, "stock_quantity": result.get("stock_quantity") if isinstance(result, dict) else None}

    # -- stock in batches ---------------------------------------------------------------------------

    batch_topics = ("inventory.set",)
    batch_limit = 1000  # levels handed over at once; they go 100 to a request

    def push_batch(self, messages: list[OutboundMessage], remember: Callable[[dict[int, dict]], None]) -> dict[int, Outcome]:
        """Stock levels by SKU through ``products/batch`` and ``products/<id>/variations/batch``, 100 a request."""
        self._usable()
        outcomes: dict[int, Outcome] = {}
        todo: list[tuple[OutboundMessage, str, int]] = []
        told = next(iter(self.location_map), None)
        for m in messages:
            try:
                sku, location, available = str(m.payload["sku"]), str(m.payload["location_code"]), m.payload["available"]
            except (KeyError, TypeError) as exc:
                outcomes[m.id] = Outcome.failed(f"{m.topic} message {m.id} is missing or has a bad field: {exc}")
                continue
            if not isinstance(available, int) or isinstance(available, bool):
                outcomes[m.id] = Outcome.failed(f"inventory.set for {sku}: available must be a whole number, not {available!r}")
            elif told is not None and location != told:
                outcomes[m.id] = Outcome.sent(f"WooCommerce keeps one stock figure; it is told {told}'s, not {location}'s")
            else:
                todo.append((m, sku, max(0, available)))
        for second in (False, True):
            found = self._items({sku for _m, sku, _q in todo})
            groups: dict[int, list[tuple[OutboundMessage, int, int]]] = {}
            for m, sku, qty in todo:
                if sku not in found:
                    outcomes[m.id] = Outcome.sent(f"SKU {sku} is not in WooCommerce")
                else:
                    item_id, parent = found[sku]
                    groups.setdefault(parent, []).append((m, item_id, qty))
            stale = self._send_batches(groups, outcomes)
            if not stale or second:
                for m in stale:
                    outcomes[m.id] = Outcome.retry(f"WooCommerce no longer knows the product of SKU {m.payload['sku']}; asked again later")
                return outcomes
            # Ids the shop no longer knows (a product deleted and made again): read the catalogue again, once.
            self._catalogue = None
            todo = [(m, sku, qty) for m, sku, qty in todo if m in stale]
        return outcomes

    def _send_batches(self, groups: dict[int, list[tuple[OutboundMessage, int, int]]], outcomes: dict[int, Outcome]) -> list[OutboundMessage]:
        """Send each group (0: products; else the variations of that product) 100 a request; returns the messages
        whose id the shop said was invalid. A failed request leaves it and every later one to be tried again."""
        chunks = [(parent, items[i:i + MAX_PER_BATCH]) for parent, items in groups.items()
                  for i in range(0, len(items), MAX_PER_BATCH)]
        stale: list[OutboundMessage] = []
        for n, (parent, chunk) in enumerate(chunks):
            path = f"wc/v3/products/{parent}/variations/batch" if parent else "wc/v3/products/batch"
            body = {"update": [{"id": item_id, "manage_stock": True, "stock_quantity": qty} for _m, item_id, qty in chunk]}
            try:
                reply = _obj(self.client.post(path, json_body=body, idempotent=True))
            except (Offline, CredentialsRefused):
                raise  # the engine keeps the whole batch; what went already is the same figure sent again
            except RemoteError as exc:
                for _parent, rest in chunks[n:]:
                    for m, _i, _q in rest:
                        outcomes[m.id] = Outcome.retry(f"WooCommerce did not take the stock of {m.payload['sku']}: {exc}",
                                                       exc.retry_after)
                log.info("%s: stock batch %d of %d failed (%s); it and the rest go again later", self.code, n + 1, len(chunks), exc)
                return stale
            results = reply.get("update") if isinstance(reply.get("update"), list) else []
            if len(results) != len(chunk):  # answers come in the order asked; without that, match them by id
                by_id = {r.get("id"): r for r in results if isinstance(r, dict)}
                results = [by_id.get(item_id) for _m, item_id, _q in chunk]
            for (m, item_id, qty), result in zip(chunk, results):
                sku = m.payload["sku"]
                err = result.get("error") if isinstance(result, dict) else None
                if not isinstance(result, dict):
                    outcomes[m.id] = Outcome.retry(f"WooCommerce's batch answer left out SKU {sku}")
                elif isinstance(err, dict) and str(err.get("code") or "").endswith("_invalid_id"):
                    stale.append(m)
                elif err:
                    message = err.get("message") or err.get("code") if isinstance(err, dict) else err
                    outcomes[m.id] = Outcome.failed(f"WooCommerce refused the stock of {sku}: {message}")
                else:
                    outcomes[m.id] = Outcome.sent()
        return stale

    def _items(self, skus: set[str]) -> dict[str, tuple[int, int]]:
        """(id, parent product id or 0) of each SKU the shop sells; the catalogue is read at most once here."""
        if skus and (self._catalogue is None or not skus <= self._catalogue.keys()):
            self.load_catalogue()
        catalogue = self._catalogue or {}
        return {sku: catalogue[sku] for sku in skus if sku in catalogue}

    def _item(self, sku: str) -> tuple[int, int] | None:
        if self._catalogue is None or sku not in self._catalogue:
            self.load_catalogue()
        return (self._catalogue or {}).get(sku)

    def load_catalogue(self) -> None:
        """Read the shop's products, and the variations of the variable ones: SKU -> (id, parent id or 0)."""
        found: dict[str, tuple[int, int]] = {}
        for product in self._all("wc/v3/products"):
            if product.get("sku"):
                found.setdefault(product["sku"], (int(product["id"]), 0))
            if product.get("type") == "variable" and product.get("variations"):
                for v in self._all(f"wc/v3/products/{product['id']}/variations"):
                    if v.get("sku"):
                        found.setdefault(v["sku"], (int(v["id"]), int(product["id"])))
        self._catalogue = found

    def _all(self, path: str) -> list[dict]:
        rows, page = [], 1
        while True:
            reply = self.client.get(path, params={"per_page": MAX_PER_PAGE, "page": page})
            data = reply.data if isinstance(reply.data, list) else []
            rows += [r for r in data if isinstance(r, dict)]
            pages = int(reply.headers.get("X-WP-TotalPages") or 1)
            if page >= pages or not data:
                return rows
            page += 1


@dataclass
class _Page:
    orders: list = field(default_factory=list)
    cancellations: list = field(default_factory=list)
    quarantined: list = field(default_factory=list)
    returns: list = field(default_factory=list)
    keys: list = field(default_factory=list)  # (modified, id) of the orders read now
    all_keys: list = field(default_factory=list)  # and of every order on the page

    def result(self, cursor: str, *, done: bool) -> PullPage:
        return PullPage(self.orders, self.cancellations, self.quarantined, cursor, done=done, returns=self.returns)


def _rows(reply, code: str) -> list:
    if not isinstance(reply.data, list):
        raise RemoteError(f"{code}: WooCommerce's order list is not a JSON array", retryable=True)
    return reply.data


def _pages(reply) -> int:
    try:
        return int(reply.headers.get("X-WP-TotalPages") or 0)
    except ValueError:
        return 0


def service_level(shipping_lines: Any) -> str:
    if not isinstance(shipping_lines, list):
        return "standard"
    text = " ".join(f"{s.get('method_title') or ''} {s.get('method_id') or ''}" for s in shipping_lines if isinstance(s, dict)).lower()
    for level, words in SERVICE_WORDS:
        if any(w in text for w in words):
            return level
    return "standard"


def _tracking_body(p: dict) -> dict:
    carrier = str(p.get("carrier") or "").strip()
    body: dict[str, Any] = {"tracking_number": str(p["tracking_number"])}
    slug = PROVIDERS.get(carrier.lower())
    if slug:
        body["tracking_provider"] = slug
    else:
        body["custom_tracking_provider"] = carrier or "Other"
    if p.get("shipped_at"):
        body["date_shipped"] = str(p["shipped_at"])[:10]
    return body


def _shipped_meta(order: dict) -> dict[str, dict[str, int]]:
    for m in order.get("meta_data") or []:
        if isinstance(m, dict) and m.get("key") == SHIPPED_META:
            try:
                value = json.loads(m.get("value") or "{}")
            except (TypeError, json.JSONDecodeError):
                return {}
            return value if isinstance(value, dict) else {}
    return {}


def _minor(value: Any, currency: str, what: str, *, negative: bool = False) -> int:
    if value is None:
        raise Unreadable(f"The {what} is missing.")
    if not isinstance(value, str):
        raise Unreadable(f"The {what} is {value!r}; WooCommerce sends money as text such as \"12.30\".")
    text = value.strip()
    sign = 1
    if negative and text.startswith("-"):
        sign, text = -1, text[1:]
    try:
        return sign * money.to_minor(text or "0", currency)
    except InvalidInput as exc:
        raise Unreadable(f"The {what} is not an amount of money: {exc}") from None


def _s(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _parse_gmt(value: Any, *, what: str = "time") -> datetime:
    """A ``*_gmt`` date (WooCommerce prints it without an offset) or one of our own cursor times."""
    if not isinstance(value, str) or not value:
        raise Unreadable(f"The {what} is missing.")
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Unreadable(f"The {what} {value!r} is not a date and time.") from None
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def _gmt(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _key(raw: Any) -> tuple[datetime, int] | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), int):
        return None
    try:
        return _parse_gmt(raw.get("date_modified_gmt")), raw["id"]
    except Unreadable:
        return None


def _ref(raw: Any) -> str:
    if isinstance(raw, dict):
        for key in ("id", "number"):
            if raw.get(key) not in (None, ""):
                return str(raw[key])
    return "(no id)"


def _read_cursor(cursor: str | None) -> dict:
    if not cursor:
        return {}
    try:
        state = json.loads(cursor)
    except json.JSONDecodeError:
        raise PermanentError(f"The stored WooCommerce cursor is not valid: {cursor[:80]!r}") from None
    return state if isinstance(state, dict) else {}


def _obj(reply) -> dict:
    if not isinstance(reply.data, dict):
        raise RemoteError("WooCommerce answered with something other than a JSON object", status=reply.status, retryable=True)
    return reply.data


def _build(code: str, base_url: str, secret: str, options: dict, **http_options) -> WooCommerceChannel:
    return WooCommerceChannel(code, base_url, secret, location_map=options.get("location_map") or None, **http_options)


def _emulator(secret: str, port: int = 0, state_file=None, **kw) -> WooCommerceEmulator:
    key, sec = split_keys(secret, strict=False)
    return WooCommerceEmulator(consumer_key=key, consumer_secret=sec, port=port, state_file=state_file, **kw)


SPEC = ConnectorSpec(
    kind="woocommerce", role="channel", title="WooCommerce", build=_build,
    address_title=_("Shop address"), address_hint="https://shop.example.com",
    secret_title=_("API keys"), secret_hint=_("consumer key:consumer secret (ck_…:cs_…)"),
    default_interval_s=60,
    settings=(Setting("location_map", _("Locations in the shop"), _("our code=the shop's location id, e.g. RNO=1, EWR=2"),
            parse=location_map, show=lambda m: ", ".join(f"{k}={v}" for k, v in (m or {}).items())),),
    test=lambda connector: connector.check_connection(),
    emulator=_emulator, demo_secret=lambda word: f"ck_{word}:cs_{word}",
)
