"""Rules of QP release: what blocks each decision, independence of the QP, the order of an OOS
supply's four steps and the 48-hour notice clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.release.domain import (
    NOTICE_HOURS,
    SUPPLY_ORDER,
    Decision,
    DeviationFact,
    NoticeState,
    QcLine,
    QcState,
    ReviewFacts,
    Section,
    SupplyStep,
    blockers,
    check_supply_step,
    next_supply_step,
    notice_clock,
    notice_recipients,
    pending_tests,
    procedure_reference,
    review_items,
    steps_signed_by,
)
from atmpchain.release.errors import ReleaseRuleError


def line(
    name: str, state: QcState, *, critical: bool = True, later: bool = False, reviewed: bool = True
) -> QcLine:
    return QcLine(name, state, critical, later, reviewed)


GOOD = ReviewFacts(
    number="B26-0001",
    completed=True,
    status_label="completed, awaiting release",
    steps_total=8,
    steps_not_performed=(),
    steps_not_verified=(),
    parameters_total=20,
    out_of_range=(),
    deviations=(),
    qc_bound=True,
    qc_lines=(
        line("viability", QcState.IN_SPECIFICATION),
        line("sterility", QcState.IN_SPECIFICATION, later=True),
    ),
    unassessed_oos=(),
    open_oos_investigations=(),
    lots_used=5,
    lot_problems=(),
    equipment_used=2,
    equipment_problems=(),
    units=3,
    identity_problems=(),
)
PENDING = replace(
    GOOD,
    qc_lines=(
        line("viability", QcState.IN_SPECIFICATION),
        line("sterility", QcState.NEGATIVE_TO_DATE, later=True),
    ),
)


def test_a_clean_batch_may_be_certified_and_every_section_collapses_to_one_line() -> None:
    assert blockers(GOOD, Decision.CERTIFIED) == ()
    items = review_items(GOOD)
    assert all(i.fine for i in items if i.section is not Section.ENVIRONMENT)
    assert len([i for i in items if i.section is Section.STEPS]) == 1


def test_environmental_monitoring_shows_a_visible_not_connected_line_when_not_read() -> None:
    env = [i for i in review_items(GOOD) if i.section is Section.ENVIRONMENT]
    assert len(env) == 1 and env[0].text.startswith("not connected") and not env[0].fine


CONNECTED = replace(GOOD, environment_connected=True, environment_sessions=3)


def test_the_batchs_sessions_within_their_limits_collapse_to_one_fine_line() -> None:
    env = [i for i in review_items(CONNECTED) if i.section is Section.ENVIRONMENT]
    assert len(env) == 1 and env[0].fine and "3 sessions" in env[0].text
    assert blockers(CONNECTED, Decision.CERTIFIED) == ()


def test_an_unassessed_action_event_blocks_every_certification_but_not_a_rejection() -> None:
    facts = replace(
        CONNECTED,
        environment_blocking=("not assessed by QA for this batch: action at BSC1-CENTRE",),
        environment_problems=("alert at CR-B1-FLOOR",),
    )
    env = [i for i in review_items(facts) if i.section is Section.ENVIRONMENT]
    assert [(i.blocks, i.fine) for i in env] == [(True, False), (False, False)]
    for decision in (Decision.CERTIFIED, Decision.CERTIFIED_BEFORE_ALL_RESULTS):
        assert any("BSC1-CENTRE" in r for r in blockers(facts, decision))
    assert blockers(facts, Decision.REJECTED) == ()
    # An assessed event (or an alert) is a line to read, not a block.
    assessed = replace(CONNECTED, environment_problems=("action at BSC1-CENTRE",))
    assert blockers(assessed, Decision.CERTIFIED) == ()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"completed": False}, "batch is"),
        ({"steps_not_performed": ("S03",)}, "step S03 not signed"),
        ({"steps_not_verified": ("S04",)}, "step S04 not verified"),
        ({"deviations": (DeviationFact("DEV-1", "door", "critical", "open"),)}, "DEV-1"),
        ({"deviations": (DeviationFact("DEV-2", "door", None, "open"),)}, "not classified"),
        ({"unassessed_oos": ("viability",)}, "OOS not assessed yet: viability"),
        ({"identity_problems": ("unit X bound to Y",)}, "unit X bound to Y"),
        ({"qc_bound": False}, "no QC specification"),
        ({"qc_lines": (line("viability", QcState.OOS),)}, "out of specification: viability"),
        ({"qc_lines": (line("dose", QcState.PENDING),)}, "needed before release"),
        ({"qc_lines": (line("dose", QcState.IN_SPECIFICATION, reviewed=False),)}, "not reviewed"),
    ],
)
def test_each_blocking_condition_blocks_every_certification(
    change: dict[str, object], words: str
) -> None:
    facts = replace(GOOD, **change)  # type: ignore[arg-type]
    for decision in (Decision.CERTIFIED, Decision.CERTIFIED_BEFORE_ALL_RESULTS):
        found = blockers(facts, decision)
        assert any(words in reason for reason in found), (decision, found)
    assert blockers(facts, Decision.REJECTED) == ()


def test_a_minor_or_major_open_deviation_needs_attention_but_does_not_block() -> None:
    facts = replace(GOOD, deviations=(DeviationFact("DEV-3", "late", "major", "open"),))
    assert blockers(facts, Decision.CERTIFIED) == ()
    assert any("DEV-3" in i.text and not i.fine for i in review_items(facts))


def test_pending_results_that_may_follow_release_allow_only_release_before_all_results() -> None:
    assert any("certify before all results" in r for r in blockers(PENDING, Decision.CERTIFIED))
    assert blockers(PENDING, Decision.CERTIFIED_BEFORE_ALL_RESULTS) == ()
    assert pending_tests(PENDING.qc_lines) == ("sterility",)


def test_release_before_all_results_is_refused_when_every_result_is_in() -> None:
    assert blockers(GOOD, Decision.CERTIFIED_BEFORE_ALL_RESULTS) == (
        "every result is in: certify for release",
    )


def test_an_oos_product_is_supplied_only_after_the_physician_accepted() -> None:
    facts = replace(GOOD, qc_lines=(line("viability", QcState.OOS),))
    decision = Decision.SUPPLIED_OUT_OF_SPECIFICATION
    assert any("§11.5" in r for r in blockers(facts, decision))
    assert blockers(facts, decision, supply_accepted=True) == ()
    assert any("no release-critical" in r for r in blockers(GOOD, decision, supply_accepted=True))


def test_a_non_critical_oos_needs_attention_only() -> None:
    facts = replace(GOOD, qc_lines=(line("appearance", QcState.OOS, critical=False),))
    assert blockers(facts, Decision.CERTIFIED) == ()


def test_a_qp_who_performed_or_verified_a_step_is_named_with_those_steps() -> None:
    assert steps_signed_by(7, {"S01": 7, "S02": 3}, {"S01": 4, "S02": 7, "S03": None}) == (
        "S01",
        "S02",
    )
    assert steps_signed_by(9, {"S01": 7}, {"S01": None}) == ()


def test_the_procedure_must_be_one_of_the_facility_s() -> None:
    assert procedure_reference("  SOP-1  v2 ", {"SOP-1 v2"}) == "SOP-1 v2"
    with pytest.raises(ReleaseRuleError) as missing:
        procedure_reference(" ", {"SOP-1 v2"})
    assert missing.value.field == "procedure"
    with pytest.raises(ReleaseRuleError, match="not a release procedure"):
        procedure_reference("SOP-9", {"SOP-1 v2"})


# --- Part IV §11.5 -----------------------------------------------------------------------------

PHYSICIAN, QP = 1, 2


def test_the_four_steps_come_in_their_order_each_once() -> None:
    done: set[SupplyStep] = set()
    for step in SUPPLY_ORDER:
        assert next_supply_step(done) is step
        who = PHYSICIAN if step.by_physician else QP
        check_supply_step(done, step, actor_id=who, requester_id=PHYSICIAN)
        done.add(step)
    assert next_supply_step(done) is None
    with pytest.raises(ReleaseRuleError, match="already recorded"):
        check_supply_step(done, SupplyStep.NOTIFIED, actor_id=QP, requester_id=PHYSICIAN)


@given(st.sets(st.sampled_from(SupplyStep)), st.sampled_from(SupplyStep))
def test_a_step_is_accepted_only_when_it_is_the_next_one(
    done: set[SupplyStep], step: SupplyStep
) -> None:
    who = PHYSICIAN if step.by_physician else QP
    try:
        check_supply_step(done, step, actor_id=who, requester_id=PHYSICIAN)
    except ReleaseRuleError:
        assert next_supply_step(done) is not step
    else:
        assert next_supply_step(done) is step


def test_only_the_requesting_physician_accepts_and_never_records_the_manufacturer_s_steps() -> None:
    with pytest.raises(ReleaseRuleError, match="requested the product accepts"):
        check_supply_step(
            {SupplyStep.REQUESTED, SupplyStep.RISK_EVALUATED},
            SupplyStep.ACCEPTED,
            actor_id=99,
            requester_id=PHYSICIAN,
        )
    with pytest.raises(ReleaseRuleError, match="manufacturer's step"):
        check_supply_step(
            {SupplyStep.REQUESTED},
            SupplyStep.RISK_EVALUATED,
            actor_id=PHYSICIAN,
            requester_id=PHYSICIAN,
        )


def test_step_four_informs_the_sponsor_in_a_trial_and_the_mah_and_authority_otherwise() -> None:
    assert "sponsor" in notice_recipients(True)
    assert "marketing authorisation holder" in notice_recipients(False)


T0 = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def test_the_48_hour_clock_starts_at_administration_and_runs_until_sent() -> None:
    assert notice_clock(None, None, T0).state is NoticeState.NOT_ADMINISTERED
    running = notice_clock(T0, None, T0 + timedelta(hours=47, minutes=30))
    assert running.state is NoticeState.RUNNING and running.text == "0 h 30 min left"
    assert running.deadline == T0 + timedelta(hours=NOTICE_HOURS)
    overdue = notice_clock(T0, None, T0 + timedelta(hours=49))
    assert overdue.state is NoticeState.OVERDUE and overdue.text == "OVERDUE by 1 h 00 min"
    assert notice_clock(T0, T0 + timedelta(hours=2), T0).state is NoticeState.SENT
    assert notice_clock(T0, T0 + timedelta(hours=50), T0).state is NoticeState.SENT_LATE


@given(st.integers(min_value=0, max_value=200 * 60))
def test_the_clock_is_overdue_exactly_after_48_hours(minutes: int) -> None:
    clock = notice_clock(T0, None, T0 + timedelta(minutes=minutes))
    assert (clock.state is NoticeState.OVERDUE) == (minutes >= NOTICE_HOURS * 60)


_LINES = st.lists(
    st.builds(
        QcLine,
        attribute=st.sampled_from(["Viability", "Sterility", "Dose", "Potency"]),
        state=st.sampled_from(QcState),
        release_critical=st.booleans(),
        may_follow_release=st.booleans(),
        reviewed=st.booleans(),
    ),
    max_size=6,
).map(tuple)
_FACTS = st.builds(
    replace,
    st.just(GOOD),
    completed=st.booleans(),
    steps_not_verified=st.lists(st.sampled_from(["S01", "S04"]), max_size=2).map(tuple),
    deviations=st.lists(
        st.builds(
            DeviationFact,
            number=st.just("DEV-9"),
            title=st.just("t"),
            classification=st.sampled_from([None, "minor", "major", "critical"]),
            state=st.just("open"),
        ),
        max_size=2,
    ).map(tuple),
    qc_lines=_LINES,
    unassessed_oos=st.lists(st.just("Viability"), max_size=1).map(tuple),
)


@given(_FACTS, st.booleans())
def test_property_rejection_is_never_blocked_and_a_blocking_line_blocks_every_certification(
    facts: ReviewFacts, accepted: bool
) -> None:
    assert blockers(facts, Decision.REJECTED) == ()
    blocking = [i for i in review_items(facts) if i.blocks]
    for decision in (Decision.CERTIFIED, Decision.CERTIFIED_BEFORE_ALL_RESULTS):
        reasons = blockers(facts, decision, supply_accepted=accepted)
        if any(i.section is not Section.QC for i in blocking) or facts.unassessed_oos:
            assert reasons


@given(_FACTS)
def test_property_certification_before_all_results_lists_exactly_the_awaited_tests(
    facts: ReviewFacts,
) -> None:
    awaited = [line.attribute for line in facts.qc_lines if line.awaited]
    assert list(pending_tests(facts.qc_lines)) == awaited
    if not blockers(facts, Decision.CERTIFIED_BEFORE_ALL_RESULTS):
        assert awaited  # "every result is in" is refused: certify for release instead
        assert not [
            line
            for line in facts.qc_lines
            if line.release_critical and line.awaited and not line.may_follow_release
        ]
