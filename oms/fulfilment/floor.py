"""The fulfilment floor: waves and pick lists, scan-checked picking and packing, short picks, SSCCs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable, Mapping, Sequence

from sqlalchemy import and_, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from oms import desk, inventory, orders, routing, users
from oms.catalog.models import Barcode, Product
from oms.core import audit, validate, wording
from oms.core.audit import Actor
from oms.core.errors import Conflict, InvalidInput, NotFound, SeveralMatches
from oms.core.gs1 import classify_scan, is_valid_gtin, normalize_gtin, sscc as make_sscc
from oms.core.i18n import _
from oms.core.types import NAME, utcnow
from oms.fulfilment.models import BoxPreset, PickTask, Wave, WaveOrder, WaveStatus
from oms.inventory import stock
from oms.inventory.models import Bin, BinStock, Location
from oms.orders import lifecycle
from oms.orders.models import Allocation, Channel, OrderLine, OrderStatus, OrderType, SalesOrder
from oms.routing import restock
from oms.shipping import shipments
from oms.shipping.models import Package, Pallet, Shipment, SsccCounter
from oms.users import require

SERVICE_RANK = {"overnight": 0, "expedited": 1}
NO_BIN_SEQUENCE = 10**9


# -- what the documents and screens see ------------------------------------------------------


@dataclass(frozen=True)
class PickTaskView:
    sequence: int  # walk order
    bin_code: str  # "" when the stock is not in a bin
    sku: str
    description: str
    quantity: int
    tote: str
    order_numbers: tuple[str, ...]
    barcode: str | None  # the product's GTIN/EAN/UPC when it has one


@dataclass(frozen=True)
class PickListData:
    wave_id: int
    wave_name: str
    location_code: str
    location_name: str
    created_at: datetime
    cutoff_at: datetime | None
    batch_pick: bool
    order_count: int
    unit_count: int
    tasks: tuple[PickTaskView, ...]  # grouped by SKU+bin, in walk order


@dataclass(frozen=True)
class WaveResult:
    wave_id: int
    orders: int
    units: int
    tasks: int


@dataclass(frozen=True)
class OpenTask:
    """One pick the picker does next: the screen shows it, the scanner confirms it."""

    task_id: int
    sequence: int
    bin_code: str
    sku: str
    description: str
    quantity: int  # still to pick
    tote: str
    order_number: str
    barcodes: tuple[str, ...]


# -- waves -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WaveFilters:
    """Which Ready-to-pick orders a new wave takes: the same choices count them before the wave is built."""

    channel: str | None = None
    order_type: str | None = None
    single_unit: bool | None = None  # True: single-unit orders only; False: multi-unit only
    ship_by_before: datetime | None = None


# The statuses a wave takes orders in, each with what else it asks: a wholesale order ships what is here now and
# the rest when it arrives (the 855 said so); a consumer's order waits until all of it can go in one box.
_READY = ((OrderStatus.ALLOCATED.value, None), (OrderStatus.PARTIALLY_SHIPPED.value, None),
          (OrderStatus.PARTIALLY_ALLOCATED.value, OrderType.WHOLESALE.value))


def _ready_conditions(session: Session, lid: int, filters: WaveFilters) -> list:
    """Everything "ready for a new wave here" asks of an order but its status: not held, something reserved here,
    not in an open wave of this location, and the filters.

    "Reserved here" goes from the order to its few lines and looks each line's allocation up by its unique
    (line, location) key: a handful of index probes per order, whatever the location holds. (Asked the other way
    round, from the location's allocations to the order, it read every allocation of a busy warehouse per order.)
    """
    reserved_here = exists().where(Allocation.order_line_id == OrderLine.id, Allocation.location_id == lid)
    has_here = exists(select(OrderLine.id).where(OrderLine.order_id == SalesOrder.id, reserved_here))
    in_open_wave = exists().where(
        WaveOrder.order_id == SalesOrder.id, WaveOrder.wave_id == Wave.id, Wave.location_id == lid,
        Wave.status == WaveStatus.OPEN.value)
    conds = [SalesOrder.on_hold.is_(False), has_here, ~in_open_wave]
    if filters.channel:
        cid = session.scalar(select(Channel.id).where(Channel.code == filters.channel))
        if cid is None:
            raise NotFound(_("There is no sales channel {code}.").format(code=filters.channel))
        conds.append(SalesOrder.channel_id == cid)
    if filters.order_type:
        conds.append(SalesOrder.order_type == filters.order_type)
    if filters.single_unit is True:
        conds.append(SalesOrder.unit_count == 1)
    elif filters.single_unit is False:
        conds.append(SalesOrder.unit_count > 1)
    if filters.ship_by_before is not None:
        validate.aware(filters.ship_by_before, "cut-off")
        conds.append(SalesOrder.ship_by <= filters.ship_by_before)
    return conds


def _status_condition(status: str, order_type: str | None):
    return and_(SalesOrder.status == status, SalesOrder.order_type == order_type) if order_type else SalesOrder.status == status


def _wave_candidates(session: Session, lid: int, filters: WaveFilters, limit: int) -> list:
    """The first ``limit`` orders ready for a new wave here, most urgent first: rows of (id, number, unit_count, ...).

    Urgency is the promised ship-by (orders without one last), then the time placed. Each ready status is read
    on its own along the index on (status, ship_by, placed_at, id), so that the database stops after ``limit``
    orders instead of sorting the whole backlog; the few lists are merged here. Orders without a ship-by are read
    only when those with one fall short.
    """
    conds = _ready_conditions(session, lid, filters)
    cols = (SalesOrder.id, SalesOrder.number, SalesOrder.unit_count, SalesOrder.ship_by, SalesOrder.placed_at)
    promised: list = []
    for status, order_type in _READY:
        promised += session.execute(
            select(*cols).where(_status_condition(status, order_type), SalesOrder.ship_by.is_not(None), *conds)
            .order_by(SalesOrder.ship_by, SalesOrder.placed_at, SalesOrder.id).limit(limit)).all()
    promised.sort(key=lambda r: (r.ship_by, r.placed_at, r.id))
    rows = promised[:limit]
    if len(rows) < limit and filters.ship_by_before is None:
        unpromised: list = []
        for status, order_type in _READY:
            unpromised += session.execute(
                select(*cols).where(_status_condition(status, order_type), SalesOrder.ship_by.is_(None), *conds)
                .order_by(SalesOrder.placed_at, SalesOrder.id).limit(limit - len(rows))).all()
        unpromised.sort(key=lambda r: (r.placed_at, r.id))
        rows += unpromised[:limit - len(rows)]
    return rows


def ready_for_wave(session: Session, location: int | str, filters: WaveFilters = WaveFilters()) -> int:
    """How many orders a wave built here with these filters could take (before its size limit)."""
    lid = inventory.location_id(session, location)
    ready = or_(*(_status_condition(status, order_type) for status, order_type in _READY))
    return session.scalar(select(func.count()).select_from(SalesOrder).where(ready, *_ready_conditions(session, lid, filters))) or 0


def build_wave(
    session: Session,
    actor: Actor,
    location: int | str,
    *,
    channel: str | None = None,
    order_type: str | None = None,
    single_unit: bool | None = None,
    ship_by_before: datetime | None = None,
    cutoff_at: datetime | None = None,
    limit: int = 40,
    name: str = "",
) -> WaveResult:
    """A wave of Ready-to-pick orders of one location: most urgent first, tasks in bin walk order.

    single_unit=True makes a batch wave (single-unit orders picked by SKU onto one cart);
    otherwise every order gets a tote of its own.
    """
    validate.quantity(limit, "wave size")
    lid = inventory.location_id(session, location)
    loc_code = session.scalar(select(Location.code).where(Location.id == lid))
    deadline = ship_by_before or cutoff_at
    candidates = _wave_candidates(session, lid, WaveFilters(channel, order_type, single_unit, deadline), limit * 4)
    services = dict(session.execute(select(SalesOrder.id, SalesOrder.service_level)
                                    .where(SalesOrder.id.in_([c.id for c in candidates]))).all()) if candidates else {}
    # Faster services go out first; within them, the ship-by order above stands.
    candidates.sort(key=lambda c: SERVICE_RANK.get(services.get(c.id, ""), 2))
    chosen = candidates[:limit]
    if not chosen:
        raise Conflict(_("No orders at {loc} are ready to pick with these filters.").format(loc=loc_code))
    batch = single_unit is True
    wave = Wave(location_id=lid, name=validate.text(name, "wave name", NAME) or
                _("{loc} {when:%a %H:%M} {kind}").format(loc=loc_code, when=utcnow(), kind=_("singles") if batch else _("orders")),
                status=WaveStatus.OPEN.value, batch_pick=batch, cutoff_at=cutoff_at, created_by=actor.user,
                filters={"channel": channel, "order_type": order_type, "single_unit": single_unit,
                         "ship_by_before": deadline.isoformat() if deadline else None, "limit": limit})
    session.add(wave)
    session.flush()
    totes = {}
    for i, c in enumerate(chosen, 1):
        totes[c.id] = f"CART-{wave.id}" if batch else f"T{wave.id}-{i:02d}"
    session.execute(insert(WaveOrder), [{"wave_id": wave.id, "order_id": c.id, "tote": totes[c.id]} for c in chosen])
    tasks = _plan_tasks(session, wave.id, lid, totes)
    session.execute(insert(PickTask), tasks)
    units = sum(t["quantity"] for t in tasks)
    audit.record(session, actor, "wave.built", "wave", wave.id,
                 summary=_("Wave {name}: {n} orders, {units} units").format(name=wave.name, n=len(chosen), units=units),
                 after={"orders": [c.id for c in chosen]})
    now = utcnow()
    audit.record_many(session, [
        {"at": now, "user": actor.user[:64], "station": actor.station[:64], "action": "order.waved", "entity": "order",
         "entity_id": str(c.id), "order_id": c.id, "before": None, "after": None,
         "summary": _("Added to wave {name}, tote {tote}").format(name=wave.name, tote=totes[c.id])[:300]} for c in chosen])
    return WaveResult(wave.id, len(chosen), units, len(tasks))


def _plan_tasks(session: Session, wave_id: int, lid: int, totes: dict[int, str]) -> list[dict]:
    """Tasks for every unpicked allocated unit of the wave's orders, drawn from bins in walk order."""
    # Lines by their orders, then each line's allocation here by its (line, location) key: joined in one
    # statement, the database may start from the location's allocations and read the whole backlog's.
    lines = session.execute(select(OrderLine.id, OrderLine.order_id, OrderLine.product_id, OrderLine.picked)
                            .where(OrderLine.order_id.in_(list(totes))).order_by(OrderLine.order_id, OrderLine.id)).all()
    here = dict(session.execute(select(Allocation.order_line_id, Allocation.quantity).where(
        Allocation.order_line_id.in_([l.id for l in lines]), Allocation.location_id == lid)).all()) if lines else {}
    return _draw_from_bins(session, wave_id, lid, [(l.id, l.product_id, here[l.id] - l.picked, totes[l.order_id])
                                                   for l in lines if l.id in here])


def _draw_from_bins(session: Session, wave_id: int, lid: int, needs: list[tuple[int, int, int, str]]) -> list[dict]:
    """Task rows for (line id, product id, units, tote) needs, from the bins in walk order that still hold
    units no open task has claimed; what no bin holds becomes a "no bin" task."""
    pids = {n[1] for n in needs}
    bins: dict[int, list[list]] = {}
    # The products' bins first (by product), then which of them are here and where on the walk: asked in one join,
    # the database walks every bin of the location in walk order and probes each for each product.
    held = session.execute(select(BinStock.product_id, BinStock.bin_id, BinStock.on_hand)
                           .where(BinStock.product_id.in_(pids), BinStock.on_hand > 0)).all()
    walk = dict(session.execute(select(Bin.id, Bin.pick_sequence).where(
        Bin.id.in_({h.bin_id for h in held}), Bin.location_id == lid)).all()) if held else {}
    for pid, bid, qty in sorted((h for h in held if h.bin_id in walk), key=lambda h: (walk[h.bin_id], h.bin_id)):
        bins.setdefault(pid, []).append([bid, walk[bid], qty])
    # Units already promised to open tasks (of any open wave) are not there for these.
    for bid, pid, promised in session.execute(
            select(PickTask.bin_id, PickTask.product_id, func.sum(PickTask.quantity - PickTask.picked - PickTask.short))
            .join(Wave, Wave.id == PickTask.wave_id)
            .where(Wave.status == WaveStatus.OPEN.value, PickTask.status == "open", PickTask.product_id.in_(pids),
                   PickTask.bin_id.is_not(None))
            .group_by(PickTask.bin_id, PickTask.product_id)):
        for entry in bins.get(pid, []):
            if entry[0] == bid:
                entry[2] -= promised
    tasks = []
    for line_id, pid, need, tote in needs:
        for entry in bins.get(pid, []):
            if need <= 0:
                break
            take = min(need, entry[2])
            if take <= 0:
                continue
            entry[2] -= take
            need -= take
            tasks.append({"wave_id": wave_id, "order_line_id": line_id, "product_id": pid, "bin_id": entry[0],
                          "sequence": entry[1], "quantity": take, "tote": tote, "status": "open"})
        if need > 0:
            tasks.append({"wave_id": wave_id, "order_line_id": line_id, "product_id": pid, "bin_id": None,
                          "sequence": NO_BIN_SEQUENCE, "quantity": need, "tote": tote, "status": "open"})
    return tasks


def _match_tasks_to_reservations(session: Session, order_ids: Iterable[int]) -> set[int]:
    """After a short pick has sent orders back to routing, make their open waves ask for what is reserved now.

    A line that routing left at the wave's warehouse gets a task at another bin that holds it; a line that
    went elsewhere (or to a backorder) loses the open tasks nobody can pick here any more.
    """
    order_ids = list(dict.fromkeys(order_ids))
    if not order_ids:
        return set()
    session.flush()
    waved = session.execute(
        select(WaveOrder.wave_id, WaveOrder.order_id, WaveOrder.tote, Wave.location_id)
        .join(Wave, Wave.id == WaveOrder.wave_id)
        .where(WaveOrder.order_id.in_(order_ids), Wave.status == WaveStatus.OPEN.value)).all()
    for wave_id, order_id, tote, lid in waved:
        needs = []
        for line in session.scalars(select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.id)):
            here = session.scalar(select(func.coalesce(func.sum(Allocation.quantity), 0)).where(
                Allocation.order_line_id == line.id, Allocation.location_id == lid)) or 0
            want = max(0, here - line.picked)
            tasks = session.scalars(
                select(PickTask).outerjoin(BinStock, and_(BinStock.bin_id == PickTask.bin_id,
                                                          BinStock.product_id == PickTask.product_id))
                .where(PickTask.wave_id == wave_id, PickTask.order_line_id == line.id, PickTask.status == "open")
                # Emptiest bins give up their tasks first.
                .order_by(func.coalesce(BinStock.on_hand, 0), PickTask.sequence.desc())).all()
            asked = sum(t.quantity - t.picked - t.short for t in tasks)
            excess = asked - want
            for t in tasks:
                if excess <= 0:
                    break
                cut = min(excess, t.quantity - t.picked - t.short)
                excess -= cut
                if t.picked + t.short == 0 and cut == t.quantity:
                    t.status = "cancelled"
                elif cut:
                    t.quantity -= cut
                    if t.quantity == t.picked + t.short:
                        t.status = "short" if t.short else "done"
            if excess < 0:
                needs.append((line.id, line.product_id, -excess, tote))
        session.flush()
        if needs:
            session.execute(insert(PickTask), _draw_from_bins(session, wave_id, lid, needs))
            session.flush()
    return {w[0] for w in waved}


def reroute_order(session: Session, actor: Actor, order_id: int, *, reason: str) -> routing.RouteResult:
    """Re-route an order (routing.reroute) and make its open wave ask for what is reserved now: a line that went to
    another warehouse (or to a backorder) loses its open pick tasks, so no picker walks to a bin for it."""
    result = routing.reroute(session, actor, order_id, reason=reason)
    for wave_id in _match_tasks_to_reservations(session, [order_id]):
        _maybe_finish_wave(session, wave_id)
    return result


def _barcode_map(session: Session, pids: Iterable[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for pid, kind, code in session.execute(select(Barcode.product_id, Barcode.kind, Barcode.code)
                                           .where(Barcode.product_id.in_(list(set(pids)))).order_by(Barcode.id)):
        out.setdefault(pid, []).append(code)
    return out


def _gtin_of(codes: list[str]) -> str | None:
    return next((c for c in codes if c.isdigit() and is_valid_gtin(c)), None)


def pick_list(session: Session, wave_id: int) -> PickListData:
    """The printable pick list: the same SKU in the same bin on one line, in walk order."""
    wave = session.get(Wave, wave_id)
    if wave is None:
        raise NotFound(_("There is no wave {id}.").format(id=wave_id))
    loc = session.get(Location, wave.location_id)
    rows = session.execute(
        select(PickTask.sequence, Bin.code, Product.id, Product.sku, Product.name, PickTask.quantity - PickTask.picked - PickTask.short,
               PickTask.tote, SalesOrder.number)
        .join(Product, Product.id == PickTask.product_id)
        .join(OrderLine, OrderLine.id == PickTask.order_line_id)
        .join(SalesOrder, SalesOrder.id == OrderLine.order_id)
        .outerjoin(Bin, Bin.id == PickTask.bin_id)
        .where(PickTask.wave_id == wave_id, PickTask.status == "open")
        .order_by(PickTask.sequence, Product.sku, PickTask.tote)).all()
    barcodes = _barcode_map(session, {r[2] for r in rows})
    grouped: dict[tuple, dict] = {}
    for seq, bin_code, pid, sku, name, qty, tote, number in rows:
        key = (seq, bin_code or "", sku)
        g = grouped.setdefault(key, {"qty": 0, "totes": [], "orders": [], "name": name, "pid": pid})
        g["qty"] += qty
        if tote not in g["totes"]:
            g["totes"].append(tote)
        if number not in g["orders"]:
            g["orders"].append(number)
    tasks = tuple(
        PickTaskView(seq if seq != NO_BIN_SEQUENCE else 0, bin_code, sku, g["name"], g["qty"], ", ".join(g["totes"]),
                     tuple(g["orders"]), _gtin_of(barcodes.get(g["pid"], [])))
        for (seq, bin_code, sku), g in sorted(grouped.items(), key=lambda kv: (kv[0][0], kv[0][2])))
    n_orders = session.scalar(select(func.count()).select_from(WaveOrder).where(WaveOrder.wave_id == wave_id))
    return PickListData(wave.id, wave.name, loc.code, loc.name, wave.created_at, wave.cutoff_at, wave.batch_pick, n_orders,
                        sum(t.quantity for t in tasks), tasks)


def open_tasks(session: Session, wave_id: int) -> list[OpenTask]:
    """What is left to pick in a wave, in walk order (one entry per task)."""
    rows = session.execute(
        select(PickTask.id, PickTask.sequence, Bin.code, Product.id, Product.sku, Product.name,
               PickTask.quantity - PickTask.picked - PickTask.short, PickTask.tote, SalesOrder.number)
        .join(Product, Product.id == PickTask.product_id)
        .join(OrderLine, OrderLine.id == PickTask.order_line_id)
        .join(SalesOrder, SalesOrder.id == OrderLine.order_id)
        .outerjoin(Bin, Bin.id == PickTask.bin_id)
        .where(PickTask.wave_id == wave_id, PickTask.status == "open")
        .order_by(PickTask.sequence, Product.sku, PickTask.id)).all()
    barcodes = _barcode_map(session, {r[3] for r in rows})
    return [OpenTask(r[0], r[1], r[2] or "", r[4], r[5], r[6], r[7], r[8], tuple(barcodes.get(r[3], []))) for r in rows]


def scan_matches_product(code: str, sku: str, barcodes: Sequence[str]) -> bool:
    """Whether a scanned code names this product: its SKU, one of its barcodes, or GS1 data carrying its GTIN."""
    code = code.strip()
    if not code:
        return False
    if code == sku or code in barcodes:
        return True
    try:
        scan = classify_scan(code)
    except InvalidInput:
        return False
    gtin = scan.gtin if scan.kind in ("gtin", "gs1") else None
    if not gtin:
        return False
    return any(is_valid_gtin(b) and normalize_gtin(b) == gtin for b in barcodes if b.isdigit())


def identify(session: Session, code: str) -> str | None:
    """The SKU a scanned code stands for, if any (SKU, barcode, or GTIN inside GS1 data)."""
    code = code.strip()
    sku = session.scalar(select(Product.sku).where(Product.sku == code))
    if sku:
        return sku
    sku = session.scalar(select(Product.sku).join(Barcode, Barcode.product_id == Product.id).where(Barcode.code == code))
    if sku:
        return sku
    try:
        scan = classify_scan(code)
    except InvalidInput:
        return None
    if scan.kind in ("gtin", "gs1") and scan.gtin:
        forms = {scan.gtin, scan.gtin[1:], scan.gtin[2:], scan.gtin.lstrip("0")}
        return session.scalar(select(Product.sku).join(Barcode, Barcode.product_id == Product.id).where(Barcode.code.in_(forms)).limit(1))
    return None


def confirm_pick(session: Session, actor: Actor, task_id: int, quantity: int, *, bin_code: str | None, item_code: str) -> int:
    """The picker scanned the bin and the item and took ``quantity`` units; returns what is left on the task."""
    validate.quantity(quantity)
    task = session.get(PickTask, task_id, with_for_update=True)
    if task is None:
        raise NotFound(_("There is no pick task {id}.").format(id=task_id))
    if task.status != "open":
        raise Conflict(_("This pick is already {status}.").format(status=task.status))
    expected_bin = session.scalar(select(Bin.code).where(Bin.id == task.bin_id)) if task.bin_id else None
    if expected_bin and (bin_code or "").strip() != expected_bin:
        raise Conflict(_("Wrong bin: {got} scanned, the pick is in {want}.").format(got=bin_code or _("none"), want=expected_bin))
    product = session.get(Product, task.product_id)
    codes = [b.code for b in product.barcodes]
    if not scan_matches_product(item_code, product.sku, codes):
        other = identify(session, item_code)
        raise Conflict(_("Wrong item: {got} scanned, the pick is {want}.").format(got=other or item_code, want=product.sku))
    left = task.quantity - task.picked - task.short
    if quantity > left:
        raise Conflict(_("Only {n} more of {sku} are on this pick.").format(n=left, sku=product.sku))
    orders.record_pick(session, actor, task.order_line_id, quantity, bin=task.bin_id)
    task.picked += quantity
    if task.picked + task.short >= task.quantity:
        task.status = "done"
    session.flush()
    _maybe_finish_wave(session, task.wave_id)
    return task.quantity - task.picked - task.short


def short_pick(session: Session, actor: Actor, task_id: int, found: int, *, bin_code: str | None = None) -> routing.RouteResult | None:
    """The bin held fewer than the pick: take what there is, count the bin, and send the rest back to routing."""
    validate.quantity(found, "quantity found", allow_zero=True)
    task = session.get(PickTask, task_id, with_for_update=True)
    if task is None:
        raise NotFound(_("There is no pick task {id}.").format(id=task_id))
    if task.status != "open":
        raise Conflict(_("This pick is already {status}.").format(status=task.status))
    left = task.quantity - task.picked - task.short
    if found >= left:
        raise InvalidInput(_("{found} found covers the whole pick ({left}); confirm it instead of reporting a short.").format(found=found, left=left))
    product = session.get(Product, task.product_id)
    bin_row = session.get(Bin, task.bin_id) if task.bin_id else None
    if bin_row and bin_code is not None and bin_code.strip() != bin_row.code:
        raise Conflict(_("Wrong bin: {got} scanned, the pick is in {want}.").format(got=bin_code, want=bin_row.code))
    if found:
        orders.record_pick(session, actor, task.order_line_id, found, bin=task.bin_id)
        task.picked += found
    missing = left - found
    task.short += missing
    task.status = "short"
    line = session.get(OrderLine, task.order_line_id)
    order = session.get(SalesOrder, line.order_id)
    wave = session.get(Wave, task.wave_id)
    # The missing units are not on the shelf: free the line's claim on them, then make the books match the bin.
    lifecycle._release_line(session, line, missing)
    session.flush()
    rerouted: list[int] = []
    if bin_row is not None:
        rerouted = _count_bin_empty(session, actor, product, wave.location_id, bin_row,
                                    reason=_("short pick for order {n}").format(n=order.number))
    session.flush()
    where = bin_row.code if bin_row else _("no bin")
    audit.record(session, actor, "order.short_pick", "order_line", line.id, order_id=order.id,
                 summary=_("Short pick at {bin}: {found} of {want} × {sku} found; the rest goes back to routing").format(
                     bin=where, found=found, want=left, sku=product.sku),
                 after={"missing": missing, "bin": where})
    orders.refresh_status(session, order.id)
    session.flush()
    result = routing.route_order(session, actor, order.id, reason=_("short pick at {bin}").format(bin=where))
    for wave_id in _match_tasks_to_reservations(session, [order.id, *rerouted]) | {task.wave_id}:
        _maybe_finish_wave(session, wave_id)
    return result


def short_pick_stop(session: Session, actor: Actor, task_ids: Sequence[int], found: int, *,
                    bin_code: str | None = None) -> list[routing.RouteResult]:
    """One stop of the walk (a SKU from a bin, for one or several orders) held only ``found`` units.

    The units found fill the first tasks; each task they do not cover is short. A task that an earlier
    short of this stop has already closed (its order went back to routing with it) is left alone.
    """
    validate.quantity(found, "quantity found", allow_zero=True)
    rest, results = found, []
    for task_id in task_ids:
        task = session.get(PickTask, task_id, populate_existing=True)
        if task is None or task.status != "open":
            continue
        left = task.quantity - task.picked - task.short
        if rest >= left:
            product = session.get(Product, task.product_id)
            confirm_pick(session, actor, task_id, left, bin_code=bin_code, item_code=product.sku)
            rest -= left
            continue
        result = short_pick(session, actor, task_id, rest, bin_code=bin_code)
        if result is not None:
            results.append(result)
        rest = 0
    return results


def _count_bin_empty(session: Session, actor: Actor, product: Product, lid: int, bin_row: Bin, *, reason: str) -> list[int]:
    """Count the bin as empty. If the location would then hold less than it has promised, the newest
    unpicked reservations of that product there go back to routing first; returns those orders."""
    in_bin = session.scalar(select(BinStock.on_hand).where(BinStock.bin_id == bin_row.id, BinStock.product_id == product.id)) or 0
    if in_bin == 0:
        return []
    level = stock._level(session, product.id, lid)
    over = level.allocated - (level.on_hand - in_bin)
    rerouted: list[int] = []
    if over > 0:
        victims = session.execute(
            select(OrderLine.id, OrderLine.order_id, Allocation.quantity, OrderLine.picked)
            .join(Allocation, Allocation.order_line_id == OrderLine.id)
            .join(SalesOrder, SalesOrder.id == OrderLine.order_id)
            .where(Allocation.location_id == lid, Allocation.product_id == product.id, OrderLine.allocated > OrderLine.picked)
            .order_by(SalesOrder.placed_at.desc(), OrderLine.id.desc())).all()
        for line_id, order_id, qty, picked in victims:
            if over <= 0:
                break
            line = session.get(OrderLine, line_id)
            give = min(over, line.allocated - line.picked)
            lifecycle._release_line(session, line, give)
            over -= give
            session.flush()
            orders.refresh_status(session, order_id)
            audit.record(session, actor, "order.deallocated", "order", order_id, order_id=order_id,
                         summary=_("{n} × {sku} no longer there after a count of {bin}; back to routing").format(
                             n=give, sku=product.sku, bin=bin_row.code))
            rerouted.append(order_id)
        session.flush()
    restock.count(session, actor, product.id, lid, 0, bin=bin_row.id, reason=reason)
    session.flush()
    if rerouted:
        # Only after the count: routing must see the stock that is really there.
        routing.route_orders(session, actor, list(dict.fromkeys(rerouted)), reason=_("stock not found at {bin}").format(bin=bin_row.code))
        session.flush()
    return rerouted


def _maybe_finish_wave(session: Session, wave_id: int) -> None:
    left = session.scalar(select(func.count()).select_from(PickTask).where(PickTask.wave_id == wave_id, PickTask.status == "open"))
    if left == 0:
        session.execute(update(Wave).where(Wave.id == wave_id, Wave.status == WaveStatus.OPEN.value)
                        .values(status=WaveStatus.PICKED.value, closed_at=utcnow()))


def cancel_wave(session: Session, actor: Actor, wave_id: int, *, reason: str) -> None:
    """Give up a wave before it is picked: its orders return to Ready to pick (picked units stay picked)."""
    reason = validate.text(reason, "reason", 300, required=True)
    wave = session.get(Wave, wave_id, with_for_update=True)
    if wave is None:
        raise NotFound(_("There is no wave {id}.").format(id=wave_id))
    if wave.status != WaveStatus.OPEN.value:
        raise Conflict(_("Wave {name} is {status}.").format(name=wave.name, status=wave.status))
    session.execute(update(PickTask).where(PickTask.wave_id == wave_id, PickTask.status == "open").values(status="cancelled"))
    wave.status = WaveStatus.CANCELLED.value
    wave.closed_at = utcnow()
    audit.record(session, actor, "wave.cancelled", "wave", wave_id, summary=_("Wave {name} cancelled: {reason}").format(name=wave.name, reason=reason))


# -- packing --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackLine:
    line_id: int
    sku: str
    description: str
    barcodes: tuple[str, ...]
    expected: int  # picked and not yet packed
    open_quantity: int  # still owed on the line (shipped and cancelled excluded)
    unit_weight_g: int


@dataclass(frozen=True)
class PackingView:
    order_id: int
    number: str
    channel: str
    order_type: str
    ship_to: str
    service_level: str
    on_hold: bool
    hold_reason: str
    status: str
    lines: tuple[PackLine, ...]
    channel_name: str = ""  # "Northwind Retail (EDI)", for the screen; ``channel`` is its code

    @property
    def service(self) -> str:
        """The service level in words: "Ground", "Overnight"."""
        return wording.service_level(self.service_level)

    @property
    def wholesale(self) -> bool:
        return self.order_type == OrderType.WHOLESALE.value


@dataclass(frozen=True)
class ScanVerdict:
    ok: bool
    line_id: int | None
    message: str


def find_for_packing(session: Session, code: str) -> int:
    """The order behind a scanned tote, order number, channel order id, tracking number or SSCC.

    Raises SeveralMatches, listing them, when the code names several orders (three shops' #1002).
    """
    code = validate.text(code, "scan", 128, required=True)
    oid = session.scalar(select(WaveOrder.order_id).join(Wave, Wave.id == WaveOrder.wave_id)
                         .where(WaveOrder.tote == code, Wave.status.in_([WaveStatus.OPEN.value, WaveStatus.PICKED.value]))
                         .order_by(WaveOrder.wave_id.desc()).limit(1))
    if oid is not None:
        return oid
    matches = desk.orders_matching(session, code)
    if len(matches) == 1:
        return matches[0].order_id
    if matches:
        raise SeveralMatches(_("{n} orders match {code}: choose the one to pack.").format(n=len(matches), code=code), matches)
    raise NotFound(_("{code} is not an order number or a tote in use.").format(code=code))


def packing_view(session: Session, order_id: int) -> PackingView:
    found = session.execute(select(SalesOrder, Channel.code, Channel.name).join(Channel, Channel.id == SalesOrder.channel_id)
                            .where(SalesOrder.id == order_id)).first()
    if found is None:
        raise NotFound(_("There is no order with id {id}.").format(id=order_id))
    o, channel_code, channel_name = found
    rows = session.execute(
        select(OrderLine.id, OrderLine.sku, OrderLine.description, OrderLine.picked - OrderLine.packed,
               OrderLine.quantity - OrderLine.shipped - OrderLine.cancelled, OrderLine.product_id, Product.weight_g)
        .outerjoin(Product, Product.id == OrderLine.product_id)
        .where(OrderLine.order_id == order_id).order_by(OrderLine.id)).all()
    barcodes = _barcode_map(session, {r[5] for r in rows if r[5]})
    lines = tuple(PackLine(r[0], r[1], r[2], tuple(barcodes.get(r[5], [])), r[3], r[4], r[6] or 0) for r in rows if r[4] > 0)
    ship_to = ", ".join(p for p in (o.ship_name, o.ship_company, o.ship_city, o.ship_region, o.ship_country) if p)
    return PackingView(o.id, o.number, channel_code, o.order_type, ship_to, o.service_level, o.on_hold, o.hold_reason,
                       o.status, lines, channel_name)


def check_pack_scan(view: PackingView, code: str, packed: dict[int, int], *, scanned_sku: str | None = None) -> ScanVerdict:
    """Judge one scan at the packing bench: the right item, a wrong item, or one too many.

    ``packed`` is what this box already holds per line; ``scanned_sku`` is what identify()
    found for the code, so the message can name the wrong item.
    """
    for line in view.lines:
        if scan_matches_product(code, line.sku, line.barcodes):
            if packed.get(line.line_id, 0) >= line.expected:
                if line.expected == 0:
                    return ScanVerdict(False, line.line_id, _("{sku} has not been picked for order {n}.").format(sku=line.sku, n=view.number))
                return ScanVerdict(False, line.line_id, _("Too many: all {q} of {sku} are already in the box.").format(q=line.expected, sku=line.sku))
            return ScanVerdict(True, line.line_id, _("{sku}: {n} of {q}").format(sku=line.sku, n=packed.get(line.line_id, 0) + 1, q=line.expected))
    if scanned_sku is None:  # a barcode no product of ours carries: say so, rather than repeat digits
        return ScanVerdict(False, None, _("Wrong item: unknown barcode {code}.").format(code=code))
    return ScanVerdict(False, None, _("Wrong item: {item} is not in order {n}.").format(item=scanned_sku, n=view.number))


@dataclass(frozen=True)
class PackedBox:
    spec: shipments.PackageSpec
    items: dict[int, int] = field(default_factory=dict)  # line id -> units in this box


@dataclass(frozen=True)
class PackResult:
    shipment_id: int
    partial: bool
    rerouted: tuple[str, ...]
    ssccs: tuple[str, ...]


def complete_packing(session: Session, actor: Actor, order_id: int, boxes: Sequence[PackedBox], *,
                     company_prefix: str | None = None, serial_start: int = 1, pallet: bool = False,
                     unverified: Mapping[int, int] | None = None, override: Actor | None = None) -> PackResult:
    """Close the boxes: a shipment for what is packed; what could not be packed goes back to routing.

    Wholesale boxes get an SSCC-18 each (and the pallet one, when asked) from the company prefix.
    ``unverified`` says how many units of which lines went in without their scan (a barcode that will not read):
    that needs ``pack.override``, the packer's own or a supervisor's who badged in (``users.confirm_override``),
    and is recorded with both names.
    """
    view = packing_view(session, order_id)
    unverified = {k: v for k, v in (unverified or {}).items() if v}
    if unverified:
        require(actor, "pack.override", _location_code_of_order(session, order_id), override=override)
    if view.on_hold:
        raise Conflict(_("Order {n} is on hold ({reason}); it cannot be packed.").format(n=view.number, reason=view.hold_reason))
    if not boxes or not any(b.items for b in boxes):
        raise InvalidInput(_("Nothing was scanned into the box."))
    wholesale = view.wholesale
    prefix = company_prefix
    if wholesale and not prefix:
        raise InvalidInput(_("Wholesale cartons need SSCCs: give the GS1 company prefix (station settings)."))
    specs, items = [], []
    ssccs: list[str] = []
    for i, box in enumerate(b for b in boxes if b.items):
        sscc = box.spec.sscc or (next_sscc(session, prefix, serial_start) if wholesale else None)
        if sscc:
            ssccs.append(sscc)
        specs.append(shipments.PackageSpec(box.spec.box, box.spec.weight_g, box.spec.length_mm, box.spec.width_mm,
                                           box.spec.height_mm, sscc))
        for line_id, qty in box.items.items():
            if qty:
                items.append(shipments.PackItem(line_id, qty, i))
    for line_id, n in unverified.items():
        if validate.quantity(n, "units packed without a scan") > sum(it.quantity for it in items if it.line_id == line_id):
            raise InvalidInput(_("Only units in a box can be packed without a scan."))
    shipment_id = shipments.pack(session, actor, order_id, items, specs)
    if pallet and wholesale:
        p = Pallet(shipment_id=shipment_id, sscc=next_sscc(session, prefix, serial_start),
                   weight_g=sum(s.weight_g for s in specs))
        session.add(p)
        session.flush()
        session.execute(update(Package).where(Package.shipment_id == shipment_id).values(pallet_id=p.id))
        ssccs.append(p.sscc)
    # Whatever is still owed and not in a box now: picked units go back to stock, the rest back to routing.
    packed_now: dict[int, int] = {}
    for it in items:
        packed_now[it.line_id] = packed_now.get(it.line_id, 0) + it.quantity
    rerouted = []
    lid = session.scalar(select(Shipment.location_id).where(Shipment.id == shipment_id))
    for line in view.lines:
        unpacked_picked = line.expected - packed_now.get(line.line_id, 0)
        owed = line.open_quantity - packed_now.get(line.line_id, 0)
        if owed <= 0:
            continue
        row = session.get(OrderLine, line.line_id)
        if unpacked_picked > 0:
            session.execute(update(OrderLine).where(OrderLine.id == row.id).values(picked=OrderLine.picked - unpacked_picked))
            session.refresh(row)
        if row.allocated - row.picked > 0 and session.scalar(
                select(Allocation.id).where(Allocation.order_line_id == row.id, Allocation.location_id == lid)):
            lifecycle._release_line(session, row, row.allocated - row.picked)
        rerouted.append(f"{line.sku} ×{owed}")
    if rerouted:
        session.flush()
        orders.refresh_status(session, order_id)
        audit.record(session, actor, "order.partial_pack", "order", order_id, order_id=order_id,
                     summary=_("Ships in part; not in this shipment: {what}").format(what=", ".join(rerouted)))
        session.flush()
        routing.route_order(session, actor, order_id, reason=_("not packed with shipment {id}").format(id=shipment_id))
    if unverified:
        skus = {l.line_id: l.sku for l in view.lines}
        what = ", ".join(f"{skus.get(lid, lid)} ×{n}" for lid, n in unverified.items())
        by = override if override is not None and not _may_alone(actor) else None
        audit.record(session, actor, "pack.override", "shipment", shipment_id, order_id=order_id,
                     summary=(_("Packed without a scan: {what}; allowed by {supervisor}").format(what=what, supervisor=by.label)
                              if by else _("Packed without a scan: {what}").format(what=what)),
                     after={"unverified": {str(k): v for k, v in unverified.items()}, "packer": actor.user,
                            "allowed_by": by.user if by else actor.user})
    return PackResult(shipment_id, bool(rerouted), tuple(rerouted), tuple(ssccs))


def _may_alone(actor: Actor) -> bool:
    return not actor.role or users.role_may(actor.role, "pack.override")


def _location_code_of_order(session: Session, order_id: int) -> str | None:
    return session.scalar(select(Location.code).join(Allocation, Allocation.location_id == Location.id)
                          .join(OrderLine, OrderLine.id == Allocation.order_line_id)
                          .where(OrderLine.order_id == order_id).limit(1))


def next_sscc(session: Session, company_prefix: str, serial_start: int = 1) -> str:
    """A new, never reused SSCC-18 for this company prefix."""
    return allocate_ssccs(session, 1, company_prefix, serial_start)[0]


def allocate_ssccs(session: Session, count: int, company_prefix: str, serial_start: int = 1) -> list[str]:
    """`count` new SSCCs, never handed out before, from the shared per-prefix counter.

    The counter starts at `serial_start` the first time a prefix is used. Serials are
    taken with a conditional update, so two stations never print the same SSCC.
    """
    if count < 1 or count > 10000:
        raise InvalidInput(_("Print between 1 and 10000 SSCC labels at a time, not {n}.").format(n=count))
    prefix = (company_prefix or "").strip()
    if not prefix.isdigit() or not 6 <= len(prefix) <= 12:
        raise InvalidInput(_("The GS1 company prefix must be 6 to 12 digits, not “{p}”. Set it in the settings.").format(p=prefix))
    if serial_start < 0:
        raise InvalidInput(_("The first SSCC serial number cannot be negative."))
    table = SsccCounter.__table__
    if session.get(SsccCounter, prefix) is None:
        # Insert-if-absent; a concurrent insert of the same prefix is harmless (the loser's update still works).
        try:
            with session.begin_nested():
                session.add(SsccCounter(company_prefix=prefix, next_serial=serial_start))
        except IntegrityError:  # a concurrent first use of the prefix inserted it
            pass
    # Setting a higher start later moves the counter forward, never back.
    session.execute(update(table).where(table.c.company_prefix == prefix, table.c.next_serial < serial_start)
                    .values(next_serial=serial_start))
    first = session.connection().execute(
        update(table).where(table.c.company_prefix == prefix).values(next_serial=table.c.next_serial + count)
        .returning(table.c.next_serial - count)).scalar_one()
    try:
        return [make_sscc(prefix, serial) for serial in range(first, first + count)]
    except ValueError as exc:
        raise Conflict(_("The SSCC serial numbers for company prefix {p} are used up ({error}).").format(p=prefix, error=exc)) from exc


# -- boxes ------------------------------------------------------------------------------------------------


DEFAULT_BOXES = [
    ("S", "Small box 23×15×10 cm", 230, 150, 100, 120),
    ("M", "Medium box 30×23×15 cm", 300, 230, 150, 220),
    ("L", "Large box 40×30×25 cm", 400, 300, 250, 380),
    ("CTN", "Shipping carton 60×40×40 cm", 600, 400, 400, 800),
    ("MAILER", "Padded mailer", 300, 220, 30, 40),
]


def ensure_box_presets(session: Session) -> None:
    if session.scalar(select(func.count()).select_from(BoxPreset)):
        return
    session.execute(insert(BoxPreset), [{"code": c, "name": n, "length_mm": l, "width_mm": w, "height_mm": h, "tare_g": t, "active": True}
                                        for c, n, l, w, h, t in DEFAULT_BOXES])


def box_presets(session: Session) -> list[BoxPreset]:
    ensure_box_presets(session)
    return list(session.scalars(select(BoxPreset).where(BoxPreset.active.is_(True)).order_by(BoxPreset.length_mm * BoxPreset.width_mm)))
