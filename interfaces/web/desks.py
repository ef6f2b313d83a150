"""The puskesmas desks (issue 11, item 4): one page per person, the four desks in turn.

Desk 1 scans the ticket or types the NIK (sent in a form's body, never in a
URL: the page it leads to is named by the ticket, which is opaque); desk 2
screens (vaccinate, postpone, not given); desks 3–4 scan the vial, confirm the
dose, watch the person for 30 minutes and report an AEFI (KIPI). The home page
shows today's session: booked, screened, vaccinated, vials opened.

Pages only read, through the same use cases as the JSON routes with the
session's ``Caller`` (``ticket_for`` checks role and scope); every write goes
from ``static/desks/desks.js`` to the JSON API through the offline queue.
"""

from __future__ import annotations

import hmac
import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from application.errors import ApplicationError, Forbidden
from application.people import mask_name, mask_nik, mask_phone
from domain.errors import RuleBroken
from domain.recipient import Recipient, ScreeningResult, Severity
from domain.session import VaccinationSession
from domain.user import Role
from interfaces.web.desk_words import WORDS  # noqa: F401 - registers the desks' words
from interfaces.web.pages import Staff, StaffDep, render

router = APIRouter(tags=["pages"], include_in_schema=False)
Ticket = Annotated[str, Path(max_length=20, pattern=r"^[A-Za-z0-9]+$")]
NIK = re.compile(r"^\d{16}$")
OBSERVATION_MINUTES = 30
# The screening questions of January 2021 (Kemenkes, health workers), shortened: any "yes"
# suggests postponing; the vaccinator decides.
QUESTIONS = ("fever", "pressure", "pregnant", "covid", "contact", "symptoms", "chronic")


def message(request: Request, staff: Staff, text: str, status: int) -> HTMLResponse:
    return render(request, "desks/message.html", staff, status=status, message=text)


def session_today(request: Request, facility: str) -> dict[str, Any]:
    """Today's session at the puskesmas: booked (its session), screened, vaccinated and vials
    opened (the desk-day read model)."""
    campaign = request.app.state.campaign
    today = campaign.today_at(facility)
    counts = request.app.state.read_models["desk_day"].view.day(facility, today)
    session = campaign.find(VaccinationSession, VaccinationSession.id_for(facility, today))
    return {"day": today, "booked": session.booked if session else 0, **counts}


@router.get("/meja", response_class=HTMLResponse)
def desks_home(request: Request, staff: StaffDep) -> HTMLResponse:
    """Desk 1: scan the ticket or type the NIK; today's session at a glance."""
    if staff.role is not Role.VACCINATOR:
        return message(request, staff, "desk.not_yours", 403)
    campaign = request.app.state.campaign
    try:
        facility = campaign.get_facility(staff.scope)
        today = session_today(request, facility.code)
    except ApplicationError:
        return message(request, staff, "desk.not_a_puskesmas", 404)
    return render(request, "desks/home.html", staff, facility=facility, today=today, zone=facility.zone)


@router.post("/meja/cari", response_class=HTMLResponse)
def find_booking(request: Request, staff: StaffDep,
                 code: Annotated[str, Form(max_length=40)] = "",
                 csrf: Annotated[str, Form(alias="csrf_token", max_length=100)] = "") -> Response:
    """A typed NIK (or ticket code) from the form's body: to that person's page, named by the ticket."""
    if staff.role is not Role.VACCINATOR:
        return message(request, staff, "desk.not_yours", 403)
    if not hmac.compare_digest(csrf, staff.csrf):
        return message(request, staff, "desk.form_expired", 403)
    campaign, typed = request.app.state.campaign, re.sub(r"[\s.-]", "", code)
    try:
        if NIK.match(typed):
            recipient = campaign.find_by_nik(typed)
            campaign.check_readable(staff.caller, "read_ticket", recipient.facility or recipient.district)
            ticket = recipient.ticket
            if not ticket:
                return message(request, staff, "desk.no_ticket", 404)
        else:
            campaign.ticket_for(typed, staff.caller)  # known, and booked where this desk may see it
            ticket = typed.upper()
    except (ApplicationError, RuleBroken):
        return message(request, staff, "desk.not_found", 404)  # the same answer whether unknown or elsewhere
    return RedirectResponse(f"/meja/tiket/{ticket}", status_code=303)


def stage(recipient: Recipient, today: Any) -> str:
    """Which desk the person is at today: screen, vaccinate, observe, or done/not today."""
    dosed_today = [d for d in recipient.doses if d.day == today]
    if dosed_today:
        return "observe"
    if recipient.screening and recipient.screening[0] == today:
        return "vaccinate" if recipient.screening[1] is ScreeningResult.ELIGIBLE else "screened_out"
    return "screen"


@router.get("/meja/tiket/{ticket}", response_class=HTMLResponse)
def ticket_page(request: Request, staff: StaffDep, ticket: Ticket) -> HTMLResponse:
    """The person's page: the booking (desk 1), screening (desk 2), the dose and observation (desks 3–4)."""
    campaign = request.app.state.campaign
    try:
        recipient = campaign.ticket_for(ticket, staff.caller)
    except Forbidden:
        return message(request, staff, "desk.elsewhere", 403)
    except (ApplicationError, RuleBroken):
        return message(request, staff, "desk.not_found", 404)
    unmasked = campaign.may_see_personal_data(staff.caller, recipient)
    if unmasked:
        campaign.record_personal_data_read(staff.caller, [recipient], "desk 1")
    person = ({"name": recipient.name, "nik": recipient.nik, "phone": recipient.phone} if unmasked else
              {"name": mask_name(recipient.name), "nik": mask_nik(recipient.nik),
               "phone": mask_phone(recipient.phone) if recipient.phone else ""})
    facility = campaign.get_facility(recipient.facility) if recipient.facility else None
    today = campaign.today_at(recipient.facility) if recipient.facility else None
    last = recipient.doses[-1] if recipient.doses else None
    return render(request, "desks/ticket.html", staff, keep_offline=not unmasked,  # no copy of personal data kept
                  ticket=ticket.upper(), person=person, masked=not unmasked,
                  recipient=recipient, facility=facility, today=today, stage=stage(recipient, today),
                  last_dose=last, questions=QUESTIONS, results=list(ScreeningResult),
                  severities=list(Severity), observation_minutes=OBSERVATION_MINUTES,
                  writes=staff.role is Role.VACCINATOR, zone=facility.zone if facility else "Asia/Jakarta")
