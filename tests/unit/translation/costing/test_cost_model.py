"""The cost model reproduces a hand-computed case to the cent and shares its fixed costs over
the batches of the year."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atmpchain.errors import InvalidInput
from atmpchain.translation.costing.domain import (
    Category,
    FacilityBasis,
    compute,
    inputs_from_dict,
    inputs_to_dict,
    sensitivity,
)
from atmpchain.translation.costing.published import published_figures

D = Decimal

#: The hand-computed case (the working is in the test below, line by line).
CASE = {
    "batches_per_year": 18,
    "currency": "EUR",
    "materials": [
        {"name": "Closed-system tubing set", "quantity": "1", "unit_price": "4500.00"},
        {"name": "TexMACS medium (L)", "quantity": "12", "unit_price": "85.50"},
        {"name": "IL-7/IL-15 vial", "quantity": "3", "unit_price": "120.333"},
        {"name": "Lentiviral vector dose", "quantity": "1", "unit_price": "9000"},
    ],
    "qc_tests": [
        {"name": "Sterility", "count": "2", "price": "150", "outsourced": False},
        {"name": "Mycoplasma", "count": "1", "price": "850", "outsourced": True},
        {"name": "Vector copy number", "count": "1", "price": "1200", "outsourced": True},
    ],
    "labour": [
        {"role": "production", "hours": "40", "rate": "55"},
        {"role": "qc", "hours": "16", "rate": "50"},
        {"role": "qa_qp", "hours": "6", "rate": "80"},
    ],
    "facility_basis": "per_area",
    "area_m2": "60",
    "cost_per_m2_year": "1500",
    "equipment": [
        {"name": "Closed processing device", "price": "150000", "life_years": "7"},
        {"name": "Incubator", "price": "12000", "life_years": "5", "share": "0.5"},
    ],
    "em_per_batch": "250",
    "em_per_year": "9000",
    "failure_rate": "0.05",
}


def test_reproduces_the_hand_computed_case_to_the_cent() -> None:
    cost = compute(inputs_from_dict(CASE))
    # materials: 4500 + 12 x 85.50 (1026) + 3 x 120.333 (360.999) + 9000 = 14886.999 -> 14887.00
    assert cost.amount(Category.MATERIALS) == D("14887.00")
    # QC: in-house 2 x 150; outsourced 850 + 1200
    assert cost.amount(Category.QC_IN_HOUSE) == D("300.00")
    assert cost.amount(Category.QC_OUTSOURCED) == D("2050.00")
    # labour: 40 x 55, 16 x 50, 6 x 80
    assert cost.amount(Category.LABOUR_PRODUCTION) == D("2200.00")
    assert cost.amount(Category.LABOUR_QC) == D("800.00")
    assert cost.amount(Category.LABOUR_QA_QP) == D("480.00")
    # facility: 60 m2 x 1500 / 18 batches = 5000
    assert cost.amount(Category.FACILITY) == D("5000.00")
    # equipment: 150000 / 7 / 18 = 1190.4761.. + 12000 x 0.5 / 5 / 18 = 66.6666.. -> 1257.14
    assert cost.amount(Category.EQUIPMENT) == D("1257.14")
    # EM: 250 per batch + 9000 / 18 = 750
    assert cost.amount(Category.ENVIRONMENTAL_MONITORING) == D("750.00")
    assert cost.batch_cost == D("27724.14")
    # fixed: facility 5000 + equipment 1257.14 + routine EM 500
    assert cost.fixed_cost == D("6757.14")
    assert cost.variable_cost == D("20967.00")
    # failed batches: 27724.14 / 0.95 = 29183.3052.. -> 29183.31
    assert cost.per_released_batch == D("29183.31")
    assert cost.failed_batch_share == D("1459.17")


def test_the_fixed_share_falls_fivefold_from_10_to_50_batches_a_year() -> None:
    ten = compute(inputs_from_dict({**CASE, "batches_per_year": 10}))
    fifty = compute(inputs_from_dict({**CASE, "batches_per_year": 50}))
    # 10/yr: facility 9000 + equipment (2142.857.. + 120 = 2262.86) + EM 900
    assert ten.fixed_cost == D("9000.00") + D("2262.86") + D("900.00") == D("12162.86")
    # 50/yr: facility 1800 + equipment (428.571.. + 24 = 452.57) + EM 180
    assert fifty.fixed_cost == D("1800.00") + D("452.57") + D("180.00") == D("2432.57")
    assert ten.variable_cost == fifty.variable_cost == D("20967.00")
    assert ten.fixed_share > fifty.fixed_share


@given(batches=st.integers(1, 500))
@settings(max_examples=60)
def test_fixed_costs_are_the_annual_costs_shared_over_the_batches(batches: int) -> None:
    annual = D("60") * D("1500") + D("150000") / 7 + D("12000") * D("0.5") / 5 + D("9000")
    cost = compute(inputs_from_dict({**CASE, "batches_per_year": batches}))
    # Each of three categories is rounded to the cent once.
    assert abs(cost.fixed_cost - annual / batches) <= D("0.015")
    assert cost.variable_cost == D("20967.00")


def test_cleanroom_by_the_hour_is_a_variable_cost() -> None:
    per_hour = inputs_from_dict(
        {**CASE, "facility_basis": "per_hour", "cleanroom_hours": "30", "cleanroom_rate": "95.5"}
    )
    assert per_hour.facility_basis is FacilityBasis.PER_HOUR
    cost = compute(per_hour)
    assert cost.amount(Category.FACILITY) == D("2865.00")
    assert cost.fixed_cost == D("1757.14")


def test_without_failures_a_released_batch_costs_a_batch() -> None:
    cost = compute(inputs_from_dict({**CASE, "failure_rate": "0"}))
    assert cost.per_released_batch == cost.batch_cost and cost.failed_batch_share == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"batches_per_year": 0}, "batches_per_year"),
        ({"batches_per_year": "18"}, "batches_per_year"),
        ({"failure_rate": "1"}, "failure_rate"),
        (
            {"materials": [{"name": "x", "quantity": "-1", "unit_price": "1"}]},
            "materials[0].quantity",
        ),
        (
            {"materials": [{"name": "x", "quantity": "1", "unit_price": "NaN"}]},
            "materials[0].unit_price",
        ),
        ({"labour": [{"role": "porter", "hours": "1", "rate": "1"}]}, "labour[0].role"),
        (
            {"equipment": [{"name": "x", "price": "1", "life_years": "0"}]},
            "equipment[0].life_years",
        ),
        (
            {"equipment": [{"name": "x", "price": "1", "life_years": "1", "share": "2"}]},
            "equipment[0].share",
        ),
        ({"currency": "XYZ"}, "currency"),
        ({"facility_basis": "per_patient"}, "facility_basis"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_inputs_are_refused_naming_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        inputs_from_dict({**CASE, **change})
    assert caught.value.field == field


def test_a_model_survives_its_document_unchanged() -> None:
    inputs = inputs_from_dict(CASE)
    assert inputs_from_dict(inputs_to_dict(inputs)) == inputs


@given(
    price=st.decimals(min_value=0, max_value=100000, places=2),
    quantity=st.decimals(min_value=0, max_value=1000, places=3),
)
def test_materials_cost_quantity_times_price_rounded_half_up(
    price: Decimal, quantity: Decimal
) -> None:
    inputs = inputs_from_dict(
        {
            "batches_per_year": 1,
            "materials": [{"name": "m", "quantity": str(quantity), "unit_price": str(price)}],
        }
    )
    cost = compute(inputs)
    exact = quantity * price
    assert abs(cost.amount(Category.MATERIALS) - exact) <= D("0.005")
    assert cost.batch_cost == cost.amount(Category.MATERIALS)


def test_the_tornado_puts_the_widest_driver_first_and_moves_both_ways() -> None:
    bars = sensitivity(inputs_from_dict(CASE))
    widths = [b.width for b in bars]
    assert widths == sorted(widths, reverse=True)
    assert bars[0].driver == "Material prices"
    base = compute(inputs_from_dict(CASE)).per_released_batch
    by_name = {b.driver: b for b in bars}
    assert by_name["Material prices"].low < base < by_name["Material prices"].high
    # More batches a year share the fixed costs more thinly: cheaper at the high end.
    assert by_name["Batches per year"].high < base < by_name["Batches per year"].low
    with pytest.raises(InvalidInput):
        sensitivity(inputs_from_dict(CASE), D("1.5"))


def test_published_figures_carry_their_sources() -> None:
    figures = published_figures()
    assert {f.amount for f in figures} >= {D("60000"), D("307200"), D("350000")}
    assert all(f.source and f.status for f in figures)
