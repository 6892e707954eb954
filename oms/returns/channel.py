"""Returns that come from a sales channel: a shop's refund with items sent back (Shopify's refund line items restocked
as a return; a WooCommerce refund with its items) becomes an RMA, requested, through the same door as one opened at the
desk: never more than shipped, once however often the channel tells us."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from oms.core.audit import Actor
from oms.core.errors import OmsError
from oms.core.i18n import _
from oms.orders.models import Channel, OrderLine, SalesOrder
from oms.returns.models import Resolution, Rma
from oms.returns.rmas import RmaLineInput, create_rma


@dataclass(frozen=True)
class ChannelReturn:
    """A channel's return: its own id for it (unique within the channel), the order's id in the channel, and the
    units of each of the order's lines (the channel's line id) that come back."""

    external_id: str
    order_external_id: str
    lines: tuple[tuple[str, int], ...]
    note: str = ""
    resolution: str = Resolution.REFUND.value
    reason: str = "OTHER"


def take_in_channel_return(session: Session, actor: Actor, channel: str, ret: ChannelReturn) -> str | None:
    """Open the RMA a channel's return asks for (requested); None when done or already done, else why it was refused,
    in words (nothing written), for the caller to keep for a person."""
    if session.scalar(select(Rma.id).where(Rma.source == channel, Rma.external_id == ret.external_id)):
        return None
    order = session.execute(select(SalesOrder.id, SalesOrder.number).join(Channel, Channel.id == SalesOrder.channel_id)
                            .where(Channel.code == channel, SalesOrder.external_id == ret.order_external_id)).first()
    if order is None:
        return _("{channel} return {ref}: order {order} is not here.").format(channel=channel, ref=ret.external_id,
                                                                              order=ret.order_external_id)
    skus = dict(session.execute(select(OrderLine.external_line_id, OrderLine.sku).where(OrderLine.order_id == order.id)).all())
    lines = []
    for line_ref, qty in ret.lines:
        if line_ref not in skus:
            return _("{channel} return {ref}: line {line} is not on order {order}.").format(
                channel=channel, ref=ret.external_id, line=line_ref, order=order.number)
        lines.append(RmaLineInput(skus[line_ref], qty))
    try:
        with session.begin_nested():
            create_rma(session, actor, order.id, lines, reason=ret.reason, note=ret.note[:300], resolution=ret.resolution,
                       source=channel, external_id=ret.external_id)
    except OmsError as exc:
        return _("{channel} return {ref} on order {order}: {why}").format(channel=channel, ref=ret.external_id,
                                                                          order=order.number, why=exc)
    return None
