"""The triage workflow as services: each move audited with who and why, assignment only to a
trial coordinator, questions move the inquiry, timers and overdue lists, and a trial only from
an accepted inquiry."""

from __future__ import annotations

from datetime import timedelta

import pytest
from tests.gateway_data import inquiry_fields

from atmpchain.accounts.domain import Role
from atmpchain.clock import FixedClock
from atmpchain.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from atmpchain.gateway import inquiries, trials
from atmpchain.gateway import queries as gateway_queries
from atmpchain.gateway.domain import InquiryState, parse_inquiry
from atmpchain.moments import parse_day
from atmpchain.uow import UnitOfWork


def _submit(uow: UnitOfWork) -> str:
    form = parse_inquiry(inquiry_fields(), ["manufacture"], parse_date=parse_day)
    return inquiries.submit_inquiry(
        uow, actor=inquiries.PUBLIC_ACTOR, form=form, attachments={}
    ).reference


def test_each_move_is_audited_with_who_and_why(uow: UnitOfWork, make_persona, trail) -> None:
    tc = make_persona(Role.TRIAL_COORDINATOR, username="tc-a")
    reference = _submit(uow)
    inquiries.move_inquiry(
        uow, actor=tc.actor, reference=reference, to_state="triage", reason="complete"
    )
    moved = trail.records("gateway:inquiry:moved")[-1]
    assert moved.actor_username == "tc-a" and moved.reason == "complete"
    assert moved.before == {"state": "received"} and moved.after == {"state": "triage"}
    with pytest.raises(InvalidInput, match="may move to") as refused:
        inquiries.move_inquiry(
            uow, actor=tc.actor, reference=reference, to_state="accepted", reason="too soon"
        )
    assert refused.value.field == "to_state"
    with pytest.raises(InvalidInput) as no_reason:
        inquiries.move_inquiry(
            uow, actor=tc.actor, reference=reference, to_state="feasibility", reason="  "
        )
    assert no_reason.value.field == "reason"


def test_assignment_needs_a_trial_coordinator(uow: UnitOfWork, make_persona) -> None:
    tc = make_persona(Role.TRIAL_COORDINATOR, username="tc-b")
    make_persona(Role.NURSE, username="nurse-b")
    reference = _submit(uow)
    with pytest.raises(InvalidInput, match="not an active trial coordinator"):
        inquiries.assign_coordinator(uow, actor=tc.actor, reference=reference, username="nurse-b")
    inquiries.assign_coordinator(uow, actor=tc.actor, reference=reference, username="tc-b")
    with uow.db.read_session() as session:
        line = gateway_queries.list_inquiries(session, uow.clock.now())[0]
    assert line.coordinator == "tc-b"
    with pytest.raises(InvalidInput, match="only the sponsor guest role"):
        inquiries.invite_sponsor(uow, actor=tc.actor, reference=reference, username="nurse-b")


def test_a_question_is_the_first_answer_and_moves_to_questions(
    uow: UnitOfWork, make_persona, clock: FixedClock
) -> None:
    tc = make_persona(Role.TRIAL_COORDINATOR, username="tc-c")
    sponsor = make_persona(Role.SPONSOR_GUEST, username="sp-c")
    reference = _submit(uow)
    clock.advance(timedelta(days=6))
    with uow.db.read_session() as session:
        overdue = gateway_queries.overdue_inquiries(session, clock.now())
    assert [o.reference for o in overdue] == [reference]
    assert overdue[0].first_answer_overdue and overdue[0].overdue_by == timedelta(days=4)
    inquiries.move_inquiry(uow, actor=tc.actor, reference=reference, to_state="triage", reason="ok")
    inquiries.post_message(uow, actor=tc.actor, reference=reference, text="Vector supplier?")
    with pytest.raises(NotFound):
        inquiries.post_message(uow, actor=sponsor.actor, reference=reference, text="Mine?")
    inquiries.invite_sponsor(uow, actor=tc.actor, reference=reference, username="sp-c")
    assert inquiries.post_message(uow, actor=sponsor.actor, reference=reference, text="X") == (
        "answer"
    )
    with pytest.raises(InvalidInput, match="only withdraw"):
        inquiries.move_inquiry(
            uow, actor=sponsor.actor, reference=reference, to_state="offer", reason="please"
        )
    with uow.db.read_session() as session:
        detail = gateway_queries.inquiry_detail(session, reference, clock.now())
    assert detail.line.state is InquiryState.QUESTIONS
    assert detail.line.first_answer_at == clock.now()
    assert detail.time_in_state[InquiryState.RECEIVED] == timedelta(days=6)
    assert [m.kind for m in detail.messages] == ["question", "answer"]


def test_a_trial_comes_only_from_an_accepted_inquiry(uow: UnitOfWork, make_persona) -> None:
    tc = make_persona(Role.TRIAL_COORDINATOR, username="tc-d")
    nurse = make_persona(Role.NURSE, username="nurse-d")
    reference = _submit(uow)
    kwargs = {"eu_ct_number": "2027-501234-12-00", "code": "LU-1", "products": "CAR-T"}
    with pytest.raises(InvalidInput, match="only an accepted inquiry"):
        trials.create_trial(uow, actor=tc.actor, reference=reference, **kwargs)
    for target in ("triage", "feasibility", "offer", "accepted"):
        inquiries.move_inquiry(
            uow, actor=tc.actor, reference=reference, to_state=target, reason="ok"
        )
    with pytest.raises(PermissionDenied):
        trials.create_trial(uow, actor=nurse.actor, reference=reference, **kwargs)
    assert trials.create_trial(uow, actor=tc.actor, reference=reference, **kwargs) == (
        "2027-501234-12-00"
    )
    with pytest.raises(Conflict):
        trials.create_trial(uow, actor=tc.actor, reference=reference, **kwargs)
    [trial] = trials.list_trials(uow)
    assert trial.planned_patients == 12 and trial.patients == ()
