"""Re-routing orders by hand: the dialog that asks why (the domain's ``routing.reroute`` decides whether it may)."""

from __future__ import annotations

from desktop.dialogs import ReasonDialog
from desktop.qt import QCoreApplication, QWidget


def _t(text: str) -> str:
    return QCoreApplication.translate("Reroute", text)


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
