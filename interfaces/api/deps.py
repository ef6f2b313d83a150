"""Dependencies shared by the routers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Header, Request

from application.campaign import Campaign
from domain.provenance import Provenance
from projections.read_model import ReadModel


def get_campaign(request: Request) -> Campaign:
    return request.app.state.campaign


def get_provenance(
    x_actor: Annotated[str, Header(description="Who is scanning (user id)")],
    x_facility: Annotated[str, Header(description="Facility code where the scan happens")],
    x_device: Annotated[str, Header(description="Scanner or phone id")] = "unknown",
    x_occurred_at: Annotated[
        datetime | None,
        Header(description="When the scan happened (ISO 8601); an offline scanner sends it later"),
    ] = None,
) -> Provenance:
    occurred = x_occurred_at or datetime.now(UTC)
    if occurred.tzinfo is None:
        occurred = occurred.replace(tzinfo=UTC)
    return Provenance(x_actor, x_facility, x_device, occurred)


def get_read_models(request: Request) -> dict[str, ReadModel]:
    return request.app.state.read_models


CampaignDep = Annotated[Campaign, Depends(get_campaign)]
ReadModelsDep = Annotated[dict[str, ReadModel], Depends(get_read_models)]
ByDep = Annotated[Provenance, Depends(get_provenance)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="Repeat a request safely: same key, same answer"),
]
