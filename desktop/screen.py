"""What a screen that takes no scans and has nothing to step back from answers the main window."""

from __future__ import annotations


class NoScanScreen:
    """Mix in before QWidget: Esc does nothing here, and the scanner's reads go to no use on this screen."""

    def go_back(self) -> bool:
        return False

    def accepts_scan(self, scan) -> bool:
        return False

    def handle_scan(self, scan) -> None:  # pragma: no cover - accepts_scan is False
        pass
