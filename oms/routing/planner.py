"""The pure planner: an order's facts, the rule that matches them, candidate plans ranked, and the
sentence that explains the choice. No database here, so it can be tested and simulated in memory."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import combinations
from typing import Sequence

from oms.core.i18n import _
from oms.core.money import format_money
from oms.routing.rates import RateBook
from oms.routing.rules import Rule

# Orders placed after this hour (UTC) leave the building the next working day.
CUTOFF_HOUR_UTC = 21


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
    tags: frozenset[str] = frozenset()  # the channel's words about the order: prime, business, a shop's tags

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
    if c.get("order_tag") and not f.tags & set(c["order_tag"]):
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


@dataclass(frozen=True)
class LocationInfo:
    id: int
    code: str
    name: str
    priority: int


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
