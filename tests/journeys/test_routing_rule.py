"""14:00 — Tom, the supervisor, writes a rule, simulates it and saves it (JOURNEYS.md).

Wholesale orders to the west coast should ship from Reno only: he writes the rule with the keyboard,
simulates it over recent orders, reads what would move, and saves it.
"""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QLineEdit

from oms import routing


def test_tom_writes_a_rule_simulates_and_saves_it(station):
    s = station
    s.key("Ctrl+3")
    s.wait_text("Routing rules")

    s.key("Ctrl+N")  # at once, as a person does: the list may still be loading
    s.wait_text("New rule (not saved yet)")
    assert isinstance(s.focused(), QLineEdit), "Ctrl+N puts the cursor in the new rule's name"
    s.type("Wholesale west coast ships from Reno")

    s.tab_to(lambda w: isinstance(w, QCheckBox) and w.text() == "Wholesale", "the Wholesale order type")
    s.key("Space")
    s.tab_to(lambda w: isinstance(w, QLineEdit) and "state or region" in w.placeholderText(), "State / region")
    s.type("CA, OR, WA")
    reno = s.tab_to(lambda w: isinstance(w, QCheckBox) and "(RNO)" in w.text(), "Ship only from Reno")
    s.key("Space")
    assert reno.isChecked()
    # The form still holds what he wrote: nothing reloaded it under his hands.
    s.wait_text("New rule (not saved yet)")
    assert s.sees("Wholesale west coast ships from Reno")

    s.key("Ctrl+R")
    s.wait_text("Orders that move", timeout=60)
    s.wait_text("Simulated at")
    assert s.sees("Estimated shipping cost")
    # A new rule goes below the rules already there; the demo's "Wholesale ships complete" takes wholesale
    # orders first, and the simulation says so instead of a bare "0 would move".
    s.wait_text("but “Wholesale ships complete” above it decides")
    assert s.sees("move the rule up for it to count")

    s.key("Ctrl+S")
    s.wait_for(lambda: s.sees("Wholesale west coast ships from Reno") and not s.sees("New rule (not saved yet)"),
               "the rule saved and shown in the list")
    with s.db.read() as session:
        rules = {r.name: r for r in routing.load_rules(session)}
    rule = rules["Wholesale west coast ships from Reno"]
    assert rule.conditions.get("order_type") == ["wholesale"]
    assert rule.conditions.get("region") == ["CA", "OR", "WA"]
    assert rule.actions.get("allowed_locations") == ["RNO"]

    # He moves it above the rule that shadowed it: back to the list (Ctrl+F), then Ctrl+Up.
    s.key("Ctrl+F")
    table = s.focused()
    assert table.objectName() == "ruleTable"

    def order() -> list[str]:
        with s.db.read() as session:
            return [r.name for r in routing.load_rules(session)]

    while order().index("Wholesale west coast ships from Reno") > order().index("Wholesale ships complete"):
        before = order()
        s.key("Ctrl+Up")
        s.wait_for(lambda: order() != before, "the rule to move up")
    assert s.focused() is table, "the list keeps the keyboard while rules move"
    s.shot("routing-rule-saved")
