"""The Sync screen: each connection's state, failed messages to send again, and payloads that could not be read."""

from __future__ import annotations

import json

from desktop import formatting as fmt
from desktop.qt import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    Qt,
    QTableWidget,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.screen import NoScanScreen
from desktop.sync_worker import ROLE_ORDER, SyncSummary, SyncWorker, without_worker
from desktop.tables import cell as _item, fill_table as _fill, read_only_table, selected_key as _key
from desktop.tasks import Tasks
from desktop.window_state import WindowState
from oms.core.audit import Actor
from oms.integration import sync_queries, sync_store
from sync import registry
from sync.channels.edi_x12.transports import TITLES as TRANSPORT_TITLES
from sync.engine import token_refused
from sync.http import plain_error

TOPIC_TITLES = {
    "fulfillment.create": "Fulfillment", "fulfillment.cancel": "Fulfillment cancel", "order.cancelled": "Cancellation",
    "inventory.set": "Stock level", "payment.capture": "Payment capture", "invoice.create": "Invoice",
    "asn.create": "Advance ship notice", "label.buy": "Label purchase", "label.refund": "Label refund",
}


def _table(name: str, headers: list[str], stretch: int) -> QTableWidget:
    return read_only_table(name, headers, stretch, row_height=30)


def pretty(raw: str) -> str:
    """The payload as the remote sent it, indented when it is JSON; as it is when it is not."""
    try:
        return json.dumps(json.loads(raw), indent=2, ensure_ascii=False, sort_keys=False)
    except (ValueError, TypeError):
        return raw


def reference(q: sync_store.QuarantineView) -> str:
    """The order's own number when the payload names it (a shop's "#1007"), else the reference kept with it."""
    try:
        data = json.loads(q.raw)
    except (ValueError, TypeError):
        data = None
    name = data.get("name") if isinstance(data, dict) else None
    if isinstance(name, str) and name and name != q.external_ref:
        return f"{name} ({q.external_ref})" if q.external_ref else name
    return q.external_ref or "—"


def _titled(title_label: QLabel, widget: QWidget, *extra: QWidget) -> QWidget:
    w = QWidget()
    box = QVBoxLayout(w)
    box.setContentsMargins(0, 0, 0, 0)
    box.setSpacing(6)
    head = QHBoxLayout()
    head.addWidget(title_label, 1)
    for e in extra:
        head.addWidget(e)
    box.addLayout(head)
    box.addWidget(widget, 1)
    return w


def kind_title(st: sync_store.ConnectorStatus) -> str:
    """What kind of connection it is, in words: the registry's title, or a trading partner's transport."""
    if st.role == "partner":
        return TRANSPORT_TITLES.get(st.kind.removeprefix("edi_"), st.kind)
    return registry.title(st.kind)


class SyncScreen(NoScanScreen, QWidget):
    SHOWS = ("integration", "core")  # connections, quarantine and the outbox: read again after a write to them
    """What the shop and the carriers were told, what is waiting, and what needs a person."""

    scan_result = Signal(object, str)
    message = Signal(str)
    loaded = Signal()  # the tables show the latest read (tests wait for it)

    def __init__(self, tasks: Tasks, actor: Actor, state: WindowState, worker: SyncWorker, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("syncScreen")
        self.tasks = tasks
        self.actor = actor
        self.state = state
        self.worker = worker
        self.failed: list[sync_queries.FailedMessage] = []
        self.quarantine: list[sync_store.QuarantineView] = []

        title = QLabel(self.tr("Sync"))
        title.setObjectName("orderTitle")
        self.summary_label = QLabel()
        self.summary_label.setObjectName("syncSummary")
        self.summary_label.setWordWrap(True)
        self.sync_now_button = QPushButton(self.tr("Sync now"))
        self.sync_now_button.setObjectName("primaryButton")
        self.sync_now_button.setToolTip(self.tr("Pull new orders and send waiting updates now, without waiting for the interval"))
        top = QHBoxLayout()
        top.setSpacing(12)
        top.addWidget(title)
        top.addWidget(self.summary_label, 1)
        top.addWidget(self.sync_now_button)

        self.connectors = _table("connectorsTable", [
            self.tr("Connection"), self.tr("Kind"), self.tr("State"), self.tr("Last success"), self.tr("Pulled"),
            self.tr("Pushed"), self.tr("Waiting"), self.tr("Failed"), self.tr("Last error")], 8)
        self.connectors_title = QLabel(self.tr("Connections"))
        self.connectors_title.setObjectName("sectionTitle")
        self.empty_label = QLabel(self.tr("No shop or carrier is connected. Add one under Settings → Connections."))
        self.empty_label.setObjectName("hint")
        self.empty_label.hide()

        self.failed_table = _table("failedTable", [
            self.tr("Connection"), self.tr("Message"), self.tr("Order"), self.tr("Tries"), self.tr("What the remote said")], 4)
        self.failed_title = QLabel()
        self.failed_title.setObjectName("sectionTitle")
        self.requeue_button = QPushButton(self.tr("Send again"))
        self.requeue_button.setObjectName("requeueButton")
        self.requeue_button.setToolTip(self.tr("Put the selected message back in the queue, after the cause was fixed"))

        self.quarantine_table = _table("quarantineTable", [
            self.tr("Connection"), self.tr("Reference"), self.tr("Problem"), self.tr("Received")], 2)
        self.quarantine_title = QLabel()
        self.quarantine_title.setObjectName("sectionTitle")
        self.payload_view = QPlainTextEdit()
        self.payload_view.setObjectName("payloadView")
        self.payload_view.setReadOnly(True)
        self.payload_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.payload_view.setFont(fmt.monospace())
        self.payload_view.setPlaceholderText(self.tr("Select a payload to see what the remote sent."))
        self.payload_error = QLabel()
        self.payload_error.setObjectName("lookupMessage")
        self.payload_error.setProperty("error", "true")
        self.payload_error.setWordWrap(True)
        self.retry_button = QPushButton(self.tr("Retry"))
        self.retry_button.setObjectName("retryButton")
        self.retry_button.setToolTip(self.tr("Read the payload again, after the cause was fixed (e.g. the SKU was added)"))
        self.dismiss_button = QPushButton(self.tr("Dismiss"))
        self.dismiss_button.setObjectName("dismissButton")
        self.dismiss_button.setProperty("danger", "true")
        self.dismiss_button.setToolTip(self.tr("Close it without importing: it was handled in the channel"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.payload_error, 1)
        buttons.addWidget(self.retry_button)
        buttons.addWidget(self.dismiss_button)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.setSpacing(6)
        payload_title = QLabel(self.tr("Payload as received"))
        payload_title.setObjectName("sectionTitle")
        side_layout.addWidget(payload_title)
        side_layout.addWidget(self.payload_view, 1)
        side_layout.addLayout(buttons)

        self.quarantine_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.quarantine_splitter.setObjectName("quarantineSplitter")
        self.quarantine_splitter.addWidget(_titled(self.quarantine_title, self.quarantine_table))
        self.quarantine_splitter.addWidget(side)
        self.quarantine_splitter.setStretchFactor(0, 3)
        self.quarantine_splitter.setStretchFactor(1, 2)
        self.quarantine_splitter.setChildrenCollapsible(False)

        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("syncSplitter")
        connectors_box = _titled(self.connectors_title, self.connectors)
        connectors_box.layout().addWidget(self.empty_label)
        self.splitter.addWidget(connectors_box)
        self.splitter.addWidget(_titled(self.failed_title, self.failed_table, self.requeue_button))
        self.splitter.addWidget(self.quarantine_splitter)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setStretchFactor(2, 3)
        self.splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(12)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)

        self.state.restore_splitter("sync", self.splitter)
        self.state.restore_splitter("syncQuarantine", self.quarantine_splitter)
        self.sync_now_button.clicked.connect(self.sync_now)
        self.requeue_button.clicked.connect(self.requeue_selected)
        self.retry_button.clicked.connect(self.retry_selected)
        self.dismiss_button.clicked.connect(self.dismiss_selected)
        self.quarantine_table.itemSelectionChanged.connect(self._show_payload)
        self.failed_table.itemSelectionChanged.connect(self._update_buttons)
        self.worker.summary_changed.connect(self._summary_changed)
        self._update_buttons()
        self._set_titles()

    # -- the screen protocol ---------------------------------------------------------------------------

    def save_state(self) -> None:
        self.state.save_splitter("sync", self.splitter)
        self.state.save_splitter("syncQuarantine", self.quarantine_splitter)

    def focus_search(self) -> None:
        self.refresh()
        self.connectors.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        self.refresh()

    # -- reading ---------------------------------------------------------------------------------------

    def refresh(self) -> None:
        def job(session):
            return (sync_queries.overview(session), sync_queries.failed_messages(session),
                    sync_store.quarantined(session))

        self.tasks.read(job, lambda result: self._show(*result), self.message.emit, owner=self, latest="overview")

    def _summary_changed(self, summary: SyncSummary) -> None:
        if self.isVisible():
            self.refresh()

    def _show(self, overview: sync_queries.SyncOverview, failed, quarantine) -> None:
        summary = self.worker.summary
        self.summary_label.setText(summary.text if summary and summary.text else "")
        missing = without_worker(overview, self.worker.built)
        rows = []
        connectors = sorted(overview.connectors, key=lambda c: ROLE_ORDER.get(c.role, 9))
        for st in connectors:
            if not st.enabled:
                state, color = self.tr("Switched off"), fmt.MUTED_COLOR
            elif st.code in missing:
                state = (self.tr("No password: add it under Settings → Trading partners") if st.role == "partner"
                         else self.tr("No token: add it under Settings"))
                color = fmt.LATE_COLOR
            elif token_refused(st.role, st.last_error):
                state, color = self.tr("Token refused: update it under Settings"), fmt.LATE_COLOR
            elif st.online:
                state, color = self.tr("Online"), fmt.OK_COLOR
                if summary and summary.progress.get(st.code):  # a pass in hand, paced by the remote's rate limits
                    state = self.tr("Online · {progress}").format(progress=summary.progress[st.code])
            else:
                since = fmt.short_datetime(st.offline_since) if st.offline_since else "?"
                state, color = self.tr("Offline since {time}").format(time=since), fmt.DUE_TODAY_COLOR
            last = fmt.short_datetime(st.last_success_at) if st.last_success_at else self.tr("never")
            role = {"channel": self.tr("Shop"), "carrier": self.tr("Carrier"), "threepl": self.tr("3PL"),
                    "partner": self.tr("Trading partner"), "erp": self.tr("ERP")}.get(st.role, st.role)
            rows.append([
                _item(st.name or st.code, bold=True, tip=self.tr("Code: {code}").format(code=st.code)),
                _item(f"{role} · {kind_title(st)}"),
                _item(state, color=color, bold=True),
                _item(last),
                _item(st.pulled, right=True),
                _item(st.pushed, right=True),
                _item(st.waiting, right=True, color=fmt.DUE_TODAY_COLOR if st.waiting and not st.online else None),
                _item(st.failed, right=True, color=fmt.LATE_COLOR if st.failed else fmt.MUTED_COLOR, bold=bool(st.failed)),
                _item(plain_error(st.last_error) or "—", tip=st.last_error,
                      color=fmt.LATE_COLOR if st.last_error else fmt.MUTED_COLOR),
            ])
        _fill(self.connectors, rows, [i for i in range(len(rows))])
        self.empty_label.setVisible(not overview.connectors)

        names = {st.code: st.name or st.code for st in overview.connectors}  # a person knows a connection by its name
        self.failed = list(failed)
        _fill(self.failed_table, [[
            _item(names.get(m.destination, m.destination), bold=True),
            _item(self.tr(TOPIC_TITLES.get(m.topic, m.topic))),
            _item(m.order_number or "—"),
            _item(m.attempts, right=True),
            _item(m.error or self.tr("(no answer text)"), tip=m.error, color=fmt.LATE_COLOR),
        ] for m in self.failed], [m.id for m in self.failed])

        self.quarantine = list(quarantine)
        _fill(self.quarantine_table, [[
            _item(names.get(q.connector, q.connector), bold=True),
            _item(reference(q)),
            _item(q.error, tip=q.error, color=fmt.LATE_COLOR),
            _item(fmt.short_datetime(q.received_at)),
        ] for q in self.quarantine], [q.id for q in self.quarantine])
        for table, items in ((self.quarantine_table, self.quarantine), (self.failed_table, self.failed)):
            if items and not table.selectedItems():
                table.selectRow(0)
        self._set_titles()
        self._show_payload()
        self.loaded.emit()

    def _set_titles(self) -> None:
        self.failed_title.setText(self.tr("Refused by the remote ({n}) — fix the cause, then send again").format(n=len(self.failed))
                                  if self.failed else self.tr("Refused by the remote (none)"))
        self.quarantine_title.setText(self.tr("Could not be read ({n}) — nothing was imported from these").format(n=len(self.quarantine))
                                      if self.quarantine else self.tr("Could not be read (none)"))

    def selected_payload(self) -> sync_store.QuarantineView | None:
        key = _key(self.quarantine_table)
        return next((q for q in self.quarantine if q.id == key), None)

    def selected_failed(self) -> sync_queries.FailedMessage | None:
        key = _key(self.failed_table)
        return next((m for m in self.failed if m.id == key), None)

    def _show_payload(self) -> None:
        q = self.selected_payload()
        text = pretty(q.raw) if q is not None else ""
        if self.payload_view.toPlainText() != text:
            self.payload_view.setPlainText(text)
        self.payload_error.setText(q.error if q is not None else "")
        self._update_buttons()

    def _update_buttons(self) -> None:
        has_payload = self.selected_payload() is not None
        self.retry_button.setEnabled(has_payload)
        self.dismiss_button.setEnabled(has_payload)
        self.requeue_button.setEnabled(self.selected_failed() is not None)

    # -- actions -------------------------------------------------------------------------------------------

    def sync_now(self) -> None:
        if self.worker.sync_now():
            self.message.emit(self.tr("Syncing every connection now…"))
        else:
            self.message.emit(self.tr("Sync is not running: connect a shop or carrier with its token under Settings."))
        self.refresh()

    def requeue_selected(self) -> None:
        m = self.selected_failed()
        if m is None:
            return
        actor = self.actor

        def done(_r) -> None:
            self.message.emit(self.tr("The message goes to {code} again.").format(code=m.destination))
            self.worker.sync_now()

        self.tasks.write(lambda s: sync_store.requeue(s, actor, m.id), done, self.message.emit, owner=self)

    def retry_selected(self) -> None:
        q = self.selected_payload()
        if q is None:
            return

        def done(line: str) -> None:
            self.message.emit(self.tr("{ref} was read again: {result}").format(ref=q.external_ref, result=line))
            self.refresh()

        def failed(text: str) -> None:
            self.payload_error.setText(text)
            self.message.emit(text)

        self.worker.retry_quarantined(q.id, self.actor, done, failed)

    def dismiss_selected(self) -> None:
        q = self.selected_payload()
        if q is None:
            return
        actor = self.actor

        def done(_r) -> None:
            self.message.emit(self.tr("{ref} dismissed; it stays in the audit log.").format(ref=q.external_ref))

        self.tasks.write(lambda s: sync_store.close_quarantined(s, actor, q.id, "dismissed"), done, self.message.emit,
                         owner=self)


def sync_screens(window) -> list[tuple[str, str, QWidget]]:
    """The Sync and Settings screens and the sync worker behind them, wired to the main window's status bar.

    The worker is created here but started by the app (desktop.app), so tests and
    ``--smoke`` open the window without touching the network.
    """
    from desktop.screens.settings_screen import SettingsScreen

    window.sync_worker = SyncWorker(window.tasks, parent=window)
    window.sync_screen = SyncScreen(window.tasks, window.actor, window.state, window.sync_worker)
    window.settings_screen = SettingsScreen(window.tasks, window.actor, window.state, window.settings)
    window.sync_worker.status_changed.connect(window.set_sync_status)
    window.sync_worker.summary_changed.connect(lambda s: window.sync_label.setToolTip("\n".join(s.details)))
    window.settings_screen.connections_changed.connect(window.sync_worker.restart)
    return [("sync", window.tr("Sync"), window.sync_screen), ("settings", window.tr("Settings"), window.settings_screen)]
