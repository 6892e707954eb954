"""Window state kept between runs (geometry, splitters, column widths, last filters) in QSettings.

Only window state lives here; station settings are oms.settings.Settings (JSON).
"""

from __future__ import annotations

import json
from typing import Any

from desktop.qt import QByteArray, QHeaderView, QSettings, QSplitter, QWidget


class WindowState:
    """A thin, typed face over QSettings; tests hand in a QSettings on a temporary file."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self.qsettings = settings if settings is not None else QSettings()

    # -- widgets -----------------------------------------------------------------------------

    def save_geometry(self, key: str, widget: QWidget) -> None:
        self.qsettings.setValue(f"{key}/geometry", widget.saveGeometry())

    def restore_geometry(self, key: str, widget: QWidget) -> bool:
        data = self.qsettings.value(f"{key}/geometry")
        return isinstance(data, QByteArray) and not data.isEmpty() and widget.restoreGeometry(data)

    def save_splitter(self, key: str, splitter: QSplitter) -> None:
        self.qsettings.setValue(f"{key}/splitter", splitter.saveState())

    def restore_splitter(self, key: str, splitter: QSplitter) -> bool:
        data = self.qsettings.value(f"{key}/splitter")
        return isinstance(data, QByteArray) and not data.isEmpty() and splitter.restoreState(data)

    def save_header(self, key: str, header: QHeaderView) -> None:
        self.qsettings.setValue(f"{key}/header", header.saveState())

    def restore_header(self, key: str, header: QHeaderView) -> bool:
        data = self.qsettings.value(f"{key}/header")
        return isinstance(data, QByteArray) and not data.isEmpty() and header.restoreState(data)

    # -- plain values (stored as JSON text so types survive every QSettings backend) -----

    def value(self, key: str, default: Any = None) -> Any:
        raw = self.qsettings.value(key)
        if raw is None:
            return default
        try:
            return json.loads(str(raw))
        except ValueError:
            return default

    def set_value(self, key: str, value: Any) -> None:
        self.qsettings.setValue(key, json.dumps(value))

    def sync(self) -> None:
        self.qsettings.sync()
