"""What people read when a deviation rule refuses: the field, the value and the rule, exactly."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from atmpchain.errors import Conflict, InvalidInput
from atmpchain.quality.domain import (
    MAX_BATCH_NUMBER,
    MAX_SEQUENCE,
    CapaFacts,
    Classification,
    ClosureFacts,
    DeviationEvent,
    DeviationState,
    Effectiveness,
    ImpactDecision,
    check_closable,
    check_due_date,
    clean_batch_number,
    closure_problems,
    deviation_number,
    facility_date,
    next_state,
    parse_deviation_number,
    unique_in_order,
)

NUMBER = "DEV-2026-00007"


def _empty(**changes: object) -> ClosureFacts:
    base: dict[str, object] = {
        "number": NUMBER,
        "state": DeviationState.INVESTIGATING,
        "classification": None,
        "impact": None,
        "root_cause": None,
        "raised_by_id": None,
        "capas": (),
    }
    base.update(changes)
    return ClosureFacts(**base)  # type: ignore[arg-type]


def test_a_refused_event_names_the_deviation_its_state_and_what_it_allows() -> None:
    with pytest.raises(Conflict) as refused:
        next_state(DeviationState.CLOSED, DeviationEvent.CLASSIFY, NUMBER)
    assert refused.value.message == (
        f"deviation {NUMBER} is closed: 'classify' is not possible (it allows only: reopen)"
    )
    with pytest.raises(Conflict) as unnamed:
        next_state(DeviationState.RAISED, DeviationEvent.CLOSE)
    assert unnamed.value.message == (
        "the deviation is raised, to be classified: 'close' is not possible "
        "(it allows only: classify, add-affected)"
    )


def test_a_state_that_allows_nothing_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from atmpchain.quality import domain

    monkeypatch.setitem(domain.TRANSITIONS, DeviationState.CLOSED, {})
    with pytest.raises(Conflict) as refused:
        next_state(DeviationState.CLOSED, DeviationEvent.REOPEN, NUMBER)
    assert refused.value.message.endswith("(it allows nothing)")


def test_every_missing_part_is_named_in_order() -> None:
    assert closure_problems(_empty()) == [
        ("classification", "QA has not classified it"),
        ("impact", "there is no impact assessment"),
        ("root_cause", "there is no root cause"),
    ]
    critical = closure_problems(_empty(classification=Classification.CRITICAL))
    assert ("capas", "a critical deviation needs at least one CAPA") in critical


def test_the_closure_refusal_lists_every_problem_and_names_the_first_field() -> None:
    capas = (
        CapaFacts(1, 5, True, None),
        CapaFacts(2, 5, False, None),
    )
    with pytest.raises(Conflict) as refused:
        check_closable(
            _empty(
                classification=Classification.MINOR,
                impact=ImpactDecision.NO_IMPACT,
                capas=capas,
            ),
            closer_id=9,
        )
    assert refused.value.field == "root_cause"
    assert refused.value.message == (
        f"deviation {NUMBER} cannot be closed yet: there is no root cause; "
        "CAPA 1 has no effectiveness check; CAPA 2 is not done"
    )


def test_closing_a_closed_deviation_names_it() -> None:
    with pytest.raises(Conflict, match=f"^deviation {NUMBER} is closed"):
        check_closable(_empty(state=DeviationState.CLOSED), closer_id=9)


def test_the_capa_rule_is_data_a_site_can_change() -> None:
    facts = _empty(
        classification=Classification.MINOR, impact=ImpactDecision.NO_IMPACT, root_cause="c"
    )
    check_closable(facts, closer_id=9)
    with pytest.raises(Conflict, match="a minor deviation needs at least one CAPA"):
        check_closable(facts, closer_id=9, capa_required_for=frozenset({Classification.MINOR}))


def test_a_later_effective_capa_answers_an_ineffective_one_only_if_later() -> None:
    facts = _empty(
        classification=Classification.MAJOR,
        impact=ImpactDecision.NO_IMPACT,
        root_cause="c",
        capas=(
            CapaFacts(1, 5, True, Effectiveness.EFFECTIVE),
            CapaFacts(2, 5, True, Effectiveness.NOT_EFFECTIVE),
        ),
    )
    assert closure_problems(facts) == [
        ("capas", "CAPA 2 was not effective and no later CAPA has been found effective")
    ]


def test_a_past_due_date_is_refused_with_both_dates() -> None:
    with pytest.raises(InvalidInput) as refused:
        check_due_date(date(2026, 1, 4), today=date(2026, 1, 5), field="due_date")
    assert refused.value.field == "due_date"
    assert refused.value.message == (
        "the due date 2026-01-04 is in the past (today is 2026-01-05): "
        "a new CAPA is due today or later"
    )


def test_numbers_run_from_one_to_the_last_sequence() -> None:
    assert deviation_number(2026, MAX_SEQUENCE) == "DEV-2026-99999"
    assert parse_deviation_number("DEV-2026-99999") == "DEV-2026-99999"
    for bad in (0, MAX_SEQUENCE + 1):
        with pytest.raises(ValueError, match=f"^sequence {bad} out of range$"):
            deviation_number(2026, bad)
    with pytest.raises(InvalidInput):
        parse_deviation_number("DEV-2026-00000")


def test_a_bad_number_is_shown_shortened_with_an_example() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_deviation_number("x" * 45, field="deviation")
    assert refused.value.field == "deviation"
    assert refused.value.message == (
        f"'{'X' * 40}' is not a deviation number (DEV-, the year, a dash and five digits, "
        "e.g. DEV-2026-00042)"
    )


def test_batch_numbers_up_to_their_length_are_kept_and_longer_ones_refused() -> None:
    assert clean_batch_number(None) is None
    assert clean_batch_number("B" * MAX_BATCH_NUMBER) == "B" * MAX_BATCH_NUMBER
    with pytest.raises(InvalidInput) as refused:
        clean_batch_number("B" * (MAX_BATCH_NUMBER + 1), field="batch")
    assert refused.value.field == "batch"
    assert refused.value.message == (
        f"'{'B' * 41}' is not a batch number: up to 40 letters, digits, "
        "'.', '_', '/' or '-', starting with a letter or digit"
    )
    with pytest.raises(InvalidInput, match=f"^'{'C' * 60}' is not"):
        clean_batch_number("C" * 70)
    with pytest.raises(InvalidInput) as default_field:
        clean_batch_number("a b")
    assert default_field.value.field == "batch_number"


def test_the_facility_day_is_the_local_calendar_day() -> None:
    late = datetime(2026, 1, 4, 23, 30, tzinfo=UTC)
    assert facility_date(late, "Europe/Vienna") == date(2026, 1, 5)
    assert facility_date(late, "UTC") == date(2026, 1, 4)


def test_repeats_are_dropped_keeping_the_first_order() -> None:
    assert unique_in_order(["b", "a", "b", "c", "a"]) == ("b", "a", "c")
