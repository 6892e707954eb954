"""The Reports screen's "Order to cash" tab: where the money of what shipped stands, now.

Four tables from ``oms.reports.order_to_cash``, read on the database worker with the other reports: shipments
shipped but not invoiced, payment captures captured against pending by age, captures that failed with their
retry state, and the invoices sent to EDI partners (810) with whether their 997 arrived. Enter on a row that
belongs to an order opens the order.
"""

from __future__ import annotations

from desktop import formatting as fmt
from desktop.qt import QLabel, QVBoxLayout, QWidget, Signal
from desktop.tables import cell as _item, fill_table, on_enter, read_only_table
from oms.core.money import to_text
from oms.reports import OrderToCash


def _money(minor: int, currency: str) -> str:
    return f"{to_text(minor, currency)} {currency}".strip() if currency else str(minor)


class OrderToCashPage(QWidget):
    open_order = Signal(int)

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("reportPage_o2c")
        self.report = "o2c"
        self.view: OrderToCash | None = None
        self.orders: dict[str, list[int | None]] = {}
        self.intro = QLabel(self.tr("Where the money of what shipped stands now: every shipment is invoiced as it "
                                    "ships; captures are the payments asked of the shops; an 810 is an EDI partner's "
                                    "invoice and its 997 the partner's receipt."))
        self.intro.setObjectName("reportDefinition")
        self.intro.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.intro)
        self.titles: dict[str, QLabel] = {}
        self.tables = {}
        for key, headers in (
            ("not_invoiced", [self.tr("Order"), self.tr("Shipment"), self.tr("Shipped"), self.tr("Units")]),
            ("captures", [self.tr("Age"), self.tr("Currency"), self.tr("Captured"), self.tr("Amount captured"),
                          self.tr("Pending"), self.tr("Amount pending"), self.tr("Failed"), self.tr("Amount failed")]),
            ("failed", [self.tr("Order"), self.tr("Channel"), self.tr("Amount"), self.tr("State"), self.tr("Attempts"),
                        self.tr("Last answer")]),
            ("edi", [self.tr("Partner"), self.tr("Order"), self.tr("Invoice"), self.tr("810"), self.tr("Sent"),
                     self.tr("997 arrived")]),
        ):
            title = QLabel()
            title.setObjectName(f"o2cTitle_{key}")
            table = read_only_table(f"o2cTable_{key}", headers, len(headers) - 1, row_height=26)
            on_enter(table, lambda key=key: self._open(key))
            table.doubleClicked.connect(lambda _i, key=key: self._open(key))
            self.titles[key], self.tables[key] = title, table
            layout.addWidget(title)
            layout.addWidget(table, 1)

    def show_view(self, view: OrderToCash) -> None:
        self.view = view
        t = self.tables
        self.titles["not_invoiced"].setText(self.tr("Shipped but not invoiced: {n}").format(n=len(view.not_invoiced)))
        fill_table(t["not_invoiced"], [[_item(r.order_number), _item(r.shipment_id, right=True),
                                        _item(fmt.short_datetime(r.shipped_at)), _item(r.units, right=True)]
                                       for r in view.not_invoiced])
        self.titles["captures"].setText(self.tr("Payment captures by age"))
        fill_table(t["captures"], [[_item(c.bucket), _item(c.currency), _item(c.captured, right=True),
                                    _item(_money(c.captured_minor, c.currency), right=True), _item(c.pending, right=True),
                                    _item(_money(c.pending_minor, c.currency), right=True), _item(c.failed, right=True),
                                    _item(_money(c.failed_minor, c.currency), right=True)] for c in view.captures])
        self.titles["failed"].setText(self.tr("Captures that failed: {n}").format(n=len(view.failed_captures)))
        fill_table(t["failed"], [[_item(f.order_number), _item(f.channel), _item(_money(f.amount_minor, f.currency), right=True),
                                  _item(self.tr("failed: send it again on the Sync screen") if f.state == "failed"
                                        else self.tr("retrying {when}").format(when=fmt.short_datetime(f.next_attempt_at))),
                                  _item(f.attempts, right=True), _item(f.last_error[:200], tip=f.last_error)]
                                 for f in view.failed_captures])
        self.titles["edi"].setText(self.tr("Invoices to EDI partners (810): {n}").format(n=len(view.edi_invoices)))
        fill_table(t["edi"], [[_item(e.partner), _item(e.order_number), _item(e.invoice_number), _item(e.state),
                               _item(fmt.short_datetime(e.sent_at) if e.sent_at else ""),
                               _item(fmt.short_datetime(e.acknowledged_at) if e.acknowledged_at else "")]
                              for e in view.edi_invoices])
        self.orders = {"not_invoiced": [r.order_id for r in view.not_invoiced], "captures": [],
                       "failed": [f.order_id for f in view.failed_captures], "edi": [e.order_id for e in view.edi_invoices]}

    def _open(self, key: str) -> None:
        row = self.tables[key].currentRow()
        ids = self.orders.get(key, [])
        if 0 <= row < len(ids) and ids[row]:
            self.open_order.emit(ids[row])
