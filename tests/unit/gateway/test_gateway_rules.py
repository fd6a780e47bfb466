"""The gateway's pure rules: the inquiry's fields, attachments, the workflow, service levels,
the CTR timeline and the route helper."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.gateway_data import PDF, inquiry_fields

from atmpchain.errors import InvalidInput
from atmpchain.gateway.domain import (
    MAX_ATTACHMENT_BYTES,
    TRANSITIONS,
    AttachmentKind,
    InquiryState,
    Rating,
    RouteRule,
    ServiceLevels,
    advise_route,
    capacity_rating,
    check_attachment,
    check_transition,
    ctr_timeline,
    first_answer_overdue,
    ln2_rating,
    parse_count,
    parse_eu_ct_number,
    parse_inquiry,
    stays,
    time_in_states,
    token_hash,
)
from atmpchain.gateway.rules import gateway_rules
from atmpchain.moments import parse_day

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def parse(**changes: str):
    return parse_inquiry(inquiry_fields(**changes), ["manufacture"], parse_date=parse_day)


def test_a_complete_inquiry_parses_and_counts_its_bags() -> None:
    form = parse()
    assert form.bags_needed == 24 and form.gmo is True
    assert form.first_patient_in == date(2027, 9, 1)


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("contact_email", "nobody", "contact e-mail"),
        ("patients", "-1", "number of patients"),
        ("patients", "1e3", "number of patients"),
        ("accrual_per_month", "13", "cannot exceed the number of patients"),
        ("gmo", "maybe", "GMO"),
        ("phase", "", "phase is required"),
        ("bags_per_patient", "", "bags per patient is required"),
        ("platform", "", "process platform is required when manufacture"),
        ("title", "x" * 201, "at most 200"),
        ("title", "bad\x00byte", "control characters"),
        ("first_patient_in", "2027-02-30", "first patient in: '2027-02-30' is not a date"),
    ],
)
def test_each_fault_is_refused_naming_its_field(field: str, value: str, words: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse(**{field: value})
    assert refused.value.field == field
    assert words in refused.value.message


def test_services_are_required_and_known() -> None:
    with pytest.raises(InvalidInput, match="choose at least one") as none:
        parse_inquiry(inquiry_fields(), [], parse_date=parse_day)
    assert none.value.field == "services"
    with pytest.raises(InvalidInput, match="not one of"):
        parse_inquiry(inquiry_fields(), ["teleport"], parse_date=parse_day)


@given(st.text(max_size=12))
def test_counts_accept_only_bounded_ascii_digits(text: str) -> None:
    try:
        value = parse_count(text, "patients", low=1, high=10_000)
    except InvalidInput as exc:
        assert exc.field == "patients"
    else:
        assert value is not None and 1 <= value <= 10_000 and text.strip().isascii()


def test_attachments_are_checked_by_content_and_size() -> None:
    ok = check_attachment(AttachmentKind.SYNOPSIS, "../../etc/syn opsis.pdf", PDF)
    assert ok.filename == "syn opsis.pdf" and len(ok.sha256) == 64
    for name, content, words in (
        ("s.pdf", b"", "empty"),
        ("s.pdf", b"GIF89a", "not a PDF or Word"),
        ("s.docx", PDF, "not named so"),
        ("s.pdf", b"%PDF-" + b"0" * MAX_ATTACHMENT_BYTES, "at most 5 MiB"),
    ):
        with pytest.raises(InvalidInput, match=words) as refused:
            check_attachment(AttachmentKind.IMPD_SUMMARY, name, content)
        assert refused.value.field == "impd_summary"


def test_the_workflow_allows_only_its_moves_and_closed_is_final() -> None:
    check_transition(InquiryState.OFFER, InquiryState.ACCEPTED)
    with pytest.raises(InvalidInput, match="may move to") as refused:
        check_transition(InquiryState.RECEIVED, InquiryState.ACCEPTED)
    assert refused.value.field == "to_state"
    for closed in (InquiryState.ACCEPTED, InquiryState.DECLINED, InquiryState.WITHDRAWN):
        assert TRANSITIONS[closed] == frozenset()
    for state, targets in TRANSITIONS.items():
        if not state.closed:
            assert InquiryState.WITHDRAWN in targets and InquiryState.DECLINED in targets


@given(st.lists(st.sampled_from(list(InquiryState)), max_size=8), st.integers(1, 100))
def test_time_in_states_adds_up_to_the_whole_life(targets: list[InquiryState], hours: int) -> None:
    moves = [(T0 + timedelta(hours=hours * (i + 1)), s) for i, s in enumerate(targets)]
    now = T0 + timedelta(hours=hours * (len(targets) + 1))
    totals = time_in_states(stays(T0, moves), now)
    assert sum(totals.values(), timedelta()) == now - T0


def test_service_levels_flag_what_waits_too_long() -> None:
    levels = ServiceLevels(timedelta(days=5), {InquiryState.TRIAGE: timedelta(days=5)})
    assert levels.overdue_by(InquiryState.TRIAGE, T0, T0 + timedelta(days=4)) is None
    assert levels.overdue_by(InquiryState.TRIAGE, T0, T0 + timedelta(days=6)) == timedelta(days=1)
    assert levels.overdue_by(InquiryState.ACCEPTED, T0, T0 + timedelta(days=99)) is None
    assert first_answer_overdue(levels, T0, None, T0 + timedelta(days=6))
    assert not first_answer_overdue(levels, T0, T0, T0 + timedelta(days=6))


def test_ctr_timeline_adds_the_regulations_days() -> None:
    ctr = gateway_rules().ctr
    plain = ctr_timeline(date(2027, 1, 1), ctr, atmp=False, rfi=False)
    assert plain[-1].day - date(2027, 1, 1) == timedelta(days=60)  # the CTR's 60 days
    worst = ctr_timeline(date(2027, 1, 1), ctr, atmp=True, rfi=True)
    # 10 + 45 + 31 (with the 12-day answer inside) + 50 + 5 = 141 for an ATMP with an RFI
    assert worst[-1].day - date(2027, 1, 1) == timedelta(days=141)
    assert [m.name for m in worst][-2:] == ["ATMP extension", "Decision"]


def test_route_rules_prefer_the_trial_when_any_rule_says_so() -> None:
    rules = gateway_rules().route_rules
    single = advise_route(
        {"purpose": "individual_patients", "phase": "not_a_trial", "several_countries": "no"},
        rules,
    )
    assert single.route == "hospital_exemption"
    abroad = advise_route(
        {"purpose": "individual_patients", "phase": "not_a_trial", "several_countries": "yes"},
        rules,
    )
    assert abroad.route == "clinical_trial"
    assert advise_route(
        {}, [RouteRule("x", frozenset({"y"}), "hospital_exemption", "", "")]
    ).route == ("clinical_trial")


def test_ratings_of_capacity() -> None:
    assert ln2_rating(10, 9) is Rating.RED
    assert ln2_rating(10, 11) is Rating.AMBER
    assert ln2_rating(10, 12) is Rating.GREEN
    assert ln2_rating(0, 0) is Rating.GREEN
    assert capacity_rating(2, 0) is Rating.RED
    assert capacity_rating(2, 1) is Rating.AMBER
    assert capacity_rating(2, 3) is Rating.GREEN


def test_eu_ct_numbers_and_tokens() -> None:
    assert parse_eu_ct_number(" 2027-501234-12-00 ") == "2027-501234-12-00"
    with pytest.raises(InvalidInput) as refused:
        parse_eu_ct_number("2027-5012-12-00")
    assert refused.value.field == "eu_ct_number"
    assert token_hash("a") != token_hash("b") and len(token_hash("a")) == 64
