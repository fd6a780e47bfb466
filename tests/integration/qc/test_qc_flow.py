"""Specifications, results, review, OOS investigations and late results (issue 12, items 1-3
and 6), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select
from sqlalchemy.exc import DBAPIError
from tests.integration.manufacturing.conftest import PASSWORD, Site, TrialPatient, start
from tests.integration.qc.conftest import Lab, approve_spec, enter

from atmpchain.custody import control
from atmpchain.errors import Conflict, DomainError, InvalidInput
from atmpchain.manufacturing import mbr
from atmpchain.manufacturing import queries as manufacturing_queries
from atmpchain.qc import oos, queries, results, samples, specs
from atmpchain.qc.domain import LATE_RESULT, ResultKind, Verdict
from atmpchain.qc.models import Result
from atmpchain.uow import UnitOfWork


def _qc(uow: UnitOfWork, number: str) -> queries.BatchQc:
    with uow.db.read_session() as session:
        return queries.batch_qc(session, number)


def _line(qc: queries.BatchQc, attribute: str) -> queries.QcLine:
    return next(line for line in qc.lines if line.attribute == attribute)


def test_a_batch_starts_with_every_attribute_pending_against_its_bound_specification(
    uow: UnitOfWork, completed: str
) -> None:
    qc = _qc(uow, completed)
    assert qc.specification is not None
    assert (qc.specification.code, qc.specification.version) == ("CART-CD19", 1)
    assert "PMC11461191" in qc.specification.source
    assert qc.bound is False  # no QC record yet: the version it will be bound to
    assert {line.state for line in qc.lines} == {"pending"}
    assert "Sterility" in qc.pending_attributes
    sterility = _line(qc, "Sterility")
    assert sterility.may_follow_release and sterility.release_critical
    assert not qc.unassessed_oos


def test_results_are_judged_at_once_and_a_second_analyst_reviews_them(
    uow: UnitOfWork, completed: str, lab: Lab
) -> None:
    ok = enter(uow, lab, completed, "Viability", "92", unit="%")
    assert ok.verdict is Verdict.IN_SPECIFICATION
    with pytest.raises(Conflict, match="second analyst"):
        results.review_result(uow, actor=lab.analyst.actor, result_id=ok.id, password=PASSWORD)
    results.review_result(uow, actor=lab.second_analyst.actor, result_id=ok.id, password=PASSWORD)
    line = _line(_qc(uow, completed), "Viability")
    assert (line.state, line.value, line.reviewed) == ("in_specification", "92 %", True)
    with pytest.raises(InvalidInput, match="specified in '%'"):
        enter(uow, lab, completed, "Viability", "92", unit="cells")
    with pytest.raises(InvalidInput, match="not an attribute"):
        enter(uow, lab, completed, "Colour", "red")


def test_negative_to_date_is_shown_beside_the_final_result(
    uow: UnitOfWork, completed: str, lab: Lab
) -> None:
    enter(uow, lab, completed, "Sterility", "negative", kind=ResultKind.INTERIM)
    line = _line(_qc(uow, completed), "Sterility")
    assert line.state == "negative_to_date"
    assert "Sterility" in _qc(uow, completed).pending_attributes
    enter(uow, lab, completed, "Sterility", "no growth")
    line = _line(_qc(uow, completed), "Sterility")
    assert line.state == "in_specification"
    assert line.interim is not None and line.interim.startswith("negative to date: negative")


def test_a_batch_keeps_its_specification_version_when_a_new_one_is_approved(
    uow: UnitOfWork, completed: str, lab: Lab
) -> None:
    enter(uow, lab, completed, "Viability", "92")
    assert _qc(uow, completed).bound
    assert approve_spec(uow, lab, "ari-0001") == 2
    qc = _qc(uow, completed)
    assert qc.specification is not None and qc.specification.version == 1
    assert "Replication-competent lentivirus" not in {line.attribute for line in qc.lines}


def test_specification_approval_needs_another_qa_signature(uow: UnitOfWork, lab: Lab) -> None:
    version = specs.draft_from_published(
        uow, actor=lab.qa.actor, template_key="cd19-humanised", code="CART-X", reason="trial"
    )
    with pytest.raises(Conflict, match="another member of QA"):
        specs.approve_specification(
            uow, actor=lab.qa.actor, code="CART-X", version=version, password=PASSWORD
        )
    with pytest.raises(DomainError):
        specs.approve_specification(
            uow, actor=lab.second_qa.actor, code="CART-X", version=version, password="wrong"
        )
    specs.approve_specification(
        uow, actor=lab.second_qa.actor, code="CART-X", version=version, password=PASSWORD
    )
    with uow.db.read_session() as session:
        assert queries.specification(session, "CART-X", version).ref.status == "approved"


def test_an_oos_result_opens_an_investigation_and_refuses_a_retest_until_invalidated(
    uow: UnitOfWork, completed: str, lab: Lab
) -> None:
    entered = enter(uow, lab, completed, "Viability", "61")
    assert entered.verdict is Verdict.OOS and entered.investigation_id is not None
    qc = _qc(uow, completed)
    assert qc.unassessed_oos and _line(qc, "Viability").state == "oos"
    with pytest.raises(Conflict, match="result that stands"):
        enter(uow, lab, completed, "Viability", "85")
    # QA cannot invalidate before phase I found a laboratory cause.
    with pytest.raises(Conflict, match="no assignable"):
        oos.invalidate_result(
            uow, actor=lab.qa.actor, result_id=entered.id, cause="pipetting", password=PASSWORD
        )
    inv = entered.investigation_id
    oos.record_phase1(
        uow,
        actor=lab.second_analyst.actor,
        investigation_id=inv,
        lab_error=True,
        assignable_cause="counting chamber not rinsed: dead-cell debris",
        retest_plan="recount the retained sample, second analyst",
    )
    assert not _qc(uow, completed).unassessed_oos  # assessed: phase I done
    with pytest.raises(DomainError):  # the analyst cannot invalidate
        oos.invalidate_result(
            uow, actor=lab.analyst.actor, result_id=entered.id, cause="x", password=PASSWORD
        )
    oos.invalidate_result(
        uow, actor=lab.qa.actor, result_id=entered.id, cause="chamber debris", password=PASSWORD
    )
    assert _line(_qc(uow, completed), "Viability").state == "invalidated"
    retest = enter(uow, lab, completed, "Viability", "88")
    assert retest.verdict is Verdict.IN_SPECIFICATION
    oos.conclude(
        uow,
        actor=lab.qa.actor,
        investigation_id=inv,
        conclusion="invalidated",
        summary="laboratory error; retest in specification",
        password=PASSWORD,
    )
    qc = _qc(uow, completed)
    assert qc.open_oos_investigations == () and _line(qc, "Viability").state == "in_specification"
    with uow.db.read_session() as session:  # nothing deleted
        rows = session.execute(select(Result).where(Result.batch_number == completed)).scalars()
        assert [r.invalidated_at is not None for r in rows] == [True, False]


def test_phase_two_links_a_deviation_and_qa_confirms_the_oos(
    uow: UnitOfWork, completed: str, lab: Lab
) -> None:
    entered = enter(uow, lab, completed, "Endotoxin", "7.5")
    inv = entered.investigation_id
    assert inv is not None
    with pytest.raises(Conflict, match="phase I"):
        oos.conclude(
            uow,
            actor=lab.qa.actor,
            investigation_id=inv,
            conclusion="confirmed",
            summary="x",
            password=PASSWORD,
        )
    oos.record_phase1(
        uow,
        actor=lab.analyst.actor,
        investigation_id=inv,
        lab_error=False,
        assignable_cause="calibration, reagents and calculation checked: no laboratory error",
    )
    number = oos.link_deviation(uow, actor=lab.qa.actor, investigation_id=inv)
    oos.record_phase2(uow, actor=lab.qa.actor, investigation_id=inv, findings="wash step shortened")
    with pytest.raises(InvalidInput, match="no laboratory error"):
        oos.conclude(
            uow,
            actor=lab.qa.actor,
            investigation_id=inv,
            conclusion="invalidated",
            summary="x",
            password=PASSWORD,
        )
    oos.conclude(
        uow,
        actor=lab.qa.actor,
        investigation_id=inv,
        conclusion="confirmed",
        summary="OOS confirmed: endotoxin above limit",
        password=PASSWORD,
    )
    with uow.db.read_session() as session:
        view = queries.investigation(session, inv)
    assert view.deviations == (number,) and view.conclusion == "OOS confirmed"
    assert _line(_qc(uow, completed), "Endotoxin").state == "oos"


def test_a_failed_late_result_holds_every_unit_and_notifies_qa_in_the_same_transaction(
    uow: UnitOfWork, completed: str, lab: Lab
) -> None:
    entered = enter(uow, lab, completed, "Sterility", "growth: Staphylococcus epidermidis")
    assert entered.verdict is Verdict.OOS and entered.late is not None
    with uow.db.read_session() as session:
        record = manufacturing_queries.batch_record(session, completed)
        din = record.units[0].din
        flags = queries.late_result_flags(session, din)
        notes = queries.notifications(session, result_id=entered.id)
        held = control.open_holds(session)
    assert entered.late.units_held == (din,)
    assert len(flags) == 1 and not flags[0].infused
    assert flags[0].investigation_id == entered.investigation_id
    assert [h.source for h in held].count(LATE_RESULT) == 1
    assert [n.recipient_role for n in notes] == ["qa"]
    assert din in notes[0].message


def test_a_lab_error_on_a_late_result_lifts_the_hold(
    uow: UnitOfWork, completed: str, lab: Lab
) -> None:
    entered = enter(uow, lab, completed, "Mycoplasma", "positive")
    inv = entered.investigation_id
    assert inv is not None
    oos.record_phase1(
        uow,
        actor=lab.second_analyst.actor,
        investigation_id=inv,
        lab_error=True,
        assignable_cause="positive control carried over",
        retest_plan="repeat PCR",
    )
    oos.invalidate_result(
        uow, actor=lab.qa.actor, result_id=entered.id, cause="carry-over", password=PASSWORD
    )
    oos.conclude(
        uow,
        actor=lab.qa.actor,
        investigation_id=inv,
        conclusion="invalidated",
        summary="laboratory error",
        password=PASSWORD,
    )
    with uow.db.read_session() as session:
        din = manufacturing_queries.batch_record(session, completed).units[0].din
        assert queries.late_result_flags(session, din) == ()
        assert LATE_RESULT not in [h.source for h in control.open_holds(session)]


def test_samples_are_taken_only_at_the_batch_records_sampling_points(
    uow: UnitOfWork, completed: str, site: Site, lab: Lab
) -> None:
    with pytest.raises(InvalidInput, match="no sampling point"):
        samples.take_sample(
            uow,
            actor=site.operator.actor,
            batch_number=completed,
            step_ref="S08",
            sampling_point="blood culture",
        )
    label = samples.take_sample(
        uow,
        actor=site.operator.actor,
        batch_number=completed,
        step_ref="S08",
        sampling_point="sterility 2.6.27",
    )
    assert label.label == f"{completed}-Q01" and label.din is not None
    samples.move_sample(
        uow,
        actor=lab.analyst.actor,
        label=label.label,
        event="received_by_qc",
        holder="QC microbiology, incubator 2",
    )
    with uow.db.read_session() as session:
        (view,) = queries.samples(session, completed)
    assert [e[0] for e in view.events] == ["taken", "received_by_qc"]
    assert view.holder == "QC microbiology, incubator 2"
    result = results.enter_result(
        uow,
        actor=lab.analyst.actor,
        entry=results.ResultEntry(
            batch_number=completed,
            attribute="sterility",
            value="negative",
            instrument="BACT/ALERT 3D",
            run="R-17",
            sample_label=label.label,
        ),
    )
    with uow.db.read_session() as session:
        (shown,) = queries.results(session, completed)
    assert shown.id == result.id and shown.sample_label == label.label


def test_the_database_refuses_to_delete_a_result(uow: UnitOfWork, completed: str, lab: Lab) -> None:
    enter(uow, lab, completed, "Viability", "92")
    with uow, pytest.raises(DBAPIError):
        uow.session.execute(delete(Result))
        uow.session.flush()


def test_without_an_approved_specification_no_result_is_accepted(
    uow: UnitOfWork, site: Site, lab: Lab, approved_mbr: mbr.MbrRef, patient: TrialPatient
) -> None:
    number = start(uow, site, patient)
    specs.draft_from_published(
        uow, actor=lab.qa.actor, template_key="ari-0001", code="CART-CD19", reason="draft only"
    )
    qc = _qc(uow, number)
    assert qc.specification is None and qc.lines == ()
    with pytest.raises(DomainError, match="no approved specification"):
        enter(uow, lab, number, "Viability", "92")
