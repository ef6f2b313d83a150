"""Request and response models of the API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from domain.stock_ledger import WastageReason


class CommandResult(BaseModel):
    result: dict[str, str]
    position: int | None = Field(None, description="Log position of the write (for waiting on read models)")
    repeated: bool = False


class LineIn(BaseModel):
    gtin: str = Field(min_length=8, max_length=14)
    lot_number: str = Field(min_length=1, max_length=20)
    vials: int


class ShipmentCreate(BaseModel):
    origin: str
    destination: str
    lines: list[LineIn] = Field(min_length=1)


class ReceiptLineIn(BaseModel):
    gtin: str
    lot_number: str
    accepted: int
    rejected: int = 0
    reason: str = ""
    vvm_stage: int = 1


class ReceiptCreate(BaseModel):
    lines: list[ReceiptLineIn]
    arrival_celsius: Decimal


class TemperatureCreate(BaseModel):
    celsius: Decimal


class CancelCreate(BaseModel):
    reason: str = Field(min_length=1)


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
    gtin: str
    lot_number: str = Field(min_length=1, max_length=20)
    expiry: date
    product: str
    doses_per_vial: int
    manufacturer: str
    vials: int


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
    gtin: str
    lot_number: str
    doses: int
    reason: WastageReason
    note: str = ""


class CountCreate(BaseModel):
    gtin: str
    lot_number: str
    vials: int = Field(ge=0)
    loose_doses: int = Field(0, ge=0)


class ScanIn(BaseModel):
    payload: str
