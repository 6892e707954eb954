"""Orders: what a customer asked for, and what has become of it.

The connector contract (`NormalizedOrder`, `Address`, `check_order`) that every channel
maps onto; idempotent import and reconciliation of changed orders (reserving stock is
routing's, through `oms.intake.take_in`); holds, cancellation, notes, deallocation before a
re-route; sales channels; and the status derived from the lines. Owns the channel, order,
line, allocation and note tables."""

from .channels import (
    add_channel,
)
from .contract import (
    Address,
    NormalizedLine,
    NormalizedOrder,
    check_order,
    unknown_items_reason,
)
from .intake import (
    CHANNEL_RELEASED,
    channel_hold_reason,
    ImportResult,
    as_normalized,
    import_order,
    import_orders,
)
from .lifecycle import (
    add_note,
    cancel_line,
    cancel_order,
    deallocate_order,
    find_order,
    hold,
    record_pick,
    release_hold,
)
from .status import (
    ORDER_TYPE_TITLES,
    STATUS_TITLES,
    LineQty,
    derive_status,
    refresh_loaded_status,
    refresh_status,
    refresh_statuses,
    status_title,
)

__all__ = [
    "CHANNEL_RELEASED",
    "channel_hold_reason",
    "Address",
    "NormalizedLine",
    "NormalizedOrder",
    "check_order",
    "unknown_items_reason",
    "STATUS_TITLES",
    "ORDER_TYPE_TITLES",
    "status_title",
    "LineQty",
    "derive_status",
    "refresh_status",
    "refresh_statuses",
    "refresh_loaded_status",
    "add_channel",
    "ImportResult",
    "import_orders",
    "import_order",
    "as_normalized",
    "deallocate_order",
    "find_order",
    "hold",
    "release_hold",
    "cancel_line",
    "cancel_order",
    "add_note",
    "record_pick",
]
