"""The materials rules pinned word for word: the refusals people read, the field they name, the
labels and the boundaries (issue 18, mutation testing)."""

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
    LOT_CODE_PREFIX,
    RISK_FACTOR_LABELS,
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


def _lot(**changes: object) -> LotState:
    values: dict[str, object] = {
        "lot_code": "ML000007",
        "status": LotStatus.RELEASED,
        "grade": "gmp",
        "expires_on": DAY,
        "available": Decimal("10"),
        "unit": "mL",
    }
    values.update(changes)
    return LotState(**values)  # type: ignore[arg-type]


def _refused(call: object, *args: object, **kwargs: object) -> InvalidInput:
    with pytest.raises(InvalidInput) as refused:
        call(*args, **kwargs)  # type: ignore[operator]
    return refused.value


def test_the_grade_values_and_labels_are_fixed() -> None:
    assert [(g.value, g.label) for g in Grade] == [
        ("research", "research grade"),
        ("gmp", "GMP grade"),
        ("ancillary-qualified", "ancillary material, qualified"),
    ]
    assert frozenset({"gmp", "ancillary-qualified"}) == GMP_USABLE_GRADES


def test_each_risk_factor_has_its_value_and_label() -> None:
    assert {f.value: f.label for f in RiskFactor} == {
        "tse": "TSE (animal origin)",
        "viral-cross-contamination": "viral and cross-contamination",
        "replication-competent-virus": "replication-competent virus",
        "mycoplasma-endotoxin": "mycoplasma and endotoxin",
        "impurities-carried-over": "impurities carried over",
        "sterility-claim": "sterility claim",
        "shared-equipment-carry-over": "carry-over from shared equipment",
    }
    assert set(RISK_FACTOR_LABELS) == set(RiskFactor)
    assert frozenset(
        {RiskFactor.TSE, RiskFactor.VIRAL, RiskFactor.REPLICATION_COMPETENT_VIRUS}
    ) == (INFECTIOUS_FACTORS)


def test_risk_class_of_a_mixed_list_and_of_a_generator() -> None:
    assert risk_class(iter([RiskFactor.STERILITY, RiskFactor.TSE])) is RiskClass.HIGH
    assert risk_class(iter([RiskFactor.STERILITY])) is RiskClass.MEDIUM
    assert risk_class(iter([])) is RiskClass.LOW
    assert [c.value for c in RiskClass] == ["low", "medium", "high"]


def test_refuses_an_unknown_risk_factor_naming_every_known_one() -> None:
    error = _refused(parse_risk_factors, ["tse", " Radioactive "])
    assert error.field == "risk_factors"
    assert error.message == (
        "' Radioactive ' is not a risk factor; the factors are: tse, viral-cross-contamination, "
        "replication-competent-virus, mycoplasma-endotoxin, impurities-carried-over, "
        "sterility-claim, shared-equipment-carry-over"
    )


def test_blank_risk_factors_are_skipped_not_refused() -> None:
    assert parse_risk_factors(["", " ", "\t", "TSE"]) == frozenset({RiskFactor.TSE})
    assert parse_risk_factors([]) == frozenset()


def test_refuses_an_unknown_grade_naming_every_known_one() -> None:
    error = _refused(parse_grade, "clinical")
    assert error.field == "grade"
    assert error.message == (
        "'clinical' is not a grade; the grades are: research, gmp, ancillary-qualified"
    )
    assert parse_grade(" Research ") is Grade.RESEARCH


def test_the_units_are_fixed() -> None:
    assert UNITS == ("mL", "L", "ug", "mg", "g", "IU", "vial", "bag", "kit", "each")
    assert parse_unit("ML") == "mL" and parse_unit("l") == "L"
    assert parse_unit("iu") == "IU" and parse_unit("G") == "g"


def test_refuses_an_unknown_unit_naming_every_unit_and_the_field() -> None:
    error = _refused(parse_unit, "gallon")
    assert error.field == "unit"
    assert error.message == (
        "'gallon' is not a unit; the units are: mL, L, ug, mg, g, IU, vial, bag, kit, each"
    )
    assert _refused(parse_unit, "cup", field="per_unit").field == "per_unit"


def test_refuses_code_outside_the_pattern_with_its_message() -> None:
    error = _refused(clean_code, " a ", field="location")
    assert error.field == "location"
    assert error.message == (
        "' a ' must be 2 to 24 letters, digits or '-', starting with a letter or digit"
    )
    assert clean_code("AB", field="x") == "AB"
    assert clean_code("9" + "-" * 23, field="x") == "9" + "-" * 23
    for bad in ("A", "A" * 25, "A_B", "AB!", "-A"):
        assert _refused(clean_code, bad, field="x").field == "x"


def test_refuses_control_characters_and_blank_and_long_text_with_messages() -> None:
    control = _refused(clean_text, "a\x00b", field="name")
    assert (control.field, control.message) == ("name", "control characters are not allowed")
    assert _refused(clean_text, "a\x1bb", field="name").field == "name"
    assert _refused(clean_text, "a\x7fb", field="name").field == "name"
    assert clean_text("a b ~ é", field="name") == "a b ~ é"
    assert clean_text("\x20a", field="name") == "a"
    blank = _refused(clean_text, "   ", field="name")
    assert (blank.field, blank.message) == ("name", "this must be filled in")
    blank_none = _refused(clean_text, None, field="name")
    assert blank_none.message == "this must be filled in"
    long = _refused(clean_text, "x" * 11, field="note", limit=10)
    assert (long.field, long.message) == ("note", "at most 10 characters")
    assert clean_text("x" * 10, field="note", limit=10) == "x" * 10
    assert _refused(clean_text, "x" * 201, field="n").message == "at most 200 characters"
    assert clean_text("  ", field="note", required=False) == ""


def test_refuses_quantities_with_their_messages() -> None:
    cases = {
        "abc": "'abc' is not a number",
        "0": "the quantity must be more than 0, not 0",
        "-1": "the quantity must be more than 0, not -1",
        "NaN": "the quantity must be more than 0, not NaN",
        "Infinity": "the quantity must be more than 0, not Infinity",
        "1000000000": "the quantity must be below one billion",
        "1.0001": "the quantity may have at most three decimals",
    }
    for text, message in cases.items():
        error = _refused(parse_quantity, text)
        assert (error.field, error.message) == ("quantity", message), text
    assert _refused(parse_quantity, "x", field="asked").field == "asked"


def test_quantity_boundaries() -> None:
    assert parse_quantity("0.001") == Decimal("0.001")
    assert parse_quantity(" 7 ") == Decimal(7)
    assert parse_quantity(5) == Decimal(5)
    assert parse_quantity("999999999.999") == Decimal("999999999.999")
    assert parse_quantity("1.5000") == Decimal("1.5")
    assert parse_quantity(Decimal("2.10")) == Decimal("2.10")
    assert parse_quantity("1E+3") == Decimal(1000)


def test_format_quantity_prints_plain_decimals() -> None:
    assert format_quantity(Decimal("0.010")) == "0.01"
    assert format_quantity(Decimal("1E+3")) == "1000"
    assert format_quantity(Decimal("12.5")) == "12.5"


def test_lot_codes_at_the_ends_of_the_range() -> None:
    assert LOT_CODE_PREFIX == "ML"
    assert lot_code(1) == "ML000001"
    assert lot_code(42) == "ML000042"
    assert lot_code(999_999) == "ML999999"
    for number in (0, 1_000_000):
        error = _refused(lot_code, number)
        assert (error.field, error.message) == ("lot_code", "lot numbers run from 1 to 999999")


def test_refuses_a_scan_that_is_not_a_lot_code_quoting_at_most_40_characters() -> None:
    error = _refused(parse_lot_code, "EQ-1")
    assert error.field == "lot_code"
    assert error.message == ("'EQ-1' is not a material lot code (ML and six digits, e.g. ML000042)")
    long = "Z" * 50
    assert _refused(parse_lot_code, long).message.startswith(f"'{'Z' * 40}' is not")
    assert parse_lot_code(" ml000042\n") == "ML000042"
    assert _refused(parse_lot_code, "ML000042X").field == "lot_code"
    assert _refused(parse_lot_code, "XML000042").field == "lot_code"


def test_refuses_each_unusable_lot_with_the_exact_message() -> None:
    def problem(lot: LotState, quantity: str = "10", unit: str = "mL") -> tuple[str, str]:
        refusal = usability_problem(lot, quantity=Decimal(quantity), unit=unit, on=DAY)
        assert refusal is not None
        return refusal.field, refusal.message

    assert problem(_lot(status=LotStatus.QUARANTINED)) == (
        "lot_code",
        "lot ML000007 is not released: it is still quarantined",
    )
    assert problem(_lot(status=LotStatus.REJECTED)) == (
        "lot_code",
        "lot ML000007 is not released: QA rejected it",
    )
    assert problem(_lot(expires_on=DAY - timedelta(days=1))) == (
        "lot_code",
        "lot ML000007 expired on 2026-01-04",
    )
    assert problem(_lot(grade="research")) == (
        "lot_code",
        "lot ML000007: grade research not allowed in this step (ancillary-qualified, gmp)",
    )
    assert problem(_lot(), unit="L") == ("quantity", "lot ML000007 is counted in mL, not in L")
    assert problem(_lot(), quantity="0") == ("quantity", "the quantity must be more than 0")
    assert problem(_lot(), quantity="-1") == ("quantity", "the quantity must be more than 0")
    assert problem(_lot(available=Decimal("2.500")), quantity="2.510") == (
        "quantity",
        "lot ML000007: only 2.5 mL left, 2.51 asked",
    )


def test_refuses_a_grade_outside_the_steps_list_naming_the_list_sorted() -> None:
    refusal = usability_problem(
        _lot(grade="gmp"),
        quantity=Decimal(1),
        unit="mL",
        on=DAY,
        required_grades=frozenset({"Research", "ancillary_qualified"}),
    )
    assert refusal is not None
    assert refusal.message == (
        "lot ML000007: grade gmp not allowed in this step (ancillary-qualified, research)"
    )
    none = usability_problem(
        _lot(), quantity=Decimal(1), unit="mL", on=DAY, required_grades=frozenset()
    )
    assert none is not None
    assert none.message == "lot ML000007: grade gmp not allowed in this step (none)"


def test_a_step_naming_grades_replaces_the_default_list() -> None:
    research = usability_problem(
        _lot(grade="research"),
        quantity=Decimal(1),
        unit="mL",
        on=DAY,
        required_grades=frozenset({" RESEARCH "}),
    )
    assert research is None
    for grade in ("gmp", "ancillary-qualified"):
        assert usability_problem(_lot(grade=grade), quantity=Decimal(1), unit="mL", on=DAY) is None


def test_a_lot_may_give_all_it_has_and_is_usable_until_its_expiry_day() -> None:
    lot = _lot(available=Decimal("3.25"), expires_on=DAY + timedelta(days=1))
    assert usability_problem(lot, quantity=Decimal("3.25"), unit="mL", on=DAY) is None
    assert usability_problem(lot, quantity=Decimal("0.001"), unit="mL", on=DAY) is None
    on_expiry = lot.expires_on
    assert usability_problem(lot, quantity=Decimal(1), unit="mL", on=on_expiry) is None
    after = usability_problem(lot, quantity=Decimal(1), unit="mL", on=on_expiry + timedelta(days=1))
    assert after is not None and after.message == "lot ML000007 expired on 2026-01-06"


def test_the_unit_is_checked_before_the_quantity() -> None:
    refusal = usability_problem(_lot(), quantity=Decimal(0), unit="vial", on=DAY)
    assert refusal is not None and refusal.message == "lot ML000007 is counted in mL, not in vial"


def test_the_grade_is_checked_before_the_unit() -> None:
    refusal = usability_problem(_lot(grade="research"), quantity=Decimal(1), unit="L", on=DAY)
    assert refusal is not None and "grade research" in refusal.message


def test_rejection_is_named_before_expiry() -> None:
    lot = _lot(status=LotStatus.REJECTED, expires_on=DAY - timedelta(days=3))
    refusal = usability_problem(lot, quantity=Decimal(1), unit="mL", on=DAY)
    assert refusal is not None and refusal.message.endswith("QA rejected it")


@given(st.integers(min_value=-30, max_value=30))
def test_expiry_state_on_the_day_and_the_look_ahead_edges(days: int) -> None:
    within = 10
    state = expiry_state(DAY + timedelta(days=days), on=DAY, within_days=within)
    expected = (
        ExpiryState.EXPIRED
        if days < 0
        else ExpiryState.EXPIRING
        if days <= within
        else ExpiryState.OK
    )
    assert state is expected


def test_expiry_states_at_the_edges() -> None:
    assert expiry_state(DAY, on=DAY, within_days=0) is ExpiryState.EXPIRING
    assert expiry_state(DAY + timedelta(days=1), on=DAY, within_days=0) is ExpiryState.OK
    assert expiry_state(DAY - timedelta(days=1), on=DAY, within_days=5) is ExpiryState.EXPIRED
    assert expiry_state(DAY + timedelta(days=5), on=DAY, within_days=5) is ExpiryState.EXPIRING
    assert expiry_state(DAY + timedelta(days=6), on=DAY, within_days=5) is ExpiryState.OK
    assert [s.value for s in ExpiryState] == ["expired", "expiring", "ok"]


def test_refuses_a_look_ahead_outside_0_to_366_days_with_its_message() -> None:
    for days in (0, 1, 365, 366):
        assert check_alert_days(days) == days
    for days in (-1, 367):
        error = _refused(check_alert_days, days)
        assert (error.field, error.message) == ("days", "the look-ahead must be 0 to 366 days")


def test_refuses_a_lot_received_after_its_expiry_with_its_message() -> None:
    assert check_received_lot(expires_on=DAY + timedelta(days=1), received_on=DAY) is None
    assert check_received_lot(expires_on=DAY, received_on=DAY) is None
    error = _refused(check_received_lot, expires_on=DAY - timedelta(days=1), received_on=DAY)
    assert error.field == "expires_on"
    assert error.message == "the lot expired on 2026-01-04, before it was received"


def test_lot_status_values() -> None:
    assert [s.value for s in LotStatus] == ["quarantined", "released", "rejected"]


@pytest.mark.parametrize("control", ["\x00", "\x1b", "\x7f", "\x80", "\x9b", "\x9f"])
def test_refuses_any_control_character_in_a_text_c0_del_or_c1(control: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_text(f"Lot{control}42", field="supplier_lot")
    assert refused.value.field == "supplier_lot"
    assert str(refused.value) == "control characters are not allowed"
