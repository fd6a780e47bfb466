"""Generated designs have the properties of their type: run counts, levels, orthogonality,
resolution, the definitive screening design's separation of main from second-order effects."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atmpchain.errors import InvalidInput
from atmpchain.translation.doe.designs import (
    DesignKind,
    coded_matrix,
    conference_matrix,
    conference_orders,
    definitive_screening,
    expected_runs,
    main_effect_correlation,
    main_effects_orthogonal_to_second_order,
    parse_kind,
    resolution_of,
)

ORTHOGONAL_KINDS = [
    DesignKind.FULL_FACTORIAL,
    DesignKind.PLACKETT_BURMAN,
    DesignKind.CENTRAL_COMPOSITE,
    DesignKind.BOX_BEHNKEN,
    DesignKind.DEFINITIVE_SCREENING,
]


@given(k=st.integers(2, 7))
@settings(max_examples=25, deadline=None)
def test_full_factorial_has_every_corner_once(k: int) -> None:
    m = coded_matrix(DesignKind.FULL_FACTORIAL, k)
    assert len(m) == 2**k == expected_runs(DesignKind.FULL_FACTORIAL, k)
    assert {tuple(r) for r in m} == set(itertools.product((-1.0, 1.0), repeat=k))
    assert main_effect_correlation(m) == 0.0
    assert resolution_of(m) is None


def test_three_level_full_factorial_spreads_levels_over_minus_one_to_one() -> None:
    m = coded_matrix(DesignKind.FULL_FACTORIAL, 2, levels=[3, 2])
    assert len(m) == 6
    assert sorted(set(m[:, 0])) == [-1.0, 0.0, 1.0]
    assert sorted(set(m[:, 1])) == [-1.0, 1.0]


@given(k=st.integers(2, 15))
@settings(max_examples=25, deadline=None)
def test_plackett_burman_runs_are_the_next_multiple_of_four_and_orthogonal(k: int) -> None:
    m = coded_matrix(DesignKind.PLACKETT_BURMAN, k)
    assert len(m) % 4 == 0 and len(m) > k
    assert len(m) == expected_runs(DesignKind.PLACKETT_BURMAN, k)
    assert main_effect_correlation(m) < 1e-12
    # Balanced: every column has as many highs as lows.
    assert np.all(m.sum(axis=0) == 0)


@pytest.mark.parametrize(("k", "res"), [(5, 3), (6, 3), (6, 4), (7, 4), (8, 4), (10, 4)])
def test_fractional_factorial_is_a_power_of_two_of_at_least_the_resolution(
    k: int, res: int
) -> None:
    m = coded_matrix(DesignKind.FRACTIONAL_FACTORIAL, k, resolution=res)
    runs = len(m)
    assert runs < 2**k and runs & (runs - 1) == 0
    found = resolution_of(m)
    assert found is not None and found >= res
    assert main_effect_correlation(m) < 1e-12


@pytest.mark.parametrize(("k", "res"), [(6, 6), (8, 5)])
def test_fractional_factorial_refuses_a_resolution_it_cannot_deliver(k: int, res: int) -> None:
    """Resolution 6 is out of the table; for 8 factors at V pyDOE3 returns a resolution IV
    design, which would alias two-factor interactions that the scientist asked to separate."""
    with pytest.raises(InvalidInput) as caught:
        coded_matrix(DesignKind.FRACTIONAL_FACTORIAL, k, resolution=res)
    assert caught.value.field == "resolution"


@given(k=st.integers(2, 6), centre=st.integers(0, 6), face=st.sampled_from(["ccf", "ccc", "cci"]))
@settings(max_examples=30, deadline=None)
def test_central_composite_has_corners_axials_and_centres(k: int, centre: int, face: str) -> None:
    m = coded_matrix(DesignKind.CENTRAL_COMPOSITE, k, center_points=centre, face=face)
    assert (
        len(m)
        == 2**k + 2 * k + centre
        == expected_runs(DesignKind.CENTRAL_COMPOSITE, k, center_points=centre)
    )
    assert main_effect_correlation(m) < 1e-9
    axial = [r for r in m if np.count_nonzero(r) == 1]
    assert len(axial) == 2 * k
    if face == "ccf":
        # Face-centred: every run stays inside the ranges the scientist chose.
        assert np.abs(m).max() == 1.0
    if face == "ccc":
        # Circumscribed: the axial points lie beyond the cube (rotatable alpha = (2^k)^(1/4)).
        assert np.abs(m).max() == pytest.approx((2**k) ** 0.25)


@given(k=st.integers(3, 7))
@settings(max_examples=10, deadline=None)
def test_box_behnken_has_three_levels_no_corners_and_orthogonal_main_effects(k: int) -> None:
    m = coded_matrix(DesignKind.BOX_BEHNKEN, k, center_points=3)
    assert len(m) == expected_runs(DesignKind.BOX_BEHNKEN, k, center_points=3)
    assert set(np.unique(m)) == {-1.0, 0.0, 1.0}
    assert not any(np.all(np.abs(r) == 1) for r in m)
    assert main_effect_correlation(m) < 1e-12


@pytest.mark.parametrize("order", conference_orders())
def test_conference_matrices_meet_their_definition(order: int) -> None:
    c = conference_matrix(order)
    assert np.all(np.diag(c) == 0)
    off = c[~np.eye(order, dtype=bool)]
    assert set(np.unique(off)) <= {-1.0, 1.0}
    assert np.array_equal(c.T @ c, (order - 1) * np.eye(order))


def test_conference_orders_are_two_and_one_above_odd_primes() -> None:
    assert conference_orders(32) == (2, 4, 6, 8, 12, 14, 18, 20, 24, 30, 32)


def test_conference_matrix_of_an_unsupported_order_is_refused() -> None:
    with pytest.raises(InvalidInput, match="order 10"):
        conference_matrix(10)


@given(k=st.integers(2, 16))
@settings(max_examples=30, deadline=None)
def test_definitive_screening_separates_main_effects_from_second_order(k: int) -> None:
    m = definitive_screening(k)
    assert len(m) == expected_runs(DesignKind.DEFINITIVE_SCREENING, k)
    assert len(m) % 2 == 1 and len(m) >= 2 * k + 1
    assert set(np.unique(m)) == {-1.0, 0.0, 1.0}
    assert main_effect_correlation(m) < 1e-12
    assert main_effects_orthogonal_to_second_order(m)
    # Fold-over pairs: every run but the centre has its mirror image.
    rows = {tuple(r) for r in m}
    assert all(tuple(-np.array(r)) in rows for r in rows)
    # Each factor is at its centre in exactly its fold-over pair and the centre run.
    assert all(np.count_nonzero(m[:, j] == 0) == 3 for j in range(k))


def test_the_published_twelve_component_media_screen_has_25_runs() -> None:
    """PMC8320393: a DSD over 12 media components gave 25 (2k + 1) formulations."""
    m = coded_matrix(DesignKind.DEFINITIVE_SCREENING, 12)
    assert m.shape == (25, 12)


@pytest.mark.parametrize("kind", ORTHOGONAL_KINDS)
def test_centre_points_are_added_to_any_design(kind: DesignKind) -> None:
    k = 4
    plain = coded_matrix(kind, k)
    more = coded_matrix(kind, k, center_points=2)
    assert len(more) == len(plain) + 2
    assert np.all(more[-2:] == 0)


@pytest.mark.parametrize(
    ("kind", "k"),
    [(DesignKind.BOX_BEHNKEN, 2), (DesignKind.FULL_FACTORIAL, 17), (DesignKind.FULL_FACTORIAL, 10)],
)
def test_designs_outside_their_range_are_refused_naming_the_field(kind: DesignKind, k: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        coded_matrix(kind, k)
    assert caught.value.field in {"factors", "levels"}


def test_design_names_are_read_as_people_write_them() -> None:
    assert parse_kind("Box-Behnken") is DesignKind.BOX_BEHNKEN
    assert parse_kind("definitive screening") is DesignKind.DEFINITIVE_SCREENING
    assert parse_kind("plackett_burman") is DesignKind.PLACKETT_BURMAN
    with pytest.raises(InvalidInput, match="choose one of"):
        parse_kind("taguchi")
