"""The one door to Qt: every PySide6 name the desktop uses, re-exported explicitly."""

from PySide6.QtCore import (
    QCoreApplication,
    QEasingCurve,
    QEvent,
    QObject,
    Qt,
    QTimer,
    QUrl,
    QVariantAnimation,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor, QFont, QKeyEvent, QPainter
from PySide6.QtWidgets import QWidget
from shiboken6 import isValid

__all__ = [
    "QColor",
    "QCoreApplication",
    "QEasingCurve",
    "QEvent",
    "QFont",
    "QKeyEvent",
    "QObject",
    "QPainter",
    "QTimer",
    "QUrl",
    "QVariantAnimation",
    "QWidget",
    "Qt",
    "Signal",
    "Slot",
    "isValid",
]
