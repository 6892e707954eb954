"""Read-only tables for the screens: one way to build them, fill them and keep the selection."""

from __future__ import annotations

from desktop import formatting as fmt
from desktop.qt import (
    QAbstractItemView,
    QHeaderView,
    QKeySequence,
    QShortcut,
    Qt,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
)


def read_only_table(name: str, headers: list[str], stretch: int | None = None, *, row_height: int = 32,
                    fit_contents: bool = False) -> QTableWidget:
    """A selectable, non-editable table; ``stretch`` takes the spare width. Columns are sized when
    filled (fill_table), or by Qt on every change when ``fit_contents`` (fine for short tables only)."""
    t = QTableWidget(0, len(headers))
    t.setObjectName(name)
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().hide()
    t.verticalHeader().setDefaultSectionSize(row_height)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.setAlternatingRowColors(True)
    t.setShowGrid(False)
    t.setWordWrap(False)
    t.setTabKeyNavigation(False)  # rows are chosen with the arrows; Tab moves on to the next field
    t.horizontalHeader().setHighlightSections(False)
    mode = QHeaderView.ResizeMode.ResizeToContents if fit_contents else QHeaderView.ResizeMode.Interactive
    t.horizontalHeader().setSectionResizeMode(mode)
    if stretch is not None:
        t.horizontalHeader().setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    t.setProperty("stretch", -1 if stretch is None else stretch)
    return t


def record_view(name: str, model, *, row_height: int = 32, many: bool = False) -> QTableView:
    """A view over a long paged model (orders, documents): whole rows, fixed row height, not editable;
    ``many`` lets the person select several rows."""
    t = QTableView()
    t.setObjectName(name)
    t.setModel(model)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection if many else QAbstractItemView.SelectionMode.SingleSelection)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setAlternatingRowColors(True)
    t.setShowGrid(False)
    t.setWordWrap(False)
    t.setTabKeyNavigation(False)  # rows are chosen with the arrows; Tab moves on to the next field
    t.verticalHeader().hide()
    t.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    t.verticalHeader().setDefaultSectionSize(row_height)
    t.horizontalHeader().setHighlightSections(False)
    t.horizontalHeader().setStretchLastSection(True)
    return t


def on_enter(table, action) -> None:
    """Enter or Return on the table (and only there) runs ``action``: open what is selected."""
    for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
        sc = QShortcut(QKeySequence(key), table)
        sc.setContext(Qt.ShortcutContext.WidgetShortcut)
        sc.activated.connect(action)


def fill_table(table: QTableWidget, rows: list[list[QTableWidgetItem]], keys: list | None = None) -> None:
    """Replace the rows at once; with ``keys`` (stored in column 0), the selected row stays selected."""
    selected = selected_key(table)
    table.setUpdatesEnabled(False)
    try:
        table.setRowCount(len(rows))
        for r, items in enumerate(rows):
            for c, item in enumerate(items):
                if c == 0 and keys is not None:
                    item.setData(Qt.ItemDataRole.UserRole, keys[r])
                table.setItem(r, c, item)
        stretch = table.property("stretch")
        if table.horizontalHeader().sectionResizeMode(0) != QHeaderView.ResizeMode.ResizeToContents:
            for c in range(table.columnCount()):
                if c != stretch:
                    table.resizeColumnToContents(c)
        if keys and selected in keys:
            table.selectRow(keys.index(selected))
    finally:
        table.setUpdatesEnabled(True)


def selected_key(table: QTableWidget):
    row = table.currentRow()
    item = table.item(row, 0) if row >= 0 else None
    return item.data(Qt.ItemDataRole.UserRole) if item is not None else None


def cell(value, *, right: bool = False, bold: bool = False, muted: bool = False, color=None, tip: str = "") -> QTableWidgetItem:
    """One cell: whole numbers get thousands separators, None is blank."""
    text = "" if value is None else f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
    item = QTableWidgetItem(text)
    if right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    if bold:
        f = item.font()
        f.setBold(True)
        item.setFont(f)
    if muted:
        item.setForeground(fmt.MUTED_COLOR)
    elif color is not None:
        item.setForeground(color)
    if tip:
        item.setToolTip(tip)
    return item
