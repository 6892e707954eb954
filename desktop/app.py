"""Application start: open and migrate the database, add demo data when it is empty, show the main window.

All of it runs with the GUI alive: migrations and seeding run on the database
worker while a progress window says what is happening, and a database Quayside
cannot open ends in a dialog that says why, never a traceback.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

from desktop.qt import (
    QApplication,
    QCoreApplication,
    QDialog,
    QDir,
    QIcon,
    QLabel,
    QMessageBox,
    QObject,
    QProgressBar,
    QSettings,
    QStyleFactory,
    Qt,
    QTimer,
    QVBoxLayout,
    Signal,
)
from desktop.tasks import Tasks
from desktop.window_state import WindowState
from oms import seed
from oms.core import backup, logs
from oms.core.db import Database
from oms.core.errors import OmsError
from oms.core.settings import Settings
from oms.station import about

log = logging.getLogger("quayside.app")
RESOURCES = Path(__file__).resolve().parent.parent / "resources"
DEMO_ORDERS = 300
SMOKE_TIMEOUT_MS = 60_000
BACKUP_CHECK_MS = 60 * 60 * 1000  # how often a running station asks whether the day's backup is due
SEAL_MS = 60 * 1000  # how often a running station chains the audit events written since (oms.core.audit.seal)
FIRST_BACKUP_DELAY_MS = 60_000  # the first ask: once the start-up work is out of the way


def app_icon() -> QIcon:
    icon = QIcon()
    for size in (16, 24, 32, 48, 64, 128, 256):
        png = RESOURCES / "icons" / f"quayside-{size}.png"
        if png.exists():
            icon.addFile(str(png))
    svg = RESOURCES / "icons" / "quayside.svg"
    if svg.exists():
        icon.addFile(str(svg))
    return icon


def stylesheet() -> str:
    """The theme; its images are named "quayside:icons/…", found in resources/ wherever the app is installed."""
    QDir.setSearchPaths("quayside", [str(RESOURCES)])
    path = RESOURCES / "quayside.qss"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def setup_application(app: QApplication) -> None:
    """Names, style, icon and stylesheet: the same for the app, the tests and the screenshots."""
    QCoreApplication.setOrganizationName("Quayside")
    QCoreApplication.setApplicationName("Quayside")
    app.setApplicationDisplayName("Quayside")
    app.setStyle(QStyleFactory.create("Fusion"))
    app.setWindowIcon(app_icon())
    app.setStyleSheet(stylesheet())


def application(argv: list[str] | None = None) -> QApplication:
    # The database worker runs Python too: switch threads often, so a result reaches
    # the screen as soon as it exists rather than after the default 5 ms slice.
    sys.setswitchinterval(0.001)
    app = QApplication.instance()
    if app is None:
        QApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(argv if argv is not None else sys.argv[:1])
    setup_application(app)
    return app


class StartupWindow(QDialog):
    """What the person sees while the database is opened, upgraded or filled with demo data."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("startupWindow")
        self.setWindowTitle(self.tr("Starting Quayside"))
        self.setWindowIcon(app_icon())
        self.setMinimumWidth(440)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        title = QLabel(self.tr("Quayside"))
        title.setObjectName("startupTitle")
        self.label = QLabel(self.tr("Opening the database…"))
        self.label.setObjectName("startupLabel")
        self.label.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setTextVisible(False)
        layout.addWidget(title)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)

    def step(self, text: str, done: int = 0, total: int = 0) -> None:
        self.label.setText(text)
        self.bar.setRange(0, total)
        self.bar.setValue(done)


class Startup(QObject):
    """Migrate, seed when empty, open the window; each step on the database worker."""

    progress = Signal(int, int)  # emitted from the worker while seeding
    finished = Signal(int)  # the exit code for a start that ends before the window (errors, smoke)

    def __init__(self, args, settings: Settings, db: Database, tasks: Tasks, state: WindowState) -> None:
        super().__init__()
        self.args = args
        self.settings = settings
        self.db = db
        self.tasks = tasks
        self.state = state
        self.smoke = bool(getattr(args, "smoke", False))
        self.window = None
        self.demo = None  # desktop.demo.DemoSync while the demo shop and carrier run
        self.seeded_now = False  # demo data was added by this start: the demo shop starts too
        self.products = None  # product rows the first-run wizard checked, imported at this start
        self.imported = ""  # what that import did, said in the window's status bar
        self.started = time.monotonic()
        self.splash = StartupWindow()
        self.progress.connect(self._seed_progress)

    def begin(self) -> None:
        if not self.smoke:
            self.splash.show()
        self.splash.step(self.tr("Checking the database…"))
        folder = backup.backup_folder(self.db.url, self.settings.backup_folder)

        def check():
            problems = backup.check_database(self.db.url)
            found = backup.list_backups(self.db.url, folder) if problems else []
            return problems, (found[-1] if found else None)

        self.tasks.call(check, self._checked_integrity, self._fail)

    def _checked_integrity(self, found) -> None:
        problems, latest = found
        if not problems:
            self.splash.step(self.tr("Opening the database…"))
            self.tasks.call(self.db.migrate, self._migrated, self._fail)
            return
        where = backup.sqlite_path(self.db.url)
        said = self.tr("The database {path} is damaged: {problem}").format(path=where, problem=problems[0])
        if self.smoke or latest is None:
            hint = "" if latest is not None else self.tr(
                "\n\nThere is no backup of it to restore. Ask your supervisor, or start Quayside with another database.")
            self._fail(said + hint)
            return
        self.splash.hide()
        box = QMessageBox(QMessageBox.Icon.Warning, self.tr("The database is damaged"),
                          said + "\n\n" + self.tr("Restore the latest backup, taken {when}? Work done since then is "
                                                   "lost; the damaged file is kept beside it.").format(
                              when=f"{latest.taken_at:%Y-%m-%d %H:%M}"))
        box.setObjectName("damagedDatabase")
        box.setWindowIcon(app_icon())
        restore = box.addButton(self.tr("&Restore the backup"), QMessageBox.ButtonRole.AcceptRole)
        box.addButton(self.tr("&Quit"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(restore)

        def answered() -> None:
            if box.clickedButton() is not restore:
                self._finish(1)
                return
            self.splash.show()
            self.splash.step(self.tr("Restoring the backup of {when}…").format(when=f"{latest.taken_at:%Y-%m-%d %H:%M}"))

            def restored(report) -> None:
                log.warning("restored %s from %s; the damaged file is at %s", where, report.restored_from,
                            report.saved_previous)
                self.tasks.call(self.db.migrate, self._migrated, self._fail)

            self.tasks.call(lambda: backup.restore(self.db.url, latest.path), restored, self._fail)

        box.finished.connect(answered)
        self.damaged_box = box
        box.open()  # not exec(): the event loop keeps running, for the worker and for a test's keys
        box.activateWindow()  # the keyboard goes to the question, with or without a window manager

    def _migrated(self, report) -> None:
        if report.before != report.after and report.before is not None:
            self.splash.step(self.tr("The database was upgraded to schema {rev}.").format(rev=report.after))
        self.tasks.call(lambda: seed.is_seeded(self.db), self._checked, self._fail)

    def _checked(self, seeded: bool) -> None:
        if self.products and not seeded:
            self._import_products()
            return
        if seeded or getattr(self.args, "no_seed", False) or not self.settings.demo_data:
            self._open_window()
            return
        self.splash.step(self.tr("This database is empty: adding demo products, stock and orders…"))

        def fill() -> None:
            seed.master_data(self.db)
            self.progress.emit(0, DEMO_ORDERS)
            seed.demo_orders(self.db, DEMO_ORDERS, progress=lambda n: self.progress.emit(n, DEMO_ORDERS))
            from desktop import demo

            try:
                demo.seed_edi(self.db)  # a trading partner's purchase orders, for the Documents screen
            except Exception:  # noqa: BLE001 - the demo partner is a nicety; the app starts without it
                log.exception("demo EDI partner not added")

        def filled(_r) -> None:
            self.seeded_now = True
            self._open_window()

        self.tasks.call(fill, filled, self._fail)

    def _import_products(self) -> None:
        """The products the first-run wizard checked: imported before the window opens, all or nothing."""
        from oms.core.audit import Actor
        from oms.product_import import import_products

        rows, self.products = self.products, None
        self.splash.step(self.tr("Importing {n} products…").format(n=len(rows)))
        actor = Actor("setup", self.settings.station_name)

        def job(session):
            return import_products(session, actor, rows)

        def done(report) -> None:
            self.imported = self.tr("Imported {n} products with {units} units in stock into {location}.").format(
                n=report.products, units=report.units, location=report.location)
            log.info("first run: %s", self.imported)
            self._open_window()

        def failed(message: str) -> None:
            self.imported = message
            log.error("first run: product import failed: %s", message)
            self._open_window()  # the station opens empty; the message says what to fix

        self.tasks.write(job, done, failed)

    def _seed_progress(self, done: int, total: int) -> None:
        self.splash.step(self.tr("Adding demo orders: {done} of {total}…").format(done=done, total=total), done, total)

    def _open_window(self) -> None:
        """Who works at this station: the person who signs in, where people do; the demo's supervisor on the demo."""
        from oms import users

        station = self.settings.station_name
        self.tasks.read(lambda s: users.station_start(s, station), self._who_starts, self._fail)

    def _who_starts(self, start) -> None:
        from desktop.sign_in import SignInDialog
        from oms.core.audit import Actor

        if start.kind == "demo":
            self._open_window_as(start.actor, demo=True)
        elif start.kind == "sign_in" and self.smoke:
            self._open_window_as(Actor("smoke", self.settings.station_name, "read_only", "Smoke test"))
        elif start.kind == "sign_in":
            self.splash.hide()
            self.sign_in = SignInDialog(self.tasks, self.settings.station_name)
            self.sign_in.setWindowIcon(app_icon())
            self.sign_in.accepted.connect(self._signed_in)
            self.sign_in.closed.connect(lambda: self._finish(0))
            self.sign_in.show()
            self.sign_in.activateWindow()  # the scanner and keyboard go to the sign-in, with or without a window manager
        else:
            self._open_window_as(None)

    def _signed_in(self) -> None:
        dialog, self.sign_in = self.sign_in, None
        self._open_window_as(dialog.actor, lock=True)
        dialog.deleteLater()  # Qt deletes it, at a moment of its choosing, not Python's collector at any moment

    def _open_window_as(self, actor, *, demo: bool = False, lock: bool = False) -> None:
        from desktop.main_window import MainWindow

        self.window = MainWindow(self.tasks, self.settings, self.state, actor=actor, demo=demo)
        if lock:
            from desktop.station_lock import StationLock

            self.window.station_lock = StationLock(self.window, self.settings.idle_lock_seconds)
        if self.smoke:
            self.window.queue.model.loaded.connect(self._smoke_check)
            self.window.queue.model.failed.connect(self._fail)
            QTimer.singleShot(SMOKE_TIMEOUT_MS, lambda: self._fail(self.tr("The order queue did not load in time.")))
        self.window.show()
        self.splash.close()
        self.window.activateWindow()  # the station's keyboard and scanner go to the window, with or without a window manager
        self.window.start()
        self.window.start_change_feed()  # other stations' changes reach the screens from now on
        if self.imported:
            self.window.show_message(self.imported)
        if not self.smoke:  # --smoke stays fast and off the network
            self._start_sync()
            self._schedule_backups()
            self._schedule_sealing()

    def _schedule_sealing(self) -> None:
        """The audit events of the last minute join the hash chain, in a short write of their own."""
        from oms.core import audit

        db = self.db

        def sealed() -> int:
            with db.write() as s:
                return audit.seal(s)

        def seal() -> None:  # not a Tasks.write: sealing changes nothing a screen shows
            self.tasks.call(sealed, None, lambda m: log.error("sealing the audit trail failed: %s", m), owner=self.window)

        self.seal_timer = QTimer(self.window)
        self.seal_timer.setInterval(SEAL_MS)
        self.seal_timer.timeout.connect(seal)
        self.seal_timer.start()

    def _schedule_backups(self) -> None:
        """A SQLite station backs itself up once a day while it runs (a shared server is backed up where it runs)."""
        if backup.sqlite_path(self.db.url) is None:
            return
        folder = backup.backup_folder(self.db.url, self.settings.backup_folder)
        url = self.db.url

        def due() -> None:
            self.tasks.background(lambda: backup.backup_if_due(url, folder), self._backed_up, self._backup_failed,
                                  owner=self.window)

        self.backup_timer = QTimer(self.window)
        self.backup_timer.setInterval(BACKUP_CHECK_MS)
        self.backup_timer.timeout.connect(due)
        self.backup_timer.start()
        QTimer.singleShot(FIRST_BACKUP_DELAY_MS, self.window, due)

    def _backed_up(self, report) -> None:
        if report is not None:
            log.info("backed up to %s (%d older removed)", report.path, len(report.removed))

    def _backup_failed(self, message: str) -> None:
        log.error("scheduled backup failed: %s", message)
        self.window.show_message(self.tr("The daily backup failed: {error}").format(error=message))

    def _start_sync(self) -> None:
        """Sync runs for the connected shops and carriers; on a demo database the emulators start first."""
        from desktop import demo

        db, worker = self.db, self.window.sync_worker

        def start_demo():
            if self.seeded_now or getattr(self.args, "demo", False) or demo.wanted(db):
                self.demo = demo.DemoSync(db).start()  # set here, so stop_sync finds it even if the window is gone
            return self.demo

        def started(d) -> None:
            if not self.window.isVisible():
                return  # closed while the emulators started
            for note in (d.notes if d else []):
                self.window.show_message(note)
            worker.start()

        def failed(message: str) -> None:
            self.window.show_message(message)
            started(None)

        self.tasks.call(start_demo, started, failed, owner=self.window)

    def stop_sync(self) -> None:
        if self.window is not None:
            self.window.sync_worker.stop()
        if self.demo is not None:
            self.demo.stop()
            self.demo = None

    def _smoke_check(self) -> None:
        model = self.window.queue.model
        rows = model.rowCount()
        first = model.row_at(0)
        elapsed = time.monotonic() - self.started
        if rows > 0 and first is not None:
            print(f"smoke ok: {self.db.description}, {rows} orders in the queue, first {first.number}, "
                  f"started in {elapsed:.2f} s")
            self._finish(0)
        else:
            print(f"smoke FAILED: the queue shows no orders ({self.db.description})", file=sys.stderr)
            self._finish(1)

    def _fail(self, message: str) -> None:
        self.splash.close()
        if self.smoke:
            print(f"smoke FAILED: {message}", file=sys.stderr)
        else:
            show_error(self.tr("Quayside cannot start"), message)
        self._finish(1)

    def _finish(self, code: int) -> None:
        self.finished.emit(code)
        QCoreApplication.exit(code)


def show_error(title: str, message: str) -> None:
    box = QMessageBox(QMessageBox.Icon.Critical, title, message)
    box.setObjectName("startupError")
    box.setWindowIcon(app_icon())
    box.exec()


class Running:
    """A started application: what ``run`` waits on, and what a journey test drives and then closes."""

    def __init__(self, app: QApplication, startup: Startup | None, tasks: Tasks | None, db: Database | None,
                 code: int | None = None) -> None:
        self.app = app
        self.startup = startup
        self.tasks = tasks
        self.db = db
        self.code = code  # set when the start ended before the event loop (a database that cannot be opened)
        self.wizard = None  # the first-run wizard while it asks
        self.looping = False  # run() is in the application's event loop (a test driving start() is not)

    def quit(self, code: int) -> None:
        """End the start here: the caller's event loop ends with ``code``; a caller without one reads ``code``."""
        self.code = code
        if self.looping:
            QCoreApplication.exit(code)

    @property
    def window(self):
        return self.startup.window if self.startup is not None else None

    def shutdown(self) -> None:
        """What happens after the event loop ends: window state saved, workers and the demo stopped."""
        if self.startup is None:
            return
        if self.startup.window is not None:
            self.startup.window.save_state()
            self.startup.window.stop_change_feed()
        self.tasks.shutdown()
        self.startup.stop_sync()  # after the database worker: a demo still starting has finished by now
        self.db.dispose()
        self.startup = None


def start(args) -> Running:
    """Open the settings and the database and begin the start-up steps; the caller runs the event loop.

    On a first start (no settings file, no database named) the first-run wizard asks first; the start goes on when
    it is finished (``Running.wizard`` is the wizard meanwhile)."""
    app = application()
    logs.setup()  # again for a journey's fresh machine: the log goes to this machine's folder
    log.info("Quayside %s starting", about.version())
    from desktop import first_run

    if first_run.needed(args):
        running = Running(app, None, None, None)
        helper = Tasks(None)  # the wizard's slow work (a server's answer, CUPS, a test print) before any database
        wizard = first_run.FirstRunWizard(helper)
        running.wizard = wizard

        def finished(result: int) -> None:
            running.wizard = None
            helper.shutdown()
            # Deleted by Qt once this slot has returned, never left to Python's garbage collector: nothing of it
            # stays to be restyled or to receive events (a collected wizard crashed the next restyle).
            wizard.deleteLater()
            if result != QDialog.DialogCode.Accepted:
                log.info("first-run wizard closed; nothing saved")
                QTimer.singleShot(0, lambda: running.quit(0))  # after the deletion above has happened
                return
            products = wizard.start.products()
            try:
                settings = wizard.result_settings()
                settings.save()
            except (OSError, OmsError) as exc:
                show_error(QCoreApplication.translate("App", "Quayside cannot start"),
                           QCoreApplication.translate("App", "The settings cannot be saved in {path}: {error}").format(
                               path=Settings.path(), error=exc))
                running.quit(1)
                return
            log.info("first-run wizard: station %s (%s), %s", settings.station_name, settings.station_role,
                     "shared database" if settings.database_url else "database on this computer")
            if _begin(running, args, settings, products=products) is not None:
                running.quit(1)

        wizard.finished.connect(finished)
        wizard.setWindowIcon(app_icon())
        wizard.show()
        wizard.activateWindow()  # the keyboard goes to the wizard, with or without a window manager
        return running
    running = Running(app, None, None, None)
    running.code = _begin(running, args, None)
    return running


def _begin(running: Running, args, settings: Settings | None, *, products=None) -> int | None:
    """Open the database and queue the start-up steps on ``running``; an exit code if the database cannot be opened."""
    smoke = bool(getattr(args, "smoke", False))
    try:
        settings = settings or Settings.load()
        db = Database(getattr(args, "db", None))
    except OmsError as exc:
        if smoke:
            print(f"smoke FAILED: {exc}", file=sys.stderr)
        else:
            show_error(QCoreApplication.translate("App", "Quayside cannot start"), str(exc))
        return 1
    tasks = Tasks(db)
    state = WindowState(QSettings())
    running.startup = Startup(args, settings, db, tasks, state)
    running.startup.products = products
    running.tasks, running.db = tasks, db
    QTimer.singleShot(0, running.startup.begin)
    return None


def run(args) -> int:
    """Start the desktop app; returns the process exit code."""
    running = start(args)
    if running.code is not None:
        return running.code
    running.looping = True
    code = running.app.exec()
    running.shutdown()
    return code
