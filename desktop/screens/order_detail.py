"""One order: status and promises, ship-to, lines, allocations, shipments, a merged timeline, and actions."""

from __future__ import annotations

from desktop import formatting as fmt
from desktop.dialogs import CancelLineDialog, NoteDialog, ReasonDialog, hold_reasons
from desktop.order_scan import accepts_order_scan, find_scanned_order
from desktop.print_jobs import print_shipment
from desktop.qt import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    Qt,
    QTableWidget,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.reroute import RerouteDialog
from desktop.tables import cell as _item, read_only_table
from desktop.tasks import Tasks
from desktop.window_state import WindowState
from oms import desk, fulfilment, orders, routing, users
from oms.core import wording
from oms.core.audit import Actor
from oms.core.errors import NotPermitted
from oms.core.gs1 import Scan
from oms.desk.detail import OrderDetail
from oms.fulfilment import floor_queries
from oms.fulfilment.floor_queries import LabelState

LINE_COLUMNS = ("SKU", "Description", "Ordered", "Allocated", "Backordered", "Picked", "Packed", "Shipped", "Cancelled",
                "Returned")


def _table(name: str, headers: list[str], *, stretch: int | None = None) -> QTableWidget:
    t = read_only_table(name, headers, stretch, fit_contents=True)
    t.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    t.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    t.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    return t


def _fit_height(t: QTableWidget, rows_min: int = 1) -> None:
    """Tables inside the scrolling page show every row; the page scrolls, not each table."""
    rows = max(rows_min, t.rowCount())
    height = t.horizontalHeader().sizeHint().height() + rows * t.verticalHeader().defaultSectionSize() + 2 * t.frameWidth()
    if t.horizontalScrollBar().isVisible():
        height += t.horizontalScrollBar().sizeHint().height()
    t.setFixedHeight(height + 2)


class _Card(QFrame):
    """A titled block of facts in the header."""

    def __init__(self, title: str, name: str) -> None:
        super().__init__()
        self.setObjectName("card")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 12)
        layout.setSpacing(4)
        heading = QLabel(title)
        heading.setObjectName("cardTitle")
        layout.addWidget(heading)
        self.body = QLabel()
        self.body.setObjectName(name)
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setWordWrap(True)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.body, 1)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Timeline(QScrollArea):
    """What happened to the order, newest first: audit events, carrier tracking and notes."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("timeline")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._body = QWidget()
        self._body.setObjectName("timelineBody")
        self._layout = QVBoxLayout(self._body)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(0)
        self._layout.addStretch(1)
        self.setWidget(self._body)
        self.entries: list[desk.TimelineEntry] = []

    def set_entries(self, entries) -> None:
        self.entries = list(entries)
        while self._layout.count() > 1:
            item = self._layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        for i, e in enumerate(self.entries):
            self._layout.insertWidget(i, self._entry(e))

    def _entry(self, e) -> QWidget:
        row = QFrame()
        row.setObjectName("timelineEntry")
        row.setProperty("kind", e.kind)
        grid = QGridLayout(row)
        grid.setContentsMargins(12, 8, 12, 8)
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(2)
        when = QLabel(fmt.short_datetime(e.at))
        when.setObjectName("timelineWhen")
        when.setToolTip(fmt.long_datetime(e.at))
        when.setMinimumWidth(118)
        when.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        kind = {"note": self.tr("Note"), "tracking": self.tr("Carrier")}.get(e.kind)
        text = QLabel(f"{kind}: {e.text}" if kind else e.text)
        text.setObjectName("timelineText")
        text.setProperty("kind", e.kind)
        text.setWordWrap(True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        who = QLabel(e.who)
        who.setObjectName("timelineWho")
        grid.addWidget(when, 0, 0, 2, 1)
        grid.addWidget(text, 0, 1)
        grid.addWidget(who, 1, 1)
        grid.setColumnStretch(1, 1)
        return row


class OrderDetailScreen(QWidget):
    SHOWS = ("orders", "routing", "fulfilment", "shipping", "purchasing", "returns")  # read again after a write that changes these
    """The order a person opened from the queue or by scanning its barcode."""

    back_requested = Signal()
    loaded = Signal(int)  # an order has been shown
    message = Signal(str)
    scan_result = Signal(object, str)  # ok (bool), message

    def __init__(self, tasks: Tasks, actor: Actor, state: WindowState, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("orderDetail")
        self.tasks = tasks
        self.actor = actor
        self.state = state
        self.order: OrderDetail | None = None
        self.label_states: dict[int, LabelState] = {}  # packed shipments waiting on the carrier: where their label is
        self._requested: int | None = None

        # -- title row
        self.back_button = QPushButton(self.tr("‹  Back to queue"))
        self.back_button.setObjectName("backButton")
        self.back_button.setToolTip(self.tr("Back to the order queue (Esc)"))
        self.title = QLabel()
        self.title.setObjectName("orderTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_badge = QLabel()
        self.status_badge.setObjectName("statusBadge")
        self.subtitle = QLabel()
        self.subtitle.setObjectName("orderSubtitle")
        self.hold_button = QPushButton(self.tr("Hold…"))
        self.hold_button.setObjectName("holdOrder")
        self.release_button = QPushButton(self.tr("Release hold…"))
        self.release_button.setObjectName("releaseOrder")
        self.note_button = QPushButton(self.tr("Add note…"))
        self.note_button.setObjectName("addNote")
        self.cancel_button = QPushButton(self.tr("Cancel order…"))
        self.cancel_button.setObjectName("cancelOrder")
        self.cancel_button.setProperty("danger", "true")

        title_row = QHBoxLayout()
        title_row.setSpacing(12)
        title_row.addWidget(self.back_button)
        title_row.addSpacing(6)
        title_row.addWidget(self.title)
        title_row.addWidget(self.status_badge)
        title_row.addStretch(1)
        for b in (self.note_button, self.hold_button, self.release_button, self.cancel_button):
            title_row.addWidget(b)

        self.hold_banner = QLabel()
        self.hold_banner.setObjectName("holdBanner")
        self.hold_banner.setWordWrap(True)
        self.hold_banner.hide()

        # -- cards
        self.promise_card = _Card(self.tr("Promise"), "promiseText")
        self.ship_to_card = _Card(self.tr("Ship to"), "shipToText")
        self.customer_card = _Card(self.tr("Customer"), "customerText")
        cards = QHBoxLayout()
        cards.setSpacing(12)
        for c in (self.promise_card, self.ship_to_card, self.customer_card):
            cards.addWidget(c, 1)

        # -- lines, allocations, shipments
        self.lines = _table("linesTable", [self.tr(h) for h in LINE_COLUMNS], stretch=1)
        self.cancel_line_button = QPushButton(self.tr("Cancel line…"))
        self.cancel_line_button.setObjectName("cancelLine")
        self.cancel_line_button.setProperty("danger", "true")
        self.allocations = _table("allocationsTable", [self.tr("Location"), self.tr("SKU"), self.tr("Units"), self.tr("Reserved")], stretch=1)
        self.shipments = _table("shipmentsTable", [self.tr("Shipment"), self.tr("Status"), self.tr("From"), self.tr("Carrier"),
                                                   self.tr("Tracking"), self.tr("Packages"), self.tr("Units"), self.tr("Shipped")], stretch=4)
        self.timeline = Timeline()
        # -- routing: the latest decision, in words and as the plans it weighed
        self.reroute_button = QPushButton(self.tr("Re-route…"))
        self.reroute_button.setObjectName("rerouteOrder")
        self.routing_text = QLabel()
        self.routing_text.setObjectName("routingText")
        self.routing_text.setTextFormat(Qt.TextFormat.RichText)
        self.routing_text.setWordWrap(True)
        self.routing_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.routing_plans = _table("routingPlans", [self.tr("Plan"), self.tr("Ships from"), self.tr("Est. shipping"),
                                                     self.tr("Arrives"), self.tr("Missing")], stretch=4)

        def section(title: str, widget: QWidget, extra: QWidget | None = None) -> QVBoxLayout:
            box = QVBoxLayout()
            box.setSpacing(6)
            head = QHBoxLayout()
            label = QLabel(title)
            label.setObjectName("sectionTitle")
            head.addWidget(label)
            head.addStretch(1)
            if extra is not None:
                head.addWidget(extra)
            box.addLayout(head)
            box.addWidget(widget)
            return box

        self.no_allocations = QLabel()
        self.no_allocations.setObjectName("hint")
        self.no_allocations.setWordWrap(True)
        self.no_shipments = QLabel(self.tr("Nothing has been packed or shipped yet."))
        self.no_shipments.setObjectName("hint")
        work = QWidget()
        work_layout = QVBoxLayout(work)
        work_layout.setContentsMargins(0, 0, 0, 0)
        work_layout.setSpacing(8)
        work_layout.addLayout(section(self.tr("Routing"), self.routing_text, self.reroute_button))
        work_layout.addWidget(self.routing_plans)
        work_layout.addSpacing(8)
        work_layout.addLayout(section(self.tr("Allocations"), self.allocations))
        work_layout.addWidget(self.no_allocations)
        work_layout.addSpacing(8)
        work_layout.addLayout(section(self.tr("Shipments"), self.shipments))
        work_layout.addWidget(self.no_shipments)
        # Customer service reprints for a customer or a carrier: the selected shipment, else the latest one.
        self.print_slip_button = QPushButton(self.tr("Print packing slip"))
        self.print_slip_button.setObjectName("printSlip")
        self.reprint_label_button = QPushButton(self.tr("Reprint label"))
        self.reprint_label_button.setObjectName("reprintLabel")
        print_row = QHBoxLayout()
        print_row.addWidget(self.print_slip_button)
        print_row.addWidget(self.reprint_label_button)
        print_row.addStretch(1)
        work_layout.addLayout(print_row)
        self.print_slip_button.clicked.connect(lambda: self.print_documents(slip=True))
        self.reprint_label_button.clicked.connect(lambda: self.print_documents(label=True))
        work_layout.addStretch(1)
        history = QWidget()
        history_layout = QVBoxLayout(history)
        history_layout.setContentsMargins(0, 0, 0, 0)
        history_layout.addLayout(section(self.tr("Timeline"), self.timeline))
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("detailSplitter")
        self.splitter.addWidget(work)
        self.splitter.addWidget(history)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setMinimumHeight(300)
        if not self.state.restore_splitter("detail", self.splitter):
            self.splitter.setSizes([10_000, 10_000])

        page = QWidget()
        page.setObjectName("detailPage")
        page_layout = QVBoxLayout(page)
        page_layout.setContentsMargins(0, 0, 6, 0)
        page_layout.setSpacing(14)
        page_layout.addLayout(cards)
        page_layout.addLayout(section(self.tr("Lines"), self.lines, self.cancel_line_button))
        # When a backordered line's stock is expected, and from which purchase order (the open POs say).
        self.expected_note = QLabel()
        self.expected_note.setObjectName("expectedNote")
        self.expected_note.setWordWrap(True)
        self.expected_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.expected_note.hide()
        page_layout.addWidget(self.expected_note)
        # The order's returns (RMAs), each with where it stands.
        self.returns_note = QLabel()
        self.returns_note.setObjectName("returnsNote")
        self.returns_note.setWordWrap(True)
        self.returns_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.returns_note.hide()
        page_layout.addWidget(self.returns_note)
        page_layout.addWidget(self.splitter, 1)
        scroll = QScrollArea()
        scroll.setObjectName("detailScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(page)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(8)
        layout.addLayout(title_row)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.hold_banner)
        layout.addWidget(scroll, 1)

        self.back_button.clicked.connect(self.back_requested)
        self.hold_button.clicked.connect(self.hold)
        self.release_button.clicked.connect(self.release)
        self.cancel_button.clicked.connect(self.cancel_order)
        self.note_button.clicked.connect(self.add_note)
        self.cancel_line_button.clicked.connect(self.cancel_line)
        self.reroute_button.clicked.connect(self.reroute)
        self.lines.itemSelectionChanged.connect(self._update_actions)
        self.setTabOrder(self.back_button, self.note_button)
        self.setTabOrder(self.note_button, self.hold_button)
        self.setTabOrder(self.hold_button, self.release_button)
        self.setTabOrder(self.release_button, self.cancel_button)
        self.setTabOrder(self.cancel_button, self.lines)
        self.setTabOrder(self.lines, self.cancel_line_button)
        self._update_actions()

    def save_state(self) -> None:
        self.state.save_splitter("detail", self.splitter)

    # -- loading -------------------------------------------------------------------------------------

    def show_order(self, order_id: int) -> None:
        self._requested = order_id

        def job(session):
            detail = desk.order_detail(session, order_id)
            packed = [x.id for x in detail.shipments if x.status == "packed"] if detail is not None else []
            return detail, {st.shipment_id: st for st in floor_queries.label_states(session, packed)}

        def done(result: tuple[OrderDetail | None, dict[int, LabelState]]) -> None:
            detail, self.label_states = result
            if self._requested != order_id:
                return
            if detail is None:
                self.message.emit(self.tr("That order no longer exists."))
                self.back_requested.emit()
                return
            self._render(detail)

        self.tasks.read(job, done, self.message.emit, owner=self)

    def refresh(self) -> None:
        if self.order is not None:
            self.show_order(self.order.id)

    def _render(self, d: OrderDetail) -> None:
        keep_line = self.lines.currentRow() if self.order is not None and self.order.id == d.id else -1
        self.order = d
        self.title.setText(d.number)
        self.status_badge.setText(orders.status_title(d.status))
        self.status_badge.setProperty("status", d.status)
        self.status_badge.style().unpolish(self.status_badge)
        self.status_badge.style().polish(self.status_badge)
        type_title = orders.ORDER_TYPE_TITLES.get(d.order_type, d.order_type)
        self.subtitle.setText(f"{d.channel_name}  ·  {d.external_id}  ·  {type_title}")
        if d.on_hold:
            self.hold_banner.setText(self.tr("On hold: {reason}").format(reason=d.hold_reason or self.tr("no reason given")))
            self.hold_banner.show()
        else:
            self.hold_banner.hide()

        state = fmt.ship_by_state(d.ship_by, d.status)
        ship_by = _esc(fmt.long_datetime(d.ship_by))
        if state == "late":
            ship_by = f"<span style='color:{fmt.LATE_COLOR.name()}; font-weight:600'>{ship_by} — {self.tr('late')}</span>"
        elif state == "today":
            ship_by = f"<span style='color:{fmt.DUE_TODAY_COLOR.name()}; font-weight:600'>{ship_by} — {self.tr('due today')}</span>"
        rows = [(self.tr("Placed"), _esc(fmt.long_datetime(d.placed_at))), (self.tr("Ship by"), ship_by),
                (self.tr("Deliver by"), _esc(fmt.long_datetime(d.deliver_by))), (self.tr("Service"), _esc(wording.service_level(d.service_level)))]
        if d.shipped_at:
            rows.append((self.tr("Shipped"), _esc(fmt.long_datetime(d.shipped_at))))
        if d.delivered_at:
            rows.append((self.tr("Delivered"), _esc(fmt.long_datetime(d.delivered_at))))
        if d.cancelled_at:
            rows.append((self.tr("Cancelled"), _esc(fmt.long_datetime(d.cancelled_at))))
        self.promise_card.body.setText(self._facts(rows))
        address = "<br>".join(_esc(line) for line in d.ship_to) or self.tr("No address")
        if d.phone:
            address += f"<br><span style='color:{fmt.MUTED_COLOR.name()}'>{_esc(d.phone)}</span>"
        self.ship_to_card.body.setText(address)
        self.customer_card.body.setText(self._facts([
            (self.tr("Name"), _esc(d.customer_name or "—")), (self.tr("Email"), _esc(d.customer_email or "—")),
            (self.tr("Total"), _esc(d.total)), (self.tr("Ships from"), _esc(d.location or self.tr("not routed yet"))),
            *([(self.tr("3PL"), _esc(d.partner))] if d.partner else []),
        ]))

        self.lines.setRowCount(len(d.lines))
        for r, l in enumerate(d.lines):
            values = [wording.sku(l.sku), l.description, l.ordered, l.allocated, l.backordered, l.picked, l.packed, l.shipped, l.cancelled, l.returned]
            for c, v in enumerate(values):
                item = _item(v if c < 2 or v else "·", right=c >= 2, muted=c >= 2 and not v, bold=c == 0)
                if c == 0 and l.unknown_sku:
                    item.setForeground(fmt.LATE_COLOR)
                    item.setToolTip(self.tr("Unknown SKU: not in the catalogue"))
                if c == 4 and v:
                    item.setForeground(fmt.DUE_TODAY_COLOR)
                    if l.expected_text:
                        item.setToolTip(l.expected_text)
                self.lines.setItem(r, c, item)
        if 0 <= keep_line < len(d.lines):
            self.lines.selectRow(keep_line)
        waiting = [self.tr("{sku}: {n} backordered, {expected}").format(sku=l.sku, n=l.backordered, expected=l.expected_text)
                   for l in d.lines if l.backordered and l.expected_text]
        self.expected_note.setText("\n".join(waiting))
        self.expected_note.setVisible(bool(waiting))
        rmas = [self.tr("Return {number}: {status} · {back} of {units} back · {reason} · {resolution} wanted").format(
            number=r.number, status=r.status_title, back=r.received, units=r.units, reason=r.reason, resolution=r.resolution)
            for r in d.rmas]
        self.returns_note.setText("\n".join(rmas))
        self.returns_note.setVisible(bool(rmas))
        self.allocations.setRowCount(len(d.allocations))
        for r, a in enumerate(d.allocations):
            for c, v in enumerate([a.location, a.sku, a.quantity, fmt.short_datetime(a.at)]):
                self.allocations.setItem(r, c, _item(v, right=c == 2))
        self.allocations.setVisible(bool(d.allocations))
        self.no_allocations.setText(
            self.tr("Reserved at {location}.").format(location=d.location) if d.allocations and d.location else
            self.tr("Nothing is reserved for this order.") if d.is_open else self.tr("Nothing is reserved: the order is closed."))
        self.shipments.setVisible(bool(d.shipments))
        self.no_shipments.setVisible(not d.shipments)
        self.shipments.setRowCount(len(d.shipments))
        for r, s in enumerate(d.shipments):
            carrier = " ".join(p for p in (s.carrier, s.service) if p) or "—"
            values = [f"#{s.id}", self._shipment_status(s), s.location, carrier, s.tracking_number or "—", s.packages, s.units,
                      fmt.short_datetime(s.shipped_at) or "—"]
            for c, v in enumerate(values):
                self.shipments.setItem(r, c, _item(v, right=c in (5, 6), muted=s.status == "voided"))
        self._render_routing(d)
        for t in (self.lines, self.allocations, self.shipments, self.routing_plans):
            _fit_height(t)

        self.timeline.set_entries(d.timeline)
        self._update_actions()
        self.loaded.emit(d.id)

    def _render_routing(self, d: OrderDetail) -> None:
        r = d.routing
        if r is None:
            self.routing_text.setText(f"<span style='color:{fmt.MUTED_COLOR.name()}'>"
                                      + _esc(self.tr("Not routed yet.")) + "</span>")
            self.routing_plans.setRowCount(0)
            self.routing_plans.hide()
            return
        outcome = {"allocated": self.tr("Allocated"), "split": self.tr("Allocated, split"),
                   "partial": self.tr("Part backordered"), "backordered": self.tr("Backordered"),
                   "held": self.tr("Held")}.get(r.outcome, r.outcome.capitalize())
        muted = fmt.MUTED_COLOR.name()
        times = self.tr(" · routed {n} times").format(n=r.decisions) if r.decisions > 1 else ""
        late = ""
        if r.late:  # the chosen plan misses the promise: said in red, as a late ship-by is
            late = (f"<br><span style='color:{fmt.LATE_COLOR.name()}; font-weight:600'>"
                    + _esc(self.tr("Late: arrives {day}, promised {promise}").format(
                        day=r.plans[0].delivery.strftime("%a %d %b"), promise=r.promise.strftime("%a %d %b")))
                    + "</span>")
        self.routing_text.setText(
            f"<b>{_esc(outcome)}</b> <span style='color:{muted}'>· {_esc(fmt.long_datetime(r.at))}{_esc(times)}</span>"
            f"<br>{_esc(r.explanation)}{late}")
        self.routing_plans.setRowCount(len(r.plans))
        for row, p in enumerate(r.plans):
            label = self.tr("Chosen") if p.chosen else self.tr("Option {n}").format(n=row + 1)
            values = [label, " + ".join(p.locations) or "—", p.cost or self.tr("no rate"),
                      p.delivery.strftime("%a %d %b") if p.delivery else "—", ", ".join(p.short) or "—"]
            for c, v in enumerate(values):
                item = _item(v, right=c == 2, bold=p.chosen, muted=not p.chosen and c == 0)
                if c == 3 and p.late:
                    item.setForeground(fmt.LATE_COLOR)
                    item.setToolTip(self.tr("Arrives after the day promised to the customer"))
                if c == 4 and p.short:
                    item.setForeground(fmt.DUE_TODAY_COLOR)
                    item.setToolTip(self.tr("No location in this plan has: {items}").format(items=", ".join(p.short)))
                self.routing_plans.setItem(row, c, item)
        self.routing_plans.setVisible(bool(r.plans))

    def _facts(self, rows: list[tuple[str, str]]) -> str:
        cells = "".join(
            f"<tr><td style='color:{fmt.MUTED_COLOR.name()}; padding-right:14px; padding-bottom:3px'>{_esc(k)}</td>"
            f"<td style='padding-bottom:3px'>{v}</td></tr>" for k, v in rows)
        return f"<table cellspacing='0' cellpadding='0'>{cells}</table>"

    def selected_line(self) -> desk.LineView | None:
        if self.order is None:
            return None
        rows = self.lines.selectionModel().selectedRows()
        if not rows:
            return None
        r = rows[0].row()
        return self.order.lines[r] if r < len(self.order.lines) else None

    def chosen_shipment(self):
        """The shipment row selected in the table, else the latest one that is not void."""
        d = self.order
        if d is None or not d.shipments:
            return None
        rows = self.shipments.selectionModel().selectedRows() if self.shipments.selectionModel() else []
        if rows and rows[0].row() < len(d.shipments):
            return d.shipments[rows[0].row()]
        live = [x for x in d.shipments if x.status != "voided"]
        return live[-1] if live else None

    def _shipment_status(self, s) -> str:
        """A packed box waiting on the carrier says so: its label is awaited, refused, or ready to print."""
        st = self.label_states.get(s.id)
        if s.status != "packed" or st is None or not st.state:
            return {"packed": self.tr("Packed"), "shipped": self.tr("Shipped"), "voided": self.tr("Voided")}.get(
                s.status, s.status.capitalize())
        return {"ready": self.tr("Packed — label ready to print"), "refused": self.tr("Packed — label refused by the carrier"),
                "offline": self.tr("Packed — awaiting label (carrier offline)")}.get(st.state, self.tr("Packed — awaiting label"))

    def _label_ready(self, shipment_id: int) -> bool:
        st = self.label_states.get(shipment_id)
        return st is not None and st.state == "ready"

    def print_documents(self, *, slip: bool = False, label: bool = False) -> None:
        shipment = self.chosen_shipment()
        if shipment is None:
            self.message.emit(self.tr("This order has no shipment to print for."))
            return

        def done(outcome) -> None:
            self.message.emit(outcome.summary())

        # A label that was only ready and has now gone to the printer ships the box: that write refreshes the order.
        print_shipment(self.tasks, shipment.id, None, label=label, slip=slip, done=done,
                       error=lambda m: self.message.emit(m), owner=self, actor=self.actor)

    def _update_actions(self) -> None:
        d = self.order
        self.hold_button.setVisible(d is None or not d.on_hold)
        self.release_button.setVisible(d is not None and d.on_hold)
        self.hold_button.setEnabled(d is not None and d.is_open and not d.on_hold)
        self.release_button.setEnabled(d is not None and d.on_hold)
        self.cancel_button.setEnabled(d is not None and d.can_cancel)
        self.note_button.setEnabled(d is not None)
        has_shipment = d is not None and any(x.status != "voided" for x in d.shipments)
        self.print_slip_button.setEnabled(has_shipment)
        self.reprint_label_button.setEnabled(d is not None and any(x.status == "shipped" or self._label_ready(x.id)
                                                                   for x in d.shipments))
        why = self.reroute_refusal()
        self.reroute_button.setEnabled(d is not None and why is None)
        self.reroute_button.setToolTip(why or self.tr("Give back this order's reservations and route it again"))
        line = self.selected_line()
        self.cancel_line_button.setEnabled(line is not None and line.cancellable > 0)
        if d is not None and not d.can_cancel and d.is_open:
            self.cancel_button.setToolTip(self.tr("Items are picked or shipped: cancel the remaining lines one by one."))
        else:
            self.cancel_button.setToolTip("")

    # -- actions -------------------------------------------------------------------------------------

    def _change(self, fn, done_text: str) -> None:
        d = self.order
        if d is None:
            return

        def finished(_result) -> None:  # the order is read again from what the change changed (MainWindow.apply_changes)
            self.message.emit(done_text)

        def failed(message: str) -> None:
            self.message.emit(message)
            from desktop.qt import QMessageBox

            QMessageBox.warning(self, self.tr("Not done"), message)
            self.refresh()

        self.tasks.write(fn, finished, failed, owner=self)

    def hold(self) -> None:
        d = self.order
        if d is None or self._refused("orders.hold"):
            return
        dialog = ReasonDialog(self, self.tr("Put {number} on hold").format(number=d.number),
                              self.tr("Order {number} leaves the pick and ship queues until someone releases it.").format(number=d.number),
                              self.tr("Put on hold"), suggestions=hold_reasons())
        if dialog.exec() == ReasonDialog.DialogCode.Accepted:
            reason = dialog.reason()
            self._change(lambda s: orders.hold(s, self.actor, d.id, reason),
                         self.tr("{number} is on hold.").format(number=d.number))

    def release(self) -> None:
        d = self.order
        if d is None:
            return
        dialog = ReasonDialog(self, self.tr("Release {number}").format(number=d.number),
                              self.tr("On hold: {reason}\n\nWhy may it go ahead now?").format(reason=d.hold_reason),
                              self.tr("Release hold"), placeholder=self.tr("What was resolved (required)"))
        if dialog.exec() == ReasonDialog.DialogCode.Accepted:
            note = dialog.reason()
            self._change(lambda s: orders.release_hold(s, self.actor, d.id, note),
                         self.tr("{number} is released.").format(number=d.number))

    def _refused(self, permission: str) -> bool:
        """Say at once what the person may not do (the service refuses it anyway), before any dialog asks more."""
        try:
            users.require(self.actor, permission)
        except NotPermitted as e:
            self.message.emit(str(e))
            return True
        return False

    def cancel_order(self) -> None:
        d = self.order
        if d is None or self._refused("orders.cancel"):
            return
        dialog = ReasonDialog(self, self.tr("Cancel order {number}").format(number=d.number),
                              self.tr("Cancel every open line of {number}? Reserved stock is given back and {channel} is told. "
                                      "This cannot be undone.").format(number=d.number, channel=d.channel_name),
                              self.tr("Cancel order"), danger=True,
                              suggestions=(self.tr("Customer asked to cancel"), self.tr("Suspected fraud")))
        if dialog.exec() == ReasonDialog.DialogCode.Accepted:
            reason = dialog.reason()
            self._change(lambda s: orders.cancel_order(s, self.actor, d.id, reason=reason),
                         self.tr("{number} is cancelled.").format(number=d.number))

    def cancel_line(self) -> None:
        d, line = self.order, self.selected_line()
        if d is None or line is None or self._refused("orders.cancel"):
            return
        dialog = CancelLineDialog(self, d.number, line.sku, line.cancellable)
        if dialog.exec() == CancelLineDialog.DialogCode.Accepted:
            qty, reason = dialog.quantity.value(), dialog.reason()
            self._change(lambda s: orders.cancel_line(s, self.actor, line.id, qty, reason=reason),
                         self.tr("Cancelled {qty} × {sku}.").format(qty=qty, sku=line.sku))

    def reroute_refusal(self) -> str | None:
        d = self.order
        if d is None:
            return None
        return routing.reroute_refusal(d.status, d.on_hold, sum(l.picked + l.packed for l in d.lines))

    def reroute(self) -> None:
        d = self.order
        if d is None:
            return
        why = self.reroute_refusal()
        if why:
            from desktop.qt import QMessageBox

            QMessageBox.information(self, self.tr("Cannot re-route {number}").format(number=d.number), why)
            return
        dialog = RerouteDialog(self, 1, d.number)
        if dialog.exec() == RerouteDialog.DialogCode.Accepted:
            reason = dialog.reason()
            self._change(lambda s: fulfilment.reroute_order(s, self.actor, d.id, reason=reason),
                         self.tr("{number} re-routed.").format(number=d.number))

    def add_note(self) -> None:
        d = self.order
        if d is None:
            return
        dialog = NoteDialog(self, d.number)
        if dialog.exec() == NoteDialog.DialogCode.Accepted:
            text = dialog.text()
            self._change(lambda s: orders.add_note(s, self.actor, d.id, text), self.tr("Note added."))

    # -- keyboard and scanner ----------------------------------------------------------------------------

    def focus_search(self) -> None:
        self.back_requested.emit()

    def go_back(self) -> bool:
        self.back_requested.emit()
        return True

    def accepts_scan(self, scan: Scan) -> bool:
        return accepts_order_scan(scan)

    def handle_scan(self, scan: Scan) -> None:
        find_scanned_order(self, scan, self.show_order)
