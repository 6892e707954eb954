"""A supervisor connects a carrier account in Settings (JOURNEYS.md's new station, the office side of it).

The kinds of connection, and the words the dialog uses for each (its address, its secret, its
default API host), come from the connector registry: nothing in Settings names a carrier.
"""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QLineEdit

from oms.integration import sync_store
from sync import credentials
from sync.emulators.easypost import EasyPostEmulator


def test_a_carrier_account_is_connected_through_settings(station):
    s = station
    with EasyPostEmulator(api_key="EZAK_office_key") as carrier:
        s.click(s.window.nav_buttons["settings"])
        s.click_text("Connect a carrier…")
        s.wait_for(lambda: QApplication.activeModalWidget() is not None, "the connection dialog")
        dialog = QApplication.activeModalWidget()
        assert dialog.windowTitle() == "Connect a carrier account"
        # The registry's words for the one carrier kind there is: its address, prefilled, and what its secret is called.
        assert s.sees("API address") and s.sees("https://api.easypost.com") and s.sees("API key")
        s.wait_for(lambda: isinstance(s.focused(), QLineEdit), "the name field to take the keys")  # the name, first
        s.type("Office EasyPost")
        s.key("Tab")
        assert s.focused().text() == "office-easypost"  # the code follows the name
        s.tab_to(lambda w: isinstance(w, QLineEdit) and w.text() == "https://api.easypost.com", "the API address")
        s.key("Ctrl+A")
        s.type(carrier.url)  # this test's loopback EasyPost, typed as a person types an address
        s.key("Tab")
        s.type("EZAK_office_key")
        s.key("Return")
        s.wait_text("Connected office-easypost")
        s.wait_text("Carrier · EasyPost")
        with s.db.read() as session:
            [conn] = [c for c in sync_store.connectors(session) if c.code == "office-easypost"]
        assert (conn.kind, conn.role, conn.base_url, conn.interval_s) == ("easypost", "carrier", carrier.url, 30)
        assert credentials.get_secret("office-easypost") == "EZAK_office_key"  # in the token store, not the database
        assert "EZAK_office_key" not in repr(conn)

        s.click(s.window.nav_buttons["sync"])
        s.wait_text("Carrier · EasyPost")  # its row in Connections, the kind in words
        assert s.sees("Office EasyPost")
