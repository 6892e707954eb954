"""One EDI document on screen: what it is, what went wrong in plain words, and its text laid out segment by segment."""

from __future__ import annotations

import html

from desktop import formatting as fmt
from desktop.qt import (
    QCoreApplication,
    QGridLayout,
    QGuiApplication,
    QHBoxLayout,
    QLabel,
    QPushButton,
    Qt,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
    Signal,
)
from oms import orders
from oms.partners import edi_queries
from oms.partners.edi_queries import DocumentDetail
from sync.channels.edi_x12.pretty import PrettyDocument, pretty
from sync.channels.edi_x12.x12 import Delimiters

ENVELOPE_TAGS = frozenset({"ISA", "IEA", "GS", "GE", "ST", "SE"})
SEPARATOR = " │ "
NOTE_COLUMN_MAX = 52  # notes line up after the body segments, but never further right than this
STATUS_COLORS = {
    "accepted": fmt.OK_COLOR, "acknowledged": fmt.OK_COLOR, "sent": fmt.OK_COLOR,
    "rejected": fmt.LATE_COLOR, "quarantined": fmt.LATE_COLOR, "unacknowledged": fmt.LATE_COLOR,
    "queued": fmt.DUE_TODAY_COLOR, "duplicate": fmt.MUTED_COLOR,
}


def delimiters_of(detail: DocumentDetail) -> Delimiters:
    d = detail.delimiters if len(detail.delimiters) == 4 else "*~>^"
    return Delimiters(d[0], d[1], d[2], d[3])


def direction_text(direction: str, partner: str) -> str:
    """'↓ ACME' for a document that came in from ACME, '↑ ACME' for one we sent to ACME (the Direction filter says so)."""
    return f"{'↓' if direction == 'in' else '↑'} {partner}"


def _show_char(c: str) -> str:
    t = QCoreApplication.translate
    return {"\n": t("Documents", "a line break"), "\r": t("Documents", "a carriage return"),
            " ": t("Documents", "a space")}.get(c, f"“{c}”")


def to_html(doc: PrettyDocument) -> str:
    """The document as monospace HTML: line numbers, indented loops, bold segment ids, │ between elements, notes aligned."""
    width = len(str(len(doc.lines) or 1))
    body = [2 * l.depth + len(l.tag) + sum(len(SEPARATOR) + len(v) for v in l.elements)
            for l in doc.lines if l.tag not in ENVELOPE_TAGS]
    # Past the usual segment, not the longest one: one long line should not push every note out of sight.
    usual = sorted(body)[int(len(body) * 0.6)] if body else 0
    note_column = min(NOTE_COLUMN_MAX, usual + 3)
    out = []
    for line in doc.lines:
        number = f'<span style="color:#98a2b3">{line.number:>{width}}</span>  '
        if not doc.is_x12:
            out.append(number + html.escape(line.elements[0] if line.elements else ""))
            continue
        indent = "  " * line.depth
        color = "#667085" if line.tag in ENVELOPE_TAGS else "#1849a9"
        parts = [f'<b style="color:{color}">{html.escape(line.tag)}</b>']
        plain = len(indent) + len(line.tag)
        for value in line.elements:
            parts.append(f'<span style="color:#98a2b3">{SEPARATOR}</span>{html.escape(value)}')
            plain += len(SEPARATOR) + len(value)
        text = indent + "".join(parts)
        if line.note and line.tag not in ENVELOPE_TAGS:  # the envelope is the same in every document: no need to say
            pad = " " * max(3, note_column - plain)
            text += f'{pad}<span style="color:#667085"><i>{html.escape(line.note)}</i></span>'
        if line.problem:
            out.append(f'<span style="background-color:#fee4e2">{number}{text}</span>')
            out.append(f'{" " * (width + 2)}{indent}<span style="color:#b42318"><b>⚠ {html.escape(line.problem)}</b></span>')
        else:
            out.append(number + text)
    if doc.cut:
        out.append(html.escape(QCoreApplication.translate(
            "Documents", "… {n} more segments not shown here; Save as… keeps them all.").format(n=doc.cut)))
    return '<pre style="font-family: monospace; margin: 0">' + "\n".join(out) + "</pre>"


def plain_problem(detail: DocumentDetail) -> str:
    """What happened to a document that needs a person, in words; "" when nothing did."""
    t = QCoreApplication.translate
    row = detail.row
    kind = edi_queries.type_title(row.doc_type)
    partner = row.partner_code
    if row.status == "rejected" and row.direction == "in":
        if row.doc_type == "ISA":
            return t("Documents", "The whole interchange was refused: nothing in it was imported. Ask {partner} to "
                                  "check the file and send it again.").format(partner=partner)
        return t("Documents", "This {kind} was not accepted: no order was made from it, and our 997 tells {partner} so. "
                              "Once {partner} sends a corrected one, it is read like any other.").format(kind=kind, partner=partner)
    if row.status == "rejected":
        return t("Documents", "{partner} rejected our {kind}: their 997 says it could not be accepted. Agree the fix with "
                              "{partner} before sending it again.").format(partner=partner, kind=kind)
    if row.status == "duplicate":
        return t("Documents", "A copy of an interchange received before: it was skipped, so nothing was imported or "
                              "acknowledged twice.")
    if row.status == "unacknowledged":
        return t("Documents", "{partner} has not acknowledged this {kind} within {h} hours. Ask them whether it arrived, "
                              "or send it again.").format(partner=partner, kind=kind, h=detail.ack_timeout_h)
    if row.status == "quarantined":
        return t("Documents", "Set aside because it could not be read; it waits on the Sync screen under "
                              "“Could not be read”.")
    return ""


class DocumentPane(QWidget):
    """The selected document: a header, facts, the problem in words, the pretty-printed text and its actions."""

    open_order = Signal(int)
    save_requested = Signal()
    copied = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("documentPane")
        self.detail: DocumentDetail | None = None
        self.pretty: PrettyDocument | None = None

        self.title = QLabel()
        self.title.setObjectName("documentTitle")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_badge = QLabel()
        self.status_badge.setObjectName("ediStatusBadge")
        head = QHBoxLayout()
        head.setSpacing(10)
        head.addWidget(self.title)
        head.addWidget(self.status_badge)
        head.addStretch(1)

        self.facts = QGridLayout()
        self.facts.setHorizontalSpacing(14)
        self.facts.setVerticalSpacing(3)
        self.facts.setColumnStretch(1, 1)
        self._fact_labels: dict[str, QLabel] = {}
        for row, (key, caption) in enumerate((("when", self.tr("When")), ("file", self.tr("File")),
                                              ("controls", self.tr("Control numbers")), ("order", self.tr("Order")))):
            cap = QLabel(caption)
            cap.setObjectName("factCaption")
            value = QLabel()
            value.setObjectName(f"fact_{key}")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setWordWrap(True)
            self.facts.addWidget(cap, row, 0, Qt.AlignmentFlag.AlignTop)
            self.facts.addWidget(value, row, 1)
            self._fact_labels[key] = value
            self._fact_labels[key + "_caption"] = cap

        self.problem = QLabel()
        self.problem.setObjectName("documentProblem")
        self.problem.setWordWrap(True)
        self.problem.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.problem.hide()

        self.viewer = QTextBrowser()
        self.viewer.setObjectName("documentText")
        self.viewer.setOpenLinks(False)
        self.viewer.setLineWrapMode(QTextBrowser.LineWrapMode.NoWrap)
        self.viewer.setFont(fmt.monospace())
        self.legend = QLabel()
        self.legend.setObjectName("hint")
        self.legend.setWordWrap(True)

        self.open_button = QPushButton(self.tr("Open order"))
        self.open_button.setObjectName("primaryButton")
        self.open_button.setToolTip(self.tr("Show the order this document is about (Enter)"))
        self.copy_button = QPushButton(self.tr("Copy"))
        self.copy_button.setObjectName("copyDocument")
        self.copy_button.setToolTip(self.tr("Copy the document's text as it was sent or received"))
        self.save_button = QPushButton(self.tr("Save as…"))
        self.save_button.setObjectName("saveDocument")
        self.save_button.setToolTip(self.tr("Save the document's text to a file, e.g. for the partner's EDI team"))
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.save_button)

        self.placeholder = QLabel(self.tr("Select a document to see what it says."))
        self.placeholder.setObjectName("emptyState")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)

        self.body = QWidget()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(8)
        body.addLayout(head)
        body.addLayout(self.facts)
        body.addWidget(self.problem)
        body.addWidget(self.viewer, 1)
        body.addWidget(self.legend)
        body.addLayout(buttons)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.placeholder, 1)
        layout.addWidget(self.body, 1)

        self.open_button.clicked.connect(self._open_order)
        self.copy_button.clicked.connect(self.copy)
        self.save_button.clicked.connect(self.save_requested)
        self.show_document(None)

    # -- showing ------------------------------------------------------------------------------------

    def show_document(self, detail: DocumentDetail | None) -> None:
        self.detail = detail
        self.placeholder.setVisible(detail is None)
        self.body.setVisible(detail is not None)
        if detail is None:
            self.pretty = None
            self.viewer.clear()
            return
        row = detail.row
        self.title.setText(edi_queries.type_title(row.doc_type))
        self.status_badge.setText(edi_queries.status_title(row.status))
        self.status_badge.setProperty("status", row.status)
        self.status_badge.style().unpolish(self.status_badge)
        self.status_badge.style().polish(self.status_badge)

        when = fmt.long_datetime(row.created_at)
        if row.direction == "in":
            self._fact("when", self.tr("Received {when} from {partner} ({name})").format(
                when=when, partner=row.partner_code, name=detail.partner_name))
        elif row.status == "queued":
            self._fact("when", self.tr("Written {when} for {partner} ({name}); waiting to be sent").format(
                when=when, partner=row.partner_code, name=detail.partner_name))
        else:
            self._fact("when", self.tr("Written {when} for {partner} ({name})").format(
                when=when, partner=row.partner_code, name=detail.partner_name))
        if detail.acknowledged_at is not None:
            self._fact("when", self._fact_labels["when"].text() + "\n" + self.tr("{partner} answered {when}").format(
                partner=row.partner_code, when=fmt.long_datetime(detail.acknowledged_at)))
        self._fact("file", row.filename)
        controls = [self.tr("interchange {n}").format(n=row.isa_control) if row.isa_control else "",
                    self.tr("group {n}").format(n=row.gs_control) if row.gs_control else "",
                    self.tr("transaction {n}").format(n=row.st_control) if row.st_control else ""]
        self._fact("controls", " · ".join(c for c in controls if c))
        if row.order_number:
            order = row.order_number
            if row.shipment_id:
                order = self.tr("{order}, shipment {id}").format(order=order, id=row.shipment_id)
            if detail.order_status:
                order += " · " + orders.status_title(detail.order_status)
            if detail.hold_reason:
                order += " — " + detail.hold_reason
            self._fact("order", order)
        else:
            self._fact("order", self.tr("none") if row.doc_type in ("850", "ISA") and row.direction == "in"
                       and row.status != "accepted" else "")
        self.open_button.setEnabled(row.order_id is not None)

        problem = plain_problem(detail)
        if problem:
            error = detail.error.strip()
            text = f"<b>{html.escape(problem)}</b>"
            if error:
                line = (self.tr("What was wrong: {error}") if detail.row.status in ("rejected", "quarantined")
                        else self.tr("Details: {error}")).format(error=error)
                text += "<br>" + html.escape(line)
            self.problem.setText(text)
        self.problem.setVisible(bool(problem))

        fallback = delimiters_of(detail)
        self.pretty = pretty(detail.raw, fallback)
        self.viewer.setHtml(to_html(self.pretty))
        self.legend.setText(self._legend(detail, self.pretty))

    def _fact(self, key: str, text: str) -> None:
        label, caption = self._fact_labels[key], self._fact_labels[key + "_caption"]
        label.setText(text)
        label.setVisible(bool(text))
        caption.setVisible(bool(text))

    def _legend(self, detail: DocumentDetail, doc: PrettyDocument) -> str:
        if not doc.is_x12:
            return self.tr("This text is not X12; it is shown as it arrived.")
        d = doc.delimiters
        text = self.tr("Elements are shown split by │; the file separates them with {element} and ends each segment "
                       "with {segment}.").format(element=_show_char(d.element), segment=_show_char(d.segment))
        first = doc.lines[0].tag if doc.lines else ""
        if detail.row.direction == "in" and first == "ST":
            text += " " + self.tr("Quayside keeps each transaction from ST to SE; the interchange envelope stays with the file.")
        if doc.problems:
            text += " " + " ".join(doc.problems)
        return text

    # -- actions ---------------------------------------------------------------------------------------

    def _open_order(self) -> None:
        if self.detail is not None and self.detail.row.order_id is not None:
            self.open_order.emit(self.detail.row.order_id)

    def copy(self) -> None:
        if self.detail is None:
            return
        QGuiApplication.clipboard().setText(self.detail.raw)
        self.copied.emit(self.tr("The {kind} text is on the clipboard.").format(kind=edi_queries.type_title(self.detail.row.doc_type)))

    def pretty_text(self) -> str:
        """What the viewer shows, as plain text (tests and Copy of a selection read it)."""
        return self.viewer.toPlainText()
