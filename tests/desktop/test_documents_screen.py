"""The Documents screen over a real import: the 850 in, the 997 and 855 out, filters, the document laid out, a refused
one with its error in words, and the linked order opened with Enter."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop.screens.documents_screen import COLUMNS
from oms.integration import sync_queries
from oms.partners import edi
from sync.channels.edi_x12.service import import_interchanges
from sync.channels.edi_x12.x12 import Group, Segment, Transaction, write_interchange
from tests.conftest import ACTOR
from tests.desktop.helpers import open_window

WHEN = datetime(2026, 11, 23, 11, 0, tzinfo=timezone.utc)


def an_850(po: str, control: int, skus: list[str]) -> str:
    body = [Segment("BEG", ("00", "SA", po, "", "20261123")), Segment("N1", ("ST", "ACME DC 14", "92", "0014"))]
    for i, sku in enumerate(skus, start=1):
        body += [Segment("PO1", (str(i), "2", "EA", "7.25", "", "VN", sku)), Segment("PID", ("F", "", "", "", sku))]
    body.append(Segment("CTT", (str(len(skus)),)))
    group = Group(functional_id="PO", sender="ACMESTORES", receiver="QUAYSIDE", control=str(control),
                  transactions=(Transaction(set_id="850", control="0001", segments=tuple(body)),))
    return write_interchange([group], sender_id="ACMESTORES", receiver_id="QUAYSIDE", control=control, when=WHEN, newline=True)


@pytest.fixture
def acme(demo_db):
    """Partner ACME, and one purchase order from it imported through the EDI service (which writes the 997 and 855)."""
    with demo_db.read() as s:
        skus = sync_queries.demo_skus(s, 2)
    with demo_db.write() as s:
        edi.add_partner(s, ACTOR, code="ACME", name="ACME Stores", our_id="QUAYSIDE", their_id="ACMESTORES",
                        transport={"kind": "folder", "path": "/srv/edi/acme"})
        edi.add_ship_to(s, edi.partner(s, "ACME").id, "0014", "ACME DC 14", address1="1 Dock Rd", city="Sparks",
                        region="NV", postal_code="89431")
    with demo_db.write() as s:
        import_interchanges(s, an_850("PO4500123", 17, skus), filename="acme_po_17.x12")
    return skus


def cell_text(screen, row: int, column: str) -> str:
    return screen.model.data(screen.model.index(row, COLUMNS.index(column))) or ""


def rows(screen) -> list[tuple[str, str, str]]:
    return [(cell_text(screen, r, "partner"), cell_text(screen, r, "type"), cell_text(screen, r, "status"))
            for r in range(screen.model.rowCount())]


def show_documents(qtbot, window, n: int):
    window.show_screen("documents")
    screen = window.documents
    qtbot.waitUntil(lambda: screen.model.rowCount() == n and not screen.model.is_loading, timeout=5_000)
    return screen


def test_documents_lists_the_850_in_and_the_997_and_855_out_and_filters_them(qtbot, tasks, window_state, acme):
    window = open_window(qtbot, tasks, window_state)
    screen = show_documents(qtbot, window, 3)
    assert rows(screen) == [("↑ ACME", "855 PO ack", "Waiting to send"), ("↑ ACME", "997 Functional ack", "Waiting to send"),
                            ("↓ ACME", "850 Purchase order", "Accepted")]
    assert [cell_text(screen, r, "reference") for r in range(3)] == ["PO4500123", "for 850 group 17", "PO4500123"]
    assert cell_text(screen, 2, "controls") == "17 / 17 / 0001"
    assert screen.chips.count_text(None) == "All 3" and screen.chips.count_text("queued") == "Waiting to send 2"
    assert not screen.chips.buttons["rejected"].isVisible()

    # Ctrl+F goes to the search; a PO number finds the 850 and the 855 about it.
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert screen.search.hasFocus()
    qtbot.keyClicks(screen.search, "PO45001")
    qtbot.keyClick(screen.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: screen.model.rowCount() == 2 and not screen.model.is_loading)
    assert [r[1] for r in rows(screen)] == ["855 PO ack", "850 Purchase order"]
    screen.go_back()  # Esc clears the search
    qtbot.waitUntil(lambda: screen.model.rowCount() == 3 and not screen.model.is_loading)

    screen.direction.setCurrentIndex(screen.direction.findData("in"))
    qtbot.waitUntil(lambda: screen.model.rowCount() == 1 and not screen.model.is_loading)
    assert rows(screen) == [("↓ ACME", "850 Purchase order", "Accepted")]
    screen.direction.setCurrentIndex(0)
    screen.doc_type.setCurrentIndex(screen.doc_type.findData("997"))
    qtbot.waitUntil(lambda: screen.model.rowCount() == 1 and not screen.model.is_loading)
    assert rows(screen)[0][1] == "997 Functional ack"
    screen.reset_filters()
    qtbot.waitUntil(lambda: screen.model.rowCount() == 3 and not screen.model.is_loading)
    qtbot.mouseClick(screen.chips.buttons["queued"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.model.rowCount() == 2 and not screen.model.is_loading)
    assert {r[2] for r in rows(screen)} == {"Waiting to send"}
    assert screen.chips.count_text(None) == "All 3"  # the chips count beside the chosen status
    qtbot.mouseClick(screen.chips.buttons[None], Qt.MouseButton.LeftButton)
    partner_index = screen.partner.findText("ACME · ACME Stores")
    assert partner_index > 0
    screen.partner.setCurrentIndex(partner_index)
    qtbot.waitUntil(lambda: screen.model.rowCount() == 3 and not screen.model.is_loading)


def test_a_document_is_shown_segment_by_segment_and_enter_opens_its_order(qtbot, tasks, window_state, acme):
    window = open_window(qtbot, tasks, window_state)
    screen = show_documents(qtbot, window, 3)
    with qtbot.waitSignal(screen.shown, timeout=5_000):
        screen.select_row(2)
    pane = screen.pane
    assert pane.title.text() == "850 Purchase order" and pane.status_badge.text() == "Accepted"
    text = pane.pretty_text()
    lines = text.splitlines()
    assert re.match(r"\s*1\s+ST │ 850 │ 0001$", lines[0])
    assert re.match(r"\s*2\s+BEG │ 00 │ SA │ PO4500123 │  │ 20261123\s+Purchase order$", lines[1])
    assert re.match(r"\s*3\s+N1 │ ST │ ACME DC 14 │ 92 │ 0014\s+Ship to$", lines[2])
    assert re.match(r"\s*5\s+PID │", lines[4]) and lines[4].index("PID") > lines[3].index("PO1")  # inside the line's loop
    assert "the file separates them with “*” and ends each segment with “~”" in pane.legend.text()
    assert not pane.problem.isVisible() and pane.open_button.isEnabled()
    assert "acme_po_17.x12" in pane._fact_labels["file"].text()
    assert pane._fact_labels["order"].text().startswith("PO4500123 · ")  # and where the order stands
    # The raw text: Copy puts it on the clipboard as it came.
    qtbot.mouseClick(pane.copy_button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == pane.detail.raw and pane.detail.raw.startswith("ST*850*0001~")

    # Enter on the row opens the order; Back returns to the documents, on the same row.
    screen.table.setFocus()
    qtbot.keyClick(screen.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.detail.order is not None and window.detail.order.number == "PO4500123", timeout=5_000)
    assert window.orders_stack.currentWidget() is window.detail
    assert window.detail.back_button.text() == "‹  Back to documents"
    qtbot.mouseClick(window.detail.back_button, Qt.MouseButton.LeftButton)
    assert window.pages.currentWidget() is screen
    qtbot.waitUntil(lambda: screen.selected_id() == pane.detail.row.id and screen.table.hasFocus(), timeout=5_000)
    assert window.detail.back_button.text() == "‹  Back to queue"

    # An 855 opens the same order from its Open order button.
    with qtbot.waitSignal(screen.shown, timeout=5_000):
        screen.select_row(0)
    assert pane.pretty_text().splitlines()[0].strip().startswith("1  ISA │ 00 │")
    with qtbot.waitSignal(screen.open_order) as opened:
        qtbot.mouseClick(pane.open_button, Qt.MouseButton.LeftButton)
    assert opened.args == [window.detail.order.id]


def test_a_refused_purchase_order_shows_why_in_words_and_on_its_segment(qtbot, tasks, window_state, demo_db, acme, tmp_path):
    broken = re.sub(r"SE\*\d+\*0001", "SE*42*0001", an_850("PO4500999", 18, acme))
    with demo_db.write() as s:
        import_interchanges(s, broken, filename="acme_po_18.x12")
    window = open_window(qtbot, tasks, window_state)
    screen = show_documents(qtbot, window, 5)
    assert screen.chips.count_text("rejected") == "Rejected 1" and screen.chips.buttons["rejected"].isVisible()
    qtbot.mouseClick(screen.chips.buttons["rejected"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.model.rowCount() == 1 and screen.pane.detail is not None
                    and screen.pane.detail.row.status == "rejected", timeout=5_000)
    assert cell_text(screen, 0, "reference") == "PO4500999"  # read from the text: no order was made
    assert "says it has 42 segments" in cell_text(screen, 0, "problem")
    pane = screen.pane
    assert pane.problem.isVisible()
    problem = pane.problem.text()
    assert "was not accepted: no order was made from it, and our 997 tells ACME so" in problem
    assert "What was wrong: Transaction set 0001 says it has 42 segments (SE01)" in problem
    assert not pane.open_button.isEnabled() and pane._fact_labels["order"].text() == "none"
    text = pane.pretty_text()
    assert "⚠ Transaction set 0001 says it has 42 segments" in text
    se_line = next(i for i, line in enumerate(text.splitlines()) if "SE │ 42" in line)
    assert "⚠" in text.splitlines()[se_line + 1]
    # Enter on a document about no order says so instead of opening one.
    screen.table.setFocus()
    with qtbot.waitSignal(screen.message) as said:
        qtbot.keyClick(screen.table, Qt.Key.Key_Return)
    assert said.args == ["This 850 Purchase order is about no order."]
    # Save as… writes the text as received.
    target = tmp_path / screen.default_filename(pane.detail)
    assert target.name == "ACME_850_18_0001.x12"
    with qtbot.waitSignal(screen.message):
        screen.save_to(str(target))
    assert target.read_text(encoding="utf-8") == pane.detail.raw


def test_without_documents_the_screen_says_what_will_appear_and_how(qtbot, tasks, window_state):
    window = open_window(qtbot, tasks, window_state)
    window.show_screen("documents")
    screen = window.documents
    qtbot.waitUntil(lambda: screen.list_stack.currentWidget() is screen.empty, timeout=5_000)
    text = screen.empty.text()
    assert text.startswith("No EDI documents yet.")
    assert "Purchase orders (850)" in text and "Settings → Trading partners" in text
    assert screen.pane.placeholder.isVisible() and screen.summary.text() == "0 documents"


def test_documents_that_arrive_appear_and_the_selection_stays(qtbot, tasks, window_state, demo_db, acme):
    window = open_window(qtbot, tasks, window_state)
    screen = show_documents(qtbot, window, 3)
    with qtbot.waitSignal(screen.shown, timeout=5_000):
        screen.select_row(2)
    chosen = screen.selected_id()
    screen.poll()  # the first look only notes where things stand
    with demo_db.write() as s:
        import_interchanges(s, an_850("PO4500200", 19, acme), filename="acme_po_19.x12")
    screen.poll()  # what the timer does every few seconds while the screen is shown
    qtbot.waitUntil(lambda: screen.model.rowCount() == 6 and not screen.model.is_loading, timeout=5_000)
    assert screen.selected_id() == chosen and screen.table.currentIndex().row() == 5
    assert screen.chips.count_text(None) == "All 6"
