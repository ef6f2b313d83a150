"""The campaign admin's pages (issue 11, item 6): accounts (add, revoke), facilities (look
up, register), lots (release, quarantine, recall with the recall trace), and the two long jobs — a target list import
and the SMS blast — each with a progress bar that survives a page reload.

The long jobs are started here (a file upload is no command for the offline queue) and
run in a background thread of this server process; their progress is recorded on a
``Job`` in the store after every batch (``application/jobs.py``), so any server process
shows it. The other writes go from ``static/desks/forms.js`` to the JSON API.
"""

from __future__ import annotations

import hmac
import tempfile
import threading
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, File, Form, Path as PathParam, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from application.access import Caller
from application.errors import ApplicationError, Forbidden
from application.jobs import get_job, run_job, start_job
from domain.calendar import zone
from domain.errors import RuleBroken
from domain.facility import Facility, FacilityKind
from domain.job import RUNNING
from domain.user import Role
from interfaces.cli.targets import WrongColumns, count_lines, read_rows
from interfaces.web.admin_words import WORDS  # noqa: F401 - registers the admin pages' words
from interfaces.reports import district_names
from interfaces.web.pages import Staff, StaffDep, render
from interfaces.web.public import kecamatan_of

router = APIRouter(tags=["pages"], include_in_schema=False)
JobId = Annotated[str, PathParam(min_length=32, max_length=32, pattern=r"^[0-9a-f]{32}$")]
Gtin = Annotated[str | None, Query(max_length=14, pattern=r"^\d{8,14}$")]
Lot = Annotated[str | None, Query(alias="lot", max_length=20, pattern=r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+$")]
BLAST_MESSAGE = "Anda terdaftar sebagai penerima vaksin COVID-19. Daftar ulang di pedulilindungi.id atau *119#"


def refused(request: Request, staff: Staff, key: str, status: int) -> HTMLResponse:
    return render(request, "desks/message.html", staff, status=status, message=key)


def checked(request: Request, staff: Staff, csrf: str) -> HTMLResponse | None:
    """An admin's form from this site, or the page saying why not."""
    if staff.role is not Role.ADMIN:
        return refused(request, staff, "admin.not_yours", 403)
    if not hmac.compare_digest(csrf, staff.csrf):
        return refused(request, staff, "desk.form_expired", 403)
    return None


@router.get("/admin", response_class=HTMLResponse)
def admin_home(request: Request, staff: StaffDep) -> HTMLResponse:
    """Accounts in the admin's scope, the lot forms, and the forms starting the long jobs."""
    if staff.role is not Role.ADMIN:
        return refused(request, staff, "admin.not_yours", 403)
    campaign = request.app.state.campaign
    now = campaign.clock()
    users = [{"username": u.username, "name": u.name, "role": u.role.value, "scope": u.scope, "active": u.active,
              "tokens": len(u.live_tokens(now))}
             for u in campaign.users() if campaign.within(staff.scope, u.scope) or staff.scope == u.scope]
    return render(request, "admin/home.html", staff, users=users, roles=list(Role), message=BLAST_MESSAGE)


# The long jobs ----------------------------------------------------------------------------

def start_in_background(campaign: Any, job_id: UUID, permission: str, steps: Iterator[tuple[int, str]],
                        caller: Caller) -> None:
    threading.Thread(target=run_job, args=(campaign, job_id, permission, steps, caller),
                     name=f"job-{job_id.hex[:8]}", daemon=True).start()


def import_steps(campaign: Any, path: Path, rows: Any, phase: int, source: str,
                 caller: Caller) -> Iterator[tuple[int, str]]:
    """The import's batches as (lines done, what so far); the uploaded copy removed at the end."""
    imported = listed = rejected = 0
    try:
        for batch in campaign.import_targets(rows, phase, source, caller):
            imported += batch.imported
            listed += batch.already_listed
            rejected += len(batch.rejected) - batch.already_listed
            yield batch.last_line - 1, f"{imported} baru · {listed} sudah ada · {rejected} ditolak"
    finally:
        path.unlink(missing_ok=True)


@router.post("/admin/impor", response_class=HTMLResponse)
async def import_targets(request: Request, staff: StaffDep,
                         file: Annotated[UploadFile, File()],
                         phase: Annotated[int, Form(ge=1, le=9)],
                         source: Annotated[str, Form(min_length=1, max_length=120)],
                         csrf: Annotated[str, Form(alias="csrf_token", max_length=100)] = "") -> Response:
    """A target list (CSV, the body limit at most; larger lists: ``rantai targets import``)."""
    if (refusal := checked(request, staff, csrf)) is not None:
        return refusal
    with tempfile.NamedTemporaryFile("wb", suffix=".csv", delete=False) as copy:
        copy.write(await file.read())
    path = Path(copy.name)
    try:
        rows = read_rows(path)
    except (WrongColumns, UnicodeDecodeError):
        path.unlink(missing_ok=True)
        return refused(request, staff, "admin.wrong_columns", 422)
    campaign = request.app.state.campaign
    try:
        job = start_job(campaign, "import_targets", "import", f"{file.filename or 'CSV'} · fase {phase}",
                        max(count_lines(path) - 1, 0), staff.caller)
    except (ApplicationError, RuleBroken):
        path.unlink(missing_ok=True)
        return refused(request, staff, "admin.not_yours", 403)
    start_in_background(campaign, job.id, "import_targets",
                        import_steps(campaign, path, rows, phase, source, staff.caller), staff.caller)
    return RedirectResponse(f"/admin/tugas/{job.id.hex}", status_code=303)


def blast_steps(campaign: Any, gateway: Any, phase: int, districts: list[str], deadline: datetime,
                days: list[date], caller: Caller) -> Iterator[tuple[int, str]]:
    campaign.set_calendar(phase, deadline, days, caller)
    run = campaign.start_blast(phase, districts, BLAST_MESSAGE, deadline, caller)
    yield run.sent, f"run {run.run}"
    for sent in campaign.send_blast(run.id, gateway, caller):
        yield sent, f"{sent} SMS · run {run.run}"


@router.post("/admin/blast", response_class=HTMLResponse)
def blast(request: Request, staff: StaffDep,
          phase: Annotated[int, Form(ge=1, le=9)],
          districts: Annotated[str, Form(min_length=5, max_length=4000, pattern=r"^[0-9., ]+$")],
          deadline: Annotated[date, Form()],
          days: Annotated[str, Form(min_length=10, max_length=200, pattern=r"^[0-9, -]+$")],
          csrf: Annotated[str, Form(alias="csrf_token", max_length=100)] = "") -> Response:
    """The phase's calendar (registration closes at the end of ``deadline``, WIB) and the blast."""
    if (refusal := checked(request, staff, csrf)) is not None:
        return refusal
    codes = sorted({d.strip() for d in districts.split(",") if d.strip()})
    try:
        vaccination_days = [date.fromisoformat(d.strip()) for d in days.split(",") if d.strip()]
    except ValueError:
        return refused(request, staff, "admin.bad_days", 422)
    closes = datetime.combine(deadline, time(23, 59, 59), tzinfo=zone("Asia/Jakarta"))
    campaign = request.app.state.campaign
    funnel = request.app.state.read_models["funnel"].view
    total = sum(row["targeted"] for row in funnel.by_district(phase) if row["district"] in codes)
    try:
        job = start_job(campaign, "run_blast", "blast", f"SMS blast · fase {phase} · {len(codes)} kab/kota", total,
                        staff.caller)
    except (ApplicationError, RuleBroken):
        return refused(request, staff, "admin.not_yours", 403)
    steps = blast_steps(campaign, request.app.state.sms, phase, codes, closes, vaccination_days, staff.caller)
    start_in_background(campaign, job.id, "run_blast", steps, staff.caller)
    return RedirectResponse(f"/admin/tugas/{job.id.hex}", status_code=303)


@router.get("/admin/tugas/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, staff: StaffDep, job_id: JobId) -> HTMLResponse:
    """A job's progress, from the store: reloads itself every 2 seconds while it runs."""
    if staff.role is not Role.ADMIN:
        return refused(request, staff, "admin.not_yours", 403)
    try:
        job = get_job(request.app.state.campaign, UUID(hex=job_id))
    except ApplicationError:
        return refused(request, staff, "admin.no_job", 404)
    return render(request, "admin/job.html", staff, job=job, running=job.state == RUNNING)


# Lots -------------------------------------------------------------------------------------

@router.get("/admin/lot", response_class=HTMLResponse)
def lot_page(request: Request, staff: StaffDep, gtin: Gtin = None, lot: Lot = None) -> HTMLResponse:
    """A lot's status with quarantine and recall, and its recall trace: where it is, who had it."""
    if staff.role is not Role.ADMIN:
        return refused(request, staff, "admin.not_yours", 403)
    campaign = request.app.state.campaign
    if not gtin or not lot:
        return refused(request, staff, "admin.no_lot", 404)
    try:
        found = campaign.get_lot(gtin, lot)
    except ApplicationError:
        return refused(request, staff, "admin.no_lot", 404)
    view = request.app.state.read_models["recall_trace"].view
    trace = view.trace(found.gtin, found.lot_number, campaign.today_at("BIOFARMA").isoformat())
    return render(request, "admin/lot.html", staff, lot=found,
                  lot_status=found.status_on(campaign.today_at("BIOFARMA")), trace=trace, position=view.max_tracking_id(campaign.name) or 0)


# Facilities -------------------------------------------------------------------------------

FacilityCode = Annotated[str | None, Query(alias="kode", max_length=20, pattern=r"^[A-Za-z0-9.]+$")]


def children(campaign: Any, code: str) -> list[Any]:
    """The registered facilities one level below ``code``: a province's districts, a district's puskesmas."""
    if len(code) == 2 and code.isdigit():
        found = [campaign.find(Facility, Facility.id_for(d)) for d in sorted(district_names()) if d.startswith(code + ".")]
        return [f for f in found if f is not None]
    if len(code) == 5:
        return [f for k in kecamatan_of().get(code, []) for f in campaign.facilities_in_kecamatan(k)]
    return []


@router.get("/admin/fasilitas", response_class=HTMLResponse)
def facilities_page(request: Request, staff: StaffDep, kode: FacilityCode = None) -> HTMLResponse:
    """A facility (by its code), the facilities registered below it, and the form registering a new one."""
    if staff.role is not Role.ADMIN:
        return refused(request, staff, "admin.not_yours", 403)
    campaign = request.app.state.campaign
    facility = campaign.find(Facility, Facility.id_for(kode)) if kode else None
    if kode and facility is None:
        return refused(request, staff, "admin.no_facility", 404)
    return render(request, "admin/facilities.html", staff, facility=facility,
                  below=children(campaign, facility.code) if facility else [], kinds=list(FacilityKind))


@router.post("/admin/fasilitas", response_class=HTMLResponse)
def register_facility(request: Request, staff: StaffDep,
                      code: Annotated[str, Form(min_length=2, max_length=20, pattern=r"^[A-Za-z0-9.]+$")],
                      name: Annotated[str, Form(min_length=2, max_length=120)],
                      kind: Annotated[FacilityKind, Form()],
                      parent: Annotated[str, Form(max_length=20, pattern=r"^[A-Za-z0-9.]*$")] = "",
                      csrf: Annotated[str, Form(alias="csrf_token", max_length=100)] = "") -> Response:
    """Register a puskesmas or hospital (or an office) under its parent; then its page."""
    if (refusal := checked(request, staff, csrf)) is not None:
        return refusal
    try:
        request.app.state.campaign.register_facility(code, name, kind, parent or None, staff.caller)
    except (ApplicationError, RuleBroken) as error:
        status = 403 if isinstance(error, Forbidden) else 409
        return render(request, "desks/message.html", staff, status=status, message=str(error))
    return RedirectResponse(f"/admin/fasilitas?kode={code}", status_code=303)
