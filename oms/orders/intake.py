"""Import of normalized orders: new ones inserted, known ones reconciled with what changed upstream,
idempotent by channel and external id.

Import only imports: a new order comes in unallocated (or held, when it names SKUs we do not
know). Reserving stock is routing's, under the routing rules; `oms.intake.take_in` is the door
that does both, in one transaction, for every source."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Iterable, Sequence

from sqlalchemy import insert, select, tuple_
from sqlalchemy.orm import Session

from oms.catalog.models import Product
from oms.core import audit
from oms.core.audit import Actor
from oms.core.errors import InvalidInput, NotFound
from oms.core.i18n import _, ngettext
from oms.core.types import utcnow
from oms.orders.contract import Address, NormalizedLine, NormalizedOrder, check_order, unknown_items_reason
from oms.orders.lifecycle import _hold, _release_line
from oms.orders.models import Channel, OrderLine, OrderStatus, SalesOrder
from oms.orders.status import LineQty, derive_status, refresh_status


@dataclass(frozen=True)
class ImportResult:
    order_id: int
    outcome: str  # "created", "unchanged", "updated"
    changes: tuple[str, ...] = ()


def _channel_ids(session: Session, codes: Iterable[str]) -> dict[str, int]:
    codes = set(codes)
    found = dict(session.execute(select(Channel.code, Channel.id).where(Channel.code.in_(codes))).all())
    missing = codes - found.keys()
    if missing:
        raise NotFound(_("There is no sales channel {code}.").format(code=", ".join(sorted(missing))))
    return found


def _order_row(o: NormalizedOrder, channel_id: int, now: datetime) -> dict:
    a = o.ship_to
    return {
        "channel_id": channel_id, "external_id": o.external_id, "number": o.number, "order_type": o.order_type,
        "currency": o.currency, "subtotal_minor": o.subtotal_minor, "shipping_minor": o.shipping_minor,
        "tax_minor": o.tax_minor, "discount_minor": o.discount_minor, "total_minor": o.total_minor,
        "customer_name": o.customer_name, "customer_email": o.customer_email,
        "ship_name": a.name, "ship_company": a.company, "ship_address1": a.address1, "ship_address2": a.address2,
        "ship_city": a.city, "ship_region": a.region, "ship_postal_code": a.postal_code, "ship_country": a.country,
        "ship_phone": a.phone, "service_level": o.service_level, "tags": o.tags, "placed_at": o.placed_at, "ship_by": o.ship_by,
        "deliver_by": o.deliver_by, "payload_hash": o.fingerprint(), "created_at": now, "updated_at": now,
        "line_count": len(o.lines), "unit_count": sum(l.quantity for l in o.lines),
    }


def import_orders(
    session: Session,
    actor: Actor,
    orders: Sequence[NormalizedOrder],
) -> list[ImportResult]:
    """Import a batch of normalized orders in the caller's transaction.

    The same payload twice changes nothing; a changed payload updates what may still
    change and records the difference. Lines with unknown SKUs are kept and flagged,
    and their order held. Nothing is reserved here: routing does that (`oms.intake.take_in`).
    """
    checked = [check_order(o) for o in orders]
    keys = {}
    for o in checked:
        k = (o.channel, o.external_id)
        if k in keys:
            raise InvalidInput(_("Order {ref} appears twice in one batch.").format(ref=o.number))
        keys[k] = o
    channels = _channel_ids(session, {o.channel for o in checked})
    existing = {
        (r.channel_id, r.external_id): r
        for r in session.execute(
            select(SalesOrder.id, SalesOrder.channel_id, SalesOrder.external_id, SalesOrder.payload_hash).where(
                tuple_(SalesOrder.channel_id, SalesOrder.external_id).in_(
                    [(channels[o.channel], o.external_id) for o in checked]
                )
            )
        )
    }
    skus = {l.sku for o in checked for l in o.lines}
    products = dict(session.execute(select(Product.sku, Product.id).where(Product.sku.in_(skus))).all()) if skus else {}

    results: dict[int, ImportResult] = {}
    new: list[tuple[int, NormalizedOrder]] = []
    for i, o in enumerate(checked):
        row = existing.get((channels[o.channel], o.external_id))
        if row is None:
            new.append((i, o))
        elif row.payload_hash == o.fingerprint():
            results[i] = ImportResult(row.id, "unchanged")
        else:
            results[i] = _apply_update(session, actor, row.id, o, products)
    if new:
        for i, result in zip([i for i, _o in new], _insert_new(session, actor, [o for _i, o in new], channels, products)):
            results[i] = result
    return [results[i] for i in range(len(checked))]


CHANNEL_RELEASED = "channel hold lifted"  # in ImportResult.changes when a channel's hold lifted (the intake routes it)


def channel_hold_reason(channel: str, reason: str) -> str:
    """An order's hold reason while its channel makes it wait: "[amazon] Pending: not paid yet". The channel's
    code in brackets marks the hold as the channel's, so a later import that no longer says so can lift it."""
    return f"[{channel}] {reason}"[:300]


def import_order(session: Session, actor: Actor, order: NormalizedOrder) -> ImportResult:
    return import_orders(session, actor, [order])[0]


def _insert_new(session, actor, orders, channels, products) -> list[ImportResult]:
    now = utcnow()
    plans = []  # per order: (order row, line rows)
    for o in orders:
        unknown = [l.sku for l in o.lines if l.sku not in products]
        hold_reason = unknown_items_reason(unknown) if unknown else ""
        if o.channel_hold:
            hold_reason = "; ".join(filter(None, (channel_hold_reason(o.channel, o.channel_hold), hold_reason)))
        line_rows = [
            {
                "external_line_id": l.external_line_id, "product_id": products.get(l.sku), "sku": l.sku,
                "description": l.description, "unknown_sku": l.sku not in products, "quantity": l.quantity,
                "unit_price_minor": l.unit_price_minor, "allocated": 0, "backordered": 0,
            }
            for l in o.lines
        ]
        status = derive_status([LineQty(l.quantity) for l in o.lines], on_hold=bool(hold_reason), delivered=False)
        row = _order_row(o, channels[o.channel], now)
        row.update(status=status.value, on_hold=bool(hold_reason), hold_reason=hold_reason, location_id=None)
        plans.append((row, line_rows))

    # Core inserts on the tables: the ORM's bulk path would add per-row bookkeeping we do not need.
    conn = session.connection()
    orders_t, lines_t = SalesOrder.__table__, OrderLine.__table__
    order_ids = list(
        conn.execute(insert(orders_t).returning(orders_t.c.id, sort_by_parameter_order=True), [p[0] for p in plans]).scalars()
    )
    all_lines = []
    for oid, (_row, line_rows) in zip(order_ids, plans):
        for lr in line_rows:
            lr["order_id"] = oid
            all_lines.append(lr)
    conn.execute(insert(lines_t), all_lines)
    audits = []
    for oid, (row, line_rows) in zip(order_ids, plans):
        summary = (ngettext("Imported with {n} line", "Imported with {n} lines", len(line_rows)).format(n=len(line_rows)) + ", "
                   + ngettext("{units} unit", "{units} units", row["unit_count"]).format(units=row["unit_count"]))
        if row["hold_reason"]:
            summary += _("; on hold: {reason}").format(reason=row["hold_reason"])
        audits.append({
            "at": now, "user": actor.user, "station": actor.station, "action": "order.imported", "entity": "order",
            "entity_id": str(oid), "order_id": oid, "summary": summary[:300], "before": None,
            "after": {"status": row["status"]},
        })
    audit.record_many(session, audits)
    return [ImportResult(oid, "created") for oid in order_ids]


_MUTABLE_HEADER = (
    "customer_name", "customer_email", "service_level", "ship_by", "deliver_by", "subtotal_minor",
    "shipping_minor", "tax_minor", "discount_minor", "total_minor", "number", "tags",
)

_ADDRESS = ("name", "company", "address1", "address2", "city", "region", "postal_code", "country", "phone")


def _apply_update(session: Session, actor: Actor, order_id: int, o: NormalizedOrder, products: dict) -> ImportResult:
    """Apply a channel's edit to an order that exists: what may still change, changes; the rest is recorded."""
    order = session.get(SalesOrder, order_id, with_for_update=True)
    changes: list[str] = []
    refused: list[str] = []
    before: dict = {}
    after: dict = {}
    for name in _MUTABLE_HEADER:
        new = getattr(o, name)
        old = getattr(order, name)
        if old != new:
            before[name], after[name] = str(old), str(new)
            setattr(order, name, new)
            changes.append(name.removesuffix("_minor").replace("_", " "))
    lines = {l.external_line_id: l for l in order.lines}
    started = any(l.picked or l.packed or l.shipped for l in order.lines)
    address_changed = any(getattr(order, f"ship_{k}") != getattr(o.ship_to, k) for k in _ADDRESS)
    if address_changed:
        if started:
            refused.append(_("ship-to address (the order is already being picked, packed or shipped)"))
        else:
            before["ship_to"] = {k: getattr(order, f"ship_{k}") for k in _ADDRESS}
            for k in _ADDRESS:
                setattr(order, f"ship_{k}", getattr(o.ship_to, k))
            after["ship_to"] = asdict(o.ship_to)
            changes.append(_("ship-to address"))
    for nl in o.lines:
        line = lines.get(nl.external_line_id)
        if line is None:
            if order.status in (OrderStatus.SHIPPED.value, OrderStatus.DELIVERED.value, OrderStatus.CANCELLED.value):
                refused.append(_("new line {sku} (the order is closed)").format(sku=nl.sku))
                continue
            pid = products.get(nl.sku)
            order.lines.append(
                OrderLine(external_line_id=nl.external_line_id, product_id=pid, sku=nl.sku, description=nl.description,
                          unknown_sku=pid is None, quantity=nl.quantity, unit_price_minor=nl.unit_price_minor,
                          allocated=0, backordered=0, picked=0, packed=0, shipped=0, cancelled=0, returned=0)
            )
            changes.append(_("added line {sku} × {qty}").format(sku=nl.sku, qty=nl.quantity))
            if pid is None:
                _hold(order, unknown_items_reason([nl.sku]))
            continue
        if line.unit_price_minor != nl.unit_price_minor or line.description != nl.description:
            line.unit_price_minor, line.description = nl.unit_price_minor, nl.description
            changes.append(_("price or description of {sku}").format(sku=nl.sku))
        if nl.quantity != line.quantity:
            committed = line.allocated + line.shipped + line.cancelled
            if nl.quantity >= committed:
                line.backordered = min(line.backordered, nl.quantity - committed)
                changes.append(_("{sku} quantity {old} → {new}").format(sku=nl.sku, old=line.quantity, new=nl.quantity))
                line.quantity = nl.quantity
            elif nl.quantity >= line.shipped + line.cancelled + line.picked:
                # Shrink into the reservation: give back what is no longer wanted.
                give_back = committed - nl.quantity
                _release_line(session, line, give_back)
                line.backordered = 0
                changes.append(_("{sku} quantity {old} → {new}").format(sku=nl.sku, old=line.quantity, new=nl.quantity))
                line.quantity = nl.quantity
            else:
                refused.append(_("{sku} quantity {old} → {new} ({done} already picked or shipped)").format(
                    sku=nl.sku, old=line.quantity, new=nl.quantity, done=line.shipped + line.picked))
    for ext_id, line in lines.items():
        if ext_id not in {l.external_line_id for l in o.lines} and line.cancelled < line.quantity - line.shipped:
            refused.append(_("removal of line {sku} (cancel it instead)").format(sku=line.sku))
    mark = f"[{o.channel}] "
    if o.channel_hold and not (order.on_hold and order.hold_reason.startswith(mark)):
        if order.status not in (OrderStatus.SHIPPED.value, OrderStatus.DELIVERED.value, OrderStatus.CANCELLED.value):
            if not order.on_hold:  # waits again (a payment reversed): what it held goes back for others
                for line in order.lines:
                    _release_line(session, line, line.allocated)  # only what is reserved and not yet picked
            _hold(order, channel_hold_reason(o.channel, o.channel_hold))
            changes.append(_("on hold in the channel: {reason}").format(reason=o.channel_hold))
    elif (not o.channel_hold and order.on_hold and order.hold_reason.startswith(mark) and "; " not in order.hold_reason
          and not any(l.unknown_sku and l.cancelled < l.quantity for l in order.lines)):
        before["hold_reason"], after["hold_reason"] = order.hold_reason, ""
        order.on_hold, order.hold_reason = False, ""
        changes.append(CHANNEL_RELEASED)
    order.payload_hash = o.fingerprint()
    order.updated_at = utcnow()
    if refused:
        _hold(order, _("Channel changes could not be applied: {what}").format(what="; ".join(refused)))
    session.flush()
    refresh_status(session, order_id)
    summary = _("Updated by the channel: {changes}").format(changes=", ".join(changes) or _("nothing we keep"))
    if refused:
        summary += _("; not applied: {refused}").format(refused="; ".join(refused))
    audit.record(session, actor, "order.updated", "order", order_id, summary=summary, before=before, after=after, order_id=order_id)
    return ImportResult(order_id, "updated", tuple(changes + [f"not applied: {r}" for r in refused]))


def as_normalized(session: Session, order_id: int) -> NormalizedOrder:
    """An order as it stands, in the form a channel sends: the base for a change a channel describes as a
    difference (an EDI 860), which is then imported like any other edit."""
    order = session.get(SalesOrder, order_id)
    if order is None:
        raise NotFound(_("There is no order with id {id}.").format(id=order_id))
    return NormalizedOrder(
        channel=order.channel.code, external_id=order.external_id, number=order.number, placed_at=order.placed_at,
        currency=order.currency, order_type=order.order_type, customer_name=order.customer_name,
        customer_email=order.customer_email, ship_to=Address(**{k: getattr(order, f"ship_{k}") for k in _ADDRESS}),
        subtotal_minor=order.subtotal_minor, shipping_minor=order.shipping_minor, tax_minor=order.tax_minor,
        discount_minor=order.discount_minor, total_minor=order.total_minor, service_level=order.service_level,
        ship_by=order.ship_by, deliver_by=order.deliver_by,
        lines=tuple(NormalizedLine(l.external_line_id, l.sku, l.quantity, l.unit_price_minor, l.description)
                    for l in sorted(order.lines, key=lambda l: l.id)))
