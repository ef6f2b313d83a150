"""The API as its users meet it: a real app on a real store, and an account per
role (tokens made by the application, as `rantai users add` makes them)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from application.logistics import NATIONAL_WAREHOUSE
from domain.user import Role
from interfaces.api.main import create_app
from tests.scenario import ColdChain

GATEWAY = {"X-Gateway-Secret": "test-gateway-secret"}
WITH_PASSWORD = {"auditor", "gudang.jabar"}

# name -> (role, scope)
ACCOUNTS = {
    "admin": (Role.ADMIN, "national"),
    "gudang.biofarma": (Role.WAREHOUSE, NATIONAL_WAREHOUSE),
    "gudang.jabar": (Role.WAREHOUSE, "32"),
    "gudang.bandung": (Role.WAREHOUSE, "32.73"),
    "gudang.dki": (Role.WAREHOUSE, "31"),
    "vaksinator": (Role.VACCINATOR, "P327301"),
    "petugas": (Role.DISTRICT_OFFICER, "32.73"),
    "petugas.jaksel": (Role.DISTRICT_OFFICER, "31.71"),
    "auditor": (Role.AUDITOR, "national"),
    "auditor.dki": (Role.AUDITOR, "31"),
}


@dataclass
class Accounts:
    tokens: dict[str, str]

    def __call__(self, name: str, **extra: str) -> dict[str, str]:
        """Headers of a request made by account ``name``."""
        return {"Authorization": f"Bearer {self.tokens[name]}", "X-Device": f"hp-{name}", **extra}


@pytest.fixture
def accounts(chain: ColdChain) -> Accounts:
    tokens = {}
    for name, (role, scope) in ACCOUNTS.items():
        password = "rahasia-" + name if name in WITH_PASSWORD else None  # Argon2 is slow on purpose: only where used
        _, token, _ = chain.app.add_user(name, role, scope, chain.by(actor="cli:test"), password=password)
        tokens[name] = token
    return Accounts(tokens)


@pytest.fixture
def api(chain: ColdChain, settings) -> Iterator[TestClient]:
    """The app on the test's store, its clock the scenario's (so January 2021 is 'now')."""
    with TestClient(create_app(settings, clock=lambda: chain.now)) as client:
        yield client
