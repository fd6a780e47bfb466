"""The pure rules of a dose: its thaw window, its thaw-to-infusion limit, its status steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from atmpchain.errors import Conflict
from atmpchain.hospital.domain import (
    TRANSITIONS,
    DoseStatus,
    DoseStep,
    LimitBasis,
    ThawRule,
    ThawWindow,
    WindowRuleError,
    check_thaw_start,
    expires_at,
    latest_infusion_start,
    limit_exceeded,
    next_status,
    thaw_window,
)

DAY = 24 * 60
rules = st.builds(
    ThawRule,
    thaw_minutes=st.integers(0, DAY),
    preparation_minutes=st.integers(0, DAY),
    infusion_minutes=st.integers(0, DAY),
    limit_minutes=st.integers(1, 14 * DAY),
    basis=st.sampled_from(list(LimitBasis)),
)
transports = st.integers(0, DAY)
appointments = st.datetimes(
    min_value=datetime(2020, 1, 1),  # noqa: DTZ001 (hypothesis adds the zone)
    max_value=datetime(2040, 1, 1),  # noqa: DTZ001
    timezones=st.just(UTC),
).map(lambda t: t.replace(microsecond=0))
# An instant within a few days of something, to the second.
offsets = st.integers(-5 * DAY * 60, 5 * DAY * 60).map(lambda s: timedelta(seconds=s))


def _minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def _runs_to(appointment: datetime, rule: ThawRule) -> datetime:
    """What the limit must cover: the infusion's start, or its planned end."""
    if rule.basis is LimitBasis.INFUSION_END:
        return appointment + _minutes(rule.infusion_minutes)
    return appointment


# --- the thaw window ---------------------------------------------------------------------------


@given(appointments, rules, transports)
def test_latest_thaw_start_leaves_time_to_thaw_prepare_and_carry_to_the_ward(
    appointment: datetime, rule: ThawRule, transport: int
) -> None:
    window = thaw_window(appointment, rule, transport)
    assert window.appointment == appointment
    assert window.latest == appointment - _minutes(
        rule.thaw_minutes + rule.preparation_minutes + transport
    )


@given(appointments, rules, transports)
def test_earliest_thaw_start_keeps_the_limit_to_the_infusion_start_or_end(
    appointment: datetime, rule: ThawRule, transport: int
) -> None:
    window = thaw_window(appointment, rule, transport)
    if rule.basis is LimitBasis.INFUSION_START:
        assert window.earliest == appointment - _minutes(rule.limit_minutes)
    else:
        assert window.earliest == appointment + _minutes(rule.infusion_minutes - rule.limit_minutes)
    # The transport and preparation never move the earliest start, only the latest.
    assert window.earliest == thaw_window(appointment, rule, 0).earliest


@given(appointments, rules, transports, st.floats(0, 1))
def test_a_thaw_anywhere_in_the_window_serves_the_appointment_within_the_limit(
    appointment: datetime, rule: ThawRule, transport: int, share: float
) -> None:
    window = thaw_window(appointment, rule, transport)
    assume(window.feasible)
    span = (window.latest - window.earliest).total_seconds()
    thaw = window.earliest + timedelta(seconds=int(span * share))
    assert window.earliest <= thaw <= window.latest
    # Thawed, prepared and carried to the ward by the appointment ...
    assert thaw + _minutes(rule.thaw_minutes + rule.preparation_minutes + transport) <= appointment
    # ... and an infusion starting at the appointment keeps to the limit.
    assert limit_exceeded(thaw, rule, appointment) is None
    assert appointment <= latest_infusion_start(thaw, rule)
    assert _runs_to(appointment, rule) <= expires_at(thaw, rule)
    if rule.basis is LimitBasis.INFUSION_END:
        assert appointment + _minutes(rule.infusion_minutes) <= thaw + _minutes(rule.limit_minutes)


@given(appointments, rules, transports, offsets)
def test_check_thaw_start_refuses_exactly_outside_the_window(
    appointment: datetime, rule: ThawRule, transport: int, offset: timedelta
) -> None:
    window = thaw_window(appointment, rule, transport)
    now = appointment + offset
    if not window.feasible:
        with pytest.raises(WindowRuleError) as refused:
            check_thaw_start(window, now)
        assert refused.value.field == "appointment_at"
        assert "no thaw time works" in refused.value.message
        return
    if window.earliest <= now <= window.latest:
        check_thaw_start(window, now)
        return
    with pytest.raises(WindowRuleError) as refused:
        check_thaw_start(window, now)
    assert refused.value.field == "thaw_start"
    expected = "too early to thaw" if now < window.earliest else "too late to thaw"
    assert expected in refused.value.message
    assert refused.value.status == 409


@given(appointments, rules, transports)
def test_check_thaw_start_accepts_both_edges_of_the_window_and_refuses_a_second_beyond(
    appointment: datetime, rule: ThawRule, transport: int
) -> None:
    window = thaw_window(appointment, rule, transport)
    assume(window.feasible)
    check_thaw_start(window, window.earliest)
    check_thaw_start(window, window.latest)
    second = timedelta(seconds=1)
    for outside in (window.earliest - second, window.latest + second):
        with pytest.raises(WindowRuleError):
            check_thaw_start(window, outside)


def test_an_infeasible_window_says_by_how_much_the_product_would_expire() -> None:
    rule = ThawRule(30, 30, 60, 60, LimitBasis.INFUSION_END)
    window = thaw_window(datetime(2026, 1, 5, 9, 0, tzinfo=UTC), rule, 30)
    # Latest 07:30; earliest 09:00 + 60 - 60 = 09:00: 1 h 30 min short.
    assert not window.feasible
    assert window.problem() is not None and "1 h 30 min" in (window.problem() or "")
    assert ThawWindow(window.appointment, window.latest, window.latest).problem() is None


def test_kymriah_window_from_the_starting_catalogue_values() -> None:
    # 5 min thaw, 5 min preparation, 15 min infusion, 30 min to the end of the infusion.
    rule = ThawRule(5, 5, 15, 30, LimitBasis.INFUSION_END)
    appointment = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    window = thaw_window(appointment, rule, transport_minutes=0)
    assert (window.earliest, window.latest) == (
        datetime(2026, 1, 5, 8, 45, tzinfo=UTC),
        datetime(2026, 1, 5, 8, 50, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("values", "transport"),
    [
        ((-1, 0, 0, 1), 0),
        ((0, 1441, 0, 1), 0),
        ((0, 0, 0, 0), 0),
        ((0, 0, 0, 14 * DAY + 1), 0),
        ((0, 0, 0, 1), -1),
        ((0, 0, 0, 1), 1441),
    ],
)
def test_minutes_outside_their_range_are_refused(
    values: tuple[int, int, int, int], transport: int
) -> None:
    with pytest.raises(ValueError, match="minutes must be"):
        thaw_window(
            datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
            ThawRule(*values, basis=LimitBasis.INFUSION_START),
            transport,
        )


# --- the thaw-to-infusion limit -----------------------------------------------------------------


@given(appointments, rules, offsets)
def test_the_limit_is_exceeded_exactly_after_the_latest_infusion_start(
    thaw: datetime, rule: ThawRule, offset: timedelta
) -> None:
    last = latest_infusion_start(thaw, rule)
    now = last + offset
    why = limit_exceeded(thaw, rule, now)
    if now <= last:
        assert why is None
    else:
        assert why is not None
        assert rule.basis.label in why


@given(appointments, rules)
def test_the_latest_infusion_start_leaves_the_infusion_inside_the_limit(
    thaw: datetime, rule: ThawRule
) -> None:
    last = latest_infusion_start(thaw, rule)
    assert limit_exceeded(thaw, rule, last) is None
    assert limit_exceeded(thaw, rule, last + timedelta(seconds=1)) is not None
    assert expires_at(thaw, rule) == thaw + _minutes(rule.limit_minutes)
    assert _runs_to(last, rule) == expires_at(thaw, rule)


# --- the status steps --------------------------------------------------------------------------


@pytest.mark.parametrize("step", list(DoseStep), ids=lambda s: s.value)
def test_every_step_accepts_exactly_the_statuses_its_table_lists(step: DoseStep) -> None:
    allowed, after = TRANSITIONS[step]
    for status in DoseStatus:
        if status in allowed:
            assert next_status(status, step) is (after or status)
            continue
        with pytest.raises(Conflict) as refused:
            next_status(status, step)
        assert refused.value.field == "status"
        assert status.label in refused.value.message


def test_every_step_has_a_row_in_the_table() -> None:
    assert set(TRANSITIONS) == set(DoseStep)


def test_a_missed_window_accepts_only_the_physicians_override_or_the_signed_disposal() -> None:
    # A missed window keeps the bag (ADR 0018): its only ways on are these two.
    accepting = {
        status: {step for step, (allowed, _) in TRANSITIONS.items() if status in allowed}
        for status in DoseStatus
        if status.finished
    }
    assert accepting == {
        DoseStatus.INFUSED: set(),
        DoseStatus.REJECTED: set(),
        DoseStatus.CANCELLED: set(),
        DoseStatus.WINDOW_MISSED: {DoseStep.LIMIT_OVERRIDDEN, DoseStep.PRODUCT_DISPOSED},
    }


def test_a_dose_goes_the_whole_way_from_order_to_infusion() -> None:
    status = DoseStatus.ORDERED
    seen = []
    for step in (
        DoseStep.ORDERED,
        DoseStep.APPROVED,
        DoseStep.EXPECTED_DIN_SET,
        DoseStep.RECEIVED,
        DoseStep.QUARANTINED,
        DoseStep.STORED,
        DoseStep.RELEASED_BY_QA,
        DoseStep.RETRIEVED,
        DoseStep.APPOINTMENT_MOVED,
        DoseStep.THAW_STARTED,
        DoseStep.THAW_ENDED,
        DoseStep.PREPARATION,
        DoseStep.ISSUED,
        DoseStep.BEDSIDE_CHECKED,
        DoseStep.INFUSION_STARTED,
        DoseStep.INFUSION_ENDED,
    ):
        status = next_status(status, step)
        seen.append(status)
    assert seen == [
        DoseStatus.ORDERED,
        DoseStatus.APPROVED,
        DoseStatus.APPROVED,
        DoseStatus.RECEIVED,
        DoseStatus.RECEIVED,
        DoseStatus.STORED,
        DoseStatus.STORED,
        DoseStatus.RETRIEVED,
        DoseStatus.RETRIEVED,
        DoseStatus.THAWING,
        DoseStatus.THAWED,
        DoseStatus.THAWED,
        DoseStatus.ISSUED,
        DoseStatus.ISSUED,
        DoseStatus.INFUSING,
        DoseStatus.INFUSED,
    ]
    assert status.finished


@pytest.mark.parametrize(
    "status", [DoseStatus.THAWING, DoseStatus.THAWED, DoseStatus.ISSUED, DoseStatus.INFUSING]
)
def test_a_thawed_dose_can_no_longer_be_cancelled(status: DoseStatus) -> None:
    with pytest.raises(Conflict, match="cannot record 'cancelled'"):
        next_status(status, DoseStep.CANCELLED)


def test_an_override_brings_a_missed_window_back_to_issued_once() -> None:
    assert next_status(DoseStatus.WINDOW_MISSED, DoseStep.LIMIT_OVERRIDDEN) is DoseStatus.ISSUED
    assert next_status(DoseStatus.ISSUED, DoseStep.WINDOW_MISSED) is DoseStatus.WINDOW_MISSED
    with pytest.raises(Conflict):
        next_status(DoseStatus.WINDOW_MISSED, DoseStep.ISSUED)
