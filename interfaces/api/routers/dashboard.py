"""The monitoring dashboard (HTML) and its JSON feed: the national funnel,
registrations per hour (WIB), districts, stock bands, shipments in transit and
AEFI, each panel with the log position it reflects, and where each read model
is (``read_models``: a stuck one is named, with the event it stopped at). No
personal data: every figure comes from the read models, which hold none."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from application.errors import NotAuthenticated

from domain.recipient import Severity
from interfaces.api.dashboard_page import DASHBOARD_HTML
from interfaces.api.deps import CallerDep, CampaignDep, ReadModelsDep
from interfaces.api.security import SESSION_COOKIE
from interfaces.reports import consistent_read, district_names, wib
from projections.funnel import STAGES, rates
from projections.shipments import OVERDUE_AFTER_DAYS

router = APIRouter(tags=["dashboard"])

MAX_HOURS = 14 * 24  # the chart shows at most the last two weeks of registration
BANDS = (("< 7", "Under 7 days"), ("7–10", "7 to 10 days"), ("10–14", "10 to 14 days"), ("> 14", "Over 14 days"),
         ("no use yet", "No use yet"))
DISTRICT_COLUMNS = ("district", "phase", "targeted", "sms_sent", "delivered", "failed", "registered_web",
                    "registered_ussd", "registered_field", "registered", "screened", "dose1", "dose2",
                    "drop_out_rate", "coverage")


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def dashboard_page(request: Request, campaign: CampaignDep) -> Response:
    """Needs a login: a browser without a session goes to the login page (303), an API client gets 401."""
    session = request.cookies.get(SESSION_COOKIE)
    try:
        if not session:
            raise NotAuthenticated("Log in first.")
        campaign.check_readable(campaign.authenticate(session), "read_reports")
    except NotAuthenticated:
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse("/login?next=/", status_code=303)
        raise
    return HTMLResponse(DASHBOARD_HTML)


@router.get("/dashboard/data")
def dashboard_data(read_models: ReadModelsDep, campaign: CampaignDep, caller: CallerDep) -> dict[str, Any]:
    """Every panel of the dashboard, each with ``position`` (notification id, recorded time)."""
    campaign.check_readable(caller, "read_reports")
    now = campaign.clock()
    funnel = read_models["funnel"].view
    (totals, hours, districts), position = consistent_read(
        funnel, lambda: (funnel.totals(), funnel.by_hour(), funnel.by_district()))
    mine = in_scope(campaign, caller.scope)
    if caller.scope != "national":  # a province's or district's own figures, not the nation's
        districts = [row for row in districts if mine(row["district"])]
        totals = rates({stage: sum(row[stage] for row in districts) for stage in STAGES})
        hours = merge_hours([funnel.by_hour(district) for district in sorted({row["district"] for row in districts})])
    names = district_names()
    head = campaign.recorder.max_notification_id() or 0
    return {
        "generated_at": now.isoformat(),
        "log_head": head,
        "read_models": read_models_panel(read_models, head),
        "funnel": {"totals": totals, "position": position},
        "registrations_per_hour": {"hours": registrations_per_hour(hours), "position": position},
        "districts": {"position": position, "rows": [
            {k: row[k] for k in DISTRICT_COLUMNS} | {"name": names.get(row["district"], "")} for row in districts]},
        "stock": stock_panel(read_models["stock_on_hand"].view, mine),
        "shipments": shipments_panel(read_models["shipments"].view, now, mine),
        "aefi": aefi_panel(read_models["aefi"].view),
    }


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
    """Whether a facility code lies in the caller's scope (everything for national)."""
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
    """Facility/lot rows per days-of-stock band (stock-outs counted apart), as of the latest movement."""
    (rows, latest), position = consistent_read(view, lambda: (view.levels(), view.latest()))
    rows = [row for row in rows if mine(row["facility"])]
    stocked = [row for row in rows if row["on_hand"] > 0]
    out = [row for row in rows if row["on_hand"] <= 0]
    return {
        "position": position, "as_of": latest.isoformat() if latest else None, "rows": len(rows),
        "bands": [{"band": band, "label": label, "rows": sum(r["band"] == band for r in stocked)}
                  for band, label in BANDS],
        "stock_outs": len(out), "below_minimum": sum(r["status"] == "below minimum" for r in rows),
        "stock_out_rows": [{"facility": r["facility"], "lot_number": r["lot_number"]} for r in out[:10]],
    }


def shipments_panel(view: Any, now: datetime, mine: Any = lambda code: True) -> dict[str, Any]:
    """Shipments dispatched and not yet received; overdue after ``OVERDUE_AFTER_DAYS`` days."""
    rows, position = consistent_read(view, lambda: view.in_transit(now))
    rows = [row for row in rows if mine(row["origin"]) or mine(row["destination"])]
    rows.sort(key=lambda r: r["hours_in_transit"], reverse=True)
    return {
        "position": position, "overdue_after_days": OVERDUE_AFTER_DAYS, "in_transit": len(rows),
        "overdue": sum(r["overdue"] for r in rows), "vials": sum(r["vials"] for r in rows),
        "with_excursion": sum(r["excursions"] > 0 for r in rows),
        "longest": [{k: r[k] for k in ("sscc", "origin", "destination", "vials", "hours_in_transit", "overdue",
                                        "excursions")} for r in rows[:8]],
    }


def aefi_panel(view: Any) -> dict[str, Any]:
    rows, position = consistent_read(view, view.by_lot)
    by_severity = {severity.value: 0 for severity in Severity}
    for row in rows:
        by_severity[row["severity"]] = by_severity.get(row["severity"], 0) + row["reports"]
    return {"position": position, "total": sum(by_severity.values()),
            "by_severity": [{"severity": s, "reports": n} for s, n in by_severity.items()], "by_lot": rows[:10]}
