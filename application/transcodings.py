"""How the domain's own types are stored in events and snapshots."""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from enum import Enum
from typing import Any

from eventsourcing.persistence import JSONTranscoder, Transcoding

from domain.facility import FacilityKind
from domain.lot import LotStatus
from domain.provenance import Provenance
from domain.shipment import ReceiptLine, ShipmentLine, ShipmentStatus
from domain.stock_ledger import WastageReason


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


def enum_transcoding(enum: type[Enum]) -> Transcoding:
    class EnumAsValue(Transcoding):
        type = enum
        name = enum.__name__

        def encode(self, obj: Enum) -> Any:
            return obj.value

        def decode(self, data: Any) -> Enum:
            return enum(data)

    return EnumAsValue()


def dataclass_transcoding(cls: type) -> Transcoding:
    names = [f.name for f in fields(cls)]

    class DataclassAsDict(Transcoding):
        type = cls
        name = cls.__name__

        def encode(self, obj: Any) -> dict[str, Any]:
            return {n: getattr(obj, n) for n in names}

        def decode(self, data: dict[str, Any]) -> Any:
            return cls(**data)

    return DataclassAsDict()


class ProvenanceAsDict(Transcoding):
    """Decoded with ``Provenance.restore``: a stored event decodes whatever today's bounds say."""

    type = Provenance
    name = "Provenance"
    names = [f.name for f in fields(Provenance)]

    def encode(self, obj: Provenance) -> dict[str, Any]:
        return {n: getattr(obj, n) for n in self.names}

    def decode(self, data: dict[str, Any]) -> Provenance:
        return Provenance.restore(**data)


ENUMS = (FacilityKind, LotStatus, ShipmentStatus, WastageReason)
DATACLASSES = (ShipmentLine, ReceiptLine)


def register_domain_transcodings(transcoder: JSONTranscoder, *more: type) -> None:
    transcoder.register(DateAsISO())
    transcoder.register(ProvenanceAsDict())
    for enum in ENUMS:
        transcoder.register(enum_transcoding(enum))
    for cls in (*DATACLASSES, *more):
        transcoder.register(dataclass_transcoding(cls))
