"""Shopify as a sales channel: orders in through the Admin REST API, fulfilments, captures and stock out.

Decisions worth knowing:

* A line item without a SKU (custom items, storefront breakage) is imported with the SKU
  ``SHOPIFY-VARIANT-<variant_id>`` (or ``SHOPIFY-LINE-<line id>`` when there is no variant),
  so the order arrives and is held as "unknown SKU" for a person to map; it is never dropped.
* Line quantities are ``current_quantity`` when Shopify sends it (order edits); a line edited
  down to 0 is left out. Amounts prefer ``current_*`` then the plain field, and for each the
  ``*_set.shop_money`` amount (shop currency). Money must arrive as strings: a number is refused.
* A cancelled order is returned both as an order (so one never seen before still exists here)
  and as a Cancellation.
* A refund whose line items are restocked as a return (``restock_type`` "return") is a return: it opens an RMA
  (requested, once per refund id) for the units, to be received at the returns dock.
* An RMA refunded here goes to Shopify as a refund (``refund.create``) once: its note names the RMA, which is how
  a retry recognises it; the units are ``no_restock`` there (Shopify's stock is ours, told from the ledger).
* Captures: ``final`` captures whatever is left on the authorization (which includes shipping
  and tax); a non-final capture is only sent when the payload says how much was captured before
  (``captured_before_minor``), since Shopify offers no idempotency key to recognise a repeat.
"""

from __future__ import annotations

import hashlib
import json
import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Mapping
from urllib.parse import parse_qs, urlsplit

from oms.core import money
from oms.core.errors import InvalidInput
from oms.core.i18n import _
from oms.orders.contract import Address, NormalizedLine, NormalizedOrder, check_order
from oms.returns.channel import ChannelReturn

from ..base import Cancellation, OutboundMessage, PermanentError, PullPage, Quarantine, RemoteError
from ..emulators.shopify import ShopifyEmulator
from ..http import HttpClient
from ..registry import ConnectorSpec, Setting, location_map

log = logging.getLogger(__name__)

SERVICE_WORDS = (  # first match wins; checked against the shipping line's title and code
    ("overnight", ("overnight", "next day", "next-day", "1 day", "one day", "priority overnight")),
    ("expedited", ("express", "expedited", "priority", "2 day", "2-day", "two day", "two-day", "rush")),
)
CANCEL_REASONS = {"customer": "customer", "fraud": "fraud", "stock": "inventory", "inventory": "inventory",
                  "declined": "declined", "payment": "declined"}


class Unreadable(ValueError):
    """A Shopify order we cannot turn into ours; the message is shown to a person."""


class ShopifyChannel:
    """``ChannelConnector`` for one Shopify shop.

    Cursor (opaque to the engine, JSON): ``{"since": ISO time or null, "page_info": token or
    null, "hw": ISO time (highest updated_at seen in this pass), "last": digest of the last
    page's ids}``. Between passes only ``since`` is kept: the highest updated_at seen minus
    ``overlap``; the re-read overlap is harmless because import is idempotent.
    """

    def __init__(
        self,
        code: str,
        shop_url: str,
        token: str,
        *,
        api_version: str = "2024-10",
        client: HttpClient | None = None,
        location_map: Mapping[str, int] | None = None,
        page_size: int = 250,
        overlap: timedelta = timedelta(minutes=2),
        start_at: datetime | None = None,
        notify_customer: bool = True,
    ):
        self.code = code
        self.client = client or self.make_client(shop_url, token, api_version=api_version)
        self.location_map = dict(location_map or {})
        self.page_size = max(1, min(250, page_size))
        self.overlap = overlap
        self.start_at = start_at
        self.notify_customer = notify_customer
        self._items: dict[str, int] | None = None  # sku -> inventory_item_id
        self._locations: list[dict] | None = None

    @staticmethod
    def make_client(shop_url: str, token: str, *, api_version: str = "2024-10", **http_options) -> HttpClient:
        """An HttpClient for the shop's Admin API; pass ``sleep=...`` etc. in tests."""
        return HttpClient(f"{shop_url.rstrip('/')}/admin/api/{api_version}", headers={"X-Shopify-Access-Token": token},
                          **http_options)

    # -- pull -----------------------------------------------------------------------------------

    def check_connection(self) -> str:
        """A cheap call that proves the address and the token: the shop's locations (read for stock anyway)."""
        locations = _data(self.client.get("locations.json")).get("locations", [])
        return _("The shop answered: {n} locations ({names}).").format(
            n=len(locations), names=", ".join(str(l.get("name", l.get("id"))) for l in locations[:4]) or "—")

    def pull_orders(self, cursor: str | None) -> PullPage:
        state = _read_cursor(cursor)
        since = state.get("since") or (_iso(self.start_at) if self.start_at else None)
        page_info = state.get("page_info")
        if page_info:
            params: dict[str, Any] = {"limit": self.page_size, "page_info": page_info}
        else:
            params = self._first_page_params(since)
        try:
            reply = self.client.get("orders.json", params=params)
        except PermanentError as exc:
            if not page_info or exc.status not in (400, 404, 422):
                raise
            # An expired or refused page token: start this pass again from ``since``; repeats are harmless.
            log.warning("%s: page token refused (%s); restarting from %s", self.code, exc, since)
            state, page_info = {"since": since}, None
            reply = self.client.get("orders.json", params=self._first_page_params(since))
        raw_orders = reply.data.get("orders") if isinstance(reply.data, dict) else None
        if not isinstance(raw_orders, list):
            raise RemoteError(f"{self.code}: Shopify's order list has no 'orders' array", retryable=True)

        ids = [str(o.get("id")) if isinstance(o, dict) else "?" for o in raw_orders]
        digest = hashlib.sha1(",".join(ids).encode()).hexdigest()[:16]
        hw = _parse_time(state["hw"]) if state.get("hw") else None
        orders, cancellations, quarantined, returned = [], [], [], []
        repeat = bool(page_info) and raw_orders and digest == state.get("last")
        if repeat:
            log.info("%s: Shopify served the same page twice; skipping the repeat", self.code)
        else:
            for raw in raw_orders:
                updated = _updated_at(raw)
                if updated and (hw is None or updated > hw):
                    hw = updated
                try:
                    order, cancel = self.map_order(raw)
                except (Unreadable, InvalidInput) as exc:
                    quarantined.append(Quarantine(_ref(raw), json.dumps(raw, ensure_ascii=False), str(exc)))
                    continue
                orders.append(order)
                if cancel:
                    cancellations.append(cancel)
                returned.extend(self.map_returns(raw))

        next_info = _page_info(reply.links.get("next"))
        if next_info:
            nxt = {"since": since, "page_info": next_info, "hw": _iso(hw) if hw else None, "last": digest}
            return PullPage(orders, cancellations, quarantined, json.dumps(nxt), done=False, returns=returned)
        new_since = since
        if hw is not None:
            candidate = hw - self.overlap
            if since is None or candidate > _parse_time(since):
                new_since = _iso(candidate)
        return PullPage(orders, cancellations, quarantined, json.dumps({"since": new_since}), done=True, returns=returned)

    def parse_raw(self, raw: str) -> PullPage:
        """Read a quarantined order again (the engine's retry): the same mapping as a pulled one."""
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            return PullPage([], quarantined=[Quarantine("(no id)", raw, f"The text is not JSON: {exc}")])
        try:
            order, cancel = self.map_order(data)
        except (Unreadable, InvalidInput) as exc:
            return PullPage([], quarantined=[Quarantine(_ref(data), raw, str(exc))])
        return PullPage([order], [cancel] if cancel else [])

    def _first_page_params(self, since: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {"status": "any", "limit": self.page_size, "order": "updated_at asc"}
        if since:
            params["updated_at_min"] = since
        return params

    # -- mapping --------------------------------------------------------------------------------

    @staticmethod
    def map_returns(o: dict) -> list[ChannelReturn]:
        """The order's refunds whose line items were restocked as a return (``restock_type`` "return"): goods coming
        back, each an RMA here. A refund that restocks nothing ("no_restock": the customer keeps the goods) or cancels
        unshipped units ("cancel") is no return."""
        out = []
        for r in o.get("refunds") or []:
            if not isinstance(r, dict) or r.get("id") is None:
                continue
            lines = []
            for rli in r.get("refund_line_items") or []:
                qty = rli.get("quantity") if isinstance(rli, dict) else None
                if rli.get("restock_type") == "return" and isinstance(qty, int) and qty > 0 and rli.get("line_item_id") is not None:
                    lines.append((str(rli["line_item_id"]), qty))
            if lines:
                out.append(ChannelReturn(f"refund-{r['id']}", str(o.get("id")), tuple(lines), note=_s(r.get("note"))))
        return out

    def map_order(self, o: Any) -> tuple[NormalizedOrder, Cancellation | None]:
        """One Shopify order -> ours (checked by oms), plus its cancellation when it was cancelled."""
        if not isinstance(o, dict):
            raise Unreadable("The order is not a JSON object.")
        oid = o.get("id")
        if not isinstance(oid, int) or isinstance(oid, bool):
            raise Unreadable("The order has no numeric id.")
        currency = o.get("currency")
        if not isinstance(currency, str):
            raise Unreadable("The order has no currency.")
        currency = money.check_currency(currency)
        raw_lines = o.get("line_items")
        if not isinstance(raw_lines, list):
            raise Unreadable("The order has no line items.")
        lines, edited = [], False
        for i, li in enumerate(raw_lines, 1):
            if not isinstance(li, dict) or not isinstance(li.get("id"), int):
                raise Unreadable(f"Line {i} has no numeric id.")
            qty = li.get("current_quantity", li.get("quantity"))
            if not isinstance(qty, int) or isinstance(qty, bool) or qty < 0:
                raise Unreadable(f"Line {i} has no whole quantity ({qty!r}).")
            edited = edited or qty != li.get("quantity")
            if qty == 0:
                continue  # removed by an order edit in Shopify
            sku = (li.get("sku") or "").strip() if isinstance(li.get("sku") or "", str) else ""
            if not sku:
                sku = f"SHOPIFY-VARIANT-{li['variant_id']}" if li.get("variant_id") else f"SHOPIFY-LINE-{li['id']}"
            title = str(li.get("title") or li.get("name") or "")
            variant = li.get("variant_title")
            if variant and variant != "Default Title":
                title = f"{title} - {variant}"
            lines.append(NormalizedLine(str(li["id"]), sku, qty, self._money(li, currency, "price", what=f"price of line {i}"), title))

        subtotal = self._money(o, currency, "total_line_items_price", what="line items total", default="0")
        if edited:
            subtotal = sum(l.quantity * l.unit_price_minor for l in lines)
        shipping_lines = o.get("shipping_lines") or []
        if not isinstance(shipping_lines, list):
            raise Unreadable("The shipping lines are not a list.")
        if isinstance(o.get("total_shipping_price_set"), dict):
            shipping = self._money(o, currency, "total_shipping_price", what="shipping")
        else:
            shipping = sum(self._money(s, currency, "price", what="shipping line price") for s in shipping_lines if isinstance(s, dict))
        tax = self._money(o, currency, "current_total_tax", "total_tax", what="tax", default="0")
        discount = self._money(o, currency, "current_total_discounts", "total_discounts", what="discounts", default="0")
        total = self._money(o, currency, "current_total_price", "total_price", what="total")

        customer = o.get("customer") if isinstance(o.get("customer"), dict) else {}
        ship = o.get("shipping_address") if isinstance(o.get("shipping_address"), dict) else None
        addr = ship or (o.get("billing_address") if isinstance(o.get("billing_address"), dict) else {})
        addr_name = _s(addr.get("name")) or " ".join(filter(None, (_s(addr.get("first_name")), _s(addr.get("last_name")))))
        customer_name = " ".join(filter(None, (_s(customer.get("first_name")), _s(customer.get("last_name"))))) or addr_name
        placed = _parse_time(o.get("created_at") or o.get("processed_at") or "", what="order date")
        order = NormalizedOrder(
            channel=self.code, external_id=str(oid), number=_s(o.get("name")) or str(o.get("order_number") or oid),
            placed_at=placed, currency=currency, lines=tuple(lines), order_type="dtc",
            customer_name=customer_name, customer_email=_s(o.get("email")) or _s(o.get("contact_email")) or _s(customer.get("email")),
            ship_to=Address(
                name=addr_name, company=_s(addr.get("company")), address1=_s(addr.get("address1")), address2=_s(addr.get("address2")),
                city=_s(addr.get("city")), region=_s(addr.get("province_code")) or _s(addr.get("province")),
                postal_code=_s(addr.get("zip")), country=_s(addr.get("country_code")).upper(), phone=_s(addr.get("phone")),
            ),
            subtotal_minor=subtotal, shipping_minor=shipping, tax_minor=tax, discount_minor=discount, total_minor=total,
            service_level=service_level(shipping_lines),
            tags=str(o.get("tags") or ""),  # the shop's own order tags ("wholesale, gift"): routing rules can match them
        )
        order = check_order(order)
        cancel = None
        if o.get("cancelled_at"):
            reason = _s(o.get("cancel_reason")) or "other"
            cancel = Cancellation(str(oid), f"Cancelled in Shopify ({reason})", _parse_time(o["cancelled_at"], what="cancellation date"))
        return order, cancel

    @staticmethod
    def _money(obj: dict, currency: str, *names: str, what: str, default: str | None = None) -> int:
        """The first of ``names`` present, preferring its ``*_set`` shop money; strings only."""
        for name in names:
            s = obj.get(f"{name}_set")
            if isinstance(s, dict) and isinstance(s.get("shop_money"), dict) and "amount" in s["shop_money"]:
                shop = s["shop_money"]
                if shop.get("currency_code") and shop["currency_code"] != currency:
                    raise Unreadable(f"The {what} is in {shop['currency_code']}, not the order currency {currency}.")
                return _minor(shop["amount"], currency, what)
            if obj.get(name) is not None:
                return _minor(obj[name], currency, what)
        if default is not None:
            return _minor(default, currency, what)
        raise Unreadable(f"The order has no {what}.")

    # -- push -----------------------------------------------------------------------------------

    def push(self, message: OutboundMessage) -> dict[str, Any]:
        handler = {
            "fulfillment.create": self._push_fulfillment,
            "fulfillment.cancel": self._push_fulfillment_cancel,
            "payment.capture": self._push_capture,
            "order.cancelled": self._push_cancel,
            "inventory.set": self._push_inventory,
            "refund.create": self._push_refund,
        }.get(message.topic)
        if handler is None:
            return {"skipped": f"Shopify has no use for {message.topic}"}
        try:
            return handler(message.payload)
        except (KeyError, TypeError, ValueError) as exc:
            raise PermanentError(f"{message.topic} message {message.id} is missing or has a bad field: {exc}") from None

    def _push_fulfillment(self, p: dict) -> dict:
        oid = int(p["order_external_id"])
        wanted: dict[int, int] = {}
        for line in p["lines"]:
            wanted[int(line["external_line_id"])] = wanted.get(int(line["external_line_id"]), 0) + int(line["quantity"])
        tracking = p.get("tracking_number") or ""
        existing = _data(self.client.get(f"orders/{oid}/fulfillments.json")).get("fulfillments", [])
        for f in existing:
            if f.get("status") not in ("success", "pending", "open"):
                continue
            numbers = set(f.get("tracking_numbers") or []) | ({f["tracking_number"]} if f.get("tracking_number") else set())
            if tracking and tracking in numbers or not tracking and not numbers and _fulfilled_lines(f) == wanted:
                return {"fulfillment_id": f["id"], "already": True}
        fos = _data(self.client.get(f"orders/{oid}/fulfillment_orders.json")).get("fulfillment_orders", [])
        need = dict(wanted)
        groups = []
        for fo in fos:
            if fo.get("status") not in ("open", "in_progress", "scheduled"):
                continue
            items = []
            for item in fo.get("line_items", []):
                lid = item.get("line_item_id")
                take = min(need.get(lid, 0), int(item.get("fulfillable_quantity", item.get("quantity", 0))))
                if take > 0:
                    items.append({"id": item["id"], "quantity": take})
                    need[lid] -= take
            if items:
                groups.append({"fulfillment_order_id": fo["id"], "fulfillment_order_line_items": items})
        if not groups:
            return {"skipped": "nothing is left to fulfil in Shopify for these lines (fulfilled or cancelled there)"}
        body = {"fulfillment": {"line_items_by_fulfillment_order": groups, "notify_customer": self.notify_customer,
                                "tracking_info": {"number": tracking or None, "company": p.get("carrier") or None}}}
        f = _data(self.client.post("fulfillments.json", json_body=body))["fulfillment"]
        short = {str(k): v for k, v in need.items() if v > 0}
        return {"fulfillment_id": f["id"], "name": f.get("name"), **({"short": short} if short else {})}

    def _push_fulfillment_cancel(self, p: dict) -> dict:
        oid = int(p["order_external_id"])
        tracking = p.get("tracking_number") or ""
        fs = _data(self.client.get(f"orders/{oid}/fulfillments.json")).get("fulfillments", [])
        if tracking:
            fs = [f for f in fs if tracking in (set(f.get("tracking_numbers") or []) | {f.get("tracking_number")})]
        live = [f for f in fs if f.get("status") == "success"]
        if not live:
            if fs:
                return {"already": "cancelled", "fulfillment_ids": [f["id"] for f in fs]}
            return {"skipped": "Shopify has no fulfillment for this shipment"}
        if len(live) > 1:
            raise PermanentError(f"Order {oid} has {len(live)} fulfillments in Shopify and the message does not say which one "
                                 f"is shipment {p.get('shipment_id')} (no tracking number).")
        try:
            f = _data(self.client.post(f"fulfillments/{live[0]['id']}/cancel.json", json_body={}))["fulfillment"]
        except PermanentError:
            again = _data(self.client.get(f"orders/{oid}/fulfillments.json")).get("fulfillments", [])
            if any(x["id"] == live[0]["id"] and x.get("status") == "cancelled" for x in again):
                return {"already": "cancelled", "fulfillment_ids": [live[0]["id"]]}
            raise
        return {"cancelled": f["id"]}

    def _push_refund(self, p: dict) -> dict:
        """An RMA's refund, once: read before write (a refund whose note names the RMA is the one sent before, whose
        answer was lost). The units are not restocked in Shopify (``no_restock``): the stock Shopify shows is ours,
        told by inventory.set from the ledger the return went through. The money goes back against the order's
        captures and sales, never more than they hold."""
        oid = int(p["order_external_id"])
        rma = str(p["rma"])
        currency = money.check_currency(p["currency"])

        def sent_before() -> dict | None:
            refunds = _data(self.client.get(f"orders/{oid}/refunds.json")).get("refunds", [])
            return next((r for r in refunds if rma in str(r.get("note") or "")), None)

        found = sent_before()
        if found:
            return {"already": found.get("id")}
        txs = _data(self.client.get(f"orders/{oid}/transactions.json")).get("transactions", [])
        left = int(p["amount_minor"])
        transactions = []
        for t in txs:
            if t.get("kind") in ("capture", "sale") and t.get("status") == "success" and left > 0:
                back = sum(_minor(x["amount"], x.get("currency") or currency, "refund") for x in txs
                           if x.get("kind") == "refund" and x.get("status") == "success" and x.get("parent_id") == t["id"])
                room = _minor(t["amount"], t.get("currency") or currency, "payment") - back
                take = min(room, left)
                if take > 0:
                    transactions.append({"parent_id": t["id"], "amount": money.to_text(take, currency), "kind": "refund",
                                         "gateway": t.get("gateway")})
                    left -= take
        body = {"refund": {"note": f"{rma}: items returned", "notify": False, "transactions": transactions,
                           "refund_line_items": [{"line_item_id": int(l["external_line_id"]), "quantity": int(l["quantity"]),
                                                  "restock_type": "no_restock"} for l in p["lines"]]}}
        try:
            refund = _data(self.client.post(f"orders/{oid}/refunds.json", json_body=body))["refund"]
        except PermanentError:
            found = sent_before()  # made by a try whose answer was lost?
            if found:
                return {"already": found.get("id")}
            raise
        return {"refunded": refund["id"], "unpaid_minor": left}

    def _push_capture(self, p: dict) -> dict:
        oid = int(p["order_external_id"])
        currency = money.check_currency(p["currency"])
        txs = _data(self.client.get(f"orders/{oid}/transactions.json")).get("transactions", [])
        auths = [t for t in txs if t.get("kind") == "authorization" and t.get("status") == "success"]
        if not auths:
            return {"skipped": "there is no authorization to capture (paid at checkout, or never authorised)"}
        captured: dict[int, int] = {}
        for t in txs:
            if t.get("kind") == "capture" and t.get("status") == "success":
                captured[t.get("parent_id")] = captured.get(t.get("parent_id"), 0) + _minor(t["amount"], t.get("currency") or currency, "capture")
        left = {a["id"]: _minor(a["amount"], a.get("currency") or currency, "authorization") - captured.get(a["id"], 0) for a in auths}
        for a in auths:
            if (a.get("currency") or currency) != currency:
                raise PermanentError(f"Order {oid} was authorised in {a.get('currency')}, but the capture is in {currency}.")
        total_captured, total_left = sum(captured.values()), sum(left.values())
        if p.get("final"):
            amount = total_left
        elif p.get("captured_before_minor") is not None:
            amount = min(total_left, int(p["captured_before_minor"]) + int(p["amount_minor"]) - total_captured)
        else:
            return {"skipped": "a part-shipment capture is left for the final shipment's capture (no captured_before_minor)"}
        if amount <= 0:
            return {"already": "captured", "captured_minor": total_captured}
        done, captured_now = [], 0
        for a in auths:  # oldest authorization first
            take = min(amount, left[a["id"]])
            if take <= 0:
                continue
            body = {"transaction": {"kind": "capture", "amount": money.to_text(take, currency), "currency": currency, "parent_id": a["id"]}}
            t = _data(self.client.post(f"orders/{oid}/transactions.json", json_body=body))["transaction"]
            done.append(t["id"])
            captured_now += take
            amount -= take
            if amount <= 0:
                break
        return {"captured": done, "captured_minor": total_captured + captured_now}

    def _push_cancel(self, p: dict) -> dict:
        oid = int(p["external_id"])
        order = _data(self.client.get(f"orders/{oid}.json"))["order"]
        if order.get("cancelled_at"):
            return {"already": "cancelled"}
        cancelled: dict[int, int] = {}
        for line in p.get("lines") or []:
            cancelled[int(line["external_line_id"])] = cancelled.get(int(line["external_line_id"]), 0) + int(line["quantity"])
        open_lines = {li["id"]: int(li.get("fulfillable_quantity", li.get("current_quantity", li["quantity"])))
                      for li in order.get("line_items", []) if li.get("current_quantity", li["quantity"])}
        if cancelled and any(cancelled.get(lid, 0) < qty for lid, qty in open_lines.items()):
            return {"skipped": "only some lines were cancelled; Shopify cancels whole orders, so adjust this one in Shopify"}
        reason = p.get("reason") or ""
        code = next((v for k, v in CANCEL_REASONS.items() if k in reason.lower()), "other")
        try:
            self.client.post(f"orders/{oid}/cancel.json", json_body={"reason": code, "email": False, "restock": True})
        except PermanentError:
            if _data(self.client.get(f"orders/{oid}.json"))["order"].get("cancelled_at"):
                return {"already": "cancelled"}
            raise
        return {"cancelled": oid, "reason": code}

    def _push_inventory(self, p: dict) -> dict:
        sku, location_code, available = str(p["sku"]), str(p["location_code"]), p["available"]
        if not isinstance(available, int) or isinstance(available, bool):
            raise PermanentError(f"inventory.set for {sku}: available must be a whole number, not {available!r}")
        item = self._inventory_item(sku)
        if item is None:
            return {"skipped": f"SKU {sku} is not in Shopify"}
        location = self._location(location_code)
        body = {"location_id": location, "inventory_item_id": item, "available": available}
        level = _data(self.client.post("inventory_levels/set.json", json_body=body, idempotent=True))["inventory_level"]
        return {"inventory_item_id": item, "location_id": location, "available": level.get("available")}

    def _inventory_item(self, sku: str) -> int | None:
        if self._items is None or sku not in self._items:
            items: dict[str, int] = {}
            params: dict[str, Any] | None = {"limit": 250, "fields": "id,variants"}
            url = "products.json"
            while url:
                reply = self.client.get(url, params=params)
                for product in _data(reply).get("products", []):
                    for v in product.get("variants", []):
                        if v.get("sku") and v.get("inventory_item_id"):
                            items.setdefault(v["sku"], v["inventory_item_id"])
                url, params = reply.links.get("next"), None
            self._items = items
        return self._items.get(sku)

    def _location(self, code: str) -> int:
        if code in self.location_map:
            return int(self.location_map[code])
        if self._locations is None:
            self._locations = _data(self.client.get("locations.json")).get("locations", [])
        for loc in self._locations:
            if str(loc.get("name", "")).strip().lower() == code.strip().lower() or str(loc.get("id")) == code:
                return int(loc["id"])
        names = ", ".join(str(l.get("name")) for l in self._locations)
        raise PermanentError(f"No Shopify location matches {code!r} (Shopify has: {names}); add it to the location map.")


def service_level(shipping_lines: list) -> str:
    text = " ".join(f"{s.get('title') or ''} {s.get('code') or ''}" for s in shipping_lines if isinstance(s, dict)).lower()
    for level, words in SERVICE_WORDS:
        if any(w in text for w in words):
            return level
    return "standard"


def _minor(value: Any, currency: str, what: str) -> int:
    if not isinstance(value, str):
        raise Unreadable(f"The {what} is {value!r}; Shopify sends money as text such as \"12.30\".")
    try:
        return money.to_minor(value, currency)
    except InvalidInput as exc:
        raise Unreadable(f"The {what} is not an amount of money: {exc}") from None


def _s(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _parse_time(value: Any, *, what: str = "time") -> datetime:
    if not isinstance(value, str) or not value:
        raise Unreadable(f"The {what} is missing.")
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Unreadable(f"The {what} {value!r} is not a date and time.") from None
    if dt.tzinfo is None:
        raise Unreadable(f"The {what} {value!r} has no time zone.")
    return dt.astimezone(timezone.utc)


def _updated_at(raw: Any) -> datetime | None:
    try:
        return _parse_time(raw.get("updated_at")) if isinstance(raw, dict) else None
    except Unreadable:
        return None


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds")


def _ref(raw: Any) -> str:
    if isinstance(raw, dict):
        for key in ("id", "name", "order_number"):
            if raw.get(key) not in (None, ""):
                return str(raw[key])
    return "(no id)"


def _page_info(url: str | None) -> str | None:
    if not url:
        return None
    values = parse_qs(urlsplit(url).query).get("page_info")
    return values[0] if values else None


def _read_cursor(cursor: str | None) -> dict:
    if not cursor:
        return {}
    try:
        state = json.loads(cursor)
    except json.JSONDecodeError:
        raise PermanentError(f"The stored Shopify cursor is not valid: {cursor[:80]!r}") from None
    return state if isinstance(state, dict) else {}


def _data(reply) -> dict:
    if not isinstance(reply.data, dict):
        raise RemoteError("Shopify answered with something other than a JSON object", status=reply.status, retryable=True)
    return reply.data


def _fulfilled_lines(f: dict) -> dict[int, int]:
    out: dict[int, int] = {}
    for li in f.get("line_items", []):
        out[li["id"]] = out.get(li["id"], 0) + int(li["quantity"])
    return out


def _build(code: str, base_url: str, token: str, options: dict, **http_options) -> ShopifyChannel:
    extra = {k: options[k] for k in ("api_version", "location_map") if options.get(k)}
    if http_options:
        extra["client"] = ShopifyChannel.make_client(base_url, token, **(
            {"api_version": options["api_version"]} if options.get("api_version") else {}), **http_options)
    return ShopifyChannel(code, base_url, token, **extra)


SPEC = ConnectorSpec(
    kind="shopify", role="channel", title="Shopify", build=_build,
    address_title=_("Shop address"), address_hint="https://your-shop.myshopify.com",
    secret_title=_("Token"), secret_hint=_("Admin API access token (shpat_…)"),
    default_interval_s=60, demo_order=0,
    settings=(Setting("location_map", _("Locations in the shop"), _("our code=the shop's location id, e.g. RNO=655441491, EWR=655441492"),
            parse=location_map, show=lambda m: ", ".join(f"{k}={v}" for k, v in (m or {}).items())),),
    test=lambda connector: connector.check_connection(),
    emulator=lambda secret, port=0, state_file=None, **kw: ShopifyEmulator(token=secret, port=port, state_file=state_file, **kw),
)
