"""Returns: what customers send back. RMAs opened from an order (by customer service, at the dock for a parcel that
came without one, or from a channel's return or refund) with their lines, never more than shipped less what came back
or is on another open RMA; configurable reason codes; the customer's note, the resolution wanted (refund, exchange,
store credit) and an optional restocking fee; the RMA number series (RMA-1001, …); the states an RMA moves through
(requested, approved, label sent, in transit, received, resolved, closed, cancelled), each move on the RMA's and the
order's timeline; the return label bought through the carrier connector (by the outbox); receiving at the dock by
scanner with a disposition per unit; and what the dock received that needs a person's review.

Resolving a refund or store credit issues a credit note for the units received (``oms.invoicing``), against the
invoices they were billed on.

Owns the `return_reason`, `rma_counter`, `rma`, `rma_line`, `return_unit`, `rma_label` and `return_review` tables.
Units restocked go through the stock ledger by `routing.restock` (which releases the orders waiting for them);
units quarantined go to purchasing's quarantine. So returns stands above purchasing, routing, shipping and invoicing,
and below
the documents (the return slip) and the command line."""

from .channel import ChannelReturn, take_in_channel_return
from .labels import attach_return_label, record_return_tracking, request_return_label, return_label_files, tracking_targets
from .models import Disposition, Resolution, ReviewKind, RmaStatus
from .queries import (
    ReviewView,
    RmaDetail,
    RmaLineView,
    RmaSummary,
    TimelineEntry,
    UnitView,
    dock_locations,
    list_rmas,
    order_rmas,
    reviews,
    rma_detail,
)
from .receiving import (
    DOCK,
    ItemCheck,
    Parcel,
    Received,
    check_item,
    disposition_title,
    open_parcel,
    parse_disposition,
    receive_unit,
    record_not_on_rma,
    record_unidentified,
)
from .rmas import (
    OPEN_STATES,
    RMA_PREFIX,
    TRANSITIONS,
    RmaLineInput,
    add_line,
    add_reason,
    approve,
    cancel,
    close,
    create_rma,
    mark_in_transit,
    next_rma_number,
    outstanding,
    parse_line,
    reasons,
    resolution_title,
    resolve,
    retire_reason,
    returnable,
    rma_id,
    status_title,
)

__all__ = [
    "Disposition", "Resolution", "ReviewKind", "RmaStatus",
    "OPEN_STATES", "RMA_PREFIX", "TRANSITIONS", "RmaLineInput",
    "add_line", "add_reason", "approve", "cancel", "close", "create_rma", "mark_in_transit", "next_rma_number",
    "outstanding", "parse_line", "reasons", "resolution_title", "resolve", "retire_reason", "returnable", "rma_id",
    "status_title",
    "DOCK", "ItemCheck", "Parcel", "Received", "check_item", "disposition_title", "open_parcel", "parse_disposition",
    "receive_unit", "record_not_on_rma", "record_unidentified",
    "ReviewView", "RmaDetail", "RmaLineView", "RmaSummary", "TimelineEntry", "UnitView", "list_rmas", "order_rmas",
    "reviews", "rma_detail", "dock_locations",
    "ChannelReturn", "take_in_channel_return",
    "attach_return_label", "record_return_tracking", "request_return_label", "return_label_files", "tracking_targets",
]
