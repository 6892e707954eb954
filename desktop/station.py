"""What the floor screens (Waves, Picking, Packing, Printing) share: large type readable from a metre, the scan status line."""

from __future__ import annotations

from desktop.qt import QFrame, QLabel, QVBoxLayout, Qt

# Scoped to the station screens, so the desk screens keep the calm theme's sizes.
STATION_QSS = """
#stationHead { font-size: 15pt; font-weight: 700; color: #10263a; }
#stationHint { font-size: 12pt; color: #475467; }
#taskCard, #packCard { background: #ffffff; border: 1px solid #d0d5dd; border-radius: 10px; }
#bigCaption { font-size: 12pt; font-weight: 600; color: #667085; text-transform: uppercase; }
#bigBin { font-size: 54pt; font-weight: 800; color: #10263a; }
#bigQty { font-size: 54pt; font-weight: 800; color: #10263a; }
#bigSku { font-size: 30pt; font-weight: 800; color: #10263a; }
#bigTote { font-size: 40pt; font-weight: 800; color: #1b6fb5; }
#bigText { font-size: 17pt; color: #1d2939; }
#bigOrder { font-size: 26pt; font-weight: 800; color: #10263a; }
#itemsLeft { font-size: 20pt; font-weight: 700; color: #93370d; }
#itemsLeft[state="done"] { color: #067647; }
#stepLabel { font-size: 20pt; font-weight: 700; color: #ffffff; background: #1b6fb5; border-radius: 8px; padding: 8px 16px; }
#stepLabel[step="item"] { background: #7a5af8; }
#stepLabel[step="short"] { background: #b54708; }
#stepLabel[step="done"] { background: #1e9e48; }
#scanStatus { font-size: 18pt; font-weight: 700; padding: 8px 14px; border-radius: 8px; color: #1d2939; background: #eaecf0; }
#scanStatus[state="ok"] { background: #d1fadf; color: #05603a; }
#scanStatus[state="error"] { background: #fee4e2; color: #912018; }
#scanStatus[state="wait"] { background: #fef0c7; color: #93370d; }
#progressText { font-size: 14pt; font-weight: 600; color: #344054; }
QProgressBar#stationProgress { min-height: 22px; max-height: 22px; border-radius: 6px; background: #eaecf0; border: none;
    text-align: center; font-weight: 700; }
QProgressBar#stationProgress::chunk { background: #1e9e48; border-radius: 6px; }
#routeResult { font-size: 14pt; color: #93370d; background: #fffaeb; border: 1px solid #fedf89; border-radius: 8px; padding: 8px 12px; }
#packLines { font-size: 17pt; }
#packLines QHeaderView::section { font-size: 12pt; }
#keysHint { font-size: 11.5pt; color: #475467; }
#bigEdit { font-size: 20pt; min-height: 40px; font-weight: 700; }
#boxChoice { font-size: 14pt; font-weight: 700; padding: 6px 12px; border: 2px solid #d0d5dd; border-radius: 8px; background: #ffffff; }
#boxChoice[chosen="true"] { border-color: #1b6fb5; background: #e0efff; color: #10263a; }
#printStatus { font-size: 12pt; color: #475467; }
#printStatus[state="error"] { color: #912018; font-weight: 700; }
#awaiting { font-size: 13pt; font-weight: 600; color: #93370d; }
#awaiting[state="error"] { color: #912018; }
"""


def repolish(widget, **properties) -> None:
    for name, value in properties.items():
        widget.setProperty(name, value)
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def label(text: str = "", name: str = "", *, wrap: bool = False, align=None) -> QLabel:
    w = QLabel(text)
    if name:
        w.setObjectName(name)
    w.setWordWrap(wrap)
    if align is not None:
        w.setAlignment(align)
    return w


class ScanStatus(QLabel):
    """The last scan's answer in words, kept on screen after the flash has faded."""

    def __init__(self, idle: str) -> None:
        super().__init__(idle)
        self.setObjectName("scanStatus")
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.state = ""

    def show_state(self, text: str, state: str = "") -> None:
        self.state = state
        self.setText(text)
        repolish(self, state=state)


def card(name: str) -> tuple[QFrame, QVBoxLayout]:
    frame = QFrame()
    frame.setObjectName(name)
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(24, 18, 24, 18)
    layout.setSpacing(6)
    return frame, layout
