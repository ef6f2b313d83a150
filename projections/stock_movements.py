"""One reading of every stock-card event, shared by the read models that count stock
(stock on hand, the stock reconciliation, the recall trace): how it moves a card's
usable and quarantined doses, and under which flow of the reconciliation."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.stock_ledger import StockLedger

StockEvent = (StockLedger.Received | StockLedger.Issued | StockLedger.Administered | StockLedger.Wasted
              | StockLedger.Counted | StockLedger.HeldInQuarantine | StockLedger.ReceiptCorrected
              | StockLedger.WastageCorrected | StockLedger.AdministrationVoided)
STOCK_EVENTS = StockEvent.__args__
USABLE_FLOWS = ("received", "issued", "administered", "wasted", "adjustments")
QUARANTINE_FLOWS = ("held", "returned", "destroyed")
SIGN = {"received": 1, "issued": -1, "administered": -1, "wasted": -1, "adjustments": 1,
        "held": 1, "returned": -1, "destroyed": -1}


@dataclass(frozen=True)
class Movement:
    """``flows``: doses per reconciliation flow (a correction may make one negative)."""

    facility: str
    lot_key: str
    flows: dict[str, int] = field(default_factory=dict)

    @property
    def usable(self) -> int:
        return sum(SIGN[f] * n for f, n in self.flows.items() if f in USABLE_FLOWS)

    @property
    def quarantined(self) -> int:
        return sum(SIGN[f] * n for f, n in self.flows.items() if f in QUARANTINE_FLOWS)

    @property
    def used(self) -> int:
        """What left the card by use (issue or dose): the pace behind days of stock."""
        return self.flows.get("issued", 0) + self.flows.get("administered", 0)

    def usable_flows(self) -> dict[str, int]:
        return {f: n for f, n in self.flows.items() if f in USABLE_FLOWS}

    def quarantine_flows(self) -> dict[str, int]:
        return {f: n for f, n in self.flows.items() if f in QUARANTINE_FLOWS}


def movement_of(event: Any) -> Movement:
    doses = getattr(event, "doses", 0)
    kind = type(event).__name__
    flows: dict[str, int]
    if kind == "Received":
        flows = {"received": doses}
    elif kind == "Issued":
        flows = {"returned": doses} if event.quarantined else {"issued": doses}
    elif kind == "Administered":
        flows = {"administered": doses}
    elif kind == "Wasted":
        flows = {"destroyed": doses} if event.quarantined else {"wasted": doses}
    elif kind == "Counted":
        flows = {"adjustments": event.difference}
    elif kind == "HeldInQuarantine":
        flows = {"held": doses}
    elif kind == "ReceiptCorrected":  # a recount corrects what was received, on the day of the correction
        flows = {"received": doses, "held": event.quarantined_doses}
    elif kind == "WastageCorrected":
        flows = {"wasted": -doses}
    elif kind == "AdministrationVoided":
        flows = {"administered": -doses}
    else:
        raise TypeError(f"not a stock movement: {kind}")
    return Movement(event.facility, f"{event.gtin}/{event.lot_number}", flows)
