"""17:30 — before going home the supervisor makes a backup by hand, and looks at moving the station to the shared
server: Settings → Database and backups, all by keyboard. The address is tested before it can be used, and a wrong
one is said plainly."""

from __future__ import annotations

import socket

from PySide6.QtWidgets import QPushButton, QTabWidget

from oms.core import backup


def test_back_up_now_and_a_server_that_does_not_answer(station):
    s = station
    s.key("Ctrl+0")  # Settings
    s.wait_text("This station")
    tabs = s.window.findChild(QTabWidget, "settingsTabs")
    s.key("Ctrl+Tab")
    s.key("Ctrl+Tab")  # Database and backups
    assert tabs.tabText(tabs.currentIndex()) == "Database and backups"
    s.wait_text("In use now: SQLite")
    s.wait_for(lambda: s.sees("None yet: one is made each day while Quayside runs."), "the backups' state")

    s.key("Alt+B")  # Back up now
    s.wait_for(lambda: "Backed up: " in s.window.statusBar().currentMessage(), "the status bar to say it is backed up",
               timeout=60)
    url = f"sqlite:///{s.machine.database_path}"
    (made,) = backup.list_backups(url, s.machine.data_dir / "backups")
    assert s.window.statusBar().currentMessage() == f"Backed up: {made.path.name}."
    s.wait_text(f"The newest is of {made.taken_at:%Y-%m-%d %H:%M}; 1 kept")
    assert s.sees(f"Backups go to {s.machine.data_dir / 'backups'}.")

    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        s.key("Alt+S")
        s.tab_to(lambda w: w.objectName() == "databaseUrl", "the server's address")
        s.type(f"postgresql://quayside@127.0.0.1:{port}/oms")
        s.key("Return")
        s.wait_text(f"Nothing answers at 127.0.0.1:{port}", timeout=20)
    use = s.button("Use from the next start")
    assert isinstance(use, QPushButton) and not use.isEnabled(), "an address that failed its test cannot be used"
