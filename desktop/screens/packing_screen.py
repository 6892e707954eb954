"""Packing: scan a tote, scan every item into the box (wrong ones refused loudly), choose the box, weigh, complete, print."""

from __future__ import annotations

from dataclasses import dataclass, field

from desktop import formatting as fmt
from desktop.order_scan import choose_order
from desktop.print_jobs import PrintOutcome, print_shipment, reprint_label
from desktop.qt import (
    QAbstractItemView,
    QColor,
    QHBoxLayout,
    QHeaderView,
    QIntValidator,
    QKeySequence,
    QLineEdit,
    QPushButton,
    QShortcut,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.screens.picking_screen import scan_code
from desktop.station import STATION_QSS, ScanStatus, card, label, repolish
from desktop.sync_worker import clock_time
from desktop.tasks import Tasks
from desktop.window_state import WindowState
from oms import fulfilment
from oms.core.audit import Actor
from oms.core.errors import NotFound, SeveralMatches
from oms.core.gs1 import Scan
from oms.core.settings import Settings
from oms.fulfilment import floor_queries
from oms.fulfilment import BoxInfo, ToteToPack
from oms.fulfilment.floor import PackedBox, PackingView, PackResult
from oms.fulfilment.floor_queries import LabelState

COMMAND_COMPLETE = ("COMPLETE", "DONE")
COMMAND_NEW_BOX = "NEWBOX"
BOX_PREFIX = "BOX-"
LABEL_POLL_MS = 2000
LINE_HEIGHT = 44  # seven lines and the table's header fit at 1366x768 with everything else on screen
COMPLETE_KEY = Qt.Key.Key_F10
NEW_BOX_KEY = Qt.Key.Key_F7
REPRINT_KEY = Qt.Key.Key_F4

OK_BG = QColor("#d1fadf")
PART_BG = QColor("#fef0c7")

__all__ = ["BoxInfo", "PackingScreen", "reprint_label"]


@dataclass
class _Box:
    preset: BoxInfo | None
    items: dict[int, int] = field(default_factory=dict)  # line id -> units
    weight_g: int | None = None  # typed or read from the scale; None: the estimate


class PackingScreen(QWidget):
    """Maria's station: one order at a time, every unit scanned, the label and slip printed on their own."""

    scan_result = Signal(object, str)  # ok (bool), message
    message = Signal(str)
    changed = Signal()  # the screen shows the outcome of a scan or action (tests wait for it)
    packed = Signal(object)  # PackResult
    printed = Signal(object)  # PrintOutcome
    label_requested = Signal()  # a carrier label was asked for: the carrier's sync may run now

    def __init__(self, tasks: Tasks, actor: Actor, state: WindowState, settings: Settings, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("packingScreen")
        self.setStyleSheet(STATION_QSS)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.tasks = tasks
        self.actor = actor
        self.state = state
        self.settings = settings
        self.view: PackingView | None = None
        self.boxes: list[_Box] = []
        self.presets: list[BoxInfo] = []
        self.last_line: int | None = None
        self.last_shipment: int | None = None
        self.last_result: PackResult | None = None
        self.last_print: PrintOutcome | None = None
        self.waiting: list[ToteToPack] = []  # the totes picked and not yet packed, shown while no order is open
        self.awaiting: dict[int, str] = {}  # shipment id -> order number, waiting for the carrier's label
        self.label_states: dict[int, LabelState] = {}  # the newest word on each awaited label
        self._partial_armed = False

        # -- the order
        # Two rows, so that seven lines of an order still fit under it at 1366x768: the order, what kind of order it
        # is and how many items are left in all; then where it goes, whole (a long address wraps).
        head_card, head = card("packCard")
        head.setContentsMargins(24, 12, 24, 12)
        head.setSpacing(2)
        self.order_label = label(self.tr("Scan a tote or an order number"), "bigOrder")
        self.left_label = label("", "itemsLeft")
        self.ship_label = label("", "bigText", wrap=True)
        self.kind_label = label("", "stationHint", wrap=True)  # two short lines beside a long order number
        top = QHBoxLayout()
        top.setSpacing(16)
        top.addWidget(self.order_label)
        top.addWidget(self.kind_label, 1, Qt.AlignmentFlag.AlignVCenter)  # all the width between: two lines, not three
        top.addWidget(self.left_label, 0, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        head.addLayout(top)
        head.addWidget(self.ship_label)

        self.lines = QTableWidget(0, 4)
        self.lines.setObjectName("packLines")
        self.lines.setHorizontalHeaderLabels([self.tr("SKU"), self.tr("Item"), self.tr("Scanned"), self.tr("To pack")])
        self.lines.verticalHeader().hide()
        self.lines.verticalHeader().setDefaultSectionSize(LINE_HEIGHT)
        self.lines.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.lines.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.lines.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.lines.setShowGrid(False)
        self.lines.setWordWrap(False)
        hh = self.lines.horizontalHeader()
        hh.setHighlightSections(False)
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)

        # -- box, weight, quantity
        self.box_row = QHBoxLayout()
        self.box_row.setSpacing(8)
        self.box_buttons: list[QPushButton] = []
        self.box_title = label(self.tr("Box"), "stationHead")
        self.box_row.addWidget(self.box_title)
        self.box_row.addStretch(1)
        self.qty_edit = QLineEdit()
        self.qty_edit.setObjectName("bigEdit")
        self.qty_edit.setValidator(QIntValidator(1, 99999, self))
        self.qty_edit.setMaximumWidth(130)
        self.qty_edit.setPlaceholderText("1")
        self.weight_edit = QLineEdit()
        self.weight_edit.setObjectName("bigEdit")
        self.weight_edit.setMaximumWidth(170)
        entry = QHBoxLayout()
        entry.setSpacing(10)
        entry.addWidget(label(self.tr("Quantity (Q)"), "stationHead"))
        entry.addWidget(self.qty_edit)
        entry.addSpacing(20)
        entry.addWidget(label(self.tr("Weight kg (W)"), "stationHead"))
        entry.addWidget(self.weight_edit)
        # A manual carrier (a local courier, a freight truck): its tracking number typed or scanned after T.
        self.tracking_edit = QLineEdit()
        self.tracking_edit.setObjectName("trackingEdit")
        self.tracking_edit.setMinimumWidth(220)
        self.tracking_edit.setMaximumWidth(300)
        self.tracking_edit.setPlaceholderText(self.tr("Courier's tracking number"))
        self.tracking_edit.setToolTip(self.tr("Tracking number of a manual carrier: press T, then scan or type it"))
        self.box_row.addWidget(label(self.tr("Manual tracking (T)"), "stationHead"))
        self.box_row.addWidget(self.tracking_edit)
        self._expect_tracking = False
        entry.addStretch(1)
        self.new_box_button = QPushButton(self.tr("Another box (F7)"))
        self.complete_button = QPushButton(self.tr("Complete (F10)"))
        self.complete_button.setObjectName("primaryButton")
        self.reprint_button = QPushButton(self.tr("Reprint label (F4)"))
        for b in (self.new_box_button, self.complete_button, self.reprint_button):
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            entry.addWidget(b)

        self.status = ScanStatus(self.tr("Scan a tote or an order number."))
        self.print_label = label("", "printStatus", wrap=True)
        self.awaiting_label = label("", "awaiting", wrap=True)
        self.awaiting_label.hide()
        self.keys_hint = label(self.tr("Keys: 1–9 box · Q quantity · W weight · T manual tracking · Enter or F10 complete "
                                       "(F10 twice: ship what is scanned) · F7 another box · Esc put aside"),
                               "keysHint", wrap=True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 12)
        layout.setSpacing(10)
        layout.addWidget(head_card)
        layout.addWidget(self.lines, 1)
        layout.addLayout(self.box_row)
        layout.addLayout(entry)
        layout.addWidget(self.status)
        layout.addWidget(self.print_label)
        layout.addWidget(self.awaiting_label)
        layout.addWidget(self.keys_hint)

        self.new_box_button.clicked.connect(self.new_box)
        self.complete_button.clicked.connect(lambda: self.complete(force=False))
        self.reprint_button.clicked.connect(self.reprint_last_label)
        self.qty_edit.returnPressed.connect(self._quantity_entered)
        self.weight_edit.returnPressed.connect(self._weight_entered)
        for key, slot in ((COMPLETE_KEY, lambda: self.complete(force=False)), (NEW_BOX_KEY, self.new_box),
                          (REPRINT_KEY, self.reprint_last_label)):
            sc = QShortcut(QKeySequence(key), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
        self.poll = QTimer(self)
        self.poll.setInterval(LABEL_POLL_MS)
        self.poll.timeout.connect(self.check_labels)
        self.tasks.write(fulfilment.box_choices, self._presets_loaded, self.message.emit, owner=self)
        self._show()
        self._pick_up_awaited_labels()
        self._load_waiting()

    # -- the screen protocol ---------------------------------------------------------------------------

    def save_state(self) -> None:
        pass

    def focus_search(self) -> None:
        self.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if not event.spontaneous():  # totes picked meanwhile are in the list when the packer gets here
            self._load_waiting()

    #: What another station (or this one's sync) may change under the packer: read again when it does.
    WATCHES = ("orders", "fulfilment", "shipping")

    def refresh(self) -> None:
        if self.view is not None:
            self._reload()
        self._load_waiting()
        self.check_labels()

    def _load_waiting(self) -> None:
        self.tasks.read(lambda s: fulfilment.totes_to_pack(s, limit=200), self._waiting_loaded, lambda _m: None, owner=self,
                        latest="waiting")

    def _waiting_loaded(self, waiting: list[ToteToPack]) -> None:
        self.waiting = waiting
        if self.view is None:
            self._show()

    def waiting_text(self) -> str:
        """The totes waiting at the bench, in words: a batch cart once, with how many orders it carries."""
        if not self.waiting:
            return ""
        orders: dict[str, int] = {}
        for t in self.waiting:
            orders[t.tote] = orders.get(t.tote, 0) + 1
        shown = [tote if n == 1 else self.tr("{tote} ({n} orders)").format(tote=tote, n=n) for tote, n in list(orders.items())[:6]]
        more = len(orders) - len(shown)
        text = ", ".join(shown) + (" " + self.tr("and {n} more").format(n=more) if more > 0 else "")
        return (self.tr("1 tote waits to be packed: {totes}") if len(orders) == 1 else
                self.tr("{n} totes wait to be packed: {totes}")).format(n=len(orders), totes=text)

    def go_back(self) -> bool:
        if self.qty_edit.hasFocus() or self.weight_edit.hasFocus():
            self.qty_edit.clear()
            self.setFocus()
            return True
        if self.view is not None:
            number = self.view.number
            self._reset()
            self.status.show_state(self.tr("Order {n} put aside; nothing was packed. Scan the next tote.").format(n=number))
            self.changed.emit()
            return True
        return False

    def accepts_scan(self, scan: Scan) -> bool:
        return scan.kind in ("text", "gtin", "gs1")

    # -- state -----------------------------------------------------------------------------------------------

    @property
    def box(self) -> _Box | None:
        return self.boxes[-1] if self.boxes else None

    def totals(self) -> dict[int, int]:
        out: dict[int, int] = {}
        for b in self.boxes:
            for line_id, n in b.items.items():
                out[line_id] = out.get(line_id, 0) + n
        return out

    def missing(self) -> list[str]:
        if self.view is None:
            return []
        totals = self.totals()
        return [f"{l.sku} ×{l.expected - totals.get(l.line_id, 0)}" for l in self.view.lines
                if l.expected - totals.get(l.line_id, 0) > 0]

    def all_scanned(self) -> bool:
        return self.view is not None and bool(self.totals()) and not self.missing()

    def _default_preset(self) -> BoxInfo | None:
        return fulfilment.default_box(self.presets, self.view)

    def estimate_g(self, box: _Box) -> int:
        return fulfilment.estimated_weight_g(self.view, box.preset, box.items)

    def _reset(self) -> None:
        self.view = None
        self.boxes = []
        self.last_line = None
        self._partial_armed = False
        self.qty_edit.clear()
        self.weight_edit.clear()
        self.tracking_edit.clear()
        self._expect_tracking = False
        self._show()
        self.setFocus()

    # -- showing -----------------------------------------------------------------------------------------------------

    def _presets_loaded(self, presets: list[BoxInfo]) -> None:
        self.presets = presets
        for b in self.box_buttons:
            b.deleteLater()
        self.box_buttons = []
        for i, p in enumerate(presets[:9]):
            b = QPushButton(f"{i + 1}  {p.code}")
            b.setObjectName("boxChoice")
            b.setToolTip(p.name)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(lambda _=False, code=p.code: self.choose_box(code))
            self.box_row.insertWidget(1 + i, b)
            self.box_buttons.append(b)
        self._show()

    def _show(self) -> None:
        v = self.view
        if v is None:
            self.order_label.setText(self.tr("Scan a tote or an order number"))
            self.left_label.setText("")
            self.ship_label.setText(self.waiting_text())
            self.kind_label.setText("")
            self.lines.setRowCount(0)
        else:
            self.order_label.setText(self.tr("Order {n}").format(n=v.number))
            self.ship_label.setText(v.ship_to)
            kind = [v.channel_name or v.channel, v.service]
            if v.wholesale:
                kind.append(self.tr("SSCC label on each carton"))
            self.kind_label.setText(" · ".join(k for k in kind if k))
            totals = self.totals()
            expected = sum(l.expected for l in v.lines)
            left = sum(max(0, l.expected - totals.get(l.line_id, 0)) for l in v.lines)
            if left:
                text = self.tr("1 item left to scan") if left == 1 else self.tr("{n} items left to scan").format(n=left)
            else:
                text = self.tr("1 item scanned") if expected == 1 else self.tr("All {n} items scanned").format(n=expected)
            self.left_label.setText(text)
            repolish(self.left_label, state="done" if not left else "")
            # What is in the tote to pack comes first; a line with nothing picked (backordered, or still on the
            # shelf) is listed after it, quiet, so the packer knows it is not missing from the tote.
            rows = [l for l in v.lines if l.expected] + [l for l in v.lines if not l.expected]
            self.lines.setRowCount(len(rows))
            for r, line in enumerate(rows):
                got = totals.get(line.line_id, 0)
                waiting = not line.expected
                values = ([line.sku, self.tr("{item} — not picked, stays on the order").format(item=line.description), "", "—"]
                          if waiting else [line.sku, line.description, f"{got}", f"{line.expected}"])
                bg = OK_BG if got >= line.expected > 0 else PART_BG if got else None
                for c, text in enumerate(values):
                    item = QTableWidgetItem(text)
                    if c >= 2:
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                    if waiting:
                        item.setForeground(fmt.MUTED_COLOR)
                    elif c in (0, 2, 3):
                        f = item.font()
                        f.setBold(True)
                        if c >= 2:
                            f.setPointSizeF(f.pointSizeF() * 1.4)  # the counts are what the packer reads from a step back
                        item.setFont(f)
                    if bg is not None:
                        item.setBackground(bg)
                    self.lines.setItem(r, c, item)
        box = self.box
        chosen = box.preset.code if box and box.preset else (self._default_preset().code if self._default_preset() else "")
        for b, p in zip(self.box_buttons, self.presets):
            repolish(b, chosen="true" if p.code == chosen else "false")
        n = len(self.boxes)
        self.box_title.setText(self.tr("Box {i} of {n}").format(i=n, n=n) if n > 1 else self.tr("Box"))
        if box is not None and box.weight_g is None:
            self.weight_edit.setPlaceholderText(self.tr("≈ {kg:.2f}").format(kg=self.estimate_g(box) / 1000))
        elif box is None:
            self.weight_edit.setPlaceholderText("")
        self.complete_button.setEnabled(v is not None)
        self.new_box_button.setEnabled(v is not None)
        self.reprint_button.setEnabled(self.last_shipment is not None)
        if self.awaiting:
            text, act = self._awaiting_text()
            self.awaiting_label.setText(text)
            repolish(self.awaiting_label, state="error" if act else "")
            self.awaiting_label.show()
        else:
            self.awaiting_label.hide()

    def _awaiting_text(self) -> tuple[str, bool]:
        """What the packer reads about the labels still to come, grouped by why they wait; True when one needs a person."""
        groups: dict[str, list[str]] = {}
        for sid, number in self.awaiting.items():
            st = self.label_states.get(sid)
            groups.setdefault(st.state if st else "waiting", []).append(number)
        parts, act = [], False
        for state, numbers in groups.items():
            orders = ", ".join(numbers)
            if state == "offline":
                st = next(self.label_states[sid] for sid in self.awaiting if sid in self.label_states
                          and self.label_states[sid].state == "offline")
                since = clock_time(st.offline_since) if st.offline_since else ""
                parts.append((self.tr("Awaiting label for {orders}: the carrier cannot be reached (offline since {time}). "
                                      "Set the box aside; its label prints by itself when the network is back.")
                              if since else self.tr("Awaiting label for {orders}: the carrier cannot be reached. Set the box "
                                                    "aside; its label prints by itself when the network is back."))
                             .format(orders=orders, time=since))
            elif state == "refused":
                act = True
                why = "; ".join(dict.fromkeys(self.label_states[sid].error for sid in self.awaiting
                                              if sid in self.label_states and self.label_states[sid].state == "refused"))
                parts.append(self.tr("No label for {orders}: the carrier refused it ({why}). A wrong address: correct it on "
                                     "the order, void the shipment there and pack the box again. Otherwise fix the cause and "
                                     "press Send again on the Sync screen.").format(orders=orders, why=why))
            elif state == "retrying":
                parts.append(self.tr("Awaiting label for {orders}: the carrier answered with an error; asking again. Its "
                                     "label prints by itself when it comes.").format(orders=orders))
            else:
                parts.append(self.tr("Awaiting label from the carrier for {orders}; it prints by itself when it comes.")
                             .format(orders=orders))
        return "\n".join(parts), act

    def _answer(self, ok: bool, text: str) -> None:
        self.status.show_state(text, "ok" if ok else "error")
        self.scan_result.emit(ok, text)
        self.changed.emit()

    # -- opening an order --------------------------------------------------------------------------------------

    def open_order(self, code: str, *, from_scan: bool = True, order_id: int | None = None) -> None:
        def job(session):
            try:
                oid = order_id if order_id is not None else fulfilment.find_for_packing(session, code)
            except SeveralMatches as several:  # the packer chooses which one
                return several
            return fulfilment.packing_view(session, oid)

        def done(result) -> None:
            if isinstance(result, SeveralMatches):
                self._answer(True, str(result))
                choose_order(self, code, result.matches, lambda oid: self.open_order(code, from_scan=from_scan, order_id=oid))
                return
            self._opened(result, from_scan)

        self.tasks.read(job, done, lambda m: self._answer(False, m) if from_scan else self.message.emit(m), owner=self)

    def _opened(self, view: PackingView, from_scan: bool) -> None:
        why = self._refusal(view)
        if why:
            self._answer(False, why)
            return
        self.view = view
        self.boxes = [_Box(self._default_preset())]
        self.last_line = None
        self._partial_armed = False
        self.weight_edit.clear()
        self.setFocus()
        self._show()
        units = sum(l.expected for l in view.lines)
        self._answer(True, self.tr("Order {n}: {units} items to scan").format(n=view.number, units=units))

    def _reload(self) -> None:
        oid = self.view.order_id
        self.tasks.read(lambda s: fulfilment.packing_view(s, oid), self._reloaded, self.message.emit, owner=self,
                        latest="reload")

    def _reloaded(self, view: PackingView) -> None:
        if self.view is None or self.view.order_id != view.order_id:  # put aside or packed meanwhile
            return
        why = self._refusal(view, changed=True)
        if why:  # customer service held it, or it was packed, on another station: the packer stops here
            self._reset()
            self._answer(False, why)
            self.message.emit(why)
            return
        self.view = view
        self._show()

    def _refusal(self, view: PackingView, *, changed: bool = False) -> str | None:
        """Why this order must not be packed now, in the packer's words; None when it may. ``changed``: it was open
        at this bench when another station changed it."""
        if view.status == "cancelled":
            return (self.tr("Order {n} was cancelled meanwhile: do not pack it. Set its tote aside.") if changed
                    else self.tr("Order {n} is cancelled; do not pack it.")).format(n=view.number)
        if view.on_hold:
            return (self.tr("Order {n} was put on hold meanwhile ({reason}): do not pack it. Set its tote aside.") if changed
                    else self.tr("Order {n} is on hold ({reason}); do not pack it.")).format(n=view.number,
                                                                                             reason=view.hold_reason)
        if not any(l.expected for l in view.lines):
            return (self.tr("Order {n} was packed or changed at another station: nothing of it waits to be packed here.")
                    if changed else self.tr("Nothing of order {n} is picked and waiting to be packed.")).format(n=view.number)
        return None

    # -- scanning -----------------------------------------------------------------------------------------------

    def handle_scan(self, scan: Scan) -> None:
        code = scan_code(scan)
        upper = code.upper()
        if self._expect_tracking:
            self._expect_tracking = False
            self.tracking_edit.setText(scan.raw.strip() or code)
            self.setFocus()
            self._answer(True, self.tr("Manual carrier, tracking {t}").format(t=self.tracking_edit.text()))
            return
        if upper in COMMAND_COMPLETE:
            self.complete(force=False)
            return
        if upper == COMMAND_NEW_BOX:
            self.new_box()
            return
        if upper.startswith(BOX_PREFIX):
            self.choose_box(code[len(BOX_PREFIX):], from_scan=True)
            return
        if self.view is None:
            self.open_order(code)
            return
        self.add_item(code, self._typed_quantity())

    def _typed_quantity(self) -> int:
        text = self.qty_edit.text().strip()
        return int(text) if text.isdigit() and int(text) > 0 else 1

    def add_item(self, code: str, quantity: int = 1) -> None:
        view = self.view
        totals = self.totals()
        verdict = fulfilment.check_pack_scan(view, code, totals)
        if verdict.ok:
            line = next(l for l in view.lines if l.line_id == verdict.line_id)
            room = line.expected - totals.get(line.line_id, 0)
            if quantity > room:
                self.qty_edit.clear()
                self._answer(False, self.tr("Too many: only {n} more {sku} belong in this order.").format(n=room, sku=line.sku))
                return
            box = self.box
            box.items[line.line_id] = box.items.get(line.line_id, 0) + quantity
            self.last_line = line.line_id
            self._partial_armed = False
            self.qty_edit.clear()
            self.setFocus()
            self._show()
            got = totals.get(line.line_id, 0) + quantity
            text = self.tr("{sku}: {n} of {q}").format(sku=line.sku, n=got, q=line.expected)
            if self.all_scanned():
                text = self.tr("{item} — all scanned: check the weight, then Enter").format(item=text)
            self._answer(True, text)
            return
        if verdict.line_id is not None:  # one too many, or not picked
            self.qty_edit.clear()
            self._answer(False, verdict.message)
            return
        self._unknown_scan(code)

    def _unknown_scan(self, code: str) -> None:
        """Not an item of this order: name the wrong item, or tell a tote of another order from a stray scan."""
        view = self.view
        packed_any = bool(self.totals())

        def job(session):
            sku = fulfilment.identify(session, code)
            if sku is not None:
                return "item", sku
            try:
                return "order", fulfilment.find_for_packing(session, code)
            except SeveralMatches:
                return "order", None  # several orders: opening it asks which
            except NotFound:
                return "unknown", None

        def done(result) -> None:
            kind, value = result
            self.qty_edit.clear()
            if kind == "order" and value == view.order_id:
                self._answer(True, self.tr("Order {n} is already open.").format(n=view.number))
            elif kind == "order" and not packed_any:
                self.view = None
                self.open_order(code)
            elif kind == "order":
                self._answer(False, self.tr("Finish order {n} first: F10 to complete it, or Esc to put it aside.").format(
                    n=view.number))
            else:
                self._answer(False, fulfilment.check_pack_scan(view, code, self.totals(),
                                                               scanned_sku=value if kind == "item" else None).message)

        self.tasks.read(job, done, lambda m: self._answer(False, m), owner=self)

    def _quantity_entered(self) -> None:
        if self.view is None:
            self.setFocus()
            return
        if self.last_line is None:
            self._answer(False, self.tr("Scan the item first: a typed number alone cannot prove it is the right one."))
            return
        line = next(l for l in self.view.lines if l.line_id == self.last_line)
        codes = line.barcodes or (line.sku,)
        self.add_item(line.sku if line.sku else codes[0], self._typed_quantity())

    def _weight_entered(self) -> None:
        text = self.weight_edit.text().strip().replace(",", ".").lower().removesuffix("kg").strip()
        box = self.box
        if box is None:
            self.setFocus()
            return
        if not text:
            box.weight_g = None
        else:
            try:
                kg = float(text)
            except ValueError:
                self._answer(False, self.tr("{text} is not a weight; type kilograms, e.g. 1.25").format(text=text))
                return
            if not 0 < kg < 1000:
                self._answer(False, self.tr("A box weighs between 0 and 1000 kg."))
                return
            box.weight_g = round(kg * 1000)
        self.setFocus()
        self._show()
        if self.all_scanned():
            self.status.show_state(self.tr("Weight {kg:.2f} kg — Enter to complete").format(kg=self.box_weight(box) / 1000), "ok")
        self.changed.emit()

    def box_weight(self, box: _Box) -> int:
        return box.weight_g if box.weight_g is not None else self.estimate_g(box)

    # -- boxes ---------------------------------------------------------------------------------------------------

    def choose_box(self, code: str, *, from_scan: bool = False) -> None:
        preset = next((p for p in self.presets if p.code.upper() == code.strip().upper()), None)
        if preset is None:
            text = self.tr("There is no box {code}.").format(code=code)
            self._answer(False, text) if from_scan else self.message.emit(text)
            return
        if self.box is None:
            if self.view is None:
                self._answer(False, self.tr("Scan a tote or an order first, then choose its box."))
                return
            self.boxes.append(_Box(preset))
        else:
            self.box.preset = preset
        self._show()
        if from_scan:
            self._answer(True, self.tr("Box {code}: {name}").format(code=preset.code, name=preset.name))
        else:
            self.status.show_state(self.tr("Box {code}: {name}").format(code=preset.code, name=preset.name), "ok")
            self.changed.emit()

    def new_box(self) -> None:
        if self.view is None:
            return
        if self.box is not None and not self.box.items:
            self._answer(False, self.tr("This box is still empty; scan items into it first."))
            return
        self.boxes.append(_Box(self.box.preset if self.box else self._default_preset()))
        self.weight_edit.clear()
        self._show()
        self._answer(True, self.tr("Box {n} started").format(n=len(self.boxes)))

    # -- completing ------------------------------------------------------------------------------------------------

    def complete(self, *, force: bool = False) -> None:
        view = self.view
        if view is None:
            self._answer(False, self.tr("Scan a tote or an order number first."))
            return
        if not self.totals():
            self._answer(False, self.tr("Nothing was scanned into the box."))
            return
        missing = self.missing()
        if missing and not (force or self._partial_armed):
            self._partial_armed = True
            self.status.show_state(self.tr("Not scanned: {what}. Press F10 (or scan COMPLETE) again to ship without it — "
                                           "it goes back to routing.").format(what=", ".join(missing)), "wait")
            self.scan_result.emit(False, self.tr("Not everything is scanned"))
            self.changed.emit()
            return
        boxes = [PackedBox(fulfilment.box_spec(b.preset, self.box_weight(b)), dict(b.items)) for b in self.boxes if b.items]
        settings = self.settings
        order_id, number, wholesale = view.order_id, view.number, view.wholesale
        manual_tracking = self.tracking_edit.text().strip()

        def job(session):
            # The packing decision (a typed tracking number, a carrier's label, or the house's own delivery) is the domain's.
            return fulfilment.pack_and_ship(session, self.actor, order_id, boxes, manual_tracking=manual_tracking,
                                            label_format=settings.label_format, company_prefix=settings.gs1_company_prefix,
                                            serial_start=settings.sscc_serial_start)

        def done(outcome) -> None:
            result, shipped = outcome
            mode = shipped.mode
            self.last_shipment = result.shipment_id
            self.last_result = result
            self.waiting = [t for t in self.waiting if t.order_id != order_id]  # its tote is packed; the others still wait
            self._reset()
            text = self.tr("Order {n} packed — shipment {id}").format(n=number, id=result.shipment_id)
            if result.partial:
                text += " · " + self.tr("not in this shipment (back to routing): {what}").format(what=", ".join(result.rerouted))
            if result.ssccs:
                text += " · " + self.tr("SSCC {codes}").format(codes=", ".join(result.ssccs))
            if mode == "awaiting":
                self.awaiting[result.shipment_id] = number
                self.poll.start()
                self.label_requested.emit()
                self.print_label.setText(self.tr("Awaiting label from the carrier for {n}; the packing slip prints now.").format(n=number))
            else:
                self.print_label.setText(self.tr("Printing label and packing slip for {n}…").format(n=number))
            self._show()
            self.status.show_state(text + " — " + self.tr("scan the next tote"), "ok")
            self.scan_result.emit(True, self.tr("Packed {n}").format(n=number))
            self.message.emit(text)
            self.packed.emit(result)
            self.changed.emit()
            print_shipment(self.tasks, result.shipment_id, self.settings, label=mode == "own", slip=True,
                           sscc=wholesale and bool(result.ssccs), done=self._printed, error=self._print_error, owner=self,
                           actor=self.actor)

        self.tasks.write(job, done, lambda m: self._answer(False, m), owner=self)

    # -- printing -----------------------------------------------------------------------------------------------------

    def _printed(self, outcome: PrintOutcome) -> None:
        self.last_print = outcome
        self.print_label.setText(outcome.summary())
        repolish(self.print_label, state="" if outcome.ok else "error")
        if not outcome.ok:
            # The pack result stays in the status line; the print failure is said beside it, in red, and flashed.
            self.scan_result.emit(False, self.tr("A print failed — it is kept under Failed prints"))
            self.message.emit(outcome.summary())
        self.printed.emit(outcome)
        self.changed.emit()

    def _print_error(self, text: str) -> None:
        self._printed(PrintOutcome((), (text,)))

    def reprint_last_label(self) -> None:
        if self.last_shipment is None:
            return
        self.print_label.setText(self.tr("Printing the label of shipment {id} again…").format(id=self.last_shipment))
        reprint_label(self.tasks, self.last_shipment, self.settings, done=self._printed, error=self._print_error, owner=self,
                      actor=self.actor)

    def _pick_up_awaited_labels(self) -> None:
        """After a restart: the labels this station asked for and has not printed are awaited (and printed) again."""
        station = self.actor.station

        def done(states: list[LabelState]) -> None:
            for st in states:
                self.awaiting.setdefault(st.shipment_id, st.order_number)
            if self.awaiting:
                self.check_labels()
                self.poll.start()

        self.tasks.read(lambda s: floor_queries.station_awaited_labels(s, station), done, lambda _m: None, owner=self)

    def check_labels(self) -> None:
        """Print each awaited carrier label as soon as the sync engine has bought it; say why the others wait."""
        if not self.awaiting:
            self.poll.stop()
            return
        ids = list(self.awaiting)

        def done(states: list[LabelState]) -> None:
            for st in states:
                if st.shipment_id not in self.awaiting:
                    continue
                self.label_states[st.shipment_id] = st
                if st.state == "ready":
                    # Off the list before printing starts, so the next poll cannot print it twice; a print that fails
                    # is kept under Failed prints, and the order stays "label ready" until it has printed.
                    del self.awaiting[st.shipment_id]
                    self.print_label.setText(self.tr("Label for {n} has come; printing it…").format(n=st.order_number))
                    reprint_label(self.tasks, st.shipment_id, self.settings, done=self._printed, error=self._print_error,
                                  owner=self, actor=self.actor)
                elif st.state in ("shipped", "voided"):
                    del self.awaiting[st.shipment_id]
            for sid in [sid for sid in self.label_states if sid not in self.awaiting]:
                del self.label_states[sid]
            if not self.awaiting:
                self.poll.stop()
            self._show()
            self.changed.emit()

        self.tasks.read(lambda s: floor_queries.label_states(s, ids), done, lambda _m: None, owner=self, latest="labels")

    # -- keyboard ------------------------------------------------------------------------------------------------------

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        key = event.key()
        text = event.text()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self.all_scanned():
                self.complete(force=False)
            elif self.view is not None:
                missing = self.missing()
                self.status.show_state(self.tr("Still to scan: {what}").format(what=", ".join(missing)) if missing
                                       else self.tr("Scan the items into the box."), "wait")
            return
        if text and text.isdigit() and text != "0" and self.view is not None:
            i = int(text) - 1
            if i < len(self.presets):
                self.choose_box(self.presets[i].code)
            return
        if text.lower() == "q":
            self.qty_edit.setFocus()
            return
        if text.lower() == "w":
            self.weight_edit.setFocus()
            self.weight_edit.selectAll()
            return
        if text.lower() == "t" and self.view is not None:
            self._expect_tracking = True
            self.tracking_edit.setFocus()
            self.tracking_edit.selectAll()
            self.status.show_state(self.tr("Scan or type the manual carrier's tracking number."), "wait")
            return
        super().keyPressEvent(event)
