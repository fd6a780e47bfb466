"""The chain-of-identity decision: a match only when both scans provably share one chain."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from atmpchain.identity.chain import CheckPoint, ScannedIdentity, decide, resolve_coi
from atmpchain.identity.din import Din
from atmpchain.identity.product import ProductCode

FIN = "A9999"
dins = st.integers(min_value=1, max_value=999_999).map(lambda n: Din(FIN, "26", f"{n:06d}"))
cois = st.integers(min_value=1, max_value=999_999).map(lambda n: f"CH{FIN}26{n:06d}")
checkpoints = st.sampled_from(list(CheckPoint))


def bag(din: Din, coi: str | None = None) -> ScannedIdentity:
    return ScannedIdentity(raw="bag", din=din, product=None, coi=coi)


def wristband(coi: str) -> ScannedIdentity:
    return ScannedIdentity(raw="wristband", din=None, product=None, coi=coi)


@given(din=dins, coi=cois)
def test_a_bag_matches_the_wristband_of_its_own_chain(din: Din, coi: str) -> None:
    verdict = decide(CheckPoint.BAG_TO_WRISTBAND, bag(din), wristband(coi), {din.encode(): coi})
    assert verdict.match and verdict.coi == coi


@given(din=dins, coi=cois, other=cois)
def test_a_bag_never_matches_another_chains_wristband(din: Din, coi: str, other: str) -> None:
    verdict = decide(CheckPoint.BAG_TO_WRISTBAND, bag(din), wristband(other), {din.encode(): coi})
    assert verdict.match == (coi == other)


@given(checkpoint=checkpoints, din=dins, coi=cois)
def test_an_unregistered_din_never_matches_anywhere(
    checkpoint: CheckPoint, din: Din, coi: str
) -> None:
    verdict = decide(checkpoint, bag(din), wristband(coi), registry={})
    assert not verdict.match
    assert "not bound to any chain" in verdict.reason


@given(checkpoint=checkpoints, din=dins, coi=cois, printed=cois)
def test_a_label_that_contradicts_its_registration_never_matches(
    checkpoint: CheckPoint, din: Din, coi: str, printed: str
) -> None:
    registry = {din.encode(): coi}
    verdict = decide(checkpoint, bag(din, printed), bag(din, printed), registry)
    if printed != coi:
        assert not verdict.match
        assert "contradicts itself" in verdict.reason
    elif checkpoint in (CheckPoint.LABEL_TO_LABEL, CheckPoint.BAG_TO_CASSETTE):
        assert verdict.match


@given(din=dins, other=dins, coi=cois)
def test_bag_to_cassette_needs_the_same_donation_even_within_one_chain(
    din: Din, other: Din, coi: str
) -> None:
    registry = {din.encode(): coi, other.encode(): coi}
    verdict = decide(CheckPoint.BAG_TO_CASSETTE, bag(din), bag(other), registry)
    assert verdict.match == (din == other)


@given(
    din=dins,
    coi=cois,
    first=st.sampled_from(["S1295", "S1296"]),
    second=st.sampled_from(["S1295", "S1296"]),
)
def test_a_split_matches_its_parent_only_for_the_same_product(
    din: Din, coi: str, first: str, second: str
) -> None:
    split = ScannedIdentity("s", din, ProductCode.parse(f"=<{first}VA0"), None)
    parent = ScannedIdentity("p", din, ProductCode.parse(f"=<{second}V00"), None)
    verdict = decide(CheckPoint.SPLIT_TO_PARENT, split, parent, {din.encode(): coi})
    assert verdict.match == (first == second)


@given(
    checkpoint=checkpoints,
    first=st.one_of(dins.map(bag), cois.map(wristband)),
    second=st.one_of(dins.map(bag), cois.map(wristband)),
    registry=st.dictionaries(dins.map(lambda d: d.encode()), cois, max_size=3),
)
def test_a_match_always_names_one_chain_both_scans_resolve_to(
    checkpoint: CheckPoint,
    first: ScannedIdentity,
    second: ScannedIdentity,
    registry: dict[str, str],
) -> None:
    verdict = decide(checkpoint, first, second, registry)
    if verdict.match:
        assert resolve_coi(first, registry)[0] == verdict.coi == resolve_coi(second, registry)[0]
    else:
        assert verdict.coi is None and verdict.reason


@given(din=dins, coi=cois)
def test_scanning_the_bag_twice_never_passes_the_bedside_check(din: Din, coi: str) -> None:
    registry = {din.encode(): coi}
    verdict = decide(CheckPoint.BAG_TO_WRISTBAND, bag(din), bag(din, coi), registry)
    assert not verdict.match
    assert "not the patient's wristband" in verdict.reason
