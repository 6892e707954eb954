"""3PLs: a third-party warehouse as one of our fulfilment locations.

What goes out to it (a shipping order per order allocated at its location, and per later release of a backorder),
and what its reports do here: acknowledgements, shipments (ship confirm for what it shipped, shorts back to
routing) and stock snapshots (the truth for its location, reconciled by adjustments with the reason "3PL
snapshot"). How a 3PL is reached (REST, X12) is sync's; this package knows no transport. Owns the
``threepl_order``, ``threepl_order_line`` and ``threepl_shipment`` tables."""

from .service import (
    ORDER_TOPIC,
    SNAPSHOT_REASON,
    Carton,
    ShipmentAdvice,
    ShipmentApplied,
    Short,
    SnapshotApplied,
    AdjustmentsApplied,
    acknowledge,
    acknowledge_order,
    apply_adjustments,
    apply_shipment,
    apply_snapshot,
    mark_flagged,
    mark_sent,
    order_standing,
    queue_new_work,
    reject,
    shipment_of,
    standings,
    location_stock,
    threepl_location,
    threepl_locations,
    unacknowledged,
)

__all__ = [
    "ORDER_TOPIC",
    "SNAPSHOT_REASON",
    "Carton",
    "ShipmentAdvice",
    "ShipmentApplied",
    "Short",
    "SnapshotApplied",
    "AdjustmentsApplied",
    "acknowledge",
    "acknowledge_order",
    "apply_adjustments",
    "apply_shipment",
    "apply_snapshot",
    "mark_flagged",
    "mark_sent",
    "order_standing",
    "queue_new_work",
    "reject",
    "shipment_of",
    "standings",
    "location_stock",
    "threepl_location",
    "threepl_locations",
    "unacknowledged",
]
