"""Routing orders in the database: facts loaded in bulk, plans chosen, allocations reserved and every
decision stored with its sentence; re-routing and releasing backorders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Sequence

from sqlalchemy import Integer, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from oms import inventory, orders
from oms.catalog.models import Product
from oms.core import audit, validate
from oms.core.audit import Actor
from oms.core.errors import Conflict, NotFound
from oms.core.i18n import _
from oms.core.types import utcnow
from oms.core.upsert import insert_or_add
from oms.inventory.models import Location, StockLevel
from oms.orders.models import Allocation, Channel, OrderLine, OrderStatus, OrderType, SalesOrder
from oms.routing.models import RoutingDecision
from oms.routing.planner import (
    LineNeed,
    LocationInfo,
    OrderFacts,
    allowed_locations,
    candidate_plans,
    explain,
    first_match,
)
from oms.routing.rates import RateBook
from oms.routing.rules import Rule, load_rules


@dataclass(frozen=True)
class RouteResult:
    order_id: int
    outcome: str  # allocated, split, partial, backordered, held, skipped
    explanation: str


def _locations(session: Session) -> list[LocationInfo]:
    return [LocationInfo(*r) for r in session.execute(
        select(Location.id, Location.code, Location.name, Location.priority).where(Location.active.is_(True))
        .order_by(Location.priority, Location.code))]


def _facts(session: Session, order_ids: Sequence[int]) -> tuple[dict[int, OrderFacts], dict[int, dict], dict[int, list]]:
    heads = session.execute(
        select(SalesOrder.id, SalesOrder.number, Channel.code, SalesOrder.order_type, SalesOrder.ship_country,
               SalesOrder.ship_region, SalesOrder.ship_postal_code, SalesOrder.service_level, SalesOrder.total_minor,
               SalesOrder.currency, SalesOrder.placed_at, SalesOrder.ship_by, SalesOrder.deliver_by,
               SalesOrder.on_hold, SalesOrder.status, SalesOrder.delivered_at, SalesOrder.tags)
        .join(Channel, Channel.id == SalesOrder.channel_id).where(SalesOrder.id.in_(order_ids))).all()
    line_rows = session.execute(
        select(OrderLine.id, OrderLine.order_id, OrderLine.product_id, OrderLine.sku, OrderLine.quantity, OrderLine.allocated,
               OrderLine.backordered, OrderLine.picked, OrderLine.packed, OrderLine.shipped, OrderLine.cancelled,
               Product.weight_g, Product.tags)
        .outerjoin(Product, Product.id == OrderLine.product_id)
        .where(OrderLine.order_id.in_(order_ids)).order_by(OrderLine.id)).all()
    held_at: dict[int, set[int]] = {}
    for line_id, loc in session.execute(
            select(OrderLine.order_id, Allocation.location_id).join(Allocation, Allocation.order_line_id == OrderLine.id)
            .where(OrderLine.order_id.in_(order_ids))):
        held_at.setdefault(line_id, set()).add(loc)
    lines_by_order: dict[int, list] = {}
    for r in line_rows:
        lines_by_order.setdefault(r.order_id, []).append(r)
    facts, meta = {}, {}
    for h in heads:
        needs = [LineNeed(r.id, r.product_id, r.sku, r.quantity - r.shipped - r.cancelled - r.allocated, r.weight_g or 0,
                          frozenset(t for t in (r.tags or "").split(",") if t))
                 for r in lines_by_order.get(h.id, []) if r.product_id is not None and r.quantity - r.shipped - r.cancelled - r.allocated > 0]
        facts[h.id] = OrderFacts(h.id, h.number, h.code, h.order_type, h.ship_country, h.ship_region, h.ship_postal_code,
                                 h.service_level, h.total_minor, h.currency, h.placed_at, h.ship_by, h.deliver_by, needs,
                                 held_at.get(h.id, set()), frozenset(t for t in (h.tags or "").split(",") if t))
        meta[h.id] = {"on_hold": h.on_hold, "status": h.status, "delivered": h.delivered_at is not None}
    return facts, meta, lines_by_order


def _available(session: Session, product_ids: Iterable[int]) -> dict[tuple[int, int], int]:
    ids = list(set(product_ids))
    out: dict[tuple[int, int], int] = {}
    for i in range(0, len(ids), 900):
        for pid, lid, avail in session.execute(
                select(StockLevel.product_id, StockLevel.location_id, StockLevel.on_hand - StockLevel.allocated)
                .where(StockLevel.product_id.in_(ids[i:i + 900]))):
            out[(pid, lid)] = avail
    return out


_lines_t = OrderLine.__table__

_orders_t = SalesOrder.__table__

_LINE_UPDATE = (
    update(_lines_t).where(_lines_t.c.id == bindparam("line_id", type_=Integer))
    .values(allocated=_lines_t.c.allocated + bindparam("add", type_=Integer), backordered=bindparam("back", type_=Integer))
)

_ORDER_UPDATE = (
    update(_orders_t).where(_orders_t.c.id == bindparam("oid", type_=Integer))
    .values(status=bindparam("st"), location_id=bindparam("loc", type_=Integer), on_hold=bindparam("hold"),
            hold_reason=bindparam("reason"), updated_at=bindparam("now"))
)


def route_orders(session: Session, actor: Actor, order_ids: Sequence[int], *, reason: str = "",
                 now: datetime | None = None, rules: Sequence[Rule] | None = None) -> list[RouteResult]:
    """Route and reserve the open need of each order, in the order given, in the caller's transaction."""
    if not order_ids:
        return []
    now = now or utcnow()
    rules = list(rules) if rules is not None else load_rules(session)
    locations = _locations(session)
    rates = RateBook.load(session)
    facts, meta, lines_by_order = _facts(session, order_ids)
    available = _available(session, {l.product_id for f in facts.values() for l in f.lines})
    results: list[RouteResult] = []
    line_updates, alloc_rows, order_updates, decisions, audits = [], [], [], [], []
    for oid in order_ids:
        f = facts.get(oid)
        if f is None:
            raise NotFound(_("There is no order with id {id}.").format(id=oid))
        m = meta[oid]
        if m["on_hold"] or m["status"] in (OrderStatus.CANCELLED.value, OrderStatus.SHIPPED.value, OrderStatus.DELIVERED.value):
            results.append(RouteResult(oid, "skipped", _("Order {n} is {s}; not routed.").format(n=f.number, s=m["status"].replace("_", " "))))
            continue
        if not f.lines:
            results.append(RouteResult(oid, "skipped", _("Order {n} has nothing left to allocate.").format(n=f.number)))
            continue
        rule = first_match(rules, f)
        if rule.actions.get("hold_reason"):
            text = _("Rule “{name}” holds the order: {reason}").format(name=rule.name, reason=rule.actions["hold_reason"])
            status = orders.derive_status([orders.LineQty(*r[4:11]) for r in lines_by_order[oid]], on_hold=True, delivered=m["delivered"])
            order_updates.append({"oid": oid, "st": status.value, "loc": None, "hold": True, "reason": rule.actions["hold_reason"][:300], "now": now})
            decisions.append({"order_id": oid, "at": now, "rule_id": rule.id, "rule_name": rule.name, "outcome": "held",
                              "explanation": text, "plan": {}, "candidates": {"plans": []}, "est_cost_minor": None, "est_delivery": None})
            audits.append(_audit_row(actor, oid, now, "order.routed", text))
            results.append(RouteResult(oid, "held", text))
            continue
        plans = candidate_plans(f, rule, locations, available, rates, now)
        if not plans:
            text = _("Rule “{name}” allows no active location; the order waits.").format(name=rule.name)
            results.append(RouteResult(oid, "skipped", text))
            continue
        best = plans[0]
        text = explain(f, rule, plans, f.currency)
        if reason:
            text += " " + _("Re-routed: {reason}").format(reason=reason)
        # Reserve: one statement per shipping location; a race lost to another station backorders that line.
        got_lines: dict[int, int] = {}
        for loc, lines in best.shipments:
            wanted: dict[int, int] = {}
            for l in lines:
                wanted[l.product_id] = wanted.get(l.product_id, 0) + l.need
            got = inventory.try_reserve_many(session, loc.id, wanted)
            for l in lines:
                key = (l.product_id, loc.id)
                if l.product_id in got:
                    got_lines[l.line_id] = loc.id
                    available[key] = available.get(key, 0) - l.need
                else:
                    available[key] = 0  # someone else took it; this order's line waits
        # A wholesale line that no location can fill whole takes what is there now (unless the rule ships complete):
        # from the plan's locations first, then the other allowed ones. The buyer gets those units now and the rest
        # waits, as the 855 then says.
        partial: dict[int, list[tuple[int, int]]] = {}  # line id -> [(location id, units)]
        if f.order_type == OrderType.WHOLESALE.value and rule.actions.get("split") != "ship_complete":
            in_plan = [loc for loc, _lines in best.shipments]
            sources = in_plan + [loc for loc in allowed_locations(rule, locations) if loc not in in_plan]
            for l in f.lines:
                left = 0 if l.line_id in got_lines else l.need
                for loc in sources:
                    if left <= 0:
                        break
                    key = (l.product_id, loc.id)
                    units = min(left, available.get(key, 0))
                    if units > 0 and inventory.try_reserve(session, l.product_id, loc.id, units):
                        available[key] -= units
                        partial.setdefault(l.line_id, []).append((loc.id, units))
                        left -= units
            if partial:
                codes = {loc.id: loc.code for loc in locations}
                text += " " + _("Reserved in part, the rest backordered: {lines}.").format(lines=", ".join(
                    _("{got} of {need} × {sku} at {where}").format(
                        got=sum(u for _loc, u in partial[l.line_id]), need=l.need, sku=l.sku,
                        where=", ".join(codes[loc] for loc, _u in partial[l.line_id]))
                    for l in f.lines if l.line_id in partial))
        primary = best.shipments[0][0]
        if not got_lines and partial:  # only part-lines were reserved: the order ships from where they are
            first = next(iter(partial.values()))[0][0]
            primary = next(loc for loc in locations if loc.id == first)
        new_qty = {}
        needs = {l.line_id: l.need for l in f.lines}
        for r in lines_by_order[oid]:
            need = needs.get(r.id, 0)
            if need <= 0:
                new_qty[r.id] = (r.allocated, r.backordered)
                continue
            if r.id in got_lines:
                line_updates.append({"line_id": r.id, "add": need, "back": 0})
                alloc_rows.append({"order_line_id": r.id, "location_id": got_lines[r.id], "product_id": r.product_id,
                                   "quantity": need, "created_at": now})
                new_qty[r.id] = (r.allocated + need, 0)
            elif r.id in partial:
                units = sum(u for _loc, u in partial[r.id])
                line_updates.append({"line_id": r.id, "add": units, "back": need - units})
                alloc_rows += [{"order_line_id": r.id, "location_id": loc_id, "product_id": r.product_id,
                                "quantity": u, "created_at": now} for loc_id, u in partial[r.id]]
                new_qty[r.id] = (r.allocated + units, need - units)
            else:
                line_updates.append({"line_id": r.id, "add": 0, "back": need})
                new_qty[r.id] = (r.allocated, need)
        status = orders.derive_status(
            [orders.LineQty(r.quantity, new_qty[r.id][0], new_qty[r.id][1], r.picked, r.packed, r.shipped, r.cancelled)
             for r in lines_by_order[oid]], on_hold=False, delivered=m["delivered"])
        allocated_units = sum(l.need for l in f.lines if l.line_id in got_lines) + sum(u for p in partial.values() for _l, u in p)
        used = set(got_lines.values()) | {loc for p in partial.values() for loc, _u in p}
        outcome = ("split" if len(used) > 1 else "allocated") if allocated_units == sum(l.need for l in f.lines) \
            else ("partial" if allocated_units else "backordered")
        order_updates.append({"oid": oid, "st": status.value, "loc": primary.id, "hold": False, "reason": "", "now": now})
        decisions.append({
            "order_id": oid, "at": now, "rule_id": rule.id, "rule_name": rule.name, "outcome": outcome, "explanation": text,
            "plan": best.as_json(),
            "candidates": {"plans": [dict(p.as_json(), complete=p.complete) for p in plans[:4]]},
            "est_cost_minor": best.cost_minor,
            "est_delivery": datetime.combine(best.delivery, datetime.min.time(), tzinfo=now.tzinfo) if best.delivery else None,
        })
        audits.append(_audit_row(actor, oid, now, "order.routed", text))
        results.append(RouteResult(oid, outcome, text))
    conn = session.connection()
    if line_updates:
        conn.execute(_LINE_UPDATE, line_updates)
    insert_or_add(session, Allocation.__table__, alloc_rows, ["order_line_id", "location_id"], "quantity")
    if order_updates:
        conn.execute(_ORDER_UPDATE, order_updates)
    if decisions:
        conn.execute(insert(RoutingDecision.__table__), decisions)
    audit.record_many(session, audits)
    session.expire_all()
    return results


def _audit_row(actor: Actor, oid: int, now: datetime, action: str, text: str) -> dict:
    return {"at": now, "user": actor.user[:64], "station": actor.station[:64], "action": action, "entity": "order",
            "entity_id": str(oid), "order_id": oid, "summary": text[:300], "before": None, "after": None}


def route_order(session: Session, actor: Actor, order_id: int, **kw) -> RouteResult:
    return route_orders(session, actor, [order_id], **kw)[0]


# Once someone has started picking or packing, the order's stock is in a tote: moving it is a floor decision.
_REROUTE_STARTED = frozenset({OrderStatus.PICKING.value, OrderStatus.PACKED.value, OrderStatus.PARTIALLY_SHIPPED.value})

_REROUTE_CLOSED = frozenset({OrderStatus.SHIPPED.value, OrderStatus.DELIVERED.value, OrderStatus.CANCELLED.value})


def reroute_refusal(status: str, on_hold: bool, picked_units: int) -> str | None:
    """Why an order cannot be re-routed now, in words for the person asking; None when it can.
    The screens ask before offering the action; ``reroute`` asks again before writing."""
    if status in _REROUTE_CLOSED:
        return _("The order is {status}; it can no longer be re-routed.").format(status=status.replace("_", " "))
    if status in _REROUTE_STARTED or picked_units > 0:
        return _("Picking or packing has started; re-routing would strand the picked items. "
                 "Take it up with the floor supervisor.")
    if on_hold:
        return _("The order is on hold; release the hold first, then re-route it.")
    return None


def reroute(session: Session, actor: Actor, order_id: int, *, reason: str) -> RouteResult:
    """Give back an order's unpicked reservations and route it again (before picking)."""
    reason = validate.text(reason, "reason for re-routing", 300, required=True)
    row = session.execute(select(SalesOrder.status, SalesOrder.on_hold, SalesOrder.number).where(SalesOrder.id == order_id)).first()
    if row is None:
        raise NotFound(_("There is no order with id {id}.").format(id=order_id))
    status, on_hold, number = row
    picked = session.scalar(select(func.coalesce(func.sum(OrderLine.picked + OrderLine.packed), 0))
                            .where(OrderLine.order_id == order_id)) or 0
    why = reroute_refusal(status, bool(on_hold), int(picked))
    if why:
        raise Conflict(_("{number}: {why}").format(number=number, why=why))
    orders.deallocate_order(session, actor, order_id, reason=reason)
    session.flush()
    return route_order(session, actor, order_id, reason=reason)


def release_backorders(session: Session, actor: Actor, product_ids: Iterable[int]) -> list[RouteResult]:
    """Stock arrived for these products: route the orders waiting for them, oldest promise first."""
    ids = list(set(product_ids))
    if not ids:
        return []
    waiting = session.execute(
        select(SalesOrder.id)
        .join(OrderLine, OrderLine.order_id == SalesOrder.id)
        .where(OrderLine.product_id.in_(ids), OrderLine.backordered > 0, SalesOrder.on_hold.is_(False))
        .group_by(SalesOrder.id, SalesOrder.deliver_by, SalesOrder.ship_by, SalesOrder.placed_at)
        .order_by(func.coalesce(SalesOrder.deliver_by, SalesOrder.ship_by, SalesOrder.placed_at), SalesOrder.placed_at, SalesOrder.id)
    ).scalars().all()
    if not waiting:
        return []
    # Route only the backordered need: reservations already held stay where they are.
    return [r for r in route_orders(session, actor, waiting, reason=_("stock arrived")) if r.outcome != "skipped"]
