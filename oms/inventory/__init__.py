"""Inventory: the stock ledger, levels per location and bin, reservations and available-to-promise.

Every change of on-hand stock writes a `stock_movement` row and adjusts the materialized
level in the same transaction. Changes are conditional UPDATEs that the database checks
(`0 <= allocated <= on_hand`), never read-then-write in Python, so two stations can never
take the same unit. A change that can make stock available returns a `StockChange` saying
which products rose; releasing backorders is the caller's use case (`routing.restock`).
Owns locations (warehouses and 3PLs) and their bins."""

from .locations import (
    add_bins,
    add_location,
)
from .stock import (
    LevelView,
    StockChange,
    adjust,
    available_map,
    available_to_promise,
    bin_code,
    bin_id,
    count,
    levels,
    location_id,
    product_id,
    receive,
    release,
    reserve,
    ship,
    ship_many,
    take_from_bin,
    transfer,
    transfer_in,
    transfer_out,
    try_reserve,
    try_reserve_many,
    unship,
)

__all__ = [
    "LevelView",
    "product_id",
    "location_id",
    "bin_id",
    "bin_code",
    "StockChange",
    "try_reserve",
    "try_reserve_many",
    "reserve",
    "release",
    "ship",
    "ship_many",
    "unship",
    "receive",
    "adjust",
    "count",
    "transfer",
    "transfer_out",
    "transfer_in",
    "take_from_bin",
    "levels",
    "available_to_promise",
    "available_map",
    "add_location",
    "add_bins",
]
