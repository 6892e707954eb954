"""Order detail: what it shows, and hold, release, cancel and notes through the real dialogs."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import select

from oms import desk, intake
from oms.core.models import AuditEvent
from oms.orders.models import OrderLine, OrderNote, SalesOrder
from tests.desktop.helpers import answer_dialog, open_window


def order_with(db, status):
    with db.read() as s:
        return s.scalar(select(SalesOrder.id).where(SalesOrder.status == status).order_by(SalesOrder.id).limit(1))


def open_detail(qtbot, window, order_id):
    window.open_order(order_id)
    qtbot.waitUntil(lambda: window.detail.order is not None and window.detail.order.id == order_id)
    return window.detail


def test_detail_shows_lines_shipments_and_timeline(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    oid = order_with(demo_db, "delivered")
    detail = open_detail(qtbot, window, oid)
    with demo_db.read() as s:
        expected = desk.order_detail(s, oid)
    assert detail.title.text() == expected.number
    assert detail.status_badge.text() == "Delivered"
    assert detail.lines.rowCount() == len(expected.lines)
    assert detail.lines.item(0, 0).text() == expected.lines[0].sku
    assert detail.shipments.isVisibleTo(detail) and detail.shipments.rowCount() == len(expected.shipments)
    assert detail.shipments.item(0, 4).text() == expected.shipments[0].tracking_number
    assert len(detail.timeline.entries) == len(expected.timeline)
    assert any(e.kind == "tracking" for e in detail.timeline.entries)
    assert expected.ship_to[0] in detail.ship_to_card.body.text()
    # A delivered order cannot be held or cancelled: the buttons say so by being disabled.
    assert not detail.hold_button.isEnabled() and not detail.cancel_button.isEnabled()
    assert detail.note_button.isEnabled()


def test_hold_with_reason_then_release(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    oid = order_with(demo_db, "allocated")
    buckets = window.queue.buckets
    qtbot.waitUntil(lambda: buckets.count_text("on_hold") != "")
    on_hold_before = int(buckets.count_text("on_hold").replace(",", ""))
    detail = open_detail(qtbot, window, oid)
    assert detail.hold_button.isVisible() and not detail.release_button.isVisible()

    def hold(dialog):
        qtbot.keyClicks(dialog.reason_edit, "Address check")
        qtbot.keyClick(dialog.reason_edit, Qt.Key.Key_Return)

    answer_dialog(qtbot, hold)
    qtbot.mouseClick(detail.hold_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: detail.order.on_hold)
    assert detail.hold_banner.isVisible() and "Address check" in detail.hold_banner.text()
    assert detail.release_button.isVisible() and not detail.hold_button.isVisible()
    assert detail.timeline.entries[0].text == "Put on hold: Address check"
    assert detail.timeline.entries[0].who == "maria @ test-station"
    # The queue behind it read what the hold changed, with no signal between the two screens (MainWindow.apply_changes).
    qtbot.waitUntil(lambda: buckets.count_text("on_hold") == f"{on_hold_before + 1:,}")

    def release(dialog):
        qtbot.keyClicks(dialog.reason_edit, "Customer confirmed")
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    answer_dialog(qtbot, release)
    qtbot.mouseClick(detail.release_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not detail.order.on_hold)
    assert detail.order.status == "allocated" and detail.hold_banner.isHidden()


def test_cancel_order_asks_first_and_going_back_changes_nothing(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    oid = order_with(demo_db, "allocated")
    detail = open_detail(qtbot, window, oid)

    def go_back(dialog):
        qtbot.keyClicks(dialog.reason_edit, "Customer asked to cancel")
        qtbot.keyClick(dialog.reason_edit, Qt.Key.Key_Return)  # Enter must not cancel an order
        if dialog.isVisible():
            dialog.reject()

    answer_dialog(qtbot, go_back)
    qtbot.mouseClick(detail.cancel_button, Qt.MouseButton.LeftButton)
    with demo_db.read() as s:
        assert s.scalar(select(SalesOrder.status).where(SalesOrder.id == oid)) == "allocated"

    def confirm(dialog):
        dialog.suggestions = None
        qtbot.keyClicks(dialog.reason_edit, "Customer asked to cancel")
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    answer_dialog(qtbot, confirm)
    qtbot.mouseClick(detail.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: detail.order.status == "cancelled")
    assert detail.status_badge.text() == "Cancelled"
    assert not detail.cancel_button.isEnabled()


def test_cancel_part_of_a_line(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    with demo_db.read() as s:
        line_id, oid = s.execute(select(OrderLine.id, OrderLine.order_id).join(SalesOrder)
                                 .where(SalesOrder.status == "allocated", OrderLine.quantity >= 2).limit(1)).one()
    detail = open_detail(qtbot, window, oid)
    row = [l.id for l in detail.order.lines].index(line_id)
    assert not detail.cancel_line_button.isEnabled()
    detail.lines.selectRow(row)
    assert detail.cancel_line_button.isEnabled()

    def cancel_one(dialog):
        dialog.quantity.setValue(1)
        qtbot.keyClicks(dialog.reason_edit, "Customer wants one fewer")
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    answer_dialog(qtbot, cancel_one)
    qtbot.mouseClick(detail.cancel_line_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: detail.order.lines[row].cancelled == 1)
    with demo_db.read() as s:
        assert s.scalar(select(OrderLine.cancelled).where(OrderLine.id == line_id)) == 1


def test_add_note_appears_in_the_timeline(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    oid = order_with(demo_db, "delivered")
    detail = open_detail(qtbot, window, oid)

    def note(dialog):
        assert not dialog.ok_button.isEnabled()
        qtbot.keyClicks(dialog.text_edit, "Customer says the box arrived damaged")
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

    answer_dialog(qtbot, note)
    qtbot.mouseClick(detail.note_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(e.kind == "note" for e in detail.timeline.entries))
    assert detail.timeline.entries[0].text == "Customer says the box arrived damaged"
    with demo_db.read() as s:
        assert s.scalar(select(OrderNote.user).where(OrderNote.order_id == oid)) == "maria"


def test_a_refused_action_is_explained(qtbot, tasks, window_state, demo_db):
    window = open_window(qtbot, tasks, window_state)
    oid = order_with(demo_db, "allocated")
    detail = open_detail(qtbot, window, oid)
    # Another station ships it meanwhile... simplest stand-in: it is cancelled behind our back.
    from oms import orders
    from oms.core.audit import Actor

    with demo_db.write() as s:
        orders.cancel_order(s, Actor("priya", "service-2"), oid, reason="Customer asked")
    seen = []

    def hold(dialog):
        qtbot.keyClicks(dialog.reason_edit, "Payment review")
        qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)

        def close_warning():
            box = QApplication.activeModalWidget()
            if isinstance(box, QMessageBox):
                seen.append(box.text())
                box.accept()
            else:
                qtbot.wait(10)
                close_warning()

        answer_dialog(qtbot, lambda _d: close_warning())

    answer_dialog(qtbot, hold)
    qtbot.mouseClick(detail.hold_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(seen))
    assert "cancelled; it cannot be put on hold" in seen[0]
    qtbot.waitUntil(lambda: detail.order.status == "cancelled")
    with demo_db.read() as s:
        assert not s.scalar(select(AuditEvent.id).where(AuditEvent.order_id == oid, AuditEvent.action == "order.held"))


def test_scanning_an_order_number_opens_it(qtbot, tasks, window_state, demo_db):
    from oms.core.gs1 import classify_scan

    window = open_window(qtbot, tasks, window_state)
    with demo_db.read() as s:
        oid, number = s.execute(select(SalesOrder.id, SalesOrder.number).where(SalesOrder.number.like("PO%")).limit(1)).one()
    assert window.router.route(classify_scan(number))
    qtbot.waitUntil(lambda: window.detail.order is not None and window.detail.order.id == oid)
    assert window.orders_stack.currentWidget() is window.detail
    window.router.route(classify_scan("NO-SUCH-ORDER"))
    assert "No order NO-SUCH-ORDER" in window.statusBar().currentMessage()
    assert window.feedback.overlay.message == "No order NO-SUCH-ORDER"


def test_print_packing_slip_and_reprint_label_from_the_detail(qtbot, tasks, window_state, demo_db, tmp_path, monkeypatch):
    """Without a printer chosen the documents are made and kept under Failed prints, never lost."""
    from oms import printing

    monkeypatch.setenv("OMS_SPOOL_DIR", str(tmp_path / "spool"))
    window = open_window(qtbot, tasks, window_state)
    detail = open_detail(qtbot, window, order_with(demo_db, "delivered"))
    assert detail.print_slip_button.isEnabled() and detail.reprint_label_button.isEnabled()
    messages = []
    detail.message.connect(messages.append)
    qtbot.mouseClick(detail.print_slip_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(messages), timeout=15000)
    qtbot.mouseClick(detail.reprint_label_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(messages) == 2, timeout=15000)
    kept = printing.failed_jobs()
    assert len(kept) == 2 and {j.title.split(",")[0] for j in kept} >= {"Packing slip"}
    # An order with nothing shipped has nothing to print.
    other = open_detail(qtbot, window, order_with(demo_db, "allocated"))
    assert not other.print_slip_button.isEnabled() and not other.reprint_label_button.isEnabled()


def test_a_late_routing_plan_is_said_in_red(qtbot, tasks, window_state, demo_db):
    """Promised for today, the best plan arrives later: the explanation's "(late)" is a red line, not a whisper."""
    from datetime import datetime, timedelta, timezone

    from desktop import formatting as fmt
    from oms.catalog.models import Product
    from tests.conftest import ACTOR, make_order

    now = datetime.now(timezone.utc)
    with demo_db.write() as s:
        sku = s.scalar(select(Product.sku).where(Product.active.is_(True)).order_by(Product.id).limit(1))
        (result,) = intake.take_in(s, ACTOR, [make_order("LATE-1", ((sku, 1),), placed_at=now - timedelta(hours=1),
                                                                   deliver_by=now - timedelta(days=1), number="#LATE-1")]).results
    window = open_window(qtbot, tasks, window_state)
    detail = open_detail(qtbot, window, result.order_id)
    routing_view = detail.order.routing
    assert routing_view is not None and routing_view.late and "(late)" in routing_view.explanation
    promised = routing_view.promise.strftime("%a %d %b")
    text = detail.routing_text.text()
    assert f"Late: arrives {routing_view.plans[0].delivery.strftime('%a %d %b')}, promised {promised}" in text
    assert f"color:{fmt.LATE_COLOR.name()}" in text.split("Late: arrives")[0].rsplit("<span", 1)[-1]
    assert detail.routing_plans.item(0, 3).foreground().color() == fmt.LATE_COLOR


def test_the_warehouse_is_named_not_coded(qtbot, tasks, window_state, demo_db):
    from oms.inventory.models import Location

    window = open_window(qtbot, tasks, window_state)
    oid = order_with(demo_db, "allocated")
    with demo_db.read() as s:
        code, name = s.execute(select(Location.code, Location.name).join(SalesOrder, SalesOrder.location_id == Location.id)
                               .where(SalesOrder.id == oid)).one()
    detail = open_detail(qtbot, window, oid)
    assert f"Ships from</td><td style='padding-bottom:3px'>{name}" in detail.customer_card.body.text()
    assert detail.allocations.item(0, 0).text() == name and detail.no_allocations.text() == f"Reserved at {name}."
    assert code not in detail.customer_card.body.text()


def test_a_packed_box_says_where_its_carrier_label_is_and_printing_it_from_the_detail_ships_it(
        qtbot, tasks, window_state, demo_db, tmp_path, monkeypatch):
    """Priya sees "awaiting label", then "label ready to print"; Reprint label prints it (on the station's label
    printer) and only then does the shipment read shipped."""
    from oms import printing
    from oms.core.settings import Settings
    from oms.shipping import shipments
    from oms.shipping.models import Shipment
    from tests.conftest import ACTOR
    from tests.documents.conftest import Listener

    monkeypatch.setenv("OMS_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("OMS_CONFIG_DIR", str(tmp_path / "config"))
    oid = order_with(demo_db, "packed")
    with demo_db.write() as s:
        sid = s.scalar(select(Shipment.id).where(Shipment.order_id == oid, Shipment.status == "packed"))
        shipments.request_label(s, ACTOR, sid, "easypost", label_format="ZPL")
    window = open_window(qtbot, tasks, window_state)
    detail = open_detail(qtbot, window, oid)
    row = [s.id for s in detail.order.shipments].index(sid)
    assert detail.shipments.item(row, 1).text() == "Packed — awaiting label"

    label = b"^XA^FO50,50^A0N,40,40^FDCARRIER LABEL 1Z999AA10123456784^FS^XZ"
    with demo_db.write() as s:
        shipments.attach_label(s, ACTOR, sid, carrier_account="easypost", carrier="UPS", service="Ground",
                               tracking_number="1Z999AA10123456784", carrier_ref="shp_1", tracker_ref=None, cost_minor=900,
                               labels={"zpl": label})
    listener = Listener()
    try:
        Settings(station_name="test-station", label_printer=f"socket://127.0.0.1:{listener.port}").save()
        detail = open_detail(qtbot, window, oid)
        assert detail.shipments.item(row, 1).text() == "Packed — label ready to print"
        assert detail.reprint_label_button.isEnabled()
        detail.shipments.selectRow(row)
        qtbot.mouseClick(detail.reprint_label_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: detail.shipments.item(row, 1).text() == "Shipped", timeout=15000)
        assert listener.wait_for(1) == [label] and printing.failed_jobs() == []
    finally:
        listener.close()
    with demo_db.read() as s:
        assert s.get(Shipment, sid).tracking_number == "1Z999AA10123456784"
