"""The theme as a person sees it: every field that steps up and down or drops down shows its arrows."""

from __future__ import annotations

import re

import pytest
from PySide6.QtGui import QColor, QImage

from desktop.app import stylesheet
from desktop.qt import QComboBox, QDateEdit, QDateTimeEdit, QSpinBox, QVBoxLayout, QWidget

ARROW = QColor("#475467")


@pytest.fixture
def themed(qapp):
    before = qapp.styleSheet()
    qapp.setStyleSheet(stylesheet())
    yield
    qapp.setStyleSheet(before)


def test_every_image_the_theme_names_exists(themed):
    names = re.findall(r"url\(([^)]+)\)", stylesheet())
    assert names, "the theme draws the arrows with images"
    for name in names:
        assert not QImage(name).isNull(), name


def _arrow_pixels(widget: QWidget, width: int = 24) -> int:
    """Pixels of the arrow colour in the right-hand end of the field, where its buttons are."""
    image = widget.grab().toImage()
    count = 0
    for x in range(image.width() - width, image.width()):
        for y in range(image.height()):
            c = image.pixelColor(x, y)
            if abs(c.red() - ARROW.red()) + abs(c.green() - ARROW.green()) + abs(c.blue() - ARROW.blue()) < 60:
                count += 1
    return count


def test_spin_boxes_and_date_fields_show_their_arrows(qtbot, themed):
    page = QWidget()
    layout = QVBoxLayout(page)
    spin, when, day, combo = QSpinBox(), QDateTimeEdit(), QDateEdit(), QComboBox()
    spin.setRange(1, 500)
    spin.setValue(40)  # both ways open: both arrows drawn dark
    when.setCalendarPopup(True)
    day.setCalendarPopup(True)
    combo.addItems(["RNO — Reno", "EWR — Newark"])
    for w in (spin, when, day, combo):
        w.setMinimumWidth(220)
        layout.addWidget(w)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitExposed(page)
    for w in (spin, when, day, combo):
        assert _arrow_pixels(w) >= 6, type(w).__name__
    # The up and down arrows of a spin box are two separate marks, one above the other.
    image = spin.grab().toImage()
    rows = [y for y in range(image.height()) if any(
        abs(image.pixelColor(x, y).red() - ARROW.red()) < 20 and abs(image.pixelColor(x, y).blue() - ARROW.blue()) < 20
        for x in range(image.width() - 24, image.width()))]
    assert rows and min(rows) < image.height() / 2 < max(rows)
