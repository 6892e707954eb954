"""A proposed rule set replayed over recent orders, without writing: what would change, and at what cost."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from oms.core.i18n import _, ngettext
from oms.orders.models import Allocation, OrderLine, SalesOrder
from oms.routing.planner import LineNeed, candidate_plans, first_match, matches
from oms.routing.rates import RateBook
from oms.routing.rules import Rule, load_rules
from oms.routing.service import _available, _facts, _locations


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
