"""What the Counts screen and the command line read: the list of counts, the counter's sheet (blind: no figure
from the books), and the supervisor's review with the books' figure and the variance of each line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oms.catalog.models import Product
from oms.counting.counts import count_number, status_title, task_id
from oms.counting.models import CountBin, CountLine, CountStatus, CountTask
from oms.inventory.models import Bin, Location


@dataclass(frozen=True)
class CountSummary:
    id: int
    number: str
    location: str
    scope: str
    scope_ref: str
    status: str
    status_title: str
    bins: int
    lines: int
    created_at: datetime


@dataclass(frozen=True)
class SheetLine:
    """One line as the counter sees it: where, what, and how many they counted so far (None: not yet)."""

    bin_code: str
    sku: str
    description: str
    counted: int | None
    found: bool


@dataclass(frozen=True)
class CountSheet:
    id: int
    number: str
    location: str
    scope: str
    scope_ref: str
    status: str
    status_title: str
    bins: tuple[tuple[str, bool], ...]  # (code, scanned)
    lines: tuple[SheetLine, ...]


@dataclass(frozen=True)
class ReviewLine:
    bin_code: str
    sku: str
    description: str
    expected: int
    counted: int
    found: bool

    @property
    def variance(self) -> int:
        return self.counted - self.expected


@dataclass(frozen=True)
class CountReview:
    id: int
    number: str
    location: str
    status: str
    threshold: int
    counted_by: str
    approved_by: str
    reason_code: str
    lines: tuple[ReviewLine, ...]

    @property
    def beyond(self) -> list[ReviewLine]:
        return [l for l in self.lines if abs(l.variance) > self.threshold]


def list_counts(session: Session, *, status: str | None = None, limit: int = 200) -> list[CountSummary]:
    """Counts newest first; by default the ones still open or waiting for a supervisor."""
    bins = select(func.count()).where(CountBin.task_id == CountTask.id).correlate(CountTask).scalar_subquery()
    lines = select(func.count()).where(CountLine.task_id == CountTask.id).correlate(CountTask).scalar_subquery()
    q = (select(CountTask, Location.code, bins, lines).join(Location, Location.id == CountTask.location_id)
         .order_by(CountTask.id.desc()).limit(limit))
    if status:
        q = q.where(CountTask.status == status)
    else:
        q = q.where(CountTask.status.in_([CountStatus.OPEN.value, CountStatus.REVIEW.value]))
    return [CountSummary(t.id, count_number(t.id), loc, t.scope, t.scope_ref, t.status, status_title(t.status), nb, nl,
                         t.created_at) for t, loc, nb, nl in session.execute(q)]


def _head(session: Session, ref) -> tuple[CountTask, str]:
    tid = task_id(session, ref)
    task = session.get(CountTask, tid)
    return task, session.scalar(select(Location.code).where(Location.id == task.location_id))


def count_sheet(session: Session, ref: int | str) -> CountSheet:
    """The counter's view of a task: bins and products, never the books' quantity."""
    task, loc = _head(session, ref)
    bins = tuple((code, visited is not None) for code, visited in session.execute(
        select(Bin.code, CountBin.visited_at).join(CountBin, CountBin.bin_id == Bin.id)
        .where(CountBin.task_id == task.id).order_by(Bin.pick_sequence, Bin.code)))
    rows = session.execute(
        select(Bin.code, Product.sku, Product.name, CountLine.counted, CountLine.found)
        .join(Product, Product.id == CountLine.product_id).outerjoin(Bin, Bin.id == CountLine.bin_id)
        .where(CountLine.task_id == task.id).order_by(Bin.pick_sequence, Bin.code, Product.sku))
    lines = tuple(SheetLine(b or "", sku, title, counted, found) for b, sku, title, counted, found in rows)
    return CountSheet(task.id, count_number(task.id), loc, task.scope, task.scope_ref, task.status,
                      status_title(task.status), bins, lines)


def count_review(session: Session, ref: int | str) -> CountReview:
    """The supervisor's view of a submitted count: the books' figure beside the count, and the variance."""
    task, loc = _head(session, ref)
    rows = session.execute(
        select(Bin.code, Product.sku, Product.name, CountLine.expected, CountLine.counted, CountLine.found)
        .join(Product, Product.id == CountLine.product_id).outerjoin(Bin, Bin.id == CountLine.bin_id)
        .where(CountLine.task_id == task.id).order_by(Bin.pick_sequence, Bin.code, Product.sku))
    lines = tuple(ReviewLine(b or "", sku, title, e or 0, c or 0, f) for b, sku, title, e, c, f in rows)
    return CountReview(task.id, count_number(task.id), loc, task.status, task.threshold, task.counted_by,
                       task.approved_by, task.reason_code, lines)
