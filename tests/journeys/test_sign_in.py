"""06:55 — Maria signs in at the packing bench with her badge and PIN; later the station locks while she is away.

The warehouse has people of its own now (not the demo's): Quayside asks who is at the station before anything
else. Maria scans her badge, types her PIN, and works as herself: the status bar names her, the audit trail too.
She opens an order a customer wants cancelled: a packer may not, and the screen says who may. At the packing bench
she scans a tote and one item, and is called away; the idle station locks. Back, she scans her badge and PIN and
the half-packed order is there as she left it.
"""

from __future__ import annotations

import json
import shutil

from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from oms import desk, users
from oms.core.audit import Actor
from oms.core.db import Database
from oms.core.models import AuditEvent
from oms.inventory.models import Location
from oms.orders.models import SalesOrder
from tests.journeys.conftest import START_TIMEOUT_S, Machine, Station, _process_until, _stop_app
from tests.journeys.packing_steps import picked_orders_at_the_bench

IDLE_S = 20  # long enough for a loaded machine to find and open an order between two keys


def _people(machine: Machine) -> dict:
    """The admin set the station's people up: Maria the packer with a badge and a PIN."""
    db = Database(f"sqlite:///{machine.database_path}")
    with db.write() as s:
        setup = Actor("setup", "office")
        users.add_user(s, setup, "ada", "Ada", "admin", password="admin password")
        users.add_user(s, setup, "maria.l", "Maria", "packer", pin="4321")
        badge = {u.username: u.badge_code for u in users.list_users(s)}["maria.l"]
    # The morning's picks, done before she comes in; and an order a customer will want cancelled.
    (order,) = picked_orders_at_the_bench(db)
    with db.read() as s:
        # One customer service could cancel: in our own warehouse (a 3PL's orders go out to it), nothing picked.
        candidates = s.scalars(select(SalesOrder.id).join(Location, Location.id == SalesOrder.location_id)
                               .where(SalesOrder.status == "allocated", SalesOrder.id != order["id"],
                                      Location.kind == "warehouse").order_by(SalesOrder.id)).all()
        other = next(d.number for d in (desk.order_detail(s, oid) for oid in candidates) if d.can_cancel)
    db.dispose()
    settings_path = machine.config_dir / "settings.json"
    settings = json.loads(settings_path.read_text())
    settings["idle_lock_seconds"] = IDLE_S
    settings_path.write_text(json.dumps(settings))
    return {"badge": badge, "order": order, "other": other}


def _sign_in_dialog():
    w = QApplication.activeWindow()
    return w if w is not None and w.objectName() == "signInDialog" and w.isVisible() else None


def test_maria_signs_in_with_her_badge_is_refused_a_cancel_and_finds_her_order_after_the_lock(qtbot, _homes):
    from desktop import app as desktop_app
    from main import build_parser

    home, template = _homes
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(template, home, symlinks=True)
    with Machine(home) as machine:
        maria = _people(machine)
        running = desktop_app.start(build_parser().parse_args([]))
        s = Station(running, machine, qtbot)
        try:
            assert _process_until(_sign_in_dialog, START_TIMEOUT_S), "Quayside did not ask who is at the station"
            assert s.focused().objectName() == "signInWho", "the scanner's badge goes to the sign-in at once"
            assert "Scan your badge, then type your PIN. Or type your user name and password." in s.texts()

            # A wrong PIN first: refused in words, and she tries again.
            s.scan(maria["badge"])
            s.wait_text("Hello Maria: type your PIN.")
            s.type("1111")
            s.key("Return")
            s.wait_text("The badge or PIN is not right.")
            s.type("4321")
            s.key("Return")
            assert _process_until(lambda: s.window is not None and s.window.isVisible()
                                  and s.window.queue.model.rowCount() > 0, START_TIMEOUT_S), "the window did not open"
            s._settle()
            s.wait_for(lambda: "Signed in: Maria (packer)" in s.status(), "her name in the status bar")

            # An order a customer wants cancelled: a packer may not, and the screen says who may.
            order, other = maria["order"], maria["other"]
            s.key("Ctrl+1")
            s.key("Ctrl+F")
            s.type(other)
            queue = s.window.queue
            s.wait_for(lambda: queue.model.query_filter.search == other and not queue.model.is_loading
                       and queue.model.rowCount() >= 1, f"order {other} found")
            s.key("Down")
            s.key("Return")
            s.wait_for(lambda: s.window.detail.order is not None and s.window.detail.order.number == other, "the order")
            s.click(s.window.detail.cancel_button)
            s.wait_for(lambda: "Maria (packer) may not cancel orders; customer service can" in s.status(),
                       "the refusal, in words")
            with s.db.read() as session:
                status = session.scalar(select(SalesOrder.status).where(SalesOrder.number == other))
            assert status != "cancelled"

            # At the bench: the tote, one item of several; then she is called away.
            s.key("Ctrl+6")
            s.wait_text("Scan a tote or an order number")
            k = s.window.packing
            s.scan(order["tote"])
            s.wait_text(f"Order {order['number']}")
            units = len(order["items"])
            sku, code = order["items"][0]
            s.scan(code)
            s.wait_for(lambda: k.status.state == "ok", f"{sku} accepted")
            s.wait_text(f"{units - 1} item{'s' if units - 1 != 1 else ''} left to scan")

            assert _process_until(_sign_in_dialog, IDLE_S + 10), "the idle station did not lock"
            assert "This station is locked" in s.texts()
            # The lock is the only way in: Escape does not open it.
            s.key("Escape")
            assert _sign_in_dialog() is not None
            s.scan(maria["badge"])
            s.wait_text("Hello Maria: type your PIN.")
            s.type("4321")
            s.key("Return")
            s.wait_for(lambda: _sign_in_dialog() is None and QApplication.activeWindow() is s.window, "the lock gone")
            # Where she left it: the same order, one item in the box, the rest still to scan.
            assert s.window.current_screen() is k
            s.wait_text(f"Order {order['number']}")
            s.wait_text(f"{units - 1} item{'s' if units - 1 != 1 else ''} left to scan")
            for sku, code in order["items"][1:]:
                s.scan(code)
                s.wait_for(lambda: k.status.state == "ok", f"{sku} accepted")
            s.wait_text(f"All {units} items scanned" if units > 1 else "1 item scanned")

            with s.db.read() as session:
                who = session.execute(select(AuditEvent.user, AuditEvent.action)
                                      .where(AuditEvent.action.in_(("user.signed_in", "user.sign_in_failed")))
                                      .order_by(AuditEvent.id)).all()
            assert who == [("maria.l", "user.sign_in_failed"), ("maria.l", "user.signed_in"),
                           ("maria.l", "user.signed_in")]
        finally:
            _stop_app(s.running)


def test_the_demo_signs_in_as_its_supervisor_and_says_so(station):
    s = station
    assert s.window.isVisible(), "the demo asks no one to sign in"
    s.wait_for(lambda: "Demo: signed in as Sam (supervisor)" in s.status(), "who the demo works as")
    assert s.window.actor.user == "sam" and s.window.actor.role == "supervisor"


def test_the_admin_adds_a_picker_who_takes_over_the_station_by_badge(qtbot, _homes):
    """Ada, the admin, signs in with her user name and password, adds Joe the picker with a PIN on Settings →
    People, locks and unlocks Maria; Joe comes to the station, Ctrl+Shift+U, badge and PIN: he works as himself,
    and People is not his to see."""
    from desktop import app as desktop_app
    from main import build_parser

    home, template = _homes
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(template, home, symlinks=True)
    with Machine(home) as machine:
        _people(machine)
        running = desktop_app.start(build_parser().parse_args([]))
        s = Station(running, machine, qtbot)
        try:
            assert _process_until(_sign_in_dialog, START_TIMEOUT_S), "Quayside did not ask who is at the station"
            s.type("ada")
            s.key("Return")
            s.type("admin password")
            s.key("Return")
            assert _process_until(lambda: s.window is not None and s.window.isVisible(), START_TIMEOUT_S)
            s._settle()
            s.wait_for(lambda: "Signed in: Ada (admin)" in s.status(), "Ada signed in")

            s.click(s.window.nav_buttons["settings"])
            settings = s.window.settings_screen
            tabs = settings.tabs
            people = next(i for i in range(tabs.count()) if tabs.tabText(i) == "People")
            s.click(tabs.tabBar(), tabs.tabBar().tabRect(people).center())
            panel = settings.people
            s.wait_for(lambda: "maria.l" in [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())],
                       "the people listed")
            s.click(panel.username)
            s.type("joe")
            s.key("Tab")
            s.type("Joe")
            s.key("Tab")
            s.type("Picker")  # the role list: typing picks the role whose name starts so
            s.key("Tab")
            s.type("12")  # too short a PIN: refused in words, nobody added
            s.key("Return")
            s.wait_for(lambda: "A PIN is 4 to 6 digits." in s.status(), "the refusal")
            assert "joe" not in [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())]
            s.click(panel.username)
            s.type("joe")
            s.key("Tab")
            s.type("Joe")
            s.key("Tab")
            s.type("Picker")
            s.key("Tab")
            s.type("97531")
            s.key("Return")
            s.wait_for(lambda: "Joe can sign in with the badge and PIN." in s.status(), "Joe added")
            s.wait_for(lambda: "joe" in [panel.table.item(r, 0).text() for r in range(panel.table.rowCount())],
                       "Joe listed")
            row = next(r for r in range(panel.table.rowCount()) if panel.table.item(r, 0).text() == "joe")
            assert panel.table.item(row, 2).text() == "picker"
            badge = panel.table.item(row, 4).text()

            maria = next(r for r in range(panel.table.rowCount()) if panel.table.item(r, 0).text() == "maria.l")
            s.click(panel.table.viewport(), panel.table.visualItemRect(panel.table.item(maria, 1)).center())
            s.click(panel.lock_button)
            s.wait_for(lambda: "Maria is locked." in s.status(), "Maria locked")
            s.wait_for(lambda: panel.lock_button.text() == "Unlock", "the button offers the unlock")
            s.click(panel.lock_button)
            s.wait_for(lambda: "Maria is unlocked." in s.status(), "Maria unlocked")

            # This station locks after two idle minutes from now on.
            s.click(tabs.tabBar(), tabs.tabBar().tabRect(0).center())
            s.click(settings.idle_lock)
            s.key("Ctrl+A")
            s.type("2")
            s.click(settings.save_station_button)
            s.wait_for(lambda: "Station settings saved" in s.status(), "the station settings saved")
            assert json.loads((machine.config_dir / "settings.json").read_text())["idle_lock_seconds"] == 120

            # Joe takes over the station.
            s.key("Ctrl+Shift+U")
            assert _process_until(_sign_in_dialog, 10), "the switch did not ask who comes"
            assert "Switch user" in s.texts()
            s.scan(badge)
            s.wait_text("Hello Joe: type your PIN.")
            s.type("97531")
            s.key("Return")
            s.wait_for(lambda: _sign_in_dialog() is None and "Signed in: Joe (picker)" in s.status(), "Joe signed in")
            assert s.window.actor.user == "joe" and settings.actor.user == "joe"
            s.click(s.window.nav_buttons["orders"])
            s.click(s.window.nav_buttons["settings"])
            assert "People" not in [tabs.tabText(i) for i in range(tabs.count())], "People is only for admins"
            with s.db.read() as session:
                added_by = session.scalar(select(AuditEvent.user).where(AuditEvent.action == "user.added",
                                                                         AuditEvent.summary.like("joe %")))
            assert added_by == "ada"
        finally:
            _stop_app(s.running)
