"""Dependencies shared by the routers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Header, Request

from application.logistics import Logistics
from domain.provenance import Provenance


def get_campaign(request: Request) -> Logistics:
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


CampaignDep = Annotated[Logistics, Depends(get_campaign)]
ByDep = Annotated[Provenance, Depends(get_provenance)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", description="Repeat a request safely: same key, same answer"),
]
