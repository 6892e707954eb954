"""Work off the GUI thread: one database worker that owns the sessions, and a pool for rendering and network.

Every task has a success and an error path that run back on the GUI thread. A
task's result is plain data; its callbacks are dropped when the widget that asked
for it (``owner``) has been destroyed in the meantime. Tests pass
``immediate=True`` to run each task and its callback at once, in order, on the
calling thread (Picard's FakeThreadPool).
"""

from __future__ import annotations

import logging
import traceback
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any, Callable

from desktop.qt import QCoreApplication, QObject, Qt, Signal, Slot, isValid
from oms.core.changes import NO_CHANGES
from oms.core.db import Database
from oms.core.errors import OmsError

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[str], None]


class ImmediateExecutor(Executor):
    """Runs each task on the caller's thread when it is submitted."""

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - handed to the task's error path
            future.set_exception(exc)
        return future


def describe_error(exc: BaseException) -> str:
    """What a person is told: the domain's own message, or a plain note of an unexpected failure."""
    if isinstance(exc, OmsError):
        return str(exc)
    return QCoreApplication.translate("Tasks", "Something went wrong: {error}").format(error=str(exc) or type(exc).__name__)


class _Relay(QObject):
    """Lives on the GUI thread; a signal emitted from a worker reaches it as a queued call."""

    deliver = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.deliver.connect(self._run, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _run(self, call: Callable[[], None]) -> None:
        call()


class Tasks(QObject):
    """The GUI's way to the database and to slow work.

    ``read(fn)`` runs ``fn(session)`` in a read session, ``write(fn)`` in a
    transaction that commits on success (and then emits ``changed`` with what it
    changed, which the main window hands to the screens), ``call(fn)`` runs ``fn()`` on the database
    thread (migrations, seeding), ``background(fn)`` on the second pool.
    """

    failed = Signal(str)  # a task without its own error path went wrong
    changed = Signal(object)  # oms.core.changes.Changes: a write committed, and this is what it changed

    def __init__(self, db: Database, *, immediate: bool = False, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.immediate = immediate
        if immediate:
            self._db_executor: Executor = ImmediateExecutor()
            self._pool: Executor = ImmediateExecutor()
        else:
            self._db_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="quayside-db")
            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="quayside-pool")
        self._relay = _Relay()
        self._closed = False
        self._asked: dict[tuple[int, str], int] = {}  # newest ask per (owner, name), for read(latest=...)

    def read(self, fn: Callable, done: Done | None = None, error: Failed | None = None, *, owner: QObject | None = None,
             latest: str | None = None) -> None:
        """``latest`` names a read that is asked again before its answer comes (counts for a filter being typed, the
        detail of a row being clicked through): only the answer to the newest ask of that name, per owner, is used."""
        def job():
            with self.db.read() as session:
                return fn(session)

        if latest is not None and done is not None:
            done = self._newest_only((id(owner), latest), done)
        self._submit(self._db_executor, job, done, error, owner)

    def write(self, fn: Callable, done: Done | None = None, error: Failed | None = None, *, owner: QObject | None = None) -> None:
        """``fn(session)`` in a transaction; once it has committed, ``done`` has the result and ``changed`` says
        what the write changed (oms.core.changes), for every screen, even when ``owner`` has gone meanwhile."""
        self._submit(self._db_executor, lambda: self.db.run(fn), *self._committed(done, error, owner), None)

    def write_each(self, items: list, fn: Callable, done: Done | None = None, error: Failed | None = None, *,
                   owner: QObject | None = None) -> None:
        """``fn(session, item)`` for each item in a transaction of its own, so one refusal does not stop the rest;
        ``done`` has (how many were done, the refusals in words), and ``changed`` what they changed together."""
        def job():
            done_n, refused, changes = 0, [], NO_CHANGES
            for item in items:
                try:
                    _result, changed = self.db.run(lambda session: fn(session, item))
                except OmsError as exc:
                    refused.append(str(exc))
                    continue
                done_n += 1
                changes = changes | changed
            return (done_n, refused), changes

        self._submit(self._db_executor, job, *self._committed(done, error, owner), None)

    def call(self, fn: Callable[[], Any], done: Done | None = None, error: Failed | None = None, *,
             owner: QObject | None = None) -> None:
        self._submit(self._db_executor, fn, done, error, owner)

    def background(self, fn: Callable[[], Any], done: Done | None = None, error: Failed | None = None, *,
                   owner: QObject | None = None) -> None:
        self._submit(self._pool, fn, done, error, owner)

    def shutdown(self) -> None:
        """Finish what is running, drop what waits; callbacks after this point are not delivered."""
        self._closed = True
        self._db_executor.shutdown(wait=True, cancel_futures=True)
        self._pool.shutdown(wait=True, cancel_futures=True)

    # -- internals -------------------------------------------------------------------------

    def _committed(self, done: Done | None, error: Failed | None, owner: QObject | None) -> tuple[Done, Failed]:
        """The success and error paths of a write that returns (result, changes): ``done`` and ``error`` only while
        ``owner`` lives; ``changed`` always, since the change has happened whoever asked for it."""
        def alive() -> bool:
            return owner is None or isValid(owner)

        def finished(outcome) -> None:
            result, changes = outcome
            if done is not None and alive():
                done(result)
            if changes:
                self.changed.emit(changes)

        def failed(message: str) -> None:
            if error is None:
                self.failed.emit(message)
            elif alive():
                error(message)

        return finished, failed

    def _newest_only(self, key: tuple[int, str], done: Done) -> Done:
        n = self._asked[key] = self._asked.get(key, 0) + 1

        def deliver(result) -> None:
            if self._asked.get(key) == n:
                done(result)

        return deliver

    def _submit(self, executor: Executor, job: Callable, done: Done | None, error: Failed | None,
                owner: QObject | None) -> None:
        if self._closed:
            return

        def finish(future: Future) -> None:
            if self._closed and not self.immediate:
                return
            if owner is not None and not isValid(owner):
                return
            exc = future.exception()
            if exc is None:
                if done is not None:
                    done(future.result())
                return
            if not isinstance(exc, OmsError):
                log.error("task failed:\n%s", "".join(traceback.format_exception(exc)))
            message = describe_error(exc)
            if error is not None:
                error(message)
            else:
                self.failed.emit(message)

        future = executor.submit(job)
        if self.immediate:
            finish(future)
        else:
            future.add_done_callback(lambda f: self._relay.deliver.emit(lambda: finish(f)))
