"""Settings → Trading partners: add and change a partner through its dialog, with item and ship-to codes; a refused
setting shows the domain's words in the dialog and saves nothing; an SFTP password goes to the secret store only."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import func, select

from oms.core.models import AuditEvent
from oms.integration import sync_queries
from oms.orders.models import Channel
from oms.partners import edi
from oms.partners.models import TradingPartner
from sync import credentials
from tests.desktop.helpers import open_window


@pytest.fixture(autouse=True)
def secret_store(tmp_path, monkeypatch):
    """Passwords in an encrypted file in this test's own config folder, never the developer's keyring."""
    monkeypatch.setenv("OMS_SECRET_STORE", "file")
    monkeypatch.setenv("OMS_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "config"


@pytest.fixture
def panel(qtbot, tasks, window_state):
    window = open_window(qtbot, tasks, window_state)
    window.show_screen("settings")
    window.settings_screen.show_partners()
    panel = window.settings_screen.partners
    qtbot.waitUntil(lambda: panel.empty.isVisible(), timeout=5_000)
    yield panel
    window.sync_worker.stop()


def fill_new_partner(qtbot, dialog, *, their_qualifier="ZZ", folder="/srv/edi/acme"):
    qtbot.keyClicks(dialog.code_edit, "ACME")
    qtbot.keyClicks(dialog.name_edit, "ACME Stores")
    dialog.their_qualifier.setEditText(their_qualifier)
    qtbot.keyClicks(dialog.their_id, "ACMESTORES")
    qtbot.keyClicks(dialog.our_id, "QUAYSIDE")
    dialog.tabs.setCurrentIndex(1)
    dialog.folder_edit.setText(folder)


def partner_count(db) -> int:
    with db.read() as s:
        return s.scalar(select(func.count()).select_from(TradingPartner))


def test_add_a_partner_with_item_and_ship_to_codes_then_change_it(qtbot, panel, demo_db):
    with demo_db.read() as s:
        sku, other_sku = sync_queries.demo_skus(s, 2)
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    dialog = panel.dialog
    qtbot.waitUntil(dialog.isVisible)
    fill_new_partner(qtbot, dialog)
    dialog.version.setCurrentIndex(dialog.version.findData("005010"))
    dialog.document_boxes["810"].setChecked(False)
    dialog.ack_hours.setValue(12)
    dialog.tabs.setCurrentIndex(2)
    qtbot.keyClicks(dialog.xref_code, "ACME-10442")
    qtbot.keyClicks(dialog.xref_sku, sku)
    qtbot.mouseClick(dialog.add_xref_button, Qt.MouseButton.LeftButton)
    assert dialog.xref_table.rowCount() == 1 and dialog.tabs.tabText(2) == "Items (1)"
    dialog.tabs.setCurrentIndex(3)
    for edit, value in ((dialog.st_code, "0014"), (dialog.st_name, "ACME DC 14"), (dialog.st_city, "Sparks"),
                        (dialog.st_region, "NV"), (dialog.st_postal, "89431")):
        qtbot.keyClicks(edit, value)
    qtbot.mouseClick(dialog.add_ship_to_button, Qt.MouseButton.LeftButton)
    assert dialog.ship_to_table.rowCount() == 1
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5_000)

    with demo_db.read() as s:
        p = edi.partner(s, "ACME")
        assert (p.name, p.their_qualifier, p.their_id, p.our_id, p.version, p.documents, p.ack_timeout_h) == (
            "ACME Stores", "ZZ", "ACMESTORES", "QUAYSIDE", "005010", ("850", "860", "855", "856", "997"), 12)
        assert p.transport == {"kind": "folder", "path": "/srv/edi/acme"}
        assert edi.item_xrefs(s, p.id) == [edi.ItemXrefInfo("BP", "ACME-10442", sku)]
        assert [(st.code, st.city) for st in edi.ship_tos(s, p.id)] == [("0014", "Sparks")]
        assert s.scalar(select(Channel.default_order_type).where(Channel.code == "ACME")) == "wholesale"
    qtbot.waitUntil(lambda: panel.table.rowCount() == 1, timeout=5_000)
    assert panel.table.item(0, 0).text() == "ACME" and panel.table.item(0, 5).text() == "/srv/edi/acme"

    # Edit: the dialog opens with what is stored; a changed name, a code removed and one added, saved together.
    panel.table.selectRow(0)
    qtbot.mouseClick(panel.edit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.dialog is not dialog and panel.dialog.isVisible(), timeout=5_000)
    edit = panel.dialog
    assert edit.code_edit.isReadOnly() and edit.their_id.text() == "ACMESTORES" and edit.ack_hours.value() == 12
    assert edit.xref_table.rowCount() == 1 and edit.ship_to_table.rowCount() == 1
    edit.name_edit.setText("ACME Stores West")
    edit.xref_table.selectRow(0)
    qtbot.mouseClick(edit.remove_xref_button, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(edit.xref_code, "ACME-20001")
    qtbot.keyClicks(edit.xref_sku, other_sku)
    qtbot.mouseClick(edit.add_xref_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(edit.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not edit.isVisible(), timeout=5_000)
    with demo_db.read() as s:
        p = edi.partner(s, "ACME")
        assert p.name == "ACME Stores West"
        assert edi.item_xrefs(s, p.id) == [edi.ItemXrefInfo("BP", "ACME-20001", other_sku)]
        actions = list(s.scalars(select(AuditEvent.action).where(AuditEvent.action.like("edi.%")).order_by(AuditEvent.id)))
    assert actions == ["edi.partner_added", "edi.item_xref_added", "edi.ship_to_added", "edi.partner_changed",
                       "edi.item_xref_removed", "edi.item_xref_added"]


def test_a_bad_qualifier_is_refused_in_the_dialog_and_nothing_is_written(qtbot, panel, demo_db):
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    dialog = panel.dialog
    fill_new_partner(qtbot, dialog, their_qualifier="Z")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.error_label.isVisible(), timeout=5_000)
    assert dialog.error_label.text() == "The partner's ISA qualifier must be two characters (e.g. ZZ, 01, 08, 12), not 'Z'."
    assert dialog.isVisible() and dialog.save_button.isEnabled()
    assert partner_count(demo_db) == 0
    with demo_db.read() as s:
        assert s.scalar(select(Channel.id).where(Channel.code == "ACME")) is None

    # The partner is fine but one of its item codes names a SKU we do not have: still nothing is half-saved.
    dialog.their_qualifier.setEditText("ZZ")
    dialog.tabs.setCurrentIndex(2)
    qtbot.keyClicks(dialog.xref_code, "ACME-1")
    qtbot.keyClicks(dialog.xref_sku, "NO-SUCH-SKU")
    qtbot.mouseClick(dialog.add_xref_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "NO-SUCH-SKU" in dialog.error_label.text(), timeout=5_000)
    assert partner_count(demo_db) == 0

    # A folder is needed before the domain is even asked.
    dialog.folder_edit.clear()
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.error_label.text() == "Choose the folder the partner's files travel through (Connection)."


def test_an_sftp_password_goes_to_the_secret_store_not_the_database(qtbot, panel, demo_db):
    password = "s3cret-SFTP-do-not-store"
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    dialog = panel.dialog
    fill_new_partner(qtbot, dialog)
    dialog.transport_kind.setCurrentIndex(dialog.transport_kind.findData("sftp"))
    assert dialog.transport_stack.currentIndex() == 1
    qtbot.keyClicks(dialog.host_edit, "sftp.acme.example")
    dialog.port_spin.setValue(2222)
    qtbot.keyClicks(dialog.user_edit, "quayside")
    qtbot.keyClicks(dialog.inbox_edit, "/outbound")
    qtbot.keyClicks(dialog.outbox_edit, "/inbound")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.error_label.text() == "Give the SFTP password, or a key file (Connection)."
    qtbot.keyClicks(dialog.password_edit, password)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5_000)
    assert credentials.get_secret("edi-sftp:ACME") == password
    with demo_db.read() as s:
        p = edi.partner(s, "ACME")
    assert p.transport == {"kind": "sftp", "host": "sftp.acme.example", "port": 2222, "user": "quayside",
                           "inbox": "/outbound", "outbox": "/inbound"}
    qtbot.waitUntil(lambda: panel.table.rowCount() == 1, timeout=5_000)
    assert panel.table.item(0, 5).text() == "SFTP quayside@sftp.acme.example:2222"

    # Editing says a password is stored and never shows it; leaving the field empty keeps it.
    panel.table.selectRow(0)
    qtbot.mouseClick(panel.edit_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.dialog is not dialog and "A password is stored" in panel.dialog.password_edit.placeholderText(),
                    timeout=5_000)
    edit = panel.dialog
    assert edit.password_edit.text() == "" and edit.host_edit.text() == "sftp.acme.example"
    qtbot.mouseClick(edit.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not edit.isVisible(), timeout=5_000)
    assert credentials.get_secret("edi-sftp:ACME") == password

    demo_db.dispose()  # everything on disk, WAL included
    from pathlib import Path

    path = Path(demo_db.url.removeprefix("sqlite:///"))
    stored = b"".join(p.read_bytes() for p in path.parent.glob("demo.sqlite3*"))
    assert password.encode() not in stored
