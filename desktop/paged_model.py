"""A table model over any number of rows: the count up front, the rows read page by page on the database worker."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable

from desktop.qt import QAbstractTableModel, QModelIndex, Qt, QTimer, Signal
from desktop.tasks import Tasks

PageJob = Callable[[Any], list]  # reads one page in the worker's session

# The roles cells answer, looked up once: ``Qt.ItemDataRole.DisplayRole`` is a slow enum lookup, and a paint asks
# data() several thousand times.
DISPLAY_ROLE = Qt.ItemDataRole.DisplayRole
FOREGROUND_ROLE = Qt.ItemDataRole.ForegroundRole
FONT_ROLE = Qt.ItemDataRole.FontRole
TOOLTIP_ROLE = Qt.ItemDataRole.ToolTipRole
ALIGNMENT_ROLE = Qt.ItemDataRole.TextAlignmentRole


class PagedTableModel(QAbstractTableModel):
    """Rows fetched page by page on the database worker as the view needs them.

    The model knows the row count and holds a sliding window of at most ``max_pages``
    pages. A row whose page has not arrived yet shows empty until it does. Every new
    query takes a new generation; what an older one reads is dropped when it comes back.

    A subclass starts a query with ``_load(job)``, says how one page is read
    (``_page_job``), and what a cell shows (``_cell``).
    """

    loaded = Signal()  # the first page of a new query has arrived
    total_changed = Signal(int)
    failed = Signal(str)

    def __init__(self, tasks: Tasks, columns: int, *, page_size: int, max_pages: int, parent=None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._columns = columns
        self._page_size = page_size
        self._max_pages = max_pages
        self._generation = 0
        self._total = 0
        self._pages: OrderedDict[int, list] = OrderedDict()
        self._pending: set[int] = set()
        self._wanted: set[int] = set()
        self._loading = False
        self._fetch_timer = QTimer(self)
        self._fetch_timer.setSingleShot(True)
        self._fetch_timer.setInterval(0)
        self._fetch_timer.timeout.connect(self._fetch_wanted)

    @property
    def is_loading(self) -> bool:
        return self._loading

    # -- what a subclass supplies ------------------------------------------------------------------

    def _page_job(self, page: int) -> PageJob:
        """The job that reads ``page`` with the query as it is now (it runs later, on the worker)."""
        raise NotImplementedError

    def _cell(self, row, column: int, role):
        """What ``row`` shows in ``column`` for ``role``."""
        raise NotImplementedError

    def _rows_reset(self, extra) -> None:
        """Inside the reset of a new query's rows: take ``extra`` (the third item of what its job returned), drop
        what was cached about the old rows."""

    # -- a new query -----------------------------------------------------------------------------

    def _load(self, job: Callable[[Any], tuple[int, dict[int, list], Any]]) -> None:
        """Read a new query: ``job(session)`` returns its count, the pages it read, and anything for ``_rows_reset``.
        The old rows stay until the new ones arrive."""
        self._generation += 1
        self._loading = True
        gen = self._generation

        def read(session):
            if gen != self._generation:
                return None  # superseded while it waited: a newer query is queued behind it
            return job(session)

        self._tasks.read(read, lambda result: self._load_done(gen, result), self._failed, owner=self)

    def _load_done(self, gen: int, result) -> None:
        if gen != self._generation or result is None:
            return
        total, pages, extra = result
        self.beginResetModel()
        self._total = total
        self._pages = OrderedDict((p, rows) for p, rows in sorted(pages.items()) if rows)
        self._pending.clear()
        self._wanted.clear()
        self._rows_reset(extra)
        self.endResetModel()
        self._loading = False
        self.total_changed.emit(total)
        self.loaded.emit()

    def _failed(self, message: str) -> None:
        self._loading = False
        if self._wanted:
            self._fetch_timer.start()  # rows asked for while the query loaded still show empty
        self.failed.emit(message)

    # -- paging ----------------------------------------------------------------------------------

    def row_at(self, row: int):
        page = self._pages.get(row // self._page_size)
        if page is None:
            return None
        i = row % self._page_size
        return page[i] if i < len(page) else None

    def _want(self, page: int) -> None:
        if page in self._pending or page in self._wanted:
            return
        self._wanted.add(page)
        self._fetch_timer.start()

    def _fetch_wanted(self) -> None:
        # Batched: one paint asks for many rows of the same pages; each page is read once.
        if self._loading:
            return  # the rows in view belong to the query being replaced; the view asks again after the reset
        wanted, self._wanted = sorted(self._wanted), set()
        gen = self._generation
        for page in wanted:
            if page in self._pages or page in self._pending:
                continue
            self._pending.add(page)
            read_page = self._page_job(page)

            def job(session, read_page=read_page):
                return None if gen != self._generation else read_page(session)

            self._tasks.read(job, lambda rows, page=page: self._page_done(gen, page, rows), self._failed, owner=self)

    def _page_done(self, gen: int, page: int, rows) -> None:
        if gen != self._generation or rows is None:
            return
        self._pending.discard(page)
        self._pages[page] = rows
        while len(self._pages) > self._max_pages:
            self._pages.popitem(last=False)
        first = page * self._page_size
        last = min(self._total, first + len(rows)) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, self._columns - 1))

    # -- Qt model --------------------------------------------------------------------------------

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt override)
        return 0 if parent.isValid() else self._total

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt override)
        return 0 if parent.isValid() else self._columns

    def data(self, index: QModelIndex, role=DISPLAY_ROLE):
        if not index.isValid():
            return None
        row, size = index.row(), self._page_size
        page_no = row // size
        page = self._pages.get(page_no)
        if page is None:
            self._want(page_no)
            return None
        self._pages.move_to_end(page_no)  # the pages in view are the last ones the window lets go
        i = row % size
        return self._cell(page[i], index.column(), role) if i < len(page) else None
