"""Re-routing orders by hand: the reason dialog, and the check that refuses once picking has started."""

from __future__ import annotations

from sqlalchemy import func, select

from desktop.dialogs import ReasonDialog
from desktop.qt import QCoreApplication, QWidget
from oms import routing
from oms.audit import Actor
from oms.errors import Conflict
from oms.models import OrderLine, SalesOrder

# Once someone has started picking or packing, the order's stock is in a tote: moving it is a floor decision.
STARTED = frozenset({"picking", "packed", "partially_shipped"})
CLOSED = frozenset({"shipped", "delivered", "cancelled"})


def _t(text: str) -> str:
    return QCoreApplication.translate("Reroute", text)


def refusal(status: str, on_hold: bool, picked_units: int) -> str | None:
    """Why an order cannot be re-routed now, in words for the person asking; None when it can."""
    if status in CLOSED:
        return _t("The order is {status}; it can no longer be re-routed.").format(status=status.replace("_", " "))
    if status in STARTED or picked_units > 0:
        return _t("Picking or packing has started; re-routing would strand the picked items. "
                  "Take it up with the floor supervisor.")
    if on_hold:
        return _t("The order is on hold; release the hold first, then re-route it.")
    return None


def reroute_order(session, actor: Actor, order_id: int, reason: str) -> routing.RouteResult:
    """Re-route one order in the caller's transaction, refused while picking or packing is under way."""
    head = session.execute(select(SalesOrder.number, SalesOrder.status, SalesOrder.on_hold)
                           .where(SalesOrder.id == order_id)).first()
    if head is not None:
        picked = int(session.scalar(select(func.coalesce(func.sum(OrderLine.picked + OrderLine.packed), 0))
                                    .where(OrderLine.order_id == order_id)) or 0)
        why = refusal(head.status, bool(head.on_hold), picked)
        if why:
            raise Conflict(_t("{number}: {why}").format(number=head.number, why=why))
    return routing.reroute(session, actor, order_id, reason=reason)


def reroute_reasons() -> tuple[str, ...]:
    return (
        _t("Warehouse cannot ship it today"),
        _t("Stock count at the location is wrong"),
        _t("Routing rules changed"),
    )


class RerouteDialog(ReasonDialog):
    """Asks why before orders are re-routed (one reason for all of them)."""

    def __init__(self, parent: QWidget | None, count: int, number: str = "") -> None:
        if count == 1 and number:
            title = _t("Re-route {number}").format(number=number)
            message = _t("Give back what {number} has reserved and route it again with the current rules? "
                         "The reason is kept on the order's timeline.").format(number=number)
        else:
            title = _t("Re-route {n} orders").format(n=count)
            message = _t("Give back what the {n} selected orders have reserved and route each again with the current "
                         "rules? Orders already being picked or packed are left as they are.").format(n=count)
        super().__init__(parent, title, message, _t("Re-route"), suggestions=reroute_reasons())
        self.setObjectName("rerouteDialog")
