"""Locations (warehouses and 3PLs) and their bins, in walk order."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from oms.core import audit, validate
from oms.core.audit import Actor
from oms.core.errors import InvalidInput
from oms.core.i18n import _
from oms.core.types import LINE, NAME, SHORT
from oms.core.validate import unique
from oms.inventory.models import Bin, Location, LocationKind


def add_location(session: Session, actor: Actor, code: str, name: str, *, kind: str = LocationKind.WAREHOUSE.value,
                 priority: int = 100, address1: str = "", city: str = "", region: str = "", postal_code: str = "",
                 country: str = "US", receiving_lead_days: int = 1) -> int:
    code = validate.text(code, "location code", SHORT, required=True)
    if kind not in {k.value for k in LocationKind}:
        raise InvalidInput(_("A location is a warehouse or a 3pl, not {value!r}.").format(value=kind))
    unique(session, Location.code, code, _("location"))
    loc = Location(code=code, name=validate.text(name, "location name", NAME, required=True), kind=kind,
                   priority=validate.quantity(priority, "priority", allow_zero=True),
                   address1=validate.text(address1, "address", LINE), city=validate.text(city, "city", NAME),
                   region=validate.text(region, "region", SHORT), postal_code=validate.text(postal_code, "postal code", SHORT),
                   country=validate.country(country),
                   receiving_lead_days=validate.quantity(receiving_lead_days, "receiving lead time in days", allow_zero=True))
    session.add(loc)
    session.flush()
    audit.record(session, actor, "location.added", "location", loc.id, summary=f"{code}: {name} ({kind})")
    return loc.id


def zone_of(code: str) -> str:
    """A bin's zone when none is given: its aisle, the part of the code before the first dash ("A" of "A-01-1")."""
    return code.split("-", 1)[0] if "-" in code else ""


def add_bins(session: Session, location_id: int, codes: list[str], zone: str | None = None) -> list[int]:
    """Add bins to a location; their pick sequence follows the order given (the walk path). Without a ``zone``
    each bin is in the zone its code names (``zone_of``)."""
    if zone is not None:
        zone = validate.text(zone, "zone", SHORT)
    start = session.scalar(select(Bin.pick_sequence).where(Bin.location_id == location_id).order_by(Bin.pick_sequence.desc()).limit(1)) or 0
    rows = [{"location_id": location_id, "code": validate.text(c, "bin code", SHORT, required=True), "pick_sequence": start + (i + 1) * 10,
             "zone": zone if zone is not None else zone_of(c.strip())}
            for i, c in enumerate(codes)]
    if len({r["code"] for r in rows}) != len(rows):
        raise InvalidInput(_("The same bin code is given twice."))
    return list(session.scalars(insert(Bin).returning(Bin.id, sort_by_parameter_order=True), rows)) if rows else []
