"""Who may do what, where, and when: declared once, checked in one place.

Every command and query names itself in ``POLICY`` with the roles that may
run it; every use case finds the facility it acts at (a receipt at the
shipment's destination, a dose at the session's facility...) and asks
``Access.acting`` for the event's provenance. That one method checks the
role, the facility kind the role works at and the caller's scope, accepts a
device's scan time only inside the offline window, and returns the
``Provenance`` the server decided: the authenticated user, the facility, the
device label, the time, the facility's time zone and the role.

The server's own operator (the command line, a scenario replay) is a caller
without a role: full rights, recorded as ``cli:<os user>``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from application.errors import Forbidden, NotFound, OutsideTimeWindow
from domain.calendar import local_day
from domain.facility import Facility, FacilityKind
from domain.provenance import Provenance
from domain.user import NATIONAL, Role

ADMIN, WAREHOUSE, VACCINATOR, OFFICER, AUDITOR = (
    Role.ADMIN, Role.WAREHOUSE, Role.VACCINATOR, Role.DISTRICT_OFFICER, Role.AUDITOR)
STORES = frozenset({FacilityKind.NATIONAL_WAREHOUSE, FacilityKind.PROVINCE_OFFICE, FacilityKind.DISTRICT_OFFICE})
CLINICS = frozenset({FacilityKind.PUSKESMAS, FacilityKind.HOSPITAL})
ANYWHERE = frozenset(FacilityKind)
CAMPAIGN = "national"  # where campaign-wide commands act (users, target lists, the blast)

# Where each role works: the kinds of facility its commands may act at.
WORKS_AT: dict[Role, frozenset[FacilityKind]] = {
    ADMIN: ANYWHERE,
    WAREHOUSE: STORES,
    VACCINATOR: CLINICS,
    OFFICER: frozenset({FacilityKind.DISTRICT_OFFICE}),
    AUDITOR: frozenset(),  # issues no commands
}


@dataclass(frozen=True)
class Permission:
    roles: frozenset[Role]
    doing: str  # "may {doing} only at ..."
    writes: bool = True


def _p(doing: str, *roles: Role, writes: bool = True) -> Permission:
    return Permission(frozenset(roles), doing, writes)


# The table of roles x commands (the README shows it). Queries are open to
# the auditor as well, inside the auditor's scope.
POLICY: dict[str, Permission] = {
    # logistics
    "release_lot": _p("release lots", ADMIN),
    "change_lot": _p("quarantine or recall lots", ADMIN),
    "register_facility": _p("register facilities", ADMIN),
    "pack": _p("pack shipments", WAREHOUSE),
    "dispatch": _p("dispatch shipments", WAREHOUSE),
    "receive": _p("receive", WAREHOUSE, VACCINATOR),
    "record_temperature": _p("record temperatures", WAREHOUSE, VACCINATOR),
    "cancel": _p("cancel shipments", WAREHOUSE),
    "hand_over": _p("take shipments over in transit", WAREHOUSE),
    "record_wastage": _p("record wastage", WAREHOUSE, VACCINATOR),
    "record_count": _p("count stock", WAREHOUSE, VACCINATOR),
    "correct_receipt": _p("correct receipts", WAREHOUSE, VACCINATOR),
    # the campaign
    "manage_users": _p("manage accounts", ADMIN),
    "import_targets": _p("import target lists", ADMIN),
    "run_blast": _p("run the SMS blast", ADMIN),
    "screen": _p("screen recipients", VACCINATOR),
    "vaccinate": _p("record doses", VACCINATOR),
    "report_aefi": _p("report AEFI", VACCINATOR),
    "void_dose": _p("void dose records", VACCINATOR),
    "move_booking": _p("move bookings", VACCINATOR),
    "register_field": _p("register people in the field", OFFICER),
    "visit": _p("assign and report field visits", OFFICER),
    # queries
    "read_logistics": _p("see stock and shipments", ADMIN, WAREHOUSE, VACCINATOR, AUDITOR, writes=False),
    "read_reports": _p("see reports", ADMIN, WAREHOUSE, VACCINATOR, OFFICER, AUDITOR, writes=False),
    "read_worklist": _p("see the worklist", ADMIN, OFFICER, AUDITOR, writes=False),
    "read_ticket": _p("see bookings", VACCINATOR, ADMIN, AUDITOR, writes=False),
    "read_recipient": _p("see personal data", VACCINATOR, OFFICER, writes=False),
    "read_users": _p("see accounts", ADMIN, AUDITOR, writes=False),
    "read_trace": _p("see the recall trace", ADMIN, WAREHOUSE, VACCINATOR, OFFICER, AUDITOR, writes=False),
    "print_lot_labels": _p("print lot labels", ADMIN, WAREHOUSE, writes=False),
    # auditing (issue 12): histories, past states and past figures
    "read_history": _p("see the audit history", ADMIN, AUDITOR, writes=False),
    # exports (issue 12): a FHIR bundle names each person by NIK, so each export is recorded as a read of personal data
    "export_epcis": _p("export EPCIS documents", ADMIN, AUDITOR, writes=False),
    "export_fhir": _p("export FHIR Immunization bundles", ADMIN, AUDITOR, writes=False),
}


@dataclass(frozen=True)
class Caller:
    """Who asks, as the server established it (a token, a session, the CLI).

    ``occurred_at`` is the time the device claims the scan happened (an
    offline scanner); ``Access.acting`` accepts it only inside the window."""

    username: str
    role: Role | None  # None: the server's operator (CLI, scenario replay), full rights
    scope: str = NATIONAL
    device: str = "unknown"
    occurred_at: datetime | None = None

    @classmethod
    def operator(cls, username: str, scope: str = NATIONAL, occurred_at: datetime | None = None,
                 device: str = "cli") -> Caller:
        return cls(username, None, scope, device, occurred_at)

    def at(self, occurred_at: datetime | None) -> Caller:
        return replace(self, occurred_at=occurred_at)

    @property
    def is_operator(self) -> bool:
        return self.role is None


class Access:
    """Mixed into the application: the one place role, scope and time are checked."""

    clock: Callable[[], datetime] = staticmethod(lambda: datetime.now(UTC))
    future_skew = timedelta(minutes=2)
    offline_window = timedelta(hours=72)
    _tree: dict[str, tuple[str | None, FacilityKind, str]]

    def facility_node(self, code: str) -> tuple[str | None, FacilityKind, str]:
        """(parent, kind, zone) of a facility, kept per process: facilities never move."""
        tree = self.__dict__.setdefault("_tree", {})
        if code not in tree:
            facility: Facility = self.get_facility(code)  # type: ignore[attr-defined]
            tree[code] = (facility.parent, facility.kind, facility.zone)
        return tree[code]

    def within(self, scope: str, code: str) -> bool:
        """Whether facility ``code`` lies in ``scope``: national covers all; Bio Farma
        only itself; a province its districts and their puskesmas; and so on down."""
        if scope == NATIONAL:
            return True
        if code == CAMPAIGN:
            return False
        if scope == "BIOFARMA" or code == "BIOFARMA":
            return code == scope
        node: str | None = code
        while node is not None and node != "BIOFARMA":
            if node == scope:
                return True
            try:
                node = self.facility_node(node)[0]
            except NotFound:
                return False
        return False

    def check_permission(self, name: str, caller: Caller, facility: str, context: str = "") -> None:
        """Role, facility kind and scope; raises ``Forbidden`` with the reason in words."""
        if caller.is_operator and caller.scope == NATIONAL:
            return
        permission = POLICY[name]
        if caller.role is not None and caller.role not in permission.roles:
            msg = f"Your account ({caller.role.value}) may not {permission.doing}."
            raise Forbidden(msg)
        if caller.role is not None and permission.writes and facility != CAMPAIGN:
            kind = self.facility_node(facility)[1]
            if kind not in WORKS_AT[caller.role]:
                msg = f"Your account ({caller.role.value}) does not work at a {kind.value.replace('_', ' ')}."
                raise Forbidden(msg)
        if not self.within(caller.scope, facility):
            where = context or f"this acts at {facility}"
            msg = f"Your account may {permission.doing} only at {caller.scope} and below; {where}."
            raise Forbidden(msg)

    def acting(self, name: str, caller: Caller, facility: str, context: str = "") -> Provenance:
        """The provenance of a command the caller may run at ``facility``."""
        self.check_permission(name, caller, facility, context)
        zone = self.facility_node(facility)[2] if facility != CAMPAIGN else "Asia/Jakarta"
        role = caller.role.value if caller.role else "operator"
        return Provenance(caller.username, facility, caller.device, self.occurred_at(caller), zone, role)

    def occurred_at(self, caller: Caller) -> datetime:
        """The server's clock, or the device's time when it lies inside the window."""
        now = self.clock()
        claimed = caller.occurred_at
        if claimed is None:
            return now
        if claimed.tzinfo is None:
            raise OutsideTimeWindow("A scan time needs its offset (e.g. 2021-01-14T07:10:00+07:00).")
        if claimed > now + self.future_skew:
            raise OutsideTimeWindow("The scan time is in the future: check the device's clock and time zone.")
        if caller.is_operator:  # the server's own operator replays history on its own clock (from 2020 on)
            return claimed
        if claimed < now - self.offline_window:
            hours = int(self.offline_window.total_seconds() // 3600)
            msg = (f"The scan time is more than {hours} hours ago, beyond the offline window: "
                   "record it again with today's time and say why in the note.")
            raise OutsideTimeWindow(msg)
        return claimed

    def check_role(self, caller: Caller, name: str) -> None:
        """The role alone (before looking anything up, so a refusal tells nothing of what exists)."""
        if caller.role is not None and caller.role not in POLICY[name].roles:
            raise Forbidden(f"Your account ({caller.role.value}) may not {POLICY[name].doing}.")

    def check_readable(self, caller: Caller, name: str, *facilities: str) -> None:
        """A query: allowed when any of ``facilities`` lies in the caller's scope (none: the role alone)."""
        if caller.is_operator and caller.scope == NATIONAL:
            return
        permission = POLICY[name]
        self.check_role(caller, name)
        if facilities and not any(self.within(caller.scope, code) for code in facilities):
            listed = " or ".join(sorted(set(facilities)))
            raise Forbidden(f"Your account may {permission.doing} only at {caller.scope} and below, not at {listed}.")

    def system(self, actor: str, device: str = "gateway") -> Provenance:
        """A fact the server records for an outside system (an SMS delivery report)."""
        return Provenance(actor, CAMPAIGN, device, self.clock(), "Asia/Jakarta", "system")

    def today_at(self, facility: str) -> date:
        """Today in the facility's own time zone."""
        return local_day(self.clock(), self.facility_node(facility)[2])
