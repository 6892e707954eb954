"""Answers a scan with a sound and a full-window colour flash the worker notices without reading."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from desktop.qt import (
    QColor,
    QEasingCurve,
    QEvent,
    QFont,
    QObject,
    QPainter,
    Qt,
    QTimer,
    QUrl,
    QVariantAnimation,
    QWidget,
    Slot,
)

__all__ = ["FlashOverlay", "ScanFeedback", "SOUNDS_DIR"]

SOUNDS_DIR = Path(__file__).resolve().parent.parent / "resources" / "sounds"

OK_COLOR = QColor(30, 160, 70)
ERROR_COLOR = QColor(210, 30, 30)
_PEAK_ALPHA = 170  # strong enough to be seen from across the bench, text still readable


class FlashOverlay(QWidget):
    """A translucent colour wash over the whole window with one large message, fading by itself.

    It never takes focus or clicks, so the worker can keep scanning and typing
    while it shows.
    """

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._color = OK_COLOR
        self._message = ""
        self._opacity = 0.0
        self._hold = QTimer(self)
        self._hold.setSingleShot(True)
        self._fade = QVariantAnimation(self)
        self._fade.setStartValue(1.0)
        self._fade.setEndValue(0.0)
        self._fade.setEasingCurve(QEasingCurve.Type.InQuad)
        self._fade.valueChanged.connect(self._set_opacity)
        self._fade.finished.connect(self.hide)
        self._hold.timeout.connect(self._fade.start)
        parent.installEventFilter(self)
        self.hide()

    @property
    def message(self) -> str:
        return self._message

    def flash_ok(self, message: str = "", duration_ms: int = 600) -> None:
        self.flash(OK_COLOR, message, duration_ms)

    def flash_error(self, message: str, duration_ms: int = 1500) -> None:
        # Longer than the OK flash: the worker has to read what went wrong.
        self.flash(ERROR_COLOR, message, duration_ms)

    def flash(self, color: QColor, message: str, duration_ms: int) -> None:
        """Show `message` on `color` now, then fade out; a new flash replaces the current one."""
        self._hold.stop()
        self._fade.stop()
        self._color = QColor(color)
        self._message = message
        self._opacity = 1.0
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
        self.raise_()
        self.show()
        self.update()
        hold_ms = duration_ms // 3
        self._fade.setDuration(max(1, duration_ms - hold_ms))
        self._hold.start(hold_ms)

    def clear(self) -> None:
        """Take the flash away at once (the person went to another screen: it answered a scan made there)."""
        self._hold.stop()
        self._fade.stop()
        self._opacity = 0.0
        self.hide()

    @Slot(object)
    def _set_opacity(self, value: float) -> None:
        self._opacity = float(value)
        self.update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.parentWidget().rect())
        return False

    def paintEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        try:
            wash = QColor(self._color)
            wash.setAlpha(int(_PEAK_ALPHA * self._opacity))
            painter.fillRect(self.rect(), wash)
            if self._message:
                font = QFont(self.font())
                font.setBold(True)
                font.setPixelSize(max(20, min(self.height() // 8, 72)))
                painter.setFont(font)
                text_color = QColor(Qt.GlobalColor.white)
                text_color.setAlphaF(min(1.0, self._opacity * 1.2))
                painter.setPen(text_color)
                margin = self.width() // 20
                painter.drawText(
                    self.rect().adjusted(margin, margin, -margin, -margin),
                    int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
                    self._message,
                )
        finally:
            painter.end()


class ScanFeedback(QObject):
    """Success and error answers to scans: a sound (when the station has audio) and a flash.

    Sound is optional: without QtMultimedia, the sound files or an audio device
    the station still flashes. Pass `sound=False` where audio is unwanted
    (tests, silent stations).
    """

    def __init__(
        self,
        window: QWidget | None = None,
        *,
        sound: bool = True,
        sounds_dir: Path = SOUNDS_DIR,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent if parent is not None else window)
        self._overlay = FlashOverlay(window) if window is not None else None
        self._sounds: dict[str, Any] = {}  # name -> QSoundEffect
        if sound:
            self._load_sounds(sounds_dir)

    @property
    def overlay(self) -> FlashOverlay | None:
        return self._overlay

    def success(self, message: str = "") -> None:
        self._play("success")
        if self._overlay is not None:
            self._overlay.flash_ok(message)

    def error(self, message: str) -> None:
        self._play("error")
        if self._overlay is not None:
            self._overlay.flash_error(message)

    def clear(self) -> None:
        if self._overlay is not None:
            self._overlay.clear()

    @Slot(object, str)
    def scan_rejected(self, scan: object, message: str) -> None:
        """For `ScanRouter.rejected`."""
        self.error(message)

    @Slot(str, str)
    def scan_failed(self, text: str, message: str) -> None:
        """For `ScanInputFilter.scan_failed`."""
        self.error(message)

    def _load_sounds(self, sounds_dir: Path) -> None:
        try:
            # Not through desktop.qt: QtMultimedia needs system audio libraries
            # that a station may lack, and the rest of the GUI must not.
            from PySide6.QtMultimedia import QSoundEffect
        except ImportError:
            return
        for name in ("success", "error"):
            path = sounds_dir / f"{name}.wav"
            if not path.is_file():
                continue
            effect = QSoundEffect(self)
            effect.setSource(QUrl.fromLocalFile(str(path)))
            effect.setVolume(0.8)
            self._sounds[name] = effect

    def _play(self, name: str) -> None:
        effect = self._sounds.get(name)
        if effect is None:
            return
        if effect.status() == effect.Status.Error:
            return  # no audio device or unreadable file: the flash still shows
        effect.stop()
        effect.play()
