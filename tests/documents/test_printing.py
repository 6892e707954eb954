"""Printing through a real CUPS (cups-pdf and a raw queue) and straight to TCP 9100; failed prints are kept."""

from __future__ import annotations

import subprocess
import uuid

import pytest

from oms import printing
from oms.core.errors import NotFound
from oms.documents.barcodes import code128
from oms.documents.data import BinLabelData
from oms.documents.labels import bin_label, render
from oms.printing.printers import PrintError, PrintFailed
from tests.documents.conftest import Listener, decode_pdf, expected, free_port


def zpl_labels(n: int = 2) -> bytes:
    return render([bin_label(BinLabelData(f"B-{i:02d}")) for i in range(n)], "zpl", dpi=203)


def test_pdf_label_through_cups_pdf(cups):
    title = f"qs-label-{uuid.uuid4().hex[:8]}"
    pdf = render([bin_label(BinLabelData("A-03-2"), "4x6")], "pdf")
    job = printing.print_pdf(pdf, cups.pdf_queue, title=title, media="Custom.4x6in")
    assert job.startswith(cups.pdf_queue + "-")
    out = cups.find_pdf(title)
    # What CUPS printed still scans as the bin label's barcode.
    assert decode_pdf(out.read_bytes(), 203)[0] == [expected(code128("A-03-2"))]
    out.unlink()


def test_zpl_through_a_cups_raw_queue_arrives_byte_for_byte(cups):
    data = zpl_labels(3)
    before = len(cups.listener.jobs)
    printing.print_raw(data, cups.zpl_queue, title="bins")
    jobs = cups.listener.wait_for(before + 1)
    assert jobs[before] == data


def test_zpl_straight_to_tcp_9100():
    listener = Listener()
    try:
        data = zpl_labels()
        assert printing.print_raw(data, f"socket://127.0.0.1:{listener.port}") == f"127.0.0.1:{listener.port}"
        printing.print_raw(data, f"tcp://127.0.0.1:{listener.port}")
        assert listener.wait_for(2) == [data, data]
    finally:
        listener.close()
    assert printing.failed_jobs() == []


def test_closed_port_keeps_the_job_and_retry_sends_it_once_the_printer_is_back():
    port = free_port()
    data = zpl_labels()
    with pytest.raises(PrintFailed, match="refused the connection") as err:
        printing.print_raw(data, f"socket://127.0.0.1:{port}", title="Bins aisle B")
    (job,) = printing.failed_jobs()
    assert job.id == err.value.job_id and job.printer == f"socket://127.0.0.1:{port}" and job.format == "zpl"
    assert job.attempts == 1 and "refused" in job.error and job.title == "Bins aisle B"

    with pytest.raises(PrintFailed, match="still kept"):
        printing.retry(job.id)
    assert printing.failed_jobs()[0].attempts == 2

    listener = Listener(port)
    try:
        printing.retry(job.id)
        assert listener.wait_for(1) == [data]
    finally:
        listener.close()
    assert printing.failed_jobs() == []
    with pytest.raises(NotFound):
        printing.retry(job.id)


def test_unknown_queue_is_a_clear_error_and_kept(cups):
    with pytest.raises(PrintFailed, match="There is no printer “QS_NOPE”"):
        printing.print_pdf(b"%PDF-1.4 nothing", "QS_NOPE", title="x")
    (job,) = printing.failed_jobs()
    printing.discard(job.id)
    assert printing.failed_jobs() == []


def test_paused_queue_is_a_clear_error_and_retry_prints_after_resume(cups):
    title = f"qs-paused-{uuid.uuid4().hex[:8]}"
    subprocess.run(["cupsdisable", "-r", "out of labels", cups.pdf_queue], check=True)
    try:
        assert not printing.printer_status(cups.pdf_queue).enabled
        pdf = render([bin_label(BinLabelData("P-1"))], "pdf")
        with pytest.raises(PrintFailed, match="is paused") as err:
            printing.print_pdf(pdf, cups.pdf_queue, title=title, media="Custom.2.25x1.25in")
        assert "out of labels" in str(err.value)
    finally:
        subprocess.run(["cupsenable", cups.pdf_queue], check=True)
    (job,) = printing.failed_jobs()
    assert job.media == "Custom.2.25x1.25in"
    printing.retry(job.id)
    cups.find_pdf(title).unlink()
    assert printing.failed_jobs() == []


def test_queue_not_accepting_jobs(cups):
    subprocess.run(["cupsreject", cups.zpl_queue], check=True)
    try:
        with pytest.raises(PrintFailed, match="not accepting jobs"):
            printing.print_raw(zpl_labels(), cups.zpl_queue)
    finally:
        subprocess.run(["cupsaccept", cups.zpl_queue], check=True)


def test_list_printers(cups):
    names = {p.name: p for p in printing.list_printers()}
    assert {cups.pdf_queue, cups.zpl_queue} <= names.keys()
    assert names[cups.pdf_queue].enabled and names[cups.pdf_queue].accepting


def test_pdf_cannot_go_to_a_raw_port_and_no_printer_chosen():
    with pytest.raises(PrintFailed, match="cannot be sent straight"):
        printing.print_pdf(b"%PDF-1.4", "socket://127.0.0.1:9100", title="x")
    with pytest.raises(PrintError, match="No printer is chosen"):
        printing.print_raw(b"^XA^XZ", "", spool=False)
    with pytest.raises(PrintError, match="nothing to print"):
        printing.print_raw(b"", "socket://127.0.0.1:1")


def test_spool_survives_a_restart_and_ignores_stray_files(spool):
    with pytest.raises(PrintFailed):
        printing.print_raw(b"^XA^XZ", f"socket://127.0.0.1:{free_port()}")
    (spool / "junk.json").write_text("{not json")
    (job,) = printing.failed_jobs()
    assert (spool / f"{job.id}.zpl").read_bytes() == b"^XA^XZ"
