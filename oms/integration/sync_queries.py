"""Read-only views for the sync screens: connector overview, failed outbox messages, demo SKUs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from oms.catalog.models import Product
from oms.core.models import OutboxMessage
from oms.integration import sync_store
from oms.integration.models import QuarantinedPayload
from oms.inventory.models import StockLevel
from oms.orders.models import Channel, OrderLine, OrderStatus, SalesOrder
from oms.partners.models import TradingPartner

PACKABLE = (OrderStatus.PICKING.value, OrderStatus.PARTIALLY_SHIPPED.value)  # picked units can only wait in these


@dataclass(frozen=True)
class SyncOverview:
    """Everything the status bar says about sync, read in one session."""

    connectors: tuple[sync_store.ConnectorStatus, ...]
    quarantined: int  # open payloads from shops and carriers a person must look at (EDI ones: the Documents screen)
    to_pack: int  # orders with picked units waiting at the packing bench, as the Packing screen means it


def overview(session: Session) -> SyncOverview:
    return SyncOverview(
        tuple(sync_store.statuses(session)),
        int(session.scalar(select(func.count()).select_from(QuarantinedPayload).where(
            QuarantinedPayload.status == "open", QuarantinedPayload.connector.not_in(select(TradingPartner.code))))),
        waiting_to_be_packed(session),
    )


def waiting_to_be_packed(session: Session) -> int:
    """Orders not on hold with units picked and not yet packed: the totes waiting at the packing bench."""
    picked_not_packed = (select(OrderLine.id).where(OrderLine.order_id == SalesOrder.id, OrderLine.picked > OrderLine.packed)
                         .exists())
    return int(session.scalar(select(func.count()).select_from(SalesOrder).where(
        SalesOrder.status.in_(PACKABLE), SalesOrder.on_hold.is_(False), picked_not_packed)))


@dataclass(frozen=True)
class FailedMessage:
    id: int
    destination: str
    topic: str
    order_number: str  # "" when the message is not about one order
    attempts: int
    error: str  # the remote's own words
    created_at: datetime


def failed_messages(session: Session, destination: str | None = None, *, limit: int = 200) -> list[FailedMessage]:
    """Outbox messages the remote refused for good, newest first."""
    q = (select(OutboxMessage, SalesOrder.number).outerjoin(SalesOrder, SalesOrder.id == OutboxMessage.order_id)
         .where(OutboxMessage.status == "failed").order_by(OutboxMessage.id.desc()).limit(limit))
    if destination:
        q = q.where(OutboxMessage.destination == destination)
    return [FailedMessage(m.id, m.destination, m.topic, number or "", m.attempts, m.last_error, m.created_at)
            for m, number in session.execute(q)]


def demo_skus(session: Session, n: int = 8) -> list[str]:
    """SKUs of active products with the most stock free to sell: demo orders that can be shipped."""
    free = func.sum(StockLevel.on_hand - StockLevel.allocated)
    q = (select(Product.sku).join(StockLevel, StockLevel.product_id == Product.id).where(Product.active.is_(True))
         .group_by(Product.id, Product.sku).having(free > 0).order_by(free.desc(), Product.sku).limit(n))
    return list(session.scalars(q))


def highest_order_number(session: Session, channel_code: str) -> int:
    """The highest number among a channel's order numbers ("#1042" -> 1042); 0 when it has none."""
    numbers = session.scalars(select(SalesOrder.number).join(Channel, Channel.id == SalesOrder.channel_id)
                              .where(Channel.code == channel_code))
    found = [int(digits) for n in numbers if (digits := "".join(ch for ch in n if ch.isdigit()))]
    return max(found, default=0)
