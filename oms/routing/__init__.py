"""Routing: which location ships which order lines, by ordered rules and scored plans, with explanations.

A rule set is evaluated top to bottom; the first enabled rule whose conditions match
decides the allowed and preferred locations, whether the order may split, the service
level, or a hold. Candidate plans are then ranked: complete plans first, fewest shipments,
preferred locations, lower estimated shipping cost, on time against the promise, earlier
delivery, location priority. Every decision is stored with a sentence a person can read.

`rules` is the rule set, `planner` the pure ranking, `rates` the shipping zones and rates,
`service` routing orders in the database, `simulation` a proposed rule set replayed over
recent orders, and `restock` the use case that releases backorders when stock rises."""

from .planner import (
    CUTOFF_HOUR_UTC,
    LineNeed,
    LocationInfo,
    OrderFacts,
    Plan,
    add_business_days,
    allowed_locations,
    candidate_plans,
    explain,
    first_match,
    matches,
    ship_date,
)
from .rates import (
    STATE_CENTRES,
    RateBook,
    seed_rates,
    zone_for_miles,
)
from .rules import (
    ACTIONS,
    LIST_CONDITIONS,
    RANGE_CONDITIONS,
    RULE_CURRENCY,
    SERVICE_LEVELS,
    Rule,
    check_rule,
    delete_rule,
    ensure_default_rule,
    load_rules,
    reorder,
    save_rule,
    set_enabled,
)
from .service import (
    RouteResult,
    release_backorders,
    reroute,
    reroute_refusal,
    route_order,
    route_orders,
)
from .simulation import (
    SimulationReport,
    SimulationSide,
    simulate,
)

__all__ = [
    "RULE_CURRENCY",
    "LIST_CONDITIONS",
    "RANGE_CONDITIONS",
    "ACTIONS",
    "SERVICE_LEVELS",
    "Rule",
    "check_rule",
    "ensure_default_rule",
    "load_rules",
    "save_rule",
    "set_enabled",
    "reorder",
    "delete_rule",
    "CUTOFF_HOUR_UTC",
    "LineNeed",
    "OrderFacts",
    "matches",
    "first_match",
    "LocationInfo",
    "ship_date",
    "add_business_days",
    "Plan",
    "allowed_locations",
    "candidate_plans",
    "explain",
    "RateBook",
    "STATE_CENTRES",
    "zone_for_miles",
    "seed_rates",
    "RouteResult",
    "route_orders",
    "route_order",
    "reroute_refusal",
    "reroute",
    "release_backorders",
    "SimulationSide",
    "SimulationReport",
    "simulate",
]
