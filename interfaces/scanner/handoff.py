"""What a scanned code names, and whether the handoff it is scanned for may happen now.

A query: nothing is written. For an action the answer is the one the command
itself would give, in the same order and with the same errors, without
running it: the role first (403), then what the code names (404 unknown),
where the caller stands (403 outside their scope), then the state (409:
already dispatched, not dispatched yet, lot recalled or expired, ticket
used, not screened today). A code of the wrong kind for the action (a vial
scanned to dispatch) is refused before anything is looked up (422).

- dispatch: a shipment, packed, at an origin in the caller's scope;
- receive: a shipment, dispatched, addressed to a facility in the caller's scope;
- dose: a ticket whose holder may be vaccinated today at their puskesmas, or
  a lot that is usable today (released, not expired).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from application.access import Caller
from application.campaign import Campaign
from application.logistics import NATIONAL_WAREHOUSE
from domain.lot import Lot
from domain.recipient import Recipient
from domain.shipment import Shipment, ShipmentStatus
from domain.user import NATIONAL
from interfaces.scanner.digital_link import Label, LotLabel, ScanNotUnderstood, ShipmentLabel, TicketCode, read

Action = Literal["dispatch", "receive", "dose"]
ACTIONS: tuple[Action, ...] = ("dispatch", "receive", "dose")
KINDS_FOR: dict[str, tuple[str, ...]] = {"dispatch": ("shipment",), "receive": ("shipment",), "dose": ("ticket", "lot")}
WRONG_KIND = {
    "dispatch": "To dispatch, scan the shipment's label (the QR code on the box), not a {kind} code.",
    "receive": "To receive, scan the shipment's label (the QR code on the box), not a {kind} code.",
    "dose": "To give a dose, scan the recipient's ticket or the vial, not a {kind} label.",
}


@dataclass(frozen=True)
class Named:
    label: Label
    shipment: Shipment | None = None
    lot: Lot | None = None
    recipient: Recipient | None = None
    today: date | None = None  # the day the lot's status is told for


def check_kind(label: Label, action: Action | None) -> None:
    if action is not None and label.kind not in KINDS_FOR[action]:
        raise ScanNotUnderstood(WRONG_KIND[action].format(kind="vial or box" if label.kind == "lot" else label.kind))


def resolve(campaign: Campaign, caller: Caller, label: Label, action: Action | None = None) -> Named:
    """What ``label`` names for ``caller``; with an ``action``, raises what the command would raise."""
    check_kind(label, action)
    if action == "dispatch" or action == "receive":
        campaign.check_role(caller, action)
    if action == "dose":
        campaign.check_role(caller, "vaccinate")
    if isinstance(label, ShipmentLabel):
        return _shipment(campaign, caller, label, action)
    if isinstance(label, TicketCode):
        return _ticket(campaign, caller, label, action)
    return _lot(campaign, caller, label, action)


def _shipment(campaign: Campaign, caller: Caller, label: ShipmentLabel, action: Action | None) -> Named:
    shipment = campaign.shipment_for(label.sscc, caller)
    if action == "dispatch":
        campaign.check_permission("dispatch", caller, shipment.origin, f"this shipment leaves from {shipment.origin}")
        shipment.check_status(ShipmentStatus.PACKED)
    elif action == "receive":
        campaign.check_permission("receive", caller, shipment.destination,
                                  f"this shipment is addressed to {shipment.destination}")
        shipment.check_status(ShipmentStatus.DISPATCHED)
    return Named(label, shipment=shipment)


def _ticket(campaign: Campaign, caller: Caller, label: TicketCode, action: Action | None) -> Named:
    recipient = campaign.ticket_for(label.ticket, caller)
    if action == "dose":
        recipient.check_registered()
        where = recipient.facility or recipient.district
        campaign.check_permission("vaccinate", caller, where, f"this person is booked at {where}")
        recipient.check_may_vaccinate(label.ticket, campaign.today_at(where))
    return Named(label, recipient=recipient)


def _lot(campaign: Campaign, caller: Caller, label: LotLabel, action: Action | None) -> Named:
    lot_number = label.check_names_a_lot()
    campaign.check_readable(caller, "read_logistics")
    lot = campaign.get_lot(label.gtin, lot_number)
    today = today_for(campaign, caller)
    if action == "dose":
        lot.check_usable(today)
    return Named(label, lot=lot, today=today)


def today_for(campaign: Campaign, caller: Caller) -> date:
    """Today where the caller works (the national campaign counts in Bio Farma's zone, WIB)."""
    return campaign.today_at(NATIONAL_WAREHOUSE if caller.scope == NATIONAL else caller.scope)


def choose(texts: list[str]) -> Label:
    """The one thing the codes of a scan or a photo name: codes that are not Rantai's are passed over;
    none refused with the first one's reason; several different ones refused (one label at a time)."""
    labels, refusals = [], []
    for text in texts:
        try:
            labels.append(read(text))
        except ScanNotUnderstood as refusal:
            refusals.append(refusal)
    if not labels:
        raise refusals[0]
    distinct = list(dict.fromkeys(labels))
    if len(distinct) > 1:
        raise ScanNotUnderstood(f"The photo shows {len(distinct)} different codes: photograph one label at a time.")
    return distinct[0]
