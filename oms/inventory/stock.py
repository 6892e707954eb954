"""The stock ledger: receive, adjust, count, transfer, reserve, release and ship, each a movement row
and a conditional update of the level in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

from sqlalchemy import and_, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from oms.catalog.models import Barcode, Product
from oms.core import audit, validate
from oms.core.audit import Actor
from oms.core.errors import Conflict, InsufficientStock, InvalidInput, NotFound
from oms.core.i18n import _
from oms.core.types import utcnow
from oms.core.upsert import insert_ignore
from oms.inventory.models import Bin, BinStock, Location, MovementKind, StockLevel, StockMovement
from oms.users import require


@dataclass(frozen=True)
class LevelView:
    location_id: int
    location_code: str
    location_name: str
    on_hand: int
    allocated: int

    @property
    def available(self) -> int:
        return self.on_hand - self.allocated


def product_id(session: Session, ref: int | str) -> int:
    """The product for an id, a SKU or one of its barcodes."""
    if isinstance(ref, int) and not isinstance(ref, bool):
        found = session.scalar(select(Product.id).where(Product.id == ref))
    else:
        code = str(ref).strip()
        found = session.scalar(select(Product.id).where(Product.sku == code))
        if found is None:
            found = session.scalar(select(Barcode.product_id).where(Barcode.code == code))
    if found is None:
        raise NotFound(_("There is no product {ref}.").format(ref=ref))
    return found


def location_id(session: Session, ref: int | str) -> int:
    if isinstance(ref, int) and not isinstance(ref, bool):
        found = session.scalar(select(Location.id).where(Location.id == ref))
    else:
        found = session.scalar(select(Location.id).where(Location.code == str(ref).strip()))
    if found is None:
        raise NotFound(_("There is no location {ref}.").format(ref=ref))
    return found


def bin_id(session: Session, location: int, ref: int | str | None) -> int | None:
    if ref is None:
        return None
    if isinstance(ref, int) and not isinstance(ref, bool):
        found = session.scalar(select(Bin.id).where(Bin.id == ref, Bin.location_id == location))
    else:
        found = session.scalar(select(Bin.id).where(Bin.code == str(ref).strip(), Bin.location_id == location))
    if found is None:
        code = session.scalar(select(Location.code).where(Location.id == location))
        raise NotFound(_("There is no bin {ref} in {location}.").format(ref=ref, location=code))
    return found


def bin_code(session: Session, bid: int | None) -> str:
    """The code printed on a bin's label, the only name a person knows it by ("" when there is no bin)."""
    if bid is None:
        return ""
    return session.scalar(select(Bin.code).where(Bin.id == bid)) or ""


def _sku(session: Session, pid: int) -> str:
    return session.scalar(select(Product.sku).where(Product.id == pid)) or str(pid)


def _loc(session: Session, lid: int) -> str:
    return session.scalar(select(Location.code).where(Location.id == lid)) or str(lid)


_level_t = StockLevel.__table__

_bin_t = BinStock.__table__

_RESERVE = (
    update(_level_t)
    .where(
        _level_t.c.product_id == bindparam("p"),
        _level_t.c.location_id == bindparam("l"),
        _level_t.c.on_hand - _level_t.c.allocated >= bindparam("q"),
    )
    .values(allocated=_level_t.c.allocated + bindparam("q"))
)


def _ensure_level(session: Session, pid: int, lid: int) -> None:
    insert_ignore(
        session,
        StockLevel,
        {"product_id": pid, "location_id": lid, "on_hand": 0, "allocated": 0, "updated_at": utcnow()},
        ["product_id", "location_id"],
    )


def _change_on_hand(session: Session, pid: int, lid: int, delta: int) -> bool:
    """on_hand += delta unless that would leave less than what is allocated."""
    result = session.execute(
        update(_level_t)
        .where(
            _level_t.c.product_id == pid,
            _level_t.c.location_id == lid,
            _level_t.c.on_hand + delta >= _level_t.c.allocated,
        )
        .values(on_hand=_level_t.c.on_hand + delta, updated_at=utcnow())
    )
    return result.rowcount == 1


def _change_bin(session: Session, bid: int, pid: int, delta: int) -> bool:
    if delta > 0:
        insert_ignore(session, BinStock, {"bin_id": bid, "product_id": pid, "on_hand": 0}, ["bin_id", "product_id"])
    result = session.execute(
        update(_bin_t)
        .where(_bin_t.c.bin_id == bid, _bin_t.c.product_id == pid, _bin_t.c.on_hand + delta >= 0)
        .values(on_hand=_bin_t.c.on_hand + delta)
    )
    return result.rowcount == 1


def _movement(session, actor: Actor, pid, lid, kind: MovementKind, qty, *, bin=None, reason="", reference=""):
    session.connection().execute(
        insert(StockMovement.__table__),
        [
            {
                "product_id": pid,
                "location_id": lid,
                "bin_id": bin,
                "kind": kind.value,
                "quantity": qty,
                "reason": reason[:300],
                "reference": reference[:64],
                "user": actor.user[:64],
                "station": actor.station[:64],
                "created_at": utcnow(),
            }
        ],
    )


@dataclass(frozen=True)
class StockChange:
    """What one stock service did to a product: units up or down, and whether more became available to promise.
    Inventory knows nothing of orders: the caller above (``oms.restock``) releases backorders when ``arrived``."""

    product_id: int
    delta: int
    arrived: bool


def try_reserve(session: Session, pid: int, lid: int, qty: int) -> bool:
    """Reserve qty units if that many are available; False (and no change) otherwise."""
    return session.connection().execute(_RESERVE, {"p": pid, "l": lid, "q": qty}).rowcount == 1


_SHIP = (
    update(_level_t)
    .where(
        _level_t.c.product_id == bindparam("p"),
        _level_t.c.location_id == bindparam("l"),
        _level_t.c.allocated >= bindparam("q"),
        _level_t.c.on_hand >= bindparam("q"),
    )
    .values(on_hand=_level_t.c.on_hand - bindparam("q"), allocated=_level_t.c.allocated - bindparam("q"),
            updated_at=bindparam("now"))
)


@lru_cache(maxsize=64)
def _reserve_many_sql(n: int, placeholder: str) -> str:
    # Written out as SQL: building and cache-keying a CASE expression of this size in
    # SQLAlchemy costs more per call than running it.
    case = "CASE product_id " + " ".join(f"WHEN {placeholder} THEN {placeholder}" for _ in range(n)) + " END"
    ids = ", ".join([placeholder] * n)
    return (f"UPDATE stock_level SET allocated = allocated + {case} "
            f"WHERE location_id = {placeholder} AND product_id IN ({ids}) AND on_hand - allocated >= {case} "
            f"RETURNING product_id")


def try_reserve_many(session: Session, lid: int, wanted: dict[int, int]) -> set[int]:
    """Reserve several products at one location in one statement; returns those that were reserved.

    Each product is all-or-nothing; the others are left untouched.
    """
    if not wanted:
        return set()
    if len(wanted) == 1:
        ((pid, qty),) = wanted.items()
        return {pid} if try_reserve(session, pid, lid, qty) else set()
    conn = session.connection()
    placeholder = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    pairs = [v for item in wanted.items() for v in item]
    params = (*pairs, lid, *wanted.keys(), *pairs)
    return {row[0] for row in conn.exec_driver_sql(_reserve_many_sql(len(wanted), placeholder), params)}


def reserve(session: Session, pid: int, lid: int, qty: int) -> None:
    validate.quantity(qty)
    if not try_reserve(session, pid, lid, qty):
        level = _level(session, pid, lid)
        raise InsufficientStock(
            _("Cannot reserve {qty} of {sku} at {loc}: only {avail} available.").format(
                qty=qty, sku=_sku(session, pid), loc=_loc(session, lid), avail=level.available if level else 0
            )
        )


def release(session: Session, pid: int, lid: int, qty: int) -> None:
    validate.quantity(qty)
    result = session.execute(
        update(_level_t)
        .where(_level_t.c.product_id == pid, _level_t.c.location_id == lid, _level_t.c.allocated >= qty)
        .values(allocated=_level_t.c.allocated - qty)
    )
    if result.rowcount != 1:
        raise Conflict(
            _("Cannot release {qty} of {sku} at {loc}: fewer are reserved.").format(
                qty=qty, sku=_sku(session, pid), loc=_loc(session, lid)
            )
        )


def ship(session: Session, actor: Actor, pid: int, lid: int, qty: int, *, reference: str = "") -> None:
    """Take reserved units out of stock as they leave the building."""
    validate.quantity(qty)
    result = session.connection().execute(_SHIP, {"p": pid, "l": lid, "q": qty, "now": utcnow()})
    if result.rowcount != 1:
        raise Conflict(
            _("Cannot ship {qty} of {sku} from {loc}: they are not reserved there.").format(
                qty=qty, sku=_sku(session, pid), loc=_loc(session, lid)
            )
        )
    _movement(session, actor, pid, lid, MovementKind.SHIP, -qty, reference=reference)


def ship_many(session: Session, actor: Actor, moves: list[tuple[int, int, int, str]]) -> None:
    """ship() for many (product, location, units, reference) at once: one batched update of the levels, checked as
    ship() checks each, and one insert of the ledger's movements; nothing is written when one is not reserved."""
    if not moves:
        return
    for _pid, _lid, qty, _ref in moves:
        validate.quantity(qty)
    totals: dict[tuple[int, int], int] = {}
    for pid, lid, qty, _ref in moves:
        totals[(pid, lid)] = totals.get((pid, lid), 0) + qty
    conn = session.connection()
    now = utcnow()
    done = conn.execute(_SHIP, [{"p": pid, "l": lid, "q": qty, "now": now} for (pid, lid), qty in totals.items()]).rowcount
    if conn.dialect.supports_sane_multi_rowcount and done != len(totals):
        for (pid, lid), qty in totals.items():  # name the one that failed, as ship() would
            level = _level(session, pid, lid)
            if level is None or level.allocated < qty or level.on_hand < qty:
                break
        raise Conflict(_("Cannot ship {qty} of {sku} from {loc}: they are not reserved there.").format(
            qty=qty, sku=_sku(session, pid), loc=_loc(session, lid)))
    conn.execute(insert(StockMovement.__table__), [
        {"product_id": pid, "location_id": lid, "bin_id": None, "kind": MovementKind.SHIP.value, "quantity": -qty,
         "reason": "", "reference": ref[:64], "user": actor.user[:64], "station": actor.station[:64], "created_at": now}
        for pid, lid, qty, ref in moves])


def unship(session: Session, actor: Actor, pid: int, lid: int, qty: int, *, reference: str = "") -> None:
    """Undo ship(): the units are back on the shelf and reserved again (a voided shipment)."""
    validate.quantity(qty)
    _ensure_level(session, pid, lid)
    session.execute(
        update(_level_t)
        .where(_level_t.c.product_id == pid, _level_t.c.location_id == lid)
        .values(on_hand=_level_t.c.on_hand + qty, allocated=_level_t.c.allocated + qty, updated_at=utcnow())
    )
    _movement(session, actor, pid, lid, MovementKind.SHIP, qty, reason="shipment voided", reference=reference)


def receive(
    session: Session,
    actor: Actor,
    product: int | str,
    location: int | str,
    qty: int,
    *,
    bin: int | str | None = None,
    reference: str = "",
    kind: MovementKind = MovementKind.RECEIPT,
    reason: str = "",
) -> StockChange:
    """Units arrive (a receipt, or a return put back on the shelf)."""
    validate.quantity(qty)
    reference = validate.text(reference, "reference", 64)
    pid, lid = product_id(session, product), location_id(session, location)
    bid = bin_id(session, lid, bin)
    _ensure_level(session, pid, lid)
    _change_on_hand(session, pid, lid, qty)
    if bid is not None:
        _change_bin(session, bid, pid, qty)
    _movement(session, actor, pid, lid, kind, qty, bin=bid, reason=reason, reference=reference)
    audit.record(
        session, actor, f"stock.{kind.value}", "product", pid,
        summary=_("{kind} {qty} × {sku} at {loc}").format(kind=kind.value, qty=qty, sku=_sku(session, pid), loc=_loc(session, lid)),
        after={"location": lid, "bin": bid, "quantity": qty, "reference": reference},
    )
    return StockChange(pid, qty, arrived=True)


def adjust(
    session: Session,
    actor: Actor,
    product: int | str,
    location: int | str,
    delta: int,
    reason: str,
    *,
    bin: int | str | None = None,
) -> StockChange:
    """Correct on-hand stock up or down (damage, found, write-off), with a reason."""
    if isinstance(delta, bool) or not isinstance(delta, int) or delta == 0:
        raise InvalidInput(_("An adjustment must be a whole number other than zero, not {value!r}.").format(value=delta))
    reason = validate.text(reason, "reason", 300, required=True)
    pid, lid = product_id(session, product), location_id(session, location)
    require(actor, "stock.adjust", _loc(session, lid))
    bid = bin_id(session, lid, bin)
    _ensure_level(session, pid, lid)
    before = _level(session, pid, lid)
    if not _change_on_hand(session, pid, lid, delta):
        raise InsufficientStock(
            _("Cannot take {qty} of {sku} off {loc}: {on_hand} on hand, {allocated} of them reserved for orders.").format(
                qty=-delta, sku=_sku(session, pid), loc=_loc(session, lid), on_hand=before.on_hand, allocated=before.allocated
            )
        )
    if bid is not None and not _change_bin(session, bid, pid, delta):
        raise InsufficientStock(
            _("Bin {bin} does not hold {qty} of {sku}.").format(bin=bin_code(session, bid), qty=-delta, sku=_sku(session, pid))
        )
    _movement(session, actor, pid, lid, MovementKind.ADJUST, delta, bin=bid, reason=reason)
    audit.record(
        session, actor, "stock.adjust", "product", pid,
        summary=_("Adjusted {sku} at {loc} by {delta:+d}: {reason}").format(sku=_sku(session, pid), loc=_loc(session, lid), delta=delta, reason=reason),
        before={"on_hand": before.on_hand}, after={"on_hand": before.on_hand + delta, "reason": reason},
    )
    return StockChange(pid, delta, arrived=delta > 0)


def count(
    session: Session,
    actor: Actor,
    product: int | str,
    location: int | str,
    counted: int,
    *,
    bin: int | str | None = None,
    reason: str = "cycle count",
) -> StockChange:
    """Record a physical count; the difference becomes a count movement (``delta`` of what is returned)."""
    validate.quantity(counted, "counted quantity", allow_zero=True)
    pid, lid = product_id(session, product), location_id(session, location)
    bid = bin_id(session, lid, bin)
    _ensure_level(session, pid, lid)
    level = _level(session, pid, lid)
    if bid is not None:
        seen = session.scalar(select(_bin_t.c.on_hand).where(_bin_t.c.bin_id == bid, _bin_t.c.product_id == pid)) or 0
    else:
        seen = level.on_hand
    delta = counted - seen
    if delta:
        if level.on_hand + delta < level.allocated:
            raise InsufficientStock(
                _("The count leaves {left} of {sku} at {loc}, but {allocated} are reserved for orders. "
                  "Send those order lines back to routing first.").format(
                    left=level.on_hand + delta, sku=_sku(session, pid), loc=_loc(session, lid), allocated=level.allocated
                )
            )
        # Guard against a concurrent change between our read and this write.
        guard = (_bin_t.c.on_hand == seen) if bid is not None else (_level_t.c.on_hand == seen)
        if bid is not None:
            insert_ignore(session, BinStock, {"bin_id": bid, "product_id": pid, "on_hand": 0}, ["bin_id", "product_id"])
            moved = session.execute(
                update(_bin_t).where(_bin_t.c.bin_id == bid, _bin_t.c.product_id == pid, guard).values(on_hand=counted)
            ).rowcount
            ok = moved == 1 and _change_on_hand(session, pid, lid, delta)
        else:
            ok = session.execute(
                update(_level_t)
                .where(_level_t.c.product_id == pid, _level_t.c.location_id == lid, guard,
                       _level_t.c.on_hand + delta >= _level_t.c.allocated)
                .values(on_hand=counted, updated_at=utcnow())
            ).rowcount == 1
        if not ok:
            raise Conflict(_("The stock of {sku} changed while it was being counted; count it again.").format(sku=_sku(session, pid)))
        _movement(session, actor, pid, lid, MovementKind.COUNT, delta, bin=bid, reason=reason)
    audit.record(
        session, actor, "stock.count", "product", pid,
        summary=_("Counted {counted} × {sku} at {loc} (difference {delta:+d})").format(
            counted=counted, sku=_sku(session, pid), loc=_loc(session, lid) + (f"/{bin_code(session, bid)}" if bid else ""), delta=delta
        ),
        before={"on_hand": seen}, after={"on_hand": counted, "bin": bid},
    )
    return StockChange(pid, delta, arrived=delta > 0)


def transfer(
    session: Session,
    actor: Actor,
    product: int | str,
    qty: int,
    *,
    from_location: int | str,
    to_location: int | str | None = None,
    from_bin: int | str | None = None,
    to_bin: int | str | None = None,
    reason: str = "",
) -> StockChange:
    """Move units between bins of one location, or between locations (stock arrives where it goes)."""
    validate.quantity(qty)
    pid = product_id(session, product)
    src = location_id(session, from_location)
    dst = location_id(session, to_location) if to_location is not None else src
    sbin, dbin = bin_id(session, src, from_bin), bin_id(session, dst, to_bin)
    if src == dst and sbin == dbin:
        raise InvalidInput(_("A transfer needs a different bin or location to move to."))
    sku = _sku(session, pid)
    if sbin is not None and not _change_bin(session, sbin, pid, -qty):
        raise InsufficientStock(_("Bin {bin} does not hold {qty} of {sku}.").format(bin=bin_code(session, sbin), qty=qty, sku=sku))
    if src != dst:
        _ensure_level(session, pid, src)
        if not _change_on_hand(session, pid, src, -qty):
            level = _level(session, pid, src)
            raise InsufficientStock(
                _("Only {avail} of {sku} are free to move from {loc}.").format(avail=level.available, sku=sku, loc=_loc(session, src))
            )
        _ensure_level(session, pid, dst)
        _change_on_hand(session, pid, dst, qty)
    if dbin is not None:
        _change_bin(session, dbin, pid, qty)
    _movement(session, actor, pid, src, MovementKind.TRANSFER, -qty, bin=sbin, reason=reason)
    _movement(session, actor, pid, dst, MovementKind.TRANSFER, qty, bin=dbin, reason=reason)
    audit.record(
        session, actor, "stock.transfer", "product", pid,
        summary=_("Moved {qty} × {sku} from {src} to {dst}").format(
            qty=qty, sku=sku, src=_loc(session, src) + (f"/{bin_code(session, sbin)}" if sbin else ""),
            dst=_loc(session, dst) + (f"/{bin_code(session, dbin)}" if dbin else ""),
        ),
        after={"from": [src, sbin], "to": [dst, dbin], "quantity": qty},
    )
    return StockChange(pid, qty if src != dst else 0, arrived=src != dst)


def transfer_out(session: Session, actor: Actor, product: int | str, location: int | str, qty: int, *,
                 bin: int | str | None = None, reference: str = "") -> StockChange:
    """Units leave a location on a transfer to another: off its stock (and bin) now; the transfer document holds
    them in transit until ``transfer_in`` books them where they arrive."""
    validate.quantity(qty)
    pid, lid = product_id(session, product), location_id(session, location)
    bid = bin_id(session, lid, bin)
    sku = _sku(session, pid)
    _ensure_level(session, pid, lid)
    if bid is not None and not _change_bin(session, bid, pid, -qty):
        raise InsufficientStock(_("Bin {bin} does not hold {qty} of {sku}.").format(bin=bin_code(session, bid), qty=qty, sku=sku))
    if not _change_on_hand(session, pid, lid, -qty):
        level = _level(session, pid, lid)
        raise InsufficientStock(
            _("Only {avail} of {sku} are free to send from {loc}.").format(avail=level.available, sku=sku, loc=_loc(session, lid)))
    _movement(session, actor, pid, lid, MovementKind.TRANSFER, -qty, bin=bid, reason="transfer out", reference=reference)
    audit.record(session, actor, "stock.transfer_out", "product", pid,
                 summary=_("Sent {qty} × {sku} from {loc} on {ref}").format(qty=qty, sku=sku, loc=_loc(session, lid), ref=reference),
                 after={"location": lid, "bin": bid, "quantity": -qty, "reference": reference})
    return StockChange(pid, -qty, arrived=False)


def transfer_in(session: Session, actor: Actor, product: int | str, location: int | str, qty: int, *,
                bin: int | str | None = None, reference: str = "") -> StockChange:
    """Units of a transfer arrive at the location they were sent to."""
    validate.quantity(qty)
    pid, lid = product_id(session, product), location_id(session, location)
    bid = bin_id(session, lid, bin)
    _ensure_level(session, pid, lid)
    _change_on_hand(session, pid, lid, qty)
    if bid is not None:
        _change_bin(session, bid, pid, qty)
    _movement(session, actor, pid, lid, MovementKind.TRANSFER, qty, bin=bid, reason="transfer in", reference=reference)
    audit.record(session, actor, "stock.transfer_in", "product", pid,
                 summary=_("Received {qty} × {sku} at {loc} from {ref}").format(qty=qty, sku=_sku(session, pid), loc=_loc(session, lid), ref=reference),
                 after={"location": lid, "bin": bid, "quantity": qty, "reference": reference})
    return StockChange(pid, qty, arrived=True)


def take_from_bin(session: Session, pid: int, lid: int, bin_ref: int | str, qty: int) -> int:
    """A picker takes units out of a bin into a tote (they stay on hand at the location)."""
    bid = bin_id(session, lid, bin_ref)
    if not _change_bin(session, bid, pid, -qty):
        raise InsufficientStock(_("Bin {bin} does not hold {qty} of {sku}.").format(bin=bin_code(session, bid), qty=qty,
                                                                                       sku=_sku(session, pid)))
    return bid


def _level(session: Session, pid: int, lid: int) -> LevelView | None:
    row = session.execute(
        select(_level_t.c.on_hand, _level_t.c.allocated).where(_level_t.c.product_id == pid, _level_t.c.location_id == lid)
    ).first()
    if row is None:
        return None
    return LevelView(lid, "", "", row.on_hand, row.allocated)


def levels(session: Session, product: int | str) -> list[LevelView]:
    """Stock of one product at every active location (zero where it has none)."""
    pid = product_id(session, product)
    rows = session.execute(
        select(Location.id, Location.code, Location.name, _level_t.c.on_hand, _level_t.c.allocated)
        .select_from(Location)
        .outerjoin(StockLevel, and_(_level_t.c.location_id == Location.id, _level_t.c.product_id == pid))
        .where(Location.active.is_(True))
        .order_by(Location.priority, Location.code)
    ).all()
    return [LevelView(r[0], r[1], r[2], r[3] or 0, r[4] or 0) for r in rows]


def available_to_promise(session: Session, product: int | str, location: int | str | None = None) -> int:
    pid = product_id(session, product)
    q = select(func.coalesce(func.sum(_level_t.c.on_hand - _level_t.c.allocated), 0)).where(_level_t.c.product_id == pid)
    if location is not None:
        q = q.where(_level_t.c.location_id == location_id(session, location))
    return int(session.scalar(q))


def available_map(session: Session, product_ids: Iterable[int], lid: int) -> dict[int, int]:
    ids = list(set(product_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(_level_t.c.product_id, _level_t.c.on_hand - _level_t.c.allocated)
        .where(_level_t.c.location_id == lid, StockLevel.product_id.in_(ids))
    ).all()
    return {r[0]: r[1] for r in rows}
