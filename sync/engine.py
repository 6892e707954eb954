"""The sync engine: pulls orders page by page with cursors, pushes the outbox in order, survives being offline.

Each pulled page is written in one transaction together with its cursor, so a crash
resumes at the page after the last one committed, without loss or duplicates (the
import is idempotent anyway). Outbox rows are delivered per destination in id order,
at least once; connectors make each remote call idempotent. A connector that takes many
messages of a topic in one call (``push_batch``, see ``sync.base``) is handed every due
message of that topic at once, at the place of the first of them, and each message's
outcome is recorded on its own.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import select

from oms import intake, orders, returns
from oms.core.audit import Actor
from oms.core.db import Database
from oms.core.errors import OmsError
from oms.core.i18n import _
from oms.core.types import utcnow
from oms.integration import sync_store
from oms.orders.models import Channel, OrderStatus, SalesOrder
from oms.shipping import shipments
from oms.returns.models import Rma
from oms.shipping.models import Shipment

from .base import (
    IN_FLIGHT,
    AddressData,
    CarrierConnector,
    ChannelConnector,
    CredentialsRefused,
    Offline,
    OutboundMessage,
    Outcome,
    Parcel,
    PermanentError,
    PullPage,
    RemoteError,
    choose_rate,
    process_alive,
)

log = logging.getLogger("quayside.sync")

ORDERS_STREAM = "orders"
SYNC_ACTOR = Actor("sync", "sync")


@dataclass
class RunReport:
    """What one pass over one connector did, for the log line and the tests."""

    code: str
    pulled: int = 0
    created: int = 0
    updated: int = 0
    cancelled: int = 0
    quarantined: int = 0
    pushed: int = 0
    failed: int = 0
    offline: bool = False
    errors: list[str] = field(default_factory=list)
    elsewhere: str = ""  # another station held this connector: nothing was done here
    refused: str = ""  # the remote refused our token: what a person must do, in words

    def line(self) -> str:
        if self.elsewhere:
            return _("{code}: synced by another station ({holder})").format(code=self.code, holder=self.elsewhere)
        state = self.refused or (_("offline") if self.offline else _("online"))
        return _("{code}: {state}; pulled {p} ({c} new, {u} changed, {x} cancelled, {q} quarantined); pushed {s}, failed {f}").format(
            code=self.code, state=state, p=self.pulled, c=self.created, u=self.updated, x=self.cancelled,
            q=self.quarantined, s=self.pushed, f=self.failed)


def refusal_text(role: str) -> str:
    """The connection's stored state when the remote refused our token: what happened and what to do."""
    if role == "carrier":
        return _("token refused by the carrier: update it in Settings")
    return _("token refused by the shop: update it in Settings")


def token_refused(role: str, last_error: str) -> bool:
    """True when a connection's last error is the remote refusing our token (the status bar turns red for it)."""
    return bool(last_error) and last_error == refusal_text(role)


def coalesce_inventory(rows: list[sync_store.OutboxRow]) -> tuple[list[sync_store.OutboxRow], list[int]]:
    """Keep only the newest inventory level per SKU and location; the older ones are superseded. One the remote
    holds already (``IN_FLIGHT``) is kept: its outcome is still to be read, and the newer one goes after it."""
    latest: dict[tuple, int] = {}
    for r in rows:
        if r.topic == "inventory.set":
            latest[(r.payload.get("sku"), r.payload.get("location_code"))] = r.id
    keep, superseded = [], []
    for r in rows:
        if (r.topic == "inventory.set" and latest[(r.payload.get("sku"), r.payload.get("location_code"))] != r.id
                and not r.payload.get(IN_FLIGHT)):
            superseded.append(r.id)
        else:
            keep.append(r)
    return keep, superseded


class Engine:
    """Runs channel connectors against one database. Thread-safe to stop; not to run twice at once."""

    def __init__(self, db: Database, channels: dict[str, ChannelConnector], *, carriers: dict[str, CarrierConnector] | None = None,
                 actor: Actor = SYNC_ACTOR, max_pages: int = 1000, clock: Callable[[], datetime] = utcnow,
                 rng: random.Random | None = None):
        self.db = db
        self.channels = channels
        self.carriers = carriers or {}
        self.actor = actor
        self.max_pages = max_pages
        self.clock = clock
        self.rng = rng or random.Random()
        self._stop = threading.Event()
        # Who this engine is to the other stations: machine, process, and which engine of the process.
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"

    # -- one station per connector ------------------------------------------------------------

    def _hold(self, s, code: str) -> bool:
        """Take or renew this engine's lease on ``code`` in the caller's transaction."""
        if sync_store.take_lease(s, code, self.holder, now=self.clock()):
            return True
        current = sync_store.lease_holder(s, code, now=self.clock())
        host, _sep, rest = current.partition(":")
        pid = rest.partition(":")[0]
        if host == socket.gethostname() and pid.isdigit() and not process_alive(int(pid)):
            # A sync on this machine that was killed mid-pass: its work resumes here at once.
            return sync_store.take_lease(s, code, self.holder, now=self.clock(), takeover_from=current)
        return False

    # -- pull ---------------------------------------------------------------------------

    def pull(self, code: str, report: RunReport) -> None:
        """Pull pages until the channel has no more; the next page is fetched while this one is written."""
        connector = self.channels[code]
        with self.db.read() as s:
            cursor = sync_store.get_cursor(s, code, ORDERS_STREAM)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"pull-{code}") as fetcher:
            pending = fetcher.submit(connector.pull_orders, cursor)
            for _page in range(self.max_pages):
                if self._stop.is_set():
                    return
                try:
                    page = pending.result()
                except Offline as exc:
                    self._failed(code, report, exc, offline=True)
                    return
                except RemoteError as exc:
                    self._failed(code, report, exc, offline=False)
                    return
                if not page.done:
                    # Nothing is committed by fetching: a crash still resumes from the last written cursor.
                    pending = fetcher.submit(connector.pull_orders, page.next_cursor)
                with self.db.write() as s:
                    if not self._hold(s, code):
                        report.errors.append(_("Another station took over {code}; this one stopped pulling.").format(code=code))
                        return
                    self.apply_page(s, code, page, report)
                    sync_store.save_cursor(s, code, ORDERS_STREAM, page.next_cursor)
                    sync_store.record_success(s, code, pulled=len(page.orders))
                if page.done:
                    return

    def apply_page(self, s, code: str, page: PullPage, report: RunReport) -> None:
        """Write one page in the caller's transaction: orders (routed), returns (RMAs), cancellations, quarantine."""
        report.pulled += len(page.orders)
        for q in page.quarantined:
            if sync_store.quarantine(s, code, ORDERS_STREAM, q.external_ref, q.raw, q.error):
                report.quarantined += 1
        if page.orders:
            taken = intake.take_in(s, self.actor, page.orders)
            for refused in taken.refused:
                # One order the domain refuses must not hold back the rest of the page: it waits in quarantine.
                sync_store.quarantine(s, code, ORDERS_STREAM, refused.order.external_id, repr(refused.order), refused.reason)
                report.quarantined += 1
            report.created += taken.created
            report.updated += taken.updated
        for r in page.returns:
            refused = returns.take_in_channel_return(s, self.actor, code, r)
            if refused:  # kept for a person, never dropped
                sync_store.quarantine(s, code, "returns", r.external_id, repr(r), refused)
                report.quarantined += 1
        channel_id = s.scalar(select(Channel.id).where(Channel.code == code))
        for c in page.cancellations:
            order = s.scalar(select(SalesOrder).where(SalesOrder.channel_id == channel_id, SalesOrder.external_id == c.external_id))
            if order is None or order.status == OrderStatus.CANCELLED.value:
                continue
            reason = _("Cancelled in {channel}: {reason}").format(channel=code, reason=c.reason or _("no reason given"))
            if order.status in (OrderStatus.SHIPPED.value, OrderStatus.DELIVERED.value, OrderStatus.PARTIALLY_SHIPPED.value):
                sync_store.quarantine(
                    s, code, "exceptions", order.number, f"cancelled_at={c.cancelled_at}",
                    _("{channel} cancelled order {n} after it shipped; arrange a return or refund with the customer.").format(
                        channel=code, n=order.number))
                report.quarantined += 1
            elif any(l.picked for l in order.lines):
                if not order.on_hold:
                    orders.hold(s, self.actor, order.id, reason + _(" (items already picked: put them back, then cancel)"))
                report.cancelled += 1
            else:
                orders.cancel_order(s, self.actor, order.id, reason=reason, notify_channel=False)
                report.cancelled += 1

    # -- push ---------------------------------------------------------------------------

    def push(self, code: str, report: RunReport) -> None:
        connector = self.channels.get(code) or self.carriers[code]
        location_map = getattr(connector, "location_map", None)
        if location_map:
            with self.db.write() as s:
                sync_store.queue_inventory_changes(s, code, location_map)
        # A connector that takes many messages of some topics in one call (``push_batch``) gets them so.
        batch_topics = frozenset(getattr(connector, "batch_topics", ()) or ()) if hasattr(connector, "push_batch") else frozenset()
        batch_limit = max(1, int(getattr(connector, "batch_limit", 100) or 100))
        window = max(100, batch_limit) if batch_topics else 100
        while not self._stop.is_set():
            with self.db.write() as s:
                if not self._hold(s, code):
                    return  # another station took over (this one stalled past its lease)
                rows = sync_store.due(s, code, now=self.clock(), limit=window)
                rows, superseded = coalesce_inventory(rows)
                sync_store.mark_superseded(s, superseded)
            if not rows:
                return
            batched: set[int] = set()
            for n, row in enumerate(rows):
                if row.id in batched:
                    continue
                if row.topic in batch_topics:
                    # Every due message of the batch topics at once, in order, at the place of the first of them.
                    batch = [r for r in rows[n:] if r.topic in batch_topics and r.id not in batched][:batch_limit]
                    batched.update(r.id for r in batch)
                    if not self._push_batch(code, connector, batch, report):
                        return  # offline, refused, or some wait for a retry: later messages wait for them
                    continue
                message = OutboundMessage(row.id, row.topic, row.idempotency_key, row.payload)
                try:
                    if code in self.carriers:
                        self._carrier_message(code, connector, message)
                        report.pushed += 1
                        continue
                    connector.push(message)
                except Offline as exc:
                    self._failed(code, report, exc, offline=True)
                    return
                except CredentialsRefused as exc:
                    self._failed(code, report, exc, offline=False)  # the message waits for a good token
                    return
                except PermanentError as exc:
                    with self.db.write() as s:
                        sync_store.mark_failed(s, row.id, str(exc))
                    report.failed += 1
                    report.errors.append(str(exc))
                    continue
                except RemoteError as exc:
                    delay = exc.retry_after
                    with self.db.write() as s:
                        retry_at = self.clock() + (sync_store.backoff_delay(row.attempts, jitter=self.rng.random())
                                                   if delay is None else timedelta(seconds=delay))
                        sync_store.mark_retry(s, row.id, str(exc), retry_at)
                        sync_store.record_failure(s, code, str(exc), offline=False)
                    report.errors.append(str(exc))
                    return  # keep the order: later messages wait for this one
                with self.db.write() as s:
                    sync_store.mark_sent(s, row.id)
                    sync_store.record_success(s, code, pushed=1)
                report.pushed += 1

    def _push_batch(self, code: str, connector, rows: list[sync_store.OutboxRow], report: RunReport) -> bool:
        """Hand ``rows`` to the connector's ``push_batch`` and record each message's outcome. False when the pass
        must stop here (offline, refused, or a message waits for a retry or for the remote's answer)."""
        messages = [OutboundMessage(r.id, r.topic, r.idempotency_key, r.payload) for r in rows]

        def remember(payloads: dict[int, dict]) -> None:
            with self.db.write() as s:
                for message_id, payload in payloads.items():
                    sync_store.update_payload(s, message_id, payload)

        try:
            outcomes = connector.push_batch(messages, remember)
        except Offline as exc:
            self._failed(code, report, exc, offline=True)
            return False
        except CredentialsRefused as exc:
            self._failed(code, report, exc, offline=False)  # the messages wait for a good token
            return False
        except PermanentError as exc:
            outcomes = {m.id: Outcome.failed(str(exc)) for m in messages}
        except RemoteError as exc:
            outcomes = {m.id: Outcome.retry(str(exc), exc.retry_after) for m in messages}
        go_on, sent, trouble = True, 0, ""
        if all(o.state == "later" for o in outcomes.values()) and len(outcomes) == len(rows):
            return False  # the connector took none of them now: nothing to go on with in this pass
        with self.db.write() as s:
            for row in rows:
                o = outcomes.get(row.id) or Outcome.retry(
                    _("The connection said nothing about message {id}; it is sent again.").format(id=row.id))
                if o.state == "later":
                    continue  # not in this batch: left as it is, for the next one
                if o.state == "sent":
                    sync_store.mark_sent(s, row.id)
                    sent += 1
                elif o.state == "failed":
                    sync_store.mark_failed(s, row.id, o.detail)
                    report.failed += 1
                    report.errors.append(o.detail)
                elif o.state == "superseded":
                    sync_store.mark_superseded(s, [row.id])
                elif o.state == "waiting":
                    sync_store.mark_waiting(s, row.id, o.detail, self.clock() + timedelta(seconds=o.retry_after or 60))
                    go_on = False
                else:
                    retry_at = self.clock() + (sync_store.backoff_delay(row.attempts, jitter=self.rng.random())
                                               if o.retry_after is None else timedelta(seconds=o.retry_after))
                    sync_store.mark_retry(s, row.id, o.detail, retry_at)
                    trouble = trouble or o.detail
                    go_on = False
            if sent:
                sync_store.record_success(s, code, pushed=sent)
            if trouble:
                sync_store.record_failure(s, code, trouble, offline=False)
                report.errors.append(trouble)
        report.pushed += sent
        return go_on

    # -- carriers -----------------------------------------------------------------------

    def _carrier_message(self, code: str, carrier: CarrierConnector, message: OutboundMessage) -> None:
        """Buy or refund a label. Buying is two steps, each remembered, so a retry never buys twice."""
        p = dict(message.payload)
        if message.topic == "label.refund":
            carrier.refund(p["carrier_ref"])
            with self.db.write() as s:
                sync_store.mark_sent(s, message.id)
                sync_store.record_success(s, code, pushed=1)
            return
        if message.topic == "label.return":
            self._return_label(code, carrier, message, p)
            return
        if message.topic != "label.buy":
            with self.db.write() as s:
                sync_store.mark_failed(s, message.id, _("A carrier cannot handle {topic}.").format(topic=message.topic))
            return
        with self.db.read() as s:
            voided = s.scalar(select(Shipment.status).where(Shipment.id == p["shipment_id"])) == "voided"
        if voided:  # the box was unpacked before the carrier was reached: buy nothing
            with self.db.write() as s:
                sync_store.mark_superseded(s, [message.id])
            return
        if not p.get("remote_shipment_id"):
            addr = lambda a: AddressData(**{k: a.get(k, "") for k in AddressData.__dataclass_fields__})  # noqa: E731
            remote_id, quotes = carrier.rates(addr(p["ship_from"]), addr(p["ship_to"]),
                                              [Parcel(**x) for x in p["parcels"]], reference=p["reference"],
                                              label_format=p.get("label_format"))
            if not quotes:
                raise PermanentError(_("The carrier offered no rate for shipment {id}.").format(id=p["shipment_id"]))
            rate = choose_rate(quotes, p.get("policy", "cheapest_on_time"), p.get("promise_days"))
            p.update(remote_shipment_id=remote_id, rate_id=rate.rate_id)
            with self.db.write() as s:
                sync_store.update_payload(s, message.id, p)
        # The station asked for the format its label printer takes (request_label): the carrier makes it so.
        bought = carrier.buy(p["remote_shipment_id"], p["rate_id"], idempotency_key=message.idempotency_key,
                             label_format=p.get("label_format"))
        with self.db.write() as s:
            shipments.attach_label(s, self.actor, p["shipment_id"], carrier_account=code, carrier=bought.carrier,
                                   service=bought.service, tracking_number=bought.tracking_number,
                                   carrier_ref=bought.remote_shipment_id, tracker_ref=bought.tracker_id,
                                   cost_minor=bought.amount_minor,
                                   labels=bought.labels())
            sync_store.mark_sent(s, message.id)
            sync_store.record_success(s, code, pushed=1)

    def _return_label(self, code: str, carrier: CarrierConnector, message: OutboundMessage, p: dict) -> None:
        """Buy an RMA's return label: the same two remembered steps as an outbound label, as a return shipment."""
        with self.db.read() as s:
            state = s.scalar(select(Rma.status).where(Rma.id == p["rma_id"]))
        if state == "cancelled":  # the return was called off before the carrier was reached: buy nothing
            with self.db.write() as s:
                sync_store.mark_superseded(s, [message.id])
            return
        if not p.get("remote_shipment_id"):
            addr = lambda a: AddressData(**{k: a.get(k, "") for k in AddressData.__dataclass_fields__})  # noqa: E731
            remote_id, quotes = carrier.rates(addr(p["ship_from"]), addr(p["ship_to"]),
                                              [Parcel(**x) for x in p["parcels"]], reference=p["reference"],
                                              label_format=p.get("label_format"), is_return=True)
            if not quotes:
                raise PermanentError(_("The carrier offered no rate for the return label of {rma}.").format(rma=p["reference"]))
            rate = choose_rate(quotes, "cheapest", None)
            p.update(remote_shipment_id=remote_id, rate_id=rate.rate_id)
            with self.db.write() as s:
                sync_store.update_payload(s, message.id, p)
        bought = carrier.buy(p["remote_shipment_id"], p["rate_id"], idempotency_key=message.idempotency_key,
                             label_format=p.get("label_format"))
        with self.db.write() as s:
            returns.attach_return_label(s, self.actor, p["rma_id"], carrier_account=code, carrier=bought.carrier,
                                        tracking_number=bought.tracking_number, carrier_ref=bought.remote_shipment_id,
                                        tracker_ref=bought.tracker_id, cost_minor=bought.amount_minor, labels=bought.labels())
            sync_store.mark_sent(s, message.id)
            sync_store.record_success(s, code, pushed=1)

    def track(self, code: str, report: RunReport) -> None:
        """Ask the carrier about every shipped, undelivered shipment it labelled, and every return label it sold whose
        parcel it has not yet taken; record what is new."""
        carrier = self.carriers[code]
        with self.db.read() as s:
            targets = shipments.tracking_targets(s, code)
            return_targets = returns.tracking_targets(s, code)

        def returned(s, rma_id: int, updates) -> None:
            for u in updates:
                if returns.record_return_tracking(s, self.actor, rma_id, u.status, description=u.description):
                    break

        def shipped(s, shipment_id: int, updates) -> None:
            for u in updates:
                shipments.add_tracking_event(s, self.actor, shipment_id, u.status, u.occurred_at,
                                             description=u.description[:300], city=u.city[:200])

        if self._track_each(code, carrier, report, return_targets, returned):
            self._track_each(code, carrier, report, targets, shipped)

    def _track_each(self, code: str, carrier: CarrierConnector, report: RunReport, targets, record) -> bool:
        """Ask the carrier about each ``(id, tracker)`` and ``record`` what it says, one transaction each. False when
        the carrier cannot be reached or refuses our token: the rest waits for the next pass."""
        for target_id, tracker in targets:
            try:
                updates = carrier.track(tracker)
            except Offline as exc:
                self._failed(code, report, exc, offline=True)
                return False
            except CredentialsRefused as exc:
                self._failed(code, report, exc, offline=False)
                return False
            except RemoteError as exc:
                report.errors.append(str(exc))
                continue
            with self.db.write() as s:
                record(s, target_id, updates)
        return True

    def _failed(self, code: str, report: RunReport, exc: RemoteError, *, offline: bool) -> None:
        report.offline = report.offline or offline
        error = str(exc)
        if isinstance(exc, CredentialsRefused):
            report.refused = error = self.refusal(code)
        report.errors.append(error)
        with self.db.write() as s:
            sync_store.record_failure(s, code, error, offline=offline)
        log.warning("%s: %s", code, exc)

    def refusal(self, code: str) -> str:
        """What a person reads when the remote refuses our token, and what to do about it."""
        return refusal_text("carrier" if code in self.carriers else "channel")

    # -- running ------------------------------------------------------------------------

    def run_once(self, codes: list[str] | None = None) -> list[RunReport]:
        reports = []
        for code in codes or [*self.channels, *self.carriers]:
            report = RunReport(code)
            with self.db.write() as s:
                held = self._hold(s, code)
                if not held:
                    report.elsewhere = sync_store.lease_holder(s, code, now=self.clock())
            if held:
                try:
                    if code in self.channels and callable(getattr(self.channels[code], "pull_orders", None)):
                        self.pull(code, report)  # a connection that only sends (an ERP hand-off) pulls nothing
                    if not report.offline:
                        self.push(code, report)
                    if code in self.carriers and not report.offline:
                        self.track(code, report)
                finally:
                    # Between passes the connector is free: whichever station comes first takes the next one.
                    with self.db.write() as s:
                        sync_store.release_lease(s, code, self.holder)
            reports.append(report)
            log.info(report.line())
        return reports

    def run_forever(self, intervals: dict[str, int], *, on_report: Callable[[RunReport], None] | None = None) -> None:
        """Run each connector every ``intervals[code]`` seconds until stop(); offline connectors retry sooner."""
        codes = [*self.channels, *self.carriers]
        due = {code: 0.0 for code in codes}
        while not self._stop.is_set():
            now = time.monotonic()
            for code in codes:
                if due[code] <= now and not self._stop.is_set():
                    (report,) = self.run_once([code])
                    if on_report:
                        on_report(report)
                    wait = intervals.get(code, 60)
                    due[code] = time.monotonic() + (min(wait, 15) if report.offline else wait)
            self._stop.wait(max(0.05, min(due.values()) - time.monotonic()))

    def stop(self) -> None:
        self._stop.set()

    def retry_quarantined(self, payload_id: int, actor: Actor) -> str:
        """Read a quarantined order again (after the cause was fixed) and import it if it now maps."""
        with self.db.read() as s:
            item = next((q for q in sync_store.quarantined(s) if q.id == payload_id), None)
        if item is None:
            raise OmsError(_("There is no open quarantined payload {id}.").format(id=payload_id))
        connector = self.channels.get(item.connector)
        parse = getattr(connector, "parse_raw", None)
        if parse is None:
            raise OmsError(_("The connection {code} cannot read a payload again; dismiss it and fix the order in the channel.").format(code=item.connector))
        page: PullPage = parse(item.raw)
        if page.quarantined:
            raise OmsError(_("Still cannot read it: {error}").format(error=page.quarantined[0].error))
        report = RunReport(item.connector)
        with self.db.write() as s:
            self.apply_page(s, item.connector, page, report)
            sync_store.close_quarantined(s, actor, payload_id, "retried")
        return report.line()
