"""Signing in at a station: a badge scan and a PIN (the scanner first), or a user name and a password.

The same dialog locks an idle station and switches between workers: it covers the window, which stays as it was
underneath (a half-scanned order is still there after the unlock), and the scanner's bursts come to it while it
is up (``accepts_scan``/``handle_scan``), so a badge is never taken for an item.
"""

from __future__ import annotations

import re

from desktop.qt import (
    QDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    Qt,
    QVBoxLayout,
    Signal,
)
from desktop.tasks import Tasks
from oms import users
from oms.core.audit import Actor

_BADGE = re.compile(r"^QB[0-9]{10}$", re.IGNORECASE)

START, LOCK, SWITCH = "start", "lock", "switch"


class SignInDialog(QDialog):
    """Who is at the station. ``signed_in`` carries the person's Actor once they are in."""

    signed_in = Signal(object)  # Actor
    closed = Signal()  # the window of the first sign-in was closed: Quayside stops

    def __init__(self, tasks: Tasks, station: str, *, mode: str = START, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("signInDialog")
        self.tasks = tasks
        self.station = station
        self.mode = mode
        self.badge: str | None = None
        self.actor: Actor | None = None
        self.setWindowTitle(self.tr("Sign in to Quayside"))
        self.setWindowModality(Qt.WindowModality.ApplicationModal)
        self.title = QLabel({START: self.tr("Sign in"), LOCK: self.tr("This station is locked"),
                             SWITCH: self.tr("Switch user")}[mode])
        self.title.setObjectName("signInTitle")
        self.title.setStyleSheet("font-size: 20pt; font-weight: bold;")
        self.hint = QLabel(self.tr("Scan your badge, then type your PIN. Or type your user name and password."))
        self.hint.setWordWrap(True)
        self.who = QLineEdit()
        self.who.setObjectName("signInWho")
        self.who.setPlaceholderText(self.tr("Badge or user name"))
        self.secret = QLineEdit()
        self.secret.setObjectName("signInSecret")
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setPlaceholderText(self.tr("PIN or password"))
        self.new_password = QLineEdit()
        self.new_password.setObjectName("signInNewPassword")
        self.new_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.new_password.setPlaceholderText(self.tr("New password (at least 8 characters)"))
        self.repeat = QLineEdit()
        self.repeat.setObjectName("signInRepeat")
        self.repeat.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat.setPlaceholderText(self.tr("The new password again"))
        for w in (self.new_password, self.repeat):
            w.hide()
        self.message = QLabel()
        self.message.setObjectName("signInMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020; font-size: 12pt;")
        self.button = QPushButton(self.tr("Sign in"))
        self.button.setAutoDefault(False)
        self.button.clicked.connect(self._submit)
        layout = QVBoxLayout(self)
        for w in (self.title, self.hint, self.who, self.secret, self.new_password, self.repeat, self.message, self.button):
            layout.addWidget(w)
        self.setMinimumWidth(460)
        self.who.returnPressed.connect(self._who_entered)
        self.secret.returnPressed.connect(self._submit)
        self.new_password.returnPressed.connect(self.repeat.setFocus)
        self.repeat.returnPressed.connect(self._change_password)
        self.who.setFocus()

    # -- the scanner, while the dialog is up ------------------------------------------------------------

    def accepts_scan(self, scan) -> bool:
        return True

    def handle_scan(self, scan) -> None:
        self.who.setText(scan.raw.strip())
        self._who_entered()

    # -- steps ---------------------------------------------------------------------------------------------

    def _who_entered(self) -> None:
        text = self.who.text().strip()
        if not text:
            return
        self.message.clear()
        if _BADGE.match(text):
            self.badge = text.upper()
            self.who.clear()
            self.tasks.read(lambda s: users.identify_badge(s, self.badge), self._badge_known, self._failed, owner=self)
        else:
            self.badge = None
        self.secret.setFocus()

    def _badge_known(self, name: str | None) -> None:
        if name:
            self.hint.setText(self.tr("Hello {name}: type your PIN.").format(name=name))
            self.who.setPlaceholderText(name)
        else:
            self.badge = None
            self.message.setText(self.tr("This badge is not known here."))
            self.who.setFocus()

    def _submit(self) -> None:
        secret = self.secret.text()
        badge, name = self.badge, self.who.text().strip()
        if not badge and not name:
            self.who.setFocus()
            return
        station = self.station

        def job(session):
            if badge:
                return users.sign_in_badge(session, badge, secret, station)
            return users.sign_in(session, name, secret, station)

        self.tasks.write(job, self._answered, self._failed, owner=self)

    def _answered(self, result) -> None:
        self.secret.clear()
        if not result.ok:
            self.message.setText(result.message)
            (self.secret if self.badge else self.who).setFocus()
            return
        self.actor = result.actor
        if result.must_change_password:
            self._old = None  # the password just typed is not kept; the service asks for it again below
            self.hint.setText(self.tr("Welcome, {name}. Choose your own password now.").format(name=result.actor.name))
            self.who.hide()
            self.secret.show()
            self.secret.setPlaceholderText(self.tr("The password you were given"))
            for w in (self.new_password, self.repeat):
                w.show()
            self.secret.returnPressed.disconnect()
            self.secret.returnPressed.connect(self.new_password.setFocus)
            self.secret.setFocus()
            return
        self._done()

    def _change_password(self) -> None:
        old, new, again = self.secret.text(), self.new_password.text(), self.repeat.text()
        if new != again:
            self.message.setText(self.tr("The two new passwords differ."))
            self.repeat.clear()
            self.new_password.setFocus()
            return
        actor = self.actor

        def job(session):
            users.change_own_password(session, actor, old, new)

        def failed(message: str) -> None:
            self.message.setText(message)
            self.secret.setFocus()

        self.tasks.write(job, lambda _r: self._done(), failed, owner=self)

    def _done(self) -> None:
        self.signed_in.emit(self.actor)
        self.accept()

    def _failed(self, message: str) -> None:
        self.message.setText(message)

    def reject(self) -> None:  # noqa: D102 - Escape does not leave a locked station open
        if self.mode == SWITCH:
            super().reject()

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self.mode == START and self.result() != QDialog.DialogCode.Accepted:
            self.closed.emit()
            event.accept()
            return
        if self.mode == LOCK:
            event.ignore()
            return
        super().closeEvent(event)
