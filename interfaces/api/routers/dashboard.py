"""The monitoring dashboard (a page from the templates) and its JSON feed: the
funnel, registrations per hour (WIB), the areas below, stock bands, shipments in
transit and AEFI, each panel with the log position it reflects, and where each
read model is (``read_models``: a stuck one is named, with the event it stopped
at). National → province → district: ``area`` chooses where, inside the
caller's scope. No personal data: every figure comes from the read models,
which hold none.

Two clocks: ages (in transit for, how old the log position is) are measured on
the server's clock, except when the newest thing the read models counted
happened more than ``REPLAY_AFTER_DAYS`` before it — a replayed scenario, whose
shipments would otherwise read as in transit for years — when they are
measured on the log's clock (that newest time). ``clock=server|log`` chooses,
and the feed always says which clock it used."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from application.errors import Forbidden, NotAuthenticated, NotFound
from domain.recipient import Severity
from interfaces.api.dashboard_page import render_dashboard, render_refusal
from interfaces.api.deps import CallerDep, CampaignDep, ReadModelsDep
from interfaces.api.security import SESSION_COOKIE
from interfaces.reference_data import facility_rows
from interfaces.reports import consistent_read, district_names, wib
from domain.facility import FacilityKind
from projections.funnel import STAGES, add_up, dose2_due_before, rates
from projections.shipments import OVERDUE_AFTER_DAYS

router = APIRouter(tags=["dashboard"])

MAX_HOURS = 14 * 24  # the chart shows at most the last two weeks of registration
REPLAY_AFTER_DAYS = 30  # a live campaign never goes a month without a movement or a registration
NATIONAL = "national"
BANDS = (("< 7", "Under 7 days"), ("7–10", "7 to 10 days"), ("10–14", "10 to 14 days"), ("> 14", "Over 14 days"),
         ("no use yet", "No use yet"))
DISTRICT_COLUMNS = ("district", "phase", "targeted", "sms_sent", "delivered", "failed", "registered_web",
                    "registered_ussd", "registered_field", "registered", "screened", "dose1", "dose2",
                    "dose2_due", "drop_out_rate", "coverage")
AreaQuery = Query(None, max_length=12, pattern=r"^(national|[0-9]{2}(\.[0-9]{2})?)$",
                  description="national, a province (32) or a district (32.73); default: your scope")
ClockQuery = Query(None, description="measure ages on the server's clock or the log's (default: chosen, and said)")


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def dashboard_page(request: Request, campaign: CampaignDep, read_models: ReadModelsDep,
                   area: str | None = AreaQuery, clock: Literal["server", "log"] | None = ClockQuery) -> Response:
    """Needs a login: a browser without a session goes to the login page (303), an API client gets 401."""
    session = request.cookies.get(SESSION_COOKIE)
    try:
        if not session:
            raise NotAuthenticated("Log in first.")
        caller = campaign.authenticate(session)
        campaign.check_readable(caller, "read_reports")
    except NotAuthenticated:
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse("/login?next=/", status_code=303)
        raise
    try:
        data = dashboard_data(read_models, campaign, caller, area, clock)
    except (Forbidden, NotFound) as refusal:  # another area: a page saying so, not JSON
        return render_refusal(request, caller, 403 if isinstance(refusal, Forbidden) else 404)
    return render_dashboard(request, caller, data)


@router.get("/dashboard/data")
def dashboard_data(read_models: ReadModelsDep, campaign: CampaignDep, caller: CallerDep,
                   area: str | None = AreaQuery, clock: Literal["server", "log"] | None = ClockQuery
                   ) -> dict[str, Any]:
    """Every panel of the dashboard, each with ``position`` (notification id, recorded time)."""
    campaign.check_readable(caller, "read_reports")
    head = campaign.recorder.max_notification_id() or 0
    return dashboard_figures(read_models, campaign, caller, area, clock, campaign.clock(), head) | {
        "read_models": read_models_panel(read_models, head)}


DASHBOARD_READ_MODELS = ("funnel", "stock_on_hand", "shipments", "aefi")


def dashboard_figures(read_models: dict[str, Any], campaign: Any, caller: Any, area: str | None,
                      clock: str | None, now: datetime, head: int) -> dict[str, Any]:
    """The dashboard's panels from ``read_models`` (the live ones, or scratch ones replayed to a past
    moment: then ``now`` is that moment and ``head`` the log position it stands for)."""
    place = chosen_area(campaign, caller, area)
    funnel = read_models["funnel"].view
    due_before = dose2_due_before(wib(now).date(), campaign.dose_interval_days)
    (hours, districts), position = consistent_read(
        funnel, lambda: (funnel.by_hour(), funnel.by_district(due_before=due_before)))
    mine = in_scope(campaign, place["code"])
    if place["code"] != NATIONAL:  # the area's own figures, not the nation's
        districts = [row for row in districts if mine(row["district"])]
        hours = merge_hours([funnel.by_hour(district) for district in sorted({row["district"] for row in districts})])
    totals = add_up(districts) if districts else rates({stage: 0 for stage in STAGES} | {"dose2_due": 0})
    names = district_names()
    stock = stock_panel(read_models["stock_on_hand"].view, mine)
    shipments, newest_dispatch = shipments_rows(read_models["shipments"].view, now, mine)
    ages = age_clock(now, [stock.pop("newest"), newest_dispatch, newest_hour(hours)], clock)
    return {
        "generated_at": now.isoformat(),
        "log_head": head,
        "clock": ages,
        "area": place | {"rows": area_rows(place, districts, names)},
        "funnel": {"totals": totals, "position": position},
        "registrations_per_hour": {"hours": registrations_per_hour(hours), "position": position},
        "districts": {"position": position, "rows": [
            {k: row[k] for k in DISTRICT_COLUMNS} | {"name": names.get(row["district"], "")} for row in districts]},
        "stock": stock,
        "shipments": shipments_panel(shipments, datetime.fromisoformat(ages["at"])),
        "aefi": aefi_panel(read_models["aefi"].view, mine),
    }


@lru_cache(maxsize=1)
def province_names() -> dict[str, str]:
    """``32`` -> ``Jawa Barat``."""
    return {code: name.removeprefix("Dinas Kesehatan Provinsi ") for code, name, kind, _ in facility_rows()
            if kind is FacilityKind.PROVINCE_OFFICE}


def chosen_area(campaign: Any, caller: Any, area: str | None) -> dict[str, Any]:
    """The area shown: ``area`` when it is a province or district inside the caller's
    scope (else refused), by default the caller's scope. Its level, name and parent."""
    code = area or caller.scope
    if code == NATIONAL and caller.scope != NATIONAL:
        code = caller.scope
    provinces, districts = province_names(), district_names()
    if area and code != NATIONAL and code not in provinces and code not in districts:
        raise NotFound("There is no province or district with that code.")
    if code != NATIONAL and not campaign.within(caller.scope, code):
        raise Forbidden("Your account sees its own area and the areas inside it only.")
    if code == NATIONAL:
        return {"code": code, "level": "national", "name": "Indonesia", "parent": None}
    if code in provinces:
        return {"code": code, "level": "province", "name": provinces[code], "parent": NATIONAL}
    if code in districts:
        return {"code": code, "level": "district", "name": districts[code], "parent": code[:2]}
    return {"code": code, "level": "facility", "name": code, "parent": None}


def area_rows(place: dict[str, Any], districts: list[dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    """The areas one level down, each a funnel row: provinces of the nation, districts of a province."""
    if place["level"] == "national":
        provinces = province_names()
        grouped: dict[str, list[dict[str, Any]]] = {}
        for row in districts:
            grouped.setdefault(row["district"][:2], []).append(row)
        return [add_up(rows) | {"code": code, "name": provinces.get(code, code)} for code, rows in sorted(grouped.items())]
    if place["level"] == "province":
        by_district: dict[str, list[dict[str, Any]]] = {}
        for row in districts:  # one row per phase: added up per district
            by_district.setdefault(row["district"], []).append(row)
        return [add_up(rows) | {"code": code, "name": names.get(code, code)} for code, rows in sorted(by_district.items())]
    return []


def newest_hour(hours: list[dict[str, Any]]) -> datetime | None:
    return datetime.fromisoformat(hours[-1]["hour"]) if hours else None


def age_clock(now: datetime, newest: list[datetime | None], choice: str | None) -> dict[str, Any]:
    """Which clock ages are measured on (see the module's docstring), and both clocks' times."""
    known = [moment for moment in newest if moment is not None]
    log_time = max(known) if known else None
    replay = log_time is not None and now - log_time > timedelta(days=REPLAY_AFTER_DAYS)
    on_log = log_time is not None and (choice == "log" or (choice is None and replay))
    return {"measured_on": "log" if on_log else "server", "at": (log_time if on_log else now).isoformat(),
            "server_time": now.isoformat(), "log_time": log_time.isoformat() if log_time else None,
            "replay": replay}


def read_models_panel(read_models: dict[str, Any], head: int) -> list[dict[str, Any]]:
    """Each read model's position, lag and, when its follower cannot get past an event,
    ``stuck``: that event's log position, the error (its type and where; never an
    event's contents) and since when. Otherwise ``stuck`` is null."""
    rows = []
    for name, model in read_models.items():
        position = model.view.position()
        rows.append({"name": name, "position": position, "lag": max(head - position["notification_id"], 0),
                     "stuck": model.view.stuck()})
    return rows


def registrations_per_hour(hours: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every hour from the first registration to the last (empty hours too), labelled in WIB."""
    counted = {datetime.fromisoformat(h["hour"]): h for h in hours if h["registered"]}
    if not counted:
        return []
    first, last = min(counted), max(counted)
    series, cumulative, hour = [], 0, first
    while hour <= last:
        row = counted.get(hour, {})
        channels = {c: row.get(f"registered_{c}", 0) for c in ("web", "ussd", "field")}
        cumulative += sum(channels.values())
        series.append({"hour": hour.isoformat(), "wib": f"{wib(hour):%d %b %H:%M}", **channels,
                       "registered": sum(channels.values()), "cumulative": cumulative})
        hour += timedelta(hours=1)
    return series[-MAX_HOURS:]


def in_scope(campaign: Any, scope: str) -> Any:
    """Whether a facility code lies in the area (everything for national)."""
    if scope == "national":
        return lambda code: True
    return lambda code: bool(code) and campaign.within(scope, code)


def merge_hours(series: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Several districts' hourly counts added up hour by hour."""
    by_hour: dict[str, dict[str, Any]] = {}
    for rows in series:
        for row in rows:
            merged = by_hour.setdefault(row["hour"], {"hour": row["hour"], **dict.fromkeys(STAGES, 0)})
            for stage in STAGES:
                merged[stage] += row[stage]
    return [rates(by_hour[hour]) for hour in sorted(by_hour)]


def stock_panel(view: Any, mine: Any = lambda code: True) -> dict[str, Any]:
    """Facility/lot rows per days-of-stock band (stock-outs counted apart), as of the latest movement
    (``newest``: that movement's time, for the log's clock)."""
    (rows, latest), position = consistent_read(view, lambda: (view.levels(), view.latest()))
    rows = [row for row in rows if mine(row["facility"])]
    stocked = [row for row in rows if row["on_hand"] > 0]
    out = [row for row in rows if row["on_hand"] <= 0]
    return {
        "position": position, "as_of": latest.isoformat() if latest else None, "rows": len(rows), "newest": latest,
        "bands": [{"band": band, "label": label, "rows": sum(r["band"] == band for r in stocked)}
                  for band, label in BANDS],
        "stock_outs": len(out), "below_minimum": sum(r["status"] == "below minimum" for r in rows),
        "stock_out_rows": [{"facility": r["facility"], "lot_number": r["lot_number"]} for r in out[:10]],
    }


def shipments_rows(view: Any, now: datetime, mine: Any) -> tuple[tuple[list[dict[str, Any]], dict[str, Any]],
                                                                   datetime | None]:
    """The area's shipments dispatched and not yet received, and the newest dispatch among them."""
    rows, position = consistent_read(view, lambda: view.in_transit(now))
    rows = [row for row in rows if mine(row["origin"]) or mine(row["destination"])]
    newest = max((datetime.fromisoformat(row["dispatched_at"]) for row in rows), default=None)
    return (rows, position), newest


def shipments_panel(read: tuple[list[dict[str, Any]], dict[str, Any]], at: datetime) -> dict[str, Any]:
    """In transit, with hours in transit measured at ``at`` (the chosen clock); overdue after
    ``OVERDUE_AFTER_DAYS`` days."""
    rows, position = read
    for row in rows:
        hours = (at - datetime.fromisoformat(row["dispatched_at"])) / timedelta(hours=1)
        row["hours_in_transit"], row["overdue"] = round(hours, 1), hours > OVERDUE_AFTER_DAYS * 24
    rows.sort(key=lambda r: r["hours_in_transit"], reverse=True)
    return {
        "position": position, "overdue_after_days": OVERDUE_AFTER_DAYS, "in_transit": len(rows),
        "overdue": sum(r["overdue"] for r in rows), "vials": sum(r["vials"] for r in rows),
        "with_excursion": sum(r["excursions"] > 0 for r in rows),
        "longest": [{k: r[k] for k in ("sscc", "origin", "destination", "vials", "hours_in_transit", "overdue",
                                        "excursions")} for r in rows[:8]],
    }


def aefi_panel(view: Any, mine: Any = lambda code: True) -> dict[str, Any]:
    """AEFI (KIPI) reports of the area's districts, by severity and by lot."""
    rows, position = consistent_read(view, view.by_lot_and_district)
    by_severity = {severity.value: 0 for severity in Severity}
    by_lot: dict[tuple[str, str, str], int] = {}
    for row in rows:
        if not mine(row["district"]):
            continue
        by_severity[row["severity"]] = by_severity.get(row["severity"], 0) + row["reports"]
        key = (row["gtin"], row["lot_number"], row["severity"])
        by_lot[key] = by_lot.get(key, 0) + row["reports"]
    return {"position": position, "total": sum(by_severity.values()),
            "by_severity": [{"severity": s, "reports": n} for s, n in by_severity.items()],
            "by_lot": [{"gtin": g, "lot_number": lot, "severity": sev, "reports": n}
                       for (g, lot, sev), n in sorted(by_lot.items())][:10]}
