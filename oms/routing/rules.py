"""The rule set: checking, saving, enabling, reordering and deleting rules, in the rule currency."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oms.core import audit, validate, wording
from oms.core.audit import Actor
from oms.core.errors import InvalidInput, NotFound
from oms.core.i18n import _
from oms.core.money import format_money
from oms.core.types import NAME, utcnow
from oms.inventory.models import Location
from oms.orders.models import Channel, OrderType
from oms.routing.models import RoutingRule
from oms.users import require

# Order values in rules (value_min_minor, value_max_minor) are minor units of the business's own currency.
RULE_CURRENCY = "USD"

LIST_CONDITIONS = ("channel", "order_type", "country", "region", "postal_prefix", "sku", "sku_tag", "service_level",
                   "order_tag")

RANGE_CONDITIONS = ("weight_min_g", "weight_max_g", "value_min_minor", "value_max_minor")

ACTIONS = ("allowed_locations", "preferred_locations", "split", "service_level", "hold_reason")

SERVICE_LEVELS = ("standard", "ground", "expedited", "overnight")


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
    for key in ("sku_tag", "order_tag"):  # tags are kept in lower case
        if key in clean_c:
            clean_c[key] = [t.lower() for t in clean_c[key]]
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
    require(actor, "routing.edit")
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
    require(actor, "routing.edit")
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound(_("There is no routing rule {id}.").format(id=rule_id))
    if rule.is_default and not enabled:
        raise InvalidInput(_("The default rule cannot be switched off."))
    rule.enabled = enabled
    audit.record(session, actor, "routing.rule_enabled" if enabled else "routing.rule_disabled", "routing_rule", rule_id, summary=rule.name)


def reorder(session: Session, actor: Actor, rule_ids: Sequence[int]) -> None:
    """Put the non-default rules in this order (the default stays last)."""
    require(actor, "routing.edit")
    rules = {r.id: r for r in session.scalars(select(RoutingRule).where(RoutingRule.is_default.is_(False)))}
    if set(rule_ids) != set(rules) or len(rule_ids) != len(rules):
        raise InvalidInput(_("The new order must list every rule once (the default rule excluded)."))
    for pos, rid in enumerate(rule_ids, 1):
        rules[rid].position = pos * 10
    audit.record(session, actor, "routing.rules_reordered", "routing_rule", "*", summary=", ".join(rules[r].name for r in rule_ids)[:300])


def delete_rule(session: Session, actor: Actor, rule_id: int) -> None:
    require(actor, "routing.edit")
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound(_("There is no routing rule {id}.").format(id=rule_id))
    if rule.is_default:
        raise InvalidInput(_("The default rule cannot be deleted."))
    session.delete(rule)
    audit.record(session, actor, "routing.rule_deleted", "routing_rule", rule_id, summary=rule.name)
