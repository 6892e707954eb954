"""The change feed: what other stations (and this station's sync threads) changed, as ``Changes``.

Every commit writes a row to the change log in its own transaction (oms.core.db). A station wakes to read it:

- on PostgreSQL by ``LISTEN``: the commit sends the row's id by ``NOTIFY`` (ids only: a payload is capped at
  8,000 bytes), delivered when the transaction commits and never before. The listener has a connection of its
  own, on a thread of its own. Notifications sent while it is away are lost: after a reconnect it reports
  ``everything()``, so every screen reads again what it shows.
- on SQLite by ``PRAGMA data_version``, read every ``interval`` seconds on a connection of its own: the number
  moves when another connection commits, and only then is the log read (the rows after the last one read:
  SQLite commits one writer at a time, so ids arrive in order).

Rows written by ``Database.run`` of the station's own Database are left out: its screens heard of them already.
The feed is Qt-free: ``deliver(changes, everything)`` is called on the feed's thread, and the desktop hands it
to the GUI thread (desktop/main_window.py).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from sqlalchemy import text

from oms.core.changes import NOTIFY_PREFIX, Changes, changes_after, changes_named, everything, newest_logged
from oms.core.db import Database

log = logging.getLogger(__name__)

Deliver = Callable[[Changes, bool], None]  # (what changed, whether it stands for "anything may have changed")
RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)  # waits between attempts to reconnect, the last one repeated
BURST_SECONDS = 0.02


class ChangeFeed:
    """Listens (PostgreSQL) or polls (SQLite) for changes committed elsewhere, on a thread of its own."""

    def __init__(self, db: Database, deliver: Deliver, *, interval: float = 0.5,
                 retry_seconds: tuple[float, ...] = RETRY_SECONDS) -> None:
        self.db = db
        self.deliver = deliver
        self.interval = interval
        self.retry_seconds = retry_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn = None
        self._lock = threading.Lock()
        self.connected = threading.Event()  # set while the feed's connection is up and listening
        self.reconnects = 0  # how many times the feed lost its connection and came back
        self.backend_pid: int | None = None  # the PostgreSQL server process of the listening connection

    # -- start and stop ---------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="quayside-change-feed", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)
        self._close()

    # -- the loop ---------------------------------------------------------------------------------------------

    def _run(self) -> None:
        attempt = 0
        first_try = True
        while not self._stop.is_set():
            try:
                self._open()
                if not first_try:  # whatever was committed while the feed was away: read everything again
                    self.reconnects += 1
                    self.deliver(everything(), True)
                attempt = 0
                if self.db.dialect == "postgresql":
                    self._listen()
                else:
                    self._poll()
            except Exception as exc:  # noqa: BLE001 - a lost connection, a server restart: connect again
                if self._stop.is_set():
                    break
                log.warning("change feed: connection lost (%s); connecting again", exc)
                self.connected.clear()
                self._close()
                self._stop.wait(self.retry_seconds[min(attempt, len(self.retry_seconds) - 1)])
                attempt += 1
            first_try = False
        self.connected.clear()

    def _open(self) -> None:
        conn = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        with self._lock:
            self._conn = conn
        if self.db.dialect == "postgresql":
            schema = conn.execute(text("SELECT current_schema()")).scalar()
            self.channel = NOTIFY_PREFIX + schema
            conn.exec_driver_sql(f'LISTEN "{self.channel}"')
            self.backend_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        self._last = newest_logged(conn)
        self.connected.set()

    def _close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()  # never back to the pool: a listening connection is the feed's alone
                conn.close()
            except Exception:  # noqa: BLE001 - it is gone either way
                pass

    def _listen(self) -> None:
        conn = self._conn
        pg = conn.connection.driver_connection
        while not self._stop.is_set():
            # The first notification wakes the feed at once; those of the same burst (a sync pass, a batch) that
            # follow within BURST_SECONDS are read with it.
            notes = list(pg.notifies(timeout=self.interval, stop_after=1))
            if notes:
                notes += list(pg.notifies(timeout=BURST_SECONDS, stop_after=500))
            ids = [int(n.payload) for n in notes if n.payload.isdigit()]
            if not ids:
                conn.exec_driver_sql("SELECT 1")  # a connection killed while idle is noticed here, not never
                continue
            found = changes_named(conn, ids, skip_origin=self.db.origin)
            if found.changes:
                self.deliver(found.changes, False)

    def _poll(self) -> None:
        conn = self._conn
        raw = conn.connection.driver_connection
        version = raw.execute("PRAGMA data_version").fetchone()[0]
        while not self._stop.wait(self.interval):
            now = raw.execute("PRAGMA data_version").fetchone()[0]
            if now == version:
                continue
            version = now
            found = changes_after(conn, self._last, skip_origin=self.db.origin)
            self._last = found.last_id
            if found.changes:
                self.deliver(found.changes, False)

    # -- for tests and diagnostics -----------------------------------------------------------------------------

    def wait_connected(self, timeout: float = 10.0) -> bool:
        return self.connected.wait(timeout)

    def wait_reconnected(self, reconnects: int, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.reconnects >= reconnects and self.connected.is_set():
                return True
            time.sleep(0.02)
        return False
