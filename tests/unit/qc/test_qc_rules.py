"""The pure rules of QC: limits as written, verdicts, the state of an attribute, OOS steps."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.errors import Conflict, InvalidInput
from atmpchain.qc.domain import (
    LimitKind,
    OosConclusion,
    OosPhase,
    ResultFacts,
    ResultKind,
    Verdict,
    attribute,
    check_attributes,
    check_conclusion,
    check_phase,
    check_retest,
    check_reviewer,
    judge,
    line_state,
    parse_limit,
    phase_after_lab_review,
)
from atmpchain.qc.specs import published_templates

numbers = st.decimals(
    min_value=Decimal("-1e6"), max_value=Decimal("1e9"), allow_nan=False, places=3
)
F, INTERIM = ResultKind.FINAL, ResultKind.INTERIM


@pytest.mark.parametrize(
    ("text", "inside", "outside"),
    [
        (">= 70", "70", "69.9"),
        ("> 70", "70.1", "70"),
        ("<= 0.5", "0.5", "0.51"),
        ("< 5", "4.99", "5"),
        ("0.6e8 to 6.0e8", "6.0e8", "6.01e8"),
        ("80-120", "80", "79"),
        (">= 10 and < 20", "10", "20"),
        ("≥ 70", "70", "69"),
    ],
)
def test_numeric_limits_judge_as_written(text: str, inside: str, outside: str) -> None:
    limit = parse_limit(text)
    assert judge(limit, inside) is Verdict.IN_SPECIFICATION
    assert judge(limit, outside) is Verdict.OOS


@given(low=numbers, width=numbers, value=numbers)
def test_a_parsed_range_round_trips_and_judges_like_arithmetic(
    low: Decimal, width: Decimal, value: Decimal
) -> None:
    high = low + abs(width)
    limit = parse_limit(f"{low} to {high}")
    assert parse_limit(limit.text) == limit
    expected = Verdict.IN_SPECIFICATION if low <= value <= high else Verdict.OOS
    assert judge(limit, str(value)) is expected


@given(bound=numbers, strict=st.booleans(), lower=st.booleans())
def test_one_sided_limits_round_trip(bound: Decimal, strict: bool, lower: bool) -> None:
    sign = (">" if lower else "<") + ("" if strict else "=")
    limit = parse_limit(f"{sign} {bound}")
    assert parse_limit(limit.text) == limit


@pytest.mark.parametrize("text", ["", "70 to 10", "< 5 and < 3", "5 %", "1,5", "> abc1"])
def test_nonsense_limits_are_refused_naming_the_field(text: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_limit(text)
    assert err.value.field == "limit"


def test_pass_fail_accepts_the_expected_word_or_one_meaning_nothing_found() -> None:
    sterile = parse_limit("sterile")
    assert sterile.kind is LimitKind.PASS_FAIL
    assert judge(sterile, "Negative") is Verdict.IN_SPECIFICATION
    assert judge(sterile, "no growth") is Verdict.IN_SPECIFICATION
    assert judge(sterile, "growth: E. coli") is Verdict.OOS
    appearance = parse_limit("cloudy liquid")
    assert judge(appearance, "cloudy   liquid") is Verdict.IN_SPECIFICATION
    assert judge(appearance, "negative") is Verdict.OOS
    assert judge(appearance, "pass") is Verdict.IN_SPECIFICATION


def test_report_is_never_out_of_specification_and_interims_are_negative_to_date() -> None:
    assert judge(parse_limit("report"), "anything") is Verdict.IN_SPECIFICATION
    assert judge(parse_limit("negative"), "negative", INTERIM) is Verdict.NEGATIVE_TO_DATE
    assert judge(parse_limit("negative"), "positive", INTERIM) is Verdict.INTERIM_POSITIVE
    with pytest.raises(InvalidInput):
        judge(parse_limit(">= 70"), "seventy")


def test_the_latest_valid_final_result_decides_the_state() -> None:
    ok = ResultFacts(F, Verdict.IN_SPECIFICATION, False)
    bad = ResultFacts(F, Verdict.OOS, False)
    dropped = ResultFacts(F, Verdict.OOS, True)
    interim = ResultFacts(INTERIM, Verdict.NEGATIVE_TO_DATE, False)
    positive = ResultFacts(INTERIM, Verdict.INTERIM_POSITIVE, False)
    assert line_state([]) == "pending"
    assert line_state([interim]) == "negative_to_date"
    assert line_state([interim, positive]) == "oos"
    assert line_state([interim, ok]) == "in_specification"
    assert line_state([dropped]) == "invalidated"
    assert line_state([dropped, interim]) == "negative_to_date"
    assert line_state([dropped, ok]) == "in_specification"
    assert line_state([ok, bad]) == "oos"


def test_review_retest_and_conclusion_rules() -> None:
    with pytest.raises(Conflict):
        check_reviewer(1, 2, 1)
    with pytest.raises(Conflict):
        check_reviewer(1, 2, 2)
    check_reviewer(1, 1, 3)
    with pytest.raises(Conflict):
        check_retest(standing_oos=True)
    check_retest(standing_oos=False)
    assert phase_after_lab_review(True) is OosPhase.PHASE_I
    assert phase_after_lab_review(False) is OosPhase.PHASE_II
    with pytest.raises(Conflict):
        check_phase(OosPhase.CONCLUDED, (OosPhase.PHASE_I,), "x", 1)
    with pytest.raises(InvalidInput):
        check_conclusion(OosConclusion.INVALIDATED, lab_error=False, result_invalidated=True)
    with pytest.raises(InvalidInput):
        check_conclusion(OosConclusion.INVALIDATED, lab_error=True, result_invalidated=False)
    with pytest.raises(InvalidInput):
        check_conclusion(OosConclusion.CONFIRMED, lab_error=False, result_invalidated=True)
    check_conclusion(OosConclusion.CONFIRMED, lab_error=False, result_invalidated=False)
    check_conclusion(OosConclusion.INVALIDATED, lab_error=True, result_invalidated=True)


def test_a_specification_names_each_attribute_once() -> None:
    a = attribute(name="Viability", method="flow", limit=">= 70", unit="%")
    with pytest.raises(InvalidInput):
        check_attributes([a, attribute(name="viability", method="x", limit="report")])
    with pytest.raises(InvalidInput):
        check_attributes([])


def test_the_three_published_specifications_load_with_their_sources() -> None:
    templates = published_templates()
    assert set(templates) == {"ari-0001", "cd20-hannover", "cd19-humanised"}
    assert all("PMC" in t.source for t in templates.values())
    hannover = {a.name: a for a in templates["cd20-hannover"].attributes}
    assert {n for n, a in hannover.items() if a.may_follow_release} == {
        "Sterility",
        "Mycoplasma",
        "Vector copy number",
    }
    assert hannover["Viability"].limit == parse_limit(">= 80")
    ari = {a.name: a for a in templates["ari-0001"].attributes}
    assert judge(ari["Endotoxin"].limit, "0.5") is Verdict.IN_SPECIFICATION
    assert judge(ari["Vector copy number"].limit, "2.51") is Verdict.IN_SPECIFICATION
