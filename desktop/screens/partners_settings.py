"""Settings → Trading partners: the EDI partners, and a dialog to add or change one with its item and ship-to codes.

A dialog saves everything it holds in one transaction (the partner, the cross-references
added and removed, the ship-to codes), so a refusal leaves nothing half-saved; the
domain's own message is shown in the dialog. An SFTP password goes to the secret store
under ``edi-sftp:<code>``, never to the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from desktop.qt import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    Qt,
    QTabWidget,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.tables import cell, fill_table, read_only_table, selected_key
from desktop.tasks import Tasks
from oms.core.audit import Actor
from oms.partners import edi
from oms.partners.edi import ItemXrefInfo, PartnerInfo, ShipToInfo
from oms.partners.edi_queries import type_title
from sync import credentials
from sync.channels.edi_x12 import transports

ISA_QUALIFIERS = (("ZZ", "ZZ mutually defined"), ("01", "01 DUNS"), ("08", "08 UCC EDI comm. id"), ("12", "12 phone number"),
                  ("14", "14 DUNS + suffix"), ("16", "16 DUNS + 4 digits"))
ITEM_QUALIFIERS = (("UP", "UP  UPC"), ("EN", "EN  EAN / GTIN-13"), ("UK", "UK  GTIN-14"), ("VN", "VN  our SKU"),
                   ("BP", "BP  the buyer's part number"))


def describe_transport(transport: dict) -> str:
    if transport.get("kind") == "sftp":
        return f"SFTP {transport.get('user', '')}@{transport.get('host', '')}:{transport.get('port', 22)}"
    return transport.get("path") or "—"


@dataclass
class PartnerChanges:
    """What a dialog asks to save: the partner's settings and its code lists' additions and removals."""

    code: str
    values: dict
    password: str = ""  # "" keeps the stored one
    xrefs_added: list[ItemXrefInfo] = field(default_factory=list)
    xrefs_removed: list[tuple[str, str]] = field(default_factory=list)
    ship_tos_added: list[ShipToInfo] = field(default_factory=list)
    ship_tos_removed: list[str] = field(default_factory=list)


def save_partner(session, actor: Actor, partner_id: int | None, changes: PartnerChanges) -> str:
    """Everything a dialog holds, in the caller's transaction; the password last, after the database accepted all."""
    if partner_id is None:
        partner_id = transports.add_partner(session, actor, code=changes.code, **changes.values)
    else:
        transports.update_partner(session, actor, partner_id, **changes.values)
    for qualifier, code in changes.xrefs_removed:
        edi.remove_item_xref(session, actor, partner_id, qualifier, code)
    for x in changes.xrefs_added:
        edi.add_item_xref(session, partner_id, x.qualifier, x.code, x.sku, actor=actor)
    for code in changes.ship_tos_removed:
        edi.remove_ship_to(session, actor, partner_id, code)
    for st in changes.ship_tos_added:
        edi.add_ship_to(session, partner_id, st.code, st.name, address1=st.address1, city=st.city, region=st.region,
                        postal_code=st.postal_code, country=st.country or "US", actor=actor)
    session.flush()
    if changes.password:
        credentials.set_secret(credentials.sftp_secret_name(changes.code), changes.password)
    return changes.code


def _line(name: str, text: str = "", *, placeholder: str = "", max_length: int = 0, width: int = 0) -> QLineEdit:
    w = QLineEdit(text)
    w.setObjectName(name)
    if placeholder:
        w.setPlaceholderText(placeholder)
    if max_length:
        w.setMaxLength(max_length)
    if width:
        w.setMaximumWidth(width)
    return w


def _combo(name: str, choices, current: str = "", *, editable: bool = False) -> QComboBox:
    c = QComboBox()
    c.setObjectName(name)
    c.setEditable(editable)
    for value, label in choices:
        c.addItem(label, value)
    i = c.findData(current)
    if i >= 0:
        c.setCurrentIndex(i)
    elif editable and current:
        c.setEditText(current)
    return c


def _combo_value(c: QComboBox) -> str:
    """The chosen code; an edited combo gives what was typed (its first word, so 'ZZ mutually defined' is ZZ)."""
    if c.isEditable():
        text = c.currentText().strip()
        i = c.findText(text)
        if i >= 0 and c.itemData(i) is not None:
            return c.itemData(i)
        return text.split(" ")[0] if text else ""
    return c.currentData() or ""


def _hint(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("hint")
    label.setWordWrap(True)
    return label


class PartnerDialog(QDialog):
    """Add a trading partner, or change one: identities, delimiters, documents, transport, item and ship-to codes."""

    def __init__(self, parent: QWidget | None, existing: PartnerInfo | None = None, xrefs: list[ItemXrefInfo] = (),
                 ship_tos: list[ShipToInfo] = ()) -> None:
        super().__init__(parent)
        self.existing = existing
        self.xrefs = list(xrefs)
        self.ship_tos = list(ship_tos)
        self.xrefs_removed: list[tuple[str, str]] = []
        self.ship_tos_removed: list[str] = []
        self._saved_xrefs = {(x.qualifier, x.code) for x in xrefs}
        self._saved_ship_tos = {s.code for s in ship_tos}
        self.setObjectName("partnerDialog")
        self.setWindowTitle(self.tr("Add a trading partner") if existing is None
                            else self.tr("Trading partner {code}").format(code=existing.code))
        self.setMinimumSize(640, 560)
        p = existing

        self.tabs = QTabWidget()
        self.tabs.setObjectName("partnerTabs")
        self.tabs.addTab(self._identity_tab(p), self.tr("Partner"))
        self.tabs.addTab(self._transport_tab(p), self.tr("Connection"))
        self.tabs.addTab(self._items_tab(), self.tr("Items ({n})").format(n=len(self.xrefs)))
        self.tabs.addTab(self._ship_to_tab(), self.tr("Ship-to codes ({n})").format(n=len(self.ship_tos)))

        self.error_label = QLabel()
        self.error_label.setObjectName("lookupMessage")
        self.error_label.setProperty("error", "true")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.addButton(self.tr("Add partner") if p is None else self.tr("Save"),
                                                  QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setObjectName("primaryButton")
        self.save_button.setDefault(True)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAutoDefault(False)  # Return never cancels
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setSpacing(10)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self._show_xrefs()
        self._show_ship_tos()
        (self.name_edit if p is not None else self.code_edit).setFocus()

    # -- the tabs ---------------------------------------------------------------------------------

    def _identity_tab(self, p: PartnerInfo | None) -> QWidget:
        w = QWidget()
        form = QFormLayout(w)
        form.setSpacing(8)
        self.code_edit = _line("partnerCode", p.code if p else "", placeholder=self.tr("short, no spaces, e.g. ACME"),
                               max_length=64, width=220)
        if p is not None:
            self.code_edit.setReadOnly(True)
            self.code_edit.setToolTip(self.tr("The code names the partner's channel and files; it cannot change."))
        self.name_edit = _line("partnerName", p.name if p else "", placeholder=self.tr("e.g. ACME Stores"), max_length=200)
        self.their_qualifier = _combo("theirQualifier", ISA_QUALIFIERS, p.their_qualifier if p else "ZZ", editable=True)
        self.their_id = _line("theirId", p.their_id if p else "", placeholder=self.tr("their ISA sender id"), max_length=15)
        self.our_qualifier = _combo("ourQualifier", ISA_QUALIFIERS, p.our_qualifier if p else "ZZ", editable=True)
        self.our_id = _line("ourId", p.our_id if p else "", placeholder=self.tr("our ISA id, as the partner knows us"),
                            max_length=15)
        self.their_gs = _line("theirGsId", p.their_gs_id if p and p.their_gs_id != p.their_id else "",
                              placeholder=self.tr("same as their ISA id"), max_length=15)
        self.our_gs = _line("ourGsId", p.our_gs_id if p and p.our_gs_id != p.our_id else "",
                            placeholder=self.tr("same as our ISA id"), max_length=15)
        self.version = _combo("x12Version", [(v, v) for v in edi.VERSIONS], p.version if p else "004010")
        delims = (p.element_sep + p.segment_term + p.component_sep + p.repetition_sep) if p else "*~>^"
        self.delimiter_edits = []
        delim_row = QHBoxLayout()
        delim_row.setSpacing(6)
        for i, (name, label) in enumerate((("elementSep", self.tr("element")), ("segmentSep", self.tr("segment")),
                                           ("componentSep", self.tr("component")), ("repetitionSep", self.tr("repetition")))):
            e = _line(name, delims[i], max_length=1, width=44)
            e.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.delimiter_edits.append(e)
            delim_row.addWidget(e)
            delim_row.addWidget(QLabel(label))
            delim_row.addSpacing(6)
        delim_row.addStretch(1)
        chosen = set(p.documents) if p else set(edi.DOCUMENT_TYPES)
        self.document_boxes: dict[str, QCheckBox] = {}
        docs = QGridLayout()
        docs.setHorizontalSpacing(18)
        docs.setVerticalSpacing(4)
        directions = {"850": self.tr("they send"), "860": self.tr("they send"), "855": self.tr("we send"), "856": self.tr("we send"),
                      "810": self.tr("we send"), "997": self.tr("both ways")}
        for d in edi.DOCUMENT_TYPES:
            box = QCheckBox(f"{type_title(d)}  ({directions[d]})")
            box.setObjectName(f"document{d}")
            box.setChecked(d in chosen)
            self.document_boxes[d] = box
            i = len(self.document_boxes) - 1
            docs.addWidget(box, i // 2, i % 2)
        self.item_qualifier = _combo("itemQualifier", ITEM_QUALIFIERS, p.item_qualifier if p else "UP", editable=True)
        self.usage = QComboBox()
        self.usage.setObjectName("usage")
        self.usage.addItem(self.tr("Production (P)"), "P")
        self.usage.addItem(self.tr("Test (T)"), "T")
        self.usage.setCurrentIndex(1 if p and p.usage == "T" else 0)
        self.ack_hours = QSpinBox()
        self.ack_hours.setObjectName("ackHours")
        self.ack_hours.setRange(1, edi.MAX_ACK_TIMEOUT_H)
        self.ack_hours.setSuffix(self.tr(" hours"))
        self.ack_hours.setValue(p.ack_timeout_h if p else 24)

        for narrow in (self.version, self.item_qualifier, self.usage, self.ack_hours):
            narrow.setMaximumWidth(260)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

        def pair(combo: QComboBox, edit: QLineEdit) -> QHBoxLayout:
            row = QHBoxLayout()
            row.setSpacing(6)
            combo.setMaximumWidth(200)
            row.addWidget(combo)
            row.addWidget(edit, 1)
            return row

        form.addRow(self.tr("Code"), self.code_edit)
        form.addRow(self.tr("Name"), self.name_edit)
        form.addRow(self.tr("Their ISA id"), pair(self.their_qualifier, self.their_id))
        form.addRow(self.tr("Our ISA id"), pair(self.our_qualifier, self.our_id))
        form.addRow(self.tr("Their GS id"), self.their_gs)
        form.addRow(self.tr("Our GS id"), self.our_gs)
        form.addRow(self.tr("X12 version"), self.version)
        form.addRow(self.tr("Delimiters"), delim_row)
        form.addRow(self.tr("Documents"), docs)
        form.addRow(self.tr("Items named by"), self.item_qualifier)
        form.addRow(self.tr("Usage"), self.usage)
        form.addRow(self.tr("Acknowledged within"), self.ack_hours)
        return w

    def _transport_tab(self, p: PartnerInfo | None) -> QWidget:
        t = dict(p.transport) if p else {"kind": "folder"}
        w = QWidget()
        layout = QVBoxLayout(w)
        layout.setSpacing(10)
        self.transport_kind = QComboBox()
        self.transport_kind.setObjectName("transportKind")
        self.transport_kind.addItem(self.tr("A folder (shared drive, or synced by another program)"), "folder")
        self.transport_kind.addItem(self.tr("The partner's SFTP server"), "sftp")
        self.transport_kind.setCurrentIndex(1 if t.get("kind") == "sftp" else 0)
        kind_row = QFormLayout()
        kind_row.addRow(self.tr("Files travel through"), self.transport_kind)
        layout.addLayout(kind_row)

        folder = QWidget()
        ff = QFormLayout(folder)
        ff.setContentsMargins(0, 0, 0, 0)
        self.folder_edit = _line("folderPath", t.get("path", "") if t.get("kind") != "sftp" else "",
                                 placeholder=self.tr("e.g. /srv/edi/acme"))
        self.browse_folder = QPushButton(self.tr("Browse…"))
        self.browse_folder.setObjectName("browseFolder")
        row = QHBoxLayout()
        row.addWidget(self.folder_edit, 1)
        row.addWidget(self.browse_folder)
        ff.addRow(self.tr("Folder"), row)
        ff.addRow("", _hint(self.tr("Quayside takes the partner's files from inbox/ in this folder (and files them under "
                                    "archive/ or error/), and leaves ours in outbox/.")))

        sftp = QWidget()
        sf = QFormLayout(sftp)
        sf.setContentsMargins(0, 0, 0, 0)
        is_sftp = t.get("kind") == "sftp"
        self.host_edit = _line("sftpHost", t.get("host", "") if is_sftp else "", placeholder=self.tr("e.g. sftp.acme.example"))
        self.port_spin = QSpinBox()
        self.port_spin.setObjectName("sftpPort")
        self.port_spin.setRange(1, 65535)
        self.port_spin.setValue(int(t.get("port", 22)) if is_sftp else 22)
        self.user_edit = _line("sftpUser", t.get("user", "") if is_sftp else "", max_length=64)
        self.key_edit = _line("sftpKey", t.get("key_file", "") if is_sftp else "",
                              placeholder=self.tr("private key file (or leave empty and use a password)"))
        self.browse_key = QPushButton(self.tr("Browse…"))
        self.browse_key.setObjectName("browseKey")
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(self.browse_key)
        self.password_edit = _line("sftpPassword")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setInputMethodHints(Qt.InputMethodHint.ImhSensitiveData | Qt.InputMethodHint.ImhNoPredictiveText)
        self.password_edit.setPlaceholderText(self.tr("password, or the key's passphrase"))
        self.inbox_edit = _line("sftpInbox", t.get("inbox", "") if is_sftp else "", placeholder="/outbound")
        self.outbox_edit = _line("sftpOutbox", t.get("outbox", "") if is_sftp else "", placeholder="/inbound")
        host_row = QHBoxLayout()
        host_row.addWidget(self.host_edit, 1)
        host_row.addWidget(QLabel(self.tr("port")))
        host_row.addWidget(self.port_spin)
        sf.addRow(self.tr("Server"), host_row)
        sf.addRow(self.tr("User"), self.user_edit)
        sf.addRow(self.tr("Key file"), key_row)
        sf.addRow(self.tr("Password"), self.password_edit)
        sf.addRow(self.tr("Their files are in"), self.inbox_edit)
        sf.addRow(self.tr("Our files go to"), self.outbox_edit)
        sf.addRow("", _hint(self.tr("The password is kept in the token store, never in the database.")))

        self.transport_stack = QStackedWidget()
        self.transport_stack.addWidget(folder)
        self.transport_stack.addWidget(sftp)
        self.transport_stack.setCurrentIndex(self.transport_kind.currentIndex())
        layout.addWidget(self.transport_stack)
        layout.addStretch(1)
        self.transport_kind.currentIndexChanged.connect(self.transport_stack.setCurrentIndex)
        self.browse_folder.clicked.connect(self._browse_folder)
        self.browse_key.clicked.connect(self._browse_key)
        return w

    def _items_tab(self) -> QWidget:
        w = QWidget()
        layout = QVBoxLayout(w)
        layout.setSpacing(8)
        layout.addWidget(_hint(self.tr("The partner's own codes for our products, when they order by a code that is not "
                                       "our SKU or a barcode we know.")))
        self.xref_table = read_only_table("xrefTable", [self.tr("Qualifier"), self.tr("Their code"), self.tr("Our SKU")], 2,
                                          row_height=28)
        layout.addWidget(self.xref_table, 1)
        self.xref_qualifier = _combo("xrefQualifier", ITEM_QUALIFIERS, "BP", editable=True)
        self.xref_qualifier.setMaximumWidth(220)
        self.xref_code = _line("xrefCode", placeholder=self.tr("their code"), max_length=64)
        self.xref_sku = _line("xrefSku", placeholder=self.tr("our SKU"), max_length=64)
        self.add_xref_button = QPushButton(self.tr("Add"))
        self.add_xref_button.setObjectName("addXref")
        self.remove_xref_button = QPushButton(self.tr("Remove"))
        self.remove_xref_button.setObjectName("removeXref")
        self.remove_xref_button.setProperty("danger", "true")
        row = QHBoxLayout()
        row.setSpacing(6)
        for widget in (self.xref_qualifier, self.xref_code, self.xref_sku, self.add_xref_button):
            row.addWidget(widget)
        row.addStretch(1)
        row.addWidget(self.remove_xref_button)
        layout.addLayout(row)
        self.add_xref_button.clicked.connect(self.add_xref)
        self.remove_xref_button.clicked.connect(self.remove_xref)
        self.xref_sku.returnPressed.connect(self.add_xref)
        return w

    def _ship_to_tab(self) -> QWidget:
        w = QWidget()
        layout = QVBoxLayout(w)
        layout.setSpacing(8)
        layout.addWidget(_hint(self.tr("What the partner's ship-to codes (N1*ST…*92*code) stand for: a purchase order that "
                                       "names only a code ships to this address.")))
        self.ship_to_table = read_only_table("shipToTable", [self.tr("Code"), self.tr("Name"), self.tr("Address")], 2,
                                             row_height=28)
        layout.addWidget(self.ship_to_table, 1)
        self.st_code = _line("shipToCode", placeholder=self.tr("code"), max_length=64, width=90)
        self.st_name = _line("shipToName", placeholder=self.tr("name, e.g. ACME DC 14"), max_length=200)
        self.st_address = _line("shipToAddress", placeholder=self.tr("street"), max_length=300)
        self.st_city = _line("shipToCity", placeholder=self.tr("city"), max_length=200)
        self.st_region = _line("shipToRegion", placeholder=self.tr("state"), max_length=64, width=70)
        self.st_postal = _line("shipToPostal", placeholder=self.tr("ZIP"), max_length=64, width=80)
        self.st_country = _line("shipToCountry", "US", max_length=2, width=50)
        self.add_ship_to_button = QPushButton(self.tr("Add"))
        self.add_ship_to_button.setObjectName("addShipTo")
        self.remove_ship_to_button = QPushButton(self.tr("Remove"))
        self.remove_ship_to_button.setObjectName("removeShipTo")
        self.remove_ship_to_button.setProperty("danger", "true")
        first = QHBoxLayout()
        first.setSpacing(6)
        for widget in (self.st_code, self.st_name, self.st_address):
            first.addWidget(widget)
        second = QHBoxLayout()
        second.setSpacing(6)
        for widget in (self.st_city, self.st_region, self.st_postal, self.st_country, self.add_ship_to_button):
            second.addWidget(widget)
        second.addStretch(1)
        second.addWidget(self.remove_ship_to_button)
        layout.addLayout(first)
        layout.addLayout(second)
        self.add_ship_to_button.clicked.connect(self.add_ship_to)
        self.remove_ship_to_button.clicked.connect(self.remove_ship_to)
        return w

    # -- the code lists ------------------------------------------------------------------------------

    def _show_xrefs(self) -> None:
        fill_table(self.xref_table, [[cell(x.qualifier), cell(x.code, bold=True), cell(x.sku)] for x in self.xrefs],
                   [(x.qualifier, x.code) for x in self.xrefs])
        self.tabs.setTabText(2, self.tr("Items ({n})").format(n=len(self.xrefs)))
        self.remove_xref_button.setEnabled(bool(self.xrefs))

    def _show_ship_tos(self) -> None:
        fill_table(self.ship_to_table, [[cell(s.code, bold=True), cell(s.name), cell(", ".join(
            v for v in (s.address1, s.city, f"{s.region} {s.postal_code}".strip(), s.country) if v))] for s in self.ship_tos],
                   [s.code for s in self.ship_tos])
        self.tabs.setTabText(3, self.tr("Ship-to codes ({n})").format(n=len(self.ship_tos)))
        self.remove_ship_to_button.setEnabled(bool(self.ship_tos))

    def add_xref(self) -> None:
        q, code, sku = _combo_value(self.xref_qualifier).upper(), self.xref_code.text().strip(), self.xref_sku.text().strip()
        if not code or not sku:
            self.show_error(self.tr("Give the partner's code and our SKU."))
            return
        if any((x.qualifier, x.code) == (q, code) for x in self.xrefs):
            self.show_error(self.tr("{q} {code} is in the list already.").format(q=q, code=code))
            return
        self.xrefs.append(ItemXrefInfo(q, code, sku))
        if (q, code) in self.xrefs_removed:
            self.xrefs_removed.remove((q, code))
        self.xref_code.clear()
        self.xref_sku.clear()
        self.xref_code.setFocus()
        self.show_error("")
        self._show_xrefs()

    def remove_xref(self) -> None:
        key = selected_key(self.xref_table)
        if key is None:
            return
        self.xrefs = [x for x in self.xrefs if (x.qualifier, x.code) != tuple(key)]
        if tuple(key) in self._saved_xrefs:
            self.xrefs_removed.append(tuple(key))
        self._show_xrefs()

    def add_ship_to(self) -> None:
        code, name = self.st_code.text().strip(), self.st_name.text().strip()
        if not code or not name:
            self.show_error(self.tr("A ship-to code needs its code and a name."))
            return
        if any(s.code == code for s in self.ship_tos):
            self.show_error(self.tr("Ship-to code {code} is in the list already.").format(code=code))
            return
        self.ship_tos.append(ShipToInfo(code, name, self.st_address.text().strip(), self.st_city.text().strip(),
                                        self.st_region.text().strip(), self.st_postal.text().strip(),
                                        self.st_country.text().strip().upper() or "US"))
        if code in self.ship_tos_removed:
            self.ship_tos_removed.remove(code)
        for e in (self.st_code, self.st_name, self.st_address, self.st_city, self.st_region, self.st_postal):
            e.clear()
        self.st_code.setFocus()
        self.show_error("")
        self._show_ship_tos()

    def remove_ship_to(self) -> None:
        key = selected_key(self.ship_to_table)
        if key is None:
            return
        self.ship_tos = [s for s in self.ship_tos if s.code != key]
        if key in self._saved_ship_tos:
            self.ship_tos_removed.append(key)
        self._show_ship_tos()

    # -- file choosers ---------------------------------------------------------------------------------

    def _browse_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, self.tr("The partner's EDI folder"), self.folder_edit.text() or str(Path.home()))
        if path:
            self.folder_edit.setText(path)

    def _browse_key(self) -> None:
        path, _f = QFileDialog.getOpenFileName(self, self.tr("Private key file"), self.key_edit.text() or str(Path.home() / ".ssh"))
        if path:
            self.key_edit.setText(path)

    # -- what to save ------------------------------------------------------------------------------------

    def set_has_password(self, stored: bool) -> None:
        self.password_edit.setPlaceholderText(self.tr("A password is stored — type a new one only to replace it") if stored
                                              else self.tr("password, or the key's passphrase"))

    def show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))
        self.save_button.setEnabled(True)

    def transport(self) -> dict:
        if self.transport_kind.currentData() == "sftp":
            t = {"kind": "sftp", "host": self.host_edit.text().strip(), "port": self.port_spin.value(),
                 "user": self.user_edit.text().strip(), "inbox": self.inbox_edit.text().strip(),
                 "outbox": self.outbox_edit.text().strip()}
            if self.key_edit.text().strip():
                t["key_file"] = self.key_edit.text().strip()
            if self.existing is not None and self.existing.transport.get("kind") == "sftp":
                for keep in ("archive", "error"):  # set on the command line; the dialog leaves them be
                    if self.existing.transport.get(keep):
                        t[keep] = self.existing.transport[keep]
            return t
        return {"kind": "folder", "path": self.folder_edit.text().strip()}

    def check(self) -> str:
        """What must be filled in before the domain is asked at all; "" when the form is complete."""
        t = self.transport()
        if t["kind"] == "folder" and not t["path"]:
            return self.tr("Choose the folder the partner's files travel through (Connection).")
        if t["kind"] == "sftp" and not t.get("key_file") and not self.password_edit.text() and not (
                self.existing is not None and self.existing.transport.get("kind") == "sftp"):
            return self.tr("Give the SFTP password, or a key file (Connection).")
        return ""

    def changes(self) -> PartnerChanges:
        delimiters = "".join(e.text() for e in self.delimiter_edits)
        values = dict(
            name=self.name_edit.text().strip(), their_qualifier=_combo_value(self.their_qualifier),
            their_id=self.their_id.text().strip(), our_qualifier=_combo_value(self.our_qualifier),
            our_id=self.our_id.text().strip(), their_gs_id=self.their_gs.text().strip() or None,
            our_gs_id=self.our_gs.text().strip() or None, version=self.version.currentData(), delimiters=delimiters,
            documents=",".join(d for d, box in self.document_boxes.items() if box.isChecked()),
            item_qualifier=_combo_value(self.item_qualifier), usage=self.usage.currentData(),
            transport=self.transport(), ack_timeout_h=self.ack_hours.value())
        added_x = [x for x in self.xrefs if (x.qualifier, x.code) not in self._saved_xrefs]
        added_s = [s for s in self.ship_tos if s.code not in self._saved_ship_tos]
        return PartnerChanges(self.code_edit.text().strip(), values, self.password_edit.text(), added_x,
                              list(self.xrefs_removed), added_s, list(self.ship_tos_removed))


class PartnersPanel(QWidget):
    """The trading partners, with Add partner… and Edit…; a saved change emits ``changed`` (sync restarts)."""

    changed = Signal()
    message = Signal(str)
    loaded = Signal()

    def __init__(self, tasks: Tasks, actor: Actor, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("partnersPanel")
        self.tasks = tasks
        self.actor = actor
        self.partners: list[PartnerInfo] = []
        self.dialog: PartnerDialog | None = None

        self.table = read_only_table("partnersTable", [
            self.tr("Code"), self.tr("Name"), self.tr("Their ISA id"), self.tr("Our ISA id"), self.tr("X12"),
            self.tr("Files travel through"), self.tr("Documents"), self.tr("Ack within")], 5, row_height=30)
        self.add_button = QPushButton(self.tr("Add partner…"))
        self.add_button.setObjectName("addPartner")
        self.edit_button = QPushButton(self.tr("Edit…"))
        self.edit_button.setObjectName("editPartner")
        self.empty = _hint(self.tr("No trading partners yet. A wholesale customer who sends purchase orders by EDI (X12 850) "
                                   "is added here: their ISA id, the documents you exchange, and the folder or SFTP server "
                                   "the files travel through."))
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.edit_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        layout.setSpacing(10)
        layout.addWidget(_hint(self.tr("Wholesale customers who exchange X12 documents with Quayside. Their purchase orders "
                                       "arrive as orders on a channel of the same code; what was exchanged is on the "
                                       "Documents screen.")))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addLayout(buttons)

        self.add_button.clicked.connect(lambda: self.open_dialog(None))
        self.edit_button.clicked.connect(self.edit_selected)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(lambda _ix: self.edit_selected())
        self._update_buttons()

    def refresh(self) -> None:
        def done(rows: list[PartnerInfo]) -> None:
            self.partners = rows
            self._show()
            self.loaded.emit()

        self.tasks.read(edi.partners, done, self.message.emit, owner=self, latest="partners")

    def _show(self) -> None:
        fill_table(self.table, [[
            cell(p.code, bold=True), cell(p.name), cell(f"{p.their_qualifier}/{p.their_id}"), cell(f"{p.our_qualifier}/{p.our_id}"),
            cell(p.version), cell(describe_transport(p.transport), tip=describe_transport(p.transport)),
            cell(", ".join(p.documents)), cell(self.tr("{n} h").format(n=p.ack_timeout_h), right=True),
        ] for p in self.partners], [p.id for p in self.partners])
        self.empty.setVisible(not self.partners)
        self._update_buttons()

    def selected(self) -> PartnerInfo | None:
        key = selected_key(self.table)
        return next((p for p in self.partners if p.id == key), None) if self.table.selectedItems() else None

    def _update_buttons(self) -> None:
        self.edit_button.setEnabled(self.selected() is not None)

    def edit_selected(self) -> None:
        p = self.selected()
        if p is None:
            return
        self.tasks.read(lambda s: (edi.item_xrefs(s, p.id), edi.ship_tos(s, p.id)),
                        lambda lists: self.open_dialog(p, *lists), self.message.emit, owner=self)

    def open_dialog(self, existing: PartnerInfo | None, xrefs=(), ship_tos=()) -> PartnerDialog:
        dialog = PartnerDialog(self, existing, list(xrefs), list(ship_tos))
        dialog.save_button.clicked.connect(lambda: self._save(dialog))
        dialog.finished.connect(lambda _r: dialog.deleteLater())
        self.dialog = dialog
        if existing is not None and existing.transport.get("kind") == "sftp":
            code = existing.code
            self.tasks.background(lambda: bool(credentials.get_secret(credentials.sftp_secret_name(code))), dialog.set_has_password,
                                  lambda _m: None, owner=dialog)
        dialog.open()
        return dialog

    def _save(self, dialog: PartnerDialog) -> None:
        dialog.show_error("")
        problem = dialog.check()
        if problem:
            dialog.show_error(problem)
            return
        dialog.save_button.setEnabled(False)
        changes = dialog.changes()
        actor = self.actor
        partner_id = dialog.existing.id if dialog.existing is not None else None

        def saved(code: str) -> None:
            dialog.accept()
            self.message.emit(self.tr("Trading partner {code} saved.").format(code=code) if partner_id is not None
                              else self.tr("Trading partner {code} added; its orders arrive on channel {code}.").format(code=code))
            self.refresh()
            self.changed.emit()

        self.tasks.write(lambda s: save_partner(s, actor, partner_id, changes), saved, dialog.show_error, owner=dialog)
