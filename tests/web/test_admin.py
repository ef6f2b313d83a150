"""The campaign admin's pages (issue 11, item 6), over HTTP on both backends: the long jobs run
in the background with their progress in the store (another application instance on the same
store reads it, as another server process would), accounts, and a lot with its recall trace."""

from __future__ import annotations

import time
from uuid import UUID

import pytest
from fastapi.testclient import TestClient

from application.jobs import get_job
from domain.facility import Facility
from domain.job import FINISHED, RUNNING
from domain.user import Role
from interfaces.sms.outbox import OutboxGateway
from tests.api.conftest import api  # noqa: F401 - fixture
from tests.scenario import CORONAVAC, ColdChain, nik, reflect_the_whole_log, target_row

COLUMNS = "nik,name,phone,category,district,workplace"


def csv_of(*serials: int) -> bytes:
    rows = [",".join(target_row(s)[c] for c in COLUMNS.split(",")) for s in serials]
    return ("\n".join([COLUMNS, *rows]) + "\n").encode()


def as_admin(api: TestClient, chain: ColdChain, scope: str = "national") -> str:  # noqa: F811
    """A browser session of an admin (of ``scope``); its CSRF token."""
    name = "admin.web" if scope == "national" else "admin.web.dki"
    chain.app.add_user(name, Role.ADMIN, scope, chain.by(actor="cli:test"), password="rahasia-" + name)
    api.cookies.clear()
    assert api.post("/login", data={"username": name, "password": "rahasia-" + name},
                    follow_redirects=False).status_code == 303
    return api.get("/session").json()["csrf"]


def finished(chain: ColdChain, job_id: UUID) -> object:
    """The job as another application instance on the store sees it, once it is no longer running."""
    deadline = time.monotonic() + 60
    while (job := get_job(chain.app, job_id)).state == RUNNING:
        if time.monotonic() > deadline:
            pytest.fail(f"job still running at {job.done}/{job.total}: {job.note}")
        time.sleep(0.1)
    return job


def test_a_target_list_import_runs_as_a_job_whose_progress_lives_in_the_store(
        chain: ColdChain, api: TestClient) -> None:  # noqa: F811
    csrf = as_admin(api, chain)
    started = api.post("/admin/impor", data={"phase": "1", "source": "SDMK 2021", "csrf_token": csrf},
                       files={"file": ("sasaran.csv", csv_of(1, 2, 3), "text/csv")}, follow_redirects=False)
    assert started.status_code == 303 and started.headers["location"].startswith("/admin/tugas/")
    job_id = UUID(hex=started.headers["location"].rsplit("/", 1)[1])
    job = finished(chain, job_id)
    assert (job.state, job.kind, job.done, job.total) == (FINISHED, "import", 3, 3), job.note
    assert "3 baru" in job.note
    assert chain.app.find_by_nik(nik(serial=2)).district == "32.73"
    page = api.get(started.headers["location"])  # a reload: the same progress, from the store
    assert page.status_code == 200 and 'data-state="finished"' in page.text and 'value="3"' in page.text
    assert 'http-equiv="refresh"' not in page.text  # a finished job's page stops reloading


def test_the_blast_runs_as_a_job_and_sends_to_the_districts_targets(
        chain: ColdChain, api: TestClient, settings) -> None:  # noqa: F811
    csrf = as_admin(api, chain)
    api.post("/admin/impor", data={"phase": "1", "source": "SDMK", "csrf_token": csrf},
             files={"file": ("s.csv", csv_of(1, 2), "text/csv")}, follow_redirects=False)
    deadline = time.monotonic() + 60
    while not _listed(chain, 2):  # the blast needs the import's targets
        assert time.monotonic() < deadline, "the import did not finish"
        time.sleep(0.1)
    reflect_the_whole_log(api, chain)
    started = api.post("/admin/blast", data={"phase": "1", "districts": "32.73", "deadline": "2021-01-13",
                                             "days": "2021-01-14, 2021-01-15", "csrf_token": csrf},
                       follow_redirects=False)
    assert started.status_code == 303, started.text[:300]
    job = finished(chain, UUID(hex=started.headers["location"].rsplit("/", 1)[1]))
    assert (job.state, job.kind, job.done, job.total) == (FINISHED, "blast", 2, 2), job.note
    outbox = OutboxGateway(settings.sms_outbox, cipher_key=settings.cipher_key)
    try:
        assert len([m for m in outbox.pending() if "pedulilindungi" in m.text]) == 2
    finally:
        outbox.close()


def _listed(chain: ColdChain, serial: int) -> bool:
    try:
        chain.app.find_by_nik(nik(serial=serial))
    except Exception:  # noqa: BLE001 - not imported yet
        return False
    return True


def test_only_national_admins_start_jobs_and_forms_need_the_pages_token(
        chain: ColdChain, api: TestClient) -> None:  # noqa: F811
    csrf = as_admin(api, chain)
    forged = api.post("/admin/impor", data={"phase": "1", "source": "x", "csrf_token": "forged"},
                      files={"file": ("s.csv", csv_of(1), "text/csv")}, follow_redirects=False)
    assert forged.status_code == 403
    wrong = api.post("/admin/impor", data={"phase": "1", "source": "x", "csrf_token": csrf},
                     files={"file": ("s.csv", b"a,b\n1,2\n", "text/csv")}, follow_redirects=False)
    assert wrong.status_code == 422 and "nik,name,phone" in wrong.text
    dki = as_admin(api, chain, "31")
    refused = api.post("/admin/impor", data={"phase": "1", "source": "x", "csrf_token": dki},
                       files={"file": ("s.csv", csv_of(1), "text/csv")}, follow_redirects=False)
    assert refused.status_code == 403
    with pytest.raises(Exception):  # noqa: B017, PT011 - nothing was imported
        chain.app.find_by_nik(nik(serial=1))


def test_the_admin_page_lists_accounts_in_scope_and_a_lot_shows_its_trace(
        chain: ColdChain, api: TestClient) -> None:  # noqa: F811
    chain.release(vials=50)
    chain.app.add_user("gudang.dki.2", Role.WAREHOUSE, "31", chain.by(actor="cli:test"))
    chain.app.add_user("gudang.jabar.2", Role.WAREHOUSE, "32", chain.by(actor="cli:test"))
    reflect_the_whole_log(api, chain)
    as_admin(api, chain, "31")
    home = api.get("/admin").text
    assert "gudang.dki.2" in home and "gudang.jabar.2" not in home
    as_admin(api, chain)
    assert "gudang.jabar.2" in api.get("/admin").text
    lot = api.get("/admin/lot", params={"gtin": CORONAVAC, "lot": "CV001"})
    assert lot.status_code == 200 and "released" in lot.text
    assert f'data-post="/lots/{CORONAVAC}/CV001/recall"' in lot.text
    assert "BIOFARMA" in lot.text  # the trace: on hand at Bio Farma
    assert api.get("/admin/lot", params={"gtin": CORONAVAC, "lot": "NOPE"}).status_code == 404
    assert api.get("/admin/tugas/" + "0" * 32).status_code == 404


def test_facilities_are_looked_up_and_registered_under_their_parent(chain: ColdChain, api: TestClient) -> None:  # noqa: F811
    csrf = as_admin(api, chain)
    bandung = api.get("/admin/fasilitas", params={"kode": "32.73"})
    assert bandung.status_code == 200 and "KOTA BANDUNG" in bandung.text and "P327301" in bandung.text
    added = api.post("/admin/fasilitas", data={"code": "P327302", "name": "Puskesmas Sukajadi", "kind": "puskesmas",
                                               "parent": "32.73", "csrf_token": csrf}, follow_redirects=False)
    assert added.status_code == 303 and added.headers["location"] == "/admin/fasilitas?kode=P327302"
    assert chain.app.get_facility("P327302").parent == "32.73"
    again = api.post("/admin/fasilitas", data={"code": "P327302", "name": "Lagi", "kind": "puskesmas",
                                               "parent": "32.73", "csrf_token": csrf})
    assert again.status_code == 409
    assert api.get("/admin/fasilitas", params={"kode": "P999999"}).status_code == 404
    as_admin(api, chain, "31")  # an admin of DKI may not register in Jawa Barat
    dki_csrf = api.get("/session").json()["csrf"]
    refused = api.post("/admin/fasilitas", data={"code": "P327303", "name": "Puskesmas X", "kind": "puskesmas",
                                                 "parent": "32.73", "csrf_token": dki_csrf})
    assert refused.status_code == 403 and chain.app.find(Facility, Facility.id_for("P327303")) is None
