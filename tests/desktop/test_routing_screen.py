"""Routing: editing, refusing, reordering and switching off rules, simulating, and re-routing orders by hand."""

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import func, select

from desktop.screens import orders_queue
from desktop.screens.routing import proposed_rules
from oms import desk, routing
from oms.core.errors import Conflict
from oms.orders.models import SalesOrder
from oms.routing.models import RoutingDecision
from tests.desktop.helpers import answer_dialog, open_window


def open_routing(qtbot, tasks, window_state):
    window = open_window(qtbot, tasks, window_state)
    window.show_screen("routing")
    screen = window.routing
    qtbot.waitUntil(lambda: screen.model.rowCount() > 0 and screen.form.rule is not None)
    return window, screen


def rules_in_db(db):
    with db.read() as s:
        return routing.load_rules(s)


def select_rule(qtbot, screen, name):
    row = next(i for i, r in enumerate(screen.model.rows) if r.rule.name == name)
    screen.table.setCurrentIndex(screen.model.index(row, 2))
    qtbot.waitUntil(lambda: screen.form.rule is not None and screen.form.rule.name == name)
    return row


def test_new_rule_written_in_the_form_is_saved_above_the_default(qtbot, tasks, window_state, demo_db):
    window, screen = open_routing(qtbot, tasks, window_state)
    form = screen.form
    before = len(rules_in_db(demo_db))
    qtbot.mouseClick(screen.new_button, Qt.MouseButton.LeftButton)
    assert form.rule is None and form.name.hasFocus()
    qtbot.keyClicks(form.name, "Wholesale west coast ships from Reno")
    qtbot.mouseClick(form.order_type.boxes["wholesale"], Qt.MouseButton.LeftButton)
    qtbot.keyClicks(form.region, "ca, or, wa")
    qtbot.keyClicks(form.order_tag, "Business")  # what Amazon says of a business buyer's order
    qtbot.keyClicks(form.weight_max, "30")
    qtbot.mouseClick(form.allowed.boxes["RNO"], Qt.MouseButton.LeftButton)
    form.split.setCurrentIndex(form.split.findData("ship_complete"))
    qtbot.waitUntil(lambda: screen.save_button.isEnabled())
    qtbot.mouseClick(screen.save_button, Qt.MouseButton.LeftButton)

    rules = rules_in_db(demo_db)
    assert len(rules) == before + 1
    new = rules[-2]  # just above the default rule
    assert new.name == "Wholesale west coast ships from Reno" and rules[-1].is_default
    assert new.conditions == {"order_type": ["wholesale"], "region": ["CA", "OR", "WA"], "order_tag": ["business"],
                              "weight_max_g": 30000}
    assert new.actions == {"allowed_locations": ["RNO"], "split": "ship_complete"}
    # The list shows it in plain words, and the form now edits the saved rule.
    qtbot.waitUntil(lambda: form.rule is not None and form.rule.id == new.id)
    row = screen.model.row_of(new.id)
    assert screen.model.index(row, 3).data() == ("when order type is wholesale and region is CA or OR or WA and order tag is "
                                                 "business and weight ≤ 30.0 kg")
    assert screen.model.index(row, 4).data() == "only from RNO; ship complete"
    assert not form.is_dirty() and not screen.save_button.isEnabled()

    # Change it: the same rule is updated, not a second one added.
    qtbot.keyClicks(form.hold_reason, "Call the buyer first")
    qtbot.waitUntil(lambda: screen.save_button.isEnabled())
    qtbot.keyClick(form.hold_reason, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: not form.is_dirty())
    rules = rules_in_db(demo_db)
    assert len(rules) == before + 1 and rules[-2].actions["hold_reason"] == "Call the buyer first"


def test_an_invalid_rule_cannot_be_saved_and_the_form_says_why(qtbot, tasks, window_state, demo_db):
    window, screen = open_routing(qtbot, tasks, window_state)
    form = screen.form
    select_rule(qtbot, screen, "Wholesale ships complete")
    stored = rules_in_db(demo_db)

    qtbot.keyClicks(form.weight_min, "5")
    qtbot.keyClicks(form.weight_max, "2")
    qtbot.waitUntil(lambda: not screen.verdict.ok)
    assert screen.verdict.field == "weight"
    assert form.errors["weight"].isVisible() and "minimum weight is above the maximum" in form.errors["weight"].text()
    assert form.error_banner.isVisible() and "cannot be saved" in form.error_banner.text()
    assert not screen.save_button.isEnabled()
    screen.save()  # Ctrl+S, or a click that slipped through: the domain refuses it too
    assert rules_in_db(demo_db) == stored

    # A number that is not a number is caught before it reaches the database, next to its field.
    form.weight_min.setText("heavy")
    qtbot.waitUntil(lambda: screen.verdict.field == "weight" and "kilograms" in screen.verdict.message)

    form.weight_min.clear()
    form.weight_max.clear()
    qtbot.waitUntil(lambda: screen.verdict.ok and not form.error_banner.isVisible())
    # A preferred location outside the allowed ones: the reason shows next to "Prefer".
    qtbot.mouseClick(form.allowed.boxes["RNO"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(form.preferred.boxes["EWR"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not screen.verdict.ok)
    assert screen.verdict.field == "locations" and form.errors["locations"].isVisible()
    assert "EWR" in form.errors["locations"].text() and not screen.save_button.isEnabled()
    qtbot.mouseClick(screen.revert_button, Qt.MouseButton.LeftButton)
    assert not form.is_dirty() and not form.error_banner.isVisible()
    assert rules_in_db(demo_db) == stored


def test_rules_reorder_by_drag_and_by_keyboard_and_the_default_stays_last(qtbot, tasks, window_state, demo_db):
    window, screen = open_routing(qtbot, tasks, window_state)
    model = screen.model
    names = [r.name for r in rules_in_db(demo_db)]
    assert [r.rule.name for r in model.rows] == names

    # A drag of the first rule dropped between the third and fourth: what the view hands the model on a drop.
    mime = model.mimeData([model.index(0, 2)])
    model.dropMimeData(mime, Qt.DropAction.MoveAction, 3, 0, model.index(-1, -1))
    expected = [names[1], names[2], names[0], names[3], names[4]]
    assert [r.rule.name for r in model.rows] == expected
    assert [r.name for r in rules_in_db(demo_db)] == expected

    # Dropped below the default rule: it lands just above it.
    model.dropMimeData(model.mimeData([model.index(0, 2)]), Qt.DropAction.MoveAction, len(model.rows), 0, model.index(-1, -1))
    expected = [names[2], names[0], names[3], names[1], names[4]]
    assert [r.name for r in rules_in_db(demo_db)] == expected
    # The default rule cannot be dragged at all.
    assert not model.flags(model.index(4, 2)) & Qt.ItemFlag.ItemIsDragEnabled

    # Keyboard: Ctrl+Up on the selected rule, and the Move down button.
    select_rule(qtbot, screen, names[3])
    screen.table.setFocus()
    qtbot.keyClick(screen.table, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    expected = [names[2], names[3], names[0], names[1], names[4]]
    assert [r.name for r in rules_in_db(demo_db)] == expected
    assert screen.selected_rule().name == names[3]  # the selection follows the rule
    qtbot.mouseClick(screen.down_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(screen.down_button, Qt.MouseButton.LeftButton)
    assert [r.name for r in rules_in_db(demo_db)] == [names[2], names[0], names[1], names[3], names[4]]
    assert not screen.down_button.isEnabled()  # the last movable place: the default rule is below

    select_rule(qtbot, screen, names[4])
    assert not screen.up_button.isEnabled() and not screen.toggle_button.isEnabled() and not screen.delete_button.isEnabled()


def test_switching_a_rule_off_and_on(qtbot, tasks, window_state, demo_db):
    window, screen = open_routing(qtbot, tasks, window_state)
    row = select_rule(qtbot, screen, "Marketplace: 3PL first")
    assert screen.toggle_button.text() == "Switch off"
    qtbot.mouseClick(screen.toggle_button, Qt.MouseButton.LeftButton)
    rule = next(r for r in rules_in_db(demo_db) if r.name == "Marketplace: 3PL first")
    assert not rule.enabled
    assert screen.model.index(row, 1).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    assert not screen.form.enabled.isChecked() and not screen.form.is_dirty()
    assert screen.toggle_button.text() == "Switch on"
    # The tick box in the list does the same.
    screen.model.setData(screen.model.index(row, 1), Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole)
    assert next(r for r in rules_in_db(demo_db) if r.name == "Marketplace: 3PL first").enabled


def test_simulate_shows_what_the_domain_computes_for_the_edited_rules(qtbot, tasks, window_state, demo_db):
    window, screen = open_routing(qtbot, tasks, window_state)
    form = screen.form
    qtbot.mouseClick(screen.new_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(form.name, "Everything from Reno")
    qtbot.mouseClick(form.allowed.boxes["RNO"], Qt.MouseButton.LeftButton)
    panel = screen.simulation
    assert panel.last.value() == 2000
    panel.last.setValue(100)
    with qtbot.waitSignal(screen.simulated):
        qtbot.mouseClick(panel.button, Qt.MouseButton.LeftButton)

    with demo_db.read() as s:
        current = routing.load_rules(s)
        edited = routing.Rule(None, "Everything from Reno", {}, {"allowed_locations": ["RNO"], "split": "allow"})
        expected = routing.simulate(s, proposed_rules(current, edited), last=100)
    report = panel.report
    assert report == expected and report.moved > 0
    assert panel.summary.text() == expected.summary()
    cells = {panel.table.item(r, 0).text(): [panel.table.item(r, c).text() for c in (1, 2, 3)] for r in range(panel.table.rowCount())}
    b, a = expected.before, expected.after
    assert cells["Orders that move"][2] == f"{expected.moved} of {b.orders}"
    assert cells["Shipments"] == [str(b.shipments), str(a.shipments), f"{a.shipments - b.shipments:+}"]
    assert cells["Held"][:2] == [str(b.held), str(a.held)]
    assert cells["On time"][:2] == [f"{100 * b.on_time / b.orders:.1f}%", f"{100 * a.on_time / a.orders:.1f}%"]
    assert cells["Estimated shipping cost"][0].startswith("$")
    assert expected.examples[0] in panel.examples.text()
    # Nothing was saved by simulating.
    assert "Everything from Reno" not in [r.name for r in rules_in_db(demo_db)]
    # Changing the form marks the result as out of date.
    qtbot.mouseClick(form.allowed.boxes["EWR"], Qt.MouseButton.LeftButton)
    assert "simulate again" in panel.stale.text()


def open_detail(qtbot, window, order_id):
    window.open_order(order_id)
    qtbot.waitUntil(lambda: window.detail.order is not None and window.detail.order.id == order_id)
    return window.detail


def decisions(db, oid):
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(RoutingDecision).where(RoutingDecision.order_id == oid))


def test_order_detail_shows_the_routing_explanation_and_plans(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    with demo_db.read() as s:
        oid = s.scalar(select(SalesOrder.id).where(SalesOrder.status == "allocated").order_by(SalesOrder.id).limit(1))
        expected = desk.latest_routing(s, oid)
    detail = open_detail(qtbot, window, oid)
    assert expected is not None and expected.explanation.startswith("Rule “")
    assert expected.explanation.replace("&", "&amp;") in detail.routing_text.text()
    assert detail.routing_plans.isVisibleTo(detail) and detail.routing_plans.rowCount() == len(expected.plans)
    assert detail.routing_plans.item(0, 0).text() == "Chosen"
    assert detail.routing_plans.item(0, 1).text() == " + ".join(expected.plans[0].locations)
    assert detail.routing_plans.item(0, 2).text() == expected.plans[0].cost
    assert detail.reroute_button.isEnabled()


def test_reroute_from_order_detail_asks_why_and_refuses_once_picking_started(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    with demo_db.read() as s:
        oid = s.scalar(select(SalesOrder.id).where(SalesOrder.status == "allocated").order_by(SalesOrder.id).limit(1))
        packed = s.scalar(select(SalesOrder.id).where(SalesOrder.status == "packed").order_by(SalesOrder.id).limit(1))
    detail = open_detail(qtbot, window, oid)
    count = decisions(demo_db, oid)

    def reroute(dialog):
        assert not dialog.ok_button.isEnabled()  # no reason, no re-route
        qtbot.keyClicks(dialog.reason_edit, "Reno dock closed")
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    answer_dialog(qtbot, reroute)
    qtbot.mouseClick(detail.reroute_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: decisions(demo_db, oid) == count + 1)
    qtbot.waitUntil(lambda: detail.order.routing is not None and detail.order.routing.decisions == count + 1)
    assert "Re-routed: Reno dock closed" in detail.routing_text.text()
    assert any("Reno dock closed" in e.text for e in detail.timeline.entries)

    detail = open_detail(qtbot, window, packed)
    assert not detail.reroute_button.isEnabled()
    assert "Picking or packing has started" in detail.reroute_button.toolTip()
    with pytest.raises(Conflict, match="Picking or packing has started"):  # and the same check guards the write
        with demo_db.write() as s:
            routing.reroute(s, window.actor, packed, reason="anyway")


def test_bulk_reroute_from_the_backordered_bucket(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    queue = window.queue
    queue.buckets.select("backordered")
    model = queue.model
    qtbot.waitUntil(lambda: model.query_filter.bucket == "backordered" and not model.is_loading and model.rowCount() >= 2)
    age_col = [k for k, _t in orders_queue.COLUMNS].index("backorder_age")
    assert not queue.table.isColumnHidden(age_col) and not queue.table.isColumnHidden(age_col + 1)
    first = model.row_at(0)
    assert first.backordered_since is not None and first.promise_missed_at is not None
    assert model.index(0, age_col).data() not in ("", "—")
    assert model.index(0, age_col + 1).data().startswith("missed")  # the demo's promises are in the past

    ids = [model.order_id(0), model.order_id(1)]
    counts = {oid: decisions(demo_db, oid) for oid in ids}
    sel = queue.table.selectionModel()
    sel.select(model.index(0, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
    sel.select(model.index(1, 0), QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    assert queue.reroute_button.isEnabled()
    asked = []

    def reroute(dialog):
        asked.append(dialog.windowTitle())
        qtbot.keyClicks(dialog.reason_edit, "Stock count at Newark is wrong")
        qtbot.keyClick(dialog.reason_edit, Qt.Key.Key_Return)

    answer_dialog(qtbot, reroute)
    qtbot.mouseClick(queue.reroute_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: all(decisions(demo_db, oid) == counts[oid] + 1 for oid in ids))
    assert asked == ["Re-route 2 orders"]  # the reason is asked once
    with demo_db.read() as s:
        texts = s.scalars(select(RoutingDecision.explanation).where(RoutingDecision.order_id.in_(ids))
                          .order_by(RoutingDecision.id.desc()).limit(2)).all()
    assert all("Stock count at Newark is wrong" in t for t in texts)

    # Outside the Backordered bucket the backorder columns are out of the way.
    queue.buckets.select("all")
    qtbot.waitUntil(lambda: model.query_filter.bucket == "all" and not model.is_loading)
    assert queue.table.isColumnHidden(age_col)
    assert QApplication.activeModalWidget() is None
