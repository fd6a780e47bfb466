"""QC samples: taken at a sampling point of the batch record, labelled with the batch's ISBT 128
identity and the sample type, and handed on (taken, received by QC, stored, used up) on record."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.errors import InvalidInput, NotFound
from atmpchain.identity.din import Din
from atmpchain.manufacturing import queries as manufacturing_queries
from atmpchain.qc.domain import check_word
from atmpchain.qc.models import Sample, SampleEvent
from atmpchain.uow import UnitOfWork

SAMPLE_RECORD = "qc_sample"

#: What can happen to a sample after it is taken (its custody events).
SAMPLE_EVENTS = ("received_by_qc", "stored", "used_up", "retained", "disposed")


@dataclass(frozen=True, slots=True)
class SampleLabel:
    """What a sample's label says: the batch's ISBT 128 identity and the sample type."""

    label: str  # the sample's own identifier, unique: batch number and sequence
    din: str | None  # the batch's donation identification number, eye-readable
    batch_number: str
    sample_type: str
    sampling_point: str

    @property
    def lines(self) -> tuple[str, ...]:
        """The label's printed lines, top to bottom."""
        first = f"DIN {self.din}" if self.din else "DIN: none (allogeneic lot)"
        return (first, f"batch {self.batch_number}", self.sample_type, self.label)


def label_of(row: Sample) -> SampleLabel:
    """A sample row's label."""
    din = Din.parse(row.din).eye_readable() if row.din else None
    return SampleLabel(row.label, din, row.batch_number, row.sample_type, row.sampling_point)


def take_sample(
    uow: UnitOfWork,
    *,
    actor: Actor,
    batch_number: str,
    step_ref: str,
    sampling_point: str,
    sample_type: str | None = None,
) -> SampleLabel:
    """Take a sample at one of the step's sampling points (as the batch's MBR version lists
    them); it is labelled and starts in the sampler's hands."""
    actor.require(Permission.TAKE_SAMPLE)
    point = check_word(sampling_point, "sampling_point", 120)
    kind = check_word(sample_type or point, "sample_type", 80)
    with uow:
        record = manufacturing_queries.batch_record(uow.session, batch_number)
        step = next((s for s in record.steps if s.definition.ref == step_ref.strip().upper()), None)
        if step is None:
            raise InvalidInput(
                f"batch {record.number} has no step {step_ref.strip()[:12]}", "step_ref"
            )
        points = step.definition.sampling
        if point not in points:
            listed = "; ".join(points) if points else "none"
            raise InvalidInput(
                f"step {step.definition.ref} has no sampling point '{point}' "
                f"(its points: {listed})",
                "sampling_point",
            )
        count = uow.session.execute(
            select(func.count()).select_from(Sample).where(Sample.batch_number == record.number)
        ).scalar_one()
        holder = f"{actor.full_name} (sampler)"
        row = Sample(
            batch_number=record.number,
            label=f"{record.number}-Q{count + 1:02d}",
            sample_type=kind,
            step_ref=step.definition.ref,
            sampling_point=point,
            din=record.starting_din,
            taken_at=uow.clock.now(),
            taken_by_id=actor.user_id,
            holder=holder,
        )
        uow.session.add(row)
        uow.session.flush()
        uow.session.add(
            SampleEvent(
                sample_id=row.id,
                seq=1,
                event="taken",
                holder=holder,
                at=row.taken_at,
                by_id=actor.user_id,
                note=None,
            )
        )
        uow.audit.record(
            AuditAction.QC_SAMPLE_TAKEN,
            actor=actor,
            record_type=SAMPLE_RECORD,
            record_id=row.label,
            after={
                "batch_number": record.number,
                "step_ref": row.step_ref,
                "sampling_point": point,
                "sample_type": kind,
                "din": row.din,
                "holder": holder,
            },
        )
        uow.commit()
        return label_of(row)


def move_sample(
    uow: UnitOfWork, *, actor: Actor, label: str, event: str, holder: str, note: str | None = None
) -> None:
    """Record a hand-on of a sample: received by QC, stored (where), used up, retained, disposed."""
    actor.require(Permission.TAKE_SAMPLE)
    what = event.strip().lower()
    if what not in SAMPLE_EVENTS:
        raise InvalidInput(
            f"'{what[:30]}' is not a sample event: {', '.join(SAMPLE_EVENTS)}", "event"
        )
    where = check_word(holder, "holder", 200)
    remark = check_word(note, "note", 2000, required=False) or None
    with uow:
        row = uow.session.execute(
            select(Sample).where(Sample.label == label.strip().upper()).with_for_update()
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"there is no sample {label.strip()[:40]}", "label")
        last = uow.session.execute(
            select(func.max(SampleEvent.seq)).where(SampleEvent.sample_id == row.id)
        ).scalar_one()
        before = row.holder
        row.holder = where
        uow.session.add(
            SampleEvent(
                sample_id=row.id,
                seq=(last or 0) + 1,
                event=what,
                holder=where,
                at=uow.clock.now(),
                by_id=actor.user_id,
                note=remark,
            )
        )
        uow.audit.record(
            AuditAction.QC_SAMPLE_MOVED,
            actor=actor,
            record_type=SAMPLE_RECORD,
            record_id=row.label,
            before={"holder": before},
            after={"holder": where, "event": what, "note": remark},
        )
        uow.commit()


def find_sample(uow: UnitOfWork, label: str, batch_number: str) -> Sample:
    """Inside an open unit of work: the batch's sample with this label."""
    row = uow.session.execute(
        select(Sample).where(Sample.label == label.strip().upper())
    ).scalar_one_or_none()
    if row is None or row.batch_number != batch_number:
        raise InvalidInput(
            f"batch {batch_number} has no sample {label.strip()[:40]}", "sample_label"
        )
    return row
