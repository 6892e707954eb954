"""Counting: cycle counts. A count task covers one bin, every bin of a zone, or every bin holding a SKU at one
location. The counter scans each bin and the items in it, blind: the books' quantity is never shown to them.
Submitting takes the books' figures; when every line is within the task's threshold the counts go through the
ledger at once, else a supervisor (not the counter) approves them with a reason code, or sends them back for a
recount. A count applied against stock that moved since it was submitted is refused, so levels and ledger never
disagree.

Owns the `count_task`, `count_bin` and `count_line` tables. Counts go through the ledger by `routing.restock`,
which releases orders waiting for units found; so counting stands beside purchasing, above routing."""

from .counts import (
    COUNT_PREFIX,
    DEFAULT_THRESHOLD,
    REASONS,
    CountScan,
    Submitted,
    approve_count,
    cancel_count,
    count_number,
    create_count,
    is_count_number,
    reason_title,
    recount,
    scan_bin,
    scan_item,
    set_counted,
    status_title,
    submit_count,
    task_id,
)
from .models import CountScope, CountStatus
from .queries import (
    CountReview,
    CountSheet,
    CountSummary,
    ReviewLine,
    SheetLine,
    count_review,
    count_sheet,
    list_counts,
)

__all__ = [
    "COUNT_PREFIX",
    "DEFAULT_THRESHOLD",
    "REASONS",
    "CountScan",
    "CountScope",
    "CountStatus",
    "Submitted",
    "approve_count",
    "cancel_count",
    "count_number",
    "create_count",
    "is_count_number",
    "reason_title",
    "recount",
    "scan_bin",
    "scan_item",
    "set_counted",
    "status_title",
    "submit_count",
    "task_id",
    "CountReview",
    "CountSheet",
    "CountSummary",
    "ReviewLine",
    "SheetLine",
    "count_review",
    "count_sheet",
    "list_counts",
]
