"""Routing: which location ships which order lines, by ordered rules and scored plans, with explanations.

A rule set is evaluated top to bottom; the first enabled rule whose conditions
match decides the allowed and preferred locations, whether the order may split,
the service level, or a hold. Candidate plans are then ranked: complete plans
first, fewest shipments, preferred locations, lower estimated shipping cost,
on time against the promise, earlier delivery, location priority. Every decision
is stored with a sentence a person can read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import combinations
from typing import Any, Iterable, Sequence

from sqlalchemy import Integer, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from . import audit, inventory, orders, validate, wording
from .audit import Actor
from .errors import Conflict, InvalidInput, NotFound
from .i18n import _, ngettext
from .models import (
    NAME,
    Allocation,
    Channel,
    Location,
    OrderLine,
    OrderStatus,
    OrderType,
    Product,
    RoutingDecision,
    RoutingRule,
    SalesOrder,
    ShippingRate,
    ShippingZone,
    StockLevel,
    utcnow,
)
from .money import format_money

# Order values in rules (value_min_minor, value_max_minor) are minor units of the business's own currency.
RULE_CURRENCY = "USD"
LIST_CONDITIONS = ("channel", "order_type", "country", "region", "postal_prefix", "sku", "sku_tag", "service_level")
RANGE_CONDITIONS = ("weight_min_g", "weight_max_g", "value_min_minor", "value_max_minor")
ACTIONS = ("allowed_locations", "preferred_locations", "split", "service_level", "hold_reason")
SERVICE_LEVELS = ("standard", "ground", "expedited", "overnight")
# Orders placed after this hour (UTC) leave the building the next working day.
CUTOFF_HOUR_UTC = 21


# -- rules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    id: int | None
    name: str
    conditions: dict[str, Any]
    actions: dict[str, Any]
    enabled: bool = True
    is_default: bool = False
    position: int = 0

    def describe(self) -> str:
        """The rule in one line of plain words, for lists and explanations."""
        parts = []
        c = self.conditions
        for key in LIST_CONDITIONS:
            if c.get(key):
                parts.append(f"{key.replace('_', ' ')} is {' or '.join(c[key])}")
        if c.get("weight_min_g") is not None:
            parts.append(_("weight ≥ {kg} kg").format(kg=c["weight_min_g"] / 1000))
        if c.get("weight_max_g") is not None:
            parts.append(_("weight ≤ {kg} kg").format(kg=c["weight_max_g"] / 1000))
        if c.get("value_min_minor") is not None:
            parts.append(_("value ≥ {v}").format(v=format_money(c["value_min_minor"], RULE_CURRENCY)))
        if c.get("value_max_minor") is not None:
            parts.append(_("value ≤ {v}").format(v=format_money(c["value_max_minor"], RULE_CURRENCY)))
        when = _("when ") + _(" and ").join(parts) if parts else _("every order")
        a = self.actions
        does = []
        if a.get("hold_reason"):
            does.append(_("put on hold ({reason})").format(reason=a["hold_reason"]))
        if a.get("allowed_locations"):
            does.append(_("only from {locs}").format(locs=", ".join(a["allowed_locations"])))
        if a.get("preferred_locations"):
            does.append(_("prefer {locs}").format(locs=", ".join(a["preferred_locations"])))
        does.append(_("ship complete") if a.get("split") == "ship_complete" else _("split allowed"))
        if a.get("service_level"):
            does.append(_("ship {service}").format(service=wording.service_level(a["service_level"])))
        return f"{when}: {'; '.join(does)}"


def check_rule(session: Session, name: str, conditions: dict, actions: dict) -> tuple[str, dict, dict]:
    """Validate a rule; InvalidInput says exactly what is wrong. Returns cleaned values."""
    name = validate.text(name, "rule name", NAME, required=True)
    if not isinstance(conditions, dict) or not isinstance(actions, dict):
        raise InvalidInput(_("Conditions and actions must be mappings."))
    unknown = set(conditions) - set(LIST_CONDITIONS) - set(RANGE_CONDITIONS)
    if unknown:
        raise InvalidInput(_("Unknown condition {names}.").format(names=", ".join(sorted(unknown))))
    unknown = set(actions) - set(ACTIONS)
    if unknown:
        raise InvalidInput(_("Unknown action {names}.").format(names=", ".join(sorted(unknown))))
    clean_c: dict[str, Any] = {}
    for key in LIST_CONDITIONS:
        values = conditions.get(key) or []
        if isinstance(values, str):
            values = [v for v in values.replace(";", ",").split(",")]
        values = [str(v).strip() for v in values if str(v).strip()]
        if values:
            clean_c[key] = values
    for key in RANGE_CONDITIONS:
        value = conditions.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise InvalidInput(_("The condition {key} must be a whole number of zero or more.").format(key=key.replace("_", " ")))
        clean_c[key] = value
    for lo, hi in (("weight_min_g", "weight_max_g"), ("value_min_minor", "value_max_minor")):
        if lo in clean_c and hi in clean_c and clean_c[lo] > clean_c[hi]:
            raise InvalidInput(_("The minimum {what} is above the maximum; no order could match.").format(what=lo.split("_")[0]))
    if "order_type" in clean_c:
        bad = set(clean_c["order_type"]) - {t.value for t in OrderType}
        if bad:
            raise InvalidInput(_("Unknown order type {t}.").format(t=", ".join(sorted(bad))))
    if "channel" in clean_c:
        known = set(session.scalars(select(Channel.code)))
        bad = set(clean_c["channel"]) - known
        if bad:
            raise InvalidInput(_("There is no sales channel {c}.").format(c=", ".join(sorted(bad))))
    if "service_level" in clean_c and set(clean_c["service_level"]) - set(SERVICE_LEVELS):
        raise InvalidInput(_("Service levels are {levels}.").format(levels=", ".join(SERVICE_LEVELS)))
    if "country" in clean_c:
        clean_c["country"] = [validate.country(c) for c in clean_c["country"]]
    if "region" in clean_c:
        clean_c["region"] = [r.upper() for r in clean_c["region"]]
    if "sku_tag" in clean_c:
        clean_c["sku_tag"] = [t.lower() for t in clean_c["sku_tag"]]

    clean_a: dict[str, Any] = {}
    codes = set(session.scalars(select(Location.code).where(Location.active.is_(True))))
    for key in ("allowed_locations", "preferred_locations"):
        values = actions.get(key) or []
        if isinstance(values, str):
            values = values.replace(";", ",").split(",")
        values = [str(v).strip() for v in values if str(v).strip()]
        bad = [v for v in values if v not in codes]
        if bad:
            raise InvalidInput(_("There is no active location {codes}.").format(codes=", ".join(bad)))
        if values:
            clean_a[key] = values
    if clean_a.get("allowed_locations") and clean_a.get("preferred_locations"):
        outside = set(clean_a["preferred_locations"]) - set(clean_a["allowed_locations"])
        if outside:
            raise InvalidInput(_("Preferred location {codes} is not among the allowed ones.").format(codes=", ".join(sorted(outside))))
    split = actions.get("split") or "allow"
    if split not in ("allow", "ship_complete"):
        raise InvalidInput(_("Split must be 'allow' or 'ship_complete'."))
    clean_a["split"] = split
    if actions.get("service_level"):
        if actions["service_level"] not in SERVICE_LEVELS:
            raise InvalidInput(_("Service levels are {levels}.").format(levels=", ".join(SERVICE_LEVELS)))
        clean_a["service_level"] = actions["service_level"]
    hold = validate.text(actions.get("hold_reason") or "", "hold reason", 300)
    if hold:
        clean_a["hold_reason"] = hold
    return name, clean_c, clean_a


def ensure_default_rule(session: Session) -> int:
    rid = session.scalar(select(RoutingRule.id).where(RoutingRule.is_default.is_(True)))
    if rid is None:
        rule = RoutingRule(position=1_000_000, name=_("Default: any location, split allowed"), enabled=True,
                           is_default=True, conditions={}, actions={"split": "allow"})
        session.add(rule)
        session.flush()
        rid = rule.id
    return rid


def load_rules(session: Session) -> list[Rule]:
    ensure_default_rule(session)
    rows = session.scalars(select(RoutingRule).order_by(RoutingRule.is_default, RoutingRule.position, RoutingRule.id))
    return [Rule(r.id, r.name, dict(r.conditions or {}), dict(r.actions or {}), r.enabled, r.is_default, r.position) for r in rows]


def save_rule(session: Session, actor: Actor, name: str, conditions: dict, actions: dict, *,
              rule_id: int | None = None, enabled: bool = True) -> int:
    """Create or change a rule (new rules go just above the default rule)."""
    name, conditions, actions = check_rule(session, name, conditions, actions)
    if rule_id is None:
        top = session.scalar(select(func.max(RoutingRule.position)).where(RoutingRule.is_default.is_(False))) or 0
        rule = RoutingRule(position=top + 10, name=name, conditions=conditions, actions=actions, enabled=enabled)
        session.add(rule)
        session.flush()
        audit.record(session, actor, "routing.rule_added", "routing_rule", rule.id, summary=name, after={"conditions": conditions, "actions": actions})
        return rule.id
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound(_("There is no routing rule {id}.").format(id=rule_id))
    if rule.is_default and (conditions or not enabled):
        raise InvalidInput(_("The default rule applies to every order and cannot have conditions or be switched off."))
    before = {"name": rule.name, "conditions": rule.conditions, "actions": rule.actions, "enabled": rule.enabled}
    rule.name, rule.conditions, rule.actions, rule.enabled, rule.updated_at = name, conditions, actions, enabled, utcnow()
    session.flush()
    audit.record(session, actor, "routing.rule_changed", "routing_rule", rule.id, summary=name, before=before,
                 after={"conditions": conditions, "actions": actions, "enabled": enabled})
    return rule.id


def set_enabled(session: Session, actor: Actor, rule_id: int, enabled: bool) -> None:
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound(_("There is no routing rule {id}.").format(id=rule_id))
    if rule.is_default and not enabled:
        raise InvalidInput(_("The default rule cannot be switched off."))
    rule.enabled = enabled
    audit.record(session, actor, "routing.rule_enabled" if enabled else "routing.rule_disabled", "routing_rule", rule_id, summary=rule.name)


def reorder(session: Session, actor: Actor, rule_ids: Sequence[int]) -> None:
    """Put the non-default rules in this order (the default stays last)."""
    rules = {r.id: r for r in session.scalars(select(RoutingRule).where(RoutingRule.is_default.is_(False)))}
    if set(rule_ids) != set(rules) or len(rule_ids) != len(rules):
        raise InvalidInput(_("The new order must list every rule once (the default rule excluded)."))
    for pos, rid in enumerate(rule_ids, 1):
        rules[rid].position = pos * 10
    audit.record(session, actor, "routing.rules_reordered", "routing_rule", "*", summary=", ".join(rules[r].name for r in rule_ids)[:300])


def delete_rule(session: Session, actor: Actor, rule_id: int) -> None:
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound(_("There is no routing rule {id}.").format(id=rule_id))
    if rule.is_default:
        raise InvalidInput(_("The default rule cannot be deleted."))
    session.delete(rule)
    audit.record(session, actor, "routing.rule_deleted", "routing_rule", rule_id, summary=rule.name)


# -- the facts routing looks at ------------------------------------------------------------------


@dataclass
class LineNeed:
    line_id: int
    product_id: int
    sku: str
    need: int
    weight_g: int
    tags: frozenset[str]


@dataclass
class OrderFacts:
    order_id: int
    number: str
    channel: str
    order_type: str
    country: str
    region: str
    postal_code: str
    service_level: str
    value_minor: int
    currency: str
    placed_at: datetime
    ship_by: datetime | None
    deliver_by: datetime | None
    lines: list[LineNeed]
    allocated_at: set[int] = field(default_factory=set)  # locations already holding some of it

    @property
    def weight_g(self) -> int:
        return sum(l.weight_g * l.need for l in self.lines)


def matches(rule: Rule, f: OrderFacts) -> bool:
    c = rule.conditions
    if not rule.enabled:
        return False
    if c.get("channel") and f.channel not in c["channel"]:
        return False
    if c.get("order_type") and f.order_type not in c["order_type"]:
        return False
    if c.get("country") and f.country not in c["country"]:
        return False
    if c.get("region") and f.region.upper() not in c["region"]:
        return False
    if c.get("postal_prefix") and not any(f.postal_code.startswith(p) for p in c["postal_prefix"]):
        return False
    if c.get("service_level") and f.service_level not in c["service_level"]:
        return False
    if c.get("sku") and not {l.sku for l in f.lines} & set(c["sku"]):
        return False
    if c.get("sku_tag") and not set().union(*(l.tags for l in f.lines)) & set(c["sku_tag"]):
        return False
    weight = f.weight_g
    if c.get("weight_min_g") is not None and weight < c["weight_min_g"]:
        return False
    if c.get("weight_max_g") is not None and weight > c["weight_max_g"]:
        return False
    if c.get("value_min_minor") is not None and f.value_minor < c["value_min_minor"]:
        return False
    if c.get("value_max_minor") is not None and f.value_minor > c["value_max_minor"]:
        return False
    return True


def first_match(rules: Sequence[Rule], f: OrderFacts) -> Rule:
    for rule in rules:
        if matches(rule, f):
            return rule
    return next(r for r in rules if r.is_default)


# -- rates -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LocationInfo:
    id: int
    code: str
    name: str
    priority: int


@dataclass
class RateBook:
    zones: dict[tuple[int, str, str], int]
    rates: dict[tuple[int, str, int], tuple[int, int, int]]  # base, per kg, transit days

    @classmethod
    def load(cls, session: Session) -> "RateBook":
        zones = {(z.location_id, z.country, z.region): z.zone for z in session.scalars(select(ShippingZone))}
        rates = {(r.location_id, r.service_level, r.zone): (r.base_minor, r.per_kg_minor, r.transit_days)
                 for r in session.scalars(select(ShippingRate))}
        return cls(zones, rates)

    def quote(self, lid: int, country: str, region: str, service: str, weight_g: int) -> tuple[int, int] | None:
        """(cost in minor units, transit days) for one package, or None when there is no rate."""
        zone = self.zones.get((lid, country, region.upper())) or self.zones.get((lid, country, ""))
        if zone is None:
            return None
        rate = self.rates.get((lid, service, zone))
        if rate is None and service == "ground":
            rate = self.rates.get((lid, "standard", zone))
        if rate is None:
            return None
        base, per_kg, days = rate
        return base + per_kg * max(1, math.ceil(weight_g / 1000)), days


def ship_date(now: datetime) -> date:
    day = now.date() if now.hour < CUTOFF_HOUR_UTC else now.date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


@lru_cache(maxsize=4096)
def add_business_days(day: date, n: int) -> date:
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


# -- planning ----------------------------------------------------------------------------------------


@dataclass
class Plan:
    shipments: list[tuple[LocationInfo, list[LineNeed]]]
    short: list[LineNeed]
    cost_minor: int | None
    delivery: date | None
    preferred: bool
    priority: int

    @property
    def complete(self) -> bool:
        return not self.short

    @property
    def units(self) -> int:
        return sum(l.need for _loc, lines in self.shipments for l in lines)

    def label(self) -> str:
        return " + ".join(f"{loc.name}" for loc, _l in self.shipments) or _("nowhere")

    def as_json(self) -> dict:
        return {
            "locations": [loc.code for loc, _l in self.shipments],
            "shipments": [{"location": loc.code, "lines": [{"line_id": l.line_id, "sku": l.sku, "quantity": l.need} for l in lines]}
                          for loc, lines in self.shipments],
            "short": [{"line_id": l.line_id, "sku": l.sku, "quantity": l.need} for l in self.short],
            "cost_minor": self.cost_minor,
            "delivery": self.delivery.isoformat() if self.delivery else None,
        }


def _rank(plan: Plan, promise: date | None):
    on_time = plan.delivery is not None and (promise is None or plan.delivery <= promise)
    return (
        not plan.complete,
        -plan.units if not plan.complete else 0,
        len(plan.shipments),
        not plan.preferred,
        plan.cost_minor if plan.cost_minor is not None else 10**12,
        not on_time,
        plan.delivery or date.max,
        plan.priority,
    )


def allowed_locations(rule: Rule, locations: Sequence[LocationInfo]) -> list[LocationInfo]:
    """The active locations the rule lets ship (all of them unless it names some)."""
    names = rule.actions.get("allowed_locations")
    return [l for l in locations if not names or l.code in names]


def candidate_plans(f: OrderFacts, rule: Rule, locations: Sequence[LocationInfo], available: dict[tuple[int, int], int],
                    rates: RateBook, now: datetime) -> list[Plan]:
    """Every plan the rule allows, each line whole from one location; best first."""
    a = rule.actions
    allowed = allowed_locations(rule, locations)
    preferred_codes = set(a.get("preferred_locations") or [])
    ship_complete = a.get("split") == "ship_complete"
    if ship_complete and f.allocated_at:
        allowed = [l for l in allowed if l.id in f.allocated_at] or allowed
    service = a.get("service_level") or f.service_level
    # Preferred locations are asked first, then by priority.
    ordered = sorted(allowed, key=lambda l: (l.code not in preferred_codes, l.priority, l.code))
    max_k = 1 if ship_complete else min(3, len(ordered))
    plans: list[Plan] = []
    start = ship_date(now)
    for k in range(1, max_k + 1):
        for combo in combinations(ordered, k):
            left = {(l.product_id, loc.id): available.get((l.product_id, loc.id), 0) for l in f.lines for loc in combo}
            assigned: dict[int, list[LineNeed]] = {l.id: [] for l in combo}
            short: list[LineNeed] = []
            for line in f.lines:
                for loc in combo:
                    key = (line.product_id, loc.id)
                    if left.get(key, 0) >= line.need:
                        left[key] -= line.need
                        assigned[loc.id].append(line)
                        break
                else:
                    short.append(line)
            if k > 1 and any(not v for v in assigned.values()):
                continue  # a location with nothing to ship: the same as a smaller plan
            shipments = [(loc, assigned[loc.id]) for loc in combo if assigned[loc.id]]
            if not shipments:
                shipments_for_cost = [(combo[0], list(f.lines))]
            else:
                shipments_for_cost = shipments
            cost = 0
            delivery = start
            for loc, lines in shipments_for_cost:
                quote = rates.quote(loc.id, f.country, f.region, service, sum(l.weight_g * l.need for l in lines))
                if quote is None:
                    cost, delivery = None, None
                    break
                cost += quote[0]
                delivery = max(delivery, add_business_days(start, quote[1]))
            plans.append(Plan(
                shipments=shipments if shipments else [(combo[0], [])], short=short, cost_minor=cost, delivery=delivery,
                preferred=bool(preferred_codes) and all(loc.code in preferred_codes for loc in combo),
                priority=sum(loc.priority for loc in combo),
            ))
        if any(p.complete for p in plans):
            break  # fewer shipments always win; larger splits need not be costed
    promise = f.deliver_by.date() if f.deliver_by else None
    plans.sort(key=lambda p: _rank(p, promise))
    return plans


def explain(f: OrderFacts, rule: Rule, plans: list[Plan], currency: str) -> str:
    """One or two sentences: the rule, the winner, and why it beat the runner-up."""
    rule_text = _("Rule “{name}”").format(name=rule.name)
    if not plans:
        return _("{rule}: no location may ship this order.").format(rule=rule_text)
    best = plans[0]
    n = len(f.lines)
    money = lambda p: format_money(p.cost_minor, currency) if p.cost_minor is not None else _("no rate")  # noqa: E731
    if best.complete and len(best.shipments) == 1:
        head = _("{loc} has all {n} lines").format(loc=best.shipments[0][0].name, n=n) if n > 1 else \
            _("{loc} has it in stock").format(loc=best.shipments[0][0].name)
    elif best.complete:
        head = _("no one location has all {n} lines; split {parts}").format(
            n=n, parts=" + ".join(f"{loc.name} ({len(lines)})" for loc, lines in best.shipments))
    else:
        missing = ", ".join(f"{l.sku} ×{l.need}" for l in best.short)
        head = _("no allowed location has {missing}; backordered at {loc}").format(missing=missing, loc=best.shipments[0][0].name)
    bits = [head]
    rivals = [p for p in plans[1:] if p.complete == best.complete and len(p.shipments) == len(best.shipments)]
    if best.cost_minor is not None:
        if rivals:
            bits.append(_("{a} vs {b} from {loc}").format(a=money(best), b=money(rivals[0]), loc=rivals[0].label()))
        else:
            bits.append(money(best))
    if best.delivery:
        promise = f.deliver_by.date() if f.deliver_by else None
        arrive = _("arrives {day}").format(day=best.delivery.strftime("%a %d %b"))
        if promise:
            arrive += _(", promise {day}").format(day=promise.strftime("%a %d %b"))
            if best.delivery > promise:
                arrive += _(" (late)")
        bits.append(arrive)
    return f"{rule_text}: " + "; ".join(bits) + "."


# -- routing orders ---------------------------------------------------------------------------------------


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
               SalesOrder.on_hold, SalesOrder.status, SalesOrder.delivered_at)
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
                                 held_at.get(h.id, set()))
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


def _upsert_allocations(session: Session, rows: list[dict]) -> None:
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    table = Allocation.__table__
    stmt = dialect_insert(table)
    stmt = stmt.on_conflict_do_update(index_elements=["order_line_id", "location_id"],
                                      set_={"quantity": table.c.quantity + stmt.excluded.quantity})
    session.connection().execute(stmt, rows)


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
    _upsert_allocations(session, alloc_rows)
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


def import_and_route(session: Session, actor: Actor, batch: Sequence[orders.NormalizedOrder]) -> list[orders.ImportResult]:
    """Import orders and route the new ones at once (unless a rule or an unknown SKU holds them)."""
    results = orders.import_orders(session, actor, batch)
    # New orders, and those whose channel has just stopped making them wait (a payment taken).
    due = [r.order_id for r in results if r.outcome == "created" or orders.CHANNEL_RELEASED in r.changes]
    route_orders(session, actor, due)
    return results


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


# -- simulation ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimulationSide:
    orders: int
    shipments: int
    cost_minor: int
    on_time: int
    held: int


@dataclass(frozen=True)
class SimulationReport:
    before: SimulationSide
    after: SimulationSide
    moved: int  # orders whose locations change
    split_changed: int
    examples: tuple[str, ...]
    # A new or changed rule that matches orders a rule above it decides first: (rule, the rule above, orders).
    shadowed: tuple[tuple[str, str, int], ...] = ()

    def shadow_notes(self) -> list[str]:
        return [ngettext("“{rule}” matches {n} of these orders, but “{above}” above it decides it first: "
                         "move the rule up for it to count.",
                         "“{rule}” matches {n} of these orders, but “{above}” above it decides them first: "
                         "move the rule up for it to count.", n).format(rule=rule, above=above, n=f"{n:,}")
                for rule, above, n in self.shadowed]

    def summary(self) -> str:
        def pct(side):
            return f"{100 * side.on_time / side.orders:.1f}%" if side.orders else "-"
        cost = ((self.after.cost_minor - self.before.cost_minor) / self.before.cost_minor * 100) if self.before.cost_minor else 0.0
        return _("Over the last {n} orders, {moved} would move; shipping cost {cost:+.1f}%; on-time {b} → {a}; "
                 "shipments {sb} → {sa}; held {hb} → {ha}.").format(
            n=self.before.orders, moved=self.moved, cost=cost, b=pct(self.before), a=pct(self.after),
            sb=self.before.shipments, sa=self.after.shipments, hb=self.before.held, ha=self.after.held)


def simulate(session: Session, proposed: Sequence[Rule], *, last: int = 2000, now: datetime | None = None) -> SimulationReport:
    """Route the last N orders with the current rules and with ``proposed``, writing nothing.

    Both sides see the same stock: today's available stock plus what each order
    itself holds, so the comparison isolates the rules.
    """
    current = load_rules(session)
    saved = {r.id: (r.name, r.conditions, r.actions, r.enabled) for r in current}
    edited = [r for r in proposed if not r.is_default and r.enabled
              and saved.get(r.id) != (r.name, r.conditions, r.actions, r.enabled)]
    shadowed: dict[tuple[str, str], int] = {}
    ids = session.scalars(select(SalesOrder.id).order_by(SalesOrder.placed_at.desc()).limit(max(1, last))).all()
    locations = _locations(session)
    rates = RateBook.load(session)
    sides = {"before": [0, 0, 0, 0, 0], "after": [0, 0, 0, 0, 0]}
    moved = split_changed = 0
    examples: list[str] = []
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        facts, _meta, lines_by_order = _facts(session, chunk)
        base = _available(session, {r.product_id for rows in lines_by_order.values() for r in rows if r.product_id})
        own: dict[int, list[tuple[int, int, int]]] = {}
        for oid, pid, lid, qty in session.execute(
                select(OrderLine.order_id, Allocation.product_id, Allocation.location_id, Allocation.quantity)
                .join(Allocation, Allocation.order_line_id == OrderLine.id).where(OrderLine.order_id.in_(chunk))):
            own.setdefault(oid, []).append((pid, lid, qty))
        for oid in chunk:
            f = facts[oid]
            # The whole order as if unrouted: every open unit is needed, its own reservations are free again.
            f = replace(f, allocated_at=set(), lines=[
                LineNeed(r.id, r.product_id, r.sku, r.quantity - r.cancelled, r.weight_g or 0,
                         frozenset(t for t in (r.tags or "").split(",") if t))
                for r in lines_by_order.get(oid, []) if r.product_id is not None and r.quantity - r.cancelled > 0])
            if not f.lines:
                continue
            avail = dict(base)
            for pid, lid, qty in own.get(oid, ()):
                avail[(pid, lid)] = avail.get((pid, lid), 0) + qty
            outcome = {}
            for side, rules in (("before", current), ("after", list(proposed))):
                rule = first_match(rules, f)
                if side == "after":
                    for e in edited:
                        if e is not rule and matches(e, f) and rules.index(rule) < rules.index(e):
                            shadowed[(e.name, rule.name)] = shadowed.get((e.name, rule.name), 0) + 1
                s = sides[side]
                s[0] += 1
                if rule.actions.get("hold_reason"):
                    s[4] += 1
                    outcome[side] = ("held",)
                    continue
                plans = candidate_plans(f, rule, locations, avail, rates, now or f.placed_at)
                if not plans:
                    outcome[side] = ("none",)
                    continue
                best = plans[0]
                s[1] += len(best.shipments)
                s[2] += best.cost_minor or 0
                promise = f.deliver_by.date() if f.deliver_by else None
                s[3] += int(best.delivery is not None and (promise is None or best.delivery <= promise))
                outcome[side] = tuple(sorted(loc.code for loc, _l in best.shipments))
            if outcome.get("before") != outcome.get("after"):
                moved += 1
                if len(examples) < 10:
                    examples.append(f"{f.number}: {'+'.join(outcome.get('before', ()))} → {'+'.join(outcome.get('after', ()))}")
            if len(outcome.get("before", ())) != len(outcome.get("after", ())):
                split_changed += 1
    return SimulationReport(SimulationSide(*sides["before"]), SimulationSide(*sides["after"]), moved, split_changed,
                            tuple(examples), tuple((rule, above, n) for (rule, above), n in shadowed.items()))


# -- seeding rates --------------------------------------------------------------------------------------------

# Approximate centres of US states (lat, lon): enough to put destinations into zones.
STATE_CENTRES = {
    "AL": (32.8, -86.8), "AK": (61.4, -152.3), "AZ": (34.2, -111.7), "AR": (34.9, -92.4), "CA": (36.8, -119.4),
    "CO": (39.0, -105.5), "CT": (41.6, -72.7), "DE": (39.0, -75.5), "DC": (38.9, -77.0), "FL": (28.6, -82.4),
    "GA": (32.7, -83.4), "HI": (20.8, -156.3), "ID": (44.4, -114.6), "IL": (40.0, -89.2), "IN": (39.9, -86.3),
    "IA": (42.1, -93.5), "KS": (38.5, -98.4), "KY": (37.5, -85.3), "LA": (31.1, -92.0), "ME": (45.4, -69.2),
    "MD": (39.0, -76.8), "MA": (42.3, -71.8), "MI": (44.3, -85.4), "MN": (46.3, -94.3), "MS": (32.7, -89.7),
    "MO": (38.4, -92.5), "MT": (47.0, -109.6), "NE": (41.5, -99.8), "NV": (39.3, -116.6), "NH": (43.7, -71.6),
    "NJ": (40.2, -74.7), "NM": (34.4, -106.1), "NY": (42.9, -75.5), "NC": (35.6, -79.4), "ND": (47.5, -100.5),
    "OH": (40.3, -82.8), "OK": (35.6, -97.5), "OR": (43.9, -120.6), "PA": (40.9, -77.8), "RI": (41.7, -71.5),
    "SC": (33.9, -80.9), "SD": (44.4, -100.2), "TN": (35.9, -86.4), "TX": (31.5, -99.3), "UT": (39.3, -111.7),
    "VT": (44.1, -72.7), "VA": (37.5, -78.9), "WA": (47.4, -120.5), "WV": (38.6, -80.6), "WI": (44.6, -89.9),
    "WY": (43.0, -107.6),
}
# Ground base price per zone 2..8 (US cents), and transit days.
_GROUND = {2: (520, 1), 3: (560, 2), 4: (610, 3), 5: (690, 3), 6: (760, 4), 7: (810, 5), 8: (845, 5)}


def _miles(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 3959 * 2 * math.asin(math.sqrt(h))


def zone_for_miles(miles: float) -> int:
    for limit, zone in ((150, 2), (300, 3), (600, 4), (1000, 5), (1400, 6), (1800, 7)):
        if miles < limit:
            return zone
    return 8


def seed_rates(session: Session, *, surcharge_3pl_minor: int = 60) -> int:
    """Plausible zone and rate tables for every location that has none (US states; elsewhere zone 9)."""
    made = 0
    for loc in session.scalars(select(Location)):
        if session.scalar(select(ShippingZone.zone).where(ShippingZone.location_id == loc.id).limit(1)) is not None:
            continue
        origin = STATE_CENTRES.get(loc.region.upper(), (39.8, -98.6))
        zones = [{"location_id": loc.id, "country": "US", "region": st, "zone": zone_for_miles(_miles(origin, c))}
                 for st, c in STATE_CENTRES.items()]
        zones.append({"location_id": loc.id, "country": "US", "region": "", "zone": 8})
        zones.append({"location_id": loc.id, "country": "CA", "region": "", "zone": 9})
        session.execute(insert(ShippingZone), zones)
        extra = surcharge_3pl_minor if loc.kind == "3pl" else 0
        rates = []
        for zone, (base, days) in _GROUND.items():
            rates.append({"location_id": loc.id, "service_level": "standard", "zone": zone, "base_minor": base + extra,
                          "per_kg_minor": 35 + 5 * zone, "transit_days": days})
            rates.append({"location_id": loc.id, "service_level": "expedited", "zone": zone, "base_minor": int(base * 2.1) + extra,
                          "per_kg_minor": 80 + 10 * zone, "transit_days": min(days, 2)})
            rates.append({"location_id": loc.id, "service_level": "overnight", "zone": zone, "base_minor": int(base * 3.8) + extra,
                          "per_kg_minor": 150 + 20 * zone, "transit_days": 1})
        rates.append({"location_id": loc.id, "service_level": "standard", "zone": 9, "base_minor": 2400 + extra,
                      "per_kg_minor": 600, "transit_days": 7})
        session.execute(insert(ShippingRate), rates)
        made += 1
    return made
