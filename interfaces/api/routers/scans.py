"""What did I just scan? Turns a QR payload into the shipment or lot it names."""

from __future__ import annotations

from fastapi import APIRouter

from interfaces.api.deps import CallerDep, CampaignDep
from interfaces.api.models import ScanIn
from interfaces.api.routers.shipments import public
from interfaces.scanner.digital_link import ShipmentLabel, read

router = APIRouter(prefix="/scans", tags=["scanner"])


@router.post("")
def resolve(body: ScanIn, campaign: CampaignDep, caller: CallerDep) -> dict[str, object]:
    label = read(body.payload)
    if isinstance(label, ShipmentLabel):
        return {"kind": "shipment", "shipment": public(campaign.shipment_for(label.sscc, caller)).model_dump()}
    campaign.check_readable(caller, "read_logistics")
    lot = campaign.get_lot(label.gtin, label.lot_number)
    return {
        "kind": "lot", "gtin": lot.gtin, "lot_number": lot.lot_number,
        "expiry": lot.expiry.isoformat(), "status": lot.status.value, "serial": label.serial,
    }
