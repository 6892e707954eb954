"""The simulation panel: how the rules as edited would route recent orders, before anything is saved."""

from __future__ import annotations

from datetime import datetime

from desktop.qt import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    Qt,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)
from oms import routing
from oms.core.money import format_money
from oms.routing.simulation import SimulationReport

DEFAULT_SIMULATE_LAST = 2000
EXAMPLES_SHOWN = 5  # enough to recognise the orders; the rest are counted

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
        money = lambda m: format_money(m, routing.RULE_CURRENCY)  # noqa: E731
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
