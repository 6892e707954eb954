"""Intake: the one door every order comes in by, whatever its source.

A shop's page, an EDI group, a marketplace or a 3PL's feed: each maps what it received onto
`oms.orders.NormalizedOrder` and hands the batch to `take_in`, which imports it (new orders
inserted, known ones reconciled with what changed upstream, the same payload twice changing
nothing) and routes the new and changed orders under the same rules, in the caller's
transaction. An order the domain refuses does not hold back the rest of the batch: it comes
back in the report with the reason, for the caller to quarantine or reject, and nothing of it
is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from sqlalchemy.orm import Session

from oms import orders, routing
from oms.core.audit import Actor
from oms.core.errors import OmsError


@dataclass(frozen=True)
class Refused:
    """An order the domain would not take, and why, in words a person can act on."""

    order: orders.NormalizedOrder
    reason: str


@dataclass
class IntakeReport:
    """What one batch did: per order given, its import result (None where it was refused), and the routing."""

    results: list[orders.ImportResult | None] = field(default_factory=list)
    routed: list[routing.RouteResult] = field(default_factory=list)
    refused: list[Refused] = field(default_factory=list)
    unrouted: list[tuple[int, str]] = field(default_factory=list)  # imported, but routing refused: (order id, why)

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.results if r is not None and r.outcome == outcome)

    @property
    def created(self) -> int:
        return self.count("created")

    @property
    def updated(self) -> int:
        return self.count("updated")

    @property
    def unchanged(self) -> int:
        return self.count("unchanged")


def take_in(session: Session, actor: Actor, batch: Sequence[orders.NormalizedOrder]) -> IntakeReport:
    """Import a batch and route what is new or changed, in the caller's transaction.

    The batch goes in whole when it can; when the domain refuses one of its orders, each order
    goes in on its own savepoint, so the others are kept and the refused ones are reported.
    """
    report = IntakeReport()
    if not batch:
        return report
    try:
        with session.begin_nested():
            report.results = list(orders.import_orders(session, actor, batch))
    except OmsError:
        report.results = []
        for order in batch:
            try:
                with session.begin_nested():
                    (result,) = orders.import_orders(session, actor, [order])
            except OmsError as exc:
                report.refused.append(Refused(order, str(exc)))
                result = None
            report.results.append(result)
    to_route = list(dict.fromkeys(r.order_id for r in report.results if r is not None and r.outcome in ("created", "updated")))
    try:
        with session.begin_nested():
            report.routed = routing.route_orders(session, actor, to_route)
    except OmsError:
        # Each order is kept even when its routing is refused: it waits under "To route" for a person.
        report.routed = []
        for oid in to_route:
            try:
                with session.begin_nested():
                    report.routed += routing.route_orders(session, actor, [oid])
            except OmsError as exc:
                report.unrouted.append((oid, str(exc)))
    return report


__all__ = ["IntakeReport", "Refused", "take_in"]
