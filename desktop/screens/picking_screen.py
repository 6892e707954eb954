"""Picking: one wave's tasks in walk order, each shown large and confirmed by scanning the bin and then the item."""

from __future__ import annotations

from dataclasses import replace

from desktop.qt import (
    QComboBox,
    QCoreApplication,
    QGridLayout,
    QHBoxLayout,
    QIntValidator,
    QKeySequence,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QShortcut,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.station import STATION_QSS, ScanStatus, card, label, repolish
from desktop.tasks import Tasks
from desktop.window_state import WindowState
from oms import fulfilment
from oms.core.audit import Actor
from oms.core.gs1 import Scan
from oms.fulfilment import floor_queries
from oms.fulfilment import PickStop, StopResult, group_stops

COMMAND_SHORT = "SHORT"  # the command barcode on the pick list and at the bins
WAVE_PREFIX = "WAVE-"  # the pick list's header barcode
SHORT_KEY = Qt.Key.Key_F8


Pick = PickStop  # one stop of the walk: the domain's (oms.fulfilment.PickStop), named as the picker says it


def scan_code(scan: Scan) -> str:
    """The scanned code as the domain takes it, written as printed under the bars (EAN-13, not the 14-digit GTIN)."""
    raw = scan.raw.strip()
    if scan.kind == "gtin" and raw.isdigit():
        return raw
    return scan.value.strip()


def wave_progress(w: floor_queries.WaveSummary) -> str:
    """How far a wave is, in the same words wherever it is shown: units picked of those still meant to be picked here."""
    tr = lambda text: QCoreApplication.translate("PickingScreen", text)  # noqa: E731
    done = (tr("{picked} of 1 unit picked") if w.to_pick == 1 else
            tr("{picked} of {units} units picked")).format(picked=w.picked, units=w.to_pick)
    return tr("{done}, {short} short").format(done=done, short=w.short) if w.short else done


def wave_code(text: str) -> int | None:
    text = text.strip().upper()
    if text.startswith(WAVE_PREFIX) and text[len(WAVE_PREFIX):].isdigit():
        return int(text[len(WAVE_PREFIX):])
    return None


class PickingScreen(QWidget):
    """The picker's screen: the current pick large, the scanner confirms it, a short sends the line back to routing."""

    scan_result = Signal(object, str)  # ok (bool), message
    message = Signal(str)
    changed = Signal()  # the screen shows the outcome of a scan or action (tests wait for it)
    wave_finished = Signal(int)

    def __init__(self, tasks: Tasks, actor: Actor, state: WindowState, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("pickingScreen")
        self.setStyleSheet(STATION_QSS)
        self.tasks = tasks
        self.actor = actor
        self.state = state
        self.wave_id: int | None = None
        self.summary: floor_queries.WaveSummary | None = None
        self.open: list[Pick] = []
        self.bin_ok = False  # the current task's bin was scanned
        self.item_code: str | None = None  # an item scan already proved right for the current task
        self.short_mode = False
        self.short_found = 0
        self.last_route: str = ""
        self._waves: list[floor_queries.WaveSummary] = []

        # -- which wave
        self.wave_combo = QComboBox()
        self.wave_combo.setObjectName("waveCombo")
        self.wave_combo.setMinimumWidth(380)
        self.wave_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)  # the progress stays readable
        self.wave_combo.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        top = QHBoxLayout()
        top.setSpacing(10)
        top.addWidget(label(self.tr("Wave"), "stationHead"))
        top.addWidget(self.wave_combo)
        top.addWidget(label(self.tr("or scan the WAVE barcode on the pick list"), "stationHint"), 1)
        self.short_button = QPushButton(self.tr("Short (F8)"))
        self.short_button.setObjectName("shortButton")
        self.short_button.setProperty("danger", "true")
        self.short_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        top.addWidget(self.short_button)

        # -- what to do now, large
        self.step = label("", "stepLabel", wrap=True)
        task_card, task_layout = card("taskCard")
        grid = QGridLayout()
        grid.setHorizontalSpacing(36)
        grid.setVerticalSpacing(0)
        self.bin_label = label("—", "bigBin")
        self.qty_label = label("—", "bigQty")
        self.tote_label = label("—", "bigTote")
        for col, (caption, widget) in enumerate(((self.tr("Bin"), self.bin_label), (self.tr("Take"), self.qty_label),
                                                 (self.tr("Into tote"), self.tote_label))):
            grid.addWidget(label(caption, "bigCaption"), 0, col)
            grid.addWidget(widget, 1, col, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        grid.setColumnStretch(2, 3)
        self.sku_label = label("", "bigSku")
        self.sku_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.desc_label = label("", "bigText", wrap=True)
        self.orders_label = label("", "stationHint", wrap=True)
        task_layout.addLayout(grid)
        task_layout.addSpacing(8)
        task_layout.addWidget(self.sku_label)
        task_layout.addWidget(self.desc_label)
        task_layout.addWidget(self.orders_label)
        task_layout.addStretch(1)

        # -- quantity for bulk picks
        self.qty_edit = QLineEdit()
        self.qty_edit.setObjectName("bigEdit")
        self.qty_edit.setValidator(QIntValidator(0, 99999, self))
        self.qty_edit.setMaximumWidth(160)
        self.qty_edit.setPlaceholderText("1")
        qty_row = QHBoxLayout()
        qty_row.addWidget(label(self.tr("Quantity"), "stationHead"))
        qty_row.addWidget(self.qty_edit)
        self.keys_hint = label(self.tr("Type a number before scanning the item to take several at once, or after an item "
                                       "scan type how many more and press Enter.  F8 or scan SHORT: the bin holds too few."),
                               "keysHint", wrap=True)
        qty_row.addWidget(self.keys_hint, 1)

        self.status = ScanStatus(self.tr("Choose a wave or scan its pick list."))
        self.route_label = label("", "routeResult", wrap=True)
        self.route_label.hide()
        self.progress = QProgressBar()
        self.progress.setObjectName("stationProgress")
        self.progress.setTextVisible(False)
        self.progress_text = label("", "progressText")
        self.next_label = label("", "stationHint", wrap=True)
        prog_row = QHBoxLayout()
        prog_row.addWidget(self.progress_text)
        prog_row.addWidget(self.progress, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 12)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addWidget(self.step)
        layout.addWidget(task_card, 1)
        layout.addLayout(qty_row)
        layout.addWidget(self.status)
        layout.addWidget(self.route_label)
        layout.addLayout(prog_row)
        layout.addWidget(self.next_label)

        self.wave_combo.activated.connect(self._wave_chosen)
        self.short_button.clicked.connect(lambda: self.start_short())
        self.qty_edit.returnPressed.connect(self._quantity_entered)
        sc = QShortcut(QKeySequence(SHORT_KEY), self)
        sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        sc.activated.connect(lambda: self.start_short())
        self._show_task()
        self.refresh()

    # -- the screen protocol ----------------------------------------------------------------------------

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if not event.spontaneous():  # a wave built on the Waves screen is in the list when the picker gets here
            self.refresh()

    def save_state(self) -> None:
        self.state.set_value("picking/wave", self.wave_id or 0)

    def focus_search(self) -> None:
        self.qty_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)

    #: What another station may change under the picker (a re-routed or held order, a cancelled wave).
    WATCHES = ("orders", "routing", "fulfilment")

    def follow_changes(self) -> None:
        """Another station changed what this wave asks for: read its tasks again and drop the ones gone (an order
        re-routed elsewhere, a wave cancelled), saying so, without reading the wave after each of the picker's scans."""
        self.tasks.read(lambda s: floor_queries.waves(s), self._waves_loaded, self.message.emit, owner=self, latest="waves")
        wave_id = self.wave_id
        if wave_id is None:
            return
        held = [i for stop in self.open for i in stop.task_ids]

        def job(session):
            return floor_queries.wave(session, wave_id), fulfilment.open_tasks(session, wave_id), \
                floor_queries.task_states(session, held)

        def done(result) -> None:
            summary, open_tasks, states = result
            if self.wave_id != wave_id or summary is None:
                return
            still = {t.task_id for t in open_tasks}
            gone = [task for stop in self.open for task in stop.tasks
                    if task.task_id not in still and states.get(task.task_id) == "cancelled"]
            current_gone = self.current is not None and any(t.task_id not in still for t in self.current.tasks)
            self.summary, self.open = summary, group_stops(open_tasks)
            if current_gone:
                self.bin_ok, self.item_code, self.short_mode = False, None, False
                self.qty_edit.clear()
            self._show_task()
            if gone:
                numbers = ", ".join(dict.fromkeys(t.order_number for t in gone))
                text = self.tr("Order {orders} was re-routed at another station: its pick is off this wave.").format(
                    orders=numbers)
                if current_gone:
                    text += " " + (self.tr("Go on with the pick shown.") if self.open else "")
                self.status.show_state(text.strip(), "wait")
                self.message.emit(text.strip())
            self.changed.emit()

        self.tasks.read(job, done, self.message.emit, owner=self, latest="follow")

    def refresh(self) -> None:
        """Reload the open waves, and the current wave's tasks."""
        self.tasks.read(lambda s: floor_queries.waves(s), self._waves_loaded, self.message.emit, owner=self)
        if self.wave_id is not None:
            self.open_wave(self.wave_id)

    def go_back(self) -> bool:
        if self.short_mode:
            self.short_mode = False
            self.qty_edit.clear()
            self._show_task()
            return True
        if self.qty_edit.text():
            self.qty_edit.clear()
            return True
        return False

    def accepts_scan(self, scan: Scan) -> bool:
        return scan.kind in ("text", "gtin", "gs1")

    # -- waves -----------------------------------------------------------------------------------------------

    def _waves_loaded(self, waves: list[floor_queries.WaveSummary]) -> None:
        self._waves = waves
        self.wave_combo.blockSignals(True)
        self.wave_combo.clear()
        self.wave_combo.addItem(self.tr("Choose a wave…"), 0)
        for w in waves:
            self.wave_combo.addItem(self._wave_title(w), w.id)
        if self.wave_id is not None:
            i = self.wave_combo.findData(self.wave_id)
            if i >= 0:
                self.wave_combo.setCurrentIndex(i)
        self.wave_combo.blockSignals(False)

    def _picks(self, n: int) -> str:
        return self.tr("1 pick") if n == 1 else self.tr("{n} picks").format(n=n)

    def _wave_title(self, w: floor_queries.WaveSummary) -> str:
        return self.tr("{name} — {progress}").format(name=w.name, progress=wave_progress(w))

    def _wave_chosen(self, index: int) -> None:
        wave_id = self.wave_combo.itemData(index)
        if wave_id:
            self.open_wave(int(wave_id))

    def open_wave(self, wave_id: int, *, from_scan: bool = False) -> None:
        def job(session):
            return floor_queries.wave(session, wave_id), fulfilment.open_tasks(session, wave_id)

        def done(result) -> None:
            summary, open_tasks = result
            if summary is None:
                self._refuse(self.tr("There is no wave {id}.").format(id=wave_id), from_scan)
                return
            if self.wave_id != wave_id:
                self.bin_ok, self.item_code, self.short_mode = False, None, False
                self.route_label.hide()
            self.wave_id, self.summary, self.open = wave_id, summary, group_stops(open_tasks)
            i = self.wave_combo.findData(wave_id)
            if i >= 0:
                self.wave_combo.setCurrentIndex(i)
            else:  # built since the list was loaded
                self.tasks.read(lambda s: floor_queries.waves(s), self._waves_loaded, self.message.emit, owner=self)
            self._show_task()
            if self.open:
                self.status.show_state(self.tr("Wave {name} open: {picks}. Walk to the bin shown.").format(
                    name=summary.name, picks=self._picks(len(self.open))))
            if from_scan:
                self._answer(True, self.tr("Wave {name}: {picks}").format(name=summary.name, picks=self._picks(len(self.open))))
            self.changed.emit()

        self.tasks.read(job, done, lambda m: self._refuse(m, from_scan), owner=self)

    # -- showing ----------------------------------------------------------------------------------------------

    @property
    def current(self) -> Pick | None:
        return self.open[0] if self.open else None

    def _show_task(self) -> None:
        t = self.current
        s = self.summary
        if s is not None:
            self.progress.setMaximum(max(1, s.to_pick))
            self.progress.setValue(min(s.to_pick, s.picked))
            self.progress_text.setText(self.tr("{progress} · {picks} left").format(progress=wave_progress(s),
                                                                                   picks=self._picks(len(self.open))))
            i = self.wave_combo.findData(s.id)
            if i >= 0:  # the wave chooser says the same as the progress line
                self.wave_combo.setItemText(i, self._wave_title(s))
        else:
            self.progress.setValue(0)
            self.progress_text.setText("")
        if t is None:
            for w in (self.bin_label, self.qty_label, self.tote_label):
                w.setText("—")
            self.sku_label.setText("")
            self.desc_label.setText("")
            self.orders_label.setText("")
            self.next_label.setText("")
            if s is None:
                self._set_step(self.tr("Choose a wave, or scan the WAVE barcode on its pick list"), "bin")
            else:
                self._set_step(self.tr("Wave {name} is picked — take the totes to packing").format(name=s.name), "done")
            self.short_button.setEnabled(False)
            return
        self.short_button.setEnabled(True)
        self.bin_label.setText(t.bin_code or self.tr("no bin"))
        self.qty_label.setText(f"{t.quantity:,}")
        self.tote_label.setText(t.tote)
        self.sku_label.setText(t.sku)
        self.desc_label.setText(t.description)
        self.orders_label.setText(self.tr("Order {n}").format(n=t.order_number))
        later = [f"{o.bin_code or '—'}  {o.sku} ×{o.quantity}" for o in self.open[1:4]]
        self.next_label.setText(self.tr("Then: {list}").format(list="   ·   ".join(later)) if later else self.tr("Last pick of the wave"))
        if self.short_mode:
            self._set_step(self.tr("Short at {bin}: scan each {sku} you found, or type the number — then Enter or scan SHORT. "
                                   "Esc: back").format(bin=t.bin_code or self.tr("no bin"), sku=t.sku), "short")
        elif t.bin_code and not self.bin_ok:
            self._set_step(self.tr("1 · Scan bin {bin}").format(bin=t.bin_code), "bin")
        else:
            self._set_step(self.tr("2 · Scan the item {sku}").format(sku=t.sku), "item")

    def _set_step(self, text: str, step: str) -> None:
        self.step.setText(text)
        repolish(self.step, step=step)

    def _answer(self, ok: bool, text: str) -> None:
        self.status.show_state(text, "ok" if ok else "error")
        self.scan_result.emit(ok, text)

    def _refuse(self, text: str, from_scan: bool = True) -> None:
        self.status.show_state(text, "error")
        if from_scan:
            self.scan_result.emit(False, text)
        else:
            self.message.emit(text)
        self.changed.emit()

    # -- scanning -------------------------------------------------------------------------------------------------

    def handle_scan(self, scan: Scan) -> None:
        code = scan_code(scan)
        wave_id = wave_code(code)
        if wave_id is not None:
            self.open_wave(wave_id, from_scan=True)
            return
        t = self.current
        if t is None:
            self._refuse(self.tr("Scan the WAVE barcode of a pick list first.") if self.summary is None
                         else self.tr("This wave is picked; scan the next pick list."))
            return
        if code.upper() == COMMAND_SHORT:
            if self.short_mode:
                self._submit_short()
            else:
                self.start_short(from_scan=True)
            return
        if self.short_mode:
            if fulfilment.scan_matches_product(code, t.sku, t.barcodes):
                self.short_found += 1
                self._answer(True, self.tr("Found {n} of {sku}").format(n=self.short_found, sku=t.sku))
            else:
                self._answer(False, self.tr("Wrong item: {got} scanned, the pick is {want}.").format(got=code, want=t.sku))
            self.changed.emit()
            return
        if t.bin_code and not self.bin_ok:
            if code == t.bin_code:
                self.bin_ok = True
                self._show_task()
                self._answer(True, self.tr("Bin {bin} — now scan the item").format(bin=t.bin_code))
            else:
                # The same words the domain uses when it refuses a pick from the wrong bin.
                self._answer(False, self.tr("Wrong bin: {got} scanned, the pick is in {want}.").format(got=code, want=t.bin_code))
            self.changed.emit()
            return
        if code == t.bin_code:
            self._answer(True, self.tr("Bin {bin} — now scan the item").format(bin=t.bin_code))
            self.changed.emit()
            return
        self._confirm(t, self._typed_quantity(), code)

    def _typed_quantity(self) -> int:
        text = self.qty_edit.text().strip()
        return int(text) if text.isdigit() and int(text) > 0 else 1

    def _quantity_entered(self) -> None:
        t = self.current
        if t is None or self.short_mode:
            if self.short_mode:
                self._submit_short()
            return
        if self.item_code is None:
            self._refuse(self.tr("Scan the item first: a typed number alone cannot prove it is the right one."), from_scan=True)
            return
        self._confirm(t, self._typed_quantity(), self.item_code)

    def _confirm(self, t: Pick, quantity: int, code: str) -> None:
        wave_id = self.wave_id
        bin_code = t.bin_code or None
        if quantity > t.quantity:
            self.qty_edit.clear()
            self._answer(False, self.tr("Only {n} more of {sku} are on this pick.").format(n=t.quantity, sku=t.sku))
            self.changed.emit()
            return

        def job(session):
            # A batch stop fills its orders' tasks one after the other; what comes back is what changed.
            return fulfilment.pick_stop(session, self.actor, t.task_ids, quantity, bin_code=bin_code, item_code=code)

        def done(result: StopResult) -> None:
            self.qty_edit.clear()
            self.route_label.hide()  # the last short's news is old once the picker has picked again
            left = self._picked(t, result)
            if self.wave_id != wave_id:
                return
            if left:
                self.item_code = code
                text = self.tr("{sku} ✓ {n} taken — {left} more").format(sku=t.sku, n=quantity, left=left)
            else:
                nxt = self.current
                self.item_code = None
                self.bin_ok = bool(nxt and nxt.bin_code and nxt.bin_code == t.bin_code)  # still standing at that bin
                text = self.tr("{sku} ✓ {n} into {tote}").format(sku=t.sku, n=quantity, tote=t.tote)
            self._show_task()
            self._answer(True, text)
            if not self.open:
                self._wave_done()
            self.changed.emit()

        def failed(text: str) -> None:
            self.qty_edit.clear()
            self._answer(False, text)
            self.changed.emit()

        self.tasks.write(job, done, failed, owner=self)

    def _picked(self, stop: Pick, result: StopResult) -> int:
        """Show what one confirmed stop changed, without reading the wave again: its tasks lose what was taken, the
        progress gains it. Units left at the stop are returned. When the wave's state disagrees with what the screen
        holds (another station picked part of it), the wave is read again."""
        if self.summary is None or self.wave_id != self.summary.id or not self.open or self.open[0] is not stop:
            if self.wave_id is not None:
                self.open_wave(self.wave_id)
            return sum(result.left.values())
        self.summary = replace(self.summary, picked=self.summary.picked + result.picked)
        rest = tuple(replace(task, quantity=result.left.get(task.task_id, task.quantity)) for task in stop.tasks)
        rest = tuple(task for task in rest if task.quantity > 0)
        if rest:
            self.open[0] = Pick(rest)
        else:
            self.open.pop(0)
        if result.wave_picked != (not self.open):
            self.open_wave(self.wave_id)
        return sum(task.quantity for task in rest)

    def _wave_done(self) -> None:
        name = self.summary.name if self.summary else ""
        self.status.show_state(self.tr("Wave {name} done — every pick confirmed.").format(name=name), "ok")
        self.message.emit(self.tr("Wave {name} is picked.").format(name=name))
        self.wave_finished.emit(self.wave_id or 0)
        self.tasks.read(lambda s: floor_queries.waves(s), self._waves_loaded, self.message.emit, owner=self)

    # -- short picks ---------------------------------------------------------------------------------------------

    def start_short(self, *, from_scan: bool = False) -> None:
        if self.current is None:
            return
        self.short_mode = True
        self.short_found = 0
        self.qty_edit.clear()
        self.qty_edit.setFocus()
        self._show_task()
        text = self.tr("Short pick: how many did you find?")
        self.status.show_state(text, "wait")
        if from_scan:
            self.scan_result.emit(True, text)
        self.changed.emit()

    def _submit_short(self) -> None:
        t = self.current
        if t is None:
            return
        text = self.qty_edit.text().strip()
        found = int(text) if text.isdigit() else self.short_found
        if found >= t.quantity:
            self._answer(False, self.tr("{found} found covers the whole pick ({left}); scan the items instead of reporting "
                                        "a short.").format(found=found, left=t.quantity))
            self.changed.emit()
            return
        wave_id = self.wave_id
        bin_code = t.bin_code or None

        def job(session):
            routes = fulfilment.short_pick_stop(session, self.actor, [task.task_id for task in t.tasks], found,
                                                bin_code=bin_code)
            session.flush()
            return routes[-1] if routes else None, floor_queries.wave(session, wave_id), fulfilment.open_tasks(session, wave_id)

        def done(result) -> None:
            route, summary, open_tasks = result
            self.short_mode = False
            self.qty_edit.clear()
            self.summary, self.open = summary, group_stops(open_tasks)
            nxt = self.current
            self.item_code = None
            self.bin_ok = bool(nxt and nxt.bin_code and nxt.bin_code == t.bin_code)
            where = route.explanation if route is not None else self.tr("nothing more to route")
            self.last_route = where
            self.route_label.setText(self.tr("Short at {bin}: {found} of {want} × {sku} found; order {order} went back to "
                                             "routing — {where}").format(bin=t.bin_code or self.tr("no bin"), found=found,
                                                                        want=t.quantity, sku=t.sku, order=t.order_number,
                                                                        where=where))
            self.route_label.show()
            self._show_task()
            self._answer(True, self.tr("Short recorded: {sku} back to routing").format(sku=t.sku))
            self.message.emit(self.route_label.text())
            if not self.open:
                self._wave_done()
            self.changed.emit()

        def failed(text: str) -> None:
            self._answer(False, text)
            self.changed.emit()

        self.tasks.write(job, done, failed, owner=self)

    # -- for the screen's owner -----------------------------------------------------------------------------------

    def task_text(self) -> str:
        t = self.current
        return "" if t is None else f"{t.bin_code} {t.sku} {t.quantity} {t.tote}"

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.short_mode:
            self._submit_short()
            return
        super().keyPressEvent(event)


__all__ = ["COMMAND_SHORT", "PickingScreen", "wave_code", "wave_progress"]
