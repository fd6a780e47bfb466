"""The cleanrooms' pure rules: grades, codes, room state transitions, gowning standing, the gate
and the pressure cascade."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.cleanrooms.domain import (
    GRADES,
    GowningPolicy,
    GowningSession,
    GowningStatus,
    LocationView,
    Neighbour,
    QualificationStatus,
    RoomState,
    SessionView,
    at_least_as_clean,
    cascade_problems,
    check_contact_minutes,
    check_pressure,
    effective_state,
    gowning_grade,
    gowning_problem,
    gowning_standing,
    location_label,
    location_problem,
    parse_code,
    parse_grade,
    product_problem,
    transition_problem,
)
from atmpchain.cleanrooms.gowning import parse_policy, policy
from atmpchain.errors import InvalidInput

POLICY = GowningPolicy(
    "B", initial_sessions=3, requalification_days=365, lapse_on_failure=True, source="t"
)
D0 = date(2026, 1, 1)


def _s(day: int, passed: bool = True) -> GowningSession:
    return GowningSession(D0 + timedelta(days=day), passed)


# --- grades and codes ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["A", "b", " grade C ", "GRADE d"])
def test_parses_grades(text: str) -> None:
    assert parse_grade(text) in GRADES


@pytest.mark.parametrize("text", ["", "E", "AB", "grade", "1"])
def test_refuses_what_is_not_a_grade(text: str) -> None:
    with pytest.raises(InvalidInput) as bad:
        parse_grade(text)
    assert bad.value.field == "grade"


def test_a_cleaner_grade_meets_a_less_clean_requirement_never_the_reverse() -> None:
    assert at_least_as_clean("A", "C") and at_least_as_clean("C", "C")
    assert not at_least_as_clean("C", "B") and not at_least_as_clean("D", "A")


@given(st.sampled_from(GRADES), st.sampled_from(GRADES))
def test_cleanliness_is_the_order_of_the_grades(one: str, two: str) -> None:
    assert at_least_as_clean(one, two) == (GRADES.index(one) <= GRADES.index(two))


def test_grade_a_zones_are_gowned_for_their_grade_b_background() -> None:
    assert [gowning_grade(g) for g in GRADES] == ["B", "B", "C", "D"]


def test_room_codes_and_their_labels_round_trip() -> None:
    assert parse_code(location_label("BSC-1"), field="location") == "BSC-1"
    assert parse_code(" cr-b1 ", field="location") == "CR-B1"
    with pytest.raises(InvalidInput):
        parse_code("CR B1", field="location")


@given(st.text(max_size=40))
def test_a_code_is_either_refused_or_clean(text: str) -> None:
    try:
        code = parse_code(text, field="location")
    except InvalidInput:
        return
    assert 1 <= len(code) <= 24 and code == code.upper() and " " not in code


def test_checks_contact_time_and_pressure_ranges() -> None:
    assert check_contact_minutes(10) == 10
    with pytest.raises(InvalidInput):
        check_contact_minutes(0)
    assert check_pressure(None) is None and check_pressure(-100) == -100
    with pytest.raises(InvalidInput):
        check_pressure(101)


# --- room states ----------------------------------------------------------------------------------


def test_operators_move_between_operation_and_cleaning() -> None:
    assert transition_problem(RoomState.IN_OPERATION, RoomState.CLEANING, by_qa=False) is None
    assert transition_problem(RoomState.CLEANING, RoomState.IN_OPERATION, by_qa=False) is None


def test_only_qa_closes_a_room_for_investigation() -> None:
    move = (RoomState.IN_OPERATION, RoomState.CLOSED_FOR_INVESTIGATION)
    assert "only QA" in (transition_problem(*move, by_qa=False) or "")
    assert transition_problem(*move, by_qa=True) is None


def test_an_investigation_ends_through_cleaning_never_straight_into_operation() -> None:
    problem = transition_problem(
        RoomState.CLOSED_FOR_INVESTIGATION, RoomState.IN_OPERATION, by_qa=True
    )
    assert problem is not None and "through cleaning" in problem
    assert (
        transition_problem(RoomState.CLOSED_FOR_INVESTIGATION, RoomState.CLEANING, by_qa=True)
        is None
    )


def test_out_of_service_returns_only_through_a_passed_qualification() -> None:
    problem = transition_problem(RoomState.OUT_OF_SERVICE, RoomState.IN_OPERATION, by_qa=True)
    assert problem is not None and "qualification" in problem


@given(st.sampled_from(RoomState), st.sampled_from(RoomState), st.booleans())
def test_a_transition_is_allowed_or_named(one: RoomState, two: RoomState, qa: bool) -> None:
    problem = transition_problem(one, two, by_qa=qa)
    if one is two:
        assert problem is not None and "already" in problem
    if problem is None:
        assert one is not two
        # Nobody reaches operation except from cleaning (or through a qualification record).
        if two is RoomState.IN_OPERATION:
            assert one is RoomState.CLEANING


def test_requalification_is_due_the_day_after_its_due_date() -> None:
    due = date(2026, 6, 30)
    assert effective_state(RoomState.IN_OPERATION, due, due) is RoomState.IN_OPERATION
    assert (
        effective_state(RoomState.IN_OPERATION, due, due + timedelta(days=1))
        is RoomState.REQUALIFICATION_DUE
    )
    assert effective_state(RoomState.CLEANING, due, due + timedelta(days=9)) is RoomState.CLEANING


# --- gowning --------------------------------------------------------------------------------------


def test_three_consecutive_passes_qualify() -> None:
    standing = gowning_standing([_s(0), _s(1), _s(2)], POLICY, on=D0 + timedelta(days=3))
    assert standing.status is GowningStatus.QUALIFIED
    assert standing.qualified_on == D0 + timedelta(days=2)
    assert standing.valid_until == D0 + timedelta(days=367)


def test_a_failure_starts_the_count_again() -> None:
    sessions = [_s(0), _s(1), _s(2, False), _s(3), _s(4)]
    standing = gowning_standing(sessions, POLICY, on=D0 + timedelta(days=5))
    assert standing.status is GowningStatus.NOT_QUALIFIED and standing.passes_towards == 2


def test_a_qualification_lapses_the_day_after_its_interval() -> None:
    sessions = [_s(0), _s(1), _s(2)]
    last = D0 + timedelta(days=367)
    assert gowning_standing(sessions, POLICY, on=last).status is GowningStatus.QUALIFIED
    lapsed = gowning_standing(sessions, POLICY, on=last + timedelta(days=1))
    assert lapsed.status is GowningStatus.LAPSED and lapsed.lapsed_on == last + timedelta(days=1)
    assert gowning_problem("Olga", "B", lapsed) == (
        f"Olga's gowning qualification for grade B lapsed on {lapsed.lapsed_on}: requalify "
        "before working in grade B"
    )


def test_a_passed_routine_session_renews_and_a_failed_one_lapses() -> None:
    renewed = gowning_standing([_s(0), _s(1), _s(2), _s(300)], POLICY, on=D0 + timedelta(days=400))
    assert renewed.valid_until == D0 + timedelta(days=665)
    failed = gowning_standing(
        [_s(0), _s(1), _s(2), _s(100, False)], POLICY, on=D0 + timedelta(days=101)
    )
    assert failed.status is GowningStatus.LAPSED and failed.lapsed_on == D0 + timedelta(days=100)


def test_sessions_after_the_day_asked_do_not_count() -> None:
    standing = gowning_standing([_s(0), _s(1), _s(2)], POLICY, on=D0 + timedelta(days=1))
    assert standing.status is GowningStatus.NOT_QUALIFIED


@given(st.lists(st.tuples(st.integers(0, 900), st.booleans()), max_size=12), st.integers(0, 1000))
def test_qualified_only_after_enough_passes_and_only_within_the_interval(
    raw: list[tuple[int, bool]], asked: int
) -> None:
    sessions = [_s(d, p) for d, p in raw]
    on = D0 + timedelta(days=asked)
    standing = gowning_standing(sessions, POLICY, on=on)
    if standing.status is GowningStatus.QUALIFIED:
        assert standing.valid_until is not None and standing.valid_until >= on
        passes_before = [s for s in sessions if s.on <= on and s.passed]
        assert len(passes_before) >= POLICY.initial_sessions
        # The last session up to that day renewed or granted it within the interval.
        last_pass = max(s.on for s in passes_before)
        assert standing.valid_until == last_pass + timedelta(days=POLICY.requalification_days)
    elif standing.status is GowningStatus.LAPSED:
        assert standing.lapsed_on is not None and standing.lapsed_on <= on
        assert gowning_problem("X", "B", standing) is not None


def test_the_shipped_policy_reads_and_bad_policies_are_refused() -> None:
    shipped = policy()
    assert shipped["B"].initial_sessions == 3 and shipped["B"].requalification_days == 365
    assert "unverified" in shipped["B"].source
    with pytest.raises(ValueError, match="initial_sessions"):
        parse_policy({"grades": {"B": {"initial_sessions": 0, "requalification_days": 365}}})
    with pytest.raises(ValueError, match="grades"):
        parse_policy({})


# --- the gate -------------------------------------------------------------------------------------

NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)


def _where(**changes: object) -> LocationView:
    base: dict[str, object] = {
        "room_code": "CR-B1",
        "room_grade": "B",
        "room_state": RoomState.IN_OPERATION,
        "qualification": QualificationStatus.QUALIFIED,
        "requalification_due": date(2026, 12, 31),
        "workstation_code": "BSC-1",
        "workstation_grade": "A",
    }
    base.update(changes)
    return LocationView(**base)  # type: ignore[arg-type]


def test_location_rules_in_the_order_a_person_fixes_them() -> None:
    on = date(2026, 3, 1)
    assert location_problem(_where(), required_grade="A", on=on) is None
    closed = _where(room_state=RoomState.CLOSED_FOR_INVESTIGATION)
    assert "closed for investigation" in (location_problem(closed, required_grade="A", on=on) or "")
    unqualified = _where(qualification=QualificationStatus.FAILED)
    assert "not qualified" in (location_problem(unqualified, required_grade="A", on=on) or "")
    due = _where(requalification_due=date(2026, 2, 1))
    assert "requalification due since 2026-02-01" in (
        location_problem(due, required_grade="A", on=on) or ""
    )
    off = _where(workstation_in_service=False)
    assert "out of service" in (location_problem(off, required_grade="A", on=on) or "")
    room_only = _where(workstation_code=None, workstation_grade=None)
    assert location_problem(room_only, required_grade="A", on=on) == (
        "CR-B1 is grade B; the step requires grade A"
    )
    assert location_problem(room_only, required_grade="C", on=on) is None


def _session(closed: bool, *batches: tuple[str, str]) -> SessionView:
    return SessionView(NOW, NOW + timedelta(hours=1) if closed else None, batches)


def test_one_patient_per_workstation_many_closed_systems_per_room() -> None:
    open_one = _session(False, ("B1", "COI:1"))
    assert "another patient's product open (batch B1)" in (
        product_problem(
            _where(),
            batch_number="B2",
            patient="COI:2",
            open_session=open_one,
            last_closed=None,
            cleaned_at=None,
        )
        or ""
    )
    # The same patient's second batch may join; a room holds several patients' closed systems.
    assert (
        product_problem(
            _where(),
            batch_number="B3",
            patient="COI:1",
            open_session=open_one,
            last_closed=None,
            cleaned_at=None,
        )
        is None
    )
    room = _where(workstation_code=None, workstation_grade=None)
    assert (
        product_problem(
            room,
            batch_number="B2",
            patient="COI:2",
            open_session=open_one,
            last_closed=None,
            cleaned_at=None,
        )
        is None
    )


def test_cleaned_since_the_previous_product() -> None:
    last = _session(True, ("B1", "COI:1"))
    assert last.closed_at is not None
    refused = product_problem(
        _where(),
        batch_number="B2",
        patient="COI:2",
        open_session=None,
        last_closed=last,
        cleaned_at=last.closed_at - timedelta(minutes=1),
    )
    assert refused is not None and "not cleaned since the previous product (batch B1)" in refused
    for cleaned in (last.closed_at, last.closed_at + timedelta(minutes=5)):
        assert (
            product_problem(
                _where(),
                batch_number="B2",
                patient="COI:2",
                open_session=None,
                last_closed=last,
                cleaned_at=cleaned,
            )
            is None
        )
    # The same batch coming back needs no cleaning in between.
    assert (
        product_problem(
            _where(),
            batch_number="B1",
            patient="COI:1",
            open_session=None,
            last_closed=last,
            cleaned_at=None,
        )
        is None
    )


def test_an_inverted_cascade_is_named_and_an_equal_grade_is_not_checked() -> None:
    doors = [
        Neighbour("CR-B1", "B", 40, "AL-B1", "B", 45),
        Neighbour("AL-B1", "B", 20, "CR-C1", "C", 25),
        Neighbour("CR-C1", "C", 25, "CR-D1", "D", 10),
        Neighbour("X", None, 1, "Y", "D", 2),
    ]
    assert cascade_problems(doors) == ["AL-B1 (grade B, 20 Pa) is not above CR-C1 (grade C, 25 Pa)"]


@given(
    st.lists(st.sampled_from(["COI:1", "COI:2", "LOT:D7"]), min_size=1, max_size=4),
    st.sampled_from(["COI:1", "COI:2", "LOT:D7"]),
)
def test_a_workstation_never_takes_a_second_patient_a_room_always_may(
    open_patients: list[str], patient: str
) -> None:
    open_now = SessionView(NOW, None, [(f"B{n}", p) for n, p in enumerate(open_patients)])
    at_cabinet = product_problem(
        _where(), batch_number="BX", patient=patient, open_session=open_now,
        last_closed=None, cleaned_at=None,
    )  # fmt: skip
    others = {p for p in open_patients if p != patient}
    assert (at_cabinet is not None) == bool(others)
    in_room = product_problem(
        _where(workstation_code=None, workstation_grade=None), batch_number="BX",
        patient=patient, open_session=open_now, last_closed=None, cleaned_at=None,
    )  # fmt: skip
    assert in_room is None
