"""An aggregate's history, for auditors: every event with its provenance, and its state as of any moment.

``resolve`` turns what an auditor types (``shipment SSCC``, ``lot GTIN LOT``,
``stock FACILITY``, ``recipient ID``, ``session FACILITY DAY``, ``blast ID``,
``user USERNAME``) into the aggregate's id and the facilities that decide who
may look (an auditor scoped to DKI sees DKI's). ``History`` reads the
aggregate's stored events with their log positions and answers, per event,
who did it in which role, where, from which device, when it happened and
when it was recorded, the idempotency key of the command that wrote it, and
the corrections that refer to it.

Three kinds of "as of":

- *a version*: the library's own reconstruction (from the nearest snapshot);
- *a recorded time*: what the system knew then (the events recorded by then,
  which are a prefix in version order);
- *an occurred time*: what had happened by then, including scans that
  reached the server later. The library replays in version order only, so
  this is a fold of its own: the creating event first, then every event that
  occurred by then, ordered by occurred time (ties by version).

Personal data (NIK, name, phone, tickets) is masked unless the caller's role
may see it; password hashes are never shown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from application.access import POLICY, Caller
from application.errors import NotFound
from application.people import mask_name, mask_nik, mask_phone
from domain.blast import Blast
from domain.errors import OutOfBounds
from domain.idempotency import HandledCommand
from domain.recipient import Recipient
from domain.session import VaccinationSession

# KIND -> the names of its ID parts, as the command line and the API take them
KINDS: dict[str, tuple[str, ...]] = {
    "shipment": ("SSCC",),
    "lot": ("GTIN", "LOT"),
    "stock": ("FACILITY",),
    "recipient": ("RECIPIENT_ID",),
    "session": ("FACILITY", "DAY"),
    "blast": ("ID",),
    "user": ("USERNAME",),
}
PERMISSION = "read_history"
HIDDEN = "(hidden)"
KEY_WINDOW = 64  # log positions after an event in which its command's idempotency record is looked for
STANDARD = frozenset({"originator_id", "originator_version", "timestamp", "originator_topic", "by"})
MASKS: dict[str, Callable[[str], str]] = {
    "nik": mask_nik, "name": mask_name, "phone": mask_phone,
    "ticket": lambda t: t[:2] + "*" * max(len(t) - 2, 0), "next_ticket": lambda t: t[:2] + "*" * max(len(t) - 2, 0),
}
NEVER_SHOWN = frozenset({"password_hash"})
HANDLED_TOPIC = get_topic(HandledCommand.Handled)


class UnknownKind(OutOfBounds):
    """A history of something Rantai does not keep (or named with the wrong number of parts): malformed input."""


@dataclass(frozen=True)
class Subject:
    """What a history is of: the kind and key an auditor named, the aggregate, and where it lives."""

    kind: str
    key: tuple[str, ...]
    aggregate_id: UUID
    facilities: tuple[str, ...]  # the caller's scope must cover one of them (none: the role alone)
    personal: bool  # its events carry personal data

    @property
    def label(self) -> str:
        return f"{self.kind} {' '.join(self.key)}"


def resolve(app: Any, kind: str, key: list[str] | tuple[str, ...]) -> Subject:
    """``KIND ID...`` -> the aggregate, loaded once to check it exists and to find where it lives."""
    parts = KINDS.get(kind)
    if parts is None:
        raise UnknownKind(f"There is no history of a {kind!r}: choose one of {', '.join(KINDS)}.")
    if len(key) != len(parts):
        raise UnknownKind(f"A {kind} is named by {' '.join(parts)}.")
    key = tuple(part.strip() for part in key)
    if kind == "shipment":
        found = app.get_shipment(key[0])
        return Subject(kind, (found.sscc,), found.id, (found.origin, found.destination), False)
    if kind == "lot":
        lot = app.get_lot(*key)
        return Subject(kind, (lot.gtin, lot.lot_number), lot.id, (), False)  # lots are national (as the trace)
    if kind == "stock":
        ledger = app.get_stock(key[0])
        return Subject(kind, key, ledger.id, (key[0],), False)
    if kind == "recipient":
        person = app.get_recipient(_uuid(key[0], "recipient id"))
        places = (person.district, person.facility) if person.facility else (person.district,)
        return Subject(kind, (person.id.hex,), person.id, places, True)
    if kind == "session":
        try:
            day = date.fromisoformat(key[1])
        except ValueError:
            raise UnknownKind("A session's day is written YYYY-MM-DD (e.g. 2021-01-14).") from None
        session = app.load(VaccinationSession, VaccinationSession.id_for(key[0], day), NotFound,
                           f"No vaccination session at {key[0]} on {day}.")
        return Subject(kind, (key[0], day.isoformat()), session.id, (key[0],), False)
    if kind == "blast":
        blast = app.load(Blast, _uuid(key[0], "blast id"), NotFound, "No SMS blast has that id.")
        return Subject(kind, (blast.id.hex,), blast.id, tuple(blast.districts), False)
    user = app.get_user(key[0])
    return Subject(kind, (user.username,), user.id, (user.scope,), False)


def _uuid(text: str, what: str) -> UUID:
    try:
        return UUID(hex=text)
    except ValueError:
        raise NotFound(f"That is not a {what} (32 hexadecimal digits).") from None


def plain(value: Any) -> Any:
    """A value of an event or an aggregate as JSON: ids as hex, times as ISO text, enums as values."""
    if isinstance(value, UUID):
        return value.hex
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        return plain(asdict(value))
    if isinstance(value, dict):
        return {str(plain(k)): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(plain(v) for v in value)
    return value


def shown(values: dict[str, Any], masked: bool) -> dict[str, Any]:
    """``values`` as the caller may see them: personal data masked, secrets never."""
    out = {}
    for name, value in values.items():
        if name in NEVER_SHOWN:
            out[name] = HIDDEN
        elif masked and name in MASKS and isinstance(value, str) and value:
            out[name] = MASKS[name](value)
        else:
            out[name] = plain(value)
    return out


@dataclass
class Entry:
    """One event of a history, with everything an auditor asks about it."""

    position: int  # the log position (notification id)
    version: int
    event: str  # e.g. Shipment.Dispatched
    recorded_at: datetime
    occurred_at: datetime | None
    actor: str
    role: str
    facility: str
    device: str
    zone: str
    data: dict[str, Any]
    idempotency_key: str | None = None
    command: str | None = None
    corrects: int | None = None  # the version this event corrects
    corrected_by: list[int] = field(default_factory=list)  # later versions that correct this one

    def as_json(self, subject: Subject) -> dict[str, Any]:
        return {"kind": subject.kind, "id": " ".join(subject.key), "aggregate_id": subject.aggregate_id.hex,
                **plain({k: v for k, v in vars(self).items() if k != "data"}), "data": self.data}


def may_see_personal_data(caller: Caller) -> bool:
    """The operator (the command line, unmasked on request) and roles allowed personal data."""
    return caller.is_operator or caller.role in POLICY["read_recipient"].roles


class History:
    """Reads one aggregate's events from the log and answers its history and past states."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def check(self, caller: Caller, subject: Subject) -> None:
        """The auditor (or admin) whose scope covers where the aggregate lives."""
        self.app.check_readable(caller, PERMISSION, *subject.facilities)

    def events(self, subject: Subject) -> Iterator[tuple[int, Any]]:
        """(log position, event) of every stored event of the aggregate, in version order."""
        recorder: Any = self.app.recorder
        position = "notification_id" if type(recorder).__module__ == "eventsourcing.postgres" else "rowid"
        rows = self.app._select_by_ids(f"originator_id, originator_version, topic, state, {position}",
                                       [subject.aggregate_id])
        for row in rows:
            stored = StoredEvent(row[0], row[1], row[2], bytes(row[3]))
            yield int(row[4]), self.app.mapper.to_domain_event(stored)

    def entries(self, subject: Subject, masked: bool = True) -> list[Entry]:
        found = []
        for position, event in self.events(subject):
            by = getattr(event, "by", None)
            values = {k: v for k, v in vars(event).items() if k not in STANDARD}
            corrects = values.get("corrects")
            found.append(Entry(
                position=position, version=event.originator_version, event=type(event).__qualname__,
                recorded_at=event.timestamp, occurred_at=by.occurred_at if by else None,
                actor=by.actor if by else "", role=by.role if by else "", facility=by.facility if by else "",
                device=by.device if by else "", zone=by.zone if by else "",
                data=shown(values, masked and subject.personal),
                corrects=corrects if isinstance(corrects, int) and corrects > 0 else None,
            ))
            if by is not None:
                found[-1].idempotency_key, found[-1].command = self.command_key(position, by)
        by_version = {entry.version: entry for entry in found}
        for entry in found:
            if entry.corrects in by_version:
                by_version[entry.corrects].corrected_by.append(entry.version)
        return found

    def command_key(self, position: int, by: Any) -> tuple[str | None, str | None]:
        """The idempotency key the command that wrote the event at ``position`` came with, if any.

        The command's ``HandledCommand`` is saved in the same write, after its
        aggregates, with the very same provenance: look a short way ahead."""
        records = self.app.recorder.select_notifications(position + 1, 8, stop=position + KEY_WINDOW,
                                                         topics=(HANDLED_TOPIC,))
        for record in records:
            handled = self.app.mapper.to_domain_event(record)
            if handled.by == by:
                return handled.key, handled.command
        return None, None

    # as of

    def as_of_version(self, subject: Subject, version: int) -> Any:
        """The library's reconstruction at ``version`` (from the nearest snapshot)."""
        if version < 1:
            raise NotFound("Versions start at 1.")
        aggregate = self.app.repository.get(subject.aggregate_id, version=version, projector_func=mutated)
        if aggregate.version != version:  # the library answers the latest when asked beyond it
            raise NotFound(f"The {subject.label} has no version {version} (it is at version {aggregate.version}).")
        return aggregate

    def as_of_recorded(self, subject: Subject, moment: datetime) -> Any | None:
        """What the system knew at ``moment``: the events recorded by then (None: not yet known)."""
        aggregate = None
        for _, event in self.events(subject):
            if event.timestamp > moment:
                break
            aggregate = event.mutate(aggregate)
        return aggregate

    def as_of_occurred(self, subject: Subject, moment: datetime) -> Any | None:
        """What had happened by ``moment``, scans that reached the server later included.

        The creating event comes first (the aggregate's birth), then every
        event that occurred by ``moment`` in the order it occurred; the version
        counts the events applied. None: nothing had happened by then."""
        events = [event for _, event in self.events(subject)]
        if not events or _occurred(events[0]) > moment:
            return None
        aggregate = events[0].mutate(None)
        later = sorted((e for e in events[1:] if _occurred(e) <= moment), key=lambda e: (_occurred(e), e.originator_version))
        for event in later:
            event.apply(aggregate)
            aggregate.version += 1
            aggregate.modified_on = event.timestamp
        return aggregate


def mutated(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's ``project_aggregate`` without its per-event ``isinstance`` check against a
    runtime protocol (a quarter of the time of a reconstruction from a snapshot)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def _occurred(event: Any) -> datetime:
    by = getattr(event, "by", None)
    return by.occurred_at if by else event.timestamp


def state_of(aggregate: Any, masked: bool) -> dict[str, Any]:
    """An aggregate's state as JSON: id, version, when created and last changed, then its attributes."""
    attributes = {k: v for k, v in vars(aggregate).items() if not k.startswith("_")}
    personal = isinstance(aggregate, Recipient)
    return {"id": aggregate.id.hex, "version": aggregate.version, "created_on": aggregate.created_on.isoformat(),
            "modified_on": aggregate.modified_on.isoformat(), **shown(attributes, masked and personal)}
