"""Trials: an accepted inquiry becomes the trial record the chain names, and the pipeline of its
patients through manufacture and the hospital.

Batches and dose orders name a trial by its EU CT number or protocol code, kept as data on their
own rows (manufacturing's `trial_code`, the hospital's dose `trial_code`): the capabilities below
never import the gateway; the gateway reads them through their queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from atmpchain.accounts.domain import Actor, Permission
from atmpchain.audit.actions import AuditAction
from atmpchain.errors import Conflict, InvalidInput, NotFound
from atmpchain.gateway.domain import (
    MAX_TEXT,
    InquiryState,
    clean_text,
    parse_count,
    parse_eu_ct_number,
)
from atmpchain.gateway.models import Inquiry, Trial
from atmpchain.hospital import queries as hospital_queries
from atmpchain.manufacturing import queries as manufacturing_queries
from atmpchain.uow import UnitOfWork

TRIAL_RECORD = "trial"


def create_trial(
    uow: UnitOfWork,
    *,
    actor: Actor,
    reference: str,
    eu_ct_number: str,
    code: str,
    products: str,
    sites: str | None = None,
    planned_patients: str | int | None = None,
) -> str:
    """Set up the trial of an accepted inquiry; returns its EU CT number."""
    actor.require(Permission.MANAGE_TRIALS)
    number = parse_eu_ct_number(eu_ct_number)
    short = clean_text(code, "code", limit=40)
    if not short.isprintable():
        raise InvalidInput("code must be printable", "code")
    what = clean_text(products, "products", limit=MAX_TEXT)
    with uow:
        row = uow.session.execute(
            select(Inquiry)
            .where(Inquiry.reference == reference.strip().upper()[:30])
            .with_for_update()
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"there is no inquiry {reference.strip()[:30]}", "reference")
        if row.state is not InquiryState.ACCEPTED:
            raise InvalidInput(
                f"inquiry {row.reference} is {row.state.label}: only an accepted inquiry becomes "
                "a trial",
                "reference",
            )
        taken = uow.session.execute(
            select(Trial.eu_ct_number).where(
                or_(Trial.inquiry_id == row.id, Trial.eu_ct_number == number, Trial.code == short)
            )
        ).first()
        if taken is not None:
            raise Conflict(
                f"a trial already exists for this inquiry, EU CT number or code ({taken[0]})",
                "eu_ct_number",
            )
        patients = (
            parse_count(str(planned_patients), "planned_patients", low=1, high=10_000)
            if planned_patients not in (None, "")
            else row.patients
        )
        assert patients is not None
        trial = Trial(
            eu_ct_number=number,
            code=short,
            inquiry_id=row.id,
            sponsor=row.sponsor_name,
            protocol_title=row.title,
            products=what,
            services=row.services,
            sites=clean_text(sites, "sites", limit=MAX_TEXT, required=False) or row.sites,
            planned_patients=patients,
            created_at=uow.clock.now(),
            created_by_id=actor.user_id,
        )
        uow.session.add(trial)
        uow.session.flush()
        uow.audit.record(
            AuditAction.TRIAL_CREATED,
            actor=actor,
            record_type=TRIAL_RECORD,
            record_id=number,
            after={
                "eu_ct_number": number,
                "code": short,
                "inquiry": row.reference,
                "sponsor": trial.sponsor,
                "protocol_title": trial.protocol_title,
                "products": what,
                "services": trial.services,
                "sites": trial.sites,
                "planned_patients": patients,
            },
        )
        uow.commit()
        return number


@dataclass(frozen=True, slots=True)
class TrialPatient:
    """One trial patient and the stage they are at."""

    coi: str | None
    patient_ref: str | None
    batch: str | None
    stage: str


@dataclass(frozen=True, slots=True)
class TrialView:
    """A trial and its patients in each stage."""

    eu_ct_number: str
    code: str
    sponsor: str
    protocol_title: str
    inquiry: str
    planned_patients: int
    products: str
    services: str
    sites: str
    created_at: datetime
    patients: tuple[TrialPatient, ...]

    @property
    def by_stage(self) -> dict[str, int]:
        """How many patients are at each stage."""
        out: dict[str, int] = {}
        for p in self.patients:
            out[p.stage] = out.get(p.stage, 0) + 1
        return out


#: A patient's stage from their dose (when there is one) or their batch.
def _stage(batch_status: str | None, dose_status: str | None) -> str:
    if dose_status in ("infused",):
        return "infused"
    if dose_status in ("issued", "infusing", "thawing", "thawed", "retrieved"):
        return "at the bedside"
    if batch_status == "rejected":
        return "batch rejected"
    if batch_status in ("started", "in_process"):
        return "in manufacture"
    if batch_status == "completed":
        return "awaiting release"
    if dose_status is not None:
        return "ordered"
    return "enrolled"


def list_trials(uow: UnitOfWork) -> list[TrialView]:
    """Every trial, with the patients its batches and dose orders name."""
    with uow:
        session = uow.session
        trials = list(session.execute(select(Trial, Inquiry.reference).join(Inquiry)).all())
        codes = [c for t, _ in trials for c in (t.eu_ct_number, t.code)]
        batches = manufacturing_queries.batches_for_trials(session, codes)
        cois = [b.patient_coi for b in batches if b.patient_coi]
        doses = hospital_queries.doses_for_trials(session, codes, cois)
        out = []
        for t, reference in trials:
            mine = {t.eu_ct_number, t.code}
            by_coi: dict[str | None, TrialPatient] = {}
            dose_of = {d.coi: d for d in doses}
            for b in batches:
                if b.trial_code in mine:
                    dose = dose_of.get(b.patient_coi or "")
                    by_coi[b.patient_coi or b.number] = TrialPatient(
                        b.patient_coi,
                        dose.patient_ref if dose else None,
                        b.number,
                        _stage(b.status, dose.status if dose else None),
                    )
            for d in doses:
                if d.trial_code in mine and d.coi not in by_coi:
                    by_coi[d.coi] = TrialPatient(d.coi, d.patient_ref, None, _stage(None, d.status))
            out.append(
                TrialView(
                    t.eu_ct_number,
                    t.code,
                    t.sponsor,
                    t.protocol_title,
                    reference,
                    t.planned_patients,
                    t.products,
                    t.services,
                    t.sites,
                    t.created_at,
                    tuple(by_coi.values()),
                )
            )
        return out
