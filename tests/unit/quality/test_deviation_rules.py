"""The pure rules of deviations: states, closure, CAPA due dates, numbers, segregation of duties."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.errors import Conflict, InvalidInput
from atmpchain.quality.domain import (
    CAPA_REQUIRED_FOR,
    TRANSITIONS,
    CapaFacts,
    Classification,
    ClosureFacts,
    DeviationEvent,
    DeviationState,
    Effectiveness,
    ImpactDecision,
    capa_overdue,
    check_closable,
    check_due_date,
    clean_batch_number,
    closure_problems,
    days_overdue,
    deviation_number,
    next_state,
    parse_deviation_number,
)
from atmpchain.signatures.domain import SegregationOfDutiesError

RAISER, QA, OWNER = 1, 2, 3

states = st.sampled_from(list(DeviationState))
events = st.sampled_from(list(DeviationEvent))


def _capa(position: int, *, done: bool = True, eff: Effectiveness | None = None) -> CapaFacts:
    return CapaFacts(position=position, owner_id=OWNER, done=done, effectiveness=eff)


def _facts(**changes: object) -> ClosureFacts:
    base: dict[str, object] = {
        "number": "DEV-2026-00001",
        "state": DeviationState.INVESTIGATING,
        "classification": Classification.MAJOR,
        "impact": ImpactDecision.NO_IMPACT,
        "root_cause": "pipette not calibrated",
        "raised_by_id": RAISER,
        "capas": (_capa(1, eff=Effectiveness.EFFECTIVE),),
    }
    base.update(changes)
    return ClosureFacts(**base)  # type: ignore[arg-type]


# --- states -------------------------------------------------------------------------------------


@given(states, events)
def test_an_event_is_accepted_exactly_where_the_table_allows_it(
    state: DeviationState, event: DeviationEvent
) -> None:
    if event in TRANSITIONS[state]:
        assert next_state(state, event) is TRANSITIONS[state][event]
    else:
        with pytest.raises(Conflict) as refused:
            next_state(state, event, "DEV-2026-00001")
        assert refused.value.field == "state"
        assert state.label in refused.value.message


@given(st.lists(events, max_size=30))
def test_a_closed_deviation_changes_only_by_being_reopened(path: list[DeviationEvent]) -> None:
    state = DeviationState.RAISED
    for event in path:
        try:
            after = next_state(state, event)
        except Conflict:
            continue
        if state is DeviationState.CLOSED:
            assert event is DeviationEvent.REOPEN
            assert after is DeviationState.INVESTIGATING
        if after is DeviationState.CLOSED:
            assert event is DeviationEvent.CLOSE
            assert state is DeviationState.INVESTIGATING
        state = after


def test_nothing_but_classification_moves_a_raised_deviation_on() -> None:
    raised = TRANSITIONS[DeviationState.RAISED]
    assert {e for e, s in raised.items() if s is not DeviationState.RAISED} == {
        DeviationEvent.CLASSIFY
    }
    with pytest.raises(Conflict):
        next_state(DeviationState.RAISED, DeviationEvent.CLOSE)


def test_only_closed_is_not_open() -> None:
    assert [s for s in DeviationState if not s.is_open] == [DeviationState.CLOSED]


# --- closure ------------------------------------------------------------------------------------


def test_a_complete_deviation_closes_by_an_independent_person() -> None:
    check_closable(_facts(), closer_id=QA)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"classification": None}, "classification"),
        ({"impact": None}, "impact"),
        ({"root_cause": None}, "root_cause"),
        ({"root_cause": ""}, "root_cause"),
        ({"capas": ()}, "capas"),
        ({"capas": (_capa(1, done=False),)}, "capas"),
        ({"capas": (_capa(1),)}, "capas"),
        ({"capas": (_capa(1, eff=Effectiveness.NOT_EFFECTIVE),)}, "capas"),
    ],
)
def test_refuses_closing_while_something_is_missing(changes: dict[str, object], field: str) -> None:
    with pytest.raises(Conflict) as refused:
        check_closable(_facts(**changes), closer_id=QA)
    assert refused.value.field == field


def test_a_minor_deviation_may_close_without_capa() -> None:
    assert Classification.MINOR not in CAPA_REQUIRED_FOR
    check_closable(_facts(classification=Classification.MINOR, capas=()), closer_id=QA)


def test_an_ineffective_capa_is_answered_by_a_later_effective_one() -> None:
    capas = (_capa(1, eff=Effectiveness.NOT_EFFECTIVE), _capa(2, eff=Effectiveness.EFFECTIVE))
    assert closure_problems(_facts(capas=capas)) == []
    earlier_good = (
        _capa(1, eff=Effectiveness.EFFECTIVE),
        _capa(2, eff=Effectiveness.NOT_EFFECTIVE),
    )
    problems = closure_problems(_facts(capas=earlier_good))
    assert any("not effective" in text for _, text in problems)


@given(
    st.lists(
        st.tuples(st.booleans(), st.sampled_from([None, *Effectiveness])), min_size=0, max_size=6
    ),
    st.sampled_from([None, *Classification]),
    st.sampled_from([None, *ImpactDecision]),
    st.sampled_from([None, "", "cause"]),
)
def test_closable_exactly_when_every_part_is_complete(
    capa_states: list[tuple[bool, Effectiveness | None]],
    classification: Classification | None,
    impact: ImpactDecision | None,
    root_cause: str | None,
) -> None:
    capas = tuple(
        _capa(i + 1, done=done or eff is not None, eff=eff)
        for i, (done, eff) in enumerate(capa_states)
    )
    facts = _facts(capas=capas, classification=classification, impact=impact, root_cause=root_cause)
    effective_after_last_bad = True
    bad = [c.position for c in capas if c.effectiveness is Effectiveness.NOT_EFFECTIVE]
    if bad:
        effective_after_last_bad = any(
            c.position > max(bad) and c.effectiveness is Effectiveness.EFFECTIVE for c in capas
        )
    complete = (
        classification is not None
        and impact is not None
        and bool(root_cause)
        and (classification not in CAPA_REQUIRED_FOR or bool(capas))
        and all(c.done and c.effectiveness is not None for c in capas)
        and effective_after_last_bad
    )
    assert (closure_problems(facts) == []) is complete


def test_the_raiser_never_closes_their_own_deviation() -> None:
    with pytest.raises(SegregationOfDutiesError, match="raised the deviation"):
        check_closable(_facts(), closer_id=RAISER)


def test_a_capa_owner_never_closes_the_deviation() -> None:
    with pytest.raises(SegregationOfDutiesError, match="owns one of its CAPAs"):
        check_closable(_facts(), closer_id=OWNER)


def test_a_closed_deviation_cannot_be_closed_again() -> None:
    with pytest.raises(Conflict):
        check_closable(_facts(state=DeviationState.CLOSED), closer_id=QA)


# --- CAPA due dates -----------------------------------------------------------------------------


@given(st.dates(), st.integers(min_value=-400, max_value=400), st.booleans())
def test_a_capa_is_overdue_only_after_its_due_day_and_while_not_done(
    due: date, offset: int, done: bool
) -> None:
    try:
        today = due + timedelta(days=offset)
    except OverflowError:
        return
    assert capa_overdue(due=due, done=done, today=today) is (not done and offset > 0)
    assert days_overdue(due=due, today=today) == max(0, offset)


def test_a_new_capa_is_not_due_in_the_past() -> None:
    today = date(2026, 11, 30)
    check_due_date(today, today=today)
    with pytest.raises(InvalidInput) as refused:
        check_due_date(today - timedelta(days=1), today=today)
    assert refused.value.field == "due"


# --- numbers and batch numbers ------------------------------------------------------------------


@given(st.integers(min_value=2000, max_value=9999), st.integers(min_value=1, max_value=99_999))
def test_a_deviation_number_reads_back_as_itself(year: int, sequence: int) -> None:
    number = deviation_number(year, sequence)
    assert parse_deviation_number(f"  {number.lower()} ") == number


@given(st.text(max_size=30))
def test_anything_else_is_not_a_deviation_number(text: str) -> None:
    try:
        value = parse_deviation_number(text)
    except InvalidInput as exc:
        assert exc.field == "number"
    else:
        assert value.startswith("DEV-") and len(value) == 15


@pytest.mark.parametrize("bad", ["B 001", "-B1", "B1;DROP", "x" * 41, "Ä1"])
def test_refuses_a_malformed_batch_number(bad: str) -> None:
    with pytest.raises(InvalidInput):
        clean_batch_number(bad)


def test_a_blank_batch_number_means_none() -> None:
    assert clean_batch_number("  ") is None
    assert clean_batch_number(" CAR-T/2026.01 ") == "CAR-T/2026.01"
