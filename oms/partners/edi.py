"""EDI trading partners in the database: identities, control numbers, item and ship-to cross-references, the document log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from oms.catalog.models import Barcode, Product
from oms.core import audit, validate
from oms.core.audit import Actor
from oms.core.errors import Conflict, InvalidInput, NotFound
from oms.core.gs1 import is_valid_gtin, normalize_gtin
from oms.core.i18n import _
from oms.core.types import LINE, NAME, SHORT, utcnow
from oms.core.upsert import insert_ignore
from oms.inventory.models import Location, LocationKind
from oms.orders.models import Channel, OrderType
from oms.partners.models import EdiControl, EdiDocument, EdiItemXref, EdiShipTo, TradingPartner
from oms.users import require

VERSIONS = ("004010", "005010")
DOCUMENT_TYPES = ("850", "860", "855", "856", "810", "997")  # the transaction sets Quayside reads or writes
# With a 3PL warehouse (a partner serving a location of type 3PL): shipping orders out, shipping advice and stock in.
WAREHOUSE_DOCUMENT_TYPES = ("940", "945", "943", "944", "846", "947", "997")
MAX_ACK_TIMEOUT_H = 24 * 30
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
    location_code: str = ""  # a 3PL warehouse: the location of type 3PL it ships from; empty for a trading partner


def _info(p: TradingPartner, channel_code: str) -> PartnerInfo:
    return PartnerInfo(p.id, p.code, p.name, channel_code, p.our_qualifier, p.our_id, p.their_qualifier, p.their_id,
                       p.our_gs_id, p.their_gs_id, p.version, p.element_sep, p.segment_term, p.component_sep,
                       p.repetition_sep, tuple(d for d in p.documents.split(",") if d), p.item_qualifier, p.usage,
                       dict(p.transport or {}), p.ack_timeout_h,
                       p.location.code if p.location_id is not None and p.location is not None else "")


def _check_id(value: str, what: str) -> str:
    value = validate.text(value, what, 15, required=True)
    if any(c in value for c in "*~^>:|"):
        raise InvalidInput(_("The {what} {value!r} contains a separator character.").format(what=what, value=value))
    return value


def _check_qualifier(value: str, what: str) -> str:
    q = (value or "").strip().upper()
    if len(q) != 2 or not q.isalnum():
        raise InvalidInput(_("The {what} must be two characters (e.g. ZZ, 01, 08, 12), not {q!r}.").format(what=what, q=value))
    return q


def _check_documents(documents: str | tuple | list) -> str:
    items = documents.split(",") if isinstance(documents, str) else list(documents)
    chosen = {str(d).strip() for d in items if str(d).strip()}
    every = DOCUMENT_TYPES + tuple(d for d in WAREHOUSE_DOCUMENT_TYPES if d not in DOCUMENT_TYPES)
    unknown = sorted(chosen - set(every))
    if unknown:
        raise InvalidInput(_("Quayside exchanges {known}; not {unknown}.").format(
            known=", ".join(every), unknown=", ".join(unknown)))
    if not chosen:
        raise InvalidInput(_("Choose at least one document the partner exchanges."))
    return ",".join(d for d in every if d in chosen)


def _check_transport(transport: dict | None) -> dict[str, Any]:
    """What the database keeps of a partner's transport: its kind and plain settings, never a secret.

    Which kinds exist and what each one needs (a folder, an SFTP host) is the transports' own business, in
    ``sync.channels.edi_x12.transports``, which checks a transport before it is handed here.
    """
    transport = dict(transport or {})
    if transport and not isinstance(transport.get("kind"), str) or transport.get("kind") == "":
        raise InvalidInput(_("A partner's transport names its kind."))
    if any(str(key).lower() in ("password", "passphrase") for key in transport):
        raise InvalidInput(_("Passwords are not kept in the database; they go to the token store."))
    for key, value in transport.items():
        if isinstance(value, str):
            transport[key] = validate.text(value, _("transport setting {key}").format(key=key), LINE)
        elif not isinstance(value, (int, float, bool, type(None))):
            raise InvalidInput(_("The transport setting {key} must be text or a number.").format(key=key))
    return transport


def _partner_values(*, name: str, our_id: str, their_id: str, our_qualifier: str, their_qualifier: str,
                    our_gs_id: str | None, their_gs_id: str | None, version: str, delimiters: str,
                    documents: str | tuple | list, item_qualifier: str, usage: str, transport: dict | None,
                    ack_timeout_h: int) -> dict[str, Any]:
    """A partner's checked column values (everything but its code); InvalidInput says what is wrong, in words."""
    name = validate.text(name, "partner name", NAME, required=True)
    if version not in VERSIONS:
        raise InvalidInput(_("X12 version {v!r} is not supported; use {versions}.").format(v=version, versions=", ".join(VERSIONS)))
    if (not isinstance(delimiters, str) or len(delimiters) != 4 or len(set(delimiters)) != 4
            or any(c.isalnum() or c.isspace() for c in delimiters)):
        raise InvalidInput(_("Give four different delimiters (element, segment, component, repetition) that are not "
                             "letters, digits or spaces, e.g. *~>^."))
    our_qualifier = _check_qualifier(our_qualifier, "ISA qualifier for us")
    their_qualifier = _check_qualifier(their_qualifier, "partner's ISA qualifier")
    if usage not in ("P", "T"):
        raise InvalidInput(_("Usage is P (production) or T (test)."))
    item_qualifier = (item_qualifier or "").strip().upper()
    if len(item_qualifier) != 2 or not item_qualifier.isalnum():
        raise InvalidInput(_("The item qualifier is two characters, e.g. UP (UPC), EN (EAN), VN (our SKU), BP (theirs); "
                             "not {q!r}.").format(q=item_qualifier))
    hours = validate.quantity(ack_timeout_h, "acknowledgement time in hours")
    if hours > MAX_ACK_TIMEOUT_H:
        raise InvalidInput(_("Wait at most {n} hours for an acknowledgement.").format(n=MAX_ACK_TIMEOUT_H))
    our_id = _check_id(our_id, "ISA id for us")
    their_id = _check_id(their_id, "partner's ISA id")
    return dict(
        name=name, our_qualifier=our_qualifier, our_id=our_id, their_qualifier=their_qualifier, their_id=their_id,
        our_gs_id=_check_id(our_gs_id or our_id, "GS id for us"), their_gs_id=_check_id(their_gs_id or their_id, "partner's GS id"),
        version=version, element_sep=delimiters[0], segment_term=delimiters[1], component_sep=delimiters[2],
        repetition_sep=delimiters[3], documents=_check_documents(documents), item_qualifier=item_qualifier, usage=usage,
        transport=_check_transport(transport), ack_timeout_h=hours)


def _check_sender_free(session: Session, qualifier: str, their_id: str, partner_id: int | None = None) -> None:
    """Two partners with one ISA sender id would make the owner of an incoming file a guess."""
    q = select(TradingPartner.code).where(TradingPartner.their_qualifier == qualifier, TradingPartner.their_id == their_id)
    if partner_id is not None:
        q = q.where(TradingPartner.id != partner_id)
    other = session.scalar(q.limit(1))
    if other:
        raise Conflict(_("Partner {code} already sends as {q}/{id}; each partner needs its own ISA id.").format(
            code=other, q=qualifier, id=their_id))


def add_partner(session: Session, actor: Actor, *, code: str, name: str, our_id: str, their_id: str,
                our_qualifier: str = "ZZ", their_qualifier: str = "ZZ", our_gs_id: str | None = None,
                their_gs_id: str | None = None, version: str = "004010", delimiters: str = "*~>^",
                documents: str | tuple | list = "850,855,856,810,997", item_qualifier: str = "UP", usage: str = "P",
                transport: dict | None = None, ack_timeout_h: int = 24, location: str | None = None) -> int:
    """A new trading partner; its orders arrive on a wholesale channel of the same code. With ``location`` (a
    location of type 3PL) it is that 3PL's warehouse: it is sent 940s for the orders routed there."""
    require(actor, "settings.connections")
    code = validate.text(code, "partner code", SHORT, required=True)
    if any(c.isspace() for c in code):
        raise InvalidInput(_("The partner code is one word, without spaces: {code!r}.").format(code=code))
    if session.scalar(select(TradingPartner.id).where(TradingPartner.code == code)):
        raise Conflict(_("A trading partner {code} already exists.").format(code=code))
    values = _partner_values(name=name, our_id=our_id, their_id=their_id, our_qualifier=our_qualifier,
                             their_qualifier=their_qualifier, our_gs_id=our_gs_id, their_gs_id=their_gs_id, version=version,
                             delimiters=delimiters, documents=documents, item_qualifier=item_qualifier, usage=usage,
                             transport=transport, ack_timeout_h=ack_timeout_h)
    _check_sender_free(session, values["their_qualifier"], values["their_id"])
    channel_id = session.scalar(select(Channel.id).where(Channel.code == code))
    if channel_id is None:
        from oms.orders.channels import add_channel

        channel_id = add_channel(session, actor, code, values["name"], "edi_x12", OrderType.WHOLESALE.value)
    if location:
        loc = session.scalar(select(Location).where(Location.code == location.strip().upper()))
        if loc is None or loc.kind != LocationKind.THREE_PL.value:
            raise InvalidInput(_("{code} is not a location of type 3PL; a 3PL warehouse serves one.").format(code=location))
        values["location_id"] = loc.id
    partner = TradingPartner(code=code, channel_id=channel_id, active=True, **values)
    session.add(partner)
    session.flush()
    audit.record(session, actor, "edi.partner_added", "trading_partner", partner.id,
                 summary=f"{code}: {values['name']} ({values['their_qualifier']}/{values['their_id']})")
    return partner.id


def update_partner(session: Session, actor: Actor, partner_id: int, **fields: Any) -> PartnerInfo:
    """Change a partner's settings (the keywords of add_partner but its code), checked as add_partner checks them.

    The code cannot change: it names the partner's channel, its outbox rows and its files.
    """
    require(actor, "settings.connections")
    p = session.get(TradingPartner, partner_id)
    if p is None:
        raise NotFound(_("There is no trading partner {ref}.").format(ref=partner_id))
    if "code" in fields:
        if str(fields.pop("code") or "").strip() != p.code:
            raise InvalidInput(_("A partner's code cannot change: it names its channel and its files."))
    current: dict[str, Any] = dict(
        name=p.name, our_id=p.our_id, their_id=p.their_id, our_qualifier=p.our_qualifier, their_qualifier=p.their_qualifier,
        our_gs_id=p.our_gs_id, their_gs_id=p.their_gs_id, version=p.version,
        delimiters=p.element_sep + p.segment_term + p.component_sep + p.repetition_sep, documents=p.documents,
        item_qualifier=p.item_qualifier, usage=p.usage, transport=dict(p.transport or {}), ack_timeout_h=p.ack_timeout_h)
    unknown = sorted(set(fields) - set(current))
    if unknown:
        raise InvalidInput(_("A trading partner has no setting {names}.").format(names=", ".join(unknown)))
    current.update(fields)
    values = _partner_values(**current)
    _check_sender_free(session, values["their_qualifier"], values["their_id"], p.id)
    before = {k: getattr(p, k) for k, v in values.items() if getattr(p, k) != v}
    for key in before:
        setattr(p, key, values[key])
    session.flush()
    if before:
        audit.record(session, actor, "edi.partner_changed", "trading_partner", p.id,
                     summary=f"{p.code}: {', '.join(sorted(before))}", before=_jsonable(before),
                     after=_jsonable({k: values[k] for k in before}))
    return partner(session, p.id)


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v if isinstance(v, (str, int, dict, list, type(None))) else str(v) for k, v in values.items()}


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
        insert_ignore(session, EdiControl, {"partner_id": partner_id, "level": level, "next_value": 1}, ["partner_id", "level"])
        value = session.connection().execute(take).scalar_one()
    limit = 999_999_999
    if value + count - 1 > limit:
        raise Conflict(_("The {level} control numbers for this partner are used up.").format(level=level.upper()))
    return value


@dataclass(frozen=True)
class ItemXrefInfo:
    qualifier: str
    code: str
    sku: str


@dataclass(frozen=True)
class ShipToInfo:
    code: str
    name: str
    address1: str
    city: str
    region: str
    postal_code: str
    country: str


def _partner_code(session: Session, partner_id: int) -> str:
    code = session.scalar(select(TradingPartner.code).where(TradingPartner.id == partner_id))
    if code is None:
        raise NotFound(_("There is no trading partner {ref}.").format(ref=partner_id))
    return code


def add_item_xref(session: Session, partner_id: int, qualifier: str, code: str, product: int | str, *,
                  actor: Actor | None = None) -> None:
    """The partner's code for one of our products; audited when an actor is given (people, not imports)."""
    from oms.inventory.stock import product_id

    partner_code = _partner_code(session, partner_id)
    qualifier = _check_qualifier(qualifier, "item qualifier")
    code = validate.text(code, "item code", SHORT, required=True)
    pid = product_id(session, product)
    taken = session.scalar(select(Product.sku).join(EdiItemXref, EdiItemXref.product_id == Product.id).where(
        EdiItemXref.partner_id == partner_id, EdiItemXref.qualifier == qualifier, EdiItemXref.code == code))
    if taken:
        raise Conflict(_("{q} {code} already stands for {sku} with this partner.").format(q=qualifier, code=code, sku=taken))
    session.add(EdiItemXref(partner_id=partner_id, qualifier=qualifier, code=code, product_id=pid))
    session.flush()
    session.info.pop("edi_items", None)
    if actor is not None:
        sku = session.scalar(select(Product.sku).where(Product.id == pid))
        audit.record(session, actor, "edi.item_xref_added", "trading_partner", partner_id,
                     summary=f"{partner_code}: {qualifier} {code} = {sku}")


def remove_item_xref(session: Session, actor: Actor, partner_id: int, qualifier: str, code: str) -> None:
    partner_code = _partner_code(session, partner_id)
    row = session.get(EdiItemXref, (partner_id, qualifier, code))
    if row is None:
        raise NotFound(_("{p} has no item cross-reference {q} {code}.").format(p=partner_code, q=qualifier, code=code))
    sku = session.scalar(select(Product.sku).where(Product.id == row.product_id))
    session.delete(row)
    session.flush()
    session.info.pop("edi_items", None)
    audit.record(session, actor, "edi.item_xref_removed", "trading_partner", partner_id,
                 summary=f"{partner_code}: {qualifier} {code} (was {sku})")


def item_xrefs(session: Session, partner_id: int) -> list[ItemXrefInfo]:
    rows = session.execute(select(EdiItemXref.qualifier, EdiItemXref.code, Product.sku)
                           .join(Product, Product.id == EdiItemXref.product_id)
                           .where(EdiItemXref.partner_id == partner_id)
                           .order_by(EdiItemXref.qualifier, EdiItemXref.code)).all()
    return [ItemXrefInfo(q, c, sku) for q, c, sku in rows]


def add_ship_to(session: Session, partner_id: int, code: str, name: str, *, address1: str = "", city: str = "",
                region: str = "", postal_code: str = "", country: str = "US", actor: Actor | None = None) -> None:
    """What the partner's ship-to code (N1*ST*..*92*code) stands for; audited when an actor is given."""
    partner_code = _partner_code(session, partner_id)
    code = validate.text(code, "ship-to code", SHORT, required=True)
    if session.get(EdiShipTo, (partner_id, code)) is not None:
        raise Conflict(_("Ship-to code {code} is already set up for {p}.").format(code=code, p=partner_code))
    row = EdiShipTo(partner_id=partner_id, code=code, name=validate.text(name, "ship-to name", NAME, required=True),
                    address1=validate.text(address1, "ship-to address", LINE), city=validate.text(city, "ship-to city", NAME),
                    region=validate.text(region, "ship-to state or region", SHORT),
                    postal_code=validate.text(postal_code, "ship-to postal code", SHORT), country=validate.country(country))
    session.add(row)
    session.flush()
    if actor is not None:
        audit.record(session, actor, "edi.ship_to_added", "trading_partner", partner_id,
                     summary=f"{partner_code}: {code} = {row.name}, {row.city}".rstrip(", "))


def remove_ship_to(session: Session, actor: Actor, partner_id: int, code: str) -> None:
    partner_code = _partner_code(session, partner_id)
    row = session.get(EdiShipTo, (partner_id, code))
    if row is None:
        raise NotFound(_("{p} has no ship-to code {code}.").format(p=partner_code, code=code))
    name = row.name
    session.delete(row)
    session.flush()
    audit.record(session, actor, "edi.ship_to_removed", "trading_partner", partner_id,
                 summary=f"{partner_code}: {code} (was {name})")


def ship_tos(session: Session, partner_id: int) -> list[ShipToInfo]:
    rows = session.scalars(select(EdiShipTo).where(EdiShipTo.partner_id == partner_id).order_by(EdiShipTo.code))
    return [ShipToInfo(r.code, r.name, r.address1, r.city, r.region, r.postal_code, r.country) for r in rows]


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
