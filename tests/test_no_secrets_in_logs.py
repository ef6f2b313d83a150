"""No password, token or personal data in any log line, URL or read-model key.

A whole scenario runs through the ASGI app (on both backends) with every logger
at DEBUG, captured by ``caplog``, and the process's stdout/stderr captured by
``capfd``: accounts with passwords, logins (one with a wrong password), bearer
tokens and session cookies, the SMS blast and its delivery reports, web and
USSD registration (with a failed attempt), desk 1 reading a person in full,
screening and a dose, a field visit and a field registration, the dashboard,
every report, logout. Then no captured log record, no output, no request URL,
no read-model cell and no throttle key may hold a password, a token, a NIK, a
recipient's name or phone number (E.164, 62…, 08… or its bare national
digits); and no parameter of any route in the OpenAPI description may be named
like a NIK, phone, password or token.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from application.logistics import NATIONAL_WAREHOUSE
from domain.user import Role
from interfaces.api.main import create_app
from interfaces.api.security import CSRF_HEADER, SESSION_COOKIE
from tests.application.test_recipients import DEADLINE, JAN_14, WIB, import_rows, open_phase
from tests.scenario import CORONAVAC, ColdChain, nik, reflect_the_whole_log, target_row

PUSKESMAS = "P327301"
GATEWAY = {"X-Gateway-Secret": "test-gateway-secret"}
NAMES = {1: "Ratna Sari Pertiwi", 2: "Bambang Wicaksono Hadi", 3: "Kartika Puspita Lubis", 4: "Yohanes Marpaung"}
PASSWORDS = {"admin": "sandi-admin-rahasia-1", "vaksinator": "sandi-vaksinator-rahasia-2",
             "petugas": "sandi-petugas-rahasia-3"}
WRONG_PASSWORD = "sandi-yang-salah-ketik-9"
PARAMETER_LIKE_A_SECRET = re.compile(r"nik|phone|msisdn|password|passwd|token|secret", re.IGNORECASE)


def phone_forms(local: str) -> list[str]:
    """081200000001 -> the local, E.164, 62… and bare national forms (the bare one is inside each other)."""
    national = local.removeprefix("0")
    return [local, f"+62{national}", f"62{national}", national]


@pytest.fixture
def every_log_at_debug(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every logger at DEBUG, each reaching caplog's handler (also those that do not propagate)."""
    caplog.set_level(logging.DEBUG)
    attached, enabled = [], []
    for name in list(logging.root.manager.loggerDict):
        logger = logging.getLogger(name)
        caplog.set_level(logging.DEBUG, logger=name)
        if logger.disabled:
            logger.disabled = False
            enabled.append(logger)
        if not logger.propagate:
            logger.addHandler(caplog.handler)
            attached.append(logger)
    yield caplog
    for logger in attached:
        logger.removeHandler(caplog.handler)
    for logger in enabled:
        logger.disabled = True


class Scenario:
    """Runs the requests, remembering every secret it used and every URL it asked for."""

    def __init__(self, client: TestClient, chain: ColdChain) -> None:
        self.client, self.chain = client, chain
        self.tokens: dict[str, str] = {}
        self.sessions: dict[str, str] = {}  # each account's latest session
        self.every_session: list[str] = []
        self.urls: list[str] = []
        client.event_hooks["request"].append(lambda request: self.urls.append(str(request.url)))

    def bearer(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}", "X-Device": f"hp-{name}"}

    def cookie(self, name: str, write: bool = False) -> dict[str, str]:
        session = self.sessions[name]
        headers = {"Cookie": f"{SESSION_COOKIE}={session}"}
        if write:
            headers[CSRF_HEADER] = self.csrf(session)
        return headers

    def csrf(self, session: str) -> str:
        return hmac.new(self.client.app.state.csrf_secret, session.encode(), hashlib.sha256).hexdigest()

    def login(self, name: str, password: str) -> int:
        answer = self.client.post("/login", data={"username": name, "password": password}, follow_redirects=False)
        if answer.status_code == 303:
            self.sessions[name] = answer.cookies[SESSION_COOKIE]
            self.every_session.append(self.sessions[name])
        self.client.cookies.clear()
        return answer.status_code

    def ok(self, response, status: int = 200):
        assert response.status_code == status, (response.request.method, response.request.url.path, response.text)
        return response

    def ussd(self, text: str, phone: str) -> str:
        return self.ok(self.client.post("/ussd", headers=GATEWAY, data={
            "sessionId": "ATUid_7", "serviceCode": "*119#", "phoneNumber": phone, "text": text})).text

    def secrets(self) -> dict[str, str]:
        found = {f"password of {n}": p for n, p in PASSWORDS.items()} | {"a wrong password": WRONG_PASSWORD}
        found |= {f"token of {n}": t for n, t in self.tokens.items()}
        found |= {f"session {i}": s for i, s in enumerate(self.every_session, start=1)}
        return found | personal_data()


def personal_data() -> dict[str, str]:
    found = {}
    for serial, name in NAMES.items():
        found[f"NIK {serial}"] = nik(serial=serial)
        found[f"name {serial}"] = name
        for form in phone_forms(target_row(serial)["phone"]):
            found[f"phone {serial} as {form}"] = form
    return found


def run_the_campaign(s: Scenario) -> None:
    chain, client = s.chain, s.client
    # accounts: an admin made like `rantai users add --password-stdin`, the rest by the admin over HTTP
    _, s.tokens["admin"], _ = chain.app.add_user("admin", Role.ADMIN, "national", chain.by(actor="cli:test"),
                                                 password=PASSWORDS["admin"])
    for name, role, scope in (("vaksinator", "vaccinator", PUSKESMAS), ("petugas", "district_officer", "32.73"),
                              ("auditor", "auditor", "national")):
        made = s.ok(client.post("/users", headers=s.bearer("admin"), json={
            "username": name, "role": role, "scope": scope, "name": f"Staf {name}",
            **({"password": PASSWORDS[name]} if name in PASSWORDS else {})}), 201).json()
        s.tokens[name] = made["token"]
    s.tokens["vaksinator-2"] = s.ok(client.post("/users/vaksinator/tokens", headers=s.bearer("admin")), 201).json()["token"]
    # logins: one wrong password, then each with a password
    assert s.login("petugas", WRONG_PASSWORD) == 401
    assert all(s.login(name, password) == 303 for name, password in PASSWORDS.items())
    s.ok(client.get("/users", headers=s.cookie("admin")))
    # the SMS blast on the evening of 12 January, and the provider's delivery reports
    by = chain.by("KEMENKES")
    blast = chain.app.start_blast(1, ["32.73"], "Daftar ulang", datetime(2021, 1, 13, 17, tzinfo=UTC), by)
    list(chain.app.send_blast(blast.id, client.app.state.sms, by))
    for serial, status in ((1, "Success"), (2, "Success"), (3, "Failed")):
        message = blast.message_id(chain.app.recipient_id(nik(serial=serial)))
        s.ok(client.post("/sms/delivery-reports", headers=GATEWAY, data={
            "id": message, "status": status, "failureReason": "AbsentSubscriber" if status == "Failed" else ""}))
    # web registration (with a wrong guess of another NIK's digits), and USSD in both phone forms
    wrong = {"nik": nik(serial=4), "phone_last_four": "9999", "facility": PUSKESMAS, "day": JAN_14.isoformat()}
    assert client.post("/registrations", json=wrong).status_code == 409
    ticket = s.ok(client.post("/registrations", json={
        "nik": nik(serial=1), "phone_last_four": "0001", "facility": PUSKESMAS, "day": JAN_14.isoformat()}),
        201).json()["ticket"]
    e164 = phone_forms(target_row(2)["phone"])[1]
    done = s.ussd(f"1*{nik(serial=2)}*1*1*1*1", e164)
    assert done.startswith("END Terima kasih"), done
    assert s.ussd(f"2*{nik(serial=2)}", target_row(2)["phone"]).startswith("END Jadwal Anda")
    assert s.ussd(f"1*{nik(serial=2)}", "+6281299999999").startswith("END NIK dan nomor HP")
    # desk 1 reads her in full, desk 2 screens (a session with its CSRF token), desk 3 doses
    chain.now = datetime(2021, 1, 14, 6, 50, tzinfo=WIB)
    assert s.login("vaksinator", PASSWORDS["vaksinator"]) == 303  # a session lasts 12 hours: a new day, a new login
    seen = s.ok(client.get(f"/tickets/{ticket}", headers=s.bearer("vaksinator"))).json()
    assert seen["masked"] is False and seen["name"] == NAMES[1]
    assert s.ok(client.get(f"/tickets/{ticket}", headers=s.bearer("auditor"))).json()["masked"] is True
    s.ok(client.post(f"/tickets/{ticket}/screening", headers=s.cookie("vaksinator", write=True),
                     json={"result": "eligible"}))
    chain.now = datetime(2021, 1, 14, 7, 10, tzinfo=WIB)
    s.ok(client.post(f"/tickets/{ticket}/dose", headers=s.bearer("vaksinator-2"),
                     json={"gtin": CORONAVAC, "lot_number": "CV001"}))
    # the field officer's worklist, a visit, the person's record in full, and a registration in the field
    chain.now = datetime(2021, 1, 14, 9, tzinfo=WIB)
    assert all(s.login(name, PASSWORDS[name]) == 303 for name in ("petugas", "admin"))
    reflect_the_whole_log(client, chain)
    listed = s.ok(client.get("/districts/32.73/worklist", headers=s.cookie("petugas"))).json()
    assert len(listed["entries"]) == 2, listed
    third = chain.app.recipient_id(nik(serial=3)).hex
    s.ok(client.post(f"/recipients/{third}/visits", headers=s.bearer("petugas"),
                     json={"unit": "babinsa", "officer": "Serka Budi"}))
    s.ok(client.post(f"/recipients/{third}/visit-report", headers=s.cookie("petugas", write=True),
                     json={"outcome": "registered", "note": "bersedia datang besok"}))
    assert s.ok(client.get(f"/recipients/{third}", headers=s.bearer("petugas"))).json()["name"] == NAMES[3]
    s.ok(client.post("/registrations/field", headers=s.bearer("petugas"), json={
        "nik": nik(serial=3), "facility": PUSKESMAS, "day": (JAN_14 + timedelta(days=1)).isoformat()}), 201)
    # the dashboard and every report, as the auditor and through a session
    reflect_the_whole_log(client, chain)
    s.ok(client.get("/dashboard/data", headers=s.bearer("auditor")))
    s.ok(client.get("/", headers=s.cookie("admin") | {"Accept": "text/html"}))
    for report in s.ok(client.get("/reports", headers=s.bearer("auditor"))).json():
        s.ok(client.get(report["url"], headers=s.bearer("auditor")))
        s.ok(client.get(report["url"], headers=s.cookie("admin"), params={"format": "csv"}))
    # and the admin logs out
    session = s.sessions["admin"]
    assert client.post("/logout", headers=s.cookie("admin"), data={"csrf_token": s.csrf(session)},
                       follow_redirects=False).status_code == 303


def leaks(texts: dict[str, str], secrets: dict[str, str]) -> list[str]:
    return [f"{what} in {where}" for where, text in texts.items() for what, secret in secrets.items()
            if secret in text]


def test_no_secret_or_personal_data_in_logs_urls_or_read_models(
        settings, chain: ColdChain, every_log_at_debug: pytest.LogCaptureFixture, capfd) -> None:
    # Given vaccine at Puskesmas Sukasari, four health workers on the list and phase 1 open
    chain.release(vials=50, expiry=date(2021, 12, 31))
    chain.receive_all(chain.ship(NATIONAL_WAREHOUSE, "32", ("CV001", 20)))
    chain.receive_all(chain.ship("32", "32.73", ("CV001", 10)))
    chain.receive_all(chain.ship("32.73", PUSKESMAS, ("CV001", 5)))
    import_rows(chain.app, [target_row(i, name=name) for i, name in NAMES.items()], chain.by("KEMENKES"))
    open_phase(chain)
    chain.now = datetime(2021, 1, 12, 20, tzinfo=WIB)
    assert DEADLINE > chain.now
    caplog = every_log_at_debug
    with TestClient(create_app(settings, clock=lambda: chain.now)) as client:
        scenario = Scenario(client, chain)
        # When the whole campaign runs through the API
        run_the_campaign(scenario)
        reflect_the_whole_log(client, chain)
        # Then no read-model cell (keys and text alike) holds personal data
        cells: dict[str, str] = {}
        rows_seen = 0
        for name, model in client.app.state.read_models.items():
            view = model.view
            for table in view.all_tables:
                rows = view.select(f"SELECT * FROM {{{table.name}}}")
                rows_seen += len(rows)
                cells[f"read model {name}.{table.name}"] = "\n".join(
                    f"{column}={value}" for row in rows for column, value in row.items())
        assert rows_seen > 20, "the read models should reflect the campaign"
        assert "recipient_id=" in cells["read model non_responders.worklist"]
        # and no throttle key holds a NIK, a username or an address as typed
        throttle = client.app.state.throttle
        keys = [str(row[0]) for row in throttle._execute(f"SELECT key FROM {throttle.table}", ())]
        assert keys, "the wrong password and the wrong digits should have been counted"
        cells["throttle keys"] = "\n".join(keys)
        assert not any(word in key for key in keys for word in ("petugas", "testclient", nik(serial=4))), keys
        # and no route of the OpenAPI description takes a secret-like parameter in its URL (path or query;
        # headers such as X-Gateway-Secret and form bodies such as the login's never reach a URL)
        openapi = client.get("/openapi.json").json()
        named = [(path, method, p["in"], p["name"]) for path, methods in openapi["paths"].items()
                 for method, operation in methods.items() for p in operation.get("parameters", [])
                 if p["in"] in ("path", "query") and PARAMETER_LIKE_A_SECRET.search(p["name"])]
        templated = [path for path in openapi["paths"] if PARAMETER_LIKE_A_SECRET.search(
            " ".join(re.findall(r"\{([^}]*)\}", path)))]
        assert named == [] and templated == [], (named, templated)
    out, err = capfd.readouterr()
    records = caplog.records
    assert any(r.name == "httpx" for r in records), "the client's request lines should have been captured"
    texts = {
        "log record": "\n".join(f"{r.name} {r.levelname} {r.getMessage()} {r.exc_text or ''}" for r in records),
        "formatted logs": caplog.text, "stdout": out, "stderr": err,
        "request URLs": "\n".join(scenario.urls),
    } | cells
    found = leaks(texts, scenario.secrets())
    assert found == [], "\n".join(found)
    # (the read models and URLs hold no password or token either: checked above with every secret)
    assert len(scenario.urls) > 40
