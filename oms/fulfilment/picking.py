"""Picks confirmed in one go: a wave's picks in one batch, and one stop of the walk as the picking screen scans it.

Both check every pick as `confirm_pick` does (the task is open, the bin scanned is the task's bin, the item
scanned is the task's product, no more than is left on the task and reserved on the line, the order not on
hold) and write nothing when one is refused. They read the tasks, bins, products, lines and orders once for
the whole batch and write each table in one batched statement, so a wave's picks cost a few statements, not a
few per pick; the picking screen gets back what changed and updates what it shows, without reading the wave again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from oms.catalog.models import Product
from oms.core import audit, validate
from oms.core.audit import Actor
from oms.core.errors import Conflict, NotFound
from oms.core.i18n import _
from oms.core.types import utcnow
from oms.fulfilment.floor import OpenTask, _barcode_map, identify, open_tasks, scan_matches_product
from oms.fulfilment.models import PickTask, Wave, WaveStatus
from oms.inventory.models import Bin, BinStock
from oms.orders import refresh_statuses
from oms.orders.models import OrderLine, SalesOrder


@dataclass(frozen=True)
class PickScan:
    """One pick as scanned: the task, how many units were taken, the bin and the item scanned."""

    task_id: int
    quantity: int
    bin_code: str | None
    item_code: str


@dataclass(frozen=True)
class PickStop:
    """What the picker does at one stop of the walk: one SKU from one bin into one tote (a batch cart gathers several
    orders' tasks of the same SKU and bin)."""

    tasks: tuple[OpenTask, ...]

    @property
    def task_ids(self) -> tuple[int, ...]:
        return tuple(t.task_id for t in self.tasks)

    @property
    def bin_code(self) -> str:
        return self.tasks[0].bin_code

    @property
    def sku(self) -> str:
        return self.tasks[0].sku

    @property
    def description(self) -> str:
        return self.tasks[0].description

    @property
    def tote(self) -> str:
        return self.tasks[0].tote

    @property
    def barcodes(self) -> tuple[str, ...]:
        return self.tasks[0].barcodes

    @property
    def quantity(self) -> int:
        return sum(t.quantity for t in self.tasks)

    @property
    def order_number(self) -> str:
        return ", ".join(dict.fromkeys(t.order_number for t in self.tasks))


@dataclass(frozen=True)
class StopResult:
    """What one stop's confirmation changed: units left on each of its tasks, and whether the wave is now picked."""

    left: dict[int, int]  # task id -> units still to pick on it
    picked: int
    wave_picked: bool


def group_stops(tasks: Sequence[OpenTask]) -> list[PickStop]:
    """Consecutive tasks (walk order) of the same SKU, bin and tote are one stop for the picker."""
    stops: list[list[OpenTask]] = []
    for t in tasks:
        if stops and (stops[-1][0].bin_code, stops[-1][0].sku, stops[-1][0].tote) == (t.bin_code, t.sku, t.tote):
            stops[-1].append(t)
        else:
            stops.append([t])
    return [PickStop(tuple(s)) for s in stops]


def open_stops(session: Session, wave_id: int) -> list[PickStop]:
    """What is left to pick in a wave, stop by stop in walk order."""
    return group_stops(open_tasks(session, wave_id))


def confirm_picks(session: Session, actor: Actor, scans: Sequence[PickScan]) -> dict[int, int]:
    """Confirm many picks in one go, each checked as `confirm_pick` checks it; all of them or, on a refusal, none.

    Returns the units still to pick on each task named.
    """
    return _confirm(session, actor, scans)[0]


def _confirm(session: Session, actor: Actor, scans: Sequence[PickScan]) -> tuple[dict[int, int], set[int]]:
    """confirm_picks(), and the waves it finished."""
    if not scans:
        return {}, set()
    session.flush()
    for sc in scans:
        validate.quantity(sc.quantity)
    ids = list(dict.fromkeys(sc.task_id for sc in scans))
    tasks = {r.id: r for r in session.execute(
        select(PickTask.id, PickTask.wave_id, PickTask.order_line_id, PickTask.product_id, PickTask.bin_id, PickTask.quantity,
               PickTask.picked, PickTask.short, PickTask.status)
        .where(PickTask.id.in_(ids)).with_for_update())}
    for tid in ids:
        if tid not in tasks:
            raise NotFound(_("There is no pick task {id}.").format(id=tid))
    line_ids = list({t.order_line_id for t in tasks.values()})
    lines = {r.id: r for r in session.execute(
        select(OrderLine.id, OrderLine.order_id, OrderLine.sku, OrderLine.allocated, OrderLine.picked)
        .where(OrderLine.id.in_(line_ids)))}
    order_ids = list({l.order_id for l in lines.values()})
    # The orders are locked, as record_pick locks its order: a hold or cancel on another station waits for this.
    held = {r.id: r for r in session.execute(
        select(SalesOrder.id, SalesOrder.number, SalesOrder.on_hold, SalesOrder.hold_reason)
        .where(SalesOrder.id.in_(order_ids)).with_for_update())}
    bin_ids = {t.bin_id for t in tasks.values() if t.bin_id is not None}
    bin_codes = dict(session.execute(select(Bin.id, Bin.code).where(Bin.id.in_(bin_ids))).all()) if bin_ids else {}
    pids = {t.product_id for t in tasks.values()}
    skus = dict(session.execute(select(Product.id, Product.sku).where(Product.id.in_(pids))).all())
    barcodes = _barcode_map(session, pids)

    task_picked = {tid: t.picked for tid, t in tasks.items()}
    line_picked = {lid: l.picked for lid, l in lines.items()}
    taken: dict[tuple[int, int], int] = {}  # (bin, product) -> units
    audit_rows = []
    now = utcnow()
    for sc in scans:
        t = tasks[sc.task_id]
        if t.status != "open":
            raise Conflict(_("This pick is already {status}.").format(status=t.status))
        expected_bin = bin_codes.get(t.bin_id) if t.bin_id is not None else None
        if expected_bin and (sc.bin_code or "").strip() != expected_bin:
            raise Conflict(_("Wrong bin: {got} scanned, the pick is in {want}.").format(got=sc.bin_code or _("none"), want=expected_bin))
        sku = skus[t.product_id]
        if not scan_matches_product(sc.item_code, sku, barcodes.get(t.product_id, [])):
            other = identify(session, sc.item_code)
            raise Conflict(_("Wrong item: {got} scanned, the pick is {want}.").format(got=other or sc.item_code, want=sku))
        left = t.quantity - task_picked[t.id] - t.short
        if sc.quantity > left:
            raise Conflict(_("Only {n} more of {sku} are on this pick.").format(n=left, sku=sku))
        line = lines[t.order_line_id]
        order = held[line.order_id]
        if order.on_hold:
            raise Conflict(_("Order {number} is on hold ({reason}).").format(number=order.number, reason=order.hold_reason))
        if line_picked[line.id] + sc.quantity > line.allocated:
            raise Conflict(_("Only {n} of {sku} are reserved and not yet picked for order {number}.").format(
                n=line.allocated - line_picked[line.id], sku=line.sku, number=order.number))
        task_picked[t.id] += sc.quantity
        line_picked[line.id] += sc.quantity
        if t.bin_id is not None:
            taken[(t.bin_id, t.product_id)] = taken.get((t.bin_id, t.product_id), 0) + sc.quantity
        audit_rows.append({
            "at": now, "user": actor.user[:64], "station": actor.station[:64], "action": "order.picked",
            "entity": "order_line", "entity_id": str(line.id), "order_id": line.order_id,
            "summary": (_("Picked {qty} × {sku} from {bin}").format(qty=sc.quantity, sku=line.sku, bin=expected_bin)
                        if expected_bin else _("Picked {qty} × {sku}").format(qty=sc.quantity, sku=line.sku))[:300],
            "before": None, "after": {"bin_id": t.bin_id, "quantity": sc.quantity}})

    conn = session.connection()
    multi = conn.dialect.supports_sane_multi_rowcount
    line_rows = [{"lid": lid, "q": line_picked[lid] - lines[lid].picked} for lid in lines if line_picked[lid] != lines[lid].picked]
    lt = OrderLine.__table__
    done = conn.execute(update(lt).where(lt.c.id == bindparam("lid"), lt.c.picked + bindparam("q") <= lt.c.allocated)
                        .values(picked=lt.c.picked + bindparam("q")), line_rows).rowcount
    if multi and done != len(line_rows):
        raise Conflict(_("Another station picked or released these units meanwhile; look at the pick again."))
    if taken:
        bt = BinStock.__table__
        done = conn.execute(update(bt).where(bt.c.bin_id == bindparam("b"), bt.c.product_id == bindparam("p"),
                                             bt.c.on_hand >= bindparam("q")).values(on_hand=bt.c.on_hand - bindparam("q")),
                            [{"b": b, "p": p, "q": q} for (b, p), q in taken.items()]).rowcount
        if multi and done != len(taken):
            raise Conflict(_("A bin holds fewer units than these picks took: count it, or report the pick short."))
    tt = PickTask.__table__
    task_rows = [{"tid": tid, "old": tasks[tid].picked, "new": task_picked[tid],
                  "st": "done" if task_picked[tid] + tasks[tid].short >= tasks[tid].quantity else "open"} for tid in ids]
    done = conn.execute(update(tt).where(tt.c.id == bindparam("tid"), tt.c.picked == bindparam("old"), tt.c.status == "open")
                        .values(picked=bindparam("new"), status=bindparam("st")), task_rows).rowcount
    if multi and done != len(task_rows):
        raise Conflict(_("Another station confirmed this pick meanwhile."))
    session.expire_all()  # the ORM's copies of these rows are behind the batched updates
    refresh_statuses(session, order_ids)
    audit.record_many(session, audit_rows)
    finished = _finish_waves(session, {t.wave_id for t in tasks.values()})
    return {tid: tasks[tid].quantity - task_picked[tid] - tasks[tid].short for tid in ids}, finished


def _finish_waves(session: Session, wave_ids: set[int]) -> set[int]:
    """Close as picked those of these waves with no open task left; returns them."""
    still_open = set(session.scalars(select(PickTask.wave_id).where(PickTask.wave_id.in_(wave_ids), PickTask.status == "open")
                                     .group_by(PickTask.wave_id)))
    finished = wave_ids - still_open
    if finished:
        session.execute(update(Wave).where(Wave.id.in_(finished), Wave.status == WaveStatus.OPEN.value)
                        .values(status=WaveStatus.PICKED.value, closed_at=utcnow()))
    return finished


def pick_stop(session: Session, actor: Actor, task_ids: Sequence[int], quantity: int, *, bin_code: str | None,
              item_code: str) -> StopResult:
    """The picker took ``quantity`` units at one stop: they fill the stop's tasks one after the other (a batch cart's
    orders in turn). Returns what is left on each task, for the screen to show without reading the wave again."""
    validate.quantity(quantity)
    left_now = dict(session.execute(select(PickTask.id, PickTask.quantity - PickTask.picked - PickTask.short)
                                    .where(PickTask.id.in_(list(task_ids)), PickTask.status == "open")).all())
    scans, rest = [], quantity
    for tid in task_ids:
        take = min(rest, left_now.get(tid, 0))
        if take <= 0:
            continue
        scans.append(PickScan(tid, take, bin_code, item_code))
        rest -= take
    if rest > 0:
        raise Conflict(_("Only {n} more of {sku} are on this pick.").format(n=quantity - rest, sku=item_code))
    left, finished = _confirm(session, actor, scans)
    return StopResult({tid: left.get(tid, left_now.get(tid, 0)) for tid in task_ids}, quantity, bool(finished))
