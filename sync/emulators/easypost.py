"""An EasyPost API v2 stand-in on loopback: shipments (and return shipments, ``is_return``) with rates, label purchase
and files, refunds, trackers."""

from __future__ import annotations

import argparse
import base64
import io
import secrets
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ._server import EmulatorServer, Faults, HttpError, Request, Response, iso

# carrier, service, delivery days (None: the carrier gives no estimate), base price, per ounce
SERVICES = [
    ("USPS", "GroundAdvantage", 3, "5.10", "0.09"),
    ("USPS", "Priority", 2, "8.70", "0.14"),
    ("USPS", "Express", 1, "28.75", "0.30"),
    ("UPS", "Ground", 4, "9.40", "0.08"),
    ("UPS", "NextDayAir", 1, "34.10", "0.35"),
    ("FedEx", "SMART_POST", None, "7.35", "0.07"),
]
STAGES = [  # status, status_detail, message, city
    ("pre_transit", "label_created", "Shipping Label Created", "LOUISVILLE"),
    ("in_transit", "arrived_at_facility", "Arrived at Regional Facility", "INDIANAPOLIS"),
    ("out_for_delivery", "out_for_delivery", "Out for Delivery", "CHICAGO"),
    ("delivered", "arrived_at_destination", "Delivered, In/At Mailbox", "CHICAGO"),
]
INVALID = "Unable to create shipment, one or more parameters were invalid."


def _error(status: int, code: str, message: str, errors: list | None = None) -> HttpError:
    return HttpError(status, {"error": {"code": code, "message": message, "errors": errors or []}})


class EasyPostEmulator(EmulatorServer):
    name = "easypost"

    def __init__(self, *, api_key: str = "EZTK_test", tracker_step: timedelta = timedelta(hours=6),
                 carriers: list[str] | None = None, **kw):
        super().__init__(**kw)
        self.api_key = api_key
        self.tracker_step = tracker_step
        self.carriers = carriers or ["USPS", "UPS", "FedEx"]
        self.shipments: dict[str, dict] = {}
        self.trackers: dict[str, dict] = {}
        self._tracker_start: dict[str, datetime] = {}
        self.files: dict[str, tuple[bytes, str]] = {}
        self.buy_calls = 0
        r = self.route
        r("POST", r"/v2/shipments", self._create_shipment)
        r("GET", r"/v2/shipments/(?P<id>shp_\w+)", lambda q: self._shipment(q.match["id"]))
        r("POST", r"/v2/shipments/(?P<id>shp_\w+)/buy", self._buy)
        r("POST", r"/v2/shipments/(?P<id>shp_\w+)/refund", self._refund)
        r("GET", r"/v2/shipments/(?P<id>shp_\w+)/label", self._convert_label)
        r("GET", r"/v2/trackers/(?P<id>trk_\w+)", lambda q: self._tracker(q.match["id"]))
        r("POST", r"/v2/trackers", self._create_tracker)
        r("GET", r"/v2/addresses", lambda q: {"addresses": [], "has_more": False})
        r("GET", r"/files/postage_label/(?P<name>[\w.]+)", self._file, faults=False)

    # -- state kept across restarts ----------------------------------------------------------------

    def state(self) -> dict:
        return {"shipments": self.shipments, "trackers": self.trackers,
                "tracker_start": {k: v.isoformat() for k, v in self._tracker_start.items()},
                "files": {name: [base64.b64encode(data).decode("ascii"), ctype] for name, (data, ctype) in self.files.items()},
                "buy_calls": self.buy_calls}

    def restore(self, state: dict) -> None:
        self.shipments = state["shipments"]
        self.trackers = state["trackers"]
        self._tracker_start = {k: datetime.fromisoformat(v) for k, v in state["tracker_start"].items()}
        self.files = {name: (base64.b64decode(data), ctype) for name, (data, ctype) in state["files"].items()}
        self.buy_calls = int(state.get("buy_calls", 0))

    # -- test hooks -----------------------------------------------------------------------------

    def advance_tracker(self, tracker_id: str, steps: int = 1) -> None:
        """Move one parcel along its journey by ``steps`` stages."""
        with self.lock:
            self._tracker_start[tracker_id] -= self.tracker_step * steps

    def error_body(self, status: int, message: str) -> Any:
        return {"error": {"code": {401: "APIKEY.REQUIRED", 404: "NOT_FOUND", 429: "RATE_LIMITED"}.get(status, "INTERNAL_SERVER_ERROR"),
                          "message": message, "errors": []}}

    def check(self, req: Request) -> Response | None:
        if not req.path.startswith("/v2/"):
            return None
        header = req.headers.get("Authorization") or ""
        key = ""
        if header.startswith("Basic "):
            try:
                key = base64.b64decode(header[6:]).decode("utf-8").split(":", 1)[0]
            except (ValueError, UnicodeDecodeError):
                key = ""
        elif header.startswith("Bearer "):
            key = header[7:]
        if not key:
            return Response(401, {"error": {"code": "APIKEY.REQUIRED", "message": "An API key is required to access this resource.", "errors": []}})
        if key != self.api_key:
            return Response(401, {"error": {"code": "APIKEY.INACTIVE", "message": "The API key provided is invalid or no longer active.", "errors": []}})
        return None

    # -- shipments ------------------------------------------------------------------------------

    def _new(self, prefix: str) -> str:
        return f"{prefix}_{self.rng.getrandbits(128):032x}"

    def _address(self, data: Any, field: str, problems: list) -> dict:
        if not isinstance(data, dict):
            problems.append({"field": field, "message": "must be an address"})
            return {}
        for key in ("street1", "city", "zip", "country"):
            if not str(data.get(key) or "").strip():
                problems.append({"field": f"{field}.{key}", "message": "cannot be blank"})
        now = iso(self.now())
        return {"id": f"adr_{self.rng.getrandbits(96):024x}", "object": "Address", "created_at": now, "updated_at": now,
                **{k: data.get(k) for k in ("name", "company", "street1", "street2", "city", "state", "zip", "country", "phone", "email")},
                "mode": "test", "carrier_facility": None, "residential": None, "federal_tax_id": None, "state_tax_id": None,
                "verifications": {}}

    def _create_shipment(self, req: Request) -> Response:
        body = (req.json() or {}).get("shipment")
        if not isinstance(body, dict):
            raise _error(422, "PARAMETER.REQUIRED", "Missing required parameter.", [{"field": "shipment", "message": "is required"}])
        problems: list = []
        to = self._address(body.get("to_address"), "to_address", problems)
        frm = self._address(body.get("from_address"), "from_address", problems)
        parcel_in = body.get("parcel") if isinstance(body.get("parcel"), dict) else {}
        weight = parcel_in.get("weight")
        if not isinstance(weight, (int, float)) or weight <= 0:
            problems.append({"field": "parcel.weight", "message": "must be greater than 0"})
        options = body.get("options") or {}
        label_format = str(options.get("label_format") or "PNG").upper()
        if label_format not in ("PDF", "ZPL", "PNG"):
            problems.append({"field": "options.label_format", "message": "must be one of PNG, PDF, ZPL, EPL2"})
        if problems:
            raise _error(422, "SHIPMENT.INVALID_PARAMS", INVALID, problems)
        is_return = body.get("is_return") is True
        if is_return:  # as EasyPost does: the caller gives the outbound addresses, the return goes the other way
            to, frm = frm, to
        if str(to.get("zip")).strip("0") == "" or str(to.get("street1", "")).lower().startswith("nowhere"):
            raise _error(422, "ADDRESS.VERIFY.FAILURE", "Unable to verify address.",
                         [{"field": "address", "message": "Address not found"},
                          {"field": "zip", "message": f"The ZIP code {to.get('zip')} is not valid for {to.get('city')}"}])
        sid = self._new("shp")
        now = iso(self.now())
        ounces = Decimal(str(weight))
        rates = []
        for carrier, service, days, base, per_oz in SERVICES:
            if carrier not in self.carriers:
                continue
            price = (Decimal(base) + Decimal(per_oz) * ounces).quantize(Decimal("0.01"), ROUND_HALF_UP)
            retail = (price * Decimal("1.25")).quantize(Decimal("0.01"), ROUND_HALF_UP)
            rates.append({"id": self._new("rate"), "object": "Rate", "created_at": now, "updated_at": now, "mode": "test",
                          "service": service, "carrier": carrier, "rate": str(price), "currency": "USD",
                          "retail_rate": str(retail), "retail_currency": "USD", "list_rate": str(price), "list_currency": "USD",
                          "billing_type": "easypost", "delivery_days": days, "delivery_date": None,
                          "delivery_date_guaranteed": False, "est_delivery_days": days, "shipment_id": sid,
                          "carrier_account_id": f"ca_{carrier.lower()}0000000000000000000000"})
        shipment = {
            "id": sid, "object": "Shipment", "created_at": now, "updated_at": now, "is_return": is_return, "messages": [],
            "mode": "test", "options": {**options, "label_format": label_format, "currency": "USD", "payment": {"type": "SENDER"},
                                        "date_advance": 0},
            "reference": body.get("reference"), "status": "unknown", "tracking_code": None, "batch_id": None,
            "batch_status": None, "batch_message": None, "customs_info": None, "from_address": frm, "insurance": None,
            "order_id": None, "parcel": {"id": self._new("prcl"), "object": "Parcel", "created_at": now, "updated_at": now,
                                         "length": parcel_in.get("length"), "width": parcel_in.get("width"),
                                         "height": parcel_in.get("height"), "predefined_package": None, "weight": weight, "mode": "test"},
            "postage_label": None, "rates": rates, "refund_status": None, "scan_form": None, "selected_rate": None,
            "tracker": None, "to_address": to, "usps_zone": 4, "return_address": frm, "buyer_address": frm if is_return else to,
            "forms": [],
            "fees": [],
        }
        self.shipments[sid] = shipment
        return Response(201, shipment)

    def _shipment(self, sid: str) -> dict:
        shp = self.shipments.get(sid)
        if shp is None:
            raise _error(404, "SHIPMENT.NOT_FOUND", "The requested resource could not be found.")
        if shp["refund_status"] == "submitted" and self.now() - datetime.fromisoformat(shp["updated_at"].replace("Z", "+00:00")) > timedelta(hours=1):
            shp["refund_status"] = "refunded"
        if shp.get("tracker"):
            shp["tracker"] = self._tracker(shp["tracker"]["id"])
        return shp

    def _buy(self, req: Request) -> dict:
        self.buy_calls += 1
        shp = self._shipment(req.match["id"])
        if shp["postage_label"]:
            raise _error(422, "SHIPMENT.POSTAGE.EXISTS", "Postage already exists for this shipment.")
        rate_in = (req.json() or {}).get("rate")
        rate_id = rate_in.get("id") if isinstance(rate_in, dict) else rate_in
        rate = next((r for r in shp["rates"] if r["id"] == rate_id), None)
        if rate is None:
            raise _error(422, "SHIPMENT.RATE.INVALID", "The rate you selected is not valid for this shipment.",
                         [{"field": "rate", "message": f"{rate_id!r} does not belong to {shp['id']}"}])
        now = iso(self.now())
        tracking = self._tracking_code(rate["carrier"])
        fmt = shp["options"]["label_format"]
        ext = {"PDF": "pdf", "ZPL": "zpl", "PNG": "png"}[fmt]
        name = f"{secrets.token_hex(16)}.{ext}"
        self.files[name] = self._render(fmt, shp, rate, tracking)
        url = f"{self.url}/files/postage_label/{name}"
        shp["postage_label"] = {
            "object": "PostageLabel", "id": self._new("pl"), "created_at": now, "updated_at": now, "date_advance": 0,
            "integrated_form": "none", "label_date": now, "label_resolution": 300, "label_size": "4x6", "label_type": "default",
            "label_file_type": self.files[name][1], "label_url": url, "label_pdf_url": url if fmt == "PDF" else None,
            "label_zpl_url": url if fmt == "ZPL" else None, "label_epl2_url": None, "label_file": None,
        }
        shp["selected_rate"] = rate
        shp["tracking_code"] = tracking
        shp["fees"] = [{"object": "Fee", "type": "LabelFee", "amount": "0.01000", "charged": True, "refunded": False},
                       {"object": "Fee", "type": "PostageFee", "amount": f"{Decimal(rate['rate']):.5f}", "charged": True, "refunded": False}]
        tid = self._new("trk")
        self._tracker_start[tid] = self.now()
        self.trackers[tid] = {"id": tid, "object": "Tracker", "mode": "test", "tracking_code": tracking, "shipment_id": shp["id"],
                              "carrier": rate["carrier"], "created_at": now, "signed_by": None, "weight": None, "fees": [],
                              "carrier_detail": None, "public_url": f"{self.url}/track/{tid}"}
        shp["tracker"] = self._tracker(tid)
        shp["updated_at"] = now
        return shp

    def _convert_label(self, req: Request) -> dict:
        """GET /shipments/:id/label?file_format=ZPL: the bought label in another format, added to the PostageLabel."""
        shp = self._shipment(req.match["id"])
        if not shp["postage_label"]:
            raise _error(422, "SHIPMENT.POSTAGE.REQUIRED", "This shipment has no postage label to convert.")
        fmt = str(req.query.get("file_format") or "").upper()
        if fmt not in ("PDF", "ZPL", "EPL2"):
            raise _error(422, "SHIPMENT.LABEL.INVALID_PARAMS", "Invalid file_format.",
                         [{"field": "file_format", "message": "must be one of PDF, ZPL, EPL2"}])
        key = f"label_{fmt.lower()}_url"
        if not shp["postage_label"].get(key):
            if fmt == "EPL2":
                raise _error(422, "SHIPMENT.LABEL.UNAVAILABLE", "EPL2 labels are not available for this carrier.")
            name = f"{secrets.token_hex(16)}.{fmt.lower()}"
            self.files[name] = self._render(fmt, shp, shp["selected_rate"], shp["tracking_code"])
            shp["postage_label"][key] = f"{self.url}/files/postage_label/{name}"
            shp["postage_label"]["updated_at"] = iso(self.now())
        return shp

    def _refund(self, req: Request) -> dict:
        shp = self._shipment(req.match["id"])
        if not shp["postage_label"]:
            raise _error(422, "SHIPMENT.REFUND.UNAVAILABLE", "This shipment has no postage to refund.")
        if shp["refund_status"]:
            raise _error(422, "SHIPMENT.REFUND.ALREADY_REQUESTED", f"A refund has already been requested ({shp['refund_status']}).")
        stage = self._stage(shp["tracker"]["id"])
        if stage > 0:
            raise _error(422, "SHIPMENT.REFUND.UNAVAILABLE", "The carrier has already scanned this package; it cannot be refunded.")
        shp["refund_status"] = "submitted"
        shp["updated_at"] = iso(self.now())
        return shp

    def _tracking_code(self, carrier: str) -> str:
        digits = "".join(str(self.rng.randint(0, 9)) for _ in range(18))
        if carrier == "UPS":
            return "1Z" + digits[:16].upper()
        if carrier == "FedEx":
            return digits[:12]
        return "9400" + digits

    def _render(self, fmt: str, shp: dict, rate: dict, tracking: str) -> tuple[bytes, str]:
        to = shp["to_address"]
        lines = [f"{rate['carrier']} {rate['service']}", str(to.get("name") or ""), str(to.get("street1") or ""),
                 f"{to.get('city') or ''} {to.get('state') or ''} {to.get('zip') or ''}", f"TRACKING # {tracking}"]
        if fmt == "ZPL":
            body = "".join(f"^FO50,{60 + i * 50}^A0N,40,40^FD{t}^FS" for i, t in enumerate(lines))
            zpl = f"^XA^CI28^PW812^LL1218{body}^FO50,400^BY3^BCN,200,Y,N,N^FD{tracking}^FS^XZ\n"
            return zpl.encode("utf-8"), "application/zpl"
        from reportlab.graphics.barcode import code128
        from reportlab.lib.units import inch
        from reportlab.pdfgen import canvas

        buf = io.BytesIO()
        c = canvas.Canvas(buf, pagesize=(4 * inch, 6 * inch))
        c.setTitle(f"Label {tracking}")
        y = 5.5 * inch
        for i, text in enumerate(lines):
            c.setFont("Helvetica-Bold" if i == 0 else "Helvetica", 14 if i == 0 else 11)
            c.drawString(0.3 * inch, y, text)
            y -= 0.3 * inch
        code128.Code128(tracking, barHeight=0.9 * inch, barWidth=1.1).drawOn(c, 0.2 * inch, 1.5 * inch)
        c.showPage()
        c.save()
        if fmt == "PNG":  # EasyPost's PNG labels are 4x6 images at 300 dpi (label_resolution)
            import pypdfium2

            pdf = pypdfium2.PdfDocument(buf.getvalue())
            try:
                image = pdf[0].render(scale=300 / 72).to_pil().convert("L")
            finally:
                pdf.close()
            png = io.BytesIO()
            image.save(png, format="PNG", dpi=(300, 300))
            return png.getvalue(), "image/png"
        return buf.getvalue(), "application/pdf"

    def _file(self, req: Request) -> Response:
        found = self.files.get(req.match["name"])
        if found is None:
            return Response(404, b"<Error><Code>NoSuchKey</Code></Error>", content_type="application/xml", faultable=False)
        return Response(200, found[0], content_type=found[1], faultable=False)

    # -- trackers -------------------------------------------------------------------------------

    def _stage(self, tid: str) -> int:
        elapsed = self.now() - self._tracker_start[tid]
        return max(0, min(len(STAGES) - 1, int(elapsed / self.tracker_step)))

    def _tracker(self, tid: str) -> dict:
        t = self.trackers.get(tid)
        if t is None:
            raise _error(404, "TRACKER.NOT_FOUND", "The requested resource could not be found.")
        if tid not in self._tracker_start:  # a tracker for a code we never labelled: nothing known yet
            return {**t, "status": "unknown", "status_detail": "unknown", "tracking_details": [], "updated_at": t["created_at"]}
        start, stage = self._tracker_start[tid], self._stage(tid)
        details = []
        for i in range(stage + 1):
            status, detail, message, city = STAGES[i]
            details.append({"object": "TrackingDetail", "message": message, "description": "", "status": status,
                            "status_detail": detail, "datetime": iso(start + self.tracker_step * i + timedelta(minutes=7)),
                            "source": t["carrier"], "carrier_code": "",
                            "tracking_location": {"object": "TrackingLocation", "city": city, "state": None, "country": "US", "zip": None},
                            "est_delivery_date": None})
        est = start + self.tracker_step * (len(STAGES) - 1)
        return {**t, "status": STAGES[stage][0], "status_detail": STAGES[stage][1], "tracking_details": details,
                "est_delivery_date": iso(est), "updated_at": details[-1]["datetime"]}

    def _create_tracker(self, req: Request) -> Response:
        body = (req.json() or {}).get("tracker") or {}
        code = str(body.get("tracking_code") or "").strip()
        if not code:
            raise _error(422, "TRACKER.INVALID_PARAMS", INVALID.replace("shipment", "tracker"),
                         [{"field": "tracking_code", "message": "cannot be blank"}])
        for tid, t in self.trackers.items():  # EasyPost returns the existing tracker for a known code
            if t["tracking_code"] == code:
                return Response(200, self._tracker(tid))
        tid = self._new("trk")
        self.trackers[tid] = {"id": tid, "object": "Tracker", "mode": "test", "tracking_code": code, "shipment_id": None,
                              "carrier": body.get("carrier") or "USPS", "created_at": iso(self.now()), "signed_by": None,
                              "weight": None, "fees": [], "carrier_detail": None, "public_url": f"{self.url}/track/{tid}"}
        return Response(201, self._tracker(tid))


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m sync.emulators.easypost", description="EasyPost API v2 emulator on loopback.")
    p.add_argument("--port", type=int, default=8802)
    p.add_argument("--faults", action="store_true", help="misbehave: 429 bursts, 5xx, slow and dropped calls, bad JSON")
    p.add_argument("--api-key", default="EZTK_test", help="the API key to accept (HTTP basic auth user name)")
    p.add_argument("--tracker-step-minutes", type=float, default=2.0, help="emulated time between tracking stages")
    p.add_argument("--state", metavar="FILE", help="keep shipments, labels and trackers in FILE across restarts")
    args = p.parse_args(argv)
    emu = EasyPostEmulator(port=args.port, api_key=args.api_key, tracker_step=timedelta(minutes=args.tracker_step_minutes),
                           faults=Faults.chaos() if args.faults else None, state_file=args.state)
    emu.load()
    print(f"base URL: http://127.0.0.1:{args.port}  (API key: the --api-key value)")
    emu.serve_forever()


if __name__ == "__main__":
    main()
