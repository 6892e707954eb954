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
        s.wait_for(lambda: isinstance(s.focused(), QLineEdit), "the name field to take the keys")  # the name, first
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
        s.type("ck_harbor:cs_wrong")  # one key mistyped
        s.click_text("Test connection")
        s.wait_text("✗ Refused: WooCommerce did not accept the api keys", timeout=20)
        s.tab_to(lambda w: isinstance(w, QLineEdit) and w.objectName() == "connectionToken", "the keys again")
        s.key("Ctrl+A")
        s.type("ck_harbor:cs_p1ne")
        s.click_text("Test connection")
        s.wait_text("✓ The shop answered: 4 orders.", timeout=20)  # tried before it is kept: nothing written yet
        with s.db.read() as session:
            assert "harbor-woo" not in [c.code for c in sync_store.connectors(session)]
        # Back to the keys past Cancel, as a keyboard goes round: Return there still connects, never cancels.
        s.tab_to(lambda w: isinstance(w, QLineEdit) and w.objectName() == "connectionToken", "the keys, to save")
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


def test_an_amazon_store_in_europe_is_connected_with_its_marketplaces_and_tried_first(station):
    """Amazon's own settings (its marketplaces, the stock held back) are asked in the dialog, as the registry
    declares them, and kept with the connection; the keys are tried against the endpoint before they are kept."""
    from sync.emulators.amazon import AmazonEmulator

    s = station
    keys = "amzn1.application-oa2-client.eu amzn1.oa2-cs.v1.eu Atzr|eu"
    with AmazonEmulator(client_id="amzn1.application-oa2-client.eu", client_secret="amzn1.oa2-cs.v1.eu",
                        refresh_token="Atzr|eu", marketplace_id="A1F83G8C2ARO7P") as amazon:
        s.click(s.window.nav_buttons["settings"])
        s.click_text("Connect a shop…")
        s.wait_for(lambda: QApplication.activeModalWidget() is not None, "the connection dialog")
        s.wait_for(lambda: isinstance(s.focused(), QLineEdit), "the name field to take the keys")
        s.key("Shift+Tab")
        s.type("A")
        assert s.focused().currentText() == "Amazon"
        assert s.sees("Marketplaces") and s.sees("Stock buffer")
        s.key("Tab")
        s.type("Amazon EU")
        s.key("Tab")
        s.key("Tab")
        s.key("Ctrl+A")
        s.type(amazon.url)
        s.key("Tab")
        s.type(keys)
        s.key("Tab")  # past the interval: the kind's own settings come next
        s.key("Tab")
        assert s.focused().objectName() == "setting_marketplace_ids"
        s.type("A1F83G8C2ARO7P, A1PA6795UKMFR9")
        s.tab_to(lambda w: isinstance(w, QLineEdit) and w.objectName() == "setting_stock_buffer", "Stock buffer")
        s.type("two")
        s.key("Return")
        s.wait_text("Stock buffer: A whole number of 0 or more, not 'two'.")  # said in the dialog; nothing kept
        s.key("Ctrl+A")
        s.type("2")
        s.tab_to(lambda w: isinstance(w, QLineEdit) and w.objectName() == "setting_feed_threshold", "Feed above")
        s.type("120")  # more stock levels than this in a pass go to Amazon as one feed
        s.click_text("Test connection")
        s.wait_text("✓ Amazon accepted the keys; marketplaces A1F83G8C2ARO7P, A1PA6795UKMFR9", timeout=20)
        s.tab_to(lambda w: isinstance(w, QLineEdit) and w.objectName() == "setting_stock_buffer", "Stock buffer")
        s.key("Return")
        s.wait_text("Connected amazon-eu")
        with s.db.read() as session:
            [conn] = [c for c in sync_store.connectors(session) if c.code == "amazon-eu"]
        assert conn.options["marketplace_ids"] == ["A1F83G8C2ARO7P", "A1PA6795UKMFR9"] and conn.options["stock_buffer"] == 2
        assert conn.options["feed_threshold"] == 120
        assert credentials.get_secret("amazon-eu") == keys and "Atzr" not in repr(conn)
