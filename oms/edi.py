"""EDI trading partners in the database: identities, control numbers, item and ship-to cross-references, the document log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from . import audit, validate
from .audit import Actor
from .errors import Conflict, InvalidInput, NotFound
from .gs1 import is_valid_gtin, normalize_gtin
from .i18n import _
from .inventory import _insert_ignore
from .models import (
    NAME,
    SHORT,
    Barcode,
    Channel,
    EdiControl,
    EdiDocument,
    EdiItemXref,
    EdiShipTo,
    OrderType,
    Product,
    TradingPartner,
    utcnow,
)

VERSIONS = ("004010", "005010")
CONTROL_LEVELS = ("isa", "gs", "st")
GTIN_QUALIFIERS = ("UP", "UK", "EN", "UA")  # UPC, GTIN-14, EAN, U.P.C./EAN case code


@dataclass(frozen=True)
class PartnerInfo:
    id: int
    code: str
    name: str
    channel_code: str
    our_qualifier: str
    our_id: str
    their_qualifier: str
    their_id: str
    our_gs_id: str
    their_gs_id: str
    version: str
    element_sep: str
    segment_term: str
    component_sep: str
    repetition_sep: str
    documents: tuple[str, ...]
    item_qualifier: str
    usage: str
    transport: dict[str, Any]
    ack_timeout_h: int


def _info(p: TradingPartner, channel_code: str) -> PartnerInfo:
    return PartnerInfo(p.id, p.code, p.name, channel_code, p.our_qualifier, p.our_id, p.their_qualifier, p.their_id,
                       p.our_gs_id, p.their_gs_id, p.version, p.element_sep, p.segment_term, p.component_sep,
                       p.repetition_sep, tuple(d for d in p.documents.split(",") if d), p.item_qualifier, p.usage,
                       dict(p.transport or {}), p.ack_timeout_h)


def _check_id(value: str, what: str) -> str:
    value = validate.text(value, what, 15, required=True)
    if any(c in value for c in "*~^>:|"):
        raise InvalidInput(_("The {what} {value!r} contains a separator character.").format(what=what, value=value))
    return value


def add_partner(session: Session, actor: Actor, *, code: str, name: str, our_id: str, their_id: str,
                our_qualifier: str = "ZZ", their_qualifier: str = "ZZ", our_gs_id: str | None = None,
                their_gs_id: str | None = None, version: str = "004010", delimiters: str = "*~>^",
                documents: str = "850,855,856,810,997", item_qualifier: str = "UP", usage: str = "P",
                transport: dict | None = None, ack_timeout_h: int = 24) -> int:
    """A new trading partner; its orders arrive on a wholesale channel of the same code."""
    code = validate.text(code, "partner code", SHORT, required=True)
    name = validate.text(name, "partner name", NAME, required=True)
    if session.scalar(select(TradingPartner.id).where(TradingPartner.code == code)):
        raise Conflict(_("A trading partner {code} already exists.").format(code=code))
    if version not in VERSIONS:
        raise InvalidInput(_("X12 version {v!r} is not supported; use {versions}.").format(v=version, versions=", ".join(VERSIONS)))
    if len(delimiters) != 4 or len(set(delimiters)) != 4 or any(c.isalnum() or c.isspace() for c in delimiters):
        raise InvalidInput(_("Give four different delimiters (element, segment, component, repetition) that are not "
                             "letters, digits or spaces, e.g. *~>^."))
    for q, what in ((our_qualifier, "our ISA qualifier"), (their_qualifier, "their ISA qualifier")):
        if len(q) != 2 or not q.isalnum():
            raise InvalidInput(_("The {what} must be two characters (e.g. ZZ, 01, 08, 12), not {q!r}.").format(what=what, q=q))
    if usage not in ("P", "T"):
        raise InvalidInput(_("Usage is P (production) or T (test)."))
    transport = transport or {"kind": "folder"}
    if transport.get("kind") not in ("folder", "sftp"):
        raise InvalidInput(_("The transport is a pair of folders or SFTP."))
    channel_id = session.scalar(select(Channel.id).where(Channel.code == code))
    if channel_id is None:
        from .catalog import add_channel

        channel_id = add_channel(session, actor, code, name, "edi_x12", OrderType.WHOLESALE.value)
    partner = TradingPartner(
        code=code, name=name, channel_id=channel_id, our_qualifier=our_qualifier, our_id=_check_id(our_id, "our ISA id"),
        their_qualifier=their_qualifier, their_id=_check_id(their_id, "their ISA id"),
        our_gs_id=_check_id(our_gs_id or our_id, "our GS id"), their_gs_id=_check_id(their_gs_id or their_id, "their GS id"),
        version=version, element_sep=delimiters[0], segment_term=delimiters[1], component_sep=delimiters[2],
        repetition_sep=delimiters[3], documents=documents, item_qualifier=item_qualifier, usage=usage, transport=transport,
        ack_timeout_h=validate.quantity(ack_timeout_h, "acknowledgement time in hours"), active=True)
    session.add(partner)
    session.flush()
    audit.record(session, actor, "edi.partner_added", "trading_partner", partner.id, summary=f"{code}: {name} ({their_qualifier}/{their_id})")
    return partner.id


def partners(session: Session) -> list[PartnerInfo]:
    rows = session.execute(select(TradingPartner, Channel.code).join(Channel, Channel.id == TradingPartner.channel_id)
                           .order_by(TradingPartner.code)).all()
    return [_info(p, c) for p, c in rows]


def partner(session: Session, ref: str | int) -> PartnerInfo:
    q = select(TradingPartner, Channel.code).join(Channel, Channel.id == TradingPartner.channel_id)
    q = q.where(TradingPartner.id == ref) if isinstance(ref, int) else q.where(TradingPartner.code == ref)
    row = session.execute(q).first()
    if row is None:
        raise NotFound(_("There is no trading partner {ref}.").format(ref=ref))
    return _info(*row)


def partner_for_sender(session: Session, qualifier: str, sender_id: str) -> PartnerInfo | None:
    """The partner an interchange comes from, by its ISA05/ISA06 (IDs are compared without padding)."""
    row = session.execute(select(TradingPartner, Channel.code).join(Channel, Channel.id == TradingPartner.channel_id)
                          .where(TradingPartner.their_qualifier == qualifier.strip(),
                                 TradingPartner.their_id == sender_id.strip())).first()
    return _info(*row) if row else None


def next_control(session: Session, partner_id: int, level: str, count: int = 1) -> int:
    """The next control number for this partner at ISA, GS or ST level: strictly increasing, never reused,
    also with two stations on one PostgreSQL server (a conditional update takes it). With ``count``, a block
    of that many consecutive numbers is taken and the first is returned."""
    if level not in CONTROL_LEVELS:
        raise InvalidInput(_("Control numbers exist for {levels}.").format(levels=", ".join(CONTROL_LEVELS)))
    table = EdiControl.__table__
    take = (update(table).where(table.c.partner_id == partner_id, table.c.level == level)
            .values(next_value=table.c.next_value + count).returning(table.c.next_value - count))
    value = session.connection().execute(take).scalar()
    if value is None:  # the partner's first document at this level
        _insert_ignore(session, EdiControl, {"partner_id": partner_id, "level": level, "next_value": 1}, ["partner_id", "level"])
        value = session.connection().execute(take).scalar_one()
    limit = 999_999_999
    if value + count - 1 > limit:
        raise Conflict(_("The {level} control numbers for this partner are used up.").format(level=level.upper()))
    return value


def add_item_xref(session: Session, partner_id: int, qualifier: str, code: str, product: int | str) -> None:
    from .inventory import product_id

    session.add(EdiItemXref(partner_id=partner_id, qualifier=validate.text(qualifier, "qualifier", 2, required=True),
                            code=validate.text(code, "item code", SHORT, required=True), product_id=product_id(session, product)))
    session.flush()


def add_ship_to(session: Session, partner_id: int, code: str, name: str, *, address1: str = "", city: str = "",
                region: str = "", postal_code: str = "", country: str = "US") -> None:
    session.add(EdiShipTo(partner_id=partner_id, code=validate.text(code, "ship-to code", SHORT, required=True),
                          name=validate.text(name, "ship-to name", NAME, required=True), address1=address1, city=city,
                          region=region, postal_code=postal_code, country=validate.country(country)))
    session.flush()


def resolve_item(session: Session, partner_id: int, ids: dict[str, str]) -> str | None:
    """Our SKU for a PO line's product identifiers (qualifier -> code), trying the partner's cross-reference,
    then GTINs against our barcodes, then the vendor part number as our SKU. Answers are remembered for
    the session's transaction, since one purchase order file names the same items again and again."""
    cache = session.info.setdefault("edi_items", {})
    key = (partner_id, tuple(sorted(ids.items())))
    if key not in cache:
        cache[key] = _resolve_item(session, partner_id, ids)
    return cache[key]


def _resolve_item(session: Session, partner_id: int, ids: dict[str, str]) -> str | None:
    for qualifier, code in ids.items():
        sku = session.scalar(select(Product.sku).join(EdiItemXref, EdiItemXref.product_id == Product.id).where(
            EdiItemXref.partner_id == partner_id, EdiItemXref.qualifier == qualifier, EdiItemXref.code == code))
        if sku:
            return sku
    for qualifier in GTIN_QUALIFIERS:
        code = ids.get(qualifier)
        if code and code.isdigit() and is_valid_gtin(code):
            g = normalize_gtin(code)
            forms = {g, g[1:], g[2:], g.lstrip("0"), code}
            sku = session.scalar(select(Product.sku).join(Barcode, Barcode.product_id == Product.id)
                                 .where(Barcode.code.in_(forms)).limit(1))
            if sku:
                return sku
    for qualifier in ("VN", "VP", "SK"):
        code = ids.get(qualifier)
        if code and session.scalar(select(Product.sku).where(Product.sku == code)):
            return code
    return None


def resolve_ship_to(session: Session, partner_id: int, code: str) -> EdiShipTo | None:
    return session.get(EdiShipTo, (partner_id, code)) if code else None


def record_document(session: Session, partner_id: int, *, direction: str, doc_type: str, status: str, raw: str,
                    isa: str = "", gs: str = "", st: str = "", order_id: int | None = None, shipment_id: int | None = None,
                    filename: str = "", error: str = "") -> int:
    raw = validate.storable(raw)
    doc = EdiDocument(partner_id=partner_id, direction=direction, doc_type=doc_type, status=status, raw=raw,
                      isa_control=str(isa), gs_control=str(gs), st_control=str(st), order_id=order_id,
                      shipment_id=shipment_id, filename=filename[:300], error=error)
    session.add(doc)
    session.flush()
    return doc.id


def record_documents(session: Session, partner_id: int, rows: list[dict]) -> list[int]:
    """Bulk form of record_document() for a batch (one statement); each row has its keywords. Ids in row order."""
    if not rows:
        return []
    now = utcnow()
    values = [{
        "partner_id": partner_id, "direction": r["direction"], "doc_type": r["doc_type"], "status": r["status"],
        "raw": validate.storable(r["raw"]), "isa_control": str(r.get("isa", "")), "gs_control": str(r.get("gs", "")),
        "st_control": str(r.get("st", "")), "order_id": r.get("order_id"), "shipment_id": r.get("shipment_id"),
        "filename": r.get("filename", "")[:300], "error": r.get("error", ""), "created_at": now,
    } for r in rows]
    table = EdiDocument.__table__
    return list(session.connection().execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), values).scalars())
