"""Demo release (issue 12, item 10): the finished demo batch goes through QC with its sterility
result pending (a day-10 "negative to date" only), the Qualified Person certifies it before all
results under the facility's written procedure, the bag is shipped and the patient's dose goes
through the hospital's dose flow to the infusion, and then the late sterility result arrives
(it fails: the product is flagged and the treating physician and QA are told, by qc).

Everything goes through the same audited services as real work, on a clock that starts twenty
hours ago and moves forward step by step, ending before now.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from atmpchain.accounts import sessions
from atmpchain.accounts.domain import Actor
from atmpchain.clock import FixedClock
from atmpchain.custody import service as custody
from atmpchain.hospital import bedside, checks, orders, preparation, receipt, ward
from atmpchain.hospital import queries as hospital_queries
from atmpchain.manufacturing import queries as batch_queries
from atmpchain.qc import results, specs
from atmpchain.qc.domain import ResultKind
from atmpchain.release import service
from atmpchain.release.domain import Decision
from atmpchain.uow import UnitOfWork

#: The demo facility's written procedure for release before all results (procedures.toml).
PROCEDURE = "SOP-QP-012 v1"
#: Results of a good academic CAR-T batch against the Hannover specification (domain file).
RESULTS = {
    "Appearance": "slightly turbid, bag intact",
    "Dose": "1.0e6",
    "CAR+ cells": "41",
    "CD3+ cells": "96",
    "Viability": "92",
    "Endotoxin": "0.5",
    "Potency": "CAR detected on 38 % of T cells",
}
#: A free slot of the demo's LN2 tank for the released bag at the hospital.
SLOT = "LN2A.R1.B2.S3"


def _login(uow: UnitOfWork, username: str, password: str) -> Actor:
    return sessions.login(uow, username=username, password=password).actor


def _log(now: datetime) -> str:
    """The dry shipper's log: -175 °C every 10 minutes for the last two hours."""
    start = (now - timedelta(hours=2)).astimezone(UTC).replace(second=0, microsecond=0)
    rows = (f"{(start + timedelta(minutes=10 * i)):%Y-%m-%dT%H:%M:%SZ},-175.0\n" for i in range(12))
    return "time,temperature\n" + "".join(rows)


def _specification(uow: UnitOfWork, password: str, code: str) -> None:
    """The Hannover specification, drafted by the process scientist and approved by QA."""
    version = specs.draft_from_published(
        uow,
        actor=_login(uow, "scientist", password),
        template_key="cd20-hannover",
        code=code,
        reason="release specification of the CD19 trial product (published academic template)",
    )
    specs.approve_specification(
        uow, actor=_login(uow, "qa", password), code=code, version=version, password=password
    )


def pass_qc(uow: UnitOfWork, password: str, number: str) -> None:
    """The results available at release entered by one analyst and reviewed by the other;
    sterility only 'negative to date' (mycoplasma and VCN follow release)."""
    analyst, reviewer = _login(uow, "qc", password), _login(uow, "qc2", password)
    for attribute, value in RESULTS.items():
        entered = results.enter_result(
            uow,
            actor=analyst,
            entry=results.ResultEntry(
                batch_number=number,
                attribute=attribute,
                value=value,
                instrument="FACS-01",
                run=f"RUN-{attribute[:3].upper()}",
            ),
        )
        results.review_result(uow, actor=reviewer, result_id=entered.id, password=password)
    results.enter_result(
        uow,
        actor=analyst,
        entry=results.ResultEntry(
            batch_number=number,
            attribute="Sterility",
            value="negative",
            instrument="BACT-01",
            run="RUN-STE-D10",
            kind=ResultKind.INTERIM,
        ),
    )


def _to_bedside(uow: UnitOfWork, clock: FixedClock, password: str, number: str) -> None:
    """Ship the released bag; the hospital receives, stores, thaws, checks, issues and infuses
    it for the patient it was made for."""
    with uow.db.read_session() as session:
        record = batch_queries.batch_record(session, number)
        trace = hospital_queries.patient_trace(session, "P-2001")
    bag = next(u for u in record.units if u.kind == "final")
    dose = next(d for d in trace.doses if d.coi == record.patient_coi)
    scan = "=+02000=" + bag.din + "00=<" + bag.product_code
    physician = _login(uow, "physician", password)
    pharmacist, second = _login(uow, "pharmacist", password), _login(uow, "pharmacist2", password)
    nurse = _login(uow, "nurse", password)
    appointment = clock.now() + timedelta(hours=12)
    orders.move_appointment(
        uow,
        actor=physician,
        dose_id=dose.dose_id,
        appointment_at=appointment,
        reason="product certified: infusion brought forward",
    )
    orders.set_expected_din(
        uow,
        actor=second,
        dose_id=dose.dose_id,
        din=scan,
        reason="the facility's release notice for batch " + number,
        password=password,
    )
    custody.transfer(
        uow,
        actor=_login(uow, "operator", password),
        unit_scan=scan,
        to_party="Hospital courier, dry shipper 2",
        second_scan="&/" + dose.coi,
    )
    clock.advance(timedelta(hours=2))
    receipt.receive_dose(
        uow,
        actor=pharmacist,
        dose_id=dose.dose_id,
        unit_scan=scan,
        batch_number=number,
        from_party="the facility's cleanroom, via the hospital courier",
        shipper_log=_log(clock.now()),
        shipper_log_name="dry-shipper-2.csv",
        condition_ok=True,
        password=password,
    )
    receipt.put_away_dose(
        uow,
        actor=pharmacist,
        dose_id=dose.dose_id,
        unit_scan=scan,
        location_scan="LOC:" + SLOT,
        password=password,
    )
    clock.current = appointment - timedelta(minutes=14)
    preparation.retrieve_dose(
        uow,
        actor=pharmacist,
        dose_id=dose.dose_id,
        unit_scan=scan,
        location_scan="LOC:" + SLOT,
        password=password,
    )
    preparation.start_thaw(
        uow, actor=pharmacist, dose_id=dose.dose_id, unit_scan=scan, password=password
    )
    clock.advance(timedelta(minutes=5))
    preparation.end_thaw(uow, actor=pharmacist, dose_id=dose.dose_id, password=password)
    with uow.db.read_session() as session:
        missing = hospital_queries.dose_record(session, dose.dose_id).checks_missing
    for check in missing:
        checks.confirm_check(
            uow, actor=pharmacist, dose_id=dose.dose_id, check=check.number, password=password
        )
    preparation.issue_dose(
        uow,
        actor=pharmacist,
        dose_id=dose.dose_id,
        unit_scan=scan,
        second_scan="&/" + dose.coi,
        to_username="nurse",
        password=password,
    )
    ward.confirm_receipt_at_ward(
        uow, actor=nurse, dose_id=dose.dose_id, bag_scan=scan, password=password
    )
    bedside.start_infusion(
        uow, actor=nurse, password=password, wristband_scan="&/" + dose.coi, bag_scan=scan
    )


def demo_release(uow: UnitOfWork, password: str, number: str, code: str) -> None:
    """QC with sterility pending, certification before all results, the infusion, and then the
    late sterility result, for the finished demo batch `number` (of MBR `code`)."""
    clock = FixedClock(uow.clock.now() - timedelta(hours=20))
    past = UnitOfWork(uow.db, clock, channel=uow.channel, settings=uow.settings)
    _specification(past, password, code)
    pass_qc(past, password, number)
    clock.advance(timedelta(hours=1))
    service.decide(
        past,
        actor=_login(past, "qp", password),
        batch_number=number,
        decision=Decision.CERTIFIED_BEFORE_ALL_RESULTS,
        password=password,
        procedure=PROCEDURE,
        comment="day-10 sterility negative to date; mycoplasma and VCN to follow",
    )
    _to_bedside(past, clock, password, number)
    clock.advance(timedelta(hours=4))
    results.enter_result(
        past,
        actor=_login(past, "qc", password),
        entry=results.ResultEntry(
            batch_number=number,
            attribute="Sterility",
            value="growth: Staphylococcus epidermidis",
            instrument="BACT-01",
            run="RUN-STE-D14",
        ),
    )
