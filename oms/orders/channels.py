"""Sales channels: where orders come from and which kind of order each brings by default."""

from __future__ import annotations

from sqlalchemy.orm import Session

from oms.core import audit, validate
from oms.core.audit import Actor
from oms.core.errors import InvalidInput
from oms.core.i18n import _
from oms.core.types import NAME, SHORT
from oms.core.validate import unique
from oms.orders.models import Channel, OrderType


def add_channel(session: Session, actor: Actor, code: str, name: str, kind: str,
                default_order_type: str = OrderType.DTC.value) -> int:
    code = validate.text(code, "channel code", SHORT, required=True)
    name = validate.text(name, "channel name", NAME, required=True)
    kind = validate.text(kind, "channel kind", SHORT, required=True)
    if default_order_type not in {o.value for o in OrderType}:
        raise InvalidInput(_("{value!r} is not an order type.").format(value=default_order_type))
    unique(session, Channel.code, code, _("channel"))
    channel = Channel(code=code, name=name, kind=kind, default_order_type=default_order_type)
    session.add(channel)
    session.flush()
    audit.record(session, actor, "channel.added", "channel", channel.id, summary=f"{code}: {name} ({kind})")
    return channel.id
