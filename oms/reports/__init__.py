"""Reports: the measures operations managers run the house by, read from what the other capabilities wrote.

Fill rate (line, order, unit; first-time and final), order cycle time (placed to shipped and to
delivered, in calendar and working hours), on-time ship and delivery, the perfect order rate,
backorder aging by SKU and location, throughput by day or hour with carrier cost, and picking and
packing productivity per worker and station from the audit trail. Every measure takes a period and
filters (channel, location, order type, carrier), can be compared with the period before, and returns
plain frozen dataclasses that carry the ids of the orders behind each number, for drill-down. Each
measure's definition is stated in words in ``DEFINITIONS`` (the screen and the command line show it).
It reads the tables of orders, routing, shipping, inventory and the audit trail, and writes nothing.

``o2c`` is the order-to-cash view: shipped but not invoiced, payment captures by age, failed captures with
their retry state, and the invoices sent to EDI partners with their 997s."""

from .measures import (
    DEFINITIONS,
    BackorderAging,
    BackorderRow,
    CarrierCost,
    CarrierCostRow,
    Compared,
    CycleTime,
    Durations,
    Filters,
    FillRate,
    OnTime,
    Period,
    PerfectOrder,
    Productivity,
    ProductivityRow,
    Rate,
    Throughput,
    ThroughputRow,
    OrderRef,
    WorkingHours,
    backorder_aging,
    carrier_cost,
    choices,
    compare,
    cycle_time,
    fill_rate,
    on_time,
    orders_behind,
    perfect_order,
    productivity,
    throughput,
)
from .o2c import (
    CaptureAge,
    EdiInvoice,
    FailedCapture,
    NotInvoiced,
    OrderToCash,
    edi_invoices,
    not_invoiced,
    order_to_cash,
)

__all__ = [
    "CaptureAge", "EdiInvoice", "FailedCapture", "NotInvoiced", "OrderToCash", "edi_invoices", "not_invoiced",
    "order_to_cash",
    "DEFINITIONS", "BackorderAging", "BackorderRow", "CarrierCost", "CarrierCostRow", "Compared", "CycleTime",
    "Durations", "Filters", "FillRate", "OnTime", "Period", "PerfectOrder", "Productivity", "ProductivityRow", "Rate",
    "Throughput", "ThroughputRow", "WorkingHours", "OrderRef", "orders_behind", "choices", "backorder_aging", "carrier_cost", "compare", "cycle_time",
    "fill_rate", "on_time", "perfect_order", "productivity", "throughput",
]
