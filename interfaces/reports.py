"""The reconciliation reports: what each one shows, where its rows come from,
and how it is written to CSV or XLSX. One definition serves the CLI and the API.

Every report states the log position its read model reflects (the notification
id and the recorded time of that event), so a figure can be traced to events.
Times are shown in WIB, the ministry's clock; quantities are doses unless a
column says vials.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta, timezone
from functools import cache
from typing import Any, TypeVar

from application.errors import ApplicationError, NotFound
from domain.facility import FacilityKind
from interfaces.reference_data import facility_rows
from projections.read_model import ReadModel
from projections.rows import ReadModelView

WIB = timezone(timedelta(hours=7), "WIB")  # how times are shown: the ministry's clock

T = TypeVar("T")


class UnknownReport(NotFound):
    def __init__(self) -> None:
        super().__init__(f"There is no report by that name. The reports are: {', '.join(REPORTS)}.")


class OptionNotAccepted(ApplicationError):
    pass


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    kind: str = "text"  # text | number | rate (a fraction, shown as %) | time (UTC text, shown in WIB)


@dataclass(frozen=True)
class ReportOptions:
    first_day: date | None = None
    last_day: date | None = None
    facility: str | None = None
    phase: int | None = None

    def given(self) -> list[str]:
        return [f.name for f in fields(self) if getattr(self, f.name) is not None]


OPTION_LABELS = {  # option -> (label, text when not given, its name in a query or on the command line)
    "first_day": ("Period from", "the start of the log", "from"),
    "last_day": ("Period to", "the latest event", "to"),
    "facility": ("Facility", "all facilities", "facility"),
    "phase": ("Phase", "all phases", "phase"),
}


@dataclass(frozen=True)
class ReportDefinition:
    name: str
    title: str
    description: str
    read_model: str
    columns: tuple[Column, ...]
    accepts: tuple[str, ...]  # names of the ReportOptions it takes
    fetch: Callable[[Any, ReportOptions], list[dict[str, Any]]]  # (view, options) -> rows

    def check(self, options: ReportOptions) -> None:
        refused = [OPTION_LABELS[name][2] for name in options.given() if name not in self.accepts]
        if refused:
            takes = ", ".join(OPTION_LABELS[name][2] for name in self.accepts) or "no options"
            raise OptionNotAccepted(f"The {self.name} report does not take {', '.join(refused)} (it takes {takes}).")
        if options.first_day and options.last_day and options.first_day > options.last_day:
            raise OptionNotAccepted(f"The period starts ({options.first_day}) after it ends ({options.last_day}).")


@cache
def district_names() -> dict[str, str]:
    """``32.73`` -> ``Kota Bandung`` (Kemendagri 2020)."""
    return {code: name.removeprefix("Dinas Kesehatan ") for code, name, kind, _ in facility_rows()
            if kind is FacilityKind.DISTRICT_OFFICE}


def _shipment_lines(view: Any, options: ReportOptions) -> list[dict[str, Any]]:
    rows = view.lines()
    if options.facility:
        rows = [row for row in rows if options.facility in (row["origin"], row["destination"])]
    return rows


def _stock(view: Any, options: ReportOptions) -> list[dict[str, Any]]:
    first = options.first_day.isoformat() if options.first_day else "0000-01-01"
    last = options.last_day.isoformat() if options.last_day else "9999-12-31"
    return view.report(first, last, options.facility)


def _recipients(view: Any, options: ReportOptions) -> list[dict[str, Any]]:
    names = district_names()
    return [row | {"district_name": names.get(row["district"], "")} for row in view.reconcile_districts(options.phase)]


N, RATE, TIME = "number", "rate", "time"
REPORTS: dict[str, ReportDefinition] = {d.name: d for d in (
    ReportDefinition(
        "shipments", "Shipments: sent vs received",
        "Each dispatched shipment line: vials sent, accepted, rejected (with the reason) and short on receipt.",
        "shipment_reconciliation",
        (Column("sscc", "SSCC"), Column("origin", "From"), Column("destination", "To"), Column("gtin", "GTIN"),
         Column("lot_number", "Lot"), Column("status", "Status"), Column("dispatched_at", "Dispatched (WIB)", TIME),
         Column("received_at", "Received (WIB)", TIME), Column("dispatched", "Vials sent", N),
         Column("accepted", "Vials accepted", N), Column("rejected", "Vials rejected", N),
         Column("short", "Vials short", N), Column("reason", "Reason"), Column("vvm_stage", "VVM stage", N)),
        ("facility",), _shipment_lines),
    ReportDefinition(
        "stock", "Stock card reconciliation",
        "Per facility and lot, in doses: opening + received − issued − administered − wasted ± count "
        "adjustments = closing, beside the last physical count; apart from it the quarantined stock: "
        "opening + held − returned − destroyed = closing. Days are calendar days in each "
        "facility's own zone (WIB, WITA or WIT).",
        "stock_reconciliation",
        (Column("facility", "Facility"), Column("lot_key", "Lot (GTIN/lot)"), Column("opening", "Opening", N),
         Column("received", "Received", N), Column("issued", "Issued", N), Column("administered", "Administered", N),
         Column("wasted", "Wasted", N), Column("adjustments", "Count adjustments", N), Column("closing", "Closing", N),
         Column("last_count_at", "Last count (WIB)", TIME), Column("last_count_expected", "Expected at count", N),
         Column("last_count_counted", "Counted", N), Column("discrepancy_rate", "Count discrepancy", RATE),
         Column("quarantine_opening", "Quarantined: opening", N), Column("quarantine_held", "Quarantined: held", N),
         Column("quarantine_returned", "Quarantined: returned", N),
         Column("quarantine_destroyed", "Quarantined: destroyed", N),
         Column("quarantine_closing", "Quarantined: closing", N)),
        ("first_day", "last_day", "facility"), _stock),
    ReportDefinition(
        "doses", "Doses given vs stock used",
        "Per facility and lot: doses recorded on recipients vs doses drawn from the stock card, "
        "and open-vial wastage (wasted ÷ (drawn + wasted)).",
        "dose_reconciliation",
        (Column("facility", "Facility"), Column("lot_key", "Lot (GTIN/lot)"),
         Column("recorded", "Doses recorded", N), Column("drawn", "Doses drawn from stock", N),
         Column("difference", "Difference (drawn − recorded)", N), Column("open_vial_wasted", "Open-vial wastage", N),
         Column("other_wasted", "Other wastage", N), Column("open_vial_wastage_rate", "Open-vial wastage rate", RATE)),
        ("facility",), lambda view, options: view.report(options.facility)),
    ReportDefinition(
        "recipients", "Recipients per district",
        "Per district and phase: targeted vs SMS sent vs delivered vs registered vs vaccinated.",
        "funnel",
        (Column("district", "District"), Column("district_name", "District name"), Column("phase", "Phase", N),
         Column("targeted", "Targeted", N), Column("sent", "SMS sent", N), Column("not_sent", "Not sent", N),
         Column("delivered", "SMS delivered", N), Column("failed", "SMS failed", N),
         Column("registered", "Registered", N), Column("registered_rate", "Registered rate", RATE),
         Column("vaccinated_dose1", "Dose 1", N), Column("vaccinated_dose2", "Dose 2", N)),
        ("phase",), _recipients),
)}


def report_definition(name: str) -> ReportDefinition:
    try:
        return REPORTS[name]
    except KeyError:
        raise UnknownReport from None


def consistent_read(view: ReadModelView, read: Callable[[], T], attempts: int = 5) -> tuple[T, dict[str, Any]]:
    """``read()`` and the log position it reflects. Rows and position are written
    in one transaction, so a read between two equal positions reflects exactly
    that position; it is repeated when a page was written meanwhile (under a
    constant stream of pages, ``attempts`` times, then the last position read)."""
    position = view.position()
    for _ in range(attempts):
        result = read()
        after = view.position()
        if after == position:
            break
        position = after
    return result, position


def wib(moment: str | datetime | None) -> datetime | None:
    """UTC (text or datetime) -> WIB wall-clock time to the second, without a zone (as spreadsheets want)."""
    if moment is None:
        return None
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.astimezone(WIB).replace(tzinfo=None, microsecond=0)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Stored text as a spreadsheet may safely show it: control characters removed,
    and text a spreadsheet would run as a formula (=, +, -, @, tab, CR) kept as
    text by a leading apostrophe. Numbers and times pass as they are."""
    if not isinstance(value, str):
        return value
    text = "".join(ch for ch in value if ch in "\t\r" or unicodedata.category(ch) != "Cc")
    if text.startswith(FORMULA_STARTS) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def as_text(value: Any) -> str:
    """How a cell reads in CSV (and how a test compares XLSX cells to it)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return str(safe_cell(value) if isinstance(value, str) else value)


@dataclass(frozen=True)
class Report:
    definition: ReportDefinition
    options: ReportOptions
    rows: list[dict[str, Any]]  # the definition's columns, values as the read model gives them
    position: dict[str, Any]  # notification_id, recorded_at (UTC text)
    generated_at: datetime

    def cells(self) -> list[list[Any]]:
        """Rows as typed export values: times in WIB, rates as fractions."""
        columns = self.definition.columns
        return [[wib(row[c.key]) if c.kind == TIME else row[c.key] for c in columns] for row in self.rows]

    def position_line(self) -> str:
        if not self.position["notification_id"]:
            return "Log position: no events processed yet (notification id 0)."
        return (f"Log position: notification id {self.position['notification_id']}, "
                f"recorded {as_text(wib(self.position['recorded_at']))} WIB.")

    def header_lines(self) -> list[tuple[str, Any]]:
        """What the report is, where in the log it stands, when and how it was made."""
        lines: list[tuple[str, Any]] = [
            ("Report", f"{self.definition.title} ({self.definition.name})"),
            ("What it shows", self.definition.description),
            ("Log position (notification id)", self.position["notification_id"]),
            ("Event recorded at (WIB)", wib(self.position["recorded_at"])),
            ("Generated at (WIB)", wib(self.generated_at)),
        ]
        return lines + self.option_lines()

    def option_lines(self) -> list[tuple[str, str]]:
        """Each option the report takes, as given or what its absence means."""
        lines = []
        for name in self.definition.accepts:
            label, absent, _ = OPTION_LABELS[name]
            value = getattr(self.options, name)
            lines.append((label, absent if value is None else str(value)))
        return lines

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.definition.name, "title": self.definition.title,
            "description": self.definition.description, "position": self.position,
            "generated_at": self.generated_at.isoformat(),
            "options": {name: getattr(self.options, name) for name in self.definition.accepts},
            "columns": [vars(c) for c in self.definition.columns], "rows": self.rows,
        }


def build_report(name: str, read_models: dict[str, ReadModel], options: ReportOptions | None = None,
                 now: datetime | None = None) -> Report:
    definition = report_definition(name)
    options = options or ReportOptions()
    definition.check(options)
    view = read_models[definition.read_model].view
    rows, position = consistent_read(view, lambda: definition.fetch(view, options))
    rows = [{c.key: row.get(c.key) for c in definition.columns} for row in rows]
    return Report(definition, options, rows, position, now or datetime.now(UTC))


def to_csv(report: Report) -> bytes:
    """Header lines starting with '#', then the column titles and the rows (UTF-8 with BOM, for Excel)."""
    text = io.StringIO()
    for label, value in report.header_lines():  # comment lines, not records: a reader skips lines starting '#'
        text.write(f"# {label}: {as_text(value)}\r\n")
    writer = csv.writer(text)
    writer.writerow([c.title for c in report.definition.columns])
    writer.writerows([as_text(v) for v in row] for row in report.cells())
    return text.getvalue().encode("utf-8-sig")


XLSX_FORMATS = {N: "#,##0", RATE: "0.0%", TIME: "yyyy-mm-dd hh:mm:ss"}


def to_xlsx(report: Report) -> bytes:
    """A first sheet 'About' (what, log position, when, options), then the report with a bold header row."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    bold = Font(bold=True)
    book = Workbook()
    about = book.active
    about.title = "About"
    for label, value in report.header_lines():
        about.append([label, safe_cell(value)])
        about.cell(about.max_row, 1).font = bold
        if isinstance(value, datetime):
            about.cell(about.max_row, 2).number_format = XLSX_FORMATS[TIME]
    about.column_dimensions["A"].width = 32
    about.column_dimensions["B"].width = 60

    sheet = book.create_sheet(report.definition.name)
    columns = report.definition.columns
    sheet.append([c.title for c in columns])
    for cell in sheet[1]:
        cell.font = bold
    for row in report.cells():
        sheet.append([safe_cell(value) for value in row])
    for index, column in enumerate(columns, start=1):
        letter = sheet.cell(1, index).column_letter
        sheet.column_dimensions[letter].width = max(len(column.title), 19 if column.kind == TIME else 10) + 2
        if column.kind in XLSX_FORMATS:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = XLSX_FORMATS[column.kind]
    sheet.freeze_panes = "A2"
    if report.rows:
        sheet.auto_filter.ref = sheet.dimensions
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


EXPORTS: dict[str, tuple[str, Callable[[Report], bytes]]] = {
    "csv": ("text/csv; charset=utf-8", to_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", to_xlsx),
}


def file_name(report: Report, fmt: str) -> str:
    return f"rantai-{report.definition.name}-at-{report.position['notification_id']}.{fmt}"
