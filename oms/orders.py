"""Orders: idempotent import of normalized orders, allocation, holds, cancellation, derived status."""

from __future__ import annotations

import hashlib
import weakref
from dataclasses import asdict, dataclass, field, fields
from functools import cached_property
from datetime import datetime
from typing import Callable, Iterable, Sequence

from sqlalchemy import insert, select, tuple_, update
from sqlalchemy.orm import Session

from . import audit, inventory, money, validate, wording
from .audit import Actor
from .errors import Conflict, InvalidInput, NotFound
from .i18n import _, ngettext
from .models import (
    LINE,
    NAME,
    SHORT,
    Allocation,
    Channel,
    Location,
    OrderLine,
    OrderNote,
    OrderStatus,
    OrderType,
    Product,
    SalesOrder,
    utcnow,
)

# -- the normalized order that every connector produces ---------------------------------


@dataclass(frozen=True)
class Address:
    name: str = ""
    company: str = ""
    address1: str = ""
    address2: str = ""
    city: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = ""
    phone: str = ""


@dataclass(frozen=True)
class NormalizedLine:
    external_line_id: str
    sku: str
    quantity: int
    unit_price_minor: int = 0
    description: str = ""


@dataclass(frozen=True)
class NormalizedOrder:
    """An order as a channel sent it, in our terms. Money is in minor units of ``currency``."""

    channel: str
    external_id: str
    number: str
    placed_at: datetime
    currency: str
    lines: tuple[NormalizedLine, ...]
    order_type: str = OrderType.DTC.value
    customer_name: str = ""
    customer_email: str = ""
    ship_to: Address = field(default_factory=Address)
    subtotal_minor: int = 0
    shipping_minor: int = 0
    tax_minor: int = 0
    discount_minor: int = 0
    total_minor: int = 0
    service_level: str = "standard"
    ship_by: datetime | None = None
    deliver_by: datetime | None = None
    # The channel says the order must wait (payment not taken yet, fulfilled by the marketplace itself): it is
    # imported on hold with this reason and not reserved; when a later import no longer says so, the hold lifts
    # and the order is routed. Empty: nothing waits on the channel.
    channel_hold: str = ""

    def fingerprint(self) -> str:
        """A stable hash of the content, so an unchanged re-import is recognised at once."""
        return self._fingerprint

    @cached_property
    def _fingerprint(self) -> str:
        values = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "lines":
                value = tuple((l.external_line_id, l.sku, l.quantity, l.unit_price_minor, l.description) for l in value)
            elif f.name == "ship_to":
                value = tuple(getattr(value, g.name) for g in fields(value))
            values.append(value)
        return hashlib.sha256(repr(values).encode()).hexdigest()


@dataclass(frozen=True)
class ImportResult:
    order_id: int
    outcome: str  # "created", "unchanged", "updated"
    changes: tuple[str, ...] = ()


_checked: "weakref.WeakSet[NormalizedOrder]" = weakref.WeakSet()


def check_order(order: NormalizedOrder) -> NormalizedOrder:
    """Validate and tidy a normalized order; raise InvalidInput naming the bad field.

    What this returns is remembered as checked, so a connector that already checked an
    order does not pay for the same checks again at import."""
    if order in _checked:
        return order
    checked = _check_order(order)
    _checked.add(checked)
    return checked


def _check_order(order: NormalizedOrder) -> NormalizedOrder:
    where = _("order {ref}").format(ref=order.number or order.external_id)

    def t(value, what, limit, required=False):
        return validate.text(value, f"{what} of {where}", limit, required=required)

    external_id = t(order.external_id, "channel order id", SHORT, True)
    number = t(order.number, "order number", SHORT) or external_id
    currency = money.check_currency(order.currency)
    if order.order_type not in {o.value for o in OrderType}:
        raise InvalidInput(_("The order type {value!r} of {where} is not dtc, wholesale or marketplace.").format(value=order.order_type, where=where))
    validate.aware(order.placed_at, f"order date of {where}", required=True)
    validate.aware(order.ship_by, f"ship-by date of {where}")
    validate.aware(order.deliver_by, f"deliver-by date of {where}")
    for name in ("subtotal_minor", "shipping_minor", "tax_minor", "discount_minor", "total_minor"):
        value = getattr(order, name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput(_("The {what} of {where} must be an amount in minor units, not {value!r}.").format(what=name.removesuffix("_minor"), where=where, value=value))
    if not order.lines:
        raise InvalidInput(_("{where} has no lines.").format(where=where).capitalize())
    seen: set[str] = set()
    lines = []
    for i, line in enumerate(order.lines, 1):
        lw = _("line {n} of {where}").format(n=i, where=where)
        lid = validate.text(line.external_line_id, f"line id of {lw}", SHORT, required=True)
        if lid in seen:
            raise InvalidInput(_("{where} has two lines with the id {id}.").format(where=where, id=lid).capitalize())
        seen.add(lid)
        validate.quantity(line.quantity, f"quantity of {lw}")
        if isinstance(line.unit_price_minor, bool) or not isinstance(line.unit_price_minor, int) or line.unit_price_minor < 0:
            raise InvalidInput(_("The unit price of {where} must be a non-negative amount in minor units, not {value!r}.").format(where=lw, value=line.unit_price_minor))
        lines.append(
            NormalizedLine(
                lid,
                validate.text(line.sku, f"SKU of {lw}", SHORT, required=True),
                line.quantity,
                line.unit_price_minor,
                validate.text(line.description, f"description of {lw}", LINE),
            )
        )
    a = order.ship_to
    ship_to = Address(
        t(a.name, "ship-to name", NAME), t(a.company, "ship-to company", NAME), t(a.address1, "ship-to address", LINE),
        t(a.address2, "ship-to address line 2", LINE), t(a.city, "ship-to city", NAME), t(a.region, "ship-to region", SHORT),
        t(a.postal_code, "ship-to postal code", SHORT), validate.country(a.country, f"ship-to country of {where}"),
        t(a.phone, "ship-to phone", SHORT),
    )
    return NormalizedOrder(
        channel=order.channel, external_id=external_id, number=number, placed_at=order.placed_at, currency=currency,
        lines=tuple(lines), order_type=order.order_type,
        customer_name=t(order.customer_name, "customer name", NAME), customer_email=t(order.customer_email, "customer email", NAME).lower(),
        ship_to=ship_to, subtotal_minor=order.subtotal_minor, shipping_minor=order.shipping_minor, tax_minor=order.tax_minor,
        discount_minor=order.discount_minor, total_minor=order.total_minor,
        service_level=t(order.service_level, "service level", SHORT) or "standard",
        ship_by=order.ship_by, deliver_by=order.deliver_by,
        channel_hold=t(order.channel_hold, "channel's hold reason", 200),
    )


# -- derived status ----------------------------------------------------------------------


@dataclass
class LineQty:
    quantity: int
    allocated: int = 0
    backordered: int = 0
    picked: int = 0
    packed: int = 0
    shipped: int = 0
    cancelled: int = 0


def derive_status(lines: Sequence[LineQty], *, on_hold: bool, delivered: bool) -> OrderStatus:
    """The order's status from its line quantities and hold; the single source of this rule."""
    ordered = sum(l.quantity for l in lines)
    shipped = sum(l.shipped for l in lines)
    cancelled = sum(l.cancelled for l in lines)
    open_qty = ordered - shipped - cancelled
    if open_qty <= 0:
        if shipped == 0:
            return OrderStatus.CANCELLED
        return OrderStatus.DELIVERED if delivered else OrderStatus.SHIPPED
    if on_hold:
        return OrderStatus.ON_HOLD
    packed = sum(l.packed for l in lines)
    picked = sum(l.picked for l in lines)
    allocated = sum(l.allocated for l in lines)
    if packed >= open_qty:
        return OrderStatus.PACKED
    if picked > 0:
        return OrderStatus.PICKING
    if shipped > 0:
        return OrderStatus.PARTIALLY_SHIPPED
    if allocated >= open_qty:
        return OrderStatus.ALLOCATED
    if allocated > 0:
        return OrderStatus.PARTIALLY_ALLOCATED
    if any(l.backordered for l in lines):
        return OrderStatus.BACKORDERED
    return OrderStatus.NEW


_LINE_QTY_COLUMNS = (
    OrderLine.quantity, OrderLine.allocated, OrderLine.backordered, OrderLine.picked,
    OrderLine.packed, OrderLine.shipped, OrderLine.cancelled,
)


def refresh_status(session: Session, order_id: int) -> OrderStatus:
    """Recompute and store an order's status; every service that changes quantities calls this."""
    order = session.execute(
        select(SalesOrder.on_hold, SalesOrder.delivered_at, SalesOrder.status).where(SalesOrder.id == order_id)
    ).one()
    lines = [LineQty(*r) for r in session.execute(select(*_LINE_QTY_COLUMNS).where(OrderLine.order_id == order_id))]
    status = derive_status(lines, on_hold=order.on_hold, delivered=order.delivered_at is not None)
    values: dict = {
        "status": status.value,
        "line_count": len(lines),
        "unit_count": sum(l.quantity - l.cancelled for l in lines),
        "updated_at": utcnow(),
    }
    if status == OrderStatus.CANCELLED and order.status != OrderStatus.CANCELLED.value:
        values["cancelled_at"] = utcnow()
    session.execute(update(SalesOrder).where(SalesOrder.id == order_id).values(**values))
    return status


def refresh_loaded_status(order: SalesOrder) -> OrderStatus:
    """refresh_status() for an order whose lines are loaded in the session: no queries of its own."""
    lines = [LineQty(l.quantity, l.allocated, l.backordered, l.picked, l.packed, l.shipped, l.cancelled) for l in order.lines]
    status = derive_status(lines, on_hold=order.on_hold, delivered=order.delivered_at is not None)
    if status == OrderStatus.CANCELLED and order.status != OrderStatus.CANCELLED.value:
        order.cancelled_at = utcnow()
    order.status = status.value
    order.line_count = len(lines)
    order.unit_count = sum(l.quantity - l.cancelled for l in lines)
    order.updated_at = utcnow()
    return status


# -- import --------------------------------------------------------------------------------

Allocator = Callable[[Session, NormalizedOrder, dict[str, int]], int | None]


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
        "ship_phone": a.phone, "service_level": o.service_level, "placed_at": o.placed_at, "ship_by": o.ship_by,
        "deliver_by": o.deliver_by, "payload_hash": o.fingerprint(), "created_at": now, "updated_at": now,
        "line_count": len(o.lines), "unit_count": sum(l.quantity for l in o.lines),
    }


def import_orders(
    session: Session,
    actor: Actor,
    orders: Sequence[NormalizedOrder],
    *,
    allocate: Allocator | None = None,
) -> list[ImportResult]:
    """Import a batch of normalized orders in the caller's transaction.

    The same payload twice changes nothing; a changed payload updates what may still
    change and records the difference. Lines with unknown SKUs are kept and flagged,
    and their order held. ``allocate`` (routing) names the location to reserve at, or
    None to leave the order unallocated.
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
        for i, result in zip([i for i, _o in new], _insert_new(session, actor, [o for _i, o in new], channels, products, allocate)):
            results[i] = result
    return [results[i] for i in range(len(checked))]


def unknown_items_reason(skus: Iterable[str]) -> str:
    """Why an order waits: "Unknown SKU GHOST-1", or a partner's code in words ("Buyer's part number ACME-99999")."""
    skus = list(dict.fromkeys(skus))
    if all(wording.sku(s) == s for s in skus):
        return _("Unknown SKU {skus}").format(skus=", ".join(skus))
    return _("Not in the catalogue: {items}").format(items=", ".join(wording.sku(s) for s in skus))


CHANNEL_RELEASED = "channel hold lifted"  # in ImportResult.changes when a channel's hold lifted: route the order


def channel_hold_reason(channel: str, reason: str) -> str:
    """An order's hold reason while its channel makes it wait: "[amazon] Pending: not paid yet". The channel's
    code in brackets marks the hold as the channel's, so a later import that no longer says so can lift it."""
    return f"[{channel}] {reason}"[:300]


def import_order(session: Session, actor: Actor, order: NormalizedOrder, *, allocate: Allocator | None = None) -> ImportResult:
    return import_orders(session, actor, [order], allocate=allocate)[0]


def _insert_new(session, actor, orders, channels, products, allocate) -> list[ImportResult]:
    now = utcnow()
    plans = []  # per order: (row, line rows, allocations [(line index, qty)], location, hold reason)
    for o in orders:
        unknown = [l.sku for l in o.lines if l.sku not in products]
        hold_reason = ""
        if unknown:
            hold_reason = unknown_items_reason(unknown)
        if o.channel_hold:
            hold_reason = "; ".join(filter(None, (channel_hold_reason(o.channel, o.channel_hold), hold_reason)))
        location = None
        reserved: list[int] = [0] * len(o.lines)
        backordered: list[int] = [0] * len(o.lines)
        if allocate is not None and not hold_reason:
            location = allocate(session, o, products)
            if location is not None:
                _reserve_lines(session, location, [(products[l.sku], l.quantity) for l in o.lines], reserved, backordered)
        line_rows = [
            {
                "external_line_id": l.external_line_id, "product_id": products.get(l.sku), "sku": l.sku,
                "description": l.description, "unknown_sku": l.sku not in products, "quantity": l.quantity,
                "unit_price_minor": l.unit_price_minor, "allocated": reserved[j], "backordered": backordered[j],
            }
            for j, l in enumerate(o.lines)
        ]
        status = derive_status(
            [LineQty(l.quantity, reserved[j], backordered[j]) for j, l in enumerate(o.lines)],
            on_hold=bool(hold_reason), delivered=False,
        )
        row = _order_row(o, channels[o.channel], now)
        row.update(status=status.value, on_hold=bool(hold_reason), hold_reason=hold_reason, location_id=location)
        plans.append((row, line_rows, location))

    # Core inserts on the tables: the ORM's bulk path would add per-row bookkeeping we do not need.
    conn = session.connection()
    orders_t, lines_t = SalesOrder.__table__, OrderLine.__table__
    order_ids = list(
        conn.execute(insert(orders_t).returning(orders_t.c.id, sort_by_parameter_order=True), [p[0] for p in plans]).scalars()
    )
    all_lines = []
    for oid, (_row, line_rows, _loc) in zip(order_ids, plans):
        for lr in line_rows:
            lr["order_id"] = oid
            all_lines.append(lr)
    line_ids = list(conn.execute(insert(lines_t).returning(lines_t.c.id, sort_by_parameter_order=True), all_lines).scalars())
    location_of = {oid: plan[2] for oid, plan in zip(order_ids, plans)}
    allocations = [
        {"order_line_id": lid, "location_id": location_of[lr["order_id"]], "product_id": lr["product_id"],
         "quantity": lr["allocated"], "created_at": now}
        for lid, lr in zip(line_ids, all_lines)
        if lr["allocated"]
    ]
    if allocations:
        conn.execute(insert(Allocation.__table__), allocations)
    audits = []
    for oid, (row, line_rows, loc) in zip(order_ids, plans):
        summary = (ngettext("Imported with {n} line", "Imported with {n} lines", len(line_rows)).format(n=len(line_rows)) + ", "
                   + ngettext("{units} unit", "{units} units", row["unit_count"]).format(units=row["unit_count"]))
        if row["hold_reason"]:
            summary += _("; on hold: {reason}").format(reason=row["hold_reason"])
        audits.append({
            "at": now, "user": actor.user, "station": actor.station, "action": "order.imported", "entity": "order",
            "entity_id": str(oid), "order_id": oid, "summary": summary[:300], "before": None,
            "after": {"status": row["status"], "location_id": loc},
        })
    audit.record_many(session, audits)
    return [ImportResult(oid, "created") for oid in order_ids]


def _reserve_lines(session: Session, lid: int, lines: list[tuple[int, int]], reserved: list[int], backordered: list[int]) -> None:
    """Reserve an order's lines at one location in one statement; a line that cannot be had is backordered."""
    wanted: dict[int, int] = {}
    for pid, qty in lines:
        wanted[pid] = wanted.get(pid, 0) + qty
    got = inventory.try_reserve_many(session, lid, wanted)
    for j, (pid, qty) in enumerate(lines):
        if pid in got:
            reserved[j] = qty
        elif sum(1 for p, _q in lines if p == pid) > 1 and inventory.try_reserve(session, pid, lid, qty):
            reserved[j] = qty  # two lines of one SKU: give each line what there is, in line order
        else:
            backordered[j] = qty


_MUTABLE_HEADER = (
    "customer_name", "customer_email", "service_level", "ship_by", "deliver_by", "subtotal_minor",
    "shipping_minor", "tax_minor", "discount_minor", "total_minor", "number",
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


def _hold(order: SalesOrder, reason: str) -> None:
    order.on_hold = True
    order.hold_reason = (f"{order.hold_reason}; {reason}" if order.hold_reason and reason not in order.hold_reason else reason)[:300]


# -- allocation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AllocationOutcome:
    allocated: int
    backordered: int


def allocate_order(session: Session, actor: Actor, order_id: int, location: int | str, *, reason: str = "") -> AllocationOutcome:
    """Reserve what each open line still needs at one location; what is missing is backordered."""
    lid = inventory.location_id(session, location)
    order = _order_for_update(session, order_id)
    if order.on_hold:
        raise Conflict(_("Order {number} is on hold ({reason}); release it first.").format(number=order.number, reason=order.hold_reason))
    total_alloc = total_back = 0
    for line in order.lines:
        need = line.quantity - line.shipped - line.cancelled - line.allocated
        if need <= 0 or line.product_id is None:
            continue
        line.backordered = 0
        if inventory.try_reserve(session, line.product_id, lid, need):
            _add_allocation(session, line, lid, need)
            total_alloc += need
        else:
            line.backordered = need
            total_back += need
    order.location_id = lid
    session.flush()
    refresh_status(session, order_id)
    code = session.scalar(select(Location.code).where(Location.id == lid))
    summary = _("Allocated {a} units at {loc}").format(a=total_alloc, loc=code)
    if total_back:
        summary += _(", {b} backordered").format(b=total_back)
    if reason:
        summary += f" ({reason})"
    audit.record(session, actor, "order.allocated", "order", order_id, summary=summary,
                 after={"location_id": lid, "allocated": total_alloc, "backordered": total_back}, order_id=order_id)
    return AllocationOutcome(total_alloc, total_back)


def _add_allocation(session: Session, line: OrderLine, lid: int, qty: int) -> None:
    line.allocated += qty
    existing = session.scalar(select(Allocation).where(Allocation.order_line_id == line.id, Allocation.location_id == lid))
    if existing:
        existing.quantity += qty
    else:
        session.add(Allocation(order_line_id=line.id, location_id=lid, product_id=line.product_id, quantity=qty))


def _release_line(session: Session, line: OrderLine, qty: int) -> None:
    """Give back up to qty reserved-but-unpicked units of a line, newest allocation first."""
    free = line.allocated - line.picked
    qty = min(qty, free)
    if qty <= 0:
        return
    allocs = session.scalars(
        select(Allocation).where(Allocation.order_line_id == line.id).order_by(Allocation.id.desc())
    ).all()
    left = qty
    for a in allocs:
        take = min(a.quantity, left)
        if take <= 0:
            break
        inventory.release(session, a.product_id, a.location_id, take)
        a.quantity -= take
        if a.quantity == 0:
            session.delete(a)
        left -= take
    line.allocated -= qty - left


def deallocate_order(session: Session, actor: Actor, order_id: int, *, reason: str) -> int:
    """Give back every unpicked reservation of an order (before re-routing it). Returns units released."""
    order = _order_for_update(session, order_id)
    released = 0
    for line in order.lines:
        free = line.allocated - line.picked
        if free > 0:
            _release_line(session, line, free)
            released += free
        line.backordered = 0
    session.flush()
    refresh_status(session, order_id)
    audit.record(session, actor, "order.deallocated", "order", order_id,
                 summary=ngettext("Released {n} reserved unit: {reason}", "Released {n} reserved units: {reason}", released).format(
                     n=released, reason=reason), order_id=order_id)
    return released


# -- holds, cancellation, notes, picks ---------------------------------------------------------


def _order_for_update(session: Session, order_id: int) -> SalesOrder:
    order = session.get(SalesOrder, order_id, with_for_update=True, populate_existing=True)
    if order is None:
        raise NotFound(_("There is no order with id {id}.").format(id=order_id))
    return order


def find_order(session: Session, ref: str | int) -> int:
    """An order id from an id, our order number or the channel's order id."""
    if isinstance(ref, int):
        if session.get(SalesOrder, ref) is None:
            raise NotFound(_("There is no order with id {id}.").format(id=ref))
        return ref
    ref = ref.strip()
    found = session.scalars(select(SalesOrder.id).where(SalesOrder.number == ref).limit(2)).all()
    if not found:
        found = session.scalars(select(SalesOrder.id).where(SalesOrder.external_id == ref).limit(2)).all()
    if not found and ref.isdigit():
        found = [int(ref)] if session.get(SalesOrder, int(ref)) else []
    if not found:
        raise NotFound(_("There is no order {ref}.").format(ref=ref))
    if len(found) > 1:
        raise InvalidInput(_("More than one order is numbered {ref}; give the channel as well.").format(ref=ref))
    return found[0]


def hold(session: Session, actor: Actor, order_id: int, reason: str) -> None:
    reason = validate.text(reason, "reason for the hold", 300, required=True)
    order = _order_for_update(session, order_id)
    if order.status in (OrderStatus.SHIPPED.value, OrderStatus.DELIVERED.value, OrderStatus.CANCELLED.value):
        raise Conflict(_("Order {number} is {status}; it cannot be put on hold.").format(number=order.number, status=order.status.replace("_", " ")))
    before = {"on_hold": order.on_hold, "hold_reason": order.hold_reason}
    order.on_hold = True
    order.hold_reason = reason
    session.flush()
    refresh_status(session, order_id)
    audit.record(session, actor, "order.held", "order", order_id, summary=_("Put on hold: {reason}").format(reason=reason),
                 before=before, after={"on_hold": True, "hold_reason": reason}, order_id=order_id)


def release_hold(session: Session, actor: Actor, order_id: int, note: str = "") -> None:
    order = _order_for_update(session, order_id)
    if not order.on_hold:
        raise Conflict(_("Order {number} is not on hold.").format(number=order.number))
    unknown = [l.sku for l in order.lines if l.unknown_sku and l.cancelled < l.quantity]
    if unknown:
        raise Conflict(_("Order {number} still has unknown SKUs ({skus}): add the products or cancel those lines first.").format(
            number=order.number, skus=", ".join(unknown)))
    before = {"on_hold": True, "hold_reason": order.hold_reason}
    order.on_hold = False
    order.hold_reason = ""
    session.flush()
    refresh_status(session, order_id)
    audit.record(session, actor, "order.released", "order", order_id,
                 summary=_("Hold released") + (f": {note}" if note else ""), before=before, after={"on_hold": False}, order_id=order_id)


def cancel_line(session: Session, actor: Actor, line_id: int, quantity: int | None = None, *, reason: str,
                notify_channel: bool = True) -> int:
    """Cancel what is still open of a line (or part of it). Picked units must be put back first."""
    reason = validate.text(reason, "reason for the cancellation", 300, required=True)
    line = session.get(OrderLine, line_id)
    if line is None:
        raise NotFound(_("There is no order line {id}.").format(id=line_id))
    order = _order_for_update(session, line.order_id)
    open_qty = line.quantity - line.shipped - line.cancelled
    cancellable = open_qty - line.picked
    qty = cancellable if quantity is None else validate.quantity(quantity)
    if open_qty <= 0:
        raise Conflict(_("Line {sku} of order {number} has nothing left to cancel.").format(sku=line.sku, number=order.number))
    if qty > cancellable or qty <= 0:
        raise Conflict(_("Only {n} of {sku} on order {number} can be cancelled; {picked} are picked or packed and must be put back first.").format(
            n=cancellable, sku=line.sku, number=order.number, picked=line.picked))
    unreserved = open_qty - line.allocated
    from_reservation = max(0, qty - unreserved)
    if from_reservation:
        _release_line(session, line, from_reservation)
    line.cancelled += qty
    line.backordered = max(0, min(line.backordered, line.quantity - line.shipped - line.cancelled - line.allocated))
    session.flush()
    status = refresh_status(session, order.id)
    audit.record(session, actor, "order.line_cancelled", "order_line", line.id, order_id=order.id,
                 summary=_("Cancelled {qty} × {sku}: {reason}").format(qty=qty, sku=line.sku, reason=reason),
                 after={"cancelled": line.cancelled, "status": status.value})
    if notify_channel:
        _notify_cancel(session, order, reason, [(line.external_line_id, qty)])
    return qty


def cancel_order(session: Session, actor: Actor, order_id: int, *, reason: str, notify_channel: bool = True) -> None:
    """Cancel everything still open on an order; refused once any unit is picked or shipped."""
    reason = validate.text(reason, "reason for the cancellation", 300, required=True)
    order = _order_for_update(session, order_id)
    if order.status == OrderStatus.CANCELLED.value:
        raise Conflict(_("Order {number} is already cancelled.").format(number=order.number))
    if any(l.shipped for l in order.lines):
        raise Conflict(_("Order {number} has already shipped in part; cancel the remaining lines one by one.").format(number=order.number)
                       if order.status not in (OrderStatus.SHIPPED.value, OrderStatus.DELIVERED.value)
                       else _("Order {number} has already shipped; it cannot be cancelled.").format(number=order.number))
    if any(l.picked for l in order.lines):
        raise Conflict(_("Order {number} is being picked or packed; put the items back before cancelling.").format(number=order.number))
    cancelled = []
    for line in order.lines:
        open_qty = line.quantity - line.cancelled
        if open_qty <= 0:
            continue
        if line.allocated:
            _release_line(session, line, line.allocated)
        line.cancelled += open_qty
        line.backordered = 0
        cancelled.append((line.external_line_id, open_qty))
    order.on_hold = False
    session.flush()
    refresh_status(session, order_id)
    audit.record(session, actor, "order.cancelled", "order", order_id, order_id=order_id,
                 summary=_("Order cancelled: {reason}").format(reason=reason), after={"status": OrderStatus.CANCELLED.value})
    if notify_channel:
        _notify_cancel(session, order, reason, cancelled)


def _notify_cancel(session: Session, order: SalesOrder, reason: str, lines: list[tuple[str, int]]) -> None:
    code = session.scalar(select(Channel.code).where(Channel.id == order.channel_id))
    n = session.scalar(select(audit.AuditEvent.id).where(audit.AuditEvent.order_id == order.id).order_by(audit.AuditEvent.id.desc()).limit(1))
    audit.enqueue(session, code, "order.cancelled", f"{code}:cancel:{order.external_id}:{n}",
                  {"external_id": order.external_id, "reason": reason, "lines": [{"external_line_id": e, "quantity": q} for e, q in lines]},
                  order_id=order.id)


def add_note(session: Session, actor: Actor, order_id: int, text: str) -> int:
    text = validate.text(text, "note", 4000, required=True)
    _order_for_update(session, order_id)
    note = OrderNote(order_id=order_id, text=text, user=actor.user, created_at=utcnow())
    session.add(note)
    session.flush()
    audit.record(session, actor, "order.note", "order", order_id, summary=text[:300], order_id=order_id)
    return note.id


def record_pick(session: Session, actor: Actor, line_id: int, qty: int, *, bin: int | str | None = None) -> None:
    """A picker has taken qty units of a line (from a bin, when known) into a tote."""
    validate.quantity(qty)
    line = session.get(OrderLine, line_id)
    if line is None:
        raise NotFound(_("There is no order line {id}.").format(id=line_id))
    order = _order_for_update(session, line.order_id)
    if order.on_hold:
        raise Conflict(_("Order {number} is on hold ({reason}).").format(number=order.number, reason=order.hold_reason))
    ok = session.execute(
        update(OrderLine).where(OrderLine.id == line_id, OrderLine.picked + qty <= OrderLine.allocated)
        .values(picked=OrderLine.picked + qty)
    ).rowcount == 1
    if not ok:
        raise Conflict(_("Only {n} of {sku} are reserved and not yet picked for order {number}.").format(
            n=line.allocated - line.picked, sku=line.sku, number=order.number))
    bid = None
    if bin is not None:
        loc = session.scalar(select(Allocation.location_id).where(Allocation.order_line_id == line_id).limit(1))
        bid = inventory.take_from_bin(session, line.product_id, loc, bin, qty)
    session.expire(line)
    refresh_status(session, order.id)
    audit.record(session, actor, "order.picked", "order_line", line_id, order_id=order.id,
                 summary=(_("Picked {qty} × {sku} from {bin}").format(qty=qty, sku=line.sku, bin=inventory.bin_code(session, bid))
                          if bid is not None else _("Picked {qty} × {sku}").format(qty=qty, sku=line.sku)),
                 after={"bin_id": bid, "quantity": qty})
