"""What an export may read, for whom: the events behind a GS1 EPCIS document and
the doses behind a FHIR Immunization bundle.

The log is read as it was stored (no read model in between: an auditor's
document rests on the facts themselves). Both exports are for the admin and
the auditor (``export_epcis``, ``export_fhir`` in ``POLICY``), inside their
scope: a shipment whose origin or destination lies in it; for a lot or a
period, the events at facilities in it (a lot's own status changes — a
recall — concern every holder and are always included). A dose carries the
person's NIK, which SATUSEHAT needs to know whom it was given to: the NIK is
decrypted only into the export, and every person exported is recorded with a
``PersonalDataRead`` event, as when staff are shown the data at the desk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.utils import get_topic

from application.access import CLINICS, Caller
from application.campaign import Campaign
from application.identifiers import parse_gtin, parse_sscc
from domain.errors import OutOfBounds
from domain.facility import Facility
from domain.lot import Lot
from domain.recipient import Recipient
from domain.shipment import Shipment
from domain.stock_ledger import StockLedger
from domain.user import NATIONAL

EPCIS_EVENTS = (
    StockLedger.Received, StockLedger.Wasted, StockLedger.WastageCorrected, StockLedger.Counted,
    Shipment.Packed, Shipment.Dispatched, Shipment.HandedOver, Shipment.TemperatureRecorded,
    Shipment.Received, Shipment.ReceiptCorrected, Shipment.Cancelled,
    Lot.Quarantined, Lot.ReleasedFromQuarantine, Lot.Recalled,
)
SHIPMENT_EVENTS = tuple(cls for cls in EPCIS_EVENTS if cls.__qualname__.startswith("Shipment."))
LOT_STATUS = (Lot.Quarantined, Lot.ReleasedFromQuarantine, Lot.Recalled)
DOSE_EVENTS = (Recipient.Vaccinated, Recipient.DoseVoided)
PAGE = 1000
EXPORT_PURPOSE = "FHIR Immunization export"


class UnclearSelection(OutOfBounds):
    """An export names one thing, in a form it can read (malformed input: 422)."""


@dataclass(frozen=True)
class LotFacts:
    product: str
    expiry: date
    doses_per_vial: int


@dataclass(frozen=True)
class ExportedDose:
    """One dose as a FHIR Immunization needs it. ``dose_id`` is the same in every
    export (the recipient and the version of its ``Vaccinated`` event), so a
    receiving system updates rather than duplicates; a voided dose keeps its id."""

    dose_id: UUID
    nik: str
    number: int
    gtin: str
    lot_number: str
    lot: LotFacts | None
    facility: str
    facility_name: str
    vaccinator: str
    actor: str
    occurred_at: datetime
    recorded_at: datetime
    zone: str
    voided: bool


class Exports:
    """Reads for the exports, on a campaign; every method checks the caller first."""

    def __init__(self, campaign: Campaign) -> None:
        self.app = campaign
        self.lot = cache(self._lot)
        self.shipments: dict[UUID, Shipment.Packed] = {}  # each shipment's first event: its ends and lines

    # Logistics events (EPCIS)

    def shipment_events(self, caller: Caller, sscc: str) -> list[Any]:
        """Every event of one shipment, for a caller who may see it (its origin or destination)."""
        self.app.check_role(caller, "export_epcis")
        shipment = self.app.get_shipment(parse_sscc(sscc))
        self.app.check_readable(caller, "export_epcis", shipment.origin, shipment.destination)
        return list(self.app.repository.event_store.get(shipment.id))

    def lot_events(self, caller: Caller, gtin: str, lot_number: str) -> list[Any]:
        """The lot's release, every shipment that carried it, its wastage and status changes."""
        self.app.check_role(caller, "export_epcis")
        lot = self.app.get_lot(parse_gtin(gtin), lot_number)
        carriers: set[UUID] = set()
        chosen = []
        for event in self._logistics(caller):
            if isinstance(event, Shipment.Packed) and any(line.lot_key == lot.key for line in event.lines):
                carriers.add(event.originator_id)
            if event.originator_id in carriers or event.originator_id == lot.id or (
                    (getattr(event, "gtin", None), getattr(event, "lot_number", None)) == (lot.gtin, lot.lot_number)):
                chosen.append(event)
        return chosen

    def period_events(self, caller: Caller, first: date, last: date) -> list[Any]:
        """Every logistics event that happened from day ``first`` to day ``last``
        (inclusive, each counted in its facility's own time zone)."""
        self.app.check_role(caller, "export_epcis")
        return [event for event in self._logistics(caller) if first <= event.by.day <= last]

    def _logistics(self, caller: Caller) -> Iterator[Any]:
        """The log's logistics events, in log order, inside the caller's scope."""
        for event in self._read(EPCIS_EVENTS):
            if isinstance(event, Shipment.Packed):
                self.shipments[event.originator_id] = event
            if isinstance(event, LOT_STATUS) or self._in_scope(caller, self._places(event)):
                yield event

    def _places(self, event: Any) -> tuple[str, ...]:
        """Where an event concerns: a shipment's both ends, else where it was recorded."""
        if isinstance(event, SHIPMENT_EVENTS):
            packed = self.packed(event.originator_id)
            return (packed.origin, packed.destination)
        return (event.by.facility,)

    def _in_scope(self, caller: Caller, facilities: tuple[str, ...]) -> bool:
        return any(self.app.within(caller.scope, code) for code in facilities)

    def event_at(self, originator_id: UUID, version: int) -> Any:
        """One stored event (what a correction refers to)."""
        return next(iter(self.app.repository.event_store.get(originator_id, gt=version - 1, lte=version)))

    def packed(self, shipment_id: UUID) -> Shipment.Packed:
        if shipment_id not in self.shipments:
            self.shipments[shipment_id] = self.event_at(shipment_id, 1)
        return self.shipments[shipment_id]

    def lot_named(self, lot_id: UUID) -> tuple[str, str]:
        """(GTIN, lot number) of a lot, by its aggregate id."""
        found = self.app.find(Lot, lot_id)
        return found.gtin, found.lot_number

    def _lot(self, gtin: str, lot_number: str) -> LotFacts | None:
        found = self.app.find(Lot, Lot.id_for(gtin, lot_number))
        return LotFacts(found.product, found.expiry, found.doses_per_vial) if found else None

    def _read(self, classes: tuple[type, ...]) -> Iterator[Any]:
        topics = [get_topic(cls) for cls in classes]
        start = 1
        while page := self.app.recorder.select_notifications(start, PAGE, topics=topics):
            for notification in page:
                yield self.app.mapper.to_domain_event(notification)
            start = page[-1].id + 1

    # Doses (FHIR)

    def doses(self, caller: Caller, *, facility: str | None = None, recipient: UUID | None = None,
              first: date | None = None, last: date | None = None) -> list[ExportedDose]:
        """The doses given at ``facility`` or below it (a district, a province, ``national``),
        or to one ``recipient``, from day ``first`` to ``last``, with each person's NIK;
        records that each person's data was exported."""
        self.app.check_role(caller, "export_fhir")
        if (facility is None) == (recipient is None):
            raise UnclearSelection("Name either a facility or one recipient (its id, never a NIK).")
        if facility is not None:
            if facility != NATIONAL:
                self.app.get_facility(facility)
            self.app.check_readable(caller, "export_fhir", facility)
        else:
            person = self.app.get_recipient(recipient)  # type: ignore[arg-type]
            self.app.check_readable(caller, "export_fhir", person.facility or person.district, person.district)
        given, voided = [], set()
        below = self._below(facility)
        for event in self._read(DOSE_EVENTS):
            if isinstance(event, Recipient.DoseVoided):
                voided.add((event.originator_id, event.corrects))
            elif (below(event.facility)
                  and (recipient is None or event.originator_id == recipient)
                  and (first is None or event.day >= first) and (last is None or event.day <= last)
                  and self._in_scope(caller, (event.facility,))):
                given.append(event)
        people = self._record_export(caller, sorted({event.originator_id for event in given}, key=str))
        places = self._fold([Facility.id_for(code) for code in {event.facility for event in given}])
        names = {place.code: place.name for place in places.values()}
        return [self._dose(event, people[event.originator_id], names[event.facility],
                           (event.originator_id, event.originator_version) in voided) for event in given]

    def _below(self, facility: str | None) -> Callable[[str], bool]:
        """Whether a dose's facility lies at or below ``facility`` (a clinic has nothing below it)."""
        if facility is None or facility == NATIONAL:
            return lambda code: True
        if self.app.facility_node(facility)[1] in CLINICS:
            return lambda code: code == facility
        return lambda code: self.app.within(facility, code)

    def _record_export(self, caller: Caller, ids: list[UUID]) -> dict[UUID, str]:
        """Each exported person's NIK, and a ``PersonalDataRead`` on each record (one
        write per ``PAGE`` people, so a national export is not one huge transaction)."""
        people: dict[UUID, str] = {}

        def decide(page: list[UUID]) -> Any:
            recipients = list(self._fold(page).values())
            by = None
            for person in recipients:
                by = self.app.acting("export_fhir", caller, person.district)
                person.record_access(EXPORT_PURPOSE, by)
                people[person.id] = person.nik
            return {}, recipients, by

        for start in range(0, len(ids), PAGE):
            page = ids[start:start + PAGE]
            self.app.handle("export_fhir", caller, lambda page=page: decide(page))
        return people

    def _fold(self, ids: list[UUID]) -> dict[UUID, Any]:
        """Many aggregates as they are now, read with one query (the application's bulk
        reader) instead of one each; a write that races with it fails and is decided again."""
        folded: dict[UUID, Any] = {}
        for stored in self.app._select_events(ids):  # noqa: SLF001 - the one adapter over the event table
            event = self.app.mapper.to_domain_event(stored)
            folded[event.originator_id] = event.mutate(folded.get(event.originator_id))
        return folded

    def _dose(self, event: Any, nik: str, facility_name: str, voided: bool) -> ExportedDose:
        return ExportedDose(
            dose_id=uuid5(NAMESPACE_URL, f"rantai:dose:{event.originator_id}:{event.originator_version}"),
            nik=nik, number=event.number, gtin=event.gtin, lot_number=event.lot_number,
            lot=self.lot(event.gtin, event.lot_number), facility=event.facility,
            facility_name=facility_name, vaccinator=event.vaccinator,
            actor=event.by.actor, occurred_at=event.by.occurred_at, recorded_at=event.timestamp,
            zone=event.by.zone, voided=voided,
        )
