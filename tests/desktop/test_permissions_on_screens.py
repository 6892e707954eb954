"""Screens offer only what the signed-in person may do, and say why; the services refuse anyway."""

from oms.core.audit import Actor
from tests.desktop.helpers import open_window

PACKER = Actor("maria", "test-station", "packer", "Maria")
SUPERVISOR = Actor("tom", "test-station", "supervisor", "Tom")


def test_routing_rules_are_read_only_for_a_packer_and_editable_for_a_supervisor(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state, actor=PACKER)
    window.show_screen("routing")
    screen = window.routing
    qtbot.waitUntil(lambda: screen.model.rowCount() > 0 and screen.form.rule is not None)
    assert window.user_label.text() == "Signed in: Maria (packer)"
    for b in (screen.new_button, screen.save_button, screen.delete_button, screen.toggle_button):
        assert not b.isEnabled()
        assert b.toolTip() == "Maria (packer) may not change routing rules; a supervisor can (routing.edit)."
    assert screen.simulation.button.isEnabled(), "reading and simulating stay open to everyone"
    window.set_actor(SUPERVISOR)
    screen._update_actions()
    assert screen.new_button.isEnabled() and window.user_label.text() == "Signed in: Tom (supervisor)"
    assert window.settings_screen.actor is SUPERVISOR and screen.actor is SUPERVISOR


def test_people_settings_only_for_an_admin(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state, actor=SUPERVISOR)
    window.show_screen("settings")
    tabs = window.settings_screen.tabs
    assert "People" not in [tabs.tabText(i) for i in range(tabs.count())]
    window.set_actor(Actor("ada", "test-station", "admin", "Ada"))
    window.show_screen("orders")
    window.show_screen("settings")
    qtbot.waitUntil(lambda: "People" in [tabs.tabText(i) for i in range(tabs.count())])
    panel = window.settings_screen.people
    qtbot.waitUntil(lambda: panel.table.rowCount() >= 5)  # the demo's people
    assert panel.table.item(0, 0).text() == "deshawn"
