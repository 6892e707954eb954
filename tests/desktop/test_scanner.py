"""Scanner input: bursts become scans, typing stays typing, scans reach the right screen with feedback."""

import gc
import wave

import pytest
import shiboken6
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit, QPushButton, QWidget

from desktop.feedback import SOUNDS_DIR, FlashOverlay, ScanFeedback
from desktop.scanner import ScanInputFilter, ScannerSettings, ScanRouter
from oms.core.gs1 import GS, Scan, classify_scan

SCANNER_GAP_MS = 4  # a USB scanner types a character every few milliseconds
HUMAN_GAP_MS = 120  # a fast typist


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, ms: float) -> None:
        self.now += ms / 1000.0


class KeyLog(QLineEdit):
    """A line edit that remembers every key press it receives."""

    def __init__(self) -> None:
        super().__init__()
        self.presses: list[tuple[int, str, bool]] = []

    def keyPressEvent(self, event):  # noqa: N802
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if event.key() != Qt.Key.Key_Control:  # QTest presses Ctrl itself before Ctrl+F
            self.presses.append((event.key(), event.text(), ctrl))
        super().keyPressEvent(event)


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def install(qapp, clock):
    installed = []

    def _install(settings=None):
        scan_filter = ScanInputFilter(settings, clock=clock)
        qapp.installEventFilter(scan_filter)
        installed.append(scan_filter)
        return scan_filter

    yield _install
    for scan_filter in installed:
        qapp.removeEventFilter(scan_filter)
        shiboken6.delete(scan_filter)  # its flush timer must not fire into later tests


@pytest.fixture
def edit(qtbot):
    line_edit = KeyLog()
    qtbot.addWidget(line_edit)
    line_edit.show()
    line_edit.setFocus()
    return line_edit


def collect(signal):
    seen = []
    signal.connect(lambda *args: seen.append(args[0] if len(args) == 1 else args))
    return seen


def send_gs(widget):
    """FNC1 as a keyboard-wedge scanner sends it: Ctrl+]."""
    for event_type in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        event = QKeyEvent(event_type, Qt.Key.Key_BracketRight, Qt.KeyboardModifier.ControlModifier, GS)
        QApplication.sendEvent(widget, event)


def type_keys(widget, text, clock, gap_ms):
    for char in text:
        if char == GS:
            send_gs(widget)
        else:
            QTest.keyClick(widget, char)
        clock.advance(gap_ms)


def scan(widget, text, clock, terminator=Qt.Key.Key_Return):
    type_keys(widget, text, clock, SCANNER_GAP_MS)
    QTest.keyClick(widget, terminator)


# --- telling scans from typing ------------------------------------------------------


@pytest.mark.parametrize("terminator", [Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab])
def test_fast_burst_is_one_scan_and_nothing_lands_in_the_line_edit(qtbot, edit, clock, install, terminator):
    scan_filter = install()
    scans = collect(scan_filter.scanned)
    returns = collect(edit.returnPressed)

    scan(edit, "9506000134352", clock, terminator)

    assert scans == [classify_scan("9506000134352")]
    assert scans[0].kind == "gtin"
    assert edit.text() == ""
    assert edit.presses == []
    assert returns == []
    qtbot.wait(2 * (ScannerSettings().max_interval_ms + 20))  # nothing is re-sent later either
    assert edit.text() == ""


def test_two_scans_in_a_row(edit, clock, install):
    scan_filter = install()
    scans = collect(scan_filter.scanned)
    scan(edit, "SKU-10042", clock)
    clock.advance(400)
    scan(edit, "106141412345678908", clock)
    assert [(s.kind, s.value) for s in scans] == [("text", "SKU-10042"), ("sscc", "106141412345678908")]
    assert edit.text() == ""


def test_slow_typing_lands_untouched_and_emits_nothing(edit, clock, install):
    scan_filter = install()
    scans = collect(scan_filter.scanned)
    returns = collect(edit.returnPressed)

    type_keys(edit, "Order 17-b", clock, HUMAN_GAP_MS)
    QTest.keyClick(edit, Qt.Key.Key_Return)

    assert edit.text() == "Order 17-b"
    assert [text for _key, text, _ctrl in edit.presses] == list("Order 17-b") + ["\r"]
    assert len(returns) == 1
    assert scans == []


def test_burst_without_terminator_is_typed_after_the_timeout(qtbot, edit, clock, install):
    scan_filter = install()
    scans = collect(scan_filter.scanned)

    type_keys(edit, "ABCDEF", clock, SCANNER_GAP_MS)
    assert edit.text() == ""  # still held: it may yet be a scan

    qtbot.waitUntil(lambda: edit.text() == "ABCDEF", timeout=2000)
    assert scans == []


def test_a_pause_ends_the_burst_and_types_it_at_once(edit, clock, install):
    install()
    type_keys(edit, "AB", clock, SCANNER_GAP_MS)
    clock.advance(HUMAN_GAP_MS)
    QTest.keyClick(edit, "C")
    assert edit.text() == "AB"


def test_short_fast_burst_with_enter_is_typing(edit, clock, install):
    scan_filter = install()
    scans = collect(scan_filter.scanned)
    returns = collect(edit.returnPressed)
    scan(edit, "ok", clock)
    assert edit.text() == "ok"
    assert len(returns) == 1
    assert scans == []


def test_terminator_after_a_pause_is_typing(edit, clock, install):
    scan_filter = install()
    scans = collect(scan_filter.scanned)
    type_keys(edit, "12345", clock, SCANNER_GAP_MS)
    clock.advance(HUMAN_GAP_MS)
    QTest.keyClick(edit, Qt.Key.Key_Return)
    assert edit.text() == "12345"
    assert scans == []


def test_shift_presses_of_a_scanner_do_not_break_the_burst(edit, clock, install):
    scan_filter = install()
    scans = collect(scan_filter.scanned)
    for char in "AB-12":
        if char.isupper():
            QTest.keyPress(edit, Qt.Key.Key_Shift)
        QTest.keyClick(edit, char)
        if char.isupper():
            QTest.keyRelease(edit, Qt.Key.Key_Shift)
        clock.advance(SCANNER_GAP_MS)
    QTest.keyClick(edit, Qt.Key.Key_Return)
    assert [s.value for s in scans] == ["AB-12"]
    assert edit.text() == ""


def test_prefix_and_suffix_are_stripped(edit, clock, install):
    scan_filter = install(ScannerSettings(prefix="#", suffix="$"))
    scans = collect(scan_filter.scanned)
    scan(edit, "#9506000134352$", clock)
    clock.advance(400)
    scan(edit, "BIN-A-01", clock)  # a scanner without prefix still scans
    assert [(s.kind, s.value) for s in scans] == [("gtin", "09506000134352"), ("text", "BIN-A-01")]
    assert edit.text() == ""


def test_ctrl_f_passes_through_at_once_and_in_order(edit, clock, install):
    install()
    QTest.keyClick(edit, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert edit.presses == [(int(Qt.Key.Key_F), edit.presses[0][1], True)]

    type_keys(edit, "ab", clock, SCANNER_GAP_MS)
    QTest.keyClick(edit, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert [(key, ctrl) for key, _text, ctrl in edit.presses[1:]] == [
        (int(Qt.Key.Key_A), False),
        (int(Qt.Key.Key_B), False),
        (int(Qt.Key.Key_F), True),
    ]
    assert edit.text() == "ab"


def test_gs1_burst_with_gs_separator_is_parsed(edit, clock, install):
    scan_filter = install()
    scans = collect(scan_filter.scanned)
    scan(edit, "]C1" + "0106141411234562" + "10ABC" + GS + "21XYZ", clock)
    (result,) = scans
    assert result.kind == "gs1"
    assert result.gs1.gtin == "06141411234562"
    assert result.gs1.lot == "ABC"
    assert result.gs1.serial == "XYZ"
    assert edit.text() == ""


def test_broken_gs1_burst_reports_why(edit, clock, install):
    scan_filter = install()
    scans = collect(scan_filter.scanned)
    failures = collect(scan_filter.scan_failed)
    scan(edit, "]C1" + "0109506000134353", clock)
    assert scans == []
    assert failures == [("]C10109506000134353", "The GTIN 09506000134353 has a wrong check digit (expected 2)")]
    assert edit.text() == ""


def test_space_on_a_button_still_clicks_it_once(qtbot, clock, install):
    install()
    button = QPushButton("Pack")
    qtbot.addWidget(button)
    button.show()
    clicks = collect(button.clicked)
    QTest.keyClick(button, Qt.Key.Key_Space)  # press and release are held together, then re-sent
    qtbot.waitUntil(lambda: len(clicks) == 1, timeout=2000)
    assert not button.isDown()


def test_auto_repeat_is_never_held(edit, install):
    install()
    event = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_X, Qt.KeyboardModifier.NoModifier, "x", True)
    QApplication.sendEvent(edit, event)
    assert edit.text() == "x"


def test_disabled_filter_lets_everything_through(edit, clock, install):
    scan_filter = install(ScannerSettings(enabled=False))
    scans = collect(scan_filter.scanned)
    scan(edit, "9506000134352", clock)
    assert edit.text() == "9506000134352"
    assert scans == []


def test_settings_are_checked():
    with pytest.raises(ValueError):
        ScannerSettings(max_interval_ms=0)
    with pytest.raises(ValueError):
        ScannerSettings(min_length=0)


# --- routing ------------------------------------------------------------------------


class PackScreen:
    """Takes products only, as a packing screen would."""

    def __init__(self) -> None:
        self.handled: list[Scan] = []

    def accepts_scan(self, scan: Scan) -> bool:
        return scan.gtin is not None

    def handle_scan(self, scan: Scan) -> None:
        self.handled.append(scan)


def test_router_hands_usable_scans_to_the_target(qapp):
    router = ScanRouter()
    screen = PackScreen()
    router.set_target(screen)
    routed = collect(router.routed)
    product = classify_scan("9506000134352")
    assert router.route(product) is True
    assert screen.handled == [product]
    assert routed == [product]


def test_router_rejects_what_the_screen_cannot_use(qapp):
    router = ScanRouter()
    screen = PackScreen()
    router.set_target(screen)
    rejected = collect(router.rejected)
    pallet = classify_scan("106141412345678908")
    assert router.route(pallet) is False
    assert rejected == [(pallet, "This screen cannot use a scanned shipping label (SSCC)")]
    assert screen.handled == []


def test_router_without_a_live_target_rejects(qapp):
    router = ScanRouter()
    rejected = collect(router.rejected)
    router.route(classify_scan("BIN-A1"))
    screen = PackScreen()
    router.set_target(screen)
    del screen
    gc.collect()
    router.route(classify_scan("9506000134352"))
    assert [message for _scan, message in rejected] == [
        "This screen cannot use a scanned code",
        "This screen cannot use a scanned product barcode",
    ]


def test_clear_target_only_clears_its_own_registration(qapp):
    router = ScanRouter()
    first, second = PackScreen(), PackScreen()
    router.set_target(first)
    router.set_target(second)
    router.clear_target(first)  # the screen being left must not unregister the new one
    assert router.target() is second
    router.clear_target()
    assert router.target() is None


def test_scan_to_screen_end_to_end_with_error_flash(qtbot, edit, clock, install):
    window = QWidget()
    qtbot.addWidget(window)
    window.resize(400, 300)
    window.show()
    scan_filter = install()
    router = ScanRouter()
    screen = PackScreen()
    router.set_target(screen)
    feedback = ScanFeedback(window, sound=False)
    scan_filter.scanned.connect(router.route)
    router.rejected.connect(feedback.scan_rejected)

    scan(edit, "9506000134352", clock)
    assert [s.gtin for s in screen.handled] == ["09506000134352"]
    assert not feedback.overlay.isVisible()

    clock.advance(400)
    scan(edit, "106141412345678908", clock)
    assert feedback.overlay.isVisible()
    assert feedback.overlay.message == "This screen cannot use a scanned shipping label (SSCC)"
    assert edit.text() == ""


# --- feedback -----------------------------------------------------------------------


@pytest.fixture
def window(qtbot):
    widget = QWidget()
    qtbot.addWidget(widget)
    widget.resize(400, 300)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _corner_colour(window):
    return window.grab().toImage().pixelColor(5, 5)


def test_flash_overlay_shows_over_the_whole_window_and_fades_away(qtbot, window):
    overlay = FlashOverlay(window)
    assert not overlay.isVisible()
    assert overlay.testAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
    assert overlay.focusPolicy() == Qt.FocusPolicy.NoFocus

    overlay.flash_ok("Packed 2 of 3", duration_ms=90)
    assert overlay.isVisible()
    assert overlay.geometry() == window.rect()
    colour = _corner_colour(window)
    assert colour.green() > colour.red() + 50

    qtbot.waitUntil(lambda: not overlay.isVisible(), timeout=2000)


def test_error_flash_is_red_and_follows_window_resize(qtbot, window):
    overlay = FlashOverlay(window)
    overlay.flash_error("Wrong item", duration_ms=90)
    colour = _corner_colour(window)
    assert colour.red() > colour.green() + 50
    window.resize(500, 350)
    qtbot.waitUntil(lambda: overlay.geometry() == window.rect(), timeout=1000)
    qtbot.waitUntil(lambda: not overlay.isVisible(), timeout=2000)


def test_feedback_without_sound_flashes(window):
    feedback = ScanFeedback(window, sound=False)
    feedback.success("Packed")
    assert feedback.overlay.isVisible() and feedback.overlay.message == "Packed"
    feedback.scan_failed("]C1", "The GTIN has a wrong check digit")
    assert feedback.overlay.message == "The GTIN has a wrong check digit"


def test_feedback_without_window_or_sound_does_nothing_quietly(qapp):
    feedback = ScanFeedback(sound=False)
    feedback.success()
    feedback.error("Wrong item")
    assert feedback.overlay is None


@pytest.mark.parametrize("name", ["success", "error"])
def test_feedback_sounds_are_short_16_bit_mono(name):
    with wave.open(str(SOUNDS_DIR / f"{name}.wav")) as sound:
        assert sound.getnchannels() == 1
        assert sound.getsampwidth() == 2
        assert sound.getframerate() == 44_100
        assert 0.1 < sound.getnframes() / sound.getframerate() < 0.4


def test_keys_through_the_window_system_are_seen_once(qtbot, edit, clock, install):
    # Real key events reach the window first and are forwarded to the focus widget.
    scan_filter = install()
    scans = collect(scan_filter.scanned)
    edit.activateWindow()
    qtbot.waitActive(edit)
    handle = edit.windowHandle()
    for char in "SKU-77":
        QTest.keyClick(handle, char)
        clock.advance(SCANNER_GAP_MS)
    QTest.keyClick(handle, Qt.Key.Key_Return)
    assert [s.value for s in scans] == ["SKU-77"]
    assert edit.text() == ""

    for char in "ab":
        clock.advance(HUMAN_GAP_MS)
        QTest.keyClick(handle, char)
    clock.advance(HUMAN_GAP_MS)
    QTest.keyClick(handle, Qt.Key.Key_Return)
    assert edit.text() == "ab"


def test_feedback_without_sound_files_still_flashes(window, tmp_path):
    feedback = ScanFeedback(window, sounds_dir=tmp_path)
    feedback.error("Wrong item")
    assert feedback.overlay.isVisible()
