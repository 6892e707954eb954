"""EasyPost as a carrier: rates, label purchase (bought once, however often asked), refunds and tracking.

Decisions worth knowing:
- The label comes in the format the station's printer takes: each purchase names it
  (``label_format`` on rates and buy, from the outbox row), so a thermal station gets ZPL
  and an office printer PDF from the same connection. The connection's own
  ``label_format`` is only the fallback for a caller that names none.
- A return label (an RMA's) is an EasyPost return shipment: ``is_return`` with the outbound addresses, which
  EasyPost swaps, so the label reads from the customer to the warehouse.
- A label already made in another format (bought earlier, or by another station) is
  converted by EasyPost itself (``GET /shipments/:id/label?file_format=...``) rather
  than by us, so the carrier's barcodes stay the carrier's.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from decimal import ROUND_CEILING, Decimal
from typing import Any

from oms.core import money
from oms.core.errors import InvalidInput
from oms.core.i18n import _

from ..base import AddressData, LabelPurchase, Parcel, PermanentError, RateQuote, RemoteError, TrackingUpdate
from ..emulators.easypost import EasyPostEmulator
from ..http import HttpClient
from ..registry import ConnectorSpec

log = logging.getLogger(__name__)

GRAMS_PER_OUNCE = Decimal("28.349523125")
MM_PER_INCH = Decimal("25.4")
TENTH = Decimal("0.1")
# EasyPost tracker statuses -> ours. "available_for_pickup" is the last mile with the customer to act,
# so it counts as out for delivery; "cancelled" and "error" mean the tracker is no use: failure / unknown.
STATUS = {
    "pre_transit": "pre_transit", "in_transit": "in_transit", "out_for_delivery": "out_for_delivery",
    "delivered": "delivered", "available_for_pickup": "out_for_delivery", "return_to_sender": "return_to_sender",
    "failure": "failure", "cancelled": "failure", "error": "unknown", "unknown": "unknown",
}


# What a label file is, by its first bytes: EasyPost's label formats we can print or convert.
LABEL_FORMATS = ("PDF", "ZPL", "PNG")
CONVERTIBLE = ("PDF", "ZPL", "EPL2")  # EasyPost converts a bought label to these on request (not to PNG)


def label_kind(content: bytes) -> str | None:
    """'PDF', 'ZPL' or 'PNG' from a label file's first bytes; None for anything else."""
    head = content.lstrip()[:8]
    if head.startswith(b"%PDF"):
        return "PDF"
    if head.startswith(b"^XA") or head.startswith(b"~"):
        return "ZPL"
    if head.startswith(b"\x89PNG"):
        return "PNG"
    return None


class EasyPostCarrier:
    """``CarrierConnector`` for one EasyPost account (test or production key)."""

    def __init__(self, code: str, api_key: str, *, base_url: str = "https://api.easypost.com",
                 client: HttpClient | None = None, label_format: str = "PDF"):
        if label_format.upper() not in LABEL_FORMATS:
            raise ValueError("label_format must be PDF, ZPL or PNG")
        self.code = code
        self.label_format = label_format.upper()
        self.client = client or self.make_client(base_url, api_key)

    def _format(self, label_format: str | None) -> str:
        fmt = (label_format or self.label_format).upper()
        if fmt not in LABEL_FORMATS:
            raise PermanentError(f"A label cannot be asked for as {label_format!r}; PDF, ZPL or PNG.")
        return fmt

    @staticmethod
    def make_client(base_url: str, api_key: str, **http_options) -> HttpClient:
        """An HttpClient for EasyPost's v2 API (HTTP basic auth, key as user name); pass ``sleep=...`` in tests."""
        return HttpClient(f"{base_url.rstrip('/')}/v2", auth=(api_key, ""), **http_options)

    # -- rates ----------------------------------------------------------------------------------

    def check_connection(self) -> str:
        """A cheap call that proves the address and the key: the account's first saved address, if any."""
        _obj(self.client.get("addresses", params={"page_size": 1}))
        return _("EasyPost accepted the key.")

    def rates(self, ship_from: AddressData, ship_to: AddressData, parcels: list[Parcel], *, reference: str,
              label_format: str | None = None, is_return: bool = False) -> tuple[str, list[RateQuote]]:
        if len(parcels) != 1:
            raise PermanentError(f"EasyPost labels one parcel per shipment; shipment {reference} has {len(parcels)} parcels.")
        body = {"shipment": {
            "to_address": _address(ship_to), "from_address": _address(ship_from), "parcel": _parcel(parcels[0]),
            "options": {"label_format": self._format(label_format)}, "reference": reference,
        }}
        if is_return:  # EasyPost swaps the addresses itself: the parcel goes from the customer back to us
            body["shipment"]["is_return"] = True
        # Creating a shipment buys nothing, so repeating it after a lost answer is harmless.
        shp = _obj(self.client.post("shipments", json_body=body, idempotent=True))
        quotes = []
        for r in shp.get("rates") or []:
            try:
                quotes.append(RateQuote(r["id"], r["carrier"], r["service"], _minor(r["rate"], r.get("currency") or "USD", "rate"),
                                        money.check_currency(r.get("currency") or "USD"), _days(r)))
            except (KeyError, InvalidInput, PermanentError) as exc:
                log.warning("%s: ignoring an unreadable rate on %s: %s", self.code, shp.get("id"), exc)
        if not quotes and shp.get("messages"):
            text = "; ".join(f"{m.get('carrier')}: {m.get('message')}" for m in shp["messages"] if isinstance(m, dict))
            raise PermanentError(f"EasyPost offered no rates for {reference}: {text}")
        return shp["id"], quotes

    # -- labels ---------------------------------------------------------------------------------

    def buy(self, remote_shipment_id: str, rate_id: str, *, idempotency_key: str,
            label_format: str | None = None) -> LabelPurchase:
        """Read before write: a shipment that already has postage is not bought again."""
        shp = self._get(remote_shipment_id)
        if not shp.get("postage_label"):
            try:
                shp = _obj(self.client.post(f"shipments/{remote_shipment_id}/buy", json_body={"rate": {"id": rate_id}}))
            except PermanentError:
                shp = self._get(remote_shipment_id)  # bought by an earlier try whose answer was lost?
                if not shp.get("postage_label"):
                    raise
        elif (shp.get("selected_rate") or {}).get("id") != rate_id:
            log.warning("%s: %s was already bought with another rate; keeping that label (%s)",
                        self.code, remote_shipment_id, idempotency_key)
        return self._purchase(shp, self._format(label_format))

    def _purchase(self, shp: dict, wanted: str) -> LabelPurchase:
        label, rate = shp["postage_label"], shp.get("selected_rate") or {}
        url = label.get(f"label_{wanted.lower()}_url")
        if not url and wanted in CONVERTIBLE and _file_kind(label) != wanted:
            # Made in another format (an earlier purchase, another station): EasyPost converts its own label.
            shp = _obj(self.client.get(f"shipments/{shp['id']}/label", params={"file_format": wanted}))
            label = shp.get("postage_label") or label
            url = label.get(f"label_{wanted.lower()}_url")
        url = url or label.get("label_url")
        content = self.client.get(url, expect_json=False).content
        kind = label_kind(content)
        if kind is None:
            raise PermanentError(f"The label for {shp['id']} is not PDF, ZPL or PNG ({label.get('label_file_type')}).")
        currency = rate.get("currency") or "USD"
        return LabelPurchase(
            remote_shipment_id=shp["id"], tracking_number=shp.get("tracking_code") or "", carrier=rate.get("carrier", ""),
            service=rate.get("service", ""), amount_minor=_minor(rate.get("rate"), currency, "label price"),
            currency=money.check_currency(currency), label_pdf=content if kind == "PDF" else None,
            label_zpl=content if kind == "ZPL" else None, tracker_id=(shp.get("tracker") or {}).get("id"),
            label_png=content if kind == "PNG" else None,
        )

    def refund(self, remote_shipment_id: str) -> str:
        shp = self._get(remote_shipment_id)
        if shp.get("refund_status"):
            return shp["refund_status"]
        if not shp.get("postage_label"):
            return "not_purchased"
        try:
            shp = _obj(self.client.post(f"shipments/{remote_shipment_id}/refund", json_body={}))
        except PermanentError:
            again = self._get(remote_shipment_id)
            if again.get("refund_status"):
                return again["refund_status"]
            raise
        return shp.get("refund_status") or "submitted"

    # -- tracking -------------------------------------------------------------------------------

    def track(self, tracker_or_tracking: str) -> list[TrackingUpdate]:
        ref = tracker_or_tracking.strip()
        if ref.startswith("trk_"):
            t = _obj(self.client.get(f"trackers/{ref}"))
        else:  # EasyPost answers a known tracking code with its existing tracker
            t = _obj(self.client.post("trackers", json_body={"tracker": {"tracking_code": ref}}, idempotent=True))
        code = t.get("tracking_code") or ref
        updates = []
        for d in t.get("tracking_details") or []:
            try:
                when = _time(d["datetime"])
            except (KeyError, ValueError, TypeError):
                log.warning("%s: tracking event without a readable time on %s", self.code, code)
                continue
            loc = d.get("tracking_location") or {}
            updates.append(TrackingUpdate(code, STATUS.get(d.get("status") or "", "unknown"), when,
                                          description=str(d.get("message") or d.get("description") or ""),
                                          city=str(loc.get("city") or "").title()))
        return updates

    def _get(self, remote_shipment_id: str) -> dict:
        return _obj(self.client.get(f"shipments/{remote_shipment_id}"))


def _file_kind(label: dict) -> str:
    """The format of the file a PostageLabel points at, from its MIME type ("application/zpl" -> "ZPL")."""
    mime = str(label.get("label_file_type") or "").lower()
    return next((f for f in ("PDF", "ZPL", "PNG", "EPL2") if f.lower() in mime), "")


def _address(a: AddressData) -> dict:
    return {"name": a.name, "company": a.company, "street1": a.street1, "street2": a.street2, "city": a.city,
            "state": a.state, "zip": a.zip, "country": a.country, "phone": a.phone, "email": a.email}


def _parcel(p: Parcel) -> dict:
    """Grams and millimetres -> EasyPost's ounces and inches, rounded up to a tenth (never under-declare)."""
    out: dict[str, Any] = {"weight": float((Decimal(p.weight_g) / GRAMS_PER_OUNCE).quantize(TENTH, ROUND_CEILING))}
    for name, mm in (("length", p.length_mm), ("width", p.width_mm), ("height", p.height_mm)):
        if mm:
            out[name] = float((Decimal(mm) / MM_PER_INCH).quantize(TENTH, ROUND_CEILING))
    return out


def _minor(value: Any, currency: str, what: str) -> int:
    if not isinstance(value, str):
        raise PermanentError(f"EasyPost sent the {what} as {value!r}, not as text such as \"8.20\".")
    try:
        return money.to_minor(value, currency)
    except InvalidInput as exc:
        raise PermanentError(f"EasyPost sent a {what} that is not an amount of money: {exc}") from None


def _days(rate: dict) -> int | None:
    days = rate.get("delivery_days") if rate.get("delivery_days") is not None else rate.get("est_delivery_days")
    return days if isinstance(days, int) and not isinstance(days, bool) else None


def _time(value: str) -> datetime:
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def _obj(reply) -> dict:
    if not isinstance(reply.data, dict):
        raise RemoteError("EasyPost answered with something other than a JSON object", status=reply.status, retryable=True)
    return reply.data


def _build(code: str, base_url: str, api_key: str, options: dict, **http_options) -> EasyPostCarrier:
    client = EasyPostCarrier.make_client(base_url, api_key, **http_options) if http_options else None
    return EasyPostCarrier(code, api_key, base_url=base_url, client=client, label_format=options.get("label_format", "PDF"))


SPEC = ConnectorSpec(
    kind="easypost", role="carrier", title="EasyPost", build=_build,
    address_title=_("API address"), address_hint="https://api.easypost.com", default_address="https://api.easypost.com",
    secret_title=_("API key"), secret_hint=_("API key"), default_interval_s=30,
    test=lambda connector: connector.check_connection(),
    emulator=lambda secret, port=0, state_file=None, **kw: EasyPostEmulator(api_key=secret, port=port, state_file=state_file, **kw),
)
