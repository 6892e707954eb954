"""A shared station locks itself after the idle time its settings give, and switches between workers on a key.

The lock covers the window with the sign-in dialog and leaves everything underneath as it was: the screen, its
half-scanned order, the text in its fields. The badge and PIN of whoever comes next open it again; someone else
than the person before works as themselves from then on (``MainWindow.set_actor``).
"""

from __future__ import annotations

from desktop.qt import QApplication, QEvent, QKeySequence, QObject, QShortcut, QTimer
from desktop.sign_in import LOCK, SWITCH, SignInDialog

SWITCH_KEY = "Ctrl+Shift+U"
_ACTIVITY = {QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.Wheel}


class StationLock(QObject):
    def __init__(self, window, idle_seconds: int) -> None:
        super().__init__(window)
        self.window = window
        self.dialog: SignInDialog | None = None
        self._before = None  # where scans went before the lock
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(lambda: self.lock(LOCK))
        self.set_idle_seconds(idle_seconds)
        QApplication.instance().installEventFilter(self)
        self.switch_shortcut = QShortcut(QKeySequence(SWITCH_KEY), window, activated=lambda: self.lock(SWITCH))

    def set_idle_seconds(self, seconds: int) -> None:
        self.idle_ms = max(0, int(seconds)) * 1000
        self._restart()

    def stop(self) -> None:
        """The window closes: no lock comes up over whatever opens next."""
        self.idle_ms = 0
        self.timer.stop()
        QApplication.instance().removeEventFilter(self)

    def _restart(self) -> None:
        if self.idle_ms and self.dialog is None:
            self.timer.start(self.idle_ms)
        else:
            self.timer.stop()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt override)
        if event.type() in _ACTIVITY and self.dialog is None:
            self._restart()
        return False

    @property
    def locked(self) -> bool:
        return self.dialog is not None

    def lock(self, mode: str = LOCK) -> None:
        if self.dialog is not None or not self.window.isVisible():
            return
        self.timer.stop()
        w = self.window
        self.dialog = SignInDialog(w.tasks, w.settings.station_name, mode=mode, parent=w)
        self._before = w.router.target()
        w.router.set_target(self.dialog)  # a badge scanned now is for the lock, never for the screen below
        self.dialog.signed_in.connect(self._signed_in)
        self.dialog.finished.connect(self._closed)
        self.dialog.open()
        self.dialog.activateWindow()

    def _signed_in(self, actor) -> None:
        if actor.user != self.window.actor.user or actor.role != self.window.actor.role:
            self.window.set_actor(actor)

    def _closed(self, _code) -> None:
        dialog, self.dialog = self.dialog, None
        self.window.router.set_target(self._before)
        self._before = None
        if dialog is not None:
            dialog.deleteLater()
        self.window.activateWindow()
        self._restart()
