"""Sync inside the GUI: one thread per connector runs the Qt-free engine; the status bar hears plain summaries.

The engine blocks on the network, so each enabled channel and carrier gets its own
Python thread with its own ``Engine`` (an offline shop never holds back the carrier).
The engine publishes plain ``RunReport`` events; this module turns them into Qt
signals, and after each report, and every few seconds, reads the connectors' state on
the database worker and publishes a ``SyncSummary`` for the status bar and the Sync
screen. Worker threads never touch widgets.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from desktop import formatting as fmt
from desktop.qt import QCoreApplication, QObject, Qt, QTimer, Signal, Slot
from desktop.tasks import Tasks
from oms.core.audit import Actor
from oms.integration import sync_queries
from oms.integration.sync_queries import SyncOverview
from sync.connectors import build_connectors
from sync.engine import Engine, RunReport, token_refused
from sync.http import plain_error

log = logging.getLogger("quayside.desktop.sync")

POLL_MS = 5000  # the status bar reads the state this often even when no report comes
JOIN_SECONDS = 3.0  # how long closing waits for a connector thread in a network call
OFFLINE_RETRY_S = 15  # an offline connector is tried again this soon (as Engine.run_forever does)

Builder = Callable[..., tuple[dict, dict, dict[str, int], list[str]]]  # (db, **http_options)


def _t(text: str) -> str:
    return QCoreApplication.translate("Sync", text)


def _n(singular: str, plural: str, n: int) -> str:
    """Qt has one source text with %n for plurals; until a translation exists, English picks by n."""
    return QCoreApplication.translate("Sync", singular if n == 1 else plural)


def clock_time(dt: datetime, now: datetime | None = None) -> str:
    """'9:30' today, else 'Yesterday 09:30' or a date: what "offline since" reads like."""
    now = now or datetime.now(timezone.utc)
    local = dt.astimezone()
    if local.date() == now.astimezone().date():
        return f"{local.hour}:{local.minute:02d}"
    return fmt.short_datetime(dt, now)


@dataclass(frozen=True)
class SyncSummary:
    """What sync looks like right now, as plain data (the status bar's text and colour included)."""

    overview: SyncOverview
    problems: tuple[str, ...] = ()  # connectors left out, e.g. for lack of a token
    running: tuple[str, ...] = ()  # codes with a worker thread
    text: str = ""
    state: str = "ok"  # ok, offline, error
    details: tuple[str, ...] = field(default=())  # one line per connector, for a tooltip
    progress: dict[str, str] = field(default_factory=dict)  # code -> what its pass in hand waits for, in words


ROLE_ORDER = {"channel": 0, "carrier": 1, "threepl": 2, "partner": 3}  # shops, carriers, 3PLs, then EDI trading partners


def describe(overview: SyncOverview, problems: tuple[str, ...] = (), no_token: frozenset[str] = frozenset(),
             now: datetime | None = None) -> tuple[str, str, tuple[str, ...]]:
    """The status bar's words: 'Shop online · Carrier online · 212 orders waiting to be packed'.

    Calm while everything is online, amber while something is offline, red only for what needs a
    person's action here: a connection without its token, a shop or carrier that refused an update
    or sent what could not be read. A trading partner's refused or unreadable documents are for the
    Documents screen, not an alarm at the packing bench. A connection is called "Shop" or "Carrier"
    when it is the only one of its kind, else by its name; three or more of a kind that are all
    online with nothing refused are counted ("3 shops online"), so the line stays short enough for
    a 1366-pixel screen.
    """
    enabled = sorted((st for st in overview.connectors if st.enabled), key=lambda c: ROLE_ORDER.get(c.role, 9))
    if not enabled:
        return "", "ok", tuple(problems)
    roles = [st.role for st in enabled]
    parts, details, state = [], [], "ok"
    # The internet is down (9:30 in the journeys): every shop and carrier is offline. One amber line says so,
    # "Offline since 9:30 — 37 updates waiting", instead of one per connection.
    remote = [st for st in enabled if st.role != "partner" and st.code not in no_token]
    all_offline = len(remote) > 1 and not any(st.online for st in remote)
    if all_offline:
        firsts = [st.offline_since for st in remote if st.offline_since]
        since = clock_time(min(firsts), now) if firsts else "?"
        waiting = sum(st.waiting for st in remote)
        parts.append(_n("Offline since {time} — {n} update waiting", "Offline since {time} — {n} updates waiting",
                        waiting).format(time=since, n=waiting))
        state = "offline"
    calm_roles = set()  # three or more of a kind, all online with nothing refused: said once, counted
    for role in set(roles):
        mine = [st for st in enabled if st.role == role]
        if (role != "partner" and len(mine) >= 3 and all(st.online and not st.failed and st.code not in no_token
                                                          and not token_refused(st.role, st.last_error) for st in mine)):
            calm_roles.add(role)
    counted: set[str] = set()
    for st in enabled:
        if st.role in calm_roles:
            if st.role not in counted:
                counted.add(st.role)
                n = roles.count(st.role)
                parts.append((_n("{n} shop online", "{n} shops online", n) if st.role == "channel"
                              else _n("{n} 3PL online", "{n} 3PLs online", n) if st.role == "threepl"
                              else _n("{n} carrier online", "{n} carriers online", n)).format(n=n))
            details.append(f"{st.name}: " + _t("online") + (" · " + plain_error(st.last_error)[:200] if st.last_error else ""))
            continue
        if roles.count(st.role) == 1:
            name = {"channel": _t("Shop"), "carrier": _t("Carrier"), "threepl": _t("3PL"), "partner": _t("EDI"),
                    "erp": _t("ERP")}.get(st.role, st.code)
        else:
            name = st.name or st.code
        if st.code in no_token:
            parts.append((_t("{name}: no password") if st.role == "partner" else _t("{name}: no token")).format(name=name))
            state = "error"
        elif token_refused(st.role, st.last_error):
            parts.append(_t("{name}: token refused, update it in Settings").format(name=name))
            state = "error"
        elif not st.online and all_offline and st in remote:
            pass  # said once above
        elif not st.online:
            since = clock_time(st.offline_since, now) if st.offline_since else "?"
            parts.append(_n("{name} offline since {time} — {n} update waiting", "{name} offline since {time} — {n} updates waiting",
                            st.waiting).format(name=name, time=since, n=st.waiting))
            if state == "ok":
                state = "offline"
        else:
            parts.append(_t("{name} online").format(name=name))
        if st.failed and st.role != "partner":
            parts.append(_t("{name}: {n} refused").format(name=name, n=st.failed) if all_offline and st in remote
                         else parts.pop() + " " + _t("({n} refused)").format(n=st.failed))
            state = "error"
        line = f"{st.name}: " + (_t("online") if st.online else _t("offline"))
        if st.waiting or st.failed:
            line += " · " + _t("{w} waiting, {f} refused").format(w=st.waiting, f=st.failed)
        if st.last_error:
            line += " · " + plain_error(st.last_error)[:200]
        details.append(line)
    if overview.quarantined:
        parts.append(_t("{n} unreadable").format(n=overview.quarantined))
        state = "error"
    parts.append(_n("{n} order waiting to be packed", "{n} orders waiting to be packed", overview.to_pack)
                 .format(n=f"{overview.to_pack:,}"))
    if state == "error":
        details.append(_t("Open Sync to see what was refused or could not be read."))
    return " · ".join(parts), state, (*details, *problems)


def without_worker(overview: SyncOverview, built: frozenset[str] | None) -> frozenset[str]:
    """Enabled connections that got no worker: they lack a token (build_connectors says so in its problems)."""
    if built is None:
        return frozenset()
    return frozenset(st.code for st in overview.connectors if st.enabled and st.code not in built)


class _ConnectorThread:
    """One connector's loop: a pass, then wait for its interval (shorter when offline) or a wake-up."""

    def __init__(self, code: str, engine: Engine, interval_s: int, publish: Callable[[RunReport], None]) -> None:
        self.code = code
        self.engine = engine
        self.interval_s = max(1, interval_s)
        self.publish = publish
        self.stopping = threading.Event()
        self.wake = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"quayside-sync-{code}", daemon=True)

    def _run(self) -> None:
        while not self.stopping.is_set():
            self.wake.clear()
            try:
                (report,) = self.engine.run_once([self.code])
            except Exception as exc:  # noqa: BLE001 - a database hiccup must not end this connector for the session
                log.exception("%s: sync pass failed", self.code)
                report = RunReport(self.code, errors=[str(exc) or type(exc).__name__])
            if self.stopping.is_set():
                return
            self.publish(report)
            self.wake.wait(min(self.interval_s, OFFLINE_RETRY_S) if report.offline else self.interval_s)

    def stop(self) -> None:
        self.stopping.set()
        self.engine.stop()
        self.wake.set()


class SyncWorker(QObject):
    """Runs sync for every enabled connector with a token; publishes summaries on the GUI thread."""

    report = Signal(object)  # RunReport, emitted from a connector thread (queued to the GUI thread)
    summary_changed = Signal(object)  # SyncSummary
    status_changed = Signal(str, str)  # text, state: for MainWindow.set_sync_status
    started = Signal()  # the connector threads for the current configuration are running

    def __init__(self, tasks: Tasks, *, build: Builder = build_connectors, poll_ms: int = POLL_MS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.build = build
        self.summary: SyncSummary | None = None
        self.problems: tuple[str, ...] = ()
        self.channels: dict = {}
        self.carriers: dict = {}
        self._threads: dict[str, _ConnectorThread] = {}
        self.last_reports: dict[str, RunReport] = {}
        self._active = False
        self._generation = 0
        self._stop_sleeping = threading.Event()
        self.built: frozenset[str] | None = None  # codes with a worker; None before the first start
        self.report.connect(self._reported, Qt.ConnectionType.QueuedConnection)
        self._poll = QTimer(self)
        self._poll.setInterval(poll_ms)
        self._poll.timeout.connect(self.refresh)
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(150)  # several reports in a burst make one read
        self._soon.timeout.connect(self.refresh)

    # -- running ------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._active

    def start(self) -> None:
        """Build the connectors on the database worker (reads config and tokens), then start their threads."""
        self._active = True
        self._generation += 1
        gen = self._generation
        self._stop_sleeping.clear()
        build = self.build
        db = self.tasks.db
        # Retry waits sleep on an event that closing sets, so closing never waits out a backoff.
        self.tasks.call(lambda: build(db, sleep=self._sleep), lambda built: self._launch(gen, built), self._build_failed,
                        owner=self)
        self._poll.start()
        self.refresh()

    def restart(self) -> None:
        """After connections were added, edited or switched off."""
        was_active = self._active
        self._stop_threads()
        if was_active:
            self.start()
        else:
            self.refresh()

    def stop(self) -> None:
        """Stop every connector; waits a moment for a thread inside a network call, never for long."""
        self._active = False
        self._generation += 1
        self._poll.stop()
        self._soon.stop()
        self._stop_threads()

    def sync_now(self) -> bool:
        """Run every connector at once instead of waiting for its interval; False when sync is not running."""
        for t in self._threads.values():
            t.wake.set()
        return bool(self._threads)

    def _stop_threads(self) -> None:
        threads, self._threads = list(self._threads.values()), {}
        self._stop_sleeping.set()  # backoff sleeps in the HTTP clients end at once
        for t in threads:
            t.stop()
        for t in threads:
            t.thread.join(JOIN_SECONDS)
            if t.thread.is_alive():
                log.warning("%s: still in a network call at close; left to finish on its own", t.code)
        self.channels, self.carriers = {}, {}

    def _sleep(self, seconds: float) -> None:
        self._stop_sleeping.wait(seconds)

    def _launch(self, gen: int, built) -> None:
        if gen != self._generation or not self._active:
            return
        channels, carriers, intervals, problems = built
        self.channels, self.carriers = dict(channels), dict(carriers)
        self.problems = tuple(problems)
        self.built = frozenset([*channels, *carriers])
        self._stop_sleeping.clear()
        db = self.tasks.db
        for code, connector in [*channels.items(), *carriers.items()]:
            engine = Engine(db, {code: connector} if code in channels else {},
                            carriers={code: connector} if code in carriers else {})
            t = _ConnectorThread(code, engine, intervals.get(code, 60), self.report.emit)
            self._threads[code] = t
            t.thread.start()
        log.info("sync started for %s", ", ".join(self._threads) or "no connector")
        self.started.emit()
        self.refresh()

    def _build_failed(self, message: str) -> None:
        self.problems = (message,)
        self.refresh()

    # -- actions the Sync screen asks for -----------------------------------------------------------------

    def retry_quarantined(self, payload_id: int, actor: Actor, done: Callable[[str], None],
                          error: Callable[[str], None]) -> None:
        """Read a quarantined payload again with its connector (no network) on the database worker."""
        channels, build = dict(self.channels), self.build
        db = self.tasks.db

        def job() -> str:
            # When sync is not running (no worker yet), the connectors are built just to read the payload.
            return Engine(db, channels or build(db)[0]).retry_quarantined(payload_id, actor)

        def ok(line: str) -> None:
            done(line)
            self.refresh_soon()

        self.tasks.call(job, ok, error, owner=self)

    # -- summaries ----------------------------------------------------------------------------------------------

    @Slot(object)
    def _reported(self, report: RunReport) -> None:
        self.last_reports[report.code] = report
        self.refresh_soon()

    def refresh_soon(self) -> None:
        self._soon.start()

    def refresh(self) -> None:
        problems, built, running = self.problems, self.built, tuple(self._threads)
        self.tasks.read(sync_queries.overview, lambda ov: self._publish(ov, problems, built, running),
                        lambda m: log.warning("sync status: %s", m), owner=self)

    def progress(self) -> dict[str, str]:
        """What each connector's pass in hand waits for, from those that say (a rate-limited marketplace)."""
        found = {}
        for code, connector in self.channels.items():
            say = getattr(connector, "progress", None)
            try:
                text = say() if callable(say) else ""
            except Exception:  # noqa: BLE001 - words for a screen must never stop the status bar
                text = ""
            if text:
                found[code] = text
        return found

    def _publish(self, overview: SyncOverview, problems, built, running) -> None:
        text, state, details = describe(overview, problems, without_worker(overview, built))
        self.summary = SyncSummary(overview, problems, running, text, state, details, self.progress())
        self.summary_changed.emit(self.summary)
        self.status_changed.emit(text, state)
