"""A 3PL over its JSON REST API: shipping orders out by POST, acknowledgements, shipments and stock back by feeds.

The connection serves one location of type 3PL. Each pass (the engine's pull):

1. queues a shipping order for each order with units allocated at that location and not yet sent
   (``oms.threepl.queue_new_work``): it goes out through the outbox, by POST with the message's idempotency key
   as ``Idempotency-Key``, so a resend after a lost answer, a 5xx or a killed process is the same order, once;
2. reads the order events (acknowledgements, rejections), the shipments and the stock snapshots, each feed from
   its cursor, each page written in one transaction with its cursor: a shipment is ship confirmed at the 3PL's
   location (its shorts go back to routing), a snapshot reconciles our ledger (an adjustment, "3PL snapshot");
3. raises an exception for each shipping order the 3PL has not acknowledged within ``ack_hours``.

Webhooks (``sync.threepl.webhooks``) apply a shipment as soon as the 3PL tells of it, through the same domain
call; they are not guaranteed, so this pull is what makes the books right: a shipment applied by a webhook is
seen again here and changes nothing.

A snapshot is applied only when every shipment up to its time is in (the shipments feed is read first, and a
snapshot newer than that read waits for the next pass), so a unit is never taken off twice.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

from oms import threepl
from oms.core.audit import Actor
from oms.core.db import Database
from oms.core.errors import InvalidInput, NotFound, OmsError
from oms.core.i18n import _
from oms.core.types import utcnow
from oms.integration import sync_store

from ..base import OutboundMessage, PermanentError, PullPage, RemoteError
from ..emulators._server import parse_time
from ..emulators.threepl import ThreePLEmulator
from ..http import HttpClient
from ..registry import ConnectorSpec, Setting, whole_number

log = logging.getLogger("quayside.threepl")

EVENTS, SHIPMENTS, INVENTORY = "threepl.events", "threepl.shipments", "threepl.inventory"
EXCEPTIONS = "exceptions"
PAGE = 100
_HTTP_KEYS = ("timeout", "max_attempts", "backoff_base", "backoff_max", "sleep", "rng")


def actor_for(code: str) -> Actor:
    """Who the 3PL's reports are written as: movements it reported are in its snapshots (see apply_snapshot)."""
    return Actor(f"3pl:{code}"[:64], "sync")


def advice_from(raw: Any) -> threepl.ShipmentAdvice:
    """A REST shipment as the domain's ShipmentAdvice; InvalidInput says what is wrong with it."""
    if not isinstance(raw, dict):
        raise InvalidInput(_("A shipment is a JSON object, not {kind}.").format(kind=type(raw).__name__))
    try:
        cartons = tuple(threepl.Carton(str(c.get("sscc") or "") or None, int(c.get("weight_g") or 0),
                                       tuple((str(i["line_ref"]), i["quantity"]) for i in c.get("items") or []))
                        for c in raw.get("cartons") or [])
        shorts = tuple(threepl.Short(str(s["line_ref"]), s["quantity"], str(s.get("reason") or ""))
                       for s in raw.get("shorts") or [])
        shipped_at = parse_time(raw["shipped_at"]) if raw.get("shipped_at") else None
        return threepl.ShipmentAdvice(remote_id=str(raw["id"]), reference=str(raw["reference"]), shipped_at=shipped_at,
                                      carrier=str(raw.get("carrier") or ""), service=str(raw.get("service") or ""),
                                      tracking_number=str(raw.get("tracking_number") or ""), cartons=cartons, shorts=shorts)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidInput(_("The shipment is missing or garbles {what}.").format(what=exc)) from None


def apply_shipment_payload(db: Database, code: str, raw: Any) -> str:
    """Apply one shipment as the 3PL sent it, in its own transaction: "applied", "duplicate", or "quarantined"
    (a shipment that does not fit what we sent is kept whole with the reason, never half-applied)."""
    try:
        advice = advice_from(raw)
        with db.write() as s:
            done = threepl.apply_shipment(s, actor_for(code), code, advice)
        return "duplicate" if done.duplicate else "applied"
    except OmsError as exc:
        ref = str(raw.get("id") if isinstance(raw, dict) else "") or "(no id)"
        with db.write() as s:
            sync_store.quarantine(s, code, SHIPMENTS, ref, json.dumps(raw, sort_keys=True), str(exc))
        return "quarantined"


class ThreePLRestConnector:
    """One 3PL connection over REST, for the engine: ``pull_orders`` does the pass, ``push`` sends a shipping order."""

    def __init__(self, code: str, base_url: str, token: str, *, location: str, db: Database | None = None,
                 ack_hours: float = 4.0, client: HttpClient | None = None, **http_options):
        self.code = code
        self.location = location
        self.db = db
        self.ack_hours = ack_hours
        self.actor = actor_for(code)
        options = {k: v for k, v in http_options.items() if k in _HTTP_KEYS}
        self.client = client or HttpClient(base_url, headers={"Authorization": f"Bearer {token}"}, **options)
        self._progress = ""

    # -- connection test ----------------------------------------------------------------------------------

    def check_connection(self) -> str:
        data = self.client.get("v1/account").data or {}
        return _("The 3PL answered: warehouse {name}.").format(name=data.get("warehouse", "?"))

    def register_webhook(self, url: str) -> None:
        """Ask the 3PL to tell ``url`` of each new shipment (a ``WebhookReceiver``); a shortcut, the pull stays."""
        self.client.post("v1/webhooks", json_body={"url": url}, idempotent=True)

    def progress(self) -> str:
        return self._progress

    # -- the pass ---------------------------------------------------------------------------------------------

    def _need_db(self) -> Database:
        if self.db is None:
            raise PermanentError(_("The 3PL connection {code} was built without a database.").format(code=self.code))
        return self.db

    def pull_orders(self, cursor: str | None) -> PullPage:
        db = self._need_db()
        with db.write() as s:
            threepl.queue_new_work(s, self.actor, self.code, self.location)
        self._progress = _("reading acknowledgements")
        self._pull_events(db)
        self._progress = _("reading shipments")
        shipments_as_of = self._pull_shipments(db)
        self._progress = _("reading stock")
        self._pull_inventory(db, shipments_as_of)
        self._progress = ""
        self.flag_unacknowledged(db)
        return PullPage([], next_cursor=cursor, done=True)

    def _feed(self, path: str, cursor: str | None) -> dict:
        reply = self.client.get(path, params={"cursor": cursor or "0", "limit": PAGE})
        if not isinstance(reply.data, dict) or "next_cursor" not in reply.data:
            raise RemoteError(f"GET {path}: the 3PL answered with something other than a feed page", status=reply.status)
        return reply.data

    def _pages(self, db: Database, stream: str, path: str, key: str, apply) -> str | None:
        """Read a feed from its cursor to its end; each page applied with its cursor in one transaction. Returns
        the ``as_of`` of the last page read."""
        with db.read() as s:
            cursor = sync_store.get_cursor(s, self.code, stream)
        as_of = None
        for _page in range(1000):
            data = self._feed(path, cursor)
            items = data.get(key) or []
            if not isinstance(items, list):
                raise RemoteError(f"GET {path}: {key} is not a list")
            stop = apply(items)  # how many of the items to take (the rest wait for a later pass), or None: all
            taken = len(items) if stop is None else stop
            new_cursor = str(int(cursor or 0) + taken) if stop is not None else str(data["next_cursor"])
            with db.write() as s:
                sync_store.save_cursor(s, self.code, stream, new_cursor)
                sync_store.record_success(s, self.code, pulled=taken)
            cursor = new_cursor
            as_of = data.get("as_of") or as_of
            if stop is not None or not data.get("has_more"):
                break
        return as_of

    def _pull_events(self, db: Database) -> None:
        def apply(events):
            with db.write() as s:
                for e in events:
                    try:
                        if e.get("type") == "order.acknowledged":
                            threepl.acknowledge(s, self.code, str(e["reference"]), remote_id=str(e.get("order_id") or ""),
                                                at=parse_time(e["at"]) if e.get("at") else None)
                        elif e.get("type") == "order.rejected":
                            threepl.reject(s, self.actor, self.code, str(e["reference"]), str(e.get("reason") or ""))
                    except (OmsError, KeyError, ValueError, TypeError) as exc:
                        sync_store.quarantine(s, self.code, EVENTS, str(e.get("seq", "")) if isinstance(e, dict) else "",
                                              json.dumps(e, sort_keys=True, default=str), str(exc))
            return None
        self._pages(db, EVENTS, "v1/order-events", "events", apply)

    def _pull_shipments(self, db: Database) -> str | None:
        def apply(shipments):
            for raw in shipments:
                apply_shipment_payload(db, self.code, raw)
            return None
        return self._pages(db, SHIPMENTS, "v1/shipments", "shipments", apply)

    def _pull_inventory(self, db: Database, shipments_as_of: str | None) -> None:
        limit = parse_time(shipments_as_of) if shipments_as_of else None

        def apply(snapshots):
            take = 0
            for snap in snapshots:
                try:
                    as_of = parse_time(snap["as_of"])
                    if limit is not None and as_of > limit:
                        return take  # shipments after our read may be in it: it waits for the next pass
                    with db.write() as s:
                        done = threepl.apply_snapshot(s, self.actor, self.location, [(str(snap["sku"]), snap["on_hand"])],
                                                      as_of, own_user=self.actor.user)
                        if done.unknown:
                            sync_store.quarantine(s, self.code, INVENTORY, str(snap["sku"]), json.dumps(snap, sort_keys=True),
                                                  _("The 3PL holds {sku}, which we do not sell.").format(sku=snap["sku"]))
                except (OmsError, KeyError, ValueError, TypeError) as exc:
                    with db.write() as s:
                        sync_store.quarantine(s, self.code, INVENTORY, str(snap.get("seq", "")) if isinstance(snap, dict) else "",
                                              json.dumps(snap, sort_keys=True, default=str), str(exc))
                take += 1
            return None
        self._pages(db, INVENTORY, "v1/inventory", "snapshots", apply)

    def flag_unacknowledged(self, db: Database) -> int:
        """Each shipping order sent more than ``ack_hours`` ago and not acknowledged becomes an exception, once."""
        with db.write() as s:
            late = threepl.unacknowledged(s, self.code, utcnow() - timedelta(hours=self.ack_hours))
            for tid, reference, number, sent_at in late:
                sync_store.quarantine(
                    s, self.code, EXCEPTIONS, number, f"reference={reference} sent_at={sent_at.isoformat()}",
                    _("{c} has not acknowledged order {n} (sent {when}, {hours} h allowed): ask the warehouse whether "
                      "it has it.").format(c=self.code, n=number, when=sent_at.strftime("%Y-%m-%d %H:%M UTC"),
                                           hours=f"{self.ack_hours:g}"))
            threepl.mark_flagged(s, [t[0] for t in late])
        return len(late)

    # -- out ------------------------------------------------------------------------------------------------

    def push(self, message: OutboundMessage) -> dict[str, Any]:
        if message.topic != threepl.ORDER_TOPIC:
            raise PermanentError(_("{t} cannot be sent to a 3PL.").format(t=message.topic))
        db = self._need_db()
        p = message.payload
        body = {"reference": p["reference"], "service_level": p.get("service_level") or "standard",
                "ship_to": p["ship_to"], "lines": [{k: l[k] for k in ("line_ref", "sku", "quantity")} for l in p["lines"]]}
        reply = None
        try:
            # The key makes a repeat harmless, so the client may try again on a 5xx or a dropped connection.
            reply = self.client.post("v1/orders", json_body=body, headers={"Idempotency-Key": message.idempotency_key},
                                     idempotent=True)
            answer = reply.data if isinstance(reply.data, dict) else {}
        except PermanentError as exc:
            if exc.status == 409:
                answer = self._by_reference(p["reference"])  # ours from an earlier key (a restored database)
            else:
                with db.write() as s:
                    threepl.reject(s, self.actor, self.code, p["reference"], str(exc))
                    sync_store.quarantine(s, self.code, EXCEPTIONS, p.get("order_number", p["reference"]),
                                          json.dumps(body, sort_keys=True),
                                          _("{c} refused order {n}: {error}").format(c=self.code, n=p.get("order_number"), error=exc))
                raise
        if not answer.get("id"):
            raise RemoteError(_("{c} took order {ref} without saying its number.").format(c=self.code, ref=p["reference"]))
        with db.write() as s:
            try:
                threepl.mark_sent(s, p["transmission_id"], str(answer["id"]),
                                  acknowledged_at=parse_time(answer["acknowledged_at"]) if answer.get("acknowledged_at") else None)
            except NotFound:
                pass  # the order was deleted since (a purge): the 3PL has it, nothing here to update
        return {"id": answer["id"], "replayed": bool(reply and reply.headers.get("Idempotent-Replayed") == "true")}

    def _by_reference(self, reference: str) -> dict:
        found = (self.client.get("v1/orders", params={"reference": reference}).data or {}).get("orders") or []
        if not found:
            raise RemoteError(_("{c} says reference {ref} is taken but does not find it.").format(c=self.code, ref=reference))
        return found[0]

    def close(self) -> None:
        self.client.close()


def _build(code: str, base_url: str, token: str, options: dict, *, db: Database | None = None,
           **http_options) -> ThreePLRestConnector:
    return ThreePLRestConnector(code, base_url, token, location=options.get("location") or "", db=db,
                                ack_hours=float(options.get("ack_hours") or 4), **http_options)


def _location_code(text: str) -> str:
    code = text.strip().upper()
    if not code or any(c.isspace() for c in code):
        raise InvalidInput(_("The code of one location of type 3PL, e.g. DFW3PL; not {text!r}.").format(text=text))
    return code


def _emulator(secret: str, port: int = 0, state_file=None, **kw) -> ThreePLEmulator:
    return ThreePLEmulator(token=secret, port=port, state_file=state_file, **kw)


SPEC = ConnectorSpec(
    kind="threepl_json", role="threepl", title=_("3PL over JSON REST"), build=_build,
    address_title=_("API address"), address_hint="https://api.warehouse.example.com",
    secret_title=_("API token"), secret_hint=_("the token the 3PL gave you"), default_interval_s=60,
    options={"ack_hours": 4},
    settings=(Setting("location", _("Location"), _("the 3PL location it ships from, e.g. DFW3PL"), parse=_location_code),
              Setting("ack_hours", _("Hours to acknowledge"), _("after this, an order not acknowledged is an exception"),
                      parse=whole_number)),
    test=lambda connector: connector.check_connection(),
    emulator=_emulator, demo_secret=lambda word: f"tpl_{word}", needs_db=True,
)
