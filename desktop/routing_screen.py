"""Routing rules: the ordered list, a form to edit one rule, and a simulation of the edited rules over recent orders."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal, InvalidOperation

from desktop.qt import (
    QAbstractItemView,
    QAbstractTableModel,
    QByteArray,
    QCheckBox,
    QComboBox,
    QFont,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QKeySequence,
    QLabel,
    QLineEdit,
    QMessageBox,
    QMimeData,
    QModelIndex,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QShortcut,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    Qt,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTimer,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop import formatting as fmt
from desktop.tasks import Tasks
from desktop.window_state import WindowState
from oms import queries, routing
from oms.audit import Actor
from oms.errors import InvalidInput
from oms.gs1 import Scan
from oms.money import format_money
from oms.routing import Rule, SimulationReport

RULE_MIME = "application/x-quayside-routing-rule-row"
VALIDATE_DEBOUNCE_MS = 250
DEFAULT_SIMULATE_LAST = 2000
EXAMPLES_SHOWN = 5  # enough to recognise the orders; the rest are counted
MONEY_CURRENCY = "USD"  # rule values are compared with order totals in the shop's currency

# Form fields, each named after the condition or action key it edits ("weight" and "value" cover a min/max pair).
CONDITION_GROUPS: dict[str, tuple[str, ...]] = {
    "channel": ("channel",), "order_type": ("order_type",), "country": ("country",), "region": ("region",),
    "postal_prefix": ("postal_prefix",), "sku": ("sku",), "sku_tag": ("sku_tag",),
    "weight": ("weight_min_g", "weight_max_g"), "value": ("value_min_minor", "value_max_minor"),
    "service_level": ("service_level",),
}
ACTION_GROUPS: dict[str, tuple[str, ...]] = {
    "locations": ("allowed_locations", "preferred_locations"), "split": ("split",),
    "forced_service": ("service_level",), "hold_reason": ("hold_reason",),
}


@dataclass(frozen=True)
class RuleRow:
    """A rule with its plain-words halves, ready for the list."""

    rule: Rule
    matches: str
    does: str


@dataclass(frozen=True)
class RoutingSetup:
    rows: tuple[RuleRow, ...]
    channels: tuple[tuple[str, str], ...]  # code, name
    locations: tuple[tuple[str, str], ...]


def rule_row(rule: Rule) -> RuleRow:
    """Split Rule.describe() into what the rule matches and what it does."""
    full = rule.describe()
    does = replace(rule, conditions={}).describe()
    does = does.split(": ", 1)[1] if ": " in does else does
    matches = full[: len(full) - len(does)].rstrip().removesuffix(":") if full.endswith(does) else full
    return RuleRow(rule, matches, does)


def load_setup(session) -> RoutingSetup:
    rules = routing.load_rules(session)  # may add the default rule: run in a write session
    opts = queries.filter_options(session)
    return RoutingSetup(tuple(rule_row(r) for r in rules), tuple((c.code, c.name) for c in opts.channels),
                        tuple((c.code, c.name) for c in opts.locations))


def find_fault(session, name: str, conditions: dict, actions: dict) -> str | None:
    """Which form field a refused rule is wrong in: check each field on its own."""
    try:
        routing.check_rule(session, name, {}, {})
    except InvalidInput:
        return "name"
    for field, keys in CONDITION_GROUPS.items():
        part = {k: conditions[k] for k in keys if k in conditions}
        if part:
            try:
                routing.check_rule(session, "x", part, {})
            except InvalidInput:
                return field
    for field, keys in ACTION_GROUPS.items():
        part = {k: actions[k] for k in keys if k in actions}
        if part:
            try:
                routing.check_rule(session, "x", {}, part)
            except InvalidInput:
                return field
    return None


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str = ""
    field: str | None = None


def check(session, name: str, conditions: dict, actions: dict) -> Verdict:
    try:
        routing.check_rule(session, name, conditions, actions)
    except InvalidInput as exc:
        return Verdict(False, str(exc), find_fault(session, name, conditions, actions))
    return Verdict(True)


def proposed_rules(current: list[Rule], edited: Rule) -> list[Rule]:
    """The rule set with the edited rule in place (a new rule goes just above the default, as saving puts it)."""
    rules = list(current)
    for i, r in enumerate(rules):
        if edited.id is not None and r.id == edited.id:
            rules[i] = edited
            return rules
    at = next((i for i, r in enumerate(rules) if r.is_default), len(rules))
    rules.insert(at, edited)
    return rules


# -- the list ----------------------------------------------------------------------------------------


class RuleListModel(QAbstractTableModel):
    """The ordered rules; rows move by drag and drop or by keyboard, the default rule stays last."""

    moved = Signal()  # the order changed: save it
    enabled_changed = Signal(int, bool)  # rule id, enabled

    COLUMNS = ("#", "On", "Rule", "Matches", "Does")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[RuleRow] = []
        self._titles = [self.tr("#"), self.tr("On"), self.tr("Rule"), self.tr("Matches"), self.tr("Does")]

    def set_rows(self, rows) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rules(self) -> list[Rule]:
        return [r.rule for r in self.rows]

    def row_of(self, rule_id: int | None) -> int:
        return next((i for i, r in enumerate(self.rows) if r.rule.id == rule_id), -1)

    def movable_count(self) -> int:
        return sum(1 for r in self.rows if not r.rule.is_default)

    # -- Qt model
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt override)
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt override)
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802 (Qt override)
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._titles[section]
        return None

    def flags(self, index: QModelIndex):
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled  # drops land between rows, never onto a rule
        row = self.rows[index.row()]
        f = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if not row.rule.is_default:
            f |= Qt.ItemFlag.ItemIsDragEnabled
            if index.column() == 1:
                f |= Qt.ItemFlag.ItemIsUserCheckable
        return f

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        rule, col = row.rule, index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return str(index.row() + 1)
            if col == 1:
                return self.tr("always") if rule.is_default else ""
            if col == 2:
                return rule.name
            if col == 3:
                return row.matches
            if col == 4:
                return row.does
        if role == Qt.ItemDataRole.CheckStateRole and col == 1 and not rule.is_default:
            return Qt.CheckState.Checked if rule.enabled else Qt.CheckState.Unchecked
        if role == Qt.ItemDataRole.ForegroundRole:
            if not rule.enabled:
                return fmt.MUTED_COLOR
            if col in (0, 1):
                return fmt.MUTED_COLOR
        if role == Qt.ItemDataRole.FontRole and col == 2:
            font = QFont()
            font.setBold(rule.enabled)
            font.setItalic(not rule.enabled)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            if rule.is_default:
                return self.tr("The default rule applies when no rule above matches; it always stays last.")
            if not rule.enabled:
                return self.tr("Switched off: orders skip this rule.")
            if col == 0:
                return self.tr("Drag to change the order, or Ctrl+Up / Ctrl+Down")
            return row.matches + ": " + row.does
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (0, 1):
            return int(Qt.AlignmentFlag.AlignCenter)
        return None

    def setData(self, index: QModelIndex, value, role=Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802 (Qt override)
        if role != Qt.ItemDataRole.CheckStateRole or index.column() != 1:
            return False
        row = self.rows[index.row()]
        if row.rule.is_default:
            return False
        enabled = Qt.CheckState(value) == Qt.CheckState.Checked
        if enabled == row.rule.enabled:
            return False
        self.set_enabled(row.rule.id, enabled)
        self.enabled_changed.emit(row.rule.id, enabled)
        return True

    def set_enabled(self, rule_id: int, enabled: bool) -> None:
        r = self.row_of(rule_id)
        if r < 0:
            return
        row = self.rows[r]
        self.rows[r] = rule_row(replace(row.rule, enabled=enabled))
        self.dataChanged.emit(self.index(r, 0), self.index(r, len(self.COLUMNS) - 1))

    # -- moving
    def move(self, source: int, target: int) -> bool:
        """Move the rule at ``source`` so that it ends up at row ``target`` (never below the default rule)."""
        last = self.movable_count() - 1
        if not (0 <= source < len(self.rows)) or self.rows[source].rule.is_default:
            return False
        target = max(0, min(target, last))
        if target == source:
            return False
        dest = target + 1 if target > source else target  # beginMoveRows counts the destination before the move
        self.beginMoveRows(QModelIndex(), source, source, QModelIndex(), dest)
        self.rows.insert(target, self.rows.pop(source))
        self.endMoveRows()
        self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, 0))
        self.moved.emit()
        return True

    def supportedDropActions(self):  # noqa: N802 (Qt override)
        return Qt.DropAction.MoveAction

    def supportedDragActions(self):  # noqa: N802 (Qt override)
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:  # noqa: N802 (Qt override)
        return [RULE_MIME]

    def mimeData(self, indexes) -> QMimeData:  # noqa: N802 (Qt override)
        data = QMimeData()
        rows = sorted({ix.row() for ix in indexes if ix.isValid()})
        data.setData(RULE_MIME, QByteArray(str(rows[0] if rows else -1).encode()))
        return data

    def canDropMimeData(self, data, action, row, column, parent) -> bool:  # noqa: N802 (Qt override)
        return data.hasFormat(RULE_MIME)

    def dropMimeData(self, data, action, row, column, parent) -> bool:  # noqa: N802 (Qt override)
        """A drop moves the rule itself; returning False tells the view there is no source row left to remove."""
        if not data.hasFormat(RULE_MIME):
            return False
        source = int(bytes(data.data(RULE_MIME)).decode() or -1)
        if row < 0:  # dropped below the last row, or onto a row: take that row's place
            target = parent.row() if parent.isValid() else len(self.rows)
        else:  # dropped between rows: ``row`` counts the dragged rule still in its old place
            target = row - 1 if row > source else row
        self.move(source, target)
        return False


class RuleTable(QTableView):
    def __init__(self, model: RuleListModel) -> None:
        super().__init__()
        self.setObjectName("ruleTable")
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setDragDropOverwriteMode(False)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(True)
        self.verticalHeader().hide()
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.verticalHeader().setMinimumSectionSize(34)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.setColumnWidth(0, 34)
        self.setColumnWidth(1, 64)
        self.setColumnWidth(2, 200)


# -- the form ----------------------------------------------------------------------------------------


class ChoiceBoxes(QWidget):
    """Known values to tick (channels, locations, order types…); none ticked means any.

    The boxes fill as many columns as the width allows, so a long list of channels
    wraps instead of widening the form.
    """

    changed = Signal()
    SPACING = 14

    def __init__(self, name: str, columns: int = 3) -> None:
        super().__init__()
        self.setObjectName(name)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(self.SPACING)
        self._grid.setVerticalSpacing(2)
        self._columns = columns  # at most
        self._placed = 0
        self.boxes: dict[str, QCheckBox] = {}
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)

    def _fitting_columns(self, width: int) -> int:
        widest = max((b.sizeHint().width() for b in self.boxes.values()), default=1)
        return max(1, min(self._columns, len(self.boxes) or 1, (width + self.SPACING) // (widest + self.SPACING)))

    def _place(self, columns: int) -> None:
        for box in self.boxes.values():
            self._grid.removeWidget(box)
        for n, box in enumerate(self.boxes.values()):
            self._grid.addWidget(box, n // columns, n % columns, Qt.AlignmentFlag.AlignLeft)
        for c in range(self._columns + 1):
            self._grid.setColumnStretch(c, 1 if c == columns else 0)  # boxes keep their width: a click beside one misses it
        self._placed = columns

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        columns = self._fitting_columns(event.size().width())
        if columns != self._placed:
            self._place(columns)

    def minimumSizeHint(self):  # noqa: N802 (Qt override)
        hint = super().minimumSizeHint()
        widest = max((b.sizeHint().width() for b in self.boxes.values()), default=0)
        hint.setWidth(widest)
        return hint

    def set_choices(self, choices) -> None:
        """``choices``: (value, label) pairs; ticks on values still offered are kept."""
        choices = list(choices)
        if [(v, b.text().replace("&&", "&")) for v, b in self.boxes.items()] == choices:
            return
        ticked = self.values()
        for box in self.boxes.values():
            self._grid.removeWidget(box)
            box.deleteLater()
        self.boxes = {}
        for value, label in choices:
            self._add(value, label)
        self.set_values(ticked)

    def _add(self, value: str, label: str) -> QCheckBox:
        box = QCheckBox(label.replace("&", "&&"))  # a name like "Harbor & Pine" is not a keyboard accelerator
        box.setObjectName(f"{self.objectName()}_{value}")
        box.setToolTip(value)
        box.toggled.connect(lambda _on: self.changed.emit())
        self.boxes[value] = box
        self._place(self._fitting_columns(self.width()) if self.width() > 1 else self._columns)
        box.show()  # now, not on the layout's queued show: it can be ticked at once
        return box

    def values(self) -> list[str]:
        return [v for v, b in self.boxes.items() if b.isChecked()]

    def set_values(self, values) -> None:
        for v in values or ():
            if v not in self.boxes:  # a value the rule names but that is no longer offered: keep it visible
                self._add(v, v)
        wanted = set(values or ())
        for v, b in self.boxes.items():
            b.blockSignals(True)
            b.setChecked(v in wanted)
            b.blockSignals(False)
        self.changed.emit()


def _csv(values) -> str:
    return ", ".join(values or ())


def _split_csv(text: str) -> list[str]:
    return [p.strip() for p in text.replace(";", ",").split(",") if p.strip()]


def _number(text: str) -> Decimal | None:
    t = text.strip().replace(",", "").replace("$", "").replace(" ", "")
    if not t:
        return None
    try:
        value = Decimal(t)
    except InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite():
        raise ValueError(text)
    return value


class RuleForm(QWidget):
    """Every condition and action of one rule, with the reason a value is refused next to its field."""

    changed = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("ruleForm")
        self.rule: Rule | None = None  # the rule as saved; None while a new rule is written
        self._baseline: tuple | None = None
        self._loading = False
        self.errors: dict[str, QLabel] = {}

        self.heading = QLabel()
        self.heading.setObjectName("sectionTitle")
        self.error_banner = QLabel()
        self.error_banner.setObjectName("holdBanner")
        self.error_banner.setWordWrap(True)
        self.error_banner.hide()

        self.name = QLineEdit()
        self.name.setObjectName("ruleName")
        self.name.setPlaceholderText(self.tr("What the rule is for, e.g. Wholesale west coast ships from Reno"))
        self.name.setMaxLength(200)
        self.enabled = QCheckBox(self.tr("Rule is switched on"))
        self.enabled.setObjectName("ruleEnabled")
        self.enabled.setChecked(True)

        self.channel = ChoiceBoxes("condChannel")
        self.order_type = ChoiceBoxes("condOrderType")
        self.order_type.set_choices([(k, self.tr(v)) for k, v in queries.ORDER_TYPE_TITLES.items()])
        self.country = self._line("condCountry", self.tr("Any country — e.g. US, CA"))
        self.region = self._line("condRegion", self.tr("Any state or region — e.g. CA, OR, WA"))
        self.postal_prefix = self._line("condPostal", self.tr("Any postal code — e.g. 94, 97 (starts with)"))
        self.sku = self._line("condSku", self.tr("Any SKU — e.g. MUG-RED-12OZ"))
        self.sku_tag = self._line("condSkuTag", self.tr("Any tag — e.g. fragile, outdoor"))
        self.weight_min = self._line("condWeightMin", self.tr("any"), narrow=True)
        self.weight_max = self._line("condWeightMax", self.tr("any"), narrow=True)
        self.value_min = self._line("condValueMin", self.tr("any"), narrow=True)
        self.value_max = self._line("condValueMax", self.tr("any"), narrow=True)
        self.service_level = ChoiceBoxes("condService", columns=4)
        self.service_level.set_choices([(s, self.tr(s.capitalize())) for s in routing.SERVICE_LEVELS])

        self.allowed = ChoiceBoxes("actAllowed", columns=2)
        self.preferred = ChoiceBoxes("actPreferred", columns=2)
        self.split = QComboBox()
        self.split.setObjectName("actSplit")
        self.split.addItem(self.tr("Allow split: lines may ship from different locations"), "allow")
        self.split.addItem(self.tr("Ship complete: one location ships the whole order"), "ship_complete")
        self.forced_service = QComboBox()
        self.forced_service.setObjectName("actService")
        self.forced_service.addItem(self.tr("Keep the order's service level"), "")
        for s in routing.SERVICE_LEVELS:
            self.forced_service.addItem(self.tr(s.capitalize()), s)
        for combo in (self.split, self.forced_service):
            # Long choices must not widen the form past the editor; the open list still shows them whole.
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(16)
        self.hold_reason = self._line("actHold", self.tr("Leave empty to route; a reason holds matching orders"))

        def row_of(*widgets, between: str | None = None) -> QWidget:
            w = QWidget()
            h = QHBoxLayout(w)
            h.setContentsMargins(0, 0, 0, 0)
            h.setSpacing(6)
            for i, x in enumerate(widgets):
                if i and between:
                    h.addWidget(QLabel(between))
                if isinstance(x, str):
                    label = QLabel(x)
                    label.setObjectName("hint")
                    h.addWidget(label)
                else:
                    h.addWidget(x)
            h.addStretch(1)
            return w

        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(12)
        self.grid.setVerticalSpacing(4)
        self.grid.setColumnStretch(1, 1)
        self._row = 0

        def title(text: str, hint: str = "") -> None:
            label = QLabel(text)
            label.setObjectName("sectionTitle")
            self.grid.addWidget(label, self._row, 0, 1, 2)
            self._row += 1
            if hint:
                h = QLabel(hint)
                h.setObjectName("hint")
                h.setWordWrap(True)
                self.grid.addWidget(h, self._row, 0, 1, 2)
                self._row += 1

        def field(key: str, label: str, widget: QWidget) -> None:
            name = QLabel(label)
            name.setObjectName("fieldLabel")
            name.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            name.setContentsMargins(0, 6, 0, 0)
            self.grid.addWidget(name, self._row, 0)
            self.grid.addWidget(widget, self._row, 1)
            self._row += 1
            err = QLabel()
            err.setObjectName("fieldError")
            err.setStyleSheet(f"color: {fmt.LATE_COLOR.name()}; font-weight: 600;")
            err.setWordWrap(True)
            err.hide()
            self.grid.addWidget(err, self._row, 1)
            self._row += 1
            self.errors[key] = err

        field("name", self.tr("Name"), self.name)
        self.grid.addWidget(self.enabled, self._row, 1)
        self._row += 1
        self.grid.setRowMinimumHeight(self._row, 10)
        self._row += 1
        title(self.tr("Which orders"), self.tr("Leave a field empty to match any order; "
                                              "lists mean any of the values."))
        self.conditions_start = self._row
        field("channel", self.tr("Channel"), self.channel)
        field("order_type", self.tr("Order type"), self.order_type)
        field("country", self.tr("Country"), self.country)
        field("region", self.tr("State / region"), self.region)
        field("postal_prefix", self.tr("Postal code"), self.postal_prefix)
        field("sku", self.tr("SKU"), self.sku)
        field("sku_tag", self.tr("SKU tag"), self.sku_tag)
        field("weight", self.tr("Weight"), row_of(self.tr("from"), self.weight_min, self.tr("to"), self.weight_max,
                                                  self.tr("kg")))
        field("value", self.tr("Order value"), row_of(self.tr("from $"), self.value_min, self.tr("to $"), self.value_max))
        field("service_level", self.tr("Service"), self.service_level)
        self.conditions_end = self._row
        self.grid.setRowMinimumHeight(self._row, 10)
        self._row += 1
        title(self.tr("What happens"))
        field("allowed", self.tr("Ship only from"), self.allowed)
        field("locations", self.tr("Prefer"), self.preferred)
        field("split", self.tr("Splitting"), self.split)
        field("forced_service", self.tr("Service level"), self.forced_service)
        field("hold_reason", self.tr("Hold"), self.hold_reason)
        self.allowed.setToolTip(self.tr("None ticked: any active location may ship"))
        self.preferred.setToolTip(self.tr("Asked first when they can ship the order as well as the others"))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 8, 0)
        layout.setSpacing(8)
        layout.addWidget(self.heading)
        layout.addWidget(self.error_banner)
        layout.addLayout(self.grid)
        layout.addStretch(1)

        for w in (self.name, self.country, self.region, self.postal_prefix, self.sku, self.sku_tag, self.weight_min,
                  self.weight_max, self.value_min, self.value_max, self.hold_reason):
            w.textChanged.connect(self._changed)
        for c in (self.channel, self.order_type, self.service_level, self.allowed, self.preferred):
            c.changed.connect(self._changed)
        for c in (self.split, self.forced_service):
            c.currentIndexChanged.connect(self._changed)
        self.enabled.toggled.connect(self._changed)

    def _line(self, name: str, placeholder: str, *, narrow: bool = False) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        edit.setClearButtonEnabled(not narrow)
        if narrow:
            edit.setFixedWidth(90)
            edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        return edit

    def _changed(self, *_args) -> None:
        if not self._loading:
            self.changed.emit()

    # -- values
    def set_places(self, channels, locations) -> None:
        self._loading = True
        self.channel.set_choices(channels)
        self.allowed.set_choices([(code, f"{name} ({code})") for code, name in locations])
        self.preferred.set_choices([(code, f"{name} ({code})") for code, name in locations])
        self._loading = False
        self._chain_tabs()

    def _chain_tabs(self) -> None:
        """Tab walks the form top to bottom; boxes added when the places arrive would otherwise come last."""
        chain: list[QWidget] = [self.name, self.enabled, *self.channel.boxes.values(), *self.order_type.boxes.values(),
                                self.country, self.region, self.postal_prefix, self.sku, self.sku_tag, self.weight_min,
                                self.weight_max, self.value_min, self.value_max, *self.service_level.boxes.values(),
                                *self.allowed.boxes.values(), *self.preferred.boxes.values(), self.split,
                                self.forced_service, self.hold_reason]
        for first, second in zip(chain, chain[1:]):
            QWidget.setTabOrder(first, second)

    def last_in_tab_order(self) -> QWidget:
        return self.hold_reason

    def load(self, rule: Rule | None) -> None:
        """Show a saved rule, or an empty form for a new one."""
        self._loading = True
        self.rule = rule
        c = rule.conditions if rule else {}
        a = rule.actions if rule else {"split": "allow"}
        self.heading.setText(self.tr("Edit rule") if rule else self.tr("New rule (not saved yet)"))
        self.name.setText(rule.name if rule else "")
        self.enabled.setChecked(rule.enabled if rule else True)
        self.channel.set_values(c.get("channel"))
        self.order_type.set_values(c.get("order_type"))
        self.country.setText(_csv(c.get("country")))
        self.region.setText(_csv(c.get("region")))
        self.postal_prefix.setText(_csv(c.get("postal_prefix")))
        self.sku.setText(_csv(c.get("sku")))
        self.sku_tag.setText(_csv(c.get("sku_tag")))
        self.weight_min.setText(self._kg(c.get("weight_min_g")))
        self.weight_max.setText(self._kg(c.get("weight_max_g")))
        self.value_min.setText(self._money(c.get("value_min_minor")))
        self.value_max.setText(self._money(c.get("value_max_minor")))
        self.service_level.set_values(c.get("service_level"))
        self.allowed.set_values(a.get("allowed_locations"))
        self.preferred.set_values(a.get("preferred_locations"))
        self.split.setCurrentIndex(max(0, self.split.findData(a.get("split") or "allow")))
        self.forced_service.setCurrentIndex(max(0, self.forced_service.findData(a.get("service_level") or "")))
        self.hold_reason.setText(a.get("hold_reason") or "")
        is_default = bool(rule and rule.is_default)
        self.enabled.setEnabled(not is_default)
        self.enabled.setToolTip(self.tr("The default rule is always on.") if is_default else "")
        for r in range(self.conditions_start, self.conditions_end):
            for col in (0, 1):
                item = self.grid.itemAtPosition(r, col)
                if item is not None and item.widget() is not None:
                    item.widget().setEnabled(not is_default)
        if is_default:
            self.heading.setText(self.tr("Edit the default rule — it applies to every order no rule above matches"))
        self.show_error(None)
        self._loading = False
        self._baseline = self._snapshot()

    @staticmethod
    def _kg(grams) -> str:
        if grams is None:
            return ""
        if grams % 1000 == 0:
            return str(grams // 1000)
        return f"{Decimal(grams) / 1000:f}".rstrip("0").rstrip(".")

    @staticmethod
    def _money(minor) -> str:
        if minor is None:
            return ""
        return str(minor // 100) if minor % 100 == 0 else f"{minor // 100}.{minor % 100:02d}"

    def _snapshot(self) -> tuple:
        return (self.name.text().strip(), self.enabled.isChecked(), tuple(self.channel.values()), tuple(self.order_type.values()),
                self.country.text(), self.region.text(), self.postal_prefix.text(), self.sku.text(), self.sku_tag.text(),
                self.weight_min.text(), self.weight_max.text(), self.value_min.text(), self.value_max.text(),
                tuple(self.service_level.values()), tuple(self.allowed.values()), tuple(self.preferred.values()),
                self.split.currentData(), self.forced_service.currentData(), self.hold_reason.text().strip())

    def is_dirty(self) -> bool:
        return self._baseline is not None and self._snapshot() != self._baseline

    def values(self) -> tuple[str, dict, dict]:
        """(name, conditions, actions) as typed; ValueError(field, message) when a number cannot be read."""
        c: dict = {}
        for key, value in (("channel", self.channel.values()), ("order_type", self.order_type.values()),
                           ("country", _split_csv(self.country.text())), ("region", _split_csv(self.region.text())),
                           ("postal_prefix", _split_csv(self.postal_prefix.text())), ("sku", _split_csv(self.sku.text())),
                           ("sku_tag", _split_csv(self.sku_tag.text())), ("service_level", self.service_level.values())):
            if value:
                c[key] = value
        for key, edit, scale, field, what in (
                ("weight_min_g", self.weight_min, 1000, "weight", self.tr("Weights are kilograms, like 2.5")),
                ("weight_max_g", self.weight_max, 1000, "weight", self.tr("Weights are kilograms, like 2.5")),
                ("value_min_minor", self.value_min, 100, "value", self.tr("Order values are amounts, like 150 or 1,500.00")),
                ("value_max_minor", self.value_max, 100, "value", self.tr("Order values are amounts, like 150 or 1,500.00"))):
            try:
                number = _number(edit.text())
            except ValueError:
                raise FormError(field, what) from None
            if number is not None:
                if number < 0:
                    raise FormError(field, self.tr("Use zero or more; leave it empty for any."))
                c[key] = int((number * scale).to_integral_value())
        a: dict = {"split": self.split.currentData()}
        if self.allowed.values():
            a["allowed_locations"] = self.allowed.values()
        if self.preferred.values():
            a["preferred_locations"] = self.preferred.values()
        if self.forced_service.currentData():
            a["service_level"] = self.forced_service.currentData()
        if self.hold_reason.text().strip():
            a["hold_reason"] = self.hold_reason.text().strip()
        return self.name.text().strip(), c, a

    def show_error(self, message: str | None, field: str | None = None) -> None:
        for key, label in self.errors.items():
            label.setVisible(bool(message) and key == field)
            label.setText(message or "" if key == field else "")
        if message:
            self.error_banner.setText(self.tr("This rule cannot be saved: {reason}").format(reason=message))
            self.error_banner.show()
        else:
            self.error_banner.hide()


class FormError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# -- simulation --------------------------------------------------------------------------------------


ROW_HEIGHT = 25


def _pct(side) -> str:
    return f"{100 * side.on_time / side.orders:.1f}%" if side.orders else "—"


class SimulationPanel(QFrame):
    """Before and after for the edited rules over the last N orders."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("card")
        self.report: SimulationReport | None = None
        title = QLabel(self.tr("Simulate"))
        title.setObjectName("sectionTitle")
        self.last = QSpinBox()
        self.last.setObjectName("simulateLast")
        self.last.setRange(10, 100_000)
        self.last.setSingleStep(500)
        self.last.setGroupSeparatorShown(True)
        self.last.setValue(DEFAULT_SIMULATE_LAST)
        self.last.setFixedWidth(100)
        self.button = QPushButton(self.tr("Simulate"))
        self.button.setObjectName("primaryButton")
        self.button.setToolTip(self.tr("Route recent orders with the rules as edited, without changing anything (Ctrl+R)"))
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.setFixedWidth(120)
        self.progress.hide()
        head = QHBoxLayout()
        head.setSpacing(8)
        head.addWidget(title)
        head.addSpacing(8)
        over = QLabel(self.tr("the rules as edited over the last"))
        over.setObjectName("hint")
        head.addWidget(over)
        head.addWidget(self.last)
        orders = QLabel(self.tr("orders"))
        orders.setObjectName("hint")
        head.addWidget(orders)
        head.addStretch(1)
        head.addWidget(self.progress)
        head.addWidget(self.button)

        self.summary = QLabel(self.tr("See how the rules as edited would route recent orders before you save them."))
        self.summary.setObjectName("simulationSummary")
        self.summary.setWordWrap(True)
        self.stale = QLabel()
        self.stale.setObjectName("hint")
        self.stale.setWordWrap(True)
        self.stale.hide()
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("simulationTable")
        self.table.setHorizontalHeaderLabels([self.tr(""), self.tr("Now"), self.tr("As edited"), self.tr("Change")])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.table.setShowGrid(False)
        self.table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        h = self.table.horizontalHeader()
        h.setHighlightSections(False)
        h.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            h.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.hide()
        self.examples = QLabel()
        self.examples.setObjectName("simulationExamples")
        self.examples.setWordWrap(True)
        self.examples.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.examples.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 12)
        layout.setSpacing(8)
        layout.addLayout(head)
        layout.addWidget(self.summary)
        layout.addWidget(self.stale)
        layout.addWidget(self.table)
        layout.addWidget(self.examples)

    def running(self, on: bool) -> None:
        self.progress.setVisible(on)
        self.button.setEnabled(not on)
        self.last.setEnabled(not on)
        if on:
            self.summary.setText(self.tr("Routing the last {n} orders with the rules as edited…").format(n=f"{self.last.value():,}"))

    def failed(self, message: str) -> None:
        self.running(False)
        self.summary.setText(self.tr("Could not simulate: {reason}").format(reason=message))

    def show_report(self, report: SimulationReport, at: datetime) -> None:
        self.running(False)
        self.report = report
        b, a = report.before, report.after
        self.summary.setText(report.summary())
        self.stale.setText(self.tr("Simulated at {time}. Nothing was changed; save the rule to use it.").format(
            time=at.strftime("%H:%M")))
        self.stale.show()
        money = lambda m: format_money(m, MONEY_CURRENCY)  # noqa: E731
        cost_change = (f"{(a.cost_minor - b.cost_minor) / b.cost_minor * 100:+.1f}%" if b.cost_minor else "—")
        on_time_change = (f"{100 * (a.on_time / a.orders - b.on_time / b.orders):+.1f} pts" if a.orders and b.orders else "—")
        rows = [
            (self.tr("Orders that move"), "", "", self.tr("{moved} of {n}").format(moved=f"{report.moved:,}", n=f"{b.orders:,}")),
            (self.tr("Shipments"), f"{b.shipments:,}", f"{a.shipments:,}", f"{a.shipments - b.shipments:+,}"),
            (self.tr("Orders whose split changes"), "", "", f"{report.split_changed:,}"),
            (self.tr("Estimated shipping cost"), money(b.cost_minor), money(a.cost_minor), cost_change),
            (self.tr("On time"), _pct(b), _pct(a), on_time_change),
            (self.tr("Held"), f"{b.held:,}", f"{a.held:,}", f"{a.held - b.held:+,}"),
        ]
        self.table.setRowCount(len(rows))
        for r, values in enumerate(rows):
            for c, v in enumerate(values):
                item = QTableWidgetItem(v)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if c == 3:
                    f = item.font()
                    f.setBold(True)
                    item.setFont(f)
                self.table.setItem(r, c, item)
        self.table.setFixedHeight(self.table.horizontalHeader().sizeHint().height() + len(rows) * ROW_HEIGHT + 4)
        self.table.show()
        if report.examples:
            shown = report.examples[:EXAMPLES_SHOWN]
            more = report.moved - len(shown)
            text = self.tr("Orders that would move: {examples}").format(examples="  ·  ".join(shown))
            if more > 0:
                text += "  " + self.tr("…and {n} more").format(n=f"{more:,}")
            self.examples.setText(text)
        else:
            self.examples.setText(self.tr("No order would ship from somewhere else."))
        notes = report.shadow_notes()  # why a new rule changes nothing: a rule above takes its orders
        if notes:
            self.examples.setText("  ".join([self.examples.text(), *notes]))
        self.examples.show()

    def mark_stale(self) -> None:
        if self.report is not None:
            self.stale.setText(self.tr("The rule has changed since this simulation; simulate again to see its effect."))
            self.stale.show()


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
