"""A postal address: the one shape a channel's order, a location, a packing slip and a label all use."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Address:
    name: str = ""
    company: str = ""
    address1: str = ""
    address2: str = ""
    city: str = ""
    region: str = ""  # state or province
    postal_code: str = ""
    country: str = ""
    phone: str = ""

    @property
    def street(self) -> tuple[str, ...]:
        return tuple(s for s in (self.address1, self.address2) if s and s.strip())

    def lines(self) -> list[str]:
        """The address as printed, without blank lines."""
        city = " ".join(p for p in (f"{self.city}," if self.city and (self.region or self.postal_code) else self.city,
                                     self.region, self.postal_code) if p)
        out = [self.name, self.company, *self.street, city, self.country]
        return [line for line in out if line and line.strip()]
