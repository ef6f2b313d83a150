"""Facilities and the routes vaccine may travel between them."""

from __future__ import annotations

from enum import Enum
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.calendar import zone_of_province
from domain.errors import RuleBroken
from domain.provenance import Provenance


class FacilityKind(Enum):
    NATIONAL_WAREHOUSE = "national_warehouse"
    PROVINCE_OFFICE = "province_office"
    DISTRICT_OFFICE = "district_office"
    PUSKESMAS = "puskesmas"
    HOSPITAL = "hospital"


# Who a facility may report to: the level above it in the chain.
PARENT_KIND = {
    FacilityKind.NATIONAL_WAREHOUSE: None,
    FacilityKind.PROVINCE_OFFICE: FacilityKind.NATIONAL_WAREHOUSE,
    FacilityKind.DISTRICT_OFFICE: FacilityKind.PROVINCE_OFFICE,
    FacilityKind.PUSKESMAS: FacilityKind.DISTRICT_OFFICE,
    FacilityKind.HOSPITAL: FacilityKind.DISTRICT_OFFICE,
}


class FacilityError(RuleBroken):
    pass


class RouteNotAllowed(FacilityError):
    pass


class WrongParent(FacilityError):
    pass


class Facility(Aggregate):
    """A node of the cold chain, keyed by its Kemendagri or own code."""

    @staticmethod
    def id_for(code: str) -> UUID:
        return uuid5(NAMESPACE_URL, f"rantai:facility:{code}")

    @classmethod
    def create_id(cls, code: str, **_: object) -> UUID:
        return cls.id_for(code)

    @event("Registered")
    def __init__(
        self,
        code: str,
        name: str,
        kind: FacilityKind,
        parent: str | None,
        by: Provenance,
    ) -> None:
        self.code = code
        self.name = name
        self.kind = kind
        self.parent = parent

    @classmethod
    def register(
        cls,
        code: str,
        name: str,
        kind: FacilityKind,
        parent: Facility | None,
        by: Provenance,
    ) -> Facility:
        cls.check_parent(code, kind, parent)
        return cls(code, name, kind, parent.code if parent else None, by)

    @staticmethod
    def check_parent(code: str, kind: FacilityKind, parent: Facility | None) -> None:
        expected = PARENT_KIND[kind]
        actual = parent.kind if parent else None
        if expected != actual:
            wanted = expected.value.replace("_", " ") if expected else "no parent"
            msg = f"Facility {code} is a {kind.value.replace('_', ' ')}: its parent must be a {wanted}."
            raise WrongParent(msg)

    @property
    def province(self) -> str:
        """The province it lies in (Bio Farma: Bandung, Jawa Barat)."""
        if self.kind is FacilityKind.NATIONAL_WAREHOUSE:
            return "32"
        if self.kind is FacilityKind.PROVINCE_OFFICE:
            return self.code
        return (self.parent or "")[:2]

    @property
    def zone(self) -> str:
        """Its time zone (WIB, WITA or WIT), from its province."""
        return zone_of_province(self.province)

    @property
    def gives_doses(self) -> bool:
        return self.kind in (FacilityKind.PUSKESMAS, FacilityKind.HOSPITAL)

    def label(self) -> str:
        return f"{self.name} ({self.code})"

    def check_may_ship_to(self, destination: Facility) -> None:
        """Down the chain to a child, or a return one level up to the parent."""
        is_child = destination.parent == self.code
        is_return = self.parent == destination.code
        if not (is_child or is_return):
            msg = (
                f"{self.label()} may not ship to {destination.label()}: vaccine moves "
                "from a store to the facilities directly below it, and returns go "
                "one level up."
            )
            raise RouteNotAllowed(msg)
