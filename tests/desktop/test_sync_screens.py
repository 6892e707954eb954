"""Sync in the GUI over real HTTP on loopback: the status bar, the Sync screen, Settings → Connections, demo mode."""

from __future__ import annotations

import json
import re
import socket
from argparse import Namespace

import pytest
from PySide6.QtCore import QSettings, Qt
from sqlalchemy import func, select

from desktop import app as desktop_app, demo
from desktop.tasks import Tasks
from desktop.window_state import WindowState
from oms import seed
from oms.core.settings import Settings
from oms.integration import sync_queries, sync_store
from oms.orders.models import Allocation, Channel, SalesOrder
from sync import credentials, registry
from sync.connectors import build_connectors
from sync.emulators.shopify import ShopifyEmulator
from sync.engine import Engine
from tests.conftest import ACTOR
from tests.desktop.helpers import open_window

TOKEN = "shpat_gui_test_0123456789"


@pytest.fixture(autouse=True)
def secret_store(tmp_path, monkeypatch):
    """Tokens in an encrypted file in this test's own config folder, never the developer's keyring."""
    monkeypatch.setenv("OMS_SECRET_STORE", "file")
    monkeypatch.setenv("OMS_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "config"


def fast_build(db, **http_options):
    """The real connectors, with short retries so an outage shows within a second or two."""
    channels, carriers, intervals, problems = build_connectors(db, max_attempts=2, backoff_base=0.05, timeout=(1, 3),
                                                                **http_options)
    return channels, carriers, {code: 1 for code in intervals}, problems


def skus(db, n=4):
    with db.read() as s:
        return sync_queries.demo_skus(s, n)


def connect_shop(db, url, code="shop", name="Web shop"):
    with db.write() as s:
        sync_store.add_connector(s, ACTOR, code=code, role="channel", kind="shopify", name=name, base_url=url, interval_s=1)
    credentials.set_secret(code, TOKEN)


def channel_orders(db, code="shop") -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(SalesOrder).join(Channel).where(Channel.code == code))


@pytest.fixture
def shop(demo_db):
    emu = ShopifyEmulator(token=TOKEN, seed=3, rate_limit=False).start()
    emu.seed_orders(3, skus(demo_db))
    connect_shop(demo_db, emu.url)
    yield emu
    emu.stop()


@pytest.fixture
def window(qtbot, tasks, window_state):
    w = open_window(qtbot, tasks, window_state)
    w.sync_worker.build = fast_build
    yield w
    w.sync_worker.stop()


def sync_state(window) -> tuple[str, str]:
    return window.sync_label.text(), window.sync_label.property("state")


def test_status_bar_goes_amber_offline_and_back_online(qtbot, shop, window, demo_db):
    window.sync_worker.start()
    qtbot.waitUntil(lambda: channel_orders(demo_db) == 3, timeout=15_000)
    qtbot.waitUntil(lambda: sync_state(window)[1] == "ok" and "Shop online" in sync_state(window)[0], timeout=10_000)
    assert "waiting to be packed" in window.sync_label.text() and window.sync_label.isVisible()

    shop.stop()  # 9:30, the network goes down
    qtbot.waitUntil(lambda: sync_state(window)[1] == "offline", timeout=15_000)
    text = window.sync_label.text()
    assert "Shop offline since " in text and "updates waiting" in text, text
    assert "offline" in window.sync_label.toolTip()

    shop.start()  # 9:52, back on the same address
    shop.add_order(shop.make_order({s: shop.add_product(s) for s in skus(demo_db)}, shop.now()))
    qtbot.waitUntil(lambda: sync_state(window)[1] == "ok", timeout=15_000)
    assert "Shop online" in window.sync_label.text()
    qtbot.waitUntil(lambda: channel_orders(demo_db) == 4, timeout=10_000)


def test_status_bar_is_red_when_a_connection_has_no_token(qtbot, window, demo_db):
    with demo_db.write() as s:
        sync_store.add_connector(s, ACTOR, code="nokey", role="carrier", kind="easypost", name="EasyPost",
                                 base_url="http://127.0.0.1:9", interval_s=60)
    window.sync_worker.start()
    qtbot.waitUntil(lambda: sync_state(window)[0].startswith("Carrier: no token · "), timeout=10_000)
    assert sync_state(window)[1] == "error"


def test_sync_screen_lists_quarantine_with_payload_and_retry_and_dismiss_work(qtbot, shop, window, demo_db):
    broken = shop.make_order({s: shop.add_product(s) for s in skus(demo_db)}, shop.now())
    broken.pop("currency")
    shop.add_order(broken)
    window.sync_worker.start()
    qtbot.waitUntil(lambda: channel_orders(demo_db) == 3, timeout=15_000)
    # A good order that an older Quayside could not read: a Retry takes it in now.
    good = shop.make_order({s: shop.add_product(s) for s in skus(demo_db)}, shop.now())
    with demo_db.write() as s:
        sync_store.quarantine(s, "shop", "orders", str(good["id"]), json.dumps(good), "Quayside 0.9 could not read the tax lines.")

    window.show_screen("sync")
    screen = window.sync_screen
    qtbot.waitUntil(lambda: screen.quarantine_table.rowCount() == 2, timeout=10_000)
    assert qtbot.waitUntil(lambda: sync_state(window)[1] == "error", timeout=10_000) is None
    assert "2 unreadable" in window.sync_label.text()
    rows = {screen.quarantine_table.item(r, 1).text(): r for r in range(2)}
    rows = {ref.split("(")[-1].rstrip(")"): r for ref, r in rows.items()}  # "#1004 (5500…)": the id
    # Connections by their names, not their codes ("Web shop", not "Web shop (shop)" or "shop").
    assert screen.connectors.item(0, 0).text() == "Web shop" and screen.connectors.item(0, 2).text() == "Online"
    assert {screen.quarantine_table.item(r, 0).text() for r in range(2)} == {"Web shop"}

    # The broken one: the plain error and the raw payload, pretty-printed, side by side.
    screen.quarantine_table.selectRow(rows[str(broken["id"])])
    assert screen.quarantine_table.item(rows[str(broken["id"])], 2).text() == "The order has no currency."
    assert screen.payload_view.toPlainText() == json.dumps(broken, indent=2, ensure_ascii=False)
    qtbot.mouseClick(screen.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Still cannot read it" in screen.payload_error.text(), timeout=5_000)
    assert screen.quarantine_table.rowCount() == 2

    # The good one: Retry imports it and it leaves the list.
    screen.quarantine_table.selectRow(rows[str(good["id"])])
    qtbot.mouseClick(screen.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.quarantine_table.rowCount() == 1, timeout=5_000)
    assert channel_orders(demo_db) == 4

    # Dismiss closes the broken one; it stays in the audit log as dismissed.
    screen.quarantine_table.selectRow(0)
    qtbot.mouseClick(screen.dismiss_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.quarantine_table.rowCount() == 0, timeout=5_000)
    with demo_db.read() as s:
        closed = {q.external_ref: q.status for q in sync_store.quarantined(s, include_closed=True)}
    assert closed == {str(broken["id"]): "dismissed", str(good["id"]): "retried"}
    assert not screen.retry_button.isEnabled() and not screen.dismiss_button.isEnabled()


def test_sync_screen_shows_failed_messages_with_the_remote_error_and_sends_again(qtbot, window, demo_db):
    connect_shop(demo_db, "http://127.0.0.1:9")
    with demo_db.write() as s:
        from oms.core import outbox

        outbox.enqueue(s, "shop", "fulfillment.create", "shop:fulfillment:gui-1", {"x": 1})
        s.flush()
        (row,) = sync_store.due(s, "shop")
        sync_store.mark_failed(s, row.id, "422 Unprocessable Entity: fulfillment_order is closed")
    window.show_screen("sync")
    screen = window.sync_screen
    qtbot.waitUntil(lambda: screen.failed_table.rowCount() == 1, timeout=5_000)
    assert screen.failed_table.item(0, 4).text() == "422 Unprocessable Entity: fulfillment_order is closed"
    assert screen.connectors.item(0, 7).text() == "1"
    screen.failed_table.selectRow(0)
    qtbot.mouseClick(screen.requeue_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.failed_table.rowCount() == 0, timeout=5_000)
    with demo_db.read() as s:
        assert sync_store.waiting_count(s, "shop") == 1


def test_adding_a_shop_in_settings_keeps_the_token_out_of_the_database_and_settings(qtbot, window, demo_db, secret_store):
    token = "shpat_SECRET_do_not_leak_42"
    window.show_screen("settings")
    screen = window.settings_screen
    qtbot.waitUntil(lambda: "Tokens are stored in an encrypted file" in screen.store_label.text(), timeout=10_000)
    assert "no keyring service" in screen.store_label.text()
    qtbot.mouseClick(screen.add_shop_button, Qt.MouseButton.LeftButton)
    dialog = screen.dialog
    qtbot.waitUntil(dialog.isVisible)
    assert dialog.token_edit.echoMode() == dialog.token_edit.EchoMode.Password
    qtbot.keyClicks(dialog.name_edit, "Harbor Web")
    assert dialog.code_edit.text() == "harbor-web"
    dialog.url_edit.setText("https://harbor.myshopify.com")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert "needs its token" in dialog.error_label.text() and dialog.isVisible()
    qtbot.keyClicks(dialog.token_edit, token)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5_000)

    assert credentials.get_secret("harbor-web") == token
    qtbot.waitUntil(lambda: screen.table.rowCount() == 1 and screen.table.item(0, 5).text() == "Stored", timeout=10_000)
    assert screen.table.item(0, 0).text() == "Harbor Web"

    # A new token for an existing connection: the field starts empty and never shows the stored one.
    screen.table.selectRow(0)
    qtbot.mouseClick(screen.edit_button, Qt.MouseButton.LeftButton)
    edit = screen.dialog
    assert edit.token_edit.text() == "" and "A token is stored" in edit.token_edit.placeholderText()
    assert not edit.url_edit.isEnabled()
    qtbot.keyClicks(edit.token_edit, token + "-v2")
    qtbot.mouseClick(edit.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: credentials.get_secret("harbor-web") == token + "-v2", timeout=5_000)

    # Switch off and on.
    qtbot.mouseClick(screen.enable_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: screen.table.item(0, 4).text() == "Switched off", timeout=5_000)

    # Station settings go to the settings file, which holds no token.
    screen.station_edit.setText("pack-7")
    qtbot.mouseClick(screen.save_station_button, Qt.MouseButton.LeftButton)
    settings_text = (secret_store / "settings.json").read_text()
    assert json.loads(settings_text)["station_name"] == "pack-7"

    demo_db.dispose()  # everything on disk, WAL included
    path = demo_db.url.removeprefix("sqlite:///")
    stored = b"".join(p.read_bytes() for p in [*__import__("pathlib").Path(path).parent.glob("demo.sqlite3*")])
    for secret in (token, token + "-v2"):
        assert secret.encode() not in stored
        assert secret not in settings_text
        assert secret.encode() not in (secret_store / "secrets.enc").read_bytes()  # encrypted, not plain


def test_a_connection_without_a_token_says_so_in_settings(qtbot, window, demo_db):
    with demo_db.write() as s:
        sync_store.add_connector(s, ACTOR, code="ep", role="carrier", kind="easypost", name="EasyPost",
                                 base_url="https://api.easypost.com", interval_s=300)
    window.show_screen("settings")
    screen = window.settings_screen
    qtbot.waitUntil(lambda: screen.table.rowCount() == 1 and screen.table.item(0, 5).text() == "No token — cannot sync",
                    timeout=10_000)


def _port_open(url: str) -> bool:
    host, port = url.removeprefix("http://").split(":")
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, int(port))) == 0


def test_demo_mode_starts_shop_and_carrier_syncs_new_orders_and_stops(qtbot, tmp_path, demo_db, monkeypatch):
    for name, value in (("NEW_ORDER_EVERY_S", 0.5), ("FIRST_ORDERS", 2), ("SHOP_INTERVAL_S", 1), ("CARRIER_INTERVAL_S", 1)):
        monkeypatch.setattr(demo, name, value)
    tasks = Tasks(demo_db)  # real worker threads, as in the app
    state = WindowState(QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat))
    startup = desktop_app.Startup(Namespace(db=demo_db.url, smoke=False, no_seed=False, demo=True),
                                  Settings(station_name="t", user="maria"), demo_db, tasks, state)
    startup.begin()
    qtbot.waitUntil(lambda: startup.window is not None, timeout=30_000)
    window = startup.window
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: startup.demo is not None and window.sync_worker.built, timeout=20_000)
    shop_url = startup.demo.shop.url
    with demo_db.read() as s:
        infos = {c.code: c for c in sync_store.connectors(s)}
    # The shop and the carrier, and beside the shop every other channel the registry can emulate.
    others = {f"demo-{sp.kind}": sp for sp in registry.specs("channel") if sp.emulator and sp is not registry.demo("channel")}
    assert len(others) >= 2 and set(startup.demo.others) == set(others)
    tpl = f"demo-{registry.demo('threepl').kind}"  # and the 3PL behind the demo's 3PL location
    assert set(infos) == {"shop", "easypost", tpl, *others}
    assert all(c.options == {"demo": True} for code, c in infos.items() if code != tpl)
    assert infos[tpl].role == "threepl" and infos[tpl].options == {"demo": True, "location": "DFW3PL"}
    assert infos[tpl].base_url == startup.demo.threepl.url
    assert infos["shop"].base_url == shop_url and shop_url.startswith("http://127.0.0.1:")
    assert credentials.get_secret("shop") == startup.demo.shop.token
    for code, sp in others.items():
        assert infos[code].kind == sp.kind and infos[code].base_url == startup.demo.others[code].url
        assert credentials.get_secret(code)  # keys of the kind's own shape, in the token store
    qtbot.waitUntil(lambda: channel_orders(demo_db) > 3, timeout=20_000)  # the 2 first ones and new ones arriving
    qtbot.waitUntil(lambda: all(channel_orders(demo_db, code) >= 1 for code in others), timeout=30_000)
    shops = 1 + len(others)
    qtbot.waitUntil(lambda: window.sync_label.text().startswith(f"{shops} shops online · Carrier online · 3PL online · "),
                    timeout=10_000)
    assert window.sync_label.property("state") == "ok"

    window.close()
    tasks.shutdown()
    startup.stop_sync()
    tpl_url = infos[tpl].base_url
    assert startup.demo is None and not _port_open(shop_url) and not _port_open(tpl_url)
    assert not window.sync_worker.running

    # The next start of the same database brings the demo back on the same address.
    assert demo.wanted(demo_db)
    again = demo.DemoSync(demo_db).start()
    try:
        assert again.shop.url == shop_url and again.shop.token == credentials.get_secret("shop")
    finally:
        again.stop()


def _pull(db) -> list[str]:
    """One sync pass of the shop, as the station's worker makes it; the shop's order numbers in the queue."""
    channels = fast_build(db)[0]
    Engine(db, channels).run_once(["shop"])
    with db.read() as s:
        return list(s.scalars(select(SalesOrder.number).join(Channel).where(Channel.code == "shop")))


def test_the_demo_shop_keeps_its_orders_and_numbering_across_restarts(demo_db, secret_store):
    first = demo.DemoSync(demo_db, every_seconds=3600, first_orders=3).start()
    try:
        assert sorted(_pull(demo_db)) == ["#1001", "#1002", "#1003"]
    finally:
        first.stop()

    again = demo.DemoSync(demo_db, every_seconds=3600, first_orders=3).start()
    try:
        assert sorted(o["name"] for o in again.shop.orders.values()) == ["#1001", "#1002", "#1003"]
        again.shop.add_order(again.shop.make_order({s: again.shop.add_product(s) for s in skus(demo_db)}, again.shop.now()))
        numbers = _pull(demo_db)
        assert sorted(numbers) == ["#1001", "#1002", "#1003", "#1004"]  # no second "#1001": the shop went on counting
    finally:
        again.stop()

    # A demo from before the shop kept its state (no file): it starts afresh but never reuses a number.
    for f in (secret_store / "demo").glob("shop-*.json"):
        f.unlink()
    older = demo.DemoSync(demo_db, every_seconds=3600, first_orders=3).start()
    try:
        older.shop.add_order(older.shop.make_order({s: older.shop.add_product(s) for s in skus(demo_db)}, older.shop.now()))
        assert [o["name"] for o in older.shop.orders.values()] == ["#1005"]
        numbers = _pull(demo_db)
        assert len(numbers) == len(set(numbers)) == 5
    finally:
        older.stop()


def test_the_demo_shop_moves_to_a_free_port_when_its_own_is_taken(demo_db, secret_store):
    first = demo.DemoSync(demo_db, every_seconds=3600, first_orders=2).start()
    port = first.shop.port
    first.stop()
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", port))  # another program took the port overnight
    squatter.listen()
    try:
        again = demo.DemoSync(demo_db, every_seconds=3600, first_orders=2).start()
        try:
            assert again.shop.port != port and not again.notes
            with demo_db.read() as s:
                assert {c.code: c for c in sync_store.connectors(s)}["shop"].base_url == again.shop.url
            assert sorted(_pull(demo_db)) == ["#1001", "#1002"]  # online, with its orders
        finally:
            again.stop()
    finally:
        squatter.close()


def test_the_demo_leaves_a_real_shop_alone_and_says_so_in_words(demo_db, secret_store):
    connect_shop(demo_db, "http://127.0.0.1:9", name="Harbor Web")
    d = demo.DemoSync(demo_db, every_seconds=3600).start()
    try:
        assert d.shop is None
        assert "Your own connection “Harbor Web” is set up where the demo shop would be; the demo shop stays off." in d.notes
    finally:
        d.stop()


def _status(code, role, name, *, online=True, since=None, waiting=0, failed=0, enabled=True, error=""):
    return sync_store.ConnectorStatus(code, role, "shopify" if role == "channel" else "easypost", name, enabled, online,
                                      since, None, error, 0, 0, waiting, failed)


def test_status_line_reads_like_the_journeys():
    from datetime import datetime

    from desktop.sync_worker import describe
    from oms.integration.sync_queries import SyncOverview

    nine_thirty = datetime.now().astimezone().replace(hour=9, minute=30, second=0, microsecond=0)
    shop, carrier = _status("web", "channel", "Web"), _status("ep", "carrier", "EasyPost")
    # What waits for this station is said in the Packing screen's words, not "ready to ship" (that is packed orders).
    assert describe(SyncOverview((carrier, shop), 0, 212))[:2] == ("Shop online · Carrier online · 212 orders waiting to be packed", "ok")
    assert describe(SyncOverview((carrier, shop), 0, 1))[0].endswith(" · 1 order waiting to be packed")
    offline = _status("web", "channel", "Web", online=False, since=nine_thirty, waiting=37)
    assert describe(SyncOverview((offline, carrier), 0, 212), now=nine_thirty)[:2] == (
        "Shop offline since 9:30 — 37 updates waiting · Carrier online · 212 orders waiting to be packed", "offline")
    quiet = _status("web", "channel", "Web", online=False, since=nine_thirty)
    assert describe(SyncOverview((quiet, carrier), 0, 0), now=nine_thirty)[:2] == (
        "Shop offline since 9:30 — 0 updates waiting · Carrier online · 0 orders waiting to be packed", "offline")
    refused = _status("ep", "carrier", "EasyPost", failed=2)
    assert describe(SyncOverview((offline, refused), 1, 5), now=nine_thirty)[:2] == (
        "Shop offline since 9:30 — 37 updates waiting · Carrier online (2 refused) · 1 unreadable · 5 orders waiting to be packed",
        "error")
    # The internet is down: shop and carrier offline say it once, as JOURNEYS.md 9:30 reads.
    carrier_off = _status("ep", "carrier", "EasyPost", online=False, since=nine_thirty.replace(minute=31), waiting=9)
    assert describe(SyncOverview((offline, carrier_off), 0, 212), now=nine_thirty)[:2] == (
        "Offline since 9:30 — 46 updates waiting · 212 orders waiting to be packed", "offline")
    assert describe(SyncOverview((quiet, _status("ep", "carrier", "EasyPost", online=False, since=nine_thirty),
                                  _status("ACME", "partner", "ACME Stores")), 0, 3), now=nine_thirty)[:2] == (
        "Offline since 9:30 — 0 updates waiting · EDI online · 3 orders waiting to be packed", "offline")
    # A trading partner's refused documents are for the Documents screen: no alarm at the bench.
    partner = _status("ACME", "partner", "ACME Stores", failed=1)
    assert describe(SyncOverview((shop, carrier, partner), 0, 6))[:2] == (
        "Shop online · Carrier online · EDI online · 6 orders waiting to be packed", "ok")
    two_shops = (_status("web", "channel", "Web"), _status("b2b", "channel", "Wholesale"), _status("x", "carrier", "Off", enabled=False))
    assert describe(SyncOverview(two_shops, 0, 0))[0] == "Web online · Wholesale online · 0 orders waiting to be packed"
    # Three shops or more, all well, are counted: the line must fit a 1366-pixel screen. One in trouble is named.
    three = (*two_shops, _status("amz", "channel", "Amazon US"), carrier)
    assert describe(SyncOverview(three, 0, 5))[:2] == ("3 shops online · Carrier online · 5 orders waiting to be packed", "ok")
    amazon_off = _status("amz", "channel", "Amazon US", online=False, since=nine_thirty, waiting=2)
    assert describe(SyncOverview((*two_shops, amazon_off, carrier), 0, 5), now=nine_thirty)[0] == (
        "Web online · Wholesale online · Amazon US offline since 9:30 — 2 updates waiting · Carrier online · "
        "5 orders waiting to be packed")
    assert describe(SyncOverview((), 0, 9))[:2] == ("", "ok")
    # A shop that refused our token: red, and what to do (the CLI and the Sync screen say it the same way).
    refused_token = _status("web", "channel", "Web", error="token refused by the shop: update it in Settings")
    assert describe(SyncOverview((refused_token, carrier), 0, 4))[:2] == (
        "Shop: token refused, update it in Settings · Carrier online · 4 orders waiting to be packed", "error")


def test_a_seeded_unreadable_edi_file_leaves_the_station_calm(demo_db, tmp_path):
    from desktop.sync_worker import describe

    assert demo.seed_edi(demo_db, str(tmp_path / "acme"))
    with demo_db.read() as s:
        assert any(q.connector == "ACME" for q in sync_store.quarantined(s))  # kept for the Documents screen
        overview = sync_queries.overview(s)
    text, state, _details = describe(overview)
    assert state == "ok" and "unreadable" not in text and text.startswith("EDI online · "), text


def test_the_status_bar_counts_what_waits_at_the_packing_bench(demo_db):
    """The count matches what the Packing screen would open: orders with picked units not yet packed."""
    from oms import fulfilment
    from oms import orders
    from oms.orders.models import OrderLine

    with demo_db.write() as s:  # Deshawn picks two orders into their totes
        for order_id in s.scalars(select(SalesOrder.id).where(SalesOrder.status == "allocated").order_by(SalesOrder.id).limit(2)):
            for line_id, allocated in s.execute(select(OrderLine.id, OrderLine.allocated).where(OrderLine.order_id == order_id)):
                orders.record_pick(s, ACTOR, line_id, allocated, bin=seed._bin_with(s, *s.execute(
                    select(OrderLine.product_id, Allocation.location_id).join(Allocation, Allocation.order_line_id == OrderLine.id)
                    .where(OrderLine.id == line_id)).one(), allocated))
    with demo_db.read() as s:
        overview = sync_queries.overview(s)
        ids = list(s.scalars(select(SalesOrder.id).where(SalesOrder.on_hold.is_(False))))
        at_the_bench = sum(1 for i in ids if any(line.expected > 0 for line in fulfilment.packing_view(s, i).lines))
        packed = s.scalar(select(func.count()).select_from(SalesOrder).where(SalesOrder.status == "packed"))
    assert overview.to_pack == at_the_bench == 2
    assert packed > 0  # packed orders wait for the carrier, not for the packer: not counted


def test_the_sync_screen_shows_a_marketplace_pass_waiting_on_its_rate_limit(qtbot, window, demo_db):
    """Amazon lets getOrderItems through 30 at once, then slowly: the Sync screen says how long and how many are left."""
    from sync.emulators.amazon import AmazonEmulator

    keys = ("amzn1.application-oa2-client.gui", "amzn1.oa2-cs.v1.gui", "Atzr|gui")
    with AmazonEmulator(client_id=keys[0], client_secret=keys[1], refresh_token=keys[2], time_scale=0.05) as amazon:
        amazon.seed_orders(36, skus(demo_db))
        with demo_db.write() as s:
            sync_store.add_connector(s, ACTOR, code="amz", role="channel", kind="amazon", name="Amazon US",
                                     base_url=amazon.url, interval_s=60)
        credentials.set_secret("amz", " ".join(keys))
        window.sync_worker.start()
        window.show_screen("sync")
        screen = window.sync_screen

        def state() -> str:
            rows = [r for r in range(screen.connectors.rowCount()) if screen.connectors.item(r, 0).text() == "Amazon US"]
            return screen.connectors.item(rows[0], 2).text() if rows else ""

        # 30 items at once, then one every 40 s: six orders wait for theirs.
        qtbot.waitUntil(lambda: "next request in" in state(), timeout=20_000)
        assert re.fullmatch(r"Online · next request in \d+ s, 6 orders to go", state()), state()
        window.sync_worker.stop()  # closing never waits out the bucket
        assert not window.sync_worker.running
