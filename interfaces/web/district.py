"""The district officer's pages (issue 11, item 5): the non-responder worklist, a person's
record (unmasked for the officer, the read recorded), assigning a visit, its outcome, and
registering the person in the field.

The worklist comes from the read model, masked, as ``GET /districts/{code}/worklist``
gives it; the person's page reads through the same use cases with the session's
``Caller``. Every write goes from ``static/desks/forms.js`` to the JSON API through the
offline queue (a visit's outcome recorded in a village without signal is sent later).
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from application.errors import ApplicationError, Forbidden
from application.people import mask_name, mask_phone
from domain.recipient import VisitOutcome, VisitUnit
from domain.user import Role
from interfaces.web.pages import StaffDep, add_words, render
from interfaces.web.public import free_places, phases

router = APIRouter(tags=["pages"], include_in_schema=False)
PAGE = 25
RecipientId = Annotated[str, Path(min_length=32, max_length=32, pattern=r"^[0-9a-f]{32}$")]

add_words({
    "dist.title": ("Daftar kunjungan", "Visit worklist"),
    "dist.intro": ("Sasaran yang belum mendaftar setelah batas waktu, atau tanpa nomor ponsel.",
                   "Targets not registered after the deadline, or without a phone."),
    "dist.not_yours": ("Halaman ini untuk petugas kabupaten/kota.", "This page is for district officers."),
    "dist.none": ("Tidak ada yang perlu dikunjungi.", "Nobody to visit."),
    "dist.reason.no response": ("tidak menjawab SMS", "no answer to the SMS"),
    "dist.reason.no phone": ("tanpa nomor ponsel", "no phone"),
    "dist.not_visited": ("belum dikunjungi", "not visited yet"),
    "dist.unit": ("Unit kunjungan", "Visiting unit"),
    "dist.officer": ("Nama petugas", "Officer's name"),
    "dist.assign": ("Tugaskan kunjungan", "Assign the visit"),
    "dist.assigned": ("Kunjungan ditugaskan", "Visit assigned"),
    "dist.outcome": ("Hasil kunjungan", "Outcome of the visit"),
    "dist.note": ("Catatan", "Note"),
    "dist.report": ("Catat hasil", "Record the outcome"),
    "dist.reported": ("Hasil tercatat", "Outcome recorded"),
    "dist.register": ("Daftarkan di lapangan", "Register in the field"),
    "dist.register_note": ("Periksa KTP orang itu, lalu ketik NIK-nya.", "Check the person's ID card, then type the NIK."),
    "dist.registered_ok": ("Terdaftar; tiket dikirim lewat SMS", "Registered; the ticket is sent by SMS"),
    "dist.place": ("Puskesmas dan hari", "Puskesmas and day"),
    "dist.person": ("Sasaran", "Target"),
    "dist.workplace": ("Tempat kerja", "Workplace"),
    "dist.already": ("Sudah terdaftar", "Already registered"),
    "dist.more": ("Berikutnya", "Next"),
    "dist.outcomes": ("Hasil sejauh ini", "Outcomes so far"),
    "dist.unit.tni": ("TNI", "TNI"), "dist.unit.polri": ("Polri", "Polri"), "dist.unit.babinsa": ("Babinsa", "Babinsa"),
    "dist.unit.health_worker": ("Tenaga kesehatan", "Health worker"),
    "dist.outcome.registered": ("Didaftarkan", "Registered"), "dist.outcome.refused": ("Menolak", "Refused"),
    "dist.outcome.not_found": ("Tidak ditemukan", "Not found"), "dist.outcome.moved": ("Pindah", "Moved away"),
    "dist.outcome.deceased": ("Meninggal", "Deceased"), "dist.outcome.no_phone": ("Tanpa ponsel", "No phone"),
})


def refused(request: Request, staff: Any, key: str, status: int) -> HTMLResponse:
    return render(request, "desks/message.html", staff, status=status, message=key)


@router.get("/distrik", response_class=HTMLResponse)
def worklist_page(request: Request, staff: StaffDep,
                  offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> HTMLResponse:
    """The officer's district's non-responders, masked, oldest first."""
    if staff.role is not Role.DISTRICT_OFFICER:
        return refused(request, staff, "dist.not_yours", 403)
    campaign, district = request.app.state.campaign, staff.scope
    campaign.check_readable(staff.caller, "read_worklist", district)
    view, now = request.app.state.read_models["non_responders"].view, campaign.clock()
    entries = []
    for row in view.worklist(district, now, None, PAGE, offset):
        person = campaign.get_recipient(UUID(hex=row["recipient_id"]))
        entries.append(row | {"name": mask_name(person.name),
                              "phone": mask_phone(person.phone) if person.phone else "",
                              "reason": "no response" if row["has_phone"] else "no phone"})
    return render(request, "district/worklist.html", staff, district=campaign.get_facility(district),
                  entries=entries, outcomes=view.outcomes(district, now), offset=offset, page=PAGE)


@router.get("/distrik/orang/{recipient_id}", response_class=HTMLResponse)
def person_page(request: Request, staff: StaffDep, recipient_id: RecipientId) -> HTMLResponse:
    """One target: unmasked for the district's officer (the read recorded), the visit and its outcome,
    and registering in the field."""
    campaign = request.app.state.campaign
    if staff.role is not Role.DISTRICT_OFFICER:
        return refused(request, staff, "dist.not_yours", 403)
    try:
        person = campaign.get_recipient(UUID(hex=recipient_id))
        campaign.check_readable(staff.caller, "read_worklist", person.district)
    except Forbidden:
        return refused(request, staff, "desk.elsewhere", 403)
    except ApplicationError:
        return refused(request, staff, "desk.not_found", 404)
    campaign.record_personal_data_read(staff.caller, [person], "field visit")
    return render(request, "district/person.html", staff, keep_offline=False,  # unmasked: no copy kept
                  person=person, recipient_id=recipient_id,
                  units=list(VisitUnit), outcomes=list(VisitOutcome),
                  places=[] if person.is_registered else  # the field goes on after the web deadline
                  free_places(campaign, person.district, phases(campaign, still_open=False)))
