"""How times, quantities and promises read on screen: local time, short and unambiguous."""

from __future__ import annotations

from datetime import datetime, timezone

from desktop.qt import QColor, QCoreApplication, QFont, QLineEdit, QTimer

OPEN_STATUSES = frozenset({"new", "backordered", "partially_allocated", "allocated", "picking", "packed",
                           "partially_shipped", "on_hold"})

LATE_COLOR = QColor("#b42318")
DUE_TODAY_COLOR = QColor("#b54708")
MUTED_COLOR = QColor("#667085")


def local(dt: datetime) -> datetime:
    return dt.astimezone()


def short_datetime(dt: datetime | None, now: datetime | None = None, *, relative_past: bool = True) -> str:
    """'Today 14:05', 'Yesterday 09:10', '27 Nov 08:48' or '27 Nov 2025' for older years.

    ``relative_past=False`` writes yesterday as a date, for narrow columns.
    """
    if dt is None:
        return ""
    now_l = (now or datetime.now(timezone.utc)).astimezone()
    d = local(dt)
    days = (now_l.date() - d.date()).days
    t = QCoreApplication.translate
    if days == 0:
        return t("Format", "Today {time}").format(time=d.strftime("%H:%M"))
    if days == 1 and relative_past:
        return t("Format", "Yesterday {time}").format(time=d.strftime("%H:%M"))
    if days == -1:
        return t("Format", "Tomorrow {time}").format(time=d.strftime("%H:%M"))
    if d.year == now_l.year:
        return f"{d.day} {d.strftime('%b %H:%M')}"
    return f"{d.day} {d.strftime('%b %Y')}"


def long_datetime(dt: datetime | None) -> str:
    """'Wed 25 Nov, 08:50', with the year when it is not this year."""
    if dt is None:
        return "—"
    d = local(dt)
    year = "" if d.year == datetime.now().year else f" {d.year}"
    return f"{d.strftime('%a')} {d.day} {d.strftime('%b')}{year}, {d.strftime('%H:%M')}"


def ship_by_state(ship_by: datetime | None, status: str, now: datetime | None = None) -> str | None:
    """'late' when an open order is past its ship-by time, 'today' when it is due today, else None."""
    if ship_by is None or status not in OPEN_STATUSES:
        return None
    now = now or datetime.now(timezone.utc)
    if ship_by < now:
        return "late"
    if local(ship_by).date() == now.astimezone().date():
        return "today"
    return None
TRACKING_COLOR = QColor("#175cd3")
NOTE_COLOR = QColor("#7a2e0e")
OK_COLOR = QColor("#067647")


SEARCH_DEBOUNCE_MS = 220  # a search box asks once the typing pauses


def monospace() -> QFont:
    """The font for raw payloads (EDI segments, JSON): fixed width, whatever the machine calls it."""
    font = QFont("monospace")
    font.setStyleHint(QFont.StyleHint.TypeWriter)
    return font


def debounce_search(box: QLineEdit, apply, parent) -> QTimer:
    """Run ``apply`` once the typing in ``box`` pauses; the returned timer can be stopped when the search is run now."""
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(SEARCH_DEBOUNCE_MS)
    timer.timeout.connect(apply)
    box.textChanged.connect(lambda _t: timer.start())
    return timer
