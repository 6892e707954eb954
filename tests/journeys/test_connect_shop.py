"""An office manager connects the WooCommerce web shop in Settings, by keyboard, and its orders arrive.

The kinds of shop, and the words the dialog uses for each (its address, what its keys look like), come from
the connector registry: nothing in Settings names WooCommerce. The keys go to the token store, never the database.
"""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QComboBox, QLineEdit
from sqlalchemy import func, select

from oms.integration import sync_queries, sync_store
from oms.orders.models import Channel, SalesOrder
from sync import credentials
from sync.emulators.woocommerce import WooCommerceEmulator


def test_a_woocommerce_shop_is_connected_through_settings_and_its_orders_arrive(station):
    s = station
    with s.db.read() as session:
        skus = sync_queries.demo_skus(session, 3)
    with WooCommerceEmulator(consumer_key="ck_harbor", consumer_secret="cs_p1ne") as shop:
        shop.seed_orders(4, skus)
        s.click(s.window.nav_buttons["settings"])
        s.click_text("Connect a shop…")
        s.wait_for(lambda: QApplication.activeModalWidget() is not None, "the connection dialog")
        assert QApplication.activeModalWidget().windowTitle() == "Connect a shop"
        assert isinstance(s.focused(), QLineEdit)  # the name, first
        s.key("Shift+Tab")  # back to the kind of shop
        assert isinstance(s.focused(), QComboBox)
        s.type("W")  # the list jumps to the kind that starts with W
        assert s.focused().currentText() == "WooCommerce"
        # The registry's words for WooCommerce: what its address and its keys look like.
        assert s.sees("API keys") and s.sees("Shop address")
        s.key("Tab")
        s.type("Harbor Woo")
        s.key("Tab")
        assert s.focused().text() == "harbor-woo"  # the code follows the name
        s.key("Tab")
        s.type(shop.url)  # this test's loopback shop, typed as a person types an address
        s.key("Tab")
        s.type("ck_harbor:cs_p1ne")
        s.key("Return")
        s.wait_text("Connected harbor-woo")
        s.wait_text("Shop · WooCommerce")
        with s.db.read() as session:
            [conn] = [c for c in sync_store.connectors(session) if c.code == "harbor-woo"]
        assert (conn.kind, conn.role, conn.base_url) == ("woocommerce", "channel", shop.url)
        assert credentials.get_secret("harbor-woo") == "ck_harbor:cs_p1ne"  # in the token store, not the database
        assert "cs_p1ne" not in repr(conn)

        def arrived() -> int:
            with s.db.read() as session:
                return session.scalar(select(func.count()).select_from(SalesOrder).join(Channel).where(Channel.code == "harbor-woo"))

        s.wait_for(lambda: arrived() == 4, "the shop's four orders in the queue", timeout=30)
        s.click(s.window.nav_buttons["sync"])
        s.wait_text("Harbor Woo")  # its row on the Sync screen
