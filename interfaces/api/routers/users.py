"""Accounts over HTTP, for admins: add, list, new token, revoke, deactivate, lift a lockout."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field

from domain.user import Role
from interfaces.api.deps import CallerDep, CampaignDep
from interfaces.api.models import CommandResult

router = APIRouter(prefix="/users", tags=["users"])
Username = Annotated[str, Field(min_length=2, max_length=40, pattern=r"^[a-z0-9][a-z0-9._-]{1,39}$")]
UsernamePath = Annotated[str, Path(min_length=2, max_length=40, pattern=r"^[a-z0-9][a-z0-9._-]{1,39}$")]


class UserCreate(BaseModel):
    username: Username
    role: Role
    scope: str = Field(max_length=20, description="national, BIOFARMA, a province (32), a district (32.73) or a puskesmas")
    name: str = Field("", max_length=120)
    password: str | None = Field(None, min_length=10, max_length=256)


class TokenPublic(BaseModel):
    """Shown once: only its hash is stored."""

    username: str
    role: str
    scope: str
    token: str
    expires_at: datetime


class UserPublic(BaseModel):
    username: str
    name: str
    role: str
    scope: str
    active: bool
    live_tokens: int


@router.post("", status_code=201)
def add_user(body: UserCreate, campaign: CampaignDep, caller: CallerDep) -> TokenPublic:
    _, token, expires = campaign.add_user(body.username, body.role, body.scope, caller, body.name, body.password)
    return TokenPublic(username=body.username, role=body.role.value, scope=body.scope, token=token, expires_at=expires)


@router.get("")
def list_users(campaign: CampaignDep, caller: CallerDep) -> list[UserPublic]:
    campaign.check_readable(caller, "read_users")
    now = campaign.clock()
    return [UserPublic(username=u.username, name=u.name, role=u.role.value, scope=u.scope, active=u.active,
                       live_tokens=len(u.live_tokens(now)))
            for u in campaign.users() if campaign.within(caller.scope, u.scope) or caller.scope == u.scope]


@router.post("/{username}/tokens", status_code=201)
def new_token(username: UsernamePath, campaign: CampaignDep, caller: CallerDep) -> TokenPublic:
    token, expires = campaign.issue_token(username, caller)
    user = campaign.get_user(username)
    return TokenPublic(username=username, role=user.role.value, scope=user.scope, token=token, expires_at=expires)


@router.post("/{username}/revoke")
def revoke(username: UsernamePath, campaign: CampaignDep, caller: CallerDep) -> CommandResult:
    """Every token and session of the account stops working (within seconds on every server process)."""
    return CommandResult(**vars(campaign.revoke_tokens(username, caller)))


@router.post("/{username}/deactivate")
def deactivate(username: UsernamePath, campaign: CampaignDep, caller: CallerDep) -> CommandResult:
    return CommandResult(**vars(campaign.deactivate_user(username, caller)))


@router.post("/{username}/unlock")
def unlock(username: UsernamePath, request: Request, campaign: CampaignDep, caller: CallerDep) -> CommandResult:
    """Lift a login lockout after too many failed passwords."""
    outcome = campaign.lift_lockout(username, caller)
    request.app.state.throttle.clear(request.app.state.limits.login_user, username)
    return CommandResult(**vars(outcome))
