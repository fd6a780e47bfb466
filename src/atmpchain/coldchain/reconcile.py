"""Reconcile the cold chain's GMP tables with the audit trail: name every row whose content no
longer matches what was recorded (issue 9 #17).

`audit verify` proves that the audit trail itself is whole; it cannot see a reading rewritten
or an alarm deleted in the tables the trail describes. Triggers refuse such changes
(0012_coldchain_integrity), but whoever can drop a trigger can also make them. This walk
compares each row with the values (or digests) its audit records hold:

- each ingest batch with its `coldchain:readings:ingested` record: its counts, and its readings
  against the block digests recorded for them (a rewritten, added or removed reading is named,
  or placed within its block for a batch of more than `digests.MAX_BLOCKS` readings);
- each excursion with its latest `coldchain:excursion:*` record (every column, and the product
  units attached);
- each alarm with the digest recorded when it was raised;
- each sensor's detector state with the digest recorded by the last batch, silence check or
  registration that left it;
- each dead letter with its `coldchain:dead-letter:set-aside` record.

Audit records written before 0012 hold fewer values; what they hold is compared. Run it when the
ingest is quiet (or run it twice): a row changed by a batch committing during the walk can be
read before its audit record.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from atmpchain.audit.actions import AuditAction
from atmpchain.audit.domain import canonical_json
from atmpchain.audit.queries import AuditEntry, AuditFilter, iter_entries
from atmpchain.coldchain.digests import ReadingsDigest, batch_tail, reading_row
from atmpchain.coldchain.integrity import (
    alarm_digest,
    batch_values,
    dead_letter_values,
    dead_letters_digest,
    excursion_values,
    ids_of,
    state_digest,
)
from atmpchain.coldchain.models import (
    ColdChainAlarm,
    DeadLetter,
    Excursion,
    ExcursionProduct,
    IngestBatch,
    Sensor,
    SensorState,
    TemperatureReading,
)
from atmpchain.custody.models import StorageUnit
from atmpchain.db import Database
from atmpchain.identity.integrity import recorded_purpose, row_values
from atmpchain.identity.models import IssuedDin

#: Batches whose readings are read in one query (fewer round trips, bounded memory).
_BATCHES_PER_QUERY = 200
_EXCURSION_ACTIONS = (
    AuditAction.EXCURSION_STARTED,
    AuditAction.EXCURSION_ENDED,
    AuditAction.EXCURSION_REVISED,
    AuditAction.EXCURSION_UPDATED,
)


@dataclass(frozen=True, slots=True)
class Finding:
    """A row that does not match the audit trail: which, and how."""

    table: str
    row: str
    problem: str

    def __str__(self) -> str:
        return f"{self.table} {self.row}: {self.problem}"


@dataclass
class ReconcileReport:
    """How many rows of each table were compared, and every mismatch found."""

    checked: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, table: str, row: str, problem: str) -> None:
        self.findings.append(Finding(table, row, problem))

    def count(self, table: str, n: int = 1) -> None:
        self.checked[table] = self.checked.get(table, 0) + n


def reconcile(db: Database) -> ReconcileReport:
    """Compare the cold chain's tables with the audit trail; see the module's docstring."""
    report = ReconcileReport()
    alarms: dict[int, tuple[str | None, int]] = {}
    states: dict[str, tuple[int, str]] = {}
    with db.read_session() as trail, db.read_session() as tables:
        _batches(trail, tables, report, alarms, states)
        _silences_and_sensors(trail, alarms, states)
        _excursions(trail, tables, report)
        _alarms(tables, report, alarms)
        _states(tables, report, states)
        _dead_letters(trail, tables, report)
        _issued_dins(trail, tables, report)
    return report


def _entries(session: Session, action: AuditAction) -> Iterator[AuditEntry]:
    return iter_entries(session, AuditFilter(action=action.value))


def _id(entry: AuditEntry) -> int | None:
    try:
        return int(entry.record_id)
    except ValueError:
        return None


def _at(entry: AuditEntry) -> str:
    return f"(audit record {entry.seq})"


# --- ingest batches and their readings ---------------------------------------------------------


def _batches(
    trail: Session,
    tables: Session,
    report: ReconcileReport,
    alarms: dict[int, tuple[str | None, int]],
    states: dict[str, tuple[int, str]],
) -> None:
    audited = 0
    chunk: list[AuditEntry] = []
    for entry in _entries(trail, AuditAction.READINGS_INGESTED):
        after = entry.after or {}
        audited += 1
        for alarm in after.get("alarms", []):
            alarms[int(alarm["id"])] = (alarm.get("sha256"), entry.seq)
        for code, digest in after.get("sensor_states", {}).items():
            states[code] = (entry.seq, digest)
        chunk.append(entry)
        if len(chunk) >= _BATCHES_PER_QUERY:
            _batch_chunk(tables, report, chunk)
            chunk = []
    if chunk:
        _batch_chunk(tables, report, chunk)
    total = int(tables.execute(select(func.count()).select_from(IngestBatch)).scalar_one())
    report.count("ingest_batch", total)
    if total != audited:
        # Only then look for which: the audited ids are streamed again into a bitmap.
        seen = bytearray()
        for entry in _entries(trail, AuditAction.READINGS_INGESTED):
            number = _id(entry)
            if number is not None and number >= 0:
                if number // 8 >= len(seen):
                    seen.extend(bytes(number // 8 + 1 - len(seen)))
                seen[number // 8] |= 1 << (number % 8)
        for (number,) in tables.execute(select(IngestBatch.id).order_by(IngestBatch.id)):
            if number // 8 >= len(seen) or not seen[number // 8] & (1 << (number % 8)):
                report.add("ingest_batch", f"#{number}", "has no audit record")


def _batch_chunk(tables: Session, report: ReconcileReport, chunk: list[AuditEntry]) -> None:
    ids = [i for i in (_id(e) for e in chunk) if i is not None]
    batches = {
        b.id: b
        for b in tables.execute(select(IngestBatch).where(IngestBatch.id.in_(ids))).scalars()
    }
    r = TemperatureReading
    rows: dict[int, list[tuple[Any, ...]]] = {i: [] for i in ids}
    for row in tables.execute(
        select(
            r.ingest_batch_id,
            r.id,
            r.reading_key,
            r.sensor_id,
            r.taken_at,
            r.temperature,
            r.sequence,
            r.source,
            r.received_at,
        ).where(r.ingest_batch_id.in_(ids))
    ):
        rows[row[0]].append(tuple(row[1:]))
    for entry in chunk:
        number = _id(entry)
        batch = batches.get(number) if number is not None else None
        if batch is None:
            report.add("ingest_batch", f"#{entry.record_id}", f"is missing {_at(entry)}")
            continue
        assert number is not None
        after = entry.after or {}
        _compare(report, "ingest_batch", f"#{number}", batch_values(batch), after, entry)
        _readings(report, batch, rows[number], after, entry)


def _readings(
    report: ReconcileReport,
    batch: IngestBatch,
    rows: list[tuple[Any, ...]],
    after: Mapping[str, Any],
    entry: AuditEntry,
) -> None:
    report.count("temperature_reading", len(rows))
    where = f"of ingest batch #{batch.id}"
    recorded = after.get("readings_sha256")
    if recorded is None:  # recorded before 0012: the count is all there is to compare
        if len(rows) != after.get("stored"):
            report.add(
                "temperature_reading",
                where,
                f"{len(rows)} readings stored, {after.get('stored')} recorded {_at(entry)}",
            )
        return
    texts = sorted(
        (key, reading_id, reading_row(key, sensor, at, value, seq, batch_tail(src.value, got)))
        for reading_id, key, sensor, at, value, seq, src, got in rows
    )
    try:
        expected = ReadingsDigest.from_json(recorded)
    except ValueError as exc:
        report.add("temperature_reading", where, f"unreadable digest {_at(entry)}: {exc}")
        return
    found = ReadingsDigest.of([(key, text) for key, _, text in texts])
    if found.count != expected.count:
        report.add(
            "temperature_reading",
            where,
            f"{found.count} readings stored, {expected.count} recorded {_at(entry)}: readings "
            "were added or removed",
        )
        return
    for block in expected.mismatches(found):
        named = texts[block.first : block.first + block.count]
        if len(named) == 1:
            key, reading_id, _ = named[0]
            report.add(
                "temperature_reading",
                f"#{reading_id} {key}",
                f"no longer matches what batch #{batch.id} stored {_at(entry)}",
            )
        else:
            report.add(
                "temperature_reading",
                f"{named[0][0]} to {named[-1][0]} (ids {', '.join(str(n[1]) for n in named)})",
                f"one or more of these {len(named)} readings {where} no longer match what was "
                f"stored {_at(entry)}",
            )


# --- excursions -------------------------------------------------------------------------------


def _excursions(trail: Session, tables: Session, report: ReconcileReport) -> None:
    latest: dict[int, AuditEntry] = {}
    for action in _EXCURSION_ACTIONS:
        for entry in _entries(trail, action):
            number = _id(entry)
            if number is not None and (number not in latest or latest[number].seq < entry.seq):
                latest[number] = entry
    products: dict[int, list[int]] = {}
    for excursion_id, unit_id in tables.execute(
        select(ExcursionProduct.excursion_id, ExcursionProduct.product_unit_id)
    ):
        products.setdefault(excursion_id, []).append(unit_id)
    rows = tables.execute(
        select(Excursion, Sensor.code, StorageUnit.code)
        .join(Sensor, Sensor.id == Excursion.sensor_id)
        .join(StorageUnit, StorageUnit.id == Excursion.storage_unit_id)
        .order_by(Excursion.id)
    )
    seen: set[int] = set()
    for row, sensor, unit in rows:
        seen.add(row.id)
        last = latest.get(row.id)
        if last is not None:
            values = excursion_values(row, sensor, unit, products.get(row.id, []))
            _compare(report, "excursion", f"#{row.id}", values, last.after or {}, last)
    _present_and_recorded(report, "excursion", seen, {n: e.seq for n, e in latest.items()})


# --- alarms and sensor states -------------------------------------------------------------------


def _silences_and_sensors(
    trail: Session,
    alarms: dict[int, tuple[str | None, int]],
    states: dict[str, tuple[int, str]],
) -> None:
    for entry in _entries(trail, AuditAction.SENSOR_SILENT):
        after = entry.after or {}
        if "alarm_id" in after:
            alarms[int(after["alarm_id"])] = (after.get("alarm_sha256"), entry.seq)
        if "state_sha256" in after and after.get("sensor"):
            _latest_state(states, str(after["sensor"]), entry.seq, after["state_sha256"])
    for entry in _entries(trail, AuditAction.SENSOR_REGISTERED):
        after = entry.after or {}
        if "state_sha256" in after and after.get("code"):
            _latest_state(states, str(after["code"]), entry.seq, after["state_sha256"])


def _latest_state(states: dict[str, tuple[int, str]], code: str, seq: int, digest: str) -> None:
    if code not in states or states[code][0] < seq:
        states[code] = (seq, digest)


def _alarms(
    tables: Session, report: ReconcileReport, alarms: dict[int, tuple[str | None, int]]
) -> None:
    seen: set[int] = set()
    for row in tables.execute(select(ColdChainAlarm).order_by(ColdChainAlarm.id)).scalars():
        seen.add(row.id)
        digest, seq = alarms.get(row.id, (None, 0))
        if digest is not None and digest != alarm_digest(row):
            report.add(
                "coldchain_alarm",
                f"#{row.id}",
                f"no longer matches the alarm raised (audit record {seq})",
            )
    _present_and_recorded(report, "coldchain_alarm", seen, {n: a[1] for n, a in alarms.items()})


def _states(tables: Session, report: ReconcileReport, states: dict[str, tuple[int, str]]) -> None:
    for row, code in tables.execute(
        select(SensorState, Sensor.code)
        .join(Sensor, Sensor.id == SensorState.sensor_id)
        .order_by(Sensor.code)
    ):
        report.count("sensor_state")
        recorded = states.get(code)
        # A sensor registered before 0012 with no batch since has nothing recorded to compare.
        if recorded is not None and recorded[1] != state_digest(row):
            report.add(
                "sensor_state",
                f"of sensor {code}",
                f"no longer matches what was recorded (audit record {recorded[0]})",
            )


# --- dead letters -------------------------------------------------------------------------------


def _dead_letters(trail: Session, tables: Session, report: ReconcileReport) -> None:
    # Before the review of issue 9 each dead letter had its own record with its values; since,
    # the letters kept together share one record with their ids and a digest of their rows.
    recorded = {
        number: entry
        for entry in _entries(trail, AuditAction.DEAD_LETTER_SET_ASIDE)
        if (number := _id(entry)) is not None
    }
    grouped = list(_entries(trail, AuditAction.DEAD_LETTERS_SET_ASIDE))
    in_group: dict[int, AuditEntry] = {}
    for group in grouped:
        for number in ids_of((group.after or {}).get("ids", [])):
            in_group[number] = group
    seen: dict[int, DeadLetter] = {}
    for row in tables.execute(select(DeadLetter).order_by(DeadLetter.id)).scalars():
        seen[row.id] = row
        entry = recorded.get(row.id)
        if entry is not None:
            values = dead_letter_values(row)
            _compare(
                report, "telemetry_dead_letter", f"#{row.id}", values, entry.after or {}, entry
            )
    for group in grouped:
        _dead_letter_group(report, group, seen)
    _present_and_recorded(
        report,
        "telemetry_dead_letter",
        set(seen),
        {n: e.seq for n, e in recorded.items()} | {n: e.seq for n, e in in_group.items()},
    )


def _issued_dins(trail: Session, tables: Session, report: ReconcileReport) -> None:
    """Each DIN issued here against its `identity:din:issued` record (every column, or what an
    older record holds); a DIN issued with no record, or recorded and gone, is named."""
    table = "issued_din"
    recorded = {entry.record_id: entry for entry in _entries(trail, AuditAction.DIN_ISSUED)}
    seen: set[str] = set()
    for row in tables.execute(select(IssuedDin).order_by(IssuedDin.din)).scalars():
        seen.add(row.din)
        entry = recorded.get(row.din)
        if entry is None:
            continue
        after = dict(entry.after or {})
        if "purpose" in after:
            after["purpose"] = recorded_purpose(after)
        if "issued_by_id" not in after:  # an older record: who issued it is the record's actor
            after["issued_by_id"] = entry.actor_id
        now = row_values(
            row.din,
            row.fin,
            row.year,
            row.sequence,
            row.issued_at,
            row.issued_by_id,
            row.purpose,
        )
        _compare(report, table, row.din, now, after, entry)
    report.count(table, len(seen))
    for din in sorted(seen - set(recorded)):
        report.add(table, din, "has no audit record")
    for din in sorted(set(recorded) - seen):
        report.add(table, din, f"is missing (audit record {recorded[din].seq})")


def _dead_letter_group(
    report: ReconcileReport, entry: AuditEntry, rows: Mapping[int, DeadLetter]
) -> None:
    """Name the dead letters of one aggregated record whose values changed (by digest block)."""
    after = entry.after or {}
    try:
        wanted = ReadingsDigest.from_json(after.get("rows") or {})
    except ValueError:
        report.add("telemetry_dead_letter", f"record {entry.record_id}", f"unreadable {_at(entry)}")
        return
    numbers = ids_of(after.get("ids", []))
    present = [rows[n] for n in numbers if n in rows]
    if len(present) != len(numbers):
        return  # the missing ones are named by _present_and_recorded
    for block in wanted.mismatches(dead_letters_digest(present)):
        first = numbers[block.first]
        last = numbers[block.first + block.count - 1]
        which = f"#{first}" if first == last else f"#{first} to #{last}"
        report.add(
            "telemetry_dead_letter",
            which,
            f"no longer matches what was recorded {_at(entry)}",
        )


def _present_and_recorded(
    report: ReconcileReport, table: str, present: set[int], recorded: Mapping[int, int]
) -> None:
    """Count the rows present, and name those with no audit record and the recorded ones
    (id to audit record) that are gone."""
    report.count(table, len(present))
    for number in sorted(present - set(recorded)):
        report.add(table, f"#{number}", "has no audit record")
    for number in sorted(set(recorded) - present):
        report.add(table, f"#{number}", f"is missing (audit record {recorded[number]})")


def _compare(
    report: ReconcileReport,
    table: str,
    row: str,
    now: Mapping[str, Any],
    after: Mapping[str, Any],
    entry: AuditEntry,
) -> None:
    """Name each value of `now` that differs from the one recorded (values the record does not
    hold are not compared)."""
    for name in sorted(set(now) & set(after)):
        # Both sides as canonical JSON text: times and decimals compare as they were recorded.
        mine = canonical_json(now[name])
        theirs = canonical_json(after[name])
        if mine != theirs:
            report.add(table, row, f"{name} is {mine}, recorded {theirs} {_at(entry)}")
