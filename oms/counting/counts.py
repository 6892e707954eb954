"""Count tasks from creation to the ledger: create a task for a bin, a zone or a SKU; the counter scans each bin and
the items in it without seeing what the books hold; submitting compares the counts with the books, applies them at
once when every line is within the task's threshold, and otherwise holds them for a supervisor, who approves them
with a reason code (or sends them back for a recount). Applied counts go through the stock ledger as count
movements, by ``routing.restock``, so units found release the orders waiting for them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from oms import inventory
from oms.catalog.models import Product
from oms.core import audit, validate
from oms.core.audit import Actor
from oms.core.errors import Conflict, InvalidInput, NotFound
from oms.core.i18n import _
from oms.core.types import utcnow
from oms.counting.models import CountBin, CountLine, CountScope, CountStatus, CountTask
from oms.inventory.models import Bin, BinStock, Location, StockLevel
from oms.routing import restock
from oms.users.models import User

COUNT_PREFIX = "CNT-"
DEFAULT_THRESHOLD = 2
SUPERVISOR_ROLES = ("supervisor", "admin")

# Reason codes a supervisor gives an approved variance; the words are what a report shows.
REASONS: dict[str, str] = {
    "miscount": "Earlier count was wrong",
    "damaged": "Damaged, written off",
    "lost": "Lost or stolen",
    "found": "Found stock",
    "receiving-error": "Received into the wrong bin or quantity",
    "picking-error": "Picked from the wrong bin",
}


def reason_title(code: str) -> str:
    return _(REASONS.get(code, code))


def count_number(task_id: int) -> str:
    return f"{COUNT_PREFIX}{task_id}"


def is_count_number(text: str) -> bool:
    t = text.strip().upper()
    return t.startswith(COUNT_PREFIX) and t[len(COUNT_PREFIX):].isdigit()


def task_id(session: Session, ref: int | str) -> int:
    """The task for an id or its number (CNT-12, any case)."""
    if isinstance(ref, int) and not isinstance(ref, bool):
        found = session.scalar(select(CountTask.id).where(CountTask.id == ref))
    else:
        text = str(ref).strip().upper()
        found = None
        if is_count_number(text):
            found = session.scalar(select(CountTask.id).where(CountTask.id == int(text[len(COUNT_PREFIX):])))
    if found is None:
        raise NotFound(_("There is no count {ref}: a count's number looks like CNT-12.").format(ref=ref))
    return found


def _task(session: Session, ref: int | str, *, for_update: bool = False) -> CountTask:
    tid = task_id(session, ref)
    q = select(CountTask).where(CountTask.id == tid)
    if for_update:
        q = q.with_for_update()
    return session.scalars(q).one()


def _must_be(task: CountTask, *states: CountStatus) -> None:
    if task.status not in {s.value for s in states}:
        raise Conflict(_("{number} is {status}; that cannot be done to it now.").format(
            number=count_number(task.id), status=status_title(task.status)))


def status_title(status: str) -> str:
    return {
        "open": _("being counted"), "review": _("waiting for a supervisor"), "done": _("done"),
        "cancelled": _("cancelled"),
    }.get(status, status)


# -- creating a task ------------------------------------------------------------------------------------------


def create_count(
    session: Session,
    actor: Actor,
    location: int | str,
    *,
    bin: str | None = None,
    zone: str | None = None,
    sku: str | None = None,
    threshold: int = DEFAULT_THRESHOLD,
) -> tuple[int, str]:
    """A count task for one bin, every bin of a zone, or every bin that holds a SKU at ``location``.
    Returns (id, number)."""
    given = [(k, v) for k, v in (("bin", bin), ("zone", zone), ("sku", sku)) if v is not None and str(v).strip()]
    if len(given) != 1:
        raise InvalidInput(_("A count covers one bin, one zone or one SKU: give exactly one of them."))
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 0:
        raise InvalidInput(_("The variance threshold must be a whole number of units, 0 or more, not {value!r}.")
                           .format(value=threshold))
    lid = inventory.location_id(session, location)
    loc_code = session.scalar(select(Location.code).where(Location.id == lid))
    kind, ref = given[0][0], str(given[0][1]).strip()
    lines: list[tuple[int, int | None]] = []
    if kind == "bin":
        bins = [inventory.bin_id(session, lid, ref)]
        ref = inventory.bin_code(session, bins[0])
    elif kind == "zone":
        bins = list(session.scalars(select(Bin.id).where(Bin.location_id == lid, Bin.zone == ref)
                                    .order_by(Bin.pick_sequence, Bin.code)))
        if not bins:
            raise NotFound(_("No bin of {location} is in zone {zone}.").format(location=loc_code, zone=ref))
    else:
        pid = inventory.product_id(session, ref)
        ref = session.scalar(select(Product.sku).where(Product.id == pid))
        bins = list(session.scalars(
            select(BinStock.bin_id).join(Bin, Bin.id == BinStock.bin_id)
            .where(Bin.location_id == lid, BinStock.product_id == pid, BinStock.on_hand > 0)
            .order_by(Bin.pick_sequence, Bin.code)))
        lines = [(pid, b) for b in bins]
        if not bins:
            has_bins = session.scalar(select(Bin.id).where(Bin.location_id == lid).limit(1)) is not None
            if has_bins:
                raise NotFound(_("No bin of {location} holds {sku}: count a bin or a zone to look for it.").format(
                    location=loc_code, sku=ref))
            lines = [(pid, None)]  # a location without bins: the product's level is counted
    if kind != "sku":
        lines = [(p, b) for b, p in session.execute(
            select(BinStock.bin_id, BinStock.product_id).where(BinStock.bin_id.in_(bins), BinStock.on_hand > 0)
            .order_by(BinStock.bin_id, BinStock.product_id))]
    task = CountTask(location_id=lid, scope=CountScope(kind).value, scope_ref=ref[:64], threshold=threshold,
                     created_by=actor.user[:64], created_at=utcnow())
    session.add(task)
    session.flush()
    session.add_all([CountBin(task_id=task.id, bin_id=b) for b in bins])
    session.add_all([CountLine(task_id=task.id, product_id=p, bin_id=b) for p, b in lines])
    session.flush()
    number = count_number(task.id)
    audit.record(session, actor, "count.create", "count_task", task.id,
                 summary=_("{number}: count {kind} {ref} at {location}").format(number=number, kind=kind, ref=ref,
                                                                                 location=loc_code),
                 after={"location": loc_code, "scope": kind, "ref": ref, "threshold": threshold,
                        "bins": len(bins), "lines": len(lines)})
    return task.id, number


# -- counting ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CountScan:
    """What a scan did, in words for the counter, and what they now see of the line (never the books' figure)."""

    message: str
    bin_code: str
    sku: str = ""
    counted: int = 0


def _task_bin(session: Session, task: CountTask, code: str) -> int:
    try:
        bid = inventory.bin_id(session, task.location_id, code)
    except NotFound:
        raise NotFound(_("{code} is no bin of this location.").format(code=code)) from None
    if session.get(CountBin, (task.id, bid)) is None:
        raise InvalidInput(_("Bin {bin} is not part of {number}.").format(bin=code, number=count_number(task.id)))
    return bid


def scan_bin(session: Session, actor: Actor, task_ref: int | str, bin_code: str) -> CountScan:
    """The counter is at a bin: it is counted from now (empty, until items are scanned)."""
    task = _task(session, task_ref, for_update=True)
    _must_be(task, CountStatus.OPEN)
    bid = _task_bin(session, task, bin_code)
    session.execute(update(CountBin).where(CountBin.task_id == task.id, CountBin.bin_id == bid,
                                           CountBin.visited_at.is_(None)).values(visited_at=utcnow()))
    session.execute(update(CountLine).where(CountLine.task_id == task.id, CountLine.bin_id == bid,
                                            CountLine.counted.is_(None)).values(counted=0))
    code = inventory.bin_code(session, bid)
    return CountScan(_("Bin {bin}: scan every item in it").format(bin=code), code)


def scan_item(session: Session, actor: Actor, task_ref: int | str, bin_code: str | None, code: str,
              quantity: int = 1) -> CountScan:
    """One scan of an item (``quantity`` of it) in the bin being counted: adds to its line, or starts a line for
    a product the books do not have there."""
    validate.quantity(quantity)
    task = _task(session, task_ref, for_update=True)
    _must_be(task, CountStatus.OPEN)
    has_bins = session.scalar(select(CountBin.bin_id).where(CountBin.task_id == task.id).limit(1)) is not None
    if has_bins and not bin_code:
        raise InvalidInput(_("Scan the bin first, then the items in it."))
    bid = _task_bin(session, task, bin_code) if has_bins else None
    if bid is not None:
        visited = session.scalar(select(CountBin.visited_at).where(CountBin.task_id == task.id, CountBin.bin_id == bid))
        if visited is None:
            raise InvalidInput(_("Scan bin {bin} before the items in it.").format(bin=bin_code))
    try:
        pid = inventory.product_id(session, code)
    except NotFound:
        raise NotFound(_("{code} is no product we know; put it aside for the supervisor.").format(code=code)) from None
    sku = session.scalar(select(Product.sku).where(Product.id == pid))
    if task.scope == CountScope.SKU.value and sku != task.scope_ref:
        raise InvalidInput(_("{sku} is not counted here: {number} counts {ref} only.").format(
            sku=sku, number=count_number(task.id), ref=task.scope_ref))
    where = (CountLine.task_id == task.id, CountLine.product_id == pid,
             CountLine.bin_id.is_(None) if bid is None else CountLine.bin_id == bid)
    moved = session.execute(update(CountLine).where(*where)
                            .values(counted=func.coalesce(CountLine.counted, 0) + quantity)).rowcount
    if moved == 0:
        session.add(CountLine(task_id=task.id, product_id=pid, bin_id=bid, counted=quantity, found=True))
        session.flush()
    counted = session.scalar(select(CountLine.counted).where(*where))
    where_text = inventory.bin_code(session, bid) if bid is not None else ""
    return CountScan(_("{sku}: {n} counted{where}").format(sku=sku, n=counted,
                                                             where=f" in {where_text}" if where_text else ""),
                     where_text, sku, counted)


def set_counted(session: Session, actor: Actor, task_ref: int | str, bin_code: str | None, product: str,
                counted: int) -> None:
    """Enter a line's count as a number (the command line, a count sheet typed in afterwards)."""
    validate.quantity(counted, "counted quantity", allow_zero=True)
    task = _task(session, task_ref, for_update=True)
    _must_be(task, CountStatus.OPEN)
    has_bins = session.scalar(select(CountBin.bin_id).where(CountBin.task_id == task.id).limit(1)) is not None
    if has_bins and not bin_code:
        raise InvalidInput(_("Say which bin {product} was counted in.").format(product=product))
    bid = _task_bin(session, task, bin_code) if has_bins else None
    pid = inventory.product_id(session, product)
    sku = session.scalar(select(Product.sku).where(Product.id == pid))
    if task.scope == CountScope.SKU.value and sku != task.scope_ref:
        raise InvalidInput(_("{sku} is not counted here: {number} counts {ref} only.").format(
            sku=sku, number=count_number(task.id), ref=task.scope_ref))
    if bid is not None:
        session.execute(update(CountBin).where(CountBin.task_id == task.id, CountBin.bin_id == bid,
                                               CountBin.visited_at.is_(None)).values(visited_at=utcnow()))
    where = (CountLine.task_id == task.id, CountLine.product_id == pid,
             CountLine.bin_id.is_(None) if bid is None else CountLine.bin_id == bid)
    if session.execute(update(CountLine).where(*where).values(counted=counted)).rowcount == 0:
        session.add(CountLine(task_id=task.id, product_id=pid, bin_id=bid, counted=counted, found=True))
        session.flush()


# -- submitting, approving ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    number: str
    status: str
    lines: int
    differing: int  # lines whose count differs from the books
    beyond: int  # of them, beyond the threshold
    message: str


def _books(session: Session, task: CountTask, line: CountLine) -> int:
    if line.bin_id is not None:
        return session.scalar(select(BinStock.on_hand).where(BinStock.bin_id == line.bin_id,
                                                             BinStock.product_id == line.product_id)) or 0
    return session.scalar(select(StockLevel.on_hand).where(StockLevel.product_id == line.product_id,
                                                           StockLevel.location_id == task.location_id)) or 0


def submit_count(session: Session, actor: Actor, task_ref: int | str) -> Submitted:
    """The counter is done. Every bin must have been scanned and every line counted. The books' figures are taken
    now; lines within the threshold are applied at once when all are, else the whole count waits for a supervisor."""
    task = _task(session, task_ref, for_update=True)
    _must_be(task, CountStatus.OPEN)
    number = count_number(task.id)
    missing = list(session.scalars(
        select(Bin.code).join(CountBin, CountBin.bin_id == Bin.id)
        .where(CountBin.task_id == task.id, CountBin.visited_at.is_(None)).order_by(Bin.pick_sequence, Bin.code)))
    if missing:
        raise InvalidInput(_("Not counted yet: {bins}. Scan each bin (an empty one too), then its items.").format(
            bins=", ".join(missing[:8]) + ("…" if len(missing) > 8 else "")))
    lines = list(session.scalars(select(CountLine).where(CountLine.task_id == task.id).order_by(CountLine.id)))
    uncounted = [l for l in lines if l.counted is None]
    if uncounted:
        skus = dict(session.execute(select(Product.id, Product.sku).where(
            Product.id.in_({l.product_id for l in uncounted}))).all())
        raise InvalidInput(_("Not counted yet: {skus}. Scan them, or count them as none.").format(
            skus=", ".join(sorted(skus.values()))))
    for line in lines:
        line.expected = _books(session, task, line)
    differing = [l for l in lines if l.counted != l.expected]
    beyond = [l for l in differing if abs(l.counted - l.expected) > task.threshold]
    task.counted_by, task.submitted_at = actor.user[:64], utcnow()
    session.flush()
    if beyond:
        task.status = CountStatus.REVIEW.value
        audit.record(session, actor, "count.submit", "count_task", task.id,
                     summary=_("{number} counted: {n} lines differ beyond {t} units; a supervisor must approve").format(
                         number=number, n=len(beyond), t=task.threshold),
                     after={"lines": len(lines), "differing": len(differing), "beyond": len(beyond)})
        message = _("{number} submitted: {n} of its lines differ from the books by more than {t}; "
                    "a supervisor must approve it.").format(number=number, n=len(beyond), t=task.threshold)
    else:
        audit.record(session, actor, "count.submit", "count_task", task.id,
                     summary=_("{number} counted: {n} lines differ, each within {t} units").format(
                         number=number, n=len(differing), t=task.threshold),
                     after={"lines": len(lines), "differing": len(differing), "beyond": 0})
        _apply(session, actor, task, "cycle count")
        message = (_("{number} done: the stock matched the count.").format(number=number) if not differing else
                   _("{number} done: {n} small differences corrected in the stock.").format(number=number,
                                                                                            n=len(differing)))
    return Submitted(number, task.status, len(lines), len(differing), len(beyond), message)


def _apply(session: Session, actor: Actor, task: CountTask, reason: str) -> None:
    """Each line that differs goes through the ledger, provided the books still hold what they held at submission:
    stock that moved since (a pick, a putaway) makes the count stale, and it is counted again rather than guessed."""
    number = count_number(task.id)
    for line in session.scalars(select(CountLine).where(CountLine.task_id == task.id).order_by(CountLine.id)):
        if line.counted == line.expected:
            continue
        now = _books(session, task, line)
        if now != line.expected:
            sku = session.scalar(select(Product.sku).where(Product.id == line.product_id))
            raise Conflict(_("{sku} in {bin} moved since it was counted ({then} then, {now} now): send {number} "
                             "back for a recount.").format(sku=sku, bin=inventory.bin_code(session, line.bin_id) or "—",
                                                          then=line.expected, now=now, number=number))
        restock.count(session, actor, line.product_id, task.location_id, line.counted, bin=line.bin_id,
                      reason=f"{reason} ({number})")
    task.status, task.closed_at = CountStatus.DONE.value, utcnow()
    session.flush()


def _supervisor(session: Session, username: str) -> str:
    name = (username or "").strip()
    if not name:
        raise InvalidInput(_("A supervisor must approve this count: give their user name."))
    role = session.execute(select(User.role, User.active).where(User.username == name)).first()
    if role is None:
        raise NotFound(_("There is no user {name}.").format(name=name))
    if not role.active or role.role not in SUPERVISOR_ROLES:
        raise InvalidInput(_("{name} is no supervisor: only a supervisor approves a count's variance.").format(name=name))
    return name


def approve_count(session: Session, actor: Actor, task_ref: int | str, supervisor: str, reason_code: str,
                  note: str = "") -> str:
    """A supervisor (not the one who counted) accepts a count's variance with a reason code; the counts go through
    the ledger. Returns what was done, in words."""
    task = _task(session, task_ref, for_update=True)
    _must_be(task, CountStatus.REVIEW)
    name = _supervisor(session, supervisor)
    if name == task.counted_by:
        raise InvalidInput(_("{name} counted {number}: another supervisor must approve it.").format(
            name=name, number=count_number(task.id)))
    code = (reason_code or "").strip().lower()
    if code not in REASONS:
        raise InvalidInput(_("“{code}” is no reason code; use one of: {codes}.").format(
            code=reason_code, codes=", ".join(REASONS)))
    note = validate.text(note, "note", 300)
    approver = Actor(name, actor.station)
    task.approved_by, task.reason_code, task.note = name, code, note
    _apply(session, approver, task, reason_title(code) + (f": {note}" if note else ""))
    number = count_number(task.id)
    variance = [(l.product_id, l.bin_id, l.expected, l.counted) for l in session.scalars(
        select(CountLine).where(CountLine.task_id == task.id)) if l.counted != l.expected]
    audit.record(session, approver, "count.approve", "count_task", task.id,
                 summary=_("{number} approved by {name}: {reason}").format(number=number, name=name,
                                                                           reason=reason_title(code)),
                 before={"status": CountStatus.REVIEW.value},
                 after={"status": CountStatus.DONE.value, "reason": code, "note": note, "lines": variance})
    return _("{number} approved ({reason}); the stock now follows the count.").format(number=number,
                                                                                       reason=reason_title(code))


def recount(session: Session, actor: Actor, task_ref: int | str, supervisor: str) -> str:
    """A supervisor doubts the count: it goes back to be counted again from scratch."""
    task = _task(session, task_ref, for_update=True)
    _must_be(task, CountStatus.REVIEW)
    name = _supervisor(session, supervisor)
    session.execute(delete(CountLine).where(CountLine.task_id == task.id, CountLine.found.is_(True)))
    session.execute(update(CountLine).where(CountLine.task_id == task.id).values(counted=None, expected=None))
    session.execute(update(CountBin).where(CountBin.task_id == task.id).values(visited_at=None))
    task.status, task.counted_by, task.submitted_at = CountStatus.OPEN.value, "", None
    number = count_number(task.id)
    audit.record(session, Actor(name, actor.station), "count.recount", "count_task", task.id,
                 summary=_("{number} sent back for a recount by {name}").format(number=number, name=name),
                 before={"status": CountStatus.REVIEW.value}, after={"status": CountStatus.OPEN.value})
    return _("{number} goes back to be counted again.").format(number=number)


def cancel_count(session: Session, actor: Actor, task_ref: int | str) -> None:
    task = _task(session, task_ref, for_update=True)
    _must_be(task, CountStatus.OPEN, CountStatus.REVIEW)
    task.status, task.closed_at = CountStatus.CANCELLED.value, utcnow()
    audit.record(session, actor, "count.cancel", "count_task", task.id,
                 summary=_("{number} cancelled").format(number=count_number(task.id)))
