"""Barcode scanner input: tells scanner bursts from typing and routes each scan to the active screen."""

from __future__ import annotations

import time
import weakref
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Protocol

from desktop.qt import (
    QCoreApplication,
    QEvent,
    QKeyEvent,
    QObject,
    Qt,
    QTimer,
    QWidget,
    Signal,
    Slot,
    isValid,
)
from oms.core.gs1 import GS, Gs1Error, Scan, classify_scan

__all__ = ["ScanInputFilter", "ScanRouter", "ScanTarget", "ScannerSettings", "scan_kind_name"]

# The flush timer must fire later than any key that still belongs to the burst,
# or a scan could be split in two; the slack absorbs timer jitter.
_FLUSH_SLACK_MS = 15

_MODIFIER_KEYS = frozenset(
    int(k)
    for k in (
        Qt.Key.Key_Shift,
        Qt.Key.Key_Control,
        Qt.Key.Key_Alt,
        Qt.Key.Key_AltGr,
        Qt.Key.Key_Meta,
        Qt.Key.Key_CapsLock,
        Qt.Key.Key_NumLock,
    )
)
_SHORTCUT_MODIFIERS = (
    Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier
)
_ALTGR = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
_WATCHED_EVENTS = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.KeyRelease,
        QEvent.Type.ShortcutOverride,
        QEvent.Type.MouseButtonPress,
    }
)


@dataclass(frozen=True)
class ScannerSettings:
    """How this station's scanner types: speed, terminators, and any prefix or suffix it adds."""

    max_interval_ms: int = 35  # longest gap between two keys of one scan
    min_length: int = 4  # shorter bursts are fast typing, not scans
    terminators: tuple[Qt.Key, ...] = (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab)
    prefix: str = ""  # removed from the start of a scan when present
    suffix: str = ""  # removed from the end of a scan when present
    enabled: bool = True

    def __post_init__(self) -> None:
        if self.max_interval_ms <= 0:
            raise ValueError("max_interval_ms must be positive")
        if self.min_length < 1:
            raise ValueError("min_length must be at least 1")


@dataclass
class _HeldKey:
    receiver: QObject
    event: QKeyEvent  # a copy: Qt reuses or frees the original after delivery
    char: str  # what a press adds to the scan; empty for a release


class ScanInputFilter(QObject):
    """Application-wide key filter that turns scanner bursts into `Scan`s.

    Printable keys are held back while they arrive faster than
    `max_interval_ms`. A held run ended by a terminator and at least
    `min_length` long is a scan: its keys never reach the focused widget and
    `scanned` is emitted. Anything else was a person typing: the held keys are
    re-sent, in order, to the widgets they were meant for, so typing is delayed
    by at most a few tens of milliseconds but never lost or reordered.

    Install with `QApplication.instance().installEventFilter(scan_filter)`.
    `clock` returns seconds (monotonic); tests pass a fake one.
    """

    scanned = Signal(object)  # Scan
    scan_failed = Signal(str, str)  # scanned text, message for the person scanning

    def __init__(
        self,
        settings: ScannerSettings | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._clock = clock
        self._held: list[_HeldKey] = []
        self._last_press = 0.0
        # Presses we held or swallowed whose release must not reach a widget on its own.
        self._releases_to_hold: Counter[int] = Counter()
        self._replaying = False
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._flush_timer.timeout.connect(self._release_as_typing)
        self._settings = ScannerSettings()
        self._terminators: frozenset[int] = frozenset()
        self.settings = settings or ScannerSettings()

    @property
    def settings(self) -> ScannerSettings:
        return self._settings

    @settings.setter
    def settings(self, settings: ScannerSettings) -> None:
        self._release_as_typing()
        self._settings = settings
        self._terminators = frozenset(int(k) for k in settings.terminators)
        self._flush_timer.setInterval(settings.max_interval_ms + _FLUSH_SLACK_MS)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        etype = event.type()
        if etype not in _WATCHED_EVENTS or self._replaying or not self._settings.enabled:
            return False
        if etype == QEvent.Type.MouseButtonPress:
            # A click may move the cursor: held keys must land where they were typed.
            if self._held:
                self._release_as_typing()
            return False
        # Key events reach the window first, which forwards them to its focus
        # widget; looking only at widgets sees each key once.
        if not isinstance(watched, QWidget):
            return False
        assert isinstance(event, QKeyEvent)
        if etype == QEvent.Type.KeyPress:
            return self._key_press(watched, event)
        if etype == QEvent.Type.KeyRelease:
            return self._key_release(watched, event)
        return self._shortcut_override(event)

    # --- deciding ------------------------------------------------------------

    def _in_burst(self) -> bool:
        if not self._held:
            return False
        return (self._clock() - self._last_press) * 1000.0 <= self._settings.max_interval_ms

    def _scan_char(self, event: QKeyEvent) -> str:
        """The character a key adds to a scan, or "" when it cannot be part of one."""
        text = event.text()
        if text == GS:
            return GS  # scanners send FNC1 as Ctrl+]
        if not text or event.isAutoRepeat() or not all(c.isprintable() for c in text):
            return ""
        modifiers = event.modifiers()
        if modifiers & _SHORTCUT_MODIFIERS and (modifiers & _ALTGR) != _ALTGR:
            return ""  # Ctrl/Alt shortcuts are the person's; Ctrl+Alt is AltGr on Windows
        return text

    def _key_press(self, receiver: QWidget, event: QKeyEvent) -> bool:
        key = event.key()
        if key in _MODIFIER_KEYS:
            return False  # scanners press Shift for capitals: it must not end a burst
        in_burst = self._in_burst()
        if self._held and not in_burst:
            self._release_as_typing()

        if key in self._terminators:
            if not in_burst:
                return False
            text = "".join(h.char for h in self._held)
            if len(text) < self._settings.min_length:
                self._release_as_typing()
                return False
            self._finish_scan(text, key)
            return True

        char = self._scan_char(event)
        if not char:
            if self._held:
                self._release_as_typing()
            return False
        self._held.append(_HeldKey(receiver, event.clone(), char))
        self._releases_to_hold[key] += 1
        self._last_press = self._clock()
        self._flush_timer.start()
        return True

    def _key_release(self, receiver: QWidget, event: QKeyEvent) -> bool:
        key = event.key()
        if self._releases_to_hold[key] <= 0:
            return False
        self._releases_to_hold[key] -= 1
        if self._held:
            # Re-sent with the presses if this turns out to be typing, so a
            # button never sees a release before its press.
            self._held.append(_HeldKey(receiver, event.clone(), ""))
        return True  # the release of a scanned key is dropped with the key

    def _shortcut_override(self, event: QKeyEvent) -> bool:
        # Inside a burst, keep scanned characters from firing single-key
        # shortcuts; the first key of a burst cannot be told from typing yet.
        if self._in_burst() and (event.key() in self._terminators or self._scan_char(event)):
            event.accept()
            return True
        return False

    # --- acting --------------------------------------------------------------

    def _finish_scan(self, text: str, terminator: int) -> None:
        self._flush_timer.stop()
        self._held.clear()
        self._releases_to_hold[terminator] += 1
        settings = self._settings
        if settings.prefix and text.startswith(settings.prefix):
            text = text[len(settings.prefix) :]
        if settings.suffix and text.endswith(settings.suffix):
            text = text[: -len(settings.suffix)]
        try:
            scan = classify_scan(text)
        except Gs1Error as error:
            self.scan_failed.emit(text, str(error))
            return
        self.scanned.emit(scan)

    @Slot()
    def _release_as_typing(self) -> None:
        """Send every held key on to the widget it was meant for, in order."""
        self._flush_timer.stop()
        held, self._held = self._held, []
        # From now on releases of these keys belong to the widget, not to us.
        self._releases_to_hold.clear()
        if not held:
            return
        self._replaying = True
        try:
            for item in held:
                # Keys typed into a widget that has since closed go with it,
                # rather than into whatever field has focus now.
                if isValid(item.receiver):
                    QCoreApplication.sendEvent(item.receiver, item.event)
        finally:
            self._replaying = False


class ScanTarget(Protocol):
    """What a screen offers to receive scans."""

    def accepts_scan(self, scan: Scan) -> bool: ...

    def handle_scan(self, scan: Scan) -> None: ...


def scan_kind_name(kind: str) -> str:
    """What a person calls a scanned thing of this kind."""
    names = {
        "gs1": QCoreApplication.translate("Scanner", "GS1 barcode"),
        "sscc": QCoreApplication.translate("Scanner", "shipping label (SSCC)"),
        "gtin": QCoreApplication.translate("Scanner", "product barcode"),
        "text": QCoreApplication.translate("Scanner", "code"),
    }
    return names.get(kind, kind)


class ScanRouter(QObject):
    """Hands each scan to the screen that is active, or says plainly why it cannot be used.

    The router only holds the target weakly, so a closed screen drops out by itself.
    """

    routed = Signal(object)  # Scan handed to the target
    rejected = Signal(object, str)  # Scan, message for the person scanning

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._target: Callable[[], ScanTarget | None] | None = None

    def set_target(self, target: ScanTarget | None) -> None:
        if target is None:
            self._target = None
            return
        try:
            self._target = weakref.ref(target)
        except TypeError:  # objects without weak reference support
            self._target = lambda: target

    def clear_target(self, target: ScanTarget | None = None) -> None:
        """Stop routing; with `target`, only if it is still the current one."""
        if target is None or self.target() is target:
            self._target = None

    def target(self) -> ScanTarget | None:
        target = self._target() if self._target is not None else None
        if isinstance(target, QObject) and not isValid(target):
            return None
        return target

    @Slot(object)
    def route(self, scan: Scan) -> bool:
        """Give `scan` to the target; True when it took it."""
        target = self.target()
        if target is None or not target.accepts_scan(scan):
            message = QCoreApplication.translate("Scanner", "This screen cannot use a scanned {kind}").format(
                kind=scan_kind_name(scan.kind)
            )
            self.rejected.emit(scan, message)
            return False
        target.handle_scan(scan)
        self.routed.emit(scan)
        return True
