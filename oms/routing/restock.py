"""Stock that comes in (receipts, returns put back, counts that find more, transfers) and the backorders it releases.

The ledger (``inventory``) changes the stock and says what it changed; routing builds on the ledger.
Releasing the orders that waited for the stock is the step above both, taken here, so neither imports
the other in a circle. Call these where a person or a partner brings stock; call ``inventory`` directly
only where no order can be waiting (a test's opening stock, a benchmark).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from oms import inventory, routing
from oms.core.audit import Actor
from oms.inventory.stock import StockChange


def _released(session: Session, actor: Actor, change: StockChange) -> StockChange:
    if change.arrived:
        routing.release_backorders(session, actor, [change.product_id])  # oldest promise first
    return change


def receive(session: Session, actor: Actor, product: int | str, location: int | str, qty: int, **kw) -> StockChange:
    """Units arrive (a receipt, or a return put back on the shelf); orders waiting for them are routed."""
    return _released(session, actor, inventory.receive(session, actor, product, location, qty, **kw))


def adjust(session: Session, actor: Actor, product: int | str, location: int | str, delta: int, reason: str,
           **kw) -> StockChange:
    """Correct on-hand stock with a reason; found units release waiting orders."""
    return _released(session, actor, inventory.adjust(session, actor, product, location, delta, reason, **kw))


def count(session: Session, actor: Actor, product: int | str, location: int | str, counted: int, **kw) -> StockChange:
    """Record a physical count; units found release waiting orders."""
    return _released(session, actor, inventory.count(session, actor, product, location, counted, **kw))


def transfer(session: Session, actor: Actor, product: int | str, qty: int, **kw) -> StockChange:
    """Move units between bins or locations; units that reach another location release orders waiting there."""
    return _released(session, actor, inventory.transfer(session, actor, product, qty, **kw))


def transfer_in(session: Session, actor: Actor, product: int | str, location: int | str, qty: int, **kw) -> StockChange:
    """A transfer's units arrive at their location; orders waiting for them are routed."""
    return _released(session, actor, inventory.transfer_in(session, actor, product, location, qty, **kw))
