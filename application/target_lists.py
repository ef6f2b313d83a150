"""Importing target lists: validate every row, deduplicate by NIK, write in batches.

The work splits in two: *preparing* a batch (validating NIK and phone,
keying by HMAC, building the ``Recipient.Targeted`` events and encoding and
encrypting them) needs no database, and *writing* it (checking which NIKs are
already stored, inserting the rest in one transaction) does. With
``workers=1`` preparation runs in another process while this one writes, so a
large list uses both cores; at most a few batches are in flight, so memory
stays flat whatever the file's size.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from multiprocessing import get_context
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from application.handling import CommandHandling
from application.people import InvalidPersonalData, parse_nik, parse_phone, recipient_id_for
from application.access import CAMPAIGN, Caller
from domain.bounds import NAME_TEXT, clean_text
from domain.errors import OutOfBounds
from domain.provenance import Provenance
from domain.recipient import Category, Recipient

TARGET_COLUMNS = ("nik", "name", "phone", "category", "district", "workplace")
CATEGORIES = {c.value: c for c in Category}
IN_FLIGHT = 3  # batches prepared ahead of the writer


@dataclass(frozen=True)
class Regions:
    """The kecamatan (``327301``, as in a NIK) and districts (``32.73``) the campaign knows."""

    kecamatan: frozenset[str]
    districts: frozenset[str]

    @classmethod
    def of(cls, kecamatan: Iterable[str]) -> Regions:
        codes = frozenset(k.replace(".", "") for k in kecamatan)
        return cls(codes, frozenset(f"{k[:2]}.{k[2:4]}" for k in codes))

    def has_district(self, code: str) -> bool:
        return code in self.districts


@dataclass
class PreparedBatch:
    """A batch ready to write: one encoded event per new NIK, and what was refused."""

    last_line: int
    lines: dict[UUID, int] = field(default_factory=dict)
    stored: list[StoredEvent] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class ImportBatch:
    """What one written batch did."""

    last_line: int
    imported: int = 0
    already_listed: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


class TargetLists(CommandHandling):
    regions: Regions | None = None  # set by the wiring; None accepts any region

    @property
    def nik_secret(self) -> bytes:
        secret = self.env.get("NIK_HMAC_SECRET")
        if not secret:
            msg = "NIK_HMAC_SECRET is not set: run 'rantai db init' or set RANTAI_NIK_SECRET."
            raise RuntimeError(msg)
        return secret.encode()

    def recipient_id(self, nik: str) -> UUID:
        return recipient_id_for(self.nik_secret, nik)

    def parse_nik(self, value: str) -> str:
        return parse_nik(value, self.regions.kecamatan if self.regions else None)

    def parse_target(self, row: dict[str, str]) -> dict[str, Any]:
        nik = self.parse_nik(row.get("nik", ""))
        try:
            name = clean_text(row.get("name") or "", "Name", NAME_TEXT)
        except OutOfBounds:
            raise InvalidPersonalData(f"Name has more than {NAME_TEXT} characters.") from None
        if not name:
            raise InvalidPersonalData("Name is empty.")
        category = CATEGORIES.get((row.get("category") or "").strip().lower().replace(" ", "_"))
        if category is None:
            raise InvalidPersonalData("Category must be 'nakes' or 'tenaga_penunjang'.")
        district = (row.get("district") or "").strip()
        if self.regions is not None and not self.regions.has_district(district):
            raise InvalidPersonalData("District is not a known kabupaten/kota code.")
        phone = (row.get("phone") or "").strip()
        return {  # no phone is allowed: such targets go straight to the field-visit worklist
            "nik": nik, "name": name, "phone": parse_phone(phone) if phone else "",
            "category": category, "district": district,
            "workplace": (row.get("workplace") or "").strip()[:20],
        }

    def prepare_targets(
        self, rows: list[tuple[int, dict[str, str]]], phase: int, source: str, by: Provenance
    ) -> PreparedBatch:
        batch = PreparedBatch(rows[-1][0] if rows else 0)
        for line, row in rows:
            try:
                target = self.parse_target(row)
            except InvalidPersonalData as error:
                batch.rejected.append((line, error.message))
                continue
            recipient_id = self.recipient_id(target["nik"])
            if recipient_id in batch.lines:
                batch.rejected.append((line, f"NIK appears earlier in this file (line {batch.lines[recipient_id]})."))
                continue
            batch.lines[recipient_id] = line
            recipient = Recipient.target(recipient_id, phase=phase, source=source, by=by, **target)
            batch.stored.extend(self.mapper.to_stored_event(e) for e in recipient.collect_events())
        return batch

    def write_targets(self, prepared: PreparedBatch) -> ImportBatch:
        existing = self.existing_ids(list(prepared.lines))
        result = ImportBatch(prepared.last_line, rejected=prepared.rejected)
        fresh = [s for s in prepared.stored if s.originator_id not in existing]
        for recipient_id in existing:
            result.rejected.append((prepared.lines[recipient_id], "NIK is already on the target list; row skipped."))
        if fresh:
            self.recorder.insert_events(fresh)
        result.imported, result.already_listed = len(fresh), len(existing)
        result.rejected.sort()
        return result

    def import_targets(
        self, rows: Iterable[tuple[int, dict[str, str]]], phase: int, source: str, caller: Caller,
        batch_size: int = 1000, workers: int = 0,
    ) -> Iterator[ImportBatch]:
        """Validate, deduplicate by NIK and write in batches; yields each batch's tally.
        Importing the same list again writes nothing."""
        by = self.acting("import_targets", caller, CAMPAIGN)
        rows = iter(rows)
        chunks = iter(lambda: list(islice(rows, batch_size)), [])
        if workers <= 0:
            for chunk in chunks:
                yield self.write_targets(self.prepare_targets(chunk, phase, source, by))
            return
        environment = {**self.env, "PERSISTENCE_MODULE": "eventsourcing.popo"}
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_start_worker,
                                 initargs=(type(self), environment, self.regions)) as pool:
            in_flight: deque[Future[PreparedBatch]] = deque()
            for chunk in chunks:
                in_flight.append(pool.submit(_prepare, chunk, phase, source, by))
                if len(in_flight) > IN_FLIGHT:
                    yield self.write_targets(in_flight.popleft().result())
            while in_flight:
                yield self.write_targets(in_flight.popleft().result())


_worker: TargetLists | None = None


def _start_worker(cls: type[TargetLists], env: dict[str, str], regions: Regions | None) -> None:
    """A preparing process: the same application class and keys, no database."""
    global _worker  # noqa: PLW0603 - one application per worker process
    _worker = cls(env)
    _worker.regions = regions


def _prepare(rows: list[tuple[int, dict[str, str]]], phase: int, source: str, by: Provenance) -> PreparedBatch:
    assert _worker is not None  # noqa: S101 - set by the initializer
    return _worker.prepare_targets(rows, phase, source, by)
