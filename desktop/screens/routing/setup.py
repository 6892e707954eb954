"""The routing screen's data: rules as rows, the places to choose from, a rule's check and the rule set as edited.

All of it runs on the database worker; the widgets get plain values."""

from __future__ import annotations

from dataclasses import dataclass, replace

from oms import desk, routing
from oms.core.errors import InvalidInput
from oms.routing.rules import Rule

# Form fields, each named after the condition or action key it edits ("weight" and "value" cover a min/max pair).
CONDITION_GROUPS: dict[str, tuple[str, ...]] = {
    "channel": ("channel",), "order_type": ("order_type",), "country": ("country",), "region": ("region",),
    "postal_prefix": ("postal_prefix",), "sku": ("sku",), "sku_tag": ("sku_tag",), "order_tag": ("order_tag",),
    "weight": ("weight_min_g", "weight_max_g"), "value": ("value_min_minor", "value_max_minor"),
    "service_level": ("service_level",),
}
ACTION_GROUPS: dict[str, tuple[str, ...]] = {
    "locations": ("allowed_locations", "preferred_locations"), "split": ("split",),
    "forced_service": ("service_level",), "hold_reason": ("hold_reason",),
}


@dataclass(frozen=True)
class RuleRow:
    """A rule with its plain-words halves, ready for the list."""

    rule: Rule
    matches: str
    does: str


@dataclass(frozen=True)
class RoutingSetup:
    rows: tuple[RuleRow, ...]
    channels: tuple[tuple[str, str], ...]  # code, name
    locations: tuple[tuple[str, str], ...]


def rule_row(rule: Rule) -> RuleRow:
    """Split Rule.describe() into what the rule matches and what it does."""
    full = rule.describe()
    does = replace(rule, conditions={}).describe()
    does = does.split(": ", 1)[1] if ": " in does else does
    matches = full[: len(full) - len(does)].rstrip().removesuffix(":") if full.endswith(does) else full
    return RuleRow(rule, matches, does)


def load_setup(session) -> RoutingSetup:
    rules = routing.load_rules(session)  # may add the default rule: run in a write session
    opts = desk.filter_options(session)
    return RoutingSetup(tuple(rule_row(r) for r in rules), tuple((c.code, c.name) for c in opts.channels),
                        tuple((c.code, c.name) for c in opts.locations))


def find_fault(session, name: str, conditions: dict, actions: dict) -> str | None:
    """Which form field a refused rule is wrong in: check each field on its own."""
    try:
        routing.check_rule(session, name, {}, {})
    except InvalidInput:
        return "name"
    for field, keys in CONDITION_GROUPS.items():
        part = {k: conditions[k] for k in keys if k in conditions}
        if part:
            try:
                routing.check_rule(session, "x", part, {})
            except InvalidInput:
                return field
    for field, keys in ACTION_GROUPS.items():
        part = {k: actions[k] for k in keys if k in actions}
        if part:
            try:
                routing.check_rule(session, "x", {}, part)
            except InvalidInput:
                return field
    return None


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str = ""
    field: str | None = None


def check(session, name: str, conditions: dict, actions: dict) -> Verdict:
    try:
        routing.check_rule(session, name, conditions, actions)
    except InvalidInput as exc:
        return Verdict(False, str(exc), find_fault(session, name, conditions, actions))
    return Verdict(True)


def proposed_rules(current: list[Rule], edited: Rule) -> list[Rule]:
    """The rule set with the edited rule in place (a new rule goes just above the default, as saving puts it)."""
    rules = list(current)
    for i, r in enumerate(rules):
        if edited.id is not None and r.id == edited.id:
            rules[i] = edited
            return rules
    at = next((i for i, r in enumerate(rules) if r.is_default), len(rules))
    rules.insert(at, edited)
    return rules
