"""Pre-GMP translation's pure rules: the definition format, versions' diff, proven ranges, gaps,
readiness, FMEA scoring and the draft MBR that manufacturing reads (issue 14)."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from atmpchain.errors import InvalidInput
from atmpchain.manufacturing import mbr_format
from atmpchain.materials.domain import Grade
from atmpchain.translation import process_format
from atmpchain.translation.assess import (
    GapCategory,
    ReadinessCategory,
    ScoredMode,
    approval_blockers,
    gaps_of,
    needs_action,
    pareto,
    readiness_total,
    rpn,
)
from atmpchain.translation.domain import (
    ChangeKind,
    EquipmentSpec,
    MaterialSpec,
    ParameterKind,
    ParameterSpec,
    ProcessDef,
    UnitOperation,
    check_process,
    diff,
    with_parameter_range,
)
from atmpchain.translation.errors import TransferRefused
from atmpchain.translation.mbr_draft import ProductFacts, RoomGrades, draft_mbr, gmp_grades
from atmpchain.translation.rules import rules, seed_modes

scores = st.integers(min_value=1, max_value=10)
names = st.text(alphabet="abcdefghij_", min_size=1, max_size=12)
decimals = st.decimals(
    min_value=Decimal("-1000"), max_value=Decimal("1000"), places=2, allow_nan=False
)


@st.composite
def parameters(draw: st.DrawFn, *, ranged: bool = False) -> ParameterSpec:
    has_range = ranged or draw(st.booleans())
    low = high = None
    target = None
    if has_range:
        a, b = sorted((draw(decimals), draw(decimals)))
        low, high = a, b
        if draw(st.booleans()):
            target = a
    return ParameterSpec(
        name=draw(names),
        unit=draw(st.sampled_from(["", "mL", "%", "IU/mL"])),
        target=target,
        low=low,
        high=high,
        critical=draw(st.booleans()),
        cqas=tuple(draw(st.lists(st.sampled_from(["dose", "VCN", "CAR+ %"]), max_size=2))),
        kind=draw(st.sampled_from(list(ParameterKind))),
    )


@st.composite
def processes(draw: st.DrawFn, *, transferable: bool = False) -> ProcessDef:
    ops = []
    keys = draw(st.lists(names, min_size=1, max_size=3, unique=True))
    for key in keys:
        duration = draw(st.integers(min_value=0, max_value=5000))
        params = draw(
            st.lists(parameters(ranged=transferable), max_size=3, unique_by=lambda p: p.name)
        )
        items = draw(st.lists(names, max_size=2, unique=True))
        materials = tuple(
            MaterialSpec(
                item=item.upper(),
                name=f"material {item}",
                grade=draw(st.sampled_from(list(Grade))),
                supplier=draw(st.sampled_from(["", "Supplier A"])),
                gmp_alternative=transferable or draw(st.booleans()),
                quantity=draw(
                    st.decimals(min_value=Decimal("0.001"), max_value=Decimal("9999"), places=3)
                ),
                unit=draw(st.sampled_from(["mL", "vial", "bag"])),
            )
            for item in items
        )
        ops.append(
            UnitOperation(
                key=key.replace("_", "-").strip("-") or "op",
                title=f"Operation {key}",
                description=draw(st.sampled_from(["", "Do it carefully."])),
                closed=draw(st.booleans()),
                duration_minutes=duration,
                hands_on_minutes=draw(st.integers(min_value=0, max_value=duration)),
                equipment=tuple(
                    EquipmentSpec(n, draw(st.sampled_from([None, "incubator"])))
                    for n in draw(
                        st.lists(st.sampled_from(["BSC", "Incubator"]), max_size=2, unique=True)
                    )
                ),
                parameters=tuple(params),
                materials=materials,
            )
        )
    unique = {o.key: o for o in ops}
    return ProcessDef(tuple(unique.values()))


@given(st.tuples(scores, scores, scores))
def test_the_rpn_is_the_product_of_the_three_scores_on_the_1_to_1000_scale(
    sod: tuple[int, int, int],
) -> None:
    value = rpn(*sod)
    assert value == sod[0] * sod[1] * sod[2]
    assert 1 <= value <= 1000


@pytest.mark.parametrize("bad", [0, 11, -1, True])
def test_a_score_outside_1_to_10_is_refused_naming_the_field(bad: int) -> None:
    with pytest.raises(InvalidInput, match="occurrence"):
        rpn(5, bad, 5)


def test_an_unscored_mode_has_no_rpn_and_always_needs_action() -> None:
    assert rpn(5, None, 5) is None
    assert needs_action(None, 1000)


@given(st.integers(min_value=1, max_value=1000), st.integers(min_value=1, max_value=1000))
def test_action_is_needed_only_above_the_threshold(value: int, threshold: int) -> None:
    assert needs_action(value, threshold) is (value > threshold)


@given(st.lists(st.tuples(scores, scores, scores), min_size=1, max_size=12))
def test_the_pareto_order_is_descending_and_ends_at_100_percent(
    triples: list[tuple[int, int, int]],
) -> None:
    modes = [ScoredMode(f"m{i}", rpn(*t), None, "") for i, t in enumerate(triples)]
    bars = pareto(modes)
    assert [b.rpn for b in bars] == sorted((b.rpn for b in bars), reverse=True)
    assert bars[-1].cumulative_percent == Decimal("100.0")
    shares = [b.cumulative_percent for b in bars]
    assert shares == sorted(shares)


def test_the_worked_msc_example_orders_as_published() -> None:
    modes = [
        ScoredMode("source", rpn(8, 5, 8), None, ""),
        ScoredMode("isolation", rpn(10, 4, 2), None, ""),
        ScoredMode("characterisation", rpn(9, 5, 2), None, ""),
        ScoredMode("expansion", rpn(6, 8, 2), None, ""),
    ]
    assert [(b.label, b.rpn) for b in pareto(modes)] == [
        ("source", 320),
        ("expansion", 96),
        ("characterisation", 90),
        ("isolation", 80),
    ]
    assert approval_blockers(modes, 100) == ["'source' has RPN 320 above 100 and no mitigation"]


CATEGORIES = (
    ReadinessCategory("a", "A", Decimal(2)),
    ReadinessCategory("b", "B", Decimal("1.5")),
    ReadinessCategory("c", "C", Decimal(0)),
)


@given(st.lists(st.integers(min_value=0, max_value=100), min_size=3, max_size=3))
def test_readiness_lies_between_the_lowest_and_highest_weighted_score(values: list[int]) -> None:
    scores_by = dict(zip("abc", values, strict=True))
    total = readiness_total(CATEGORIES, scores_by)
    weighted = values[:2]
    assert min(weighted) <= total <= max(weighted)


def test_readiness_refuses_a_missing_or_unknown_category() -> None:
    with pytest.raises(InvalidInput, match="'C'"):
        readiness_total(CATEGORIES, {"a": 1, "b": 2})
    with pytest.raises(InvalidInput, match="unknown"):
        readiness_total(CATEGORIES, {"a": 1, "b": 2, "c": 3, "d": 4})
    with pytest.raises(InvalidInput, match="0 to 100"):
        readiness_total(CATEGORIES, {"a": 1, "b": 101, "c": 3})


@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow])
@given(processes())
def test_the_definition_format_reads_back_what_it_wrote(process: ProcessDef) -> None:
    check_process(process)
    assert process_format.parse(process_format.dump(process)) == process
    assert diff(process, process) == []


@settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow])
@given(processes(transferable=True))
def test_manufacturing_reads_every_draft_mbr_unchanged(process: ProcessDef) -> None:
    product = ProductFacts("CODE-1", "Product", "S1295V00", True, 72)
    draft = draft_mbr(process, product, RoomGrades(open="B", closed="C"))
    assert mbr_format.to_mapping(mbr_format.from_mapping(draft)) == draft
    grades = {s["room_grade"] for s in draft["steps"]}
    assert grades <= {"B", "C"}


def test_research_grade_without_alternative_and_missing_ranges_are_refused() -> None:
    op = UnitOperation(
        key="expansion",
        title="Expansion",
        parameters=(ParameterSpec("il2", target=Decimal(100)),),
        materials=(MaterialSpec("IL2", "IL-2", Grade.RESEARCH, gmp_alternative=False),),
    )
    with pytest.raises(TransferRefused) as refused:
        draft_mbr(
            ProcessDef((op,)), ProductFacts("C", "N", "S1295V00", True, 72), RoomGrades("B", "C")
        )
    assert "il2" in refused.value.message and "IL-2" in refused.value.message


def test_gmp_grades_follow_the_grade_and_the_alternative() -> None:
    def m(grade: Grade, alt: bool = False) -> MaterialSpec:
        return MaterialSpec("X", "x", grade, gmp_alternative=alt)

    assert gmp_grades(m(Grade.GMP)) == ["gmp"]
    assert gmp_grades(m(Grade.ANCILLARY_QUALIFIED)) == ["ancillary-qualified", "gmp"]
    assert gmp_grades(m(Grade.RESEARCH, alt=True)) == ["gmp"]
    assert gmp_grades(m(Grade.RESEARCH)) is None


OPEN_OP = UnitOperation(
    key="activation",
    title="Activation",
    closed=False,
    duration_minutes=60,
    hands_on_minutes=30,
    parameters=(ParameterSpec("il2", target=Decimal(100), low=Decimal(50), high=Decimal(200)),),
    materials=(MaterialSpec("IL2", "IL-2", Grade.RESEARCH, gmp_alternative=True),),
)


def test_a_proven_range_changes_only_that_parameter_and_keeps_the_target_inside() -> None:
    process = ProcessDef((OPEN_OP,))
    new = with_parameter_range(
        process, unit_operation="activation", parameter="il2", low=Decimal(75), high=Decimal(150)
    )
    assert [(c.kind, c.path) for c in diff(process, new)] == [
        (ChangeKind.CHANGED, "activation / parameter il2 / low"),
        (ChangeKind.CHANGED, "activation / parameter il2 / high"),
    ]
    with pytest.raises(InvalidInput, match="target"):
        with_parameter_range(
            process,
            unit_operation="activation",
            parameter="il2",
            low=Decimal(150),
            high=Decimal(200),
        )
    with pytest.raises(InvalidInput, match="no parameter"):
        with_parameter_range(
            process, unit_operation="activation", parameter="x", low=Decimal(1), high=Decimal(2)
        )


def test_gaps_name_the_open_step_and_the_research_grade_material() -> None:
    found = {(g.category, g.subject) for g in gaps_of(ProcessDef((OPEN_OP,)))}
    assert (GapCategory.OPEN_MANIPULATION, "activation") in found
    assert (GapCategory.GRADE, "activation/IL2") in found
    closed = dataclasses.replace(OPEN_OP, closed=True, materials=())
    found = {g.category for g in gaps_of(ProcessDef((closed,)))}
    assert GapCategory.OPEN_MANIPULATION not in found and GapCategory.GRADE not in found


def test_hands_on_time_cannot_exceed_the_duration() -> None:
    with pytest.raises(InvalidInput, match="hands-on"):
        check_process(ProcessDef((dataclasses.replace(OPEN_OP, hands_on_minutes=61),)))


def test_templates_bind_to_the_operations_they_match() -> None:
    process = ProcessDef(
        (OPEN_OP, dataclasses.replace(OPEN_OP, key="cryopreservation", closed=True))
    )
    modes = seed_modes(process, rules().templates, "cart")
    by_mode = {(m.failure_mode, m.unit_operation) for m in modes}
    assert ("Contamination in an open step", "activation") in by_mode
    assert ("Contamination in an open step", "cryopreservation") not in by_mode
    assert ("Invalid QC assay", "cryopreservation") in by_mode
    with pytest.raises(InvalidInput, match="template"):
        seed_modes(process, rules().templates, "nope")


def test_the_shipped_rules_carry_the_documented_defaults() -> None:
    r = rules()
    assert r.action_threshold == 100
    assert [c.key for c in r.readiness] == [
        "materials",
        "process_closure",
        "documentation",
        "analytics",
        "facility",
        "regulatory",
    ]
    assert set(r.template_sets()) == {"cart", "msc"}


def test_a_new_order_of_unit_operations_is_a_change() -> None:
    second = dataclasses.replace(OPEN_OP, key="expansion")
    changes = diff(ProcessDef((OPEN_OP, second)), ProcessDef((second, OPEN_OP)))
    assert [(c.path, c.before, c.after) for c in changes] == [
        ("order of unit operations", "activation, expansion", "expansion, activation")
    ]


@pytest.mark.parametrize("bad", ["1e14", "0.0000001", "NaN"])
def test_a_value_the_database_cannot_hold_exactly_is_refused(bad: str) -> None:
    with pytest.raises(InvalidInput, match="high"):
        with_parameter_range(
            ProcessDef((OPEN_OP,)),
            unit_operation="activation",
            parameter="il2",
            low=Decimal(50),
            high=Decimal(bad),
        )
