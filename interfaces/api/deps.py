"""Dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from application.campaign import Campaign
from interfaces.api.security import CallerDep, KeyDep  # noqa: F401 - re-exported for the routers
from projections.read_model import ReadModel


async def get_campaign(request: Request) -> Campaign:
    return request.app.state.campaign


async def get_read_models(request: Request) -> dict[str, ReadModel]:
    return request.app.state.read_models


CampaignDep = Annotated[Campaign, Depends(get_campaign)]
ReadModelsDep = Annotated[dict[str, ReadModel], Depends(get_read_models)]
