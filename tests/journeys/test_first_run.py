"""Monday, a new station: the supervisor (not a developer) unpacks Quayside and answers the first-run wizard.

On a machine with no settings file the wizard asks for the station's name and role, its database, its printers,
checks the scanner and asks for demo data or an empty start, all by keyboard. The SQLite journey starts empty with
a network label printer tried on the spot and a scanner set to the wrong keyboard layout found out; the PostgreSQL
journey gets the database's name wrong first and is told so in plain words before it may go on.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest
from PySide6.QtWidgets import QApplication, QWizard
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from oms.catalog.models import Product
from oms.core import secrets
from oms.orders.models import SalesOrder
from tests.documents.conftest import Listener, cups  # noqa: F401 - the real CUPS fixture, shared with the document tests
from tests.journeys.conftest import Machine, Station, _process_until, _stop_app


def _start_fresh(machine: Machine, qtbot) -> Station:
    from desktop import app as desktop_app
    from main import build_parser

    running = desktop_app.start(build_parser().parse_args([]))
    assert running.code is None and running.wizard is not None, "a fresh machine starts with the wizard"
    station = Station(running, machine, qtbot)
    wizard = running.wizard
    station.wait_for(lambda: QApplication.activeWindow() is wizard, "the wizard to take the keyboard")
    return station


def _page(station) -> str:
    wizard = station.running.wizard
    return wizard.currentPage().objectName() if wizard is not None else ""


def _window_up(station, timeout: float = 120) -> None:
    assert _process_until(lambda: station.window is not None and station.window.isVisible()
                          and not station.window.queue.model.is_loading, timeout), "the main window did not open"
    station.wait_for(lambda: QApplication.activeWindow() is station.window, "the window to take the keyboard")


def test_a_supervisor_sets_up_an_empty_receiving_station_with_a_network_label_printer(tmp_path, qtbot, _journey_display):
    printer = Listener()
    good, bad = tmp_path / "products.csv", tmp_path / "products-draft.csv"
    good.write_text("SKU,Title,Barcodes,Bin,Stock\nMUG-RED,Mug red,4006381333931,A-01-1,12\n"
                    "MUG-BLU,Mug blue,036000291452,A-01-2,1200\nLANTERN,Storm lantern,,,\n", encoding="utf-8")
    bad.write_text("SKU,Title,Barcodes,Bin,Stock\nMUG-RED,Mug red,,A-01-1,12\nMUG-BLU,,,,\n"
                   "LANTERN,Storm lantern,4006381333932,,\n", encoding="utf-8")
    with Machine(tmp_path / "home") as machine:
        s = _start_fresh(machine, qtbot)
        try:
            assert _page(s) == "stationPage"
            s.key("Ctrl+A")
            s.type("RECV-1")
            s.key("Tab")  # the role
            s.key("R")  # Receiving, by its first letter
            assert s.focused().currentText() == "Receiving"
            s.key("Return")

            s.wait_for(lambda: _page(s) == "databasePage", "the database page")
            assert s.sees(f"On this computer, in {machine.database_path}")
            s.key("Return")  # on this computer

            s.wait_for(lambda: _page(s) == "printersPage", "the printers page")
            s.tab_to(lambda w: w.objectName() == "wizardLabelPrinter" or w.parent().objectName() == "wizardLabelPrinter",
                     "the label printer")
            s.type(f"socket://127.0.0.1:{printer.port}")
            s.tab_to_text("Print a test label")
            s.key("Space")
            s.wait_text("Printed: Test label.")
            (job,) = printer.wait_for(1)
            assert job.startswith(b"^XA") and b"Quayside test label" in job and b"Station RECV-1" in job
            s.key("Alt+N")

            s.wait_for(lambda: _page(s) == "scannerPage", "the scanner page")
            s.scan("QYz-7aW4")  # the scanner is set to a German keyboard
            s.wait_text("The scanner swaps Y and Z")
            s.shot("first-run-scanner")
            s.scan("QZy-7aW4", terminator="Tab")  # set right, from the barcode in its manual; it ends reads with Tab
            s.wait_text("Read: QZy-7aW4 — right.")
            assert _page(s) == "scannerPage", "a scan's Enter must not press Next"
            s.key("Alt+N")

            s.wait_for(lambda: _page(s) == "startPage", "the last page")
            s.key("Alt+E")  # Empty, for real work
            s.wait_for(lambda: s.running.wizard.start.empty.isChecked(), "the Empty choice to be ticked")
            s.tab_to(lambda w: w.objectName() == "productsFile", "the products file")
            s.type(str(bad))
            s.key("Return")  # reads the file; Finish waits for it
            s.wait_text("Line 3: the title is empty.")
            s.shot("first-run-products")
            assert s.sees("Line 4: the barcode 4006381333932 has a wrong check digit.")
            assert not s.running.wizard.button(QWizard.WizardButton.FinishButton).isEnabled()
            s.key("Ctrl+A")
            s.type(str(good))
            s.key("Return")
            s.wait_text("3 products with 1212 units in stock, ready to import at the start.")
            s.key("Return")  # Finish
            _window_up(s)
            assert s.sees("Station RECV-1")
            assert s.window.current_screen_key() == "receiving", "a new receiving station opens on Receiving, where it works"
            s.wait_for(lambda: "Imported 3 products with 1212 units in stock into MAIN." in s.status(),
                       "the status bar to say what was imported")
            assert s.window.queue.model.rowCount() == 0
            with s.db.read() as session:
                assert session.scalar(select(func.count()).select_from(SalesOrder)) == 0
                assert session.scalar(select(func.count()).select_from(Product)) == 3
        finally:
            _stop_app(s.running)
            printer.close()
        saved = json.loads((machine.config_dir / "settings.json").read_text())
        assert saved["station_name"] == "RECV-1" and saved["station_role"] == "receiving"
        assert saved["database_url"] == "" and saved["demo_data"] is False
        assert saved["label_printer"] == f"socket://127.0.0.1:{printer.port}" and saved["label_format"] == "zpl"

        # the next start asks nothing and stays empty
        s2 = None
        from desktop import app as desktop_app
        from main import build_parser

        running = desktop_app.start(build_parser().parse_args([]))
        try:
            assert running.wizard is None
            s2 = Station(running, machine, qtbot)
            _window_up(s2)
            assert s2.window.queue.model.rowCount() == 0
        finally:
            _stop_app(running)


def _start_again(machine: Machine):
    """Quayside started once more on this machine, as main.py does."""
    from desktop import app as desktop_app
    from main import build_parser

    return desktop_app.start(build_parser().parse_args([]))


@pytest.mark.postgres
def test_a_shared_station_on_postgresql_is_told_plainly_what_is_wrong_first(tmp_path, qtbot, _journey_display,
                                                                            password_postgres):
    """The supervisor types the shared server's address with a wrong password, then a typo in the database's name,
    and each time reads what is wrong; with both right, the station opens on the server. The settings file keeps
    the address without the password, which is in the secret store."""
    url, password = password_postgres
    u = make_url(url).set(drivername="postgresql")
    with_password = u.set(password=password).render_as_string(hide_password=False)
    wrong_password = u.set(password="Pa55word").render_as_string(hide_password=False)
    typo = u.set(password=password, database="staton").render_as_string(hide_password=False)
    with Machine(tmp_path / "home") as machine:
        s = _start_fresh(machine, qtbot)
        try:
            s.key("Return")  # the station's name as the computer is called, an office desk
            s.wait_for(lambda: _page(s) == "databasePage", "the database page")
            s.key("Alt+S")  # a shared PostgreSQL server
            s.wait_for(lambda: s.running.wizard.database.shared.isChecked(), "the shared server to be ticked")
            s.tab_to(lambda w: w.objectName() == "databaseUrl", "the server's address")
            s.type(wrong_password)
            s.key("Return")  # tests the connection
            s.wait_text(f"The server 127.0.0.1:{u.port} refused the password for the user quayside", timeout=20)
            s.shot("first-run-database-password")
            s.key("Alt+N")
            assert _page(s) == "databasePage", "a database that failed its test must not be taken"

            s.key("Ctrl+A")
            s.type(typo)
            s.key("Return")
            s.wait_text("it has no database named staton", timeout=20)
            s.shot("first-run-database")
            s.key("Alt+N")
            assert _page(s) == "databasePage", "a database that failed its test must not be taken"

            s.key("Ctrl+A")
            s.type(with_password)
            s.key("Return")
            s.wait_text("The database is empty: Quayside creates its tables at the first start", timeout=20)
            s.key("Alt+N")
            s.wait_for(lambda: _page(s) == "printersPage", "the printers page")
            s.key("Alt+N")  # printers later
            s.wait_for(lambda: _page(s) == "scannerPage", "the scanner page")
            s.key("Alt+N")  # no scanner at hand
            s.wait_for(lambda: _page(s) == "startPage", "the last page")
            s.key("Alt+E")
            s.wait_for(lambda: s.running.wizard.start.empty.isChecked(), "the Empty choice to be ticked")
            s.key("Return")
            _window_up(s)
            assert s.window.db_label.text().startswith("Shared database on 127.0.0.1")
            assert s.db.dialect == "postgresql" and s.db.current_revision() == s.db.head_revision()
        finally:
            _stop_app(s.running)
        written = (machine.config_dir / "settings.json").read_text()
        saved = json.loads(written)
        assert saved["database_url"] == u.render_as_string(hide_password=False) and saved["label_printer"] == ""
        assert password not in written, "the settings file must not hold the database password"
        assert secrets.get_secret(secrets.database_secret_name(saved["database_url"])) == password
        # The next start finds the server with the kept password, and opens without the wizard.
        running = _start_again(machine)
        try:
            assert running.wizard is None
            s2 = Station(running, machine, qtbot)
            _window_up(s2)
            assert s2.db.dialect == "postgresql"
        finally:
            _stop_app(running)


@pytest.fixture
def cups_printers(request):
    if not all(shutil.which(c) or os.path.exists(f"/usr/sbin/{c}") for c in ("cupsd", "lp", "lpstat", "lpadmin")) \
            or not os.path.exists("/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd"):
        pytest.skip("CUPS with cups-pdf is not installed")
    return request.getfixturevalue("cups")


def test_the_document_printer_prints_its_test_page_and_cancel_saves_nothing(tmp_path, qtbot, _journey_display,
                                                                           cups_printers):
    cups = cups_printers
    with Machine(tmp_path / "home") as machine:
        s = _start_fresh(machine, qtbot)
        try:
            s.key("Alt+N")
            s.wait_for(lambda: _page(s) == "databasePage", "the database page")
            s.key("Alt+N")
            s.wait_for(lambda: _page(s) == "printersPage", "the printers page")
            combo = s.running.wizard.printers.document
            s.wait_for(lambda: combo.findText(cups.pdf_queue) >= 0, "this computer's CUPS printers in the list")
            s.tab_to(lambda w: w is combo, "the document printer")
            s.type(cups.pdf_queue, gap_ms=20)  # a list jumps to what is typed
            assert combo.currentText() == cups.pdf_queue
            s.key("Alt+P")  # Print a test page
            s.wait_text("Printed: Test page.", timeout=30)
            assert cups.find_pdf("Test page").read_bytes().startswith(b"%PDF")
            s.key("Escape")  # Cancel: the supervisor will come back to it
            s.wait_for(lambda: s.running.code == 0, "Quayside to end, with nothing wrong")
            assert s.running.wizard is None and s.running.window is None
        finally:
            _stop_app(s.running)
        assert not (machine.config_dir / "settings.json").exists(), "a cancelled wizard saves nothing"
