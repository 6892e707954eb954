"""The shop refuses the station's token (someone rotated it in the shop's admin): the station says so, in words a
supervisor acts on, in the status bar and on the Sync screen, and a new token typed in Settings puts it right.

Before, a refused token looked like a quiet shop: "online; pulled 0", and the refusal only in a log line.
"""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QLineEdit

from sync import credentials

REFUSED = "token refused, update it in Settings"


def give_token(s, token: str) -> None:
    """Settings → the shop's row → Token… → type it → Save token, as a supervisor does."""
    s.click(s.window.nav_buttons["settings"])
    table = s.window.settings_screen.table
    s.wait_for(lambda: table.rowCount() > 0, "the connections listed")
    row = next(r for r in range(table.rowCount()) if table.item(r, 0) and table.item(r, 0).text() == "Demo shop")
    s.click(table.viewport(), table.visualItemRect(table.item(row, 0)).center())
    s.click_text("Token…")
    s.wait_for(lambda: QApplication.activeModalWidget() is not None, "the token dialog")
    s.wait_for(lambda: isinstance(s.focused(), QLineEdit) and s.focused().objectName() == "connectionToken",
               "the token field to take the keys")
    s.type(token)
    s.key("Return")
    s.wait_for(lambda: QApplication.activeModalWidget() is None, "the dialog to close")


def test_a_refused_token_is_said_where_people_look_and_a_new_one_puts_it_right(station):
    s = station
    good = credentials.get_secret("shop")
    assert good, "the demo shop has its token in the token store"
    s.wait_for(lambda: "online" in s.status().lower(), "the shop online at first", timeout=60)

    give_token(s, "shpat_rotated_in_the_admin")
    s.wait_for(lambda: REFUSED in s.status(), "the status bar to say the token is refused", timeout=60)
    assert "offline" not in s.status().lower().split(REFUSED)[0][-40:], s.status()  # refused is not "offline"

    s.click(s.window.nav_buttons["sync"])
    s.wait_text("token refused by the shop: update it in Settings", timeout=30)

    give_token(s, good)
    s.wait_for(lambda: REFUSED not in s.status() and "online" in s.status().lower(),
               "the status bar to say the shop is online again", timeout=60)
