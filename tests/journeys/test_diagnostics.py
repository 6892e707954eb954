"""10:15 — the label printer misbehaves, and support asks for the diagnostics.

The supervisor opens Help with Alt+H, picks "Copy diagnostics" with its letter, and pastes the clipboard into a
message. What reaches the clipboard says which Quayside, which database and schema, which printers and how each
connection fares, with the end of the log; and no token: not the demo shop's from the credential store, not one that
found its way into a log line. Then Help → About shows the version, the folders and every library's licence.
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QApplication, QMenu, QTableWidget

from oms.station import about
from oms.core import logs
from sync import credentials


def _open_menu(station) -> QMenu:
    station.key("Alt+H")
    station.wait_for(lambda: isinstance(QApplication.activePopupWidget(), QMenu), "the Help menu to open")
    menu = QApplication.activePopupWidget()
    assert [a.text() for a in menu.actions() if a.text()] == ["Copy &diagnostics", "&About Quayside"]
    return menu


def test_support_gets_the_diagnostics_by_keyboard_and_no_token_in_them(station):
    s = station
    token = credentials.get_secret("shop")
    assert token and token.startswith("demo_"), "the demo shop keeps its token in the credential store"
    # A token in a log line: through logging (redacted as it is written), and raw in the file, as an older
    # version or another program might have left it.
    logging.getLogger("quayside.sync").warning("shop answered 401 to token %s", token)
    for h in logging.getLogger().handlers:
        h.flush()
    with open(logs.log_path(), "a", encoding="utf-8") as f:
        f.write(f"2026-12-06 07:59:00 INFO quayside.sync raw line with {token} in it\n")
    assert token in logs.log_path().read_text()  # the raw line is really there
    QApplication.clipboard().setText("")

    _open_menu(s)
    s.shot("help-menu")
    s.key("D")  # Copy &diagnostics
    s.wait_for(lambda: "Diagnostics copied to the clipboard" in s.window.statusBar().currentMessage(),
               "the status bar to say the diagnostics are copied", timeout=30)
    text = QApplication.clipboard().text()
    assert text.startswith(f"Quayside {about.version()}\n")
    assert "Kind: SQLite" in text and f"Where: SQLite {s.machine.database_path}" in text
    assert f"Schema: {s.db.head_revision()}" in text
    assert "== Printers (CUPS)" in text and "Qt: 6." in text
    assert "shop (channel, shopify): online" in text and "easypost (carrier, easypost)" in text
    assert "shop answered 401 to token [redacted]" in text and "raw line with [redacted] in it" in text
    assert token not in text
    assert len(text.splitlines()) > 20

    _open_menu(s)
    s.key("A")  # &About Quayside
    s.wait_for(lambda: any(w.objectName() == "aboutDialog" and w.isVisible() for w in QApplication.topLevelWidgets()),
               "the About box")
    s.wait_text(f"Quayside {about.version()}")
    box = next(w for w in QApplication.topLevelWidgets() if w.objectName() == "aboutDialog")
    s.wait_for(lambda: QApplication.activeWindow() is box, "the About box to take the keyboard")
    s.wait_text("alembic", timeout=20)  # the libraries, read in the background
    assert s.sees(str(logs.log_dir())) and s.sees(str(s.machine.database_path.parent))
    s.tab_to(lambda w: w.objectName() == "aboutLibraries", "the list of libraries")
    s.type("PySide6")  # an item view jumps to what is typed
    s.wait_text("LGPL-3.0-only OR GPL-2.0-only OR GPL-3.0-only")
    s.shot("about-box")
    table = box.findChild(QTableWidget, "aboutLibraries")
    assert table.item(table.currentRow(), 0).text() == "PySide6"
    s.key("Escape")
    s.wait_for(lambda: not box.isVisible(), "the About box to close")
