"""The pure rules of materials: risk class from risk factors, quantities, units, lot codes,
whether a lot may go into a step, and the expiry list's states."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.errors import InvalidInput
from atmpchain.materials.domain import (
    GMP_USABLE_GRADES,
    INFECTIOUS_FACTORS,
    UNITS,
    ExpiryState,
    Grade,
    LotState,
    LotStatus,
    RiskClass,
    RiskFactor,
    check_alert_days,
    check_received_lot,
    clean_code,
    clean_text,
    expiry_state,
    format_quantity,
    lot_code,
    parse_grade,
    parse_lot_code,
    parse_quantity,
    parse_risk_factors,
    parse_unit,
    risk_class,
    usability_problem,
)

DAY = date(2026, 1, 5)
factors = st.frozensets(st.sampled_from(list(RiskFactor)))
amounts = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("999999"), places=3)


def _lot(**changes: object) -> LotState:
    values: dict[str, object] = {
        "lot_code": "ML000001",
        "status": LotStatus.RELEASED,
        "grade": "gmp",
        "expires_on": DAY,
        "available": Decimal("10"),
        "unit": "mL",
    }
    values.update(changes)
    return LotState(**values)  # type: ignore[arg-type]


@given(factors)
def test_risk_class_is_high_exactly_with_an_infectious_factor(found: frozenset[RiskFactor]) -> None:
    klass = risk_class(found)
    if found & INFECTIOUS_FACTORS:
        assert klass is RiskClass.HIGH
    elif found:
        assert klass is RiskClass.MEDIUM
    else:
        assert klass is RiskClass.LOW


def test_each_single_factor_has_its_class() -> None:
    assert risk_class([RiskFactor.TSE]) is RiskClass.HIGH
    assert risk_class([RiskFactor.VIRAL]) is RiskClass.HIGH
    assert risk_class([RiskFactor.REPLICATION_COMPETENT_VIRUS]) is RiskClass.HIGH
    for factor in set(RiskFactor) - INFECTIOUS_FACTORS:
        assert risk_class([factor]) is RiskClass.MEDIUM
    assert risk_class([]) is RiskClass.LOW


@given(factors)
def test_risk_factors_parse_back_from_their_values(found: frozenset[RiskFactor]) -> None:
    assert parse_risk_factors([f.value.upper() + " " for f in found] + ["", "  "]) == found


def test_unknown_risk_factor_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_risk_factors(["radioactive"])
    assert refused.value.field == "risk_factors" and "tse" in refused.value.message


def test_grades_parse_and_research_is_not_usable_by_default() -> None:
    assert parse_grade(" GMP ") is Grade.GMP
    assert parse_grade("ancillary-qualified") is Grade.ANCILLARY_QUALIFIED
    assert Grade.RESEARCH.value not in GMP_USABLE_GRADES
    with pytest.raises(InvalidInput) as refused:
        parse_grade("clinical")
    assert refused.value.field == "grade"
    assert {g.label for g in Grade} == {
        "research grade",
        "GMP grade",
        "ancillary material, qualified",
    }


@given(amounts)
def test_quantities_round_trip_through_their_text(amount: Decimal) -> None:
    assert parse_quantity(format_quantity(amount)) == amount
    assert parse_quantity(str(amount)) == amount


@pytest.mark.parametrize("text", ["0", "-1", "abc", "NaN", "Infinity", "1.0001", "1000000000"])
def test_bad_quantities_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_quantity(text, field="qty")
    assert refused.value.field == "qty"


def test_quantity_keeps_three_decimals_and_formats_without_trailing_zeros() -> None:
    assert parse_quantity("2.125") == Decimal("2.125")
    assert parse_quantity(Decimal("999999999.999")) == Decimal("999999999.999")
    assert format_quantity(Decimal("2.500")) == "2.5"
    assert format_quantity(Decimal("10.000")) == "10"
    assert format_quantity(Decimal("1E+2")) == "100"


@given(st.sampled_from(UNITS))
def test_units_match_whatever_their_case(unit: str) -> None:
    assert parse_unit(unit.upper()) == unit
    assert parse_unit(f" {unit.lower()} ") == unit


def test_unknown_unit_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_unit("gallon")
    assert refused.value.field == "unit"


@given(st.integers(min_value=1, max_value=999_999))
def test_lot_codes_are_scannable_and_parse_back(number: int) -> None:
    code = lot_code(number)
    assert len(code) == 8 and code.startswith("ML")
    assert parse_lot_code(f"  {code.lower()} ") == code
    assert int(code[2:]) == number


@pytest.mark.parametrize("number", [0, -1, 1_000_000])
def test_lot_numbers_outside_the_range_are_refused(number: int) -> None:
    with pytest.raises(InvalidInput):
        lot_code(number)


@pytest.mark.parametrize("text", ["", "ML1", "ML0000001", "XX000001", "ML00000A", "=A999"])
def test_other_scans_are_not_lot_codes(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_lot_code(text)
    assert refused.value.field == "lot_code"


def test_codes_and_texts_are_cleaned() -> None:
    assert clean_code(" fridge-1 ", field="location") == "FRIDGE-1"
    for bad in ("a", "-AB", "A B", "X" * 25):
        with pytest.raises(InvalidInput):
            clean_code(bad, field="location")
    assert clean_text("  two   words ", field="name") == "two words"
    assert clean_text(None, field="comment", required=False) == ""
    with pytest.raises(InvalidInput):
        clean_text("", field="name")
    with pytest.raises(InvalidInput):
        clean_text("x" * 201, field="name")
    assert clean_text("x" * 200, field="name") == "x" * 200
    with pytest.raises(InvalidInput):
        clean_text("bell\x07", field="name")


def test_a_released_unexpired_lot_with_stock_is_usable_on_its_expiry_day() -> None:
    assert usability_problem(_lot(), quantity=Decimal(10), unit="mL", on=DAY) is None


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"status": LotStatus.QUARANTINED}, "lot_code", "not released: it is still quarantined"),
        ({"status": LotStatus.REJECTED}, "lot_code", "not released: QA rejected it"),
        ({"expires_on": DAY - timedelta(days=1)}, "lot_code", "expired on 2026-01-04"),
        ({"grade": "research"}, "lot_code", "grade research not allowed"),
        ({"unit": "vial"}, "quantity", "counted in vial, not in mL"),
        ({"available": Decimal("9.999")}, "quantity", "only 9.999 mL left, 10 asked"),
    ],
)
def test_each_rule_refuses_naming_field_and_rule(
    changes: dict[str, object], field: str, words: str
) -> None:
    problem = usability_problem(_lot(**changes), quantity=Decimal(10), unit="mL", on=DAY)
    assert problem is not None
    assert problem.field == field
    assert words in problem.message and "ML000001" in problem.message


def test_status_is_named_before_expiry_and_expiry_before_grade() -> None:
    lot = _lot(status=LotStatus.QUARANTINED, expires_on=DAY - timedelta(days=9), grade="research")
    first = usability_problem(lot, quantity=Decimal(1), unit="mL", on=DAY)
    assert first is not None and "quarantined" in first.message
    lot = _lot(expires_on=DAY - timedelta(days=9), grade="research")
    second = usability_problem(lot, quantity=Decimal(1), unit="mL", on=DAY)
    assert second is not None and "expired" in second.message


def test_a_step_may_name_the_grades_it_accepts() -> None:
    research = _lot(grade="research")
    allowed = frozenset({"research"})
    assert (
        usability_problem(research, quantity=Decimal(1), unit="mL", on=DAY, required_grades=allowed)
        is None
    )
    refused = usability_problem(
        _lot(), quantity=Decimal(1), unit="mL", on=DAY, required_grades=frozenset()
    )
    assert refused is not None and "(none)" in refused.message


def test_a_zero_quantity_is_refused() -> None:
    problem = usability_problem(_lot(), quantity=Decimal(0), unit="mL", on=DAY)
    assert problem is not None and problem.field == "quantity"


@given(amounts, amounts)
def test_usable_exactly_while_the_quantity_is_left(available: Decimal, asked: Decimal) -> None:
    problem = usability_problem(_lot(available=available), quantity=asked, unit="mL", on=DAY)
    assert (problem is None) == (asked <= available)


@given(st.integers(min_value=-400, max_value=400), st.integers(min_value=0, max_value=366))
def test_expiry_state_against_the_look_ahead(offset: int, days: int) -> None:
    state = expiry_state(DAY + timedelta(days=offset), on=DAY, within_days=days)
    if offset < 0:
        assert state is ExpiryState.EXPIRED
    elif offset <= days:
        assert state is ExpiryState.EXPIRING
    else:
        assert state is ExpiryState.OK


def test_alert_days_and_receipt_dates_are_checked() -> None:
    assert check_alert_days(0) == 0 and check_alert_days(366) == 366
    for bad in (-1, 367):
        with pytest.raises(InvalidInput):
            check_alert_days(bad)
    check_received_lot(expires_on=DAY, received_on=DAY)
    with pytest.raises(InvalidInput) as refused:
        check_received_lot(expires_on=DAY - timedelta(days=1), received_on=DAY)
    assert refused.value.field == "expires_on"


def test_required_grades_read_in_either_spelling() -> None:
    lot = _lot(grade="ancillary-qualified")
    for spelling in ("ancillary_qualified", " Ancillary-Qualified "):
        assert (
            usability_problem(
                lot,
                quantity=Decimal(1),
                unit="mL",
                on=DAY,
                required_grades=frozenset({spelling}),
            )
            is None
        )
