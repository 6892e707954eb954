"""The rule list: rules top to bottom, switched on or off, dragged or moved with Ctrl+Up/Down."""

from __future__ import annotations

from dataclasses import replace

from desktop import formatting as fmt
from desktop.qt import (
    QAbstractItemView,
    QAbstractTableModel,
    QByteArray,
    QFont,
    QHeaderView,
    QMimeData,
    QModelIndex,
    Qt,
    QTableView,
    Signal,
)
from desktop.screens.routing.setup import RuleRow, rule_row
from oms.routing.rules import Rule

RULE_MIME = "application/x-quayside-routing-rule-row"

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
