"""Small dialogs the screens share: a reason for a hold or cancellation, a line cancellation, a note."""

from __future__ import annotations

from desktop.qt import (
    QCoreApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    Qt,
    QVBoxLayout,
    QWidget,
)


class ReasonDialog(QDialog):
    """Asks for a reason before an action; the action button stays disabled until one is given.

    With ``danger=True`` the action button is styled as destructive and is not the
    default button, so a stray Enter never cancels an order.
    """

    def __init__(self, parent: QWidget | None, title: str, message: str, action: str, *,
                 placeholder: str = "", danger: bool = False, suggestions: tuple[str, ...] = ()) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName("reasonDialog")
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        layout.setSpacing(12)
        text = QLabel(message)
        text.setWordWrap(True)
        text.setObjectName("dialogMessage")
        layout.addWidget(text)
        self.reason_edit = QLineEdit()
        self.reason_edit.setObjectName("reasonEdit")
        self.reason_edit.setPlaceholderText(placeholder or self.tr("Reason (required)"))
        self.reason_edit.setMaxLength(300)
        self.reason_edit.setClearButtonEnabled(True)
        layout.addWidget(self.reason_edit)
        if suggestions:
            row = QVBoxLayout()
            row.setSpacing(4)
            hint = QLabel(self.tr("Common reasons:"))
            hint.setObjectName("hint")
            row.addWidget(hint)
            for s in suggestions:
                b = QPushButton(s)
                b.setObjectName("suggestion")
                b.setFlat(True)
                b.setAutoDefault(False)
                b.clicked.connect(lambda _=False, s=s: self.reason_edit.setText(s))
                row.addWidget(b, 0, Qt.AlignmentFlag.AlignLeft)
            layout.addLayout(row)
        self.extra = QFormLayout()
        layout.addLayout(self.extra)
        buttons = QDialogButtonBox()
        self.ok_button = buttons.addButton(action, QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok_button.setObjectName("dangerButton" if danger else "primaryButton")
        back = buttons.addButton(self.tr("Go back") if danger else self.tr("Cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        if danger:
            self.ok_button.setAutoDefault(False)
            back.setDefault(True)
        else:
            self.ok_button.setDefault(True)
            back.setAutoDefault(False)  # tabbing past it must not make Return cancel
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.reason_edit.textChanged.connect(self._update)
        self._update()
        self.reason_edit.setFocus()

    def _update(self) -> None:
        self.ok_button.setEnabled(bool(self.reason().strip()))

    def reason(self) -> str:
        return self.reason_edit.text().strip()


class CancelLineDialog(ReasonDialog):
    """Cancel some or all of what is still cancellable on one line."""

    def __init__(self, parent: QWidget | None, order_number: str, sku: str, cancellable: int) -> None:
        super().__init__(
            parent, self.tr("Cancel line"),
            self.tr("Cancel units of {sku} on order {number}? The channel is told; this cannot be undone.").format(
                sku=sku, number=order_number),
            self.tr("Cancel units"), danger=True,
            suggestions=(self.tr("Customer asked to cancel"), self.tr("Out of stock, customer will not wait")),
        )
        self.quantity = QSpinBox()
        self.quantity.setObjectName("cancelQuantity")
        self.quantity.setRange(1, max(1, cancellable))
        self.quantity.setValue(max(1, cancellable))
        self.quantity.setSuffix(self.tr(" of {n}").format(n=cancellable))
        self.extra.addRow(self.tr("Units to cancel"), self.quantity)


class NoteDialog(QDialog):
    """A free-text note on an order, for the next person who opens it."""

    def __init__(self, parent: QWidget | None, order_number: str) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Add note to {number}").format(number=order_number))
        self.setObjectName("noteDialog")
        self.setMinimumSize(480, 260)
        layout = QVBoxLayout(self)
        self.text_edit = QPlainTextEdit()
        self.text_edit.setObjectName("noteEdit")
        self.text_edit.setPlaceholderText(self.tr("What should the next person know about this order?"))
        self.text_edit.setTabChangesFocus(True)
        layout.addWidget(self.text_edit)
        buttons = QDialogButtonBox()
        self.ok_button = buttons.addButton(self.tr("Add note"), QDialogButtonBox.ButtonRole.AcceptRole)
        self.ok_button.setObjectName("primaryButton")
        buttons.addButton(self.tr("Cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.text_edit.textChanged.connect(lambda: self.ok_button.setEnabled(bool(self.text().strip())))
        self.ok_button.setEnabled(False)
        self.text_edit.setFocus()

    def text(self) -> str:
        return self.text_edit.toPlainText().strip()


def hold_reasons() -> tuple[str, ...]:
    """Reasons offered with one click when putting orders on hold."""
    t = QCoreApplication.translate
    return (
        t("Dialogs", "Address check: confirm with the customer"),
        t("Dialogs", "Payment review"),
        t("Dialogs", "Customer asked to wait"),
    )
