"""The dashboard (issue 11, item 8) over HTTP on both backends: the drop-out rate
counts only people whose dose 2 is due, ages say which clock they are measured
on (a replayed January 2021 is not "in transit for years"), and the national →
province → district drill-down stays inside the caller's scope."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from domain.user import Role
from tests.api.conftest import accounts, api  # noqa: F401 - fixtures
from tests.application.test_recipients import JAN_14, at, clinic, register, screen_and_vaccinate  # noqa: F401
from tests.scenario import ColdChain, reflect_the_whole_log
from tests.worked_scenarios import JAN


@pytest.fixture
def auditor(api: TestClient, accounts) -> TestClient:  # noqa: F811
    api.headers.update(accounts("auditor"))
    return api


def funnel(client: TestClient, **query: str) -> dict:
    return client.get("/dashboard/data", params=query).json()["funnel"]["totals"]


def test_drop_out_counts_only_people_whose_dose_2_is_due(
        clinic: ColdChain, auditor: TestClient) -> None:  # noqa: F811 - the fixture
    # Given two people with dose 1 on 14 January (dose 2 due from 28 January)
    tickets = [register(clinic, serial) for serial in (1, 2)]
    first, second = (screen_and_vaccinate(clinic, ticket).result["next_ticket"] for ticket in tickets)
    reflect_the_whole_log(auditor, clinic)
    # When the dashboard is read on 15 January: nobody can have had dose 2 yet
    at(clinic, JAN_14.replace(day=15))
    totals = funnel(auditor)
    # Then nobody has dropped out (no rate at all), where (dose 1 − dose 2) / dose 1 said 100 %
    assert (totals["dose1"], totals["dose2"], totals["dose2_due"], totals["drop_out_rate"]) == (2, 0, 0, None)
    # On 27 January still nobody is due; on 28 January both are, and neither has come back
    at(clinic, JAN_14.replace(day=27))
    assert funnel(auditor)["drop_out_rate"] is None
    at(clinic, JAN_14.replace(day=28))
    totals = funnel(auditor)
    assert (totals["dose2_due"], totals["drop_out_rate"]) == (2, 1.0)
    # When one comes back for dose 2, half have dropped out
    screen_and_vaccinate(clinic, first, JAN_14.replace(day=28))
    reflect_the_whole_log(auditor, clinic)
    totals = funnel(auditor)
    assert (totals["dose2"], totals["dose2_due"], totals["drop_out_rate"]) == (1, 2, 0.5)
    assert second  # the other ticket stays unused


def test_the_page_shows_no_drop_out_before_dose_2_is_due(
        clinic: ColdChain, api: TestClient, accounts) -> None:  # noqa: F811
    screen_and_vaccinate(clinic, register(clinic, 1))
    reflect_the_whole_log(api, clinic)
    at(clinic, JAN_14.replace(day=15))
    assert api.post("/login", data={"username": "auditor", "password": "rahasia-auditor"}).status_code == 200
    html = api.get("/").text
    assert 'data-figure="drop_out_rate">—<' in html and "belum ada yang jatuh tempo dosis 2" in html
    assert 'data-figure="dose1">1<' in html


@pytest.fixture
def replayed(logistics: ColdChain) -> ColdChain:
    """The logistics scenario of January 2021 plus a shipment dispatched on 7 January that never
    arrived, read by a server whose clock says November 2026 (a replayed scenario)."""
    logistics.now = JAN(7)
    logistics.ship("32", "32.73", ("CV001", 10))
    return logistics


def now_in_2026(chain: ColdChain, client: TestClient) -> None:
    """The server's clock moves to November 2026; an auditor logs in then (January's tokens have expired)."""
    chain.now = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)
    _, token, _ = chain.app.add_user("auditor.2026", Role.AUDITOR, "national", chain.by(actor="cli:test"),
                                     password="rahasia-auditor.2026")
    client.headers.update({"Authorization": f"Bearer {token}"})


def test_a_replayed_scenario_measures_ages_on_the_log_clock_and_says_so(
        replayed: ColdChain, api: TestClient) -> None:  # noqa: F811
    auditor = api
    reflect_the_whole_log(auditor, replayed)
    now_in_2026(replayed, auditor)
    data = auditor.get("/dashboard/data").json()
    assert data["clock"] | {"at": None} == {
        "measured_on": "log", "at": None, "server_time": replayed.now.isoformat(),
        "log_time": JAN(7).isoformat(), "replay": True}
    [moving] = data["shipments"]["longest"]
    assert moving["hours_in_transit"] == 0 and not moving["overdue"]  # dispatched at the log's newest moment
    # asked for the server's clock, the same shipment is years late — and the feed says which clock
    on_server = auditor.get("/dashboard/data", params={"clock": "server"}).json()
    assert on_server["clock"]["measured_on"] == "server"
    assert on_server["shipments"]["longest"][0]["hours_in_transit"] > 2000 * 24


def test_a_live_campaign_measures_ages_on_the_server_clock(replayed: ColdChain, auditor: TestClient) -> None:
    reflect_the_whole_log(auditor, replayed)
    replayed.now = JAN(11)  # four days after the dispatch: the server's clock, and overdue
    data = auditor.get("/dashboard/data").json()
    assert (data["clock"]["measured_on"], data["clock"]["replay"]) == ("server", False)
    assert data["shipments"]["longest"][0]["overdue"] is True


def test_the_page_names_the_clock_of_its_ages(replayed: ColdChain, api: TestClient) -> None:  # noqa: F811
    reflect_the_whole_log(api, replayed)
    now_in_2026(replayed, api)
    del api.headers["Authorization"]
    assert api.post("/login", data={"username": "auditor.2026", "password": "rahasia-auditor.2026"}).status_code == 200
    html = api.get("/").text
    assert "Umur diukur dengan jam log" in html and "7 Jan 2021 15.00 WIB" in html
    assert "putar ulang" in html and "clock=server" in html
    assert "0 menit" in html  # in transit: measured at the log's newest moment, not 2,147 days


def test_drill_down_national_province_district(vaccinations: ColdChain, auditor: TestClient) -> None:
    reflect_the_whole_log(auditor, vaccinations)
    national = auditor.get("/dashboard/data").json()
    assert (national["area"]["level"], national["area"]["code"]) == ("national", "national")
    [province] = national["area"]["rows"]
    assert (province["code"], province["name"], province["dose1"]) == ("32", "Jawa Barat", 2)
    jabar = auditor.get("/dashboard/data", params={"area": "32"}).json()
    assert (jabar["area"]["level"], jabar["area"]["parent"]) == ("province", "national")
    [district] = jabar["area"]["rows"]
    assert (district["code"], district["name"], district["targeted"]) == ("32.73", "Kota Bandung", 3)
    bandung = auditor.get("/dashboard/data", params={"area": "32.73"}).json()
    assert (bandung["area"]["level"], bandung["area"]["parent"], bandung["area"]["rows"]) == ("district", "32", [])
    assert bandung["funnel"]["totals"]["dose1"] == 2
    dki = auditor.get("/dashboard/data", params={"area": "31"}).json()
    assert dki["funnel"]["totals"]["targeted"] == 0 and dki["stock"]["rows"] == 0 and dki["aefi"]["total"] == 0


def test_drill_down_stays_inside_the_callers_scope(vaccinations: ColdChain, api: TestClient, accounts) -> None:  # noqa: F811
    reflect_the_whole_log(api, vaccinations)
    dki = accounts("auditor.dki")
    mine = api.get("/dashboard/data", headers=dki).json()
    assert mine["area"]["code"] == "31" and mine["funnel"]["totals"]["targeted"] == 0
    assert api.get("/dashboard/data", params={"area": "national"}, headers=dki).json()["area"]["code"] == "31"
    outside = api.get("/dashboard/data", params={"area": "32"}, headers=dki)
    assert outside.status_code == 403 and "32" not in outside.json()["message"]
    unknown = api.get("/dashboard/data", params={"area": "99"}, headers=dki)
    assert unknown.status_code == 404 and "99" not in unknown.json()["message"]
    assert api.get("/dashboard/data", params={"area": "<script>"}, headers=dki).status_code == 422
    officer = api.get("/dashboard/data", params={"area": "32.73"}, headers=accounts("petugas")).json()
    assert officer["funnel"]["totals"]["dose1"] == 2


def test_on_15_january_of_the_jan2021_replay_nobody_has_dropped_out(app, settings) -> None:
    """The issue's own example: the rollout replayed (its doses on 14–15 January), the dashboard
    read on the evening of the 15th — and read again today, on a server clock of 2026."""
    from application.access import Caller
    from interfaces.api.main import create_app
    from interfaces.scenarios.jan2021 import Rollout, at
    from interfaces.sms.outbox import OutboxGateway

    gateway = OutboxGateway(settings.sms_outbox)
    Rollout(app, gateway, scale=0.001).run()
    gateway.close()
    _, token, _ = app.add_user("auditor.replay", Role.AUDITOR, "national", Caller.operator("cli:test"))
    now = [at(15, 20)]
    with TestClient(create_app(settings, clock=lambda: now[0])) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        reflect_the_whole_log(client, SimpleNamespace(app=app))
        data = client.get("/dashboard/data").json()
        totals = data["funnel"]["totals"]
        assert totals["dose1"] > 0 and totals["dose2"] == 0
        assert (totals["dose2_due"], totals["drop_out_rate"]) == (0, None)  # not 100 %
        assert data["clock"]["measured_on"] == "server"  # the evening of the 15th: the log is live
        now[0] = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)  # the same log read today
        today = client.get("/dashboard/data").json()
        assert today["clock"]["measured_on"] == "log" and today["clock"]["replay"] is True
        assert today["funnel"]["totals"]["drop_out_rate"] == 1.0  # today every dose 2 is long overdue
        assert all(row["hours_in_transit"] < 14 * 24 for row in today["shipments"]["longest"])
