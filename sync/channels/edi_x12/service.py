"""EDI with a trading partner: 850s in as wholesale orders (997 and 855 back), 856 and 810 out at ship confirm.

Every inbound interchange is handled in one transaction: its orders, its acknowledgements
and its document log commit together, or nothing does. Outbound documents get their
control numbers when they are written, and are stored whole, so a resend is byte for
byte the same document with the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time as dtime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from oms import intake, orders, purchasing, threepl
from oms.core import money, outbox, wording
from oms.core.audit import Actor
from oms.core.errors import NotFound, OmsError
from oms.core.i18n import _, ngettext
from oms.core.models import OutboxMessage
from oms.core.types import utcnow
from oms.integration import sync_store
from oms.orders.contract import Address, NormalizedLine, NormalizedOrder
from oms.orders.models import Channel, OrderLine, SalesOrder
from oms.partners import edi
from oms.partners.models import EdiDocument
from oms.shipping.models import Shipment
from oms.threepl.models import ThreePLOrder

from .ack import build_997, parse_997
from .warehouse import build_940, build_943, read_846, read_944, read_945, read_947
from .docs import LineAck, PurchaseOrder, build_810, build_855, build_856, read_850, read_860
from .supply import SUPPLIER_SETS, apply_supplier_document, build_850
from .x12 import (
    Delimiters,
    Group,
    Interchange,
    Transaction,
    ValidationIssue,
    X12Error,
    parse_interchanges,
    write_interchange,
)

READERS = {"850": read_850, "860": read_860}  # the transaction sets a partner may send us (997s are read apart)
WAREHOUSE_READERS = {"945": read_945, "846": read_846, "947": read_947, "944": read_944}  # and those a 3PL warehouse sends (a partner with a location)

EDI_ACTOR = Actor("edi", "edi")


@dataclass
class InboundReport:
    interchanges: int = 0
    orders_created: int = 0
    orders_updated: int = 0
    orders_cancelled: int = 0
    rejected: int = 0
    acks_received: int = 0
    duplicates: int = 0
    supplier_documents: list[str] = field(default_factory=list)  # what suppliers' 855s and 856s did, in words
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        text = (ngettext("{i} interchange", "{i} interchanges", self.interchanges) + ": "
                + ngettext("{c} new order", "{c} new orders", self.orders_created) + ", "
                + _("{u} changed, {x} cancelled, {r} rejected") + ", "
                + ngettext("{a} acknowledgement read", "{a} acknowledgements read", self.acks_received)).format(
            i=self.interchanges, c=self.orders_created, u=self.orders_updated, x=self.orders_cancelled, r=self.rejected,
            a=self.acks_received)
        if self.duplicates:
            text += _(", {d} already received (skipped)").format(d=self.duplicates)
        for said in self.supplier_documents:
            text += "; " + said
        return text


def _delimiters(p: edi.PartnerInfo) -> Delimiters:
    return Delimiters(p.element_sep, p.segment_term, p.component_sep, p.repetition_sep)


def _isa_version(p: edi.PartnerInfo) -> str:
    return "00501" if p.version.startswith("005") else "00401"


def write_document(session: Session, partner: edi.PartnerInfo, functional_id: str, set_id: str, segments, *,
                   when: datetime | None = None) -> tuple[str, int, int, int]:
    """An interchange with one group and one transaction, with fresh control numbers. Returns (text, isa, gs, st)."""
    return write_documents(session, partner, functional_id, set_id, [segments], when=when)[0]


def write_documents(session: Session, partner: edi.PartnerInfo, functional_id: str, set_id: str, documents, *,
                    when: datetime | None = None) -> list[tuple[str, int, int, int]]:
    """One interchange per document (each its own group and transaction), control numbers taken as one block per
    level: [(text, isa, gs, st)] in the order given."""
    documents = list(documents)
    if not documents:
        return []
    isa0, gs0, st0 = (edi.next_control(session, partner.id, level, len(documents)) for level in ("isa", "gs", "st"))
    out = []
    for k, segments in enumerate(documents):
        isa, gs, st = isa0 + k, gs0 + k, st0 + k
        group = Group(functional_id=functional_id, sender=partner.our_gs_id, receiver=partner.their_gs_id, control=str(gs),
                      version=partner.version, transactions=(Transaction(set_id=set_id, control=f"{st:04d}", segments=tuple(segments)),))
        text = write_interchange([group], sender_id=partner.our_id, receiver_id=partner.their_id, control=isa,
                                 sender_qualifier=partner.our_qualifier, receiver_qualifier=partner.their_qualifier,
                                 delimiters=_delimiters(partner), version=_isa_version(partner), usage=partner.usage,
                                 when=when, newline=True, on_delimiter_in_data="replace")
        out.append((text, isa, gs, st))
    return out


def _queue(session: Session, partner: edi.PartnerInfo, doc_type: str, key: str, text: str, isa: int, gs: int, st: int, *,
           order_id: int | None = None, shipment_id: int | None = None) -> None:
    """Store the document and queue it for the partner's transport, in the caller's transaction."""
    _queue_many(session, partner, doc_type, [(key, (text, isa, gs, st), order_id, shipment_id)])


def _queue_many(session: Session, partner: edi.PartnerInfo, doc_type: str, items) -> None:
    """Bulk form of _queue: items are (idempotency key, (text, isa, gs, st), order id, shipment id)."""
    doc_ids = edi.record_documents(session, partner.id, [
        {"direction": "out", "doc_type": doc_type, "status": "queued", "raw": text, "isa": isa, "gs": gs, "st": f"{st:04d}",
         "order_id": order_id, "shipment_id": shipment_id}
        for _key, (text, isa, gs, st), order_id, shipment_id in items])
    outbox.enqueue_many(session, partner.code, "edi.send", [
        (key, {"document_id": doc_id, "doc_type": doc_type, "filename": f"{partner.code}_{doc_type}_{isa:09d}.x12"}, order_id)
        for doc_id, (key, (_text, isa, _gs, _st), order_id, _sh) in zip(doc_ids, items)])


def import_interchanges(session: Session, data: bytes | str, *, filename: str = "", partner_code: str | None = None,
                        actor: Actor = EDI_ACTOR) -> InboundReport:
    """Read a file from a partner in the caller's transaction. A file nobody can read is refused whole (OmsError)."""
    report = InboundReport()
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    try:
        interchanges = parse_interchanges(text)
    except X12Error as exc:
        raise OmsError(_("{file} is not an X12 file Quayside can read: {error}").format(file=filename or _("The file"), error=exc)) from exc
    for ic in interchanges:
        report.interchanges += 1
        partner = edi.partner(session, partner_code) if partner_code else edi.partner_for_sender(session, ic.sender_qualifier, ic.sender_id)
        if partner is None:
            raise NotFound(_("Interchange {ctl} comes from {q}/{sender}, which is no trading partner of ours; "
                             "add the partner first.").format(ctl=ic.control, q=ic.sender_qualifier, sender=ic.sender_id.strip()))
        _import_interchange(session, partner, ic, filename, actor, report)
    return report


def _already_received(session: Session, partner: edi.PartnerInfo, ic: Interchange) -> EdiDocument | None:
    """The document of an earlier, not rejected, receipt of this interchange (same partner, ISA13 and first GS06)."""
    if not ic.groups:
        return None
    return session.scalars(select(EdiDocument).where(
        EdiDocument.partner_id == partner.id, EdiDocument.direction == "in", EdiDocument.gs_control == ic.groups[0].control,
        EdiDocument.isa_control == ic.control, EdiDocument.status.not_in(("rejected", "duplicate"))).limit(1)).first()


def _import_interchange(session: Session, partner: edi.PartnerInfo, ic: Interchange, filename: str, actor: Actor,
                        report: InboundReport) -> None:
    earlier = _already_received(session, partner, ic)
    if earlier is not None:
        # The same interchange again (a partner's resend, or a file fetched twice after a lost connection): its
        # orders are in already. Logged, so it is visible, and nothing is imported or acknowledged twice.
        message = _("Interchange {ctl} from {p} was already received on {when}{file}; this copy was skipped.").format(
            ctl=ic.control, p=partner.code, when=f"{earlier.created_at:%Y-%m-%d %H:%M}",
            file=_(" in {f}").format(f=earlier.filename) if earlier.filename else "")
        raw = "\n".join(tx.raw for _g, tx in ic.transactions())
        edi.record_document(session, partner.id, direction="in", doc_type="ISA", status="duplicate", raw=raw or "(empty)",
                            isa=ic.control, gs=ic.groups[0].control, filename=filename, error=message)
        report.duplicates += 1
        report.problems.append(message)
        return
    fatal = [i for i in ic.issues if i.level == "interchange" and i.severity == "error"]
    if fatal:
        raw = "\n".join(tx.raw for _g, tx in ic.transactions()) or ""
        edi.record_document(session, partner.id, direction="in", doc_type="ISA", status="rejected", raw=raw,
                            isa=ic.control, filename=filename, error="; ".join(i.message for i in fatal))
        sync_store.quarantine(session, partner.code, "edi", f"ISA {ic.control}", raw or "(empty)", "; ".join(i.message for i in fatal))
        report.rejected += 1
        report.problems += [i.message for i in fatal]
        return
    for group in ic.groups:
        if group.functional_id == "FA":
            for tx in group.transactions:
                _read_997(session, partner, ic, group, tx, filename)
                report.acks_received += 1
            continue
        issues = list(group.issues)
        created: dict[int, PurchaseOrder] = {}  # orders this group created, with their latest PO (a replacement may follow)
        cancelled: set[int] = set()
        accepted: list[dict] = []
        batch: list[tuple[Transaction, PurchaseOrder]] = []

        def take(pairs: list[tuple[Transaction, PurchaseOrder]], results: list[tuple[int | None, str]]) -> None:
            for (tx, po), (order_id, outcome) in zip(pairs, results):
                if order_id is None:  # the domain refused this PO: outcome is why, and the partner hears it in the 997
                    issues.append(ValidationIssue(level="segment", code="8", position=2, segment="BEG", element=3,
                                                  element_code="7", bad_value=po.po_number, message=outcome,
                                                  transaction_control=tx.control, group_control=group.control))
                    _reject(session, partner, ic, group, tx, filename, outcome)
                    report.rejected += 1
                    report.problems.append(outcome)
                    continue
                accepted.append({"direction": "in", "doc_type": po.set_id, "status": "accepted", "raw": tx.raw, "isa": ic.control,
                                 "gs": group.control, "st": tx.control, "order_id": order_id, "filename": filename})
                if outcome == "created":
                    report.orders_created += 1
                    created[order_id] = po
                elif outcome == "cancelled":
                    report.orders_cancelled += 1
                    cancelled.add(order_id)
                else:
                    report.orders_updated += 1
                    if order_id in created:
                        created[order_id] = po

        def import_batch() -> None:
            # New and replacing POs of the group go in as one batch; the order of the file is kept around cancellations.
            if batch:
                take(batch, _apply_pos(session, partner, [po for _tx, po in batch], actor))
                batch.clear()

        for tx in group.transactions:
            if tx.set_id in WAREHOUSE_READERS and partner.location_code:
                problem = _take_warehouse_document(session, partner, ic, group, tx, filename, actor)
                if problem:
                    issues.append(ValidationIssue(level="transaction", code="5", position=1, segment="ST", element=None,
                                                  message=problem, transaction_control=tx.control, group_control=group.control))
                    report.rejected += 1
                    report.problems.append(problem)
                continue
            if tx.set_id in SUPPLIER_SETS:  # a supplier's answer to one of our POs
                import_batch()
                tx_errors = [i for i in tx.issues if i.severity == "error"]
                msg = "; ".join(i.message for i in tx_errors)
                if not tx_errors:
                    try:
                        with session.begin_nested():
                            said = apply_supplier_document(session, partner, tx, actor)
                    except (OmsError, ValueError) as exc:
                        msg = str(exc)
                    else:
                        accepted.append({"direction": "in", "doc_type": tx.set_id, "status": "accepted", "raw": tx.raw,
                                         "isa": ic.control, "gs": group.control, "st": tx.control, "order_id": None,
                                         "filename": filename})
                        report.supplier_documents.append(said)
                        continue
                head = "BAK" if tx.set_id == "855" else "BSN"
                issues.append(ValidationIssue(level="segment", code="8", position=2, segment=head, element=3,
                                              element_code="7", message=msg, transaction_control=tx.control,
                                              group_control=group.control))
                _reject(session, partner, ic, group, tx, filename, msg)
                report.rejected += 1
                report.problems.append(msg)
                continue
            if tx.set_id not in READERS:
                msg = _("Transaction set {s} is not one Quayside takes from {p}.").format(s=tx.set_id, p=partner.code)
                issues.append(ValidationIssue(level="transaction", code="1", position=1, segment="ST", element=1,
                                              message=msg, transaction_control=tx.control, group_control=group.control))
                _reject(session, partner, ic, group, tx, filename, msg)
                report.rejected += 1
                report.problems.append(msg)
                continue
            tx_errors = [i for i in tx.issues if i.severity == "error"]
            po = READERS[tx.set_id](tx, group.version) if not tx_errors else None
            if isinstance(po, list):
                tx_errors += [i for i in po if i.severity == "error"]
                issues += po
                po = None
            if tx_errors or po is None:
                msg = "; ".join(i.message for i in tx_errors) or _("The purchase order could not be read.")
                _reject(session, partner, ic, group, tx, filename, msg)
                report.rejected += 1
                report.problems.append(msg)
                continue
            if po.set_id == "860":
                import_batch()
                try:
                    with session.begin_nested():
                        outcome = _apply_change(session, partner, po, actor)
                except OmsError as exc:
                    issues.append(ValidationIssue(level="segment", code="8", position=2, segment="BCH", element=3,
                                                  element_code="7", bad_value=po.po_number, message=str(exc),
                                                  transaction_control=tx.control, group_control=group.control))
                    _reject(session, partner, ic, group, tx, filename, str(exc))
                    report.rejected += 1
                    report.problems.append(str(exc))
                    continue
                take([(tx, po)], [outcome])
            elif po.purpose_code == "01":
                import_batch()
                take([(tx, po)], [_cancel_po(session, partner, po, actor)])
            else:
                if any(p.po_number == po.po_number for _t, p in batch):
                    import_batch()  # the same PO twice in a group: the later one is a change to the earlier
                batch.append((tx, po))
        import_batch()
        edi.record_documents(session, partner.id, accepted)
        # The functional acknowledgement for the group, accepted / with errors / rejected.
        if "997" in partner.documents:
            text, isa, gs, st = write_document(session, partner, "FA", "997", build_997(ic, group, issues))
            _queue(session, partner, "997", f"{partner.code}:997:{ic.control}:{group.control}", text, isa, gs, st)
        # Orders came in (and were routed) through the intake; those created here are acknowledged as the group leaves
        # them, with what routing made of each line (one cancelled in the same group is not).
        routed = [(oid, po) for oid, po in created.items() if oid not in cancelled]
        if routed and "855" in partner.documents:
            send_855s(session, partner, routed)


def _take_warehouse_document(session: Session, partner: edi.PartnerInfo, ic: Interchange, group: Group, tx: Transaction,
                             filename: str, actor: Actor) -> str:
    """A 945, 944, 846 or 947 from a 3PL warehouse, applied through the domain in a savepoint: "" when taken, else why not
    (the document is then rejected in our 997 and kept with the reason; nothing of it is half-applied)."""
    tx_errors = [i for i in tx.issues if i.severity == "error"]
    read = WAREHOUSE_READERS[tx.set_id](tx, group.version) if not tx_errors else tx_errors
    if isinstance(read, list):
        message = "; ".join(i.message for i in read) or _("The {t} could not be read.").format(t=tx.set_id)
        _reject(session, partner, ic, group, tx, filename, message)
        return message
    who = Actor(f"3pl:{partner.code}"[:64], actor.station)
    order_id = None
    try:
        with session.begin_nested():
            if tx.set_id == "945":
                done = threepl.apply_shipment(session, who, partner.code, read)
                order_id = session.scalar(select(ThreePLOrder.order_id).where(
                    ThreePLOrder.connection == partner.code, ThreePLOrder.reference == read.reference))
            elif tx.set_id == "944":
                reference, items = read
                done = threepl.receive_transfer(session, who, partner.code, reference, items)
                if done.differences:
                    sync_store.quarantine(session, partner.code, "exceptions", f"944 {reference}", tx.raw,
                                          _("{p} received {ref} with differences: {what}.").format(
                                              p=partner.code, ref=reference, what="; ".join(done.differences)))
            elif tx.set_id == "947":
                number, items = read
                done = threepl.apply_adjustments(session, who, partner.location_code, items, number)
                if done.unknown:
                    sync_store.quarantine(session, partner.code, "edi", f"947 {number}", tx.raw,
                                          _("The 3PL adjusted {skus}, which we do not sell.").format(skus=", ".join(done.unknown)))
            else:
                as_of, items = read
                done = threepl.apply_snapshot(session, who, partner.location_code, items, as_of, own_user=who.user)
                if done.unknown:
                    sync_store.quarantine(session, partner.code, "edi", f"846 {tx.control}", tx.raw,
                                          _("The 3PL holds {skus}, which we do not sell.").format(skus=", ".join(done.unknown)))
    except OmsError as exc:
        _reject(session, partner, ic, group, tx, filename, str(exc))
        sync_store.quarantine(session, partner.code, "edi", f"{tx.set_id} {ic.control}", tx.raw, str(exc))
        return str(exc)
    edi.record_documents(session, partner.id, [{"direction": "in", "doc_type": tx.set_id, "status": "accepted", "raw": tx.raw,
                                                "isa": ic.control, "gs": group.control, "st": tx.control,
                                                "order_id": order_id, "filename": filename}])
    return ""


def _reject(session, partner, ic, group, tx, filename, message) -> None:
    edi.record_document(session, partner.id, direction="in", doc_type=tx.set_id or "?", status="rejected", raw=tx.raw,
                        isa=ic.control, gs=group.control, st=tx.control, filename=filename, error=message)
    sync_store.quarantine(session, partner.code, "edi", f"{tx.set_id} {group.control}/{tx.control}", tx.raw, message)


def _read_997(session, partner, ic, group, tx, filename) -> None:
    ack = parse_997(tx)
    edi.record_document(session, partner.id, direction="in", doc_type="997", status="received", raw=tx.raw,
                        isa=ic.control, gs=group.control, st=tx.control, filename=filename)
    docs = session.scalars(select(EdiDocument).where(EdiDocument.partner_id == partner.id, EdiDocument.direction == "out",
                                                     EdiDocument.gs_control == str(int(ack.group_control)))).all()
    for doc in docs:
        status = ack.status_of(doc.st_control) if hasattr(ack, "status_of") else ack.status
        doc.status = "acknowledged" if (status or ack.status) in ("A", "E") else "rejected"
        doc.acknowledged_at = utcnow()
        if doc.doc_type == "940" and doc.order_id is not None and doc.status == "acknowledged":
            threepl.acknowledge_order(session, partner.code, doc.order_id, f"940 #{int(doc.isa_control)}")
        if doc.status == "rejected":
            sync_store.quarantine(session, partner.code, "edi", f"{doc.doc_type} {doc.gs_control}", doc.raw,
                                  _("{p} rejected our {t} (group {g}).").format(p=partner.code, t=doc.doc_type, g=doc.gs_control))


def _aware(d: date | None, hour: int = 17) -> datetime | None:
    return datetime.combine(d, dtime(hour, 0), tzinfo=timezone.utc) if d else None


def ship_to_address(session: Session, partner: edi.PartnerInfo, po: PurchaseOrder, ship_tos: dict) -> Address | None:
    """Where the PO ships: the partner's ship-to code mapped to an address we know, else the address the PO spells
    out; None when it gives a code we cannot map and no address (or no ship-to at all). ``ship_tos`` remembers codes
    already looked up."""
    st = po.ship_to
    if st is None:
        return None
    if st.id_code not in ship_tos:
        ship_tos[st.id_code] = edi.resolve_ship_to(session, partner.id, st.id_code) if st.id_code else None
    mapped = ship_tos[st.id_code]
    if mapped is not None:
        return Address(mapped.name, partner.name, mapped.address1, "", mapped.city, mapped.region, mapped.postal_code, mapped.country)
    if st.address or st.city:
        return Address(st.name, partner.name, (st.address or ("",))[0], " ".join(st.address[1:]), st.city,
                       st.region, st.postal_code, st.country or "US")
    return None


def po_to_order(session: Session, partner: edi.PartnerInfo, po: PurchaseOrder, ship_tos: dict | None = None
                ) -> tuple[NormalizedOrder, list[str]]:
    """The wholesale order a PO stands for, and what could not be matched (unknown items, ship-to). ``ship_tos``
    remembers ship-to codes already looked up within a batch."""
    unknown: list[str] = []
    currency = po.currency or "USD"
    lines = []
    for l in po.lines:
        sku = edi.resolve_item(session, partner.id, l.product_ids)
        if sku is None:
            ident = next(iter(l.product_ids.items()), ("", l.line_id))
            sku = f"{ident[0]}:{ident[1]}"[:64]
            unknown.append(wording.sku(sku))
        price = money.to_minor(l.unit_price.quantize(Decimal("0.01")), currency) if l.unit_price is not None else 0
        lines.append(NormalizedLine(l.line_id, sku, l.quantity, price, l.description[:300]))
    address = ship_to_address(session, partner, po, {} if ship_tos is None else ship_tos)
    if po.ship_to is not None and address is None:
        unknown.append(_("ship-to code {c}").format(c=po.ship_to.id_code or "?"))
    address = address or Address()
    # The PO gives a day, not a time: 9:00 that day, but never later than now (a PO dated today that arrives at
    # 7:40 was not placed at 9:00).
    now = utcnow()
    placed = min(_aware(po.po_date, 9) or now, now)
    order = NormalizedOrder(
        channel=partner.channel_code, external_id=po.po_number, number=po.po_number, placed_at=placed, currency=currency,
        lines=tuple(lines), order_type="wholesale", customer_name=partner.name, ship_to=address,
        subtotal_minor=sum(l.quantity * l.unit_price_minor for l in lines),
        total_minor=sum(l.quantity * l.unit_price_minor for l in lines), service_level="ground",
        ship_by=_aware(po.ship_no_later or po.requested_ship), deliver_by=_aware(po.requested_delivery or po.cancel_after),
    )
    return order, unknown


def _cancel_po(session: Session, partner: edi.PartnerInfo, po: PurchaseOrder, actor: Actor) -> tuple[int, str]:
    """An 850 (or 860) with purpose 01 cancels a PO we have."""
    existing = _find_po(session, partner, po.po_number)
    if existing is None:
        raise NotFound(_("{p} cancels PO {n}, which we never received.").format(p=partner.code, n=po.po_number))
    orders.cancel_order(session, actor, existing, reason=_("Cancelled by {p} ({t} purpose 01)").format(p=partner.code, t=po.set_id),
                        notify_channel=False)
    return existing, "cancelled"


def _apply_pos(session: Session, partner: edi.PartnerInfo, pos: list[PurchaseOrder], actor: Actor
               ) -> list[tuple[int | None, str]]:
    """New or replacing POs (distinct numbers) taken in as one batch through the intake, which imports and routes them:
    [(order id, created|updated|unchanged)], or (None, why) for a PO the domain refused."""
    ship_tos: dict = {}
    mapped = [po_to_order(session, partner, po, ship_tos) for po in pos]
    taken = intake.take_in(session, actor, [order for order, _unknown in mapped])
    why = {id(r.order): r.reason for r in taken.refused}
    for result, (order, unknown) in zip(taken.results, mapped):
        if result is not None and unknown and result.outcome == "created":
            o = session.get(SalesOrder, result.order_id)
            if not o.on_hold:
                orders.hold(session, actor, o.id, _("Not matched from the purchase order: {what}").format(what=", ".join(unknown))[:300])
    return [(r.order_id, r.outcome) if r is not None else (None, why[id(order)]) for r, (order, _u) in zip(taken.results, mapped)]


def _find_po(session: Session, partner: edi.PartnerInfo, po_number: str) -> int | None:
    return session.scalar(select(SalesOrder.id).join(Channel, Channel.id == SalesOrder.channel_id).where(
        SalesOrder.external_id == po_number, Channel.code == partner.channel_code))


def _apply_change(session: Session, partner: edi.PartnerInfo, po: PurchaseOrder, actor: Actor) -> tuple[int, str]:
    """An 860 change order applied to the order its PO became: lines added (AI), deleted (DI: what is still open is
    cancelled), quantities and prices changed, new dates or ship-to; the whole PO cancelled with BCH01 01. What can no
    longer change (picked, shipped) is refused and the order held, as for any channel's edit."""
    order_id = _find_po(session, partner, po.po_number)
    if order_id is None:
        raise NotFound(_("{p} changes PO {n} (860), which we never received.").format(p=partner.code, n=po.po_number))
    if po.purpose_code == "01":
        return _cancel_po(session, partner, po, actor)
    current = orders.as_normalized(session, order_id)
    lines = {l.external_line_id: l for l in current.lines}
    currency = current.currency
    deleted: list[str] = []
    unknown: list[str] = []
    for pl in po.lines:
        price = money.to_minor(pl.unit_price.quantize(Decimal("0.01")), currency) if pl.unit_price is not None else None
        if pl.change == "DI":
            if pl.line_id not in lines:
                raise NotFound(_("{p} deletes line {l} of PO {n}, which has no such line.").format(
                    p=partner.code, l=pl.line_id, n=po.po_number))
            deleted.append(pl.line_id)
        elif pl.line_id not in lines:
            sku = edi.resolve_item(session, partner.id, pl.product_ids)
            if sku is None:
                ident = next(iter(pl.product_ids.items()), ("", pl.line_id))
                sku = f"{ident[0]}:{ident[1]}"[:64]
                unknown.append(wording.sku(sku))
            if not pl.quantity_given:
                raise OmsError(_("{p} adds line {l} to PO {n} without a quantity (POC03).").format(
                    p=partner.code, l=pl.line_id, n=po.po_number))
            lines[pl.line_id] = NormalizedLine(pl.line_id, sku, pl.quantity, price or 0, pl.description[:300])
        else:
            old = lines[pl.line_id]
            lines[pl.line_id] = replace(old, quantity=pl.quantity if pl.quantity_given else old.quantity,
                                        unit_price_minor=old.unit_price_minor if price is None else price,
                                        description=pl.description[:300] or old.description)
    new_address = ship_to_address(session, partner, po, {})
    ship_to = replace(new_address, phone=current.ship_to.phone) if new_address else current.ship_to
    total = sum(l.quantity * l.unit_price_minor for l in lines.values())
    changed = replace(current, lines=tuple(lines.values()), ship_to=ship_to, subtotal_minor=total, total_minor=total,
                      ship_by=_aware(po.ship_no_later or po.requested_ship) or current.ship_by,
                      deliver_by=_aware(po.requested_delivery or po.cancel_after) or current.deliver_by)
    # Deleted lines are cancelled first, so the intake routes only what the partner still wants.
    reason = _("Deleted by {p} (860 change order)").format(p=partner.code)
    for ext in deleted:
        line = session.scalar(select(OrderLine).where(OrderLine.order_id == order_id, OrderLine.external_line_id == ext))
        if line.quantity - line.shipped - line.cancelled - line.picked > 0:
            orders.cancel_line(session, actor, line.id, reason=reason, notify_channel=False)
    taken = intake.take_in(session, actor, [changed])
    if taken.refused:
        raise OmsError(taken.refused[0].reason)
    (result,) = taken.results
    if unknown:
        o = session.get(SalesOrder, order_id)
        orders.hold(session, actor, o.id, _("Not matched from the purchase order: {what}").format(what=", ".join(unknown))[:300])
    return order_id, "updated" if (result.outcome == "updated" or deleted) else result.outcome


def send_855(session: Session, partner: edi.PartnerInfo, order_id: int, po: PurchaseOrder) -> None:
    """The PO acknowledgement after routing: each line accepted, backordered (with a date) or rejected."""
    send_855s(session, partner, [(order_id, po)])


def send_855s(session: Session, partner: edi.PartnerInfo, routed: list[tuple[int, PurchaseOrder]]) -> None:
    """The 855s of routed orders, in a few statements: what each line got is read for all of them at once."""
    ids = [oid for oid, _po in routed]
    lines: dict[int, dict[str, tuple[bool, int, int]]] = {oid: {} for oid in ids}
    ship_by: dict[int, datetime | None] = {}
    waiting: list[int] = []
    for chunk in (ids[k:k + 500] for k in range(0, len(ids), 500)):
        for oid, ext, unknown, allocated, line_id, backordered in session.execute(
                select(OrderLine.order_id, OrderLine.external_line_id, OrderLine.unknown_sku, OrderLine.allocated,
                       OrderLine.id, OrderLine.backordered)
                .where(OrderLine.order_id.in_(chunk))):
            lines[oid][ext] = (unknown, allocated, line_id)
            if backordered:
                waiting.append(line_id)
        ship_by.update(session.execute(select(SalesOrder.id, SalesOrder.ship_by).where(SalesOrder.id.in_(chunk))).all())
    # A backordered line is expected when the open PO that will reach it arrives (its date plus the location's
    # receiving lead time); without one, on the order's ship-by day, or a week from now.
    from_pos = purchasing.expected_for_lines(session, waiting) if waiting else {}
    fallback = (utcnow() + timedelta(days=7)).date()
    documents = []
    for order_id, po in routed:
        guess = ship_by[order_id].date() if ship_by.get(order_id) else fallback
        statuses = {}
        for pl in po.lines:
            line = lines[order_id].get(pl.line_id)
            if line is None or line[0]:
                statuses[pl.line_id] = LineAck("IR", pl.quantity)
                continue
            allocated = line[1]
            acks = []
            if allocated:
                acks.append(LineAck("IA", allocated))
            rest = pl.quantity - allocated
            if rest > 0:
                expected = from_pos[line[2]].day if line[2] in from_pos else guess
                acks.append(LineAck("IB", rest, expected))
            statuses[pl.line_id] = acks
        documents.append(build_855(po, statuses, seller_order_number=str(order_id)))
    written = write_documents(session, partner, "PR", "855", documents)
    _queue_many(session, partner, "855", [(f"{partner.code}:855:{oid}", doc, oid, None) for (oid, _po), doc in zip(routed, written)])


# -- outbound at ship confirm ----------------------------------------------------------------------------


def document_for_message(session: Session, partner: edi.PartnerInfo, message: sync_store.OutboxRow | dict) -> tuple[str, str, int]:
    """The 856 or 810 for an "asn.create" / "invoice.create" outbox row, or the 850 of a "po.send" row to a supplier:
    (doc type, text, document id). Control numbers are
    taken once and remembered in the row, so a resend is the same document."""
    payload = message.payload if isinstance(message, sync_store.OutboxRow) else message["payload"]
    topic = message.topic if isinstance(message, sync_store.OutboxRow) else message["topic"]
    if payload.get("edi_document_id"):
        doc = session.get(EdiDocument, payload["edi_document_id"])
        return doc.doc_type, doc.raw, doc.id
    shipped = datetime.fromisoformat(payload["shipped_at"]) if payload.get("shipped_at") else utcnow()
    if topic == purchasing.PO_TOPIC:
        doc_type, functional = "850", "PO"
        segments = build_850(session, purchasing.po_detail(session, payload["po"]))
    elif topic == "asn.create":
        doc_type, functional, segments = "856", "SH", build_856(payload)
    elif topic == "invoice.create":
        doc_type, functional = "810", "IN"
        # The shipment's own invoice number (INV-000001, issued at ship confirm), so the partner pays what the
        # books know; a message queued before invoicing existed keeps the number made from the shipment id.
        number = payload.get("invoice_number") or f"INV{payload['shipment_id']:06d}"
        segments = build_810(payload, invoice_number=number, invoice_date=shipped.date())
    elif topic == threepl.ORDER_TOPIC:
        doc_type, functional, segments = "940", "OW", build_940(payload)
        shipped = utcnow()
    elif topic == threepl.TRANSFER_TOPIC:
        doc_type, functional, segments = "943", "AR", build_943(payload)
        shipped = utcnow()
    else:
        raise OmsError(_("{topic} is not an EDI document.").format(topic=topic))
    text, isa, gs, st = write_document(session, partner, functional, doc_type, segments, when=shipped)
    doc_id = edi.record_document(session, partner.id, direction="out", doc_type=doc_type, status="queued", raw=text,
                                 isa=isa, gs=gs, st=f"{st:04d}", shipment_id=payload.get("shipment_id"),
                                 order_id=payload.get("order_id"))
    if doc_type == "940":  # the warehouse knows it by our reference; we show its 940 by its interchange number
        threepl.mark_sent(session, payload["transmission_id"], f"940 #{isa}")
    if isinstance(message, sync_store.OutboxRow):
        sync_store.update_payload(session, message.id, {**payload, "edi_document_id": doc_id})
    return doc_type, text, doc_id


def export_shipment(session: Session, shipment_id: int, doc_type: str) -> str:
    """The 856 or 810 of a shipped wholesale shipment (the one queued at ship confirm, or built now)."""
    sh = session.get(Shipment, shipment_id)
    if sh is None:
        raise NotFound(_("There is no shipment {id}.").format(id=shipment_id))
    topic = {"856": "asn.create", "810": "invoice.create"}.get(doc_type)
    if topic is None:
        raise OmsError(_("Quayside exports 856 and 810 documents, not {d}.").format(d=doc_type))
    msg = session.scalar(select(OutboxMessage).where(OutboxMessage.topic == topic,
                                                     OutboxMessage.idempotency_key.like(f"%:{topic.split('.')[0]}:{shipment_id}")))
    if msg is None:
        raise NotFound(_("Shipment {id} has no {d}: it is not a shipped wholesale shipment.").format(id=shipment_id, d=doc_type))
    partner = edi.partner(session, msg.destination)
    row = sync_store.OutboxRow(msg.id, msg.destination, msg.topic, msg.idempotency_key, dict(msg.payload), msg.attempts)
    return document_for_message(session, partner, row)[1]


def flag_unacknowledged(session: Session, partner: edi.PartnerInfo, *, now: datetime | None = None) -> int:
    """Documents we sent that the partner has not acknowledged within its time become exceptions
    (in the Sync screen's quarantine list), once each. Returns how many were flagged."""
    now = now or utcnow()
    deadline = now - timedelta(hours=partner.ack_timeout_h)
    late = session.scalars(select(EdiDocument).where(
        EdiDocument.partner_id == partner.id, EdiDocument.direction == "out", EdiDocument.status == "sent",
        EdiDocument.doc_type != "997", EdiDocument.created_at < deadline)).all()
    for doc in late:
        doc.status = "unacknowledged"
        sync_store.quarantine(session, partner.code, "exceptions", f"{doc.doc_type} {doc.isa_control}", doc.raw,
                              _("{p} has not acknowledged our {t} (interchange {i}) within {h} hours; ask them, or send it again.")
                              .format(p=partner.code, t=doc.doc_type, i=doc.isa_control, h=partner.ack_timeout_h))
    return len(late)
