"""Every page, as a hostile browser would call it: huge, negative, malformed and
unicode-laden form fields and path parts, as each role, with the page's CSRF token.

The pages are not in the OpenAPI description (the fuzzer of ``tests/api`` does not
reach them), so this walks the app's page routes itself. No answer is a server
error, and a refused form writes nothing beyond what a page may record.
"""

from __future__ import annotations

import random
from collections import Counter
import re
from urllib.parse import quote

from fastapi.testclient import TestClient

from domain.user import Role
from tests.api.conftest import api  # noqa: F401 - fixture
from tests.api.test_authorization_matrix import app_routes
from tests.scenario import ColdChain

NASTY = [
    "", " ", "-1", "0", "99999999999999999999", "1e309", "NaN", "x" * 5000, "'; DROP TABLE x; --",
    "<script>alert(1)</script>", "\u0000\u202e\ufeff", "𝓡𝓪𝓷𝓽𝓪𝓲 🦠💉", "../../etc/passwd", "2021-02-30",
    "9999-12-31T23:59:59+14:00", "%00", "3173014101800001", "]d2010899280600001317211231" + "\x1d10CV001",
]
ROLES = {"admin": (Role.ADMIN, "national"), "gudang": (Role.WAREHOUSE, "32"), "vaksinator": (Role.VACCINATOR, "P327301"),
         "petugas": (Role.DISTRICT_OFFICER, "32.73"), "auditor": (Role.AUDITOR, "national")}
PAGES = re.compile(r"^/(gudang|pindai|meja|distrik|admin|daftar|home|bahasa|dashboard|$)")


def page_routes() -> list[tuple[str, str]]:
    return sorted((method, path) for method, path in app_routes()
                  if method in ("GET", "POST") and PAGES.match(path))


def fill(path: str, rng: random.Random) -> str:
    return re.sub(r"\{[^}]+\}", lambda _: quote(rng.choice(NASTY), safe="") or "x", path)


def test_no_page_answers_a_server_error_to_hostile_input(chain: ColdChain, api: TestClient) -> None:  # noqa: F811
    chain.release(vials=20)
    chain.ship("BIOFARMA", "32", ("CV001", 5))
    routes = page_routes()
    assert len(routes) > 20, routes
    rng = random.Random(11)
    failures, statuses = [], Counter()
    for name, (role, scope) in ROLES.items():
        user = f"{name}.hostile"
        chain.app.add_user(user, role, scope, chain.by(actor="cli:test"), password="rahasia-" + user)
        api.cookies.clear()
        assert api.post("/login", data={"username": user, "password": "rahasia-" + user},
                        follow_redirects=False).status_code == 303
        csrf = api.get("/session").json()["csrf"]
        for method, path in routes:
            for _ in range(3):
                url = fill(path, rng)
                fields = {key: rng.choice(NASTY) for key in (
                    "code", "nik", "digits", "phone_digits", "facility", "day", "destination", "gtin", "lot",
                    "lot_number", "vials", "accepted", "rejected", "reason", "vvm_stage", "celsius", "count",
                    "username", "role", "scope", "phase", "districts", "result", "severity", "description",
                    "outcome", "area", "clock", "ticket", "sscc", "parent", "name", "kind", "expiry")}
                if method == "POST":
                    answer = api.post(url, data=fields | {"csrf_token": csrf}, follow_redirects=False)
                else:
                    answer = api.get(url, params={k: fields[k] for k in ("area", "clock", "gtin", "day")},
                                     follow_redirects=False)
                statuses[answer.status_code] += 1
                if answer.status_code >= 500:
                    failures.append(f"{name}: {method} {url[:80]} -> {answer.status_code}")
    assert not failures, "\n".join(failures[:30])
    print(sorted(statuses.items()))
    # the forms were read, not all turned away at the door
    assert statuses[200] + statuses[303] > 50 and statuses[422] + statuses[400] + statuses[404] > 0, statuses
