"""The Settings screen: this station's name and user, the shop and carrier connections with their tokens, and EDI trading partners.

Tokens go straight to ``sync.credentials`` (the OS keyring, or an encrypted file where
there is none): never to the database, the settings file or a log, and never shown
back. The screen says which store holds them and whether each connection has one.
"""

from __future__ import annotations

from dataclasses import dataclass

from desktop import formatting as fmt
from desktop import roles
from desktop.qt import (
    QAbstractItemView,
    QComboBox,
    QCoreApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.screen import NoScanScreen
from desktop.screens.database_settings import DatabasePanel
from desktop.screens.partners_settings import PartnersPanel
from desktop.screens.users_settings import UsersPanel
from desktop.tasks import Tasks
from desktop.window_state import WindowState
from oms import users
from oms.core.audit import Actor
from oms.core.errors import OmsError
from oms.core.settings import Settings
from oms.integration import sync_store
from sync import credentials, registry


@dataclass(frozen=True)
class TokenState:
    store: str  # where tokens are kept, in words
    file_fallback: bool  # True: the encrypted file, because there is no keyring service
    has_token: dict[str, bool]


def token_state(codes: list[str]) -> TokenState:
    """Which connections have a token, and where tokens live. Slow (keyring, key derivation): run in the background."""
    fallback = not credentials.uses_keyring()
    return TokenState(credentials.store_name(), fallback, {c: bool(credentials.get_secret(c)) for c in codes})


def _t(text: str) -> str:
    return QCoreApplication.translate("ConnectionDialog", text)


def try_connection(spec: registry.ConnectorSpec, code: str, base_url: str, secret: str, options: dict) -> str:
    """The kind's connection test, in words, whether it connected or not. Network: run it in the background."""
    from sync.base import CredentialsRefused, Offline, RemoteError

    try:
        return registry.try_connection(spec, code or "test", base_url, secret, options, max_attempts=1, timeout=10)
    except CredentialsRefused as exc:
        raise OmsError(_t("Refused: {kind} did not accept the {secret} ({why}).").format(
            kind=spec.title, secret=spec.secret_title.lower(), why=exc)) from None
    except Offline as exc:
        raise OmsError(_t("Nothing answered at {url} ({why}).").format(url=base_url, why=exc)) from None
    except RemoteError as exc:
        raise OmsError(_t("{kind} answered with a problem: {why}").format(kind=spec.title, why=exc)) from None


class ConnectionDialog(QDialog):
    """Add a shop or carrier connection, or give an existing one a new token; either can be tried first."""

    def __init__(self, parent: QWidget | None, role: str, existing: sync_store.ConnectorInfo | None = None,
                 has_token: bool | None = None, tasks: Tasks | None = None) -> None:
        super().__init__(parent)
        self.role = role
        self.existing = existing
        self.tasks = tasks
        self.setting_edits: dict[str, QLineEdit] = {}
        # The kinds of connection come from the connector registry; with several of a role, the person picks one.
        self.specs = registry.specs(role)
        spec = next((sp for sp in self.specs if existing is not None and sp.kind == existing.kind), self.specs[0])
        self.setObjectName("connectionDialog")
        if existing is None:
            self.setWindowTitle(self.tr("Connect a shop") if role == "channel" else self.tr("Connect a 3PL warehouse")
                                if role == "threepl" else self.tr("Connect a carrier account"))
        else:
            self.setWindowTitle(self.tr("Connection {name}").format(name=existing.name))
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        form = QFormLayout()
        form.setSpacing(8)
        self.kind_combo = QComboBox()
        self.kind_combo.setObjectName("connectionKind")
        for sp in self.specs:
            self.kind_combo.addItem(sp.title, sp.kind)
        self.kind_combo.setCurrentIndex(self.specs.index(spec))
        self.name_edit = QLineEdit(existing.name if existing else "")
        self.name_edit.setObjectName("connectionName")
        self.name_edit.setPlaceholderText(self.tr("e.g. Harbor & Pine web shop") if role == "channel"
                                          else self.tr("e.g. {kind}").format(kind=spec.title))
        self.code_edit = QLineEdit(existing.code if existing else "")
        self.code_edit.setObjectName("connectionCode")
        self.code_edit.setPlaceholderText(self.tr("short, no spaces, e.g. web"))
        self.url_edit = QLineEdit(existing.base_url if existing else "")
        self.url_edit.setObjectName("connectionUrl")
        self.token_edit = QLineEdit()
        self.token_edit.setObjectName("connectionToken")
        self.token_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.token_edit.setInputMethodHints(Qt.InputMethodHint.ImhSensitiveData | Qt.InputMethodHint.ImhNoPredictiveText)
        if existing is not None and has_token:
            self.token_edit.setPlaceholderText(self.tr("A token is stored — type a new one only to replace it"))
        elif existing is not None:
            self.token_edit.setPlaceholderText(self.tr("No token stored — this connection cannot sync until you add one"))
        self.interval_spin = QSpinBox()
        self.interval_spin.setObjectName("connectionInterval")
        self.interval_spin.setRange(5, 3600)
        self.interval_spin.setSuffix(self.tr(" s"))
        self.interval_spin.setValue(existing.interval_s if existing else spec.default_interval_s)
        self.address_label, self.secret_label = QLabel(), QLabel()
        if len(self.specs) > 1:
            form.addRow(self.tr("Kind"), self.kind_combo)
        else:
            self.kind_combo.hide()
        form.addRow(self.tr("Name"), self.name_edit)
        form.addRow(self.tr("Code"), self.code_edit)
        form.addRow(self.address_label, self.url_edit)
        form.addRow(self.secret_label, self.token_edit)
        form.addRow(self.tr("Sync every"), self.interval_spin)
        layout.addLayout(form)
        # The kind's own settings (Amazon's marketplaces, a stock buffer), as the registry declares them.
        self.settings_form = QFormLayout()
        self.settings_form.setSpacing(8)
        layout.addLayout(self.settings_form)
        self.test_label = QLabel()
        self.test_label.setObjectName("connectionTestResult")
        self.test_label.setWordWrap(True)
        self.test_label.hide()
        layout.addWidget(self.test_label)
        if existing is not None:
            # sync_store has no way to change a connection yet; only its token can be replaced here.
            for w in (self.name_edit, self.code_edit, self.url_edit, self.interval_spin):
                w.setEnabled(False)
            note = QLabel(self.tr("The name, address and interval of an existing connection cannot be changed yet; "
                                  "switch it off and connect again under a new code to change them."))
            note.setObjectName("hint")
            note.setWordWrap(True)
            layout.addWidget(note)
        self.error_label = QLabel()
        self.error_label.setObjectName("lookupMessage")
        self.error_label.setProperty("error", "true")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        layout.addWidget(self.error_label)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.addButton(self.tr("Connect") if existing is None else self.tr("Save token"),
                                                  QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setObjectName("primaryButton")
        self.save_button.setDefault(True)
        # Tabbing past Cancel must not make Return cancel: only Connect answers Return from a field.
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setAutoDefault(False)
        self.test_button = self.buttons.addButton(self.tr("Test connection"), QDialogButtonBox.ButtonRole.ActionRole)
        self.test_button.setObjectName("testConnection")
        self.test_button.setAutoDefault(False)
        self.test_button.clicked.connect(self.test_connection)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.name_edit.textEdited.connect(self._suggest_code)
        self.kind_combo.currentIndexChanged.connect(lambda _i: self._kind_chosen())
        self._kind_chosen()
        (self.name_edit if existing is None else self.token_edit).setFocus()

    @property
    def spec(self) -> registry.ConnectorSpec:
        return self.specs[max(0, self.kind_combo.currentIndex())]

    def _kind_chosen(self) -> None:
        """The address and secret fields say what this kind of connection needs."""
        spec = self.spec
        self.address_label.setText(spec.address_title)
        self.secret_label.setText(spec.secret_title)
        self.url_edit.setPlaceholderText(spec.address_hint)
        if self.existing is None:
            if spec.default_address and not self.url_edit.isModified():
                self.url_edit.setText(spec.default_address)
            self.token_edit.setPlaceholderText(spec.secret_hint)
            self.interval_spin.setValue(spec.default_interval_s)
        while self.settings_form.rowCount():
            self.settings_form.removeRow(0)
        self.setting_edits = {}
        kept = self.existing.options if self.existing is not None else {}
        before: QWidget = self.interval_spin  # the settings come next in Tab order, before the buttons
        for st in spec.settings:
            edit = QLineEdit(st.show(kept[st.key]) if st.key in kept else "")
            edit.setObjectName(f"setting_{st.key}")
            edit.setPlaceholderText(st.hint)
            edit.setEnabled(self.existing is None)
            self.settings_form.addRow(st.title, edit)
            self.setting_edits[st.key] = edit
            QWidget.setTabOrder(before, edit)
            before = edit
        self.test_label.hide()

    def _suggest_code(self, text: str) -> None:
        if self.existing is None and not self.code_edit.isModified():
            self.code_edit.setText("-".join(text.lower().split())[:32])

    def show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))
        self.save_button.setEnabled(True)

    def values(self) -> dict:
        return {"name": self.name_edit.text().strip(), "code": self.code_edit.text().strip(),
                "base_url": self.url_edit.text().strip(), "interval_s": self.interval_spin.value()}

    def options(self) -> dict:
        """The kind's settings as typed, checked (InvalidInput says which and why); defaults for those left empty."""
        if self.existing is not None:
            return dict(self.existing.options)
        return registry.options(self.spec, {k: e.text() for k, e in self.setting_edits.items() if e.text().strip()})

    def test_connection(self) -> None:
        """One cheap call with what is typed (or the stored token), in the background; the answer shows here."""
        if self.tasks is None:
            return
        spec, v, typed = self.spec, self.values(), self.token()
        code = self.existing.code if self.existing is not None else v["code"]
        try:
            options = self.options()
        except OmsError as exc:
            self._tested(False, str(exc))
            return
        if not v["base_url"]:
            self._tested(False, self.tr("Type the {what} first.").format(what=spec.address_title.lower()))
            return

        def job() -> str:
            secret = typed or (credentials.get_secret(code) if self.existing is not None else "")
            if not secret:
                raise OmsError(_t("Type the {secret} first.").format(secret=spec.secret_title.lower()))
            return try_connection(spec, code, v["base_url"], secret, options)

        self.test_button.setEnabled(False)
        self.test_label.setText(self.tr("Trying {url}…").format(url=v["base_url"]))
        self.test_label.setProperty("error", "false")
        self.test_label.show()
        self.tasks.background(job, lambda text: self._tested(True, text), lambda text: self._tested(False, text), owner=self)

    def _tested(self, ok: bool, text: str) -> None:
        self.test_button.setEnabled(True)
        self.test_label.setText(("✓ " if ok else "✗ ") + text)
        self.test_label.setProperty("error", "false" if ok else "true")
        self.test_label.setStyleSheet(f"color: {fmt.OK_COLOR if ok else fmt.LATE_COLOR};")
        self.test_label.show()

    def token(self) -> str:
        return self.token_edit.text().strip()


class SettingsScreen(NoScanScreen, QWidget):
    """Station and connections; a change to a connection restarts sync (connections_changed)."""

    scan_result = Signal(object, str)
    message = Signal(str)
    connections_changed = Signal()
    loaded = Signal()  # the connections list shows the latest read (tests wait for it)

    def __init__(self, tasks: Tasks, actor: Actor, state: WindowState, settings: Settings, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsScreen")
        self.tasks = tasks
        self.actor = actor
        self.state = state
        self.settings = settings
        self.connections: list[sync_store.ConnectorInfo] = []
        self.tokens: TokenState | None = None
        self.dialog: ConnectionDialog | None = None
        self._generation = 0

        title = QLabel(self.tr("Settings"))
        title.setObjectName("orderTitle")

        # -- station
        station_title = QLabel(self.tr("This station"))
        station_title.setObjectName("sectionTitle")
        self.station_edit = QLineEdit(settings.station_name)
        self.station_edit.setObjectName("stationName")
        self.station_edit.setMaxLength(64)
        self.user_edit = QLineEdit(settings.user)
        self.user_edit.setObjectName("stationUser")
        self.user_edit.setPlaceholderText(self.tr("user name, e.g. maria"))
        self.user_edit.setMaxLength(64)
        self.role_combo = QComboBox()
        self.role_combo.setObjectName("stationRole")
        roles.fill(self.role_combo, settings.station_role)
        self.idle_lock = QSpinBox()
        self.idle_lock.setObjectName("idleLock")
        self.idle_lock.setRange(0, 240)
        self.idle_lock.setSuffix(self.tr(" min"))
        self.idle_lock.setSpecialValueText(self.tr("never"))
        self.idle_lock.setValue(settings.idle_lock_seconds // 60)
        self.idle_lock.setToolTip(self.tr("Where people sign in, the station locks after this long without a key or "
                                          "a click; their badge and PIN open it where they left it"))
        self.save_station_button = QPushButton(self.tr("Save"))
        self.save_station_button.setObjectName("saveStation")
        station_form = QFormLayout()
        station_form.setSpacing(8)
        station_form.addRow(self.tr("Station name"), self.station_edit)
        station_form.addRow(self.tr("Used for"), self.role_combo)
        station_form.addRow(self.tr("Signed-in user"), self.user_edit)
        station_form.addRow(self.tr("Lock when idle"), self.idle_lock)
        station_note = QLabel(self.tr("Saved in {path}. The name and user are used from the next start.").format(
            path=Settings.path()))
        station_note.setObjectName("hint")
        station_note.setWordWrap(True)
        station_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        station_row = QHBoxLayout()
        station_row.addLayout(station_form, 1)
        station_row.addWidget(self.save_station_button, 0, Qt.AlignmentFlag.AlignBottom)
        station_row.addStretch(1)

        # -- connections
        connections_title = QLabel(self.tr("Connections"))
        connections_title.setObjectName("sectionTitle")
        self.table = QTableWidget(0, 6)
        self.table.setObjectName("connectionsTable")
        self.table.setHorizontalHeaderLabels([self.tr("Name"), self.tr("Code"), self.tr("Kind"), self.tr("Address"),
                                              self.tr("Sync"), self.tr("Token")])
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(30)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.horizontalHeader().setHighlightSections(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.add_shop_button = QPushButton(self.tr("Connect a shop…"))
        self.add_shop_button.setObjectName("addShop")
        self.add_carrier_button = QPushButton(self.tr("Connect a carrier…"))
        self.add_carrier_button.setObjectName("addCarrier")
        self.edit_button = QPushButton(self.tr("Token…"))
        self.edit_button.setObjectName("editConnection")
        self.edit_button.setToolTip(self.tr("Give the selected connection a new token"))
        self.enable_button = QPushButton(self.tr("Switch off"))
        self.enable_button.setObjectName("enableConnection")
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        for b in (self.add_shop_button, self.add_carrier_button, self.edit_button, self.enable_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.store_label = QLabel(self.tr("Checking where tokens are kept…"))
        self.store_label.setObjectName("tokenStore")
        self.store_label.setWordWrap(True)
        self.store_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setObjectName("separator")

        general = QWidget()
        general_layout = QVBoxLayout(general)
        general_layout.setContentsMargins(0, 8, 0, 0)
        general_layout.setSpacing(10)
        general_layout.addWidget(station_title)
        general_layout.addLayout(station_row)
        general_layout.addWidget(station_note)
        general_layout.addSpacing(6)
        general_layout.addWidget(line)
        general_layout.addWidget(connections_title)
        general_layout.addWidget(self.store_label)
        general_layout.addWidget(self.table, 1)
        general_layout.addLayout(buttons)

        # -- EDI trading partners, on a tab of their own
        self.partners = PartnersPanel(tasks, actor)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("settingsTabs")
        self.tabs.addTab(general, self.tr("Station and connections"))
        self.tabs.addTab(self.partners, self.tr("Trading partners"))
        self.database = DatabasePanel(tasks, settings)
        self.tabs.addTab(self.database, self.tr("Database and backups"))
        # People: only for whoever may manage them (the domain refuses anyone else anyway).
        self.people = UsersPanel(tasks, actor, self)  # a child even while no tab shows it: Qt owns it, not Python
        self.people.hide()
        self.people_tab_shown = False
        self._show_people_tab()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(10)
        layout.addWidget(title)
        layout.addWidget(self.tabs, 1)

        self.save_station_button.clicked.connect(self.save_station)
        self.station_edit.returnPressed.connect(self.save_station)
        self.user_edit.returnPressed.connect(self.save_station)
        self.add_shop_button.clicked.connect(lambda: self.open_dialog("channel"))
        self.add_carrier_button.clicked.connect(lambda: self.open_dialog("carrier"))
        self.edit_button.clicked.connect(self.edit_selected)
        self.enable_button.clicked.connect(self.toggle_selected)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.doubleClicked.connect(lambda _ix: self.edit_selected())
        self.partners.changed.connect(self._changed)
        self.partners.message.connect(self.message)
        self.database.message.connect(self.message)
        self.people.message.connect(self.message)
        self._update_buttons()

    def _show_people_tab(self) -> None:
        shown = bool(self.actor.role) and users.may(self.actor, "users.manage")
        if shown and not self.people_tab_shown:
            self.tabs.addTab(self.people, self.tr("People"))
        elif not shown and self.people_tab_shown:
            self.tabs.removeTab(self.tabs.indexOf(self.people))
            self.people.setParent(self)
            self.people.hide()
        self.people_tab_shown = shown

    # -- the screen protocol ---------------------------------------------------------------------------

    def save_state(self) -> None:
        pass

    def focus_search(self) -> None:
        self.refresh()
        self.station_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self._show_people_tab()  # the person at the station may have changed since
        self.refresh()
        if self.people_tab_shown:
            self.people.refresh()

    # -- station -------------------------------------------------------------------------------------

    def save_station(self) -> None:
        name = self.station_edit.text().strip()
        if not name:
            self.message.emit(self.tr("The station needs a name."))
            return
        self.settings.station_name = name
        self.settings.station_role = self.role_combo.currentData()
        self.settings.user = self.user_edit.text().strip()
        self.settings.idle_lock_seconds = self.idle_lock.value() * 60
        try:
            self.settings.save()
        except OSError as exc:
            self.message.emit(self.tr("The settings could not be saved: {error}").format(error=exc))
            return
        self.message.emit(self.tr("Station settings saved; they apply from the next start."))

    # -- connections -----------------------------------------------------------------------------------

    def show_partners(self) -> None:
        self.tabs.setCurrentWidget(self.partners)

    def refresh(self) -> None:
        self._generation += 1
        gen = self._generation
        self.partners.refresh()

        def listed(rows: list[sync_store.ConnectorInfo]) -> None:
            if gen != self._generation:
                return
            self.connections = sorted(rows, key=lambda c: c.role != "channel")  # shops first, as on the Sync screen
            self._show()
            codes = [c.code for c in rows]
            self.tasks.background(lambda: token_state(codes), lambda t: self._tokens_known(gen, t),
                                  self._tokens_failed, owner=self)

        self.tasks.read(lambda s: sync_store.connectors(s), listed, self.message.emit, owner=self)

    def _tokens_known(self, gen: int, tokens: TokenState) -> None:
        if gen != self._generation:
            return
        self.tokens = tokens
        if tokens.file_fallback:
            self.store_label.setText(self.tr("Tokens are stored in {store}. Anyone who can sign in to this computer as "
                                             "this user can read them; use a machine with a keyring service where that matters.")
                                     .format(store=tokens.store))
            self.store_label.setProperty("warn", "true")
        else:
            self.store_label.setText(self.tr("Tokens are stored in {store}.").format(store=tokens.store))
            self.store_label.setProperty("warn", "false")
        self.store_label.setStyleSheet("color: #b54708;" if tokens.file_fallback else "")
        self._show()
        self.loaded.emit()

    def _tokens_failed(self, text: str) -> None:
        self.store_label.setText(text)
        self.store_label.setStyleSheet("color: #b42318;")
        self.loaded.emit()

    def _show(self) -> None:
        selected = self.selected()
        self.table.setRowCount(len(self.connections))
        for r, c in enumerate(self.connections):
            role = {"channel": self.tr("Shop"), "threepl": self.tr("3PL")}.get(c.role, self.tr("Carrier"))
            if self.tokens is None:
                token, color = "…", fmt.MUTED_COLOR
            elif self.tokens.has_token.get(c.code):
                token, color = self.tr("Stored"), fmt.OK_COLOR
            else:
                token, color = self.tr("No token — cannot sync"), fmt.LATE_COLOR
            values = [c.name, c.code, f"{role} · {registry.title(c.kind)}", c.base_url,
                      self.tr("On, every {n} s").format(n=c.interval_s) if c.enabled else self.tr("Switched off"), token]
            for col, v in enumerate(values):
                item = QTableWidgetItem(v)
                if col == 5:
                    item.setForeground(color)
                if col == 4 and not c.enabled:
                    item.setForeground(fmt.MUTED_COLOR)
                self.table.setItem(r, col, item)
        for col in (0, 1, 2, 4, 5):
            self.table.resizeColumnToContents(col)
        if selected is not None:
            row = next((i for i, c in enumerate(self.connections) if c.code == selected.code), -1)
            if row >= 0:
                self.table.selectRow(row)
        self._update_buttons()

    def selected(self) -> sync_store.ConnectorInfo | None:
        row = self.table.currentRow()
        return self.connections[row] if 0 <= row < len(self.connections) and self.table.selectedItems() else None

    def _update_buttons(self) -> None:
        c = self.selected()
        self.edit_button.setEnabled(c is not None)
        self.enable_button.setEnabled(c is not None)
        self.enable_button.setText(self.tr("Switch on") if c is not None and not c.enabled else self.tr("Switch off"))

    def open_dialog(self, role: str, existing: sync_store.ConnectorInfo | None = None) -> ConnectionDialog:
        has_token = self.tokens.has_token.get(existing.code) if (existing and self.tokens) else None
        dialog = ConnectionDialog(self, role, existing, has_token, self.tasks)
        dialog.save_button.clicked.connect(lambda: self._save(dialog))
        dialog.finished.connect(lambda _r: dialog.deleteLater())
        self.dialog = dialog
        dialog.open()
        return dialog

    def edit_selected(self) -> None:
        c = self.selected()
        if c is not None:
            self.open_dialog(c.role, c)

    def _save(self, dialog: ConnectionDialog) -> None:
        token = dialog.token()
        dialog.show_error("")
        dialog.save_button.setEnabled(False)
        if dialog.existing is not None:
            code = dialog.existing.code
            if not token:
                dialog.show_error(self.tr("Type the new token, or Cancel to keep the stored one."))
                return

            def saved_token(_r) -> None:
                dialog.accept()
                self.message.emit(self.tr("New token for {code} stored in {store}.").format(
                    code=code, store=self.tokens.store if self.tokens else self.tr("the token store")))
                self._changed()

            self.tasks.background(lambda: credentials.set_secret(code, token), saved_token, dialog.show_error, owner=dialog)
            return
        if not token:
            dialog.show_error(self.tr("The connection needs its token: without one Quayside cannot sync with it."))
            return
        v = dialog.values()
        role, spec, actor = dialog.role, dialog.spec, self.actor
        try:
            options = dialog.options()
        except OmsError as exc:
            dialog.show_error(str(exc))
            return

        def job(session) -> str:
            sync_store.add_connector(session, actor, code=v["code"], role=role, kind=spec.kind, name=v["name"],
                                     base_url=v["base_url"], options=options, interval_s=v["interval_s"])
            session.flush()
            # Inside the transaction, as the command line does: no connection is saved without its token.
            credentials.set_secret(v["code"], token)
            return v["code"]

        def added(code: str) -> None:
            dialog.accept()
            self.message.emit(self.tr("Connected {code}; its token is kept in {store}.").format(
                code=code, store=self.tokens.store if self.tokens else self.tr("the token store")))
            self._changed()

        self.tasks.write(job, added, dialog.show_error, owner=dialog)

    def toggle_selected(self) -> None:
        c = self.selected()
        if c is None:
            return
        actor, enabled = self.actor, not c.enabled

        def done(_r) -> None:
            self.message.emit(self.tr("{name} switched on.").format(name=c.name) if enabled
                              else self.tr("{name} switched off; nothing is sent to or read from it.").format(name=c.name))
            self._changed()

        self.tasks.write(lambda s: sync_store.set_connector_enabled(s, actor, c.code, enabled), done, self.message.emit,
                         owner=self)

    def _changed(self) -> None:
        self.refresh()
        self.connections_changed.emit()
