"""Fixtures for document tests: barcode decoding of PDF and ZPL, a real CUPS, loopback label printers."""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from sqlalchemy import select

from oms import orders
from oms.documents.barcodes import Symbol
from oms.orders.models import OrderLine
from oms.shipping import shipments
from oms.shipping.shipments import PackageSpec, PackItem
from tests.conftest import ACTOR, make_order, ship_from, stock, take_in


@dataclass(frozen=True)
class Read:
    format: str
    symbology_identifier: str
    text: str
    gs1: bool


def _reads(img) -> list[Read]:
    return [Read(str(r.format), r.symbology_identifier, r.text, r.content_type == zxingcpp.ContentType.GS1)
            for r in zxingcpp.read_barcodes(img)]


def pdf_pages(pdf: bytes, dpi: int):
    doc = pdfium.PdfDocument(pdf)
    return [page.render(scale=dpi / 72, grayscale=True).to_pil() for page in doc]


def decode_pdf(pdf: bytes, dpi: int) -> list[list[Read]]:
    """Every page rendered at `dpi` and every barcode on it decoded."""
    return [_reads(img) for img in pdf_pages(pdf, dpi)]


def zpl_labels(zpl: bytes) -> list[str]:
    text = zpl.decode("utf-8")
    labels = re.findall(r"\^XA.*?\^XZ", text, flags=re.S)
    assert "".join(labels).replace("\n", "") == text.replace("\n", ""), "text outside ^XA..^XZ"
    return labels


def render_zpl(label: str, dpi: int):
    """A ZPL label as an image, by the offline zplkit renderer (skips when it is not installed)."""
    zplkit = pytest.importorskip("zplkit", reason="pip install zplkit to render ZPL in the tests")
    from PIL import Image

    pw = int(re.search(r"\^PW(\d+)", label).group(1))
    ll = int(re.search(r"\^LL(\d+)", label).group(1))
    # A whole 4x6 label as one graphic field (a carrier's PDF converted) is ~0.5 MB at 300 dpi: printers take it.
    from zplkit.rendering import Limits

    limits = Limits(graphic_bytes=4 << 20)
    doc = zplkit.render(label, zplkit.Options(dpi=dpi, width=pw, height=ll), limits=limits)
    assert len(doc.labels) == 1
    return Image.open(io.BytesIO(doc.labels[0].png()))


def decode_zpl(zpl: bytes, dpi: int) -> list[list[Read]]:
    return [_reads(render_zpl(label, dpi)) for label in zpl_labels(zpl)]


def expected(symbol: Symbol) -> Read:
    """What a scanner must read back from `symbol`."""
    if symbol.symbology == "gs1-128":
        return Read("Code 128", "]C1", symbol.data, True)
    if symbol.symbology == "code128":
        return Read("Code 128", "]C0", symbol.data, False)
    if symbol.symbology == "ean13":
        return Read("EAN-13", "]E0", symbol.data, False)
    if symbol.symbology == "upca":  # zxing reports UPC-A in its EAN-13 form unless asked for UPC-A only
        return Read("EAN-13", "]E0", "0" + symbol.data, False)
    return Read("EAN-8", "]E4", symbol.data, False)


# -- an order packed into a shipment -------------------------------------------------------------------


def packed_shipment(db, lines=(("MUG-RED", 3), ("LANTERN", 1)), *, pack=None, channel="web", ext="1", packages=None,
                    tracking="1Z999AA10123456784"):
    """In by the intake door and routed to Reno, pick everything; pack `pack` (line index -> qty, default all);
    confirm with tracking."""
    ship_from(db, "RNO")
    for sku, qty in lines:
        stock(db, sku, "RNO", 20, bin="A-01-1")
    with db.write() as s:
        (r,) = take_in(s, make_order(ext, lines, channel=channel, order_type="wholesale" if channel == "edi" else "dtc"))
        line_ids = s.scalars(select(OrderLine.id).where(OrderLine.order_id == r.order_id).order_by(OrderLine.id)).all()
        for lid, (_sku, qty) in zip(line_ids, lines):
            orders.record_pick(s, ACTOR, lid, qty, bin="A-01-1")
        pack = pack or {i: qty for i, (_sku, qty) in enumerate(lines)}
        specs = packages or [PackageSpec("M", 1250)]
        items = [PackItem(line_ids[i], q, package=min(i, len(specs) - 1)) for i, q in pack.items()]
        sid = shipments.pack(s, ACTOR, r.order_id, items, specs)
        shipments.confirm(s, ACTOR, sid, carrier="ups", service="expedited", tracking_number=tracking)
    return r.order_id, sid


# -- CUPS -------------------------------------------------------------------------------------------------


def _lpstat_running() -> bool:
    try:
        out = subprocess.run(["lpstat", "-r"], capture_output=True, text=True, timeout=5, env=dict(os.environ, LC_ALL="C"))
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "scheduler is running" in out.stdout


class Listener:
    """A loopback raw label printer (port 9100 style): keeps the bytes of each connection."""

    def __init__(self, port: int = 0):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.jobs: list[bytes] = []
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _addr = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            with conn:
                conn.settimeout(10)
                chunks = []
                while True:
                    try:
                        chunk = conn.recv(65536)
                    except socket.timeout:
                        break
                    if not chunk:
                        break
                    chunks.append(chunk)
                self.jobs.append(b"".join(chunks))

    def wait_for(self, n: int, timeout: float = 20) -> list[bytes]:
        end = time.monotonic() + timeout
        while len(self.jobs) < n and time.monotonic() < end:
            time.sleep(0.05)
        return self.jobs

    def close(self) -> None:
        self._stop = True
        self._thread.join(2)
        self.sock.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cups:
    pdf_queue: str
    zpl_queue: str
    listener: Listener
    pdf_out: Path

    def find_pdf(self, title: str, timeout: float = 30) -> Path:
        """The file cups-pdf wrote for the job titled `title` (it mangles the name; match the start)."""
        stem = re.sub(r"[^A-Za-z0-9_-]", "_", title)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            hits = [p for p in self.pdf_out.glob(f"{stem}*.pdf") if p.stat().st_size > 0]
            if hits:
                time.sleep(0.2)  # let cups-pdf finish writing
                return hits[0]
            time.sleep(0.2)
        raise AssertionError(f"cups-pdf wrote no file for {title!r} in {self.pdf_out}")


def lpadmin(*args: str) -> None:
    subprocess.run(["lpadmin", *args], check=True, capture_output=True, timeout=30)


@pytest.fixture(scope="session")
def cups(tmp_path_factory):
    """A running CUPS with a cups-pdf queue and a raw queue to a loopback listener.

    Installs nothing: without CUPS the tests skip, unless OMS_TEST_REQUIRE_CUPS=1 (CI) makes that a failure.
    """
    missing = [c for c in ("cupsd", "lp", "lpstat", "lpadmin", "cupsenable") if not shutil.which(c) and not
               os.path.exists(f"/usr/sbin/{c}")]
    ppd = "lsb/usr/cups-pdf/CUPS-PDF_opt.ppd"
    if not missing and not os.path.exists("/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd"):
        missing.append("printer-driver-cups-pdf")
    if missing:
        message = f"CUPS is not installed ({', '.join(missing)} missing; scripts/system-deps.sh installs it)"
        if os.environ.get("OMS_TEST_REQUIRE_CUPS") == "1":
            pytest.fail(message + " and OMS_TEST_REQUIRE_CUPS=1")
        pytest.skip(message + "; set OMS_TEST_REQUIRE_CUPS=1 to require it")
    daemon = None
    if not _lpstat_running():
        log = open(tmp_path_factory.mktemp("cups") / "cupsd.log", "wb")
        daemon = subprocess.Popen(["/usr/sbin/cupsd", "-f"], stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                  start_new_session=True)
        end = time.monotonic() + 15
        while not _lpstat_running():
            if time.monotonic() > end or daemon.poll() is not None:
                pytest.fail("cupsd did not start; see its log in " + log.name)
            time.sleep(0.1)
    listener = Listener()
    # Queues of this test session only: another session on the same CUPS (a second checkout, a parallel run) that
    # defined a queue of the same name would send this session's labels to its own listener.
    pdf_queue, zpl_queue = f"QS_PDF_{os.getpid()}", f"QS_ZPL_{os.getpid()}"
    lpadmin("-p", pdf_queue, "-v", "cups-pdf:/", "-E", "-m", ppd)
    lpadmin("-p", zpl_queue, "-v", f"socket://127.0.0.1:{listener.port}", "-E", "-m", "raw")
    home = Path(os.path.expanduser("~"))
    yield Cups(pdf_queue, zpl_queue, listener, home / "PDF")
    for queue in (pdf_queue, zpl_queue):
        subprocess.run(["lpadmin", "-x", queue], capture_output=True, timeout=30)
    listener.close()
    if daemon is not None:
        daemon.terminate()
        try:
            daemon.wait(10)
        except subprocess.TimeoutExpired:
            daemon.kill()


@pytest.fixture(autouse=True)
def spool(tmp_path, monkeypatch):
    """Failed prints go to a folder of this test."""
    path = tmp_path / "spool"
    monkeypatch.setenv("OMS_SPOOL_DIR", str(path))
    return path
