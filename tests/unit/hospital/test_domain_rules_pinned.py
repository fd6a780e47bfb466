"""Hospital dose rules pinned one by one: appointments, patient ids, the words of each refusal,
and the status steps a dose must never skip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from atmpchain.errors import Conflict, InvalidInput
from atmpchain.hospital.domain import (
    DoseStatus,
    DoseStep,
    LimitBasis,
    ProductCategory,
    ThawRule,
    ThawWindow,
    WindowRuleError,
    check_appointment,
    check_patient_ref,
    check_thaw_start,
    limit_exceeded,
    next_status,
    thaw_window,
)

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
KYMRIAH = ThawRule(5, 5, 15, 30, LimitBasis.INFUSION_END)
NINE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


# --- appointments --------------------------------------------------------------------------


def test_an_appointment_without_a_time_zone_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"^give the appointment with its time zone$") as refused:
        check_appointment(datetime(2026, 3, 2, 9, 0), NOW)  # noqa: DTZ001 - the case under test
    assert refused.value.field == "appointment_at"


def test_an_appointment_in_any_time_zone_is_accepted() -> None:
    check_appointment(datetime(2026, 3, 2, 10, 0, tzinfo=timezone(timedelta(hours=1))), NOW)


@pytest.mark.parametrize(
    "offset",
    [timedelta(minutes=-5), timedelta(0), timedelta(days=366)],
    ids=["five-minutes-ago", "now", "a-year-and-a-day-ahead"],
)
def test_an_appointment_from_five_minutes_ago_to_366_days_ahead_is_accepted(
    offset: timedelta,
) -> None:
    check_appointment(NOW + offset, NOW)


def test_an_appointment_more_than_five_minutes_in_the_past_is_refused() -> None:
    with pytest.raises(InvalidInput, match=r"^the infusion appointment is in the past$") as refused:
        check_appointment(NOW - timedelta(minutes=5, seconds=1), NOW)
    assert refused.value.field == "appointment_at"


def test_an_appointment_more_than_a_year_ahead_is_refused() -> None:
    with pytest.raises(
        InvalidInput, match=r"^the infusion appointment is more than a year ahead$"
    ) as refused:
        check_appointment(NOW + timedelta(days=366, seconds=1), NOW)
    assert refused.value.field == "appointment_at"


# --- patient references --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("  PAT-001 ", "PAT-001"),
        ("abc", "abc"),
        ("x" * 64, "x" * 64),
        ("site/2026.07_12-a", "site/2026.07_12-a"),
    ],
)
def test_a_pseudonymous_patient_id_is_kept_without_surrounding_spaces(
    typed: str, kept: str
) -> None:
    assert check_patient_ref(typed) == kept


@pytest.mark.parametrize(
    "typed",
    ["", "ab", "  ab  ", "x" * 65, "PAT 001", "PAT#001", "PAT,001", "PAT\t001", "Müller Anna"],
    ids=["empty", "two", "two-padded", "65", "space", "hash", "comma", "tab", "name-with-space"],
)
def test_a_patient_id_that_is_short_long_or_has_other_characters_is_refused(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_patient_ref(typed)
    assert refused.value.field == "patient_ref"
    assert refused.value.message == (
        "the patient id must be 3 to 64 letters, digits or - _ . / without spaces"
    )


# --- the status steps a dose must not skip -------------------------------------------------


def test_a_dose_still_thawing_cannot_be_issued() -> None:
    with pytest.raises(Conflict) as refused:
        next_status(DoseStatus.THAWING, DoseStep.ISSUED)
    assert refused.value.message == (
        "cannot record 'issued': the dose is thawing; this step needs a dose that is thawed"
    )
    assert refused.value.field == "status"


def test_a_dose_cannot_be_thawed_straight_from_the_cryostore() -> None:
    with pytest.raises(
        Conflict, match="the dose is stored; this step needs a dose that is retrieved"
    ):
        next_status(DoseStatus.STORED, DoseStep.THAW_STARTED)


@pytest.mark.parametrize("status", [DoseStatus.APPROVED, DoseStatus.RECEIVED])
def test_a_dose_never_stored_cannot_be_retrieved(status: DoseStatus) -> None:
    with pytest.raises(Conflict, match=r"cannot record 'retrieved'.* needs a dose that is stored$"):
        next_status(status, DoseStep.RETRIEVED)


def test_a_refused_step_names_every_status_it_would_accept_in_order() -> None:
    with pytest.raises(Conflict) as refused:
        next_status(DoseStatus.ORDERED, DoseStep.STORED)
    assert refused.value.message.endswith("needs a dose that is received or retrieved")


def test_a_step_that_keeps_the_status_returns_the_current_one() -> None:
    assert next_status(DoseStatus.THAWED, DoseStep.PREPARATION) is DoseStatus.THAWED
    assert next_status(DoseStatus.STORED, DoseStep.RELEASED_BY_QA) is DoseStatus.STORED


def test_statuses_steps_and_categories_read_as_staff_say_them() -> None:
    assert DoseStatus.WINDOW_MISSED.label == "window missed"
    assert DoseStep.RELEASED_BY_QA.label == "Released by QA"
    assert DoseStep.EXPECTED_DIN_SET.label == "Expected DIN set"
    assert DoseStep.THAW_STARTED.label == "Thaw started"
    assert LimitBasis.INFUSION_START.label == "start of infusion"
    assert LimitBasis.INFUSION_END.label == "end of infusion"
    assert {c: c.label for c in ProductCategory} == {
        ProductCategory.CAR_T: "CAR-T cell therapy",
        ProductCategory.GENE_THERAPY: "Gene therapy (vector)",
        ProductCategory.GENE_MODIFIED_STEM_CELLS: "Gene-modified stem cells",
        ProductCategory.SOMATIC_CELL_THERAPY: "Somatic cell therapy",
        ProductCategory.TISSUE_ENGINEERED: "Tissue-engineered product",
        ProductCategory.INVESTIGATIONAL: "Investigational ATMP",
    }


def test_only_infused_missed_rejected_and_cancelled_doses_are_finished() -> None:
    assert {s for s in DoseStatus if s.finished} == {
        DoseStatus.INFUSED,
        DoseStatus.WINDOW_MISSED,
        DoseStatus.REJECTED,
        DoseStatus.CANCELLED,
    }


# --- limits of the catalogue values --------------------------------------------------------


@pytest.mark.parametrize("minutes", [0, 1440])
def test_thaw_preparation_infusion_and_transport_may_take_0_to_1440_minutes(minutes: int) -> None:
    rule = ThawRule(minutes, minutes, minutes, 60, LimitBasis.INFUSION_START)
    window = thaw_window(NINE, rule, minutes)
    assert window.latest == NINE - timedelta(minutes=3 * minutes)


@pytest.mark.parametrize("field", ["thaw_minutes", "preparation_minutes", "infusion_minutes"])
def test_a_catalogue_time_over_a_day_is_refused_naming_it(field: str) -> None:
    values = {"thaw_minutes": 0, "preparation_minutes": 0, "infusion_minutes": 0}
    values[field] = 1441
    with pytest.raises(ValueError, match=f"^{field} must be 0 to 1440 minutes$"):
        ThawRule(**values, limit_minutes=60, basis=LimitBasis.INFUSION_START)


@pytest.mark.parametrize("limit", [1, 14 * 24 * 60])
def test_a_thaw_to_infusion_limit_of_1_minute_to_14_days_is_accepted(limit: int) -> None:
    assert ThawRule(0, 0, 0, limit, LimitBasis.INFUSION_START).limit_minutes == limit


# --- the words of each refusal -------------------------------------------------------------


def test_a_thaw_too_early_says_when_it_may_start_and_how_long_that_is_from_now() -> None:
    window = thaw_window(NINE, KYMRIAH, 0)  # 08:45 to 08:50
    with pytest.raises(WindowRuleError) as refused:
        check_thaw_start(window, NINE - timedelta(hours=2))
    assert refused.value.message == (
        "too early to thaw: the earliest thaw start for the infusion at 2026-03-02 09:00 UTC is "
        "2026-03-02 08:45 UTC (1 h 45 min from now); a product thawed now would expire before the "
        "infusion is over"
    )
    assert refused.value.field == "thaw_start"


def test_a_thaw_too_late_says_by_when_it_had_to_start() -> None:
    window = thaw_window(NINE, KYMRIAH, 0)
    with pytest.raises(WindowRuleError) as refused:
        check_thaw_start(window, NINE - timedelta(minutes=5))
    assert refused.value.message == (
        "too late to thaw for the infusion at 2026-03-02 09:00 UTC: thawing had to start by "
        "2026-03-02 08:50 UTC; the physician moves the appointment first"
    )


def test_an_infeasible_window_is_refused_with_its_problem_on_the_appointment() -> None:
    window = ThawWindow(NINE, NINE, NINE - timedelta(minutes=59))
    with pytest.raises(WindowRuleError) as refused:
        check_thaw_start(window, NINE)
    assert refused.value.field == "appointment_at"
    assert refused.value.message == (
        "no thaw time works: the product would expire 59 min before the infusion ends; shorten "
        "the transport (thaw on the ward) or the preparation"
    )


def test_an_exceeded_limit_says_the_limit_the_thaw_start_and_how_long_ago_it_ran_out() -> None:
    thawed = datetime(2026, 3, 2, 8, 45, tzinfo=UTC)
    why = limit_exceeded(thawed, KYMRIAH, datetime(2026, 3, 2, 10, 5, tzinfo=UTC))
    assert why == (
        "the thaw-to-infusion limit is 30 min to the end of infusion from the thaw start at "
        "2026-03-02 08:45 UTC: the infusion had to start by 2026-03-02 09:00 UTC (1 h 05 min ago)"
    )
    long_rule = ThawRule(5, 5, 0, 120, LimitBasis.INFUSION_START)
    assert "limit is 2 h 00 min to the start of infusion" in (
        limit_exceeded(thawed, long_rule, datetime(2026, 3, 2, 11, 0, tzinfo=UTC)) or ""
    )


@pytest.mark.parametrize("limit", [0, 14 * 24 * 60 + 1])
def test_a_thaw_to_infusion_limit_outside_1_minute_to_14_days_is_refused(limit: int) -> None:
    with pytest.raises(ValueError, match=r"^limit_minutes must be 1 minute to 14 days$"):
        ThawRule(0, 0, 0, limit, LimitBasis.INFUSION_START)


@pytest.mark.parametrize("transport", [-1, 1441])
def test_a_transport_outside_0_to_1440_minutes_is_refused(transport: int) -> None:
    with pytest.raises(ValueError, match=r"^transport_minutes must be 0 to 1440 minutes$"):
        thaw_window(NINE, KYMRIAH, transport)


@pytest.mark.parametrize(
    ("minutes", "words"),
    [(59, "59 min"), (60, "1 h 00 min"), (61, "1 h 01 min"), (180, "3 h 00 min")],
)
def test_spans_of_an_hour_or_more_are_told_in_hours_and_minutes(minutes: int, words: str) -> None:
    window = ThawWindow(NINE, NINE, NINE - timedelta(minutes=minutes))
    assert f"would expire {words} before" in (window.problem() or "")
