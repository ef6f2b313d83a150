"""Request and response models of the API, with the domain's bounds declared
(so the OpenAPI description shows them and a wrong value is a 422 at the edge)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field

from domain.bounds import (
    CELSIUS_PLACES,
    LONG_TEXT,
    MAX_CELSIUS,
    MAX_COUNT_VIALS,
    MAX_DOSES,
    MAX_DOSES_PER_VIAL,
    MAX_LINES,
    MAX_RELEASE_VIALS,
    MAX_VIALS_PER_LINE,
    MIN_CELSIUS,
    NAME_TEXT,
    SHORT_TEXT,
)
from domain.stock_ledger import WastageReason

LOT_PATTERN = r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}$"
Gtin = Annotated[str, Field(min_length=8, max_length=14, pattern=r"^\d+$", description="GTIN-8/12/13/14")]
LotNumber = Annotated[str, Field(min_length=1, max_length=20, pattern=LOT_PATTERN,
                                 description="GS1 AI (10): up to 20 characters of GS1 character set 82")]
FacilityCode = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9.]+$")]
Celsius = Annotated[Decimal, Field(ge=MIN_CELSIUS, le=MAX_CELSIUS, max_digits=5, decimal_places=CELSIUS_PLACES,
                                   description="°C, -50 to 60, at most two decimals")]
Reason = Annotated[str, Field(max_length=SHORT_TEXT, description="Free text; control characters are removed")]


class ErrorBody(BaseModel):
    """Every refusal: the kind of error and a message a worker can act on (never the input echoed)."""

    error: str
    message: str
    free_days: list[date] | None = None


class CommandResult(BaseModel):
    result: dict[str, str]
    position: int | None = Field(None, description="Log position of the write (for waiting on read models)")
    repeated: bool = False


class LineIn(BaseModel):
    gtin: Gtin
    lot_number: LotNumber
    vials: int = Field(ge=1, le=MAX_VIALS_PER_LINE)


class ShipmentCreate(BaseModel):
    origin: FacilityCode
    destination: FacilityCode
    lines: list[LineIn] = Field(min_length=1, max_length=MAX_LINES)
    override_reason: Reason = Field("", description="Why a lot is packed before an earlier-expiring one (recorded)")


class ReceiptLineIn(BaseModel):
    gtin: Gtin
    lot_number: LotNumber
    accepted: int = Field(ge=0, le=MAX_VIALS_PER_LINE)
    rejected: int = Field(0, ge=0, le=MAX_VIALS_PER_LINE)
    reason: Reason = ""
    vvm_stage: int = Field(1, ge=1, le=4, description="Vaccine vial monitor: 1-2 usable, 3-4 never accepted")


class ReceiptCreate(BaseModel):
    lines: list[ReceiptLineIn] = Field(max_length=MAX_LINES)
    arrival_celsius: Celsius


class TemperatureCreate(BaseModel):
    celsius: Celsius


class CancelCreate(BaseModel):
    reason: Reason = Field(min_length=1)


class ShipmentPublic(BaseModel):
    sscc: str
    origin: str
    destination: str
    status: str
    lines: list[LineIn]
    receipt: list[ReceiptLineIn]
    dispatched_at: str | None
    received_at: str | None
    arrival_celsius: Decimal | None
    excursion: bool
    label: str


class LotRelease(BaseModel):
    gtin: Gtin
    lot_number: LotNumber
    expiry: date
    product: str = Field(min_length=1, max_length=NAME_TEXT)
    doses_per_vial: int = Field(ge=1, le=MAX_DOSES_PER_VIAL)
    manufacturer: str = Field(min_length=1, max_length=NAME_TEXT)
    vials: int = Field(ge=1, le=MAX_RELEASE_VIALS)


class LotPublic(BaseModel):
    gtin: str
    lot_number: str
    expiry: date
    product: str
    doses_per_vial: int
    manufacturer: str
    status: str
    status_reason: str


class StockLine(BaseModel):
    gtin: str
    lot_number: str
    expiry: date
    doses: int
    vials: int


class StockPick(BaseModel):
    gtin: str
    lot_number: str
    vials: int


class StockPublic(BaseModel):
    facility: str
    name: str
    lines: list[StockLine]


class WastageCreate(BaseModel):
    gtin: Gtin
    lot_number: LotNumber
    doses: int = Field(ge=1, le=MAX_DOSES)
    reason: WastageReason
    note: Reason = ""


class CountCreate(BaseModel):
    gtin: Gtin
    lot_number: LotNumber
    vials: int = Field(ge=0, le=MAX_COUNT_VIALS)
    loose_doses: int = Field(0, ge=0, le=MAX_DOSES_PER_VIAL)


class ScanIn(BaseModel):
    payload: str = Field(min_length=1, max_length=500)


LongText = Annotated[str, Field(max_length=LONG_TEXT)]
