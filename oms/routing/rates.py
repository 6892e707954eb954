"""Shipping zones and rates: the rate book the planner prices plans with, and the seed's rate table."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from oms.inventory.models import Location
from oms.routing.models import ShippingRate, ShippingZone


@dataclass
class RateBook:
    zones: dict[tuple[int, str, str], int]
    rates: dict[tuple[int, str, int], tuple[int, int, int]]  # base, per kg, transit days

    @classmethod
    def load(cls, session: Session) -> "RateBook":
        zones = {(z.location_id, z.country, z.region): z.zone for z in session.scalars(select(ShippingZone))}
        rates = {(r.location_id, r.service_level, r.zone): (r.base_minor, r.per_kg_minor, r.transit_days)
                 for r in session.scalars(select(ShippingRate))}
        return cls(zones, rates)

    def quote(self, lid: int, country: str, region: str, service: str, weight_g: int) -> tuple[int, int] | None:
        """(cost in minor units, transit days) for one package, or None when there is no rate."""
        zone = self.zones.get((lid, country, region.upper())) or self.zones.get((lid, country, ""))
        if zone is None:
            return None
        rate = self.rates.get((lid, service, zone))
        if rate is None and service == "ground":
            rate = self.rates.get((lid, "standard", zone))
        if rate is None:
            return None
        base, per_kg, days = rate
        return base + per_kg * max(1, math.ceil(weight_g / 1000)), days


# Approximate centres of US states (lat, lon): enough to put destinations into zones.
STATE_CENTRES = {
    "AL": (32.8, -86.8), "AK": (61.4, -152.3), "AZ": (34.2, -111.7), "AR": (34.9, -92.4), "CA": (36.8, -119.4),
    "CO": (39.0, -105.5), "CT": (41.6, -72.7), "DE": (39.0, -75.5), "DC": (38.9, -77.0), "FL": (28.6, -82.4),
    "GA": (32.7, -83.4), "HI": (20.8, -156.3), "ID": (44.4, -114.6), "IL": (40.0, -89.2), "IN": (39.9, -86.3),
    "IA": (42.1, -93.5), "KS": (38.5, -98.4), "KY": (37.5, -85.3), "LA": (31.1, -92.0), "ME": (45.4, -69.2),
    "MD": (39.0, -76.8), "MA": (42.3, -71.8), "MI": (44.3, -85.4), "MN": (46.3, -94.3), "MS": (32.7, -89.7),
    "MO": (38.4, -92.5), "MT": (47.0, -109.6), "NE": (41.5, -99.8), "NV": (39.3, -116.6), "NH": (43.7, -71.6),
    "NJ": (40.2, -74.7), "NM": (34.4, -106.1), "NY": (42.9, -75.5), "NC": (35.6, -79.4), "ND": (47.5, -100.5),
    "OH": (40.3, -82.8), "OK": (35.6, -97.5), "OR": (43.9, -120.6), "PA": (40.9, -77.8), "RI": (41.7, -71.5),
    "SC": (33.9, -80.9), "SD": (44.4, -100.2), "TN": (35.9, -86.4), "TX": (31.5, -99.3), "UT": (39.3, -111.7),
    "VT": (44.1, -72.7), "VA": (37.5, -78.9), "WA": (47.4, -120.5), "WV": (38.6, -80.6), "WI": (44.6, -89.9),
    "WY": (43.0, -107.6),
}

# Ground base price per zone 2..8 (US cents), and transit days.
_GROUND = {2: (520, 1), 3: (560, 2), 4: (610, 3), 5: (690, 3), 6: (760, 4), 7: (810, 5), 8: (845, 5)}


def _miles(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 3959 * 2 * math.asin(math.sqrt(h))


def zone_for_miles(miles: float) -> int:
    for limit, zone in ((150, 2), (300, 3), (600, 4), (1000, 5), (1400, 6), (1800, 7)):
        if miles < limit:
            return zone
    return 8


def seed_rates(session: Session, *, surcharge_3pl_minor: int = 60) -> int:
    """Plausible zone and rate tables for every location that has none (US states; elsewhere zone 9)."""
    made = 0
    for loc in session.scalars(select(Location)):
        if session.scalar(select(ShippingZone.zone).where(ShippingZone.location_id == loc.id).limit(1)) is not None:
            continue
        origin = STATE_CENTRES.get(loc.region.upper(), (39.8, -98.6))
        zones = [{"location_id": loc.id, "country": "US", "region": st, "zone": zone_for_miles(_miles(origin, c))}
                 for st, c in STATE_CENTRES.items()]
        zones.append({"location_id": loc.id, "country": "US", "region": "", "zone": 8})
        zones.append({"location_id": loc.id, "country": "CA", "region": "", "zone": 9})
        session.execute(insert(ShippingZone), zones)
        extra = surcharge_3pl_minor if loc.kind == "3pl" else 0
        rates = []
        for zone, (base, days) in _GROUND.items():
            rates.append({"location_id": loc.id, "service_level": "standard", "zone": zone, "base_minor": base + extra,
                          "per_kg_minor": 35 + 5 * zone, "transit_days": days})
            rates.append({"location_id": loc.id, "service_level": "expedited", "zone": zone, "base_minor": int(base * 2.1) + extra,
                          "per_kg_minor": 80 + 10 * zone, "transit_days": min(days, 2)})
            rates.append({"location_id": loc.id, "service_level": "overnight", "zone": zone, "base_minor": int(base * 3.8) + extra,
                          "per_kg_minor": 150 + 20 * zone, "transit_days": 1})
        rates.append({"location_id": loc.id, "service_level": "standard", "zone": 9, "base_minor": 2400 + extra,
                      "per_kg_minor": 600, "transit_days": 7})
        session.execute(insert(ShippingRate), rates)
        made += 1
    return made
