"""Station printing off the GUI thread: documents are made on the database worker and sent to the printers on the pool.

A print that fails is never lost: oms.printing keeps it under Failed prints and the
outcome names it, so the screen can say what did not come out and where to retry it.
A carrier's label that went to the printer confirms its shipment (shipments.label_printed):
until then the order stays packed, "label ready", and nothing tells the shop it shipped.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Callable

from desktop.qt import QCoreApplication
from desktop.tasks import Tasks
from oms import documents, printing
from oms.core.audit import Actor
from oms.core.errors import InvalidInput
from oms.core.settings import Settings
from oms.documents import carrier_labels
from oms.shipping import shipments

LABEL_MEDIA = "Custom.4x6in"


def _t(text: str) -> str:
    return QCoreApplication.translate("Printing", text)


CARRIER_LABEL_REF = "carrier-label:"


@dataclass(frozen=True)
class Document:
    title: str
    data: bytes
    printer: str
    media: str | None = None
    problem: str = ""  # why it cannot go to its printer as it is: kept under Failed prints at once, with this reason
    reference: str = ""  # "carrier-label:<shipment id>": printing it confirms the shipment


def carrier_label_shipment(reference: str) -> int | None:
    """The shipment whose carrier label a print (or failed print) is, from its reference."""
    rest = reference.removeprefix(CARRIER_LABEL_REF)
    return int(rest) if reference.startswith(CARRIER_LABEL_REF) and rest.isdigit() else None


@dataclass(frozen=True)
class PrintOutcome:
    printed: tuple[str, ...] = ()  # titles that went to a printer
    failed: tuple[str, ...] = ()  # one message per document kept under Failed prints
    labels_printed: tuple[int, ...] = ()  # shipments whose carrier label went to the printer

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        if self.failed:
            return " ".join(self.failed)
        if not self.printed:
            return _t("Nothing to print.")
        return _t("Printed: {what}.").format(what=", ".join(self.printed))


def send(docs: list[Document]) -> PrintOutcome:
    """Print each document; a failure of one never stops the others (runs on the pool: lp may take seconds)."""
    printed, failed, labels = [], [], []
    for doc in docs:
        if doc.problem:
            printing.keep(doc.data, doc.printer, title=doc.title, error=doc.problem, media=doc.media, reference=doc.reference)
            failed.append(_t("{title} did not print: {error} It is kept under Failed prints.").format(
                title=doc.title, error=doc.problem))
            continue
        try:
            printing.print_document(doc.data, doc.printer, title=doc.title, media=doc.media, reference=doc.reference)
        except printing.PrintError as exc:
            failed.append(_t("{title} did not print: {error}").format(title=doc.title, error=str(exc)))
        else:
            printed.append(doc.title)
            if carrier_label_shipment(doc.reference) is not None:
                labels.append(carrier_label_shipment(doc.reference))
    return PrintOutcome(tuple(printed), tuple(failed), tuple(labels))


def _label_media(settings: Settings) -> str | None:
    return LABEL_MEDIA if settings.label_format == "pdf" else None


def label_document(session, shipment_id: int, settings: Settings) -> Document:
    """The shipping label as it goes on the box: the carrier's when one was bought (converted for the printer where
    it came in another format), else our own. A carrier label that cannot be made printable is kept with the reason."""
    fmt = settings.label_format
    title = _t("Shipping label, shipment {id}").format(id=shipment_id)
    carrier = carrier_labels.best_source(shipments.label_files(session, shipment_id), fmt)
    if carrier is None:
        data = documents.shipping_labels(session, shipment_id, fmt, dpi=settings.label_dpi)
        return Document(title, data, settings.label_printer, _label_media(settings))
    reference = f"{CARRIER_LABEL_REF}{shipment_id}"
    try:
        data = documents.shipping_labels(session, shipment_id, fmt, dpi=settings.label_dpi, carrier_label=carrier)
    except InvalidInput as exc:
        return Document(title, carrier, settings.label_printer, _label_media(settings), problem=str(exc), reference=reference)
    return Document(title, data, settings.label_printer, _label_media(settings), reference=reference)


def shipment_documents(session, shipment_id: int, settings: Settings, *, label: bool = True, slip: bool = True,
                       sscc: bool = False) -> list[Document]:
    """What the packing station prints for a shipment, made on the database worker."""
    docs = []
    if label:
        docs.append(label_document(session, shipment_id, settings))
    if sscc:
        docs.append(Document(_t("SSCC carton labels, shipment {id}").format(id=shipment_id),
                             documents.sscc_labels(session, shipment_id, settings.label_format, dpi=settings.label_dpi),
                             settings.label_printer, _label_media(settings)))
    if slip:
        order_id = shipments.order_of(session, shipment_id)
        docs.append(Document(_t("Packing slip, shipment {id}").format(id=shipment_id),
                             documents.packing_slip(session, order_id, shipment_id, paper=settings.paper_size, settings=settings),
                             settings.document_printer, settings.paper_size))
    return docs


def print_shipment(tasks: Tasks, shipment_id: int, settings: Settings | None, *, label: bool = True, slip: bool = True,
                   sscc: bool = False, done: Callable[[PrintOutcome], None] | None = None,
                   error: Callable[[str], None] | None = None, owner=None, actor: Actor | None = None) -> None:
    """Make the shipment's documents, then print them; ``done`` gets the PrintOutcome on the GUI thread. Without
    ``settings`` the station's settings file is read on the worker, with the documents. A carrier label that
    printed confirms its shipment (by ``actor``) before ``done`` is called."""

    def made(docs: list[Document]) -> None:
        tasks.background(lambda: send(docs), lambda outcome: confirm_printed_labels(tasks, outcome, actor, done, error, owner),
                         error, owner=owner)

    tasks.read(lambda s: shipment_documents(s, shipment_id, settings or Settings.load(), label=label, slip=slip, sscc=sscc),
               made, error, owner=owner)


def confirm_printed_labels(tasks: Tasks, outcome: PrintOutcome, actor: Actor | None,
                           done: Callable[[PrintOutcome], None] | None, error: Callable[[str], None] | None, owner=None) -> None:
    """The carrier labels in ``outcome`` went to the printer: their shipments ship now (label_printed), then ``done``."""
    if not outcome.labels_printed:
        if done is not None:
            done(outcome)
        return

    def job(session):
        who = actor or Actor("system", Settings.load().station_name)
        for sid in outcome.labels_printed:
            shipments.label_printed(session, who, sid)
        return outcome

    tasks.write(job, done, error, owner=owner)


def reprint_label(tasks: Tasks, shipment_id: int, settings: Settings | None, *, done: Callable[[PrintOutcome], None] | None = None,
                  error: Callable[[str], None] | None = None, owner=None, actor: Actor | None = None) -> None:
    """Print a shipment's shipping label again on the station's label printer (for any screen to call)."""
    print_shipment(tasks, shipment_id, settings, label=True, slip=False, done=done, error=error, owner=owner, actor=actor)


def print_receiving_labels(tasks: Tasks, po_number: str, what: str, *, done: Callable[[PrintOutcome], None] | None = None,
                           error: Callable[[str], None] | None = None, owner=None) -> None:
    """A PO's receiving labels on the station's label printer: ``products`` (one per good unit on its open receipt) or
    ``cartons`` (its ship notices' carton labels). The settings file is read on the worker, with the labels."""

    def make(session) -> list[Document]:
        settings = Settings.load()
        if not settings.label_printer:
            raise InvalidInput(_t("This station has no label printer: choose one on the Printing screen."))
        n, data = documents.receiving_labels(session, po_number, what, settings.label_format, dpi=settings.label_dpi)
        title = (_t("{n} product labels, {po}") if what == "products" else _t("{n} carton labels, {po}")).format(
            n=n, po=po_number)
        return [Document(title, data, settings.label_printer, _label_media(settings))]

    tasks.read(make, lambda docs: tasks.background(lambda: send(docs), done, error, owner=owner), error, owner=owner)


def print_pdf(tasks: Tasks, data: bytes, printer: str, title: str, *, media: str | None = None,
              done: Callable[[PrintOutcome], None] | None = None, error: Callable[[str], None] | None = None,
              owner=None) -> None:
    tasks.background(lambda: send([Document(title, data, printer, media)]), done, error, owner=owner)


# -- test prints ------------------------------------------------------------------------------------------


def test_page(station: str, paper: str = "Letter") -> bytes:
    """A one-page PDF that says which station printed it."""
    from reportlab.lib.pagesizes import A4, letter
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    size = A4 if paper.upper() == "A4" else letter
    c = canvas.Canvas(buf, pagesize=size)
    c.setTitle("Quayside test page")
    c.setFont("Helvetica-Bold", 28)
    c.drawString(72, size[1] - 120, "Quayside test page")
    c.setFont("Helvetica", 14)
    c.drawString(72, size[1] - 160, f"Station {station}: the document printer works.")
    c.rect(36, 36, size[0] - 72, size[1] - 72)
    c.showPage()
    c.save()
    return buf.getvalue()


def test_label(station: str, fmt: str, dpi: int) -> bytes:
    """A 4x6 label in the printer's language with the station's name and a border to check alignment."""
    if fmt == "zpl":
        dots = dpi
        return (f"^XA^CI28^PW{4 * dots}^LL{6 * dots}^FO20,20^GB{4 * dots - 40},{6 * dots - 40},4^FS"
                f"^FO60,80^A0N,{dots // 3},{dots // 3}^FDQuayside test label^FS"
                f"^FO60,{80 + dots // 2}^A0N,{dots // 5},{dots // 5}^FDStation {station}^FS"
                f"^FO60,{80 + dots}^BCN,{dots // 2},Y,N,N^FDTEST-{station[:20]}^FS^XZ").encode("utf-8")
    from reportlab.lib.units import inch
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(4 * inch, 6 * inch))
    c.setTitle("Quayside test label")
    c.rect(8, 8, 4 * inch - 16, 6 * inch - 16)
    c.setFont("Helvetica-Bold", 22)
    c.drawString(24, 6 * inch - 60, "Quayside test label")
    c.setFont("Helvetica", 14)
    c.drawString(24, 6 * inch - 90, f"Station {station}")
    c.showPage()
    c.save()
    return buf.getvalue()


def test_documents(settings: Settings, which: str) -> list[Document]:
    if which == "label":
        return [Document(_t("Test label"), test_label(settings.station_name, settings.label_format, settings.label_dpi),
                         settings.label_printer, _label_media(settings))]
    return [Document(_t("Test page"), test_page(settings.station_name, settings.paper_size), settings.document_printer,
                     settings.paper_size)]
