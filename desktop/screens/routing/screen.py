"""The routing screen: the rule list, the rule being edited and what the edit would change, side by side."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from desktop.qt import (
    QFrame,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QMessageBox,
    QModelIndex,
    QPushButton,
    QScrollArea,
    QShortcut,
    QSplitter,
    Qt,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.screens.routing.rule_form import FormError, RuleForm
from desktop.screens.routing.rule_list import RuleListModel, RuleTable
from desktop.screens.routing.setup import RoutingSetup, Verdict, check, load_setup, proposed_rules
from desktop.screens.routing.simulation import SimulationPanel
from desktop.tasks import Tasks
from desktop.window_state import WindowState
from oms import routing, users
from oms.core.audit import Actor
from oms.core.errors import NotPermitted
from oms.core.gs1 import Scan
from oms.routing.rules import Rule
from oms.routing.simulation import SimulationReport

VALIDATE_DEBOUNCE_MS = 250

# -- the screen --------------------------------------------------------------------------------------


class RoutingScreen(QWidget):
    """Rules top to bottom, the one being edited, and what the edit would change."""

    message = Signal(str)
    scan_result = Signal(object, str)
    loaded = Signal()  # the rule list has been (re)read
    saved = Signal(int)  # a rule was saved (its id)
    checked = Signal()  # the form has been validated
    simulated = Signal()

    def __init__(self, tasks: Tasks, actor: Actor, state: WindowState, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("routingScreen")
        self.tasks = tasks
        self.actor = actor
        self.state = state
        self.verdict = Verdict(True)
        self._check_generation = 0
        self._selecting = False
        self._started = False
        self._writing_new = False  # Ctrl+N was pressed: a list that arrives later must not replace the empty form

        title = QLabel(self.tr("Routing rules"))
        title.setObjectName("orderTitle")
        hint = QLabel(self.tr("Rules are tried top to bottom; the first switched-on rule that matches an order decides "
                              "where it ships. Drag a rule to change the order."))
        hint.setObjectName("hint")
        hint.setWordWrap(True)

        # -- list
        self.model = RuleListModel(self)
        self.table = RuleTable(self.model)
        self.new_button = QPushButton(self.tr("New rule"))
        self.new_button.setObjectName("newRule")
        self.new_button.setToolTip(self.tr("Write a new rule (Ctrl+N)"))
        self.up_button = QPushButton(self.tr("Move up"))
        self.up_button.setObjectName("moveRuleUp")
        self.up_button.setToolTip(self.tr("Ctrl+Up"))
        self.down_button = QPushButton(self.tr("Move down"))
        self.down_button.setObjectName("moveRuleDown")
        self.down_button.setToolTip(self.tr("Ctrl+Down"))
        self.toggle_button = QPushButton(self.tr("Switch off"))
        self.toggle_button.setObjectName("toggleRule")
        list_actions = QHBoxLayout()
        list_actions.setSpacing(8)
        for b in (self.new_button, self.up_button, self.down_button, self.toggle_button):
            list_actions.addWidget(b)
        list_actions.addStretch(1)
        self.simulation = SimulationPanel()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.setSpacing(8)
        self.table.setMinimumHeight(140)
        left_layout.addWidget(self.table, 1)
        left_layout.addLayout(list_actions)
        left_layout.addSpacing(4)
        left_layout.addWidget(self.simulation)

        # -- editor
        self.form = RuleForm()
        form_scroll = QScrollArea()
        form_scroll.setObjectName("ruleFormScroll")
        form_scroll.setWidgetResizable(True)
        form_scroll.setFrameShape(QFrame.Shape.NoFrame)
        form_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        form_scroll.setWidget(self.form)
        form_scroll.setStyleSheet("QScrollArea#ruleFormScroll, QWidget#ruleForm { background: transparent; }")
        self.save_button = QPushButton(self.tr("Save rule"))
        self.save_button.setObjectName("primaryButton")
        self.save_button.setToolTip(self.tr("Ctrl+S"))
        self.revert_button = QPushButton(self.tr("Undo changes"))
        self.revert_button.setObjectName("revertRule")
        self.delete_button = QPushButton(self.tr("Delete rule…"))
        self.delete_button.setObjectName("deleteRule")
        self.delete_button.setProperty("danger", "true")
        editor_actions = QHBoxLayout()
        editor_actions.setSpacing(8)
        editor_actions.addWidget(self.save_button)
        editor_actions.addWidget(self.revert_button)
        editor_actions.addStretch(1)
        editor_actions.addWidget(self.delete_button)
        editor = QFrame()
        editor.setObjectName("card")
        editor_layout = QVBoxLayout(editor)
        editor_layout.setContentsMargins(14, 10, 8, 12)
        editor_layout.setSpacing(8)
        editor_layout.addWidget(form_scroll, 1)
        editor_layout.addLayout(editor_actions)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("routingSplitter")
        self.splitter.addWidget(left)
        self.splitter.addWidget(editor)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        editor.setMinimumWidth(460)
        left.setMinimumWidth(420)
        if not self.state.restore_splitter("routing", self.splitter):
            self.splitter.setSizes([600, 480])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(8)
        head = QHBoxLayout()
        head.setSpacing(16)
        head.addWidget(title)
        head.addWidget(hint, 1)
        layout.addLayout(head)
        layout.addWidget(self.splitter, 1)

        saved_last = self.state.value("routing/simulate_last")
        if saved_last:
            try:
                self.simulation.last.setValue(int(saved_last))
            except (TypeError, ValueError):
                pass

        # -- behaviour
        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(VALIDATE_DEBOUNCE_MS)
        self._check_timer.timeout.connect(self.validate)
        self.form.changed.connect(self._form_changed)
        self.table.selectionModel().currentRowChanged.connect(self._row_chosen)
        self.model.moved.connect(self._save_order)
        self.model.enabled_changed.connect(self._save_enabled)
        self.new_button.clicked.connect(self.new_rule)
        self.up_button.clicked.connect(lambda: self.move_selected(-1))
        self.down_button.clicked.connect(lambda: self.move_selected(1))
        self.toggle_button.clicked.connect(self.toggle_selected)
        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(self.revert)
        self.delete_button.clicked.connect(self.delete)
        self.simulation.button.clicked.connect(self.simulate)
        for keys, slot, scope in ((QKeySequence("Ctrl+Up"), lambda: self.move_selected(-1), self.table),
                                  (QKeySequence("Ctrl+Down"), lambda: self.move_selected(1), self.table),
                                  (QKeySequence.StandardKey.Save, self.save, self),
                                  (QKeySequence("Ctrl+N"), self.new_rule, self),
                                  (QKeySequence("Ctrl+R"), self.simulate, self)):
            sc = QShortcut(keys, scope)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
        self._update_actions()

    # -- screen protocol ------------------------------------------------------------------------------

    def refresh(self) -> None:
        self.load()

    def go_back(self) -> bool:
        if self.form.is_dirty():
            return False
        self.table.setFocus()
        return True

    def focus_search(self) -> None:
        self.table.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def save_state(self) -> None:
        self.state.save_splitter("routing", self.splitter)
        self.state.set_value("routing/simulate_last", self.simulation.last.value())

    def accepts_scan(self, scan: Scan) -> bool:
        return False

    def handle_scan(self, scan: Scan) -> None:
        pass

    def showEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().showEvent(event)
        if not self._started:
            self._started = True
            self.load()

    # -- loading ------------------------------------------------------------------------------------------

    def load(self, select_id: int | None = None) -> None:
        keep = select_id if select_id is not None else (self.form.rule.id if self.form.rule else None)

        def done(setup: RoutingSetup) -> None:
            self._selecting = True
            self.form.set_places(setup.channels, setup.locations)
            self.model.set_rows(setup.rows)
            self._selecting = False
            row = self.model.row_of(keep) if keep is not None else -1
            if self._writing_new and select_id is None:
                self._select_row(-1, load_form=False)
            elif self.form.is_dirty() and select_id is None:
                # Someone else changed the list; the rule being written stays as it is.
                self._select_row(row, load_form=False)
            elif row >= 0 or self.form.rule is not None or self.model.rowCount():
                self._select_row(row if row >= 0 else 0)
            self._update_actions()
            self.loaded.emit()

        self.tasks.write(load_setup, done, self.message.emit, owner=self)

    def _select_row(self, row: int, *, load_form: bool = True) -> None:
        self._selecting = not load_form
        if row < 0:
            self.table.selectionModel().clearSelection()
        else:
            self.table.selectRow(row)
            self.table.setCurrentIndex(self.model.index(row, 2))
        self._selecting = False
        if load_form:
            self._writing_new = False
            rule = self.model.rows[row].rule if 0 <= row < self.model.rowCount() else None
            self.form.load(rule)
            self.verdict = Verdict(True)
            self._update_actions()

    def selected_rule(self) -> Rule | None:
        row = self.table.currentIndex().row()
        return self.model.rows[row].rule if 0 <= row < self.model.rowCount() else None

    def _row_chosen(self, current: QModelIndex, previous: QModelIndex) -> None:
        if self._selecting:
            return
        rule = self.model.rows[current.row()].rule if current.isValid() else None
        if self.form.rule is not None and rule is not None and rule.id == self.form.rule.id:
            self._update_actions()
            return
        if self.form.is_dirty() and not self._discard_ok():
            self._selecting = True
            self.table.setCurrentIndex(previous if previous.isValid() else QModelIndex())
            self._selecting = False
            return
        self._writing_new = False
        self.form.load(rule)
        self.verdict = Verdict(True)
        self.simulation.mark_stale()
        self._update_actions()

    def _discard_ok(self) -> bool:
        name = self.form.name.text().strip() or self.tr("the new rule")
        answer = QMessageBox.question(self, self.tr("Discard changes?"),
                                      self.tr("Your changes to “{name}” are not saved. Discard them?").format(name=name),
                                      QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
                                      QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Discard

    # -- editing ------------------------------------------------------------------------------------------

    def _form_changed(self) -> None:
        self.simulation.mark_stale()
        self._check_timer.start()
        self._update_actions()

    def form_rule(self) -> tuple[str, dict, dict]:
        return self.form.values()

    def validate(self) -> None:
        """Check the form through the domain's own rule check, off the GUI thread."""
        self._check_timer.stop()
        self._check_generation += 1
        gen = self._check_generation
        try:
            name, conditions, actions = self.form_rule()
        except FormError as exc:
            self._verdict(gen, Verdict(False, exc.message, exc.field))
            return
        self.tasks.read(lambda s: check(s, name, conditions, actions), lambda v: self._verdict(gen, v), self.message.emit,
                        owner=self)

    def _verdict(self, gen: int, verdict: Verdict) -> None:
        if gen != self._check_generation:
            return
        self.verdict = verdict
        self.form.show_error(None if verdict.ok else verdict.message, verdict.field)
        self._update_actions()
        self.checked.emit()

    def new_rule(self) -> None:
        if self.form.is_dirty() and not self._discard_ok():
            return
        self._selecting = True
        self.table.selectionModel().clearSelection()
        self.table.setCurrentIndex(QModelIndex())
        self._selecting = False
        self._writing_new = True
        self.form.load(None)
        self.verdict = Verdict(True)
        self.simulation.mark_stale()
        self._update_actions()
        self.form.name.setFocus()

    def revert(self) -> None:
        self.form.load(self.form.rule)
        self.verdict = Verdict(True)
        self._update_actions()

    def save(self) -> None:
        if not (self.form.is_dirty() or self.form.rule is None):
            return
        try:
            name, conditions, actions = self.form_rule()
        except FormError as exc:
            self._check_generation += 1
            self._verdict(self._check_generation, Verdict(False, exc.message, exc.field))
            return
        rule = self.form.rule
        rule_id = rule.id if rule else None
        enabled = self.form.enabled.isChecked()
        actor = self.actor

        def job(session):
            verdict = check(session, name, conditions, actions)
            if not verdict.ok:
                return verdict
            return routing.save_rule(session, actor, name, conditions, actions, rule_id=rule_id, enabled=enabled)

        def done(result) -> None:
            if isinstance(result, Verdict):
                self._check_generation += 1
                self._verdict(self._check_generation, result)
                self.message.emit(self.tr("Not saved: {reason}").format(reason=result.message))
                return
            self.form._baseline = None  # saved: the reload shows the rule as stored
            self.message.emit(self.tr("Rule “{name}” saved. Orders routed from now on follow it; "
                                      "orders already routed stay where they are.").format(name=name))
            self.saved.emit(result)
            self.load(select_id=result)

        def failed(message: str) -> None:
            self.form.show_error(message)
            self.message.emit(self.tr("Not saved: {reason}").format(reason=message))

        self.tasks.write(job, done, failed, owner=self)

    def delete(self) -> None:
        rule = self.form.rule
        if rule is None or rule.is_default:
            return
        answer = QMessageBox.question(
            self, self.tr("Delete rule"),
            self.tr("Delete the rule “{name}”? Orders it would have matched fall through to the rules below it.").format(name=rule.name),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Yes:
            return
        actor = self.actor

        def done(_r) -> None:
            self.message.emit(self.tr("Rule “{name}” deleted.").format(name=rule.name))
            self.form._baseline = None
            self.form.rule = None
            self.load()

        self.tasks.write(lambda s: routing.delete_rule(s, actor, rule.id), done, self._refused, owner=self)

    def _refused(self, message: str) -> None:
        self.message.emit(message)
        QMessageBox.warning(self, self.tr("Not done"), message)
        self.load()

    # -- order and switching on/off ------------------------------------------------------------------------

    def move_selected(self, step: int) -> None:
        row = self.table.currentIndex().row()
        if row < 0 or self.model.rows[row].rule.is_default:
            return
        target = row + step
        if self.model.move(row, target):
            new_row = max(0, min(target, self.model.movable_count() - 1))
            self._selecting = True
            self.table.selectRow(new_row)
            self.table.setCurrentIndex(self.model.index(new_row, 2))
            self._selecting = False
            self._update_actions()

    def _save_order(self) -> None:
        ids = [r.id for r in self.model.rules() if not r.is_default]
        actor = self.actor
        self.tasks.write(lambda s: routing.reorder(s, actor, ids),
                         lambda _r: self.message.emit(self.tr("Rule order saved.")), self._refused, owner=self)
        self.simulation.mark_stale()

    def toggle_selected(self) -> None:
        rule = self.selected_rule()
        if rule is None or rule.is_default:
            return
        index = self.model.index(self.model.row_of(rule.id), 1)
        self.model.setData(index, Qt.CheckState.Unchecked if rule.enabled else Qt.CheckState.Checked,
                           Qt.ItemDataRole.CheckStateRole)

    def _save_enabled(self, rule_id: int, enabled: bool) -> None:
        actor = self.actor
        if self.form.rule is not None and self.form.rule.id == rule_id:
            dirty = self.form.is_dirty()
            self.form.rule = replace(self.form.rule, enabled=enabled)
            self.form._loading = True
            self.form.enabled.setChecked(enabled)
            self.form._loading = False
            if not dirty:
                self.form._baseline = self.form._snapshot()
        name = self.model.rows[self.model.row_of(rule_id)].rule.name

        def done(_r) -> None:
            self.message.emit((self.tr("Rule “{name}” switched on.") if enabled else
                               self.tr("Rule “{name}” switched off: orders skip it.")).format(name=name))
            self._update_actions()

        self.tasks.write(lambda s: routing.set_enabled(s, actor, rule_id, enabled), done, self._refused, owner=self)
        self.simulation.mark_stale()
        self._update_actions()

    # -- simulation ------------------------------------------------------------------------------------------

    def edited_rules(self) -> tuple[list[Rule], tuple[str, dict, dict], Rule | None]:
        return self.model.rules(), self.form_rule(), self.form.rule

    def simulate(self) -> None:
        if not self.simulation.button.isEnabled():
            return
        try:
            current, (name, conditions, actions), base = self.edited_rules()
        except FormError as exc:
            self._check_generation += 1
            self._verdict(self._check_generation, Verdict(False, exc.message, exc.field))
            self.simulation.failed(exc.message)
            return
        enabled = self.form.enabled.isChecked()
        last = self.simulation.last.value()

        def job(session):
            clean_name, c, a = routing.check_rule(session, name or "—", conditions, actions)
            edited = Rule(base.id if base else None, clean_name, c, a, enabled, bool(base and base.is_default),
                          base.position if base else 0)
            return routing.simulate(session, proposed_rules(current, edited), last=last)

        def done(report: SimulationReport) -> None:
            self.simulation.show_report(report, datetime.now())
            self.simulated.emit()

        def failed(message: str) -> None:
            self.simulation.failed(message)
            self.simulated.emit()

        self.simulation.running(True)
        self.tasks.read(job, done, failed, owner=self)

    # -- state of the buttons ----------------------------------------------------------------------------------

    def _update_actions(self) -> None:
        selected = self.selected_rule()
        movable = selected is not None and not selected.is_default
        row = self.table.currentIndex().row()
        self.up_button.setEnabled(movable and row > 0)
        self.down_button.setEnabled(movable and row < self.model.movable_count() - 1)
        self.toggle_button.setEnabled(movable)
        self.toggle_button.setText(self.tr("Switch on") if selected is not None and not selected.enabled else self.tr("Switch off"))
        if selected is not None and selected.is_default:
            self.toggle_button.setToolTip(self.tr("The default rule is always on."))
        else:
            self.toggle_button.setToolTip("")
        editing_saved = self.form.rule is not None
        dirty = self.form.is_dirty() or not editing_saved
        self.save_button.setEnabled(dirty and self.verdict.ok and bool(self.form.name.text().strip()))
        self.revert_button.setEnabled(self.form.is_dirty())
        self.delete_button.setEnabled(editing_saved and not self.form.rule.is_default)
        self.delete_button.setToolTip(self.tr("The default rule cannot be deleted.")
                                      if editing_saved and self.form.rule.is_default else "")
        # Who may not change rules reads them and simulates; the buttons that change them say why they are off
        # (and the service refuses anyway).
        try:
            users.require(self.actor, "routing.edit")
        except NotPermitted as refused:
            for b in (self.new_button, self.up_button, self.down_button, self.toggle_button, self.save_button,
                      self.delete_button):
                b.setEnabled(False)
                b.setToolTip(str(refused))
        else:
            self.new_button.setEnabled(True)
