"""The monitoring dashboard page: the JSON feed's figures put into the
templates (``templates/dashboard.html``), in Bahasa Indonesia unless English
is chosen. Nothing here computes a figure: it only lays out what
``routers/dashboard.py`` read (the registrations chart as inline SVG, ages in
words), so the page and the feed can never disagree. No script, no CDN: the
page refreshes itself every minute and works on a 360-pixel phone.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from application.access import Caller
from interfaces.api.security import SESSION_COOKIE, csrf_token
from interfaces.web.pages import Staff, add_words, language, number, render, translate

REFRESH_SECONDS = 60
CHART_WIDTH, CHART_HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 900, 280, 56, 64, 12, 44

add_words({
    "dash.title": ("Pemantauan vaksinasi", "Vaccination monitoring"),
    "dash.national": ("Nasional", "National"),
    "dash.province": ("Provinsi", "Province"),
    "dash.district": ("Kabupaten/kota", "District"),
    "dash.provinces": ("Provinsi", "Provinces"),
    "dash.districts": ("Kabupaten/kota", "Districts"),
    "dash.up": ("Naik satu tingkat", "One level up"),
    "dash.funnel": ("Alur sasaran", "Funnel"),
    "dash.targeted": ("Sasaran", "Targeted"),
    "dash.sms_sent": ("SMS terkirim", "SMS sent"),
    "dash.delivered": ("SMS sampai", "SMS delivered"),
    "dash.failed": ("SMS gagal", "SMS failed"),
    "dash.registered": ("Terdaftar", "Registered"),
    "dash.screened": ("Diskrining", "Screened"),
    "dash.dose1": ("Dosis 1", "Dose 1"),
    "dash.dose2": ("Dosis 2", "Dose 2"),
    "dash.dose2_due": ("Jatuh tempo dosis 2", "Due for dose 2"),
    "dash.drop_out": ("Angka putus (drop-out)", "Drop-out rate"),
    "dash.drop_out_note": ("(jatuh tempo dosis 2 − dosis 2) ÷ jatuh tempo dosis 2",
                           "(due for dose 2 − dose 2) ÷ due for dose 2"),
    "dash.none_due": ("belum ada yang jatuh tempo dosis 2", "nobody is due for dose 2 yet"),
    "dash.coverage": ("Cakupan", "Coverage"),
    "dash.coverage_note": ("dosis 1 ÷ sasaran", "dose 1 ÷ targeted"),
    "dash.channels": ("web · USSD *119# · lapangan", "web · USSD *119# · field"),
    "dash.hours": ("Pendaftaran per jam (WIB)", "Registrations per hour (WIB)"),
    "dash.no_registrations": ("Belum ada pendaftaran.", "No registrations yet."),
    "dash.per_hour": ("per jam", "per hour"),
    "dash.so_far": ("total sejauh ini (skala kanan)", "total so far (right scale)"),
    "dash.area_rows": ("Wilayah di bawahnya", "Areas below"),
    "dash.no_rows": ("Belum ada data di wilayah ini.", "No figures in this area yet."),
    "dash.stock": ("Stok (hari persediaan)", "Stock bands (days of stock)"),
    "dash.stock_rows": ("baris fasilitas/lot", "facility/lot rows"),
    "dash.stock_outs": ("stok habis", "stock-outs"),
    "dash.below_minimum": ("di bawah minimum (< 7 hari)", "below minimum (< 7 days)"),
    "dash.band.< 7": ("Kurang dari 7 hari", "Under 7 days"),
    "dash.band.7–10": ("7 sampai 10 hari", "7 to 10 days"),
    "dash.band.10–14": ("10 sampai 14 hari", "10 to 14 days"),
    "dash.band.> 14": ("Lebih dari 14 hari", "Over 14 days"),
    "dash.band.no use yet": ("Belum dipakai", "No use yet"),
    "dash.stock_as_of": ("Per pergerakan stok terakhir", "As of the latest stock movement"),
    "dash.shipments": ("Kiriman dalam perjalanan", "Shipments in transit"),
    "dash.in_transit": ("dalam perjalanan", "in transit"),
    "dash.overdue": ("terlambat (lebih dari {n} hari)", "overdue (over {n} days)"),
    "dash.vials": ("vial dalam perjalanan", "vials in transit"),
    "dash.excursion": ("dengan suhu menyimpang", "with a temperature excursion"),
    "dash.no_shipments": ("Tidak ada kiriman dalam perjalanan.", "No shipment is in transit."),
    "dash.sscc": ("Kiriman (SSCC)", "Shipment (SSCC)"),
    "dash.route": ("Dari → ke", "From → to"),
    "dash.for": ("Lama di jalan", "In transit for"),
    "dash.aefi": ("KIPI menurut tingkat", "AEFI (KIPI) by severity"),
    "dash.aefi_total": ("laporan seluruhnya", "reports in all"),
    "dash.no_aefi": ("Tidak ada laporan KIPI.", "No AEFI reported."),
    "dash.severity.mild": ("Ringan", "Mild"),
    "dash.severity.moderate": ("Sedang", "Moderate"),
    "dash.severity.severe": ("Berat", "Severe"),
    "dash.lot": ("Lot", "Lot"),
    "dash.reports": ("Laporan", "Reports"),
    "dash.position": ("Posisi log", "Log position"),
    "dash.recorded": ("dicatat", "recorded"),
    "dash.ago": ("{age} lalu", "{age} ago"),
    "dash.behind": ("{n} peristiwa baru belum dihitung", "{n} newer events not yet counted"),
    "dash.no_position": ("belum ada peristiwa yang diproses", "no events processed yet"),
    "dash.stuck": ("Peringatan: model baca macet; angkanya berhenti di posisi yang tertulis.",
                   "Warning: a read model is stuck; its figures stop at the position shown."),
    "dash.stuck_at": ("macet di posisi log", "stuck at log position"),
    "dash.clock_server": ("Umur diukur dengan jam server: {at}.", "Ages are measured on the server's clock: {at}."),
    "dash.clock_log": ("Umur diukur dengan jam log: peristiwa terbaru yang dihitung terjadi {at} "
                       "(jam server {server}).",
                       "Ages are measured on the log's clock: the newest event counted happened {at} "
                       "(server clock {server})."),
    "dash.replay": ("Data ini tampaknya putar ulang (skenario): peristiwa terbarunya lebih dari 30 hari lalu.",
                    "These figures look like a replay (a scenario): their newest event is over 30 days old."),
    "dash.use_server": ("Ukur dengan jam server", "Measure on the server's clock"),
    "dash.use_log": ("Ukur dengan jam log", "Measure on the log's clock"),
    "dash.updated": ("Diperbarui {at}; halaman memuat ulang tiap menit; log berisi {n} peristiwa.",
                     "Updated {at}; the page reloads every minute; the log holds {n} events."),
    "dash.read_models": ("Model baca", "Read models"),
    "dash.lag": ("tertinggal", "behind"),
    "dash.outside": ("Wilayah itu tidak ada, atau di luar wilayah akun Anda.",
                     "That area does not exist, or lies outside your account's area."),
    "age.minutes": ("{n} menit", "{n} minutes"),
    "age.hours": ("{n} jam", "{n} hours"),
    "age.days": ("{n} hari", "{n} days"),
})


def age(delta: timedelta, lang: str) -> str:
    """How long, in the largest whole unit that reads well: 45 menit, 30 jam, 3 hari."""
    hours = delta / timedelta(hours=1)
    if hours < 1:
        return translate("age.minutes", lang).format(n=number(max(math.floor(hours * 60), 0), lang))
    if hours < 48:
        return translate("age.hours", lang).format(n=number(math.floor(hours), lang))
    return translate("age.days", lang).format(n=number(math.floor(hours / 24), lang))


def round_scale(largest: float) -> tuple[float, float]:
    """A round step (1, 2 or 5 × 10ⁿ) giving at most five intervals, and the top of the scale."""
    rough = max(largest, 1) / 5
    power = 10 ** math.floor(math.log10(rough))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= rough)
    return step, max(step, math.ceil(largest / step) * step)


def hours_chart(hours: list[dict[str, Any]], lang: str) -> dict[str, Any] | None:
    """The registrations chart's geometry: stacked bars per hour (web, USSD, field) and
    the running total as a line on the right-hand scale."""
    if not hours:
        return None
    w, h = CHART_WIDTH - LEFT - RIGHT, CHART_HEIGHT - TOP - BOTTOM
    step, top = round_scale(max(x["registered"] for x in hours))
    cum_step, cum_top = round_scale(hours[-1]["cumulative"])
    slot = w / len(hours)
    bar = max(1.0, slot * 0.8)

    def y(v: float) -> float:
        return TOP + h - v / top * h

    def yc(v: float) -> float:
        return TOP + h - v / cum_top * h

    bars, labels, labelled_day = [], [], ""
    every = max(1, math.ceil(len(hours) / 12))
    for i, x in enumerate(hours):
        parts, base = [], 0
        for channel in ("web", "ussd", "field"):
            if x[channel]:
                parts.append({"channel": channel, "y": round(y(base + x[channel]), 1),
                              "height": round(y(base) - y(base + x[channel]), 1)})
                base += x[channel]
        bars.append({"x": round(LEFT + i * slot + (slot - bar) / 2, 1), "slot_x": round(LEFT + i * slot, 1),
                     "parts": parts, "hour": x})
        if i % every == 0:
            day, month, clock = x["wib"].split(" ")
            centre = round(LEFT + i * slot + slot / 2, 1)
            labels.append({"x": centre, "time": clock.replace(":", ".") if lang == "id" else clock,
                           "day": f"{day} {month}" if f"{day} {month}" != labelled_day else ""})
            labelled_day = f"{day} {month}"
    ticks = [{"y": round(y(v), 1), "label": number(v, lang)} for v in frange(top, step)]
    cum_ticks = [{"y": round(yc(v), 1), "label": number(v, lang)} for v in frange(cum_top, cum_step)]
    line = " ".join(f"{LEFT + i * slot + slot / 2:.1f},{yc(x['cumulative']):.1f}" for i, x in enumerate(hours))
    return {"width": CHART_WIDTH, "height": CHART_HEIGHT, "left": LEFT, "right_edge": LEFT + w, "top": TOP,
            "bottom": TOP + h, "slot": round(slot, 1), "bar": round(bar, 1), "bars": bars, "labels": labels,
            "ticks": ticks, "cum_ticks": cum_ticks, "line": line}


def frange(top: float, step: float) -> list[float]:
    return [i * step for i in range(int(round(top / step)) + 1)]


def staff_of(request: Request, caller: Caller) -> Staff:
    return Staff(caller, csrf_token(request, request.cookies.get(SESSION_COOKIE, "")))


def render_refusal(request: Request, caller: Caller, status: int) -> HTMLResponse:
    """An area the caller may not see, or that does not exist (the same words for both)."""
    return render(request, "desks/message.html", staff_of(request, caller), status=status, message="dash.outside")


def render_dashboard(request: Request, caller: Caller, data: dict[str, Any]) -> HTMLResponse:
    """The page for ``caller`` from the feed's ``data`` (the same dict ``/dashboard/data`` answers)."""
    lang = language(request)
    now = datetime.fromisoformat(data["generated_at"])
    staff = staff_of(request, caller)
    stuck = {row["name"]: row["stuck"] for row in data["read_models"] if row["stuck"]}

    def position_note(position: dict[str, Any] | None) -> dict[str, Any]:
        if not position or not position.get("notification_id"):
            return {"id": None}
        recorded = datetime.fromisoformat(position["recorded_at"]) if position.get("recorded_at") else None
        return {"id": position["notification_id"], "recorded": recorded,
                "age": age(now - recorded, lang) if recorded else None,
                "behind": max(data["log_head"] - position["notification_id"], 0)}

    return render(
        request, "dashboard.html", staff, d=data, now=now, stuck=stuck, refresh=REFRESH_SECONDS,
        chart=hours_chart(data["registrations_per_hour"]["hours"], lang), position_note=position_note,
        at=lambda text: datetime.fromisoformat(text) if text else None,
        duration=lambda hours: age(timedelta(hours=hours), lang),
    )
