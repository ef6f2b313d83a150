"""A GS1 EPCIS 2.0 document (JSON-LD) from the log's logistics events.

What each fact becomes (CBV 2.0 business steps and dispositions):

- a lot's release at Bio Farma: ``commissioning`` (ADD), the lot's expiry as master data;
- packing: an AggregationEvent (``packing``) of the lot's vials into the shipment's SSCC,
  and a cancelled shipment its undoing (``unpacking``, DELETE);
- dispatch: ``shipping``, ``in_transit``, from the origin to the destination;
- a hand-over in transit: ``transporting``, from one possessing party to the next;
- a temperature reading: ``sensor_reporting`` with a Temperature report in °C
  (``ALARM_CONDITION`` outside 2–8 °C); the arrival temperature rides on the receipt;
- receipt: ``receiving`` with the accepted vials, and ``inspecting`` /
  ``non_sellable_other`` with the rejected ones and why;
- wastage: ``destroying`` (DELETE), ``destroyed``, with the reason code;
- a physical count: ``cycle_counting`` with what was found (and what the card expected);
- a lot's quarantine, lifting and recall: dispositions ``non_sellable_other``,
  ``active`` and ``recalled`` for the whole lot (a class, no quantity);
- a corrected receipt or wastage entry: the original event again with an
  ``errorDeclaration`` (``incorrect_data``, or ``did_not_occur`` when nothing was
  wasted after all) naming the corrective event, which follows it.

Identifiers: GS1 Digital Link URIs on GS1's resolver, as on Rantai's labels — a
shipment ``https://id.gs1.org/00/{SSCC}``, a lot (the class of its vials)
``https://id.gs1.org/01/{GTIN}/10/{LOT}``. Facilities have no GLN: read point and
business location are ``urn:rantai:facility:{CODE}`` (the Kemendagri region code
of an office, ``BIOFARMA``, a puskesmas's own code); a party in a hand-over is
``urn:rantai:party:{NAME}``. Quantities count vials, the trade item the GTIN
names; part of a multi-dose vial is a fraction with ``uom`` H87 (piece).
Event ids are ``urn:uuid:`` names derived from the stored event (aggregate,
version, part), the same in every export. Fields of Rantai's own, under the
prefix ``rantai:`` (``urn:rantai:epcis:``): who recorded it (``actor``, ``role``),
from which ``device``, the stored ``event`` (aggregate id/version), reasons.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import quote
from uuid import NAMESPACE_URL, UUID, uuid5
from zoneinfo import ZoneInfo

from application.exports import LotFacts
from domain.lot import Lot
from domain.shipment import COLD_CHAIN_MAX, COLD_CHAIN_MIN, Shipment
from domain.stock_ledger import StockLedger
from interfaces.scanner.digital_link import RESOLVER, shipment_uri

CONTEXT: list[Any] = ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld", {"rantai": "urn:rantai:epcis:"}]
RELEASE = "release"  # the stock card's reference for a lot entering Bio Farma's stock at release

Doc = dict[str, Any]


class Source(Protocol):
    """What a translation looks up beyond the events it is given (``application.exports.Exports``)."""

    def packed(self, shipment_id: UUID) -> Shipment.Packed: ...
    def lot(self, gtin: str, lot_number: str) -> LotFacts | None: ...
    def lot_named(self, lot_id: UUID) -> tuple[str, str]: ...
    def event_at(self, originator_id: UUID, version: int) -> Any: ...


def document(events: Iterable[Any], source: Source, created: datetime) -> Doc:
    """The EPCIS document of ``events`` (in log order)."""
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": moment(created),
        "epcisBody": {"eventList": [doc for event in events for doc in translate(event, source)]},
    }


def translate(event: Any, source: Source) -> list[Doc]:
    handler = HANDLERS.get(type(event))
    return handler(event, source) if handler else []


# Identifiers and times

def facility_urn(code: str) -> str:
    return f"urn:rantai:facility:{quote(code, safe='.')}"


def party_urn(name: str) -> str:
    return f"urn:rantai:party:{quote(name, safe='.')}"


def lot_class(gtin: str, lot_number: str) -> str:
    return f"{RESOLVER}/01/{gtin}/10/{quote(lot_number, safe='')}"


def moment(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def offset(when: datetime, zone: str) -> str:
    text = when.astimezone(ZoneInfo(zone)).strftime("%z")
    return f"{text[:3]}:{text[3:]}"


def event_id(event: Any, part: int = 0) -> str:
    return f"urn:uuid:{uuid5(NAMESPACE_URL, f'rantai:epcis:{event.originator_id}:{event.originator_version}:{part}')}"


def base(kind: str, event: Any, action: str | None, step: str | None, disposition: str | None,
         at: str | None = None, part: int = 0, location: bool = True) -> Doc:
    """The fields every event has: when, where, who, and which stored event it comes from."""
    by = event.by
    doc: Doc = {"type": kind, "eventID": event_id(event, part), "eventTime": moment(by.occurred_at),
                "eventTimeZoneOffset": offset(by.occurred_at, by.zone), "recordTime": moment(event.timestamp)}
    if action:
        doc["action"] = action
    doc |= {key: value for key, value in (("bizStep", step), ("disposition", disposition)) if value}
    place = facility_urn(at or by.facility)
    doc["readPoint"] = {"id": place}
    if location:
        doc["bizLocation"] = {"id": place}
    return doc | {"rantai:actor": by.actor, "rantai:role": by.role, "rantai:device": by.device,
                  "rantai:event": f"{event.originator_id}/{event.originator_version}"}


def vials(source: Source, gtin: str, lot_number: str, doses: int) -> Doc:
    """A quantity in vials of the lot (a fraction of a multi-dose vial with uom H87)."""
    facts = source.lot(gtin, lot_number)
    per = facts.doses_per_vial if facts else 1
    whole, part = divmod(doses, per)
    if not part:
        return {"epcClass": lot_class(gtin, lot_number), "quantity": whole}
    return {"epcClass": lot_class(gtin, lot_number), "quantity": round(doses / per, 3), "uom": "H87"}


def quantities(counts: dict[tuple[str, str], int]) -> list[Doc]:
    return [{"epcClass": lot_class(gtin, lot), "quantity": n} for (gtin, lot), n in counts.items() if n > 0]


def temperature(celsius: Decimal, when: datetime) -> Doc:
    report: Doc = {"type": "Temperature", "value": float(celsius), "uom": "CEL"}
    if not COLD_CHAIN_MIN <= celsius <= COLD_CHAIN_MAX:
        report["exception"] = "ALARM_CONDITION"
    return {"sensorMetadata": {"time": moment(when)}, "sensorReport": [report]}


def declared_wrong(originals: list[Doc], correction: Any, corrective: list[Doc]) -> list[Doc]:
    """The original events again, each declared in error by ``correction``, then the corrective ones."""
    declaration = {"declarationTime": moment(correction.timestamp),
                   "reason": "incorrect_data" if corrective else "did_not_occur",
                   "correctiveEventIDs": [doc["eventID"] for doc in corrective],
                   "rantai:reason": correction.reason, "rantai:event":
                   f"{correction.originator_id}/{correction.originator_version}"}
    return [original | {"errorDeclaration": declaration} for original in originals] + corrective


# One handler per event type

def released(event: StockLedger.Received, source: Source) -> list[Doc]:
    if event.reference != RELEASE:
        return []  # a receipt from a shipment: the shipment's own events say it
    doc = base("ObjectEvent", event, "ADD", "commissioning", "active")
    doc["quantityList"] = [{"epcClass": lot_class(event.gtin, event.lot_number), "quantity": event.vials}]
    doc["ilmd"] = {"cbvmda:itemExpirationDate": event.expiry.isoformat(), "cbvmda:lotNumber": event.lot_number}
    return [doc]


def packed(event: Shipment.Packed, source: Source) -> list[Doc]:
    doc = base("AggregationEvent", event, "ADD", "packing", "container_closed")
    doc["parentID"] = shipment_uri(event.sscc)
    doc["childQuantityList"] = quantities({(line.gtin, line.lot_number): line.vials for line in event.lines})
    return [doc]


def cancelled(event: Shipment.Cancelled, source: Source) -> list[Doc]:
    shipment = source.packed(event.originator_id)
    doc = base("AggregationEvent", event, "DELETE", "unpacking", "container_open")
    return [doc | {"parentID": shipment_uri(shipment.sscc), "rantai:reason": event.reason}]


def dispatched(event: Shipment.Dispatched, source: Source) -> list[Doc]:
    shipment = source.packed(event.originator_id)
    doc = base("ObjectEvent", event, "OBSERVE", "shipping", "in_transit", location=False)
    return [doc | {
        "epcList": [shipment_uri(shipment.sscc)],
        "quantityList": quantities({(line.gtin, line.lot_number): line.vials for line in shipment.lines}),
        "sourceList": [{"type": "location", "source": facility_urn(shipment.origin)}],
        "destinationList": [{"type": "location", "destination": facility_urn(shipment.destination)}],
    }]


def handed_over(event: Any, source: Source) -> list[Doc]:
    shipment = source.packed(event.originator_id)
    doc = base("ObjectEvent", event, "OBSERVE", "transporting", "in_transit", location=False)
    return [doc | {
        "epcList": [shipment_uri(shipment.sscc)],
        "sourceList": [{"type": "possessing_party", "source": party_urn(event.from_holder)}],
        "destinationList": [{"type": "possessing_party", "destination": party_urn(event.holder)}],
        "rantai:carrier": event.carrier, "rantai:vehicle": event.vehicle, "rantai:place": event.place,
    }]


def temperature_recorded(event: Any, source: Source) -> list[Doc]:
    shipment = source.packed(event.originator_id)
    doc = base("ObjectEvent", event, "OBSERVE", "sensor_reporting", "in_transit", location=False)
    return [doc | {"epcList": [shipment_uri(shipment.sscc)],
                   "sensorElementList": [temperature(event.celsius, event.by.occurred_at)]}]


def receipt(event: Any, shipment: Shipment.Packed, lines: list[Any], celsius: Decimal | None) -> list[Doc]:
    """``receiving`` with the accepted vials; ``inspecting`` with the rejected ones, if any."""
    accepted: dict[tuple[str, str], int] = {}
    rejected: dict[tuple[str, str], int] = {}
    reasons = []
    for line in lines:
        key = (line.gtin, line.lot_number)
        accepted[key] = accepted.get(key, 0) + line.accepted
        rejected[key] = rejected.get(key, 0) + line.rejected
        if line.rejected:
            reasons.append({"rantai:lotNumber": line.lot_number, "rantai:vials": line.rejected,
                            "rantai:reason": line.reason, "rantai:vvmStage": line.vvm_stage})
    doc = base("ObjectEvent", event, "OBSERVE", "receiving", "in_progress", at=shipment.destination)
    doc["epcList"] = [shipment_uri(shipment.sscc)]
    if any(accepted.values()):
        doc["quantityList"] = quantities(accepted)
    if celsius is not None:
        doc["sensorElementList"] = [temperature(celsius, event.by.occurred_at)]
    docs = [doc]
    if reasons:
        held = base("ObjectEvent", event, "OBSERVE", "inspecting", "non_sellable_other", at=shipment.destination,
                    part=1)
        docs.append(held | {"quantityList": quantities(rejected), "rantai:rejected": reasons})
    return docs


def received(event: Shipment.Received, source: Source) -> list[Doc]:
    return receipt(event, source.packed(event.originator_id), event.lines, event.arrival_celsius)


def receipt_corrected(event: Any, source: Source) -> list[Doc]:
    shipment = source.packed(event.originator_id)
    original = source.event_at(event.originator_id, event.corrects)
    when = {"eventTime": moment(original.by.occurred_at),
            "eventTimeZoneOffset": offset(original.by.occurred_at, original.by.zone)}
    corrective = [doc | when for doc in receipt(event, shipment, event.lines, None)]
    return declared_wrong(received(original, source), event, corrective)


def destroyed(event: Any, source: Source, wasted: StockLedger.Wasted, doses: int) -> Doc:
    """``event``'s destruction of ``doses`` of what ``wasted`` recorded (itself, or a correction of it)."""
    doc = base("ObjectEvent", event, "DELETE", "destroying", "destroyed", at=wasted.facility)
    return doc | {"quantityList": [vials(source, wasted.gtin, wasted.lot_number, doses)],
                  "rantai:reason": wasted.reason.value}


def wasted(event: StockLedger.Wasted, source: Source) -> list[Doc]:
    return [destroyed(event, source, event, event.doses)]


def wastage_corrected(event: Any, source: Source) -> list[Doc]:
    original = source.event_at(event.originator_id, event.corrects)
    correct = original.doses - event.doses  # the correction's doses: recorded minus correct
    corrective = []
    if correct > 0:
        doc = destroyed(event, source, original, correct)
        corrective = [doc | {"eventTime": moment(original.by.occurred_at),
                             "eventTimeZoneOffset": offset(original.by.occurred_at, original.by.zone)}]
    return declared_wrong(wasted(original, source), event, corrective)


def counted(event: StockLedger.Counted, source: Source) -> list[Doc]:
    """A physical count: what was found, beside what the card expected (in doses)."""
    doc = base("ObjectEvent", event, "OBSERVE", "cycle_counting", None)
    return [doc | {"quantityList": [vials(source, event.gtin, event.lot_number, event.counted)],
                   "rantai:expectedDoses": event.expected, "rantai:differenceDoses": event.difference}]


def lot_status(disposition: str, step: str | None) -> Callable[[Any, Source], list[Doc]]:
    def handler(event: Any, source: Source) -> list[Doc]:
        gtin, lot_number = source.lot_named(event.originator_id)
        doc = base("ObjectEvent", event, "OBSERVE", step, disposition)
        doc["quantityList"] = [{"epcClass": lot_class(gtin, lot_number)}]
        return [doc | {"rantai:reason": event.reason, "rantai:reference": getattr(event, "reference", "")}]

    return handler


HANDLERS: dict[type, Callable[[Any, Source], list[Doc]]] = {
    StockLedger.Received: released,
    StockLedger.Wasted: wasted,
    StockLedger.WastageCorrected: wastage_corrected,
    StockLedger.Counted: counted,
    Shipment.Packed: packed,
    Shipment.Cancelled: cancelled,
    Shipment.Dispatched: dispatched,
    Shipment.HandedOver: handed_over,
    Shipment.TemperatureRecorded: temperature_recorded,
    Shipment.Received: received,
    Shipment.ReceiptCorrected: receipt_corrected,
    Lot.Quarantined: lot_status("non_sellable_other", "holding"),
    Lot.ReleasedFromQuarantine: lot_status("active", None),
    Lot.Recalled: lot_status("recalled", None),
}
