"""The chain-of-identity decision pinned case by case: every refusal is a hard stop (match is
False, no chain named) with the reason a person at the bedside reads."""

from __future__ import annotations

import pytest

from atmpchain.identity.chain import (
    CheckPoint,
    ScannedIdentity,
    Verdict,
    decide,
    identity_of,
    resolve_coi,
)
from atmpchain.identity.din import Din
from atmpchain.identity.product import ProductCode
from atmpchain.identity.scan import parse_scan

DIN = Din("G1234", "17", "654321")  # eye-readable "G1234 17 654321 A"
OTHER_DIN = Din("A9999", "21", "123456")  # eye-readable "A9999 21 123456 3"
COI = "CHA99992300012B"
OTHER_COI = "CHA99992300013C"
REGISTRY = {DIN.encode(): COI, OTHER_DIN.encode(): COI}
PARENT = ProductCode.parse("=<S1295V00")
SPLIT = ProductCode.parse("=<S1295VA0")
OTHER_PRODUCT = ProductCode.parse("=<S1296V00")


def bag(
    din: Din | None = DIN, product: ProductCode | None = None, coi: str | None = None
) -> ScannedIdentity:
    return ScannedIdentity("bag", din, product, coi)


WRISTBAND = ScannedIdentity("wristband", None, None, COI)
NOTHING = ScannedIdentity("", None, None, None)


def refused(verdict: Verdict, reason: str) -> None:
    assert verdict == Verdict(False, reason, None)
    assert verdict.match is False


# --- what a scan says ----------------------------------------------------------------------


def test_a_compound_message_gives_its_din_product_and_chain() -> None:
    raw = "=+03000=G12341765432170=<S1295VA0&/CHA99992300012B"
    assert identity_of(raw, parse_scan(raw)) == ScannedIdentity(raw, DIN, SPLIT, COI)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("=G12341765432170", ScannedIdentity("=G12341765432170", DIN, None, None)),
        ("=<S1295VA0", ScannedIdentity("=<S1295VA0", None, SPLIT, None)),
        ("&/CHA99992300012B", ScannedIdentity("&/CHA99992300012B", None, None, COI)),
    ],
    ids=["din", "product", "chain"],
)
def test_a_single_structure_gives_only_its_own_part(raw: str, expected: ScannedIdentity) -> None:
    assert identity_of(raw, parse_scan(raw)) == expected


def test_a_scan_summary_names_each_part_it_carries() -> None:
    assert bag(DIN, SPLIT, COI).summary == (
        "DIN G1234 17 654321 A, product S1295VA0, chain of identity CHA99992300012B"
    )
    assert WRISTBAND.summary == "chain of identity CHA99992300012B"
    assert NOTHING.summary == "no identity"


def test_check_points_read_as_staff_name_them() -> None:
    assert {c: c.label for c in CheckPoint} == {
        CheckPoint.BAG_TO_WRISTBAND: "Product bag to patient wristband",
        CheckPoint.BAG_TO_CASSETTE: "Bag to its cassette",
        CheckPoint.SPLIT_TO_PARENT: "Split unit to its parent unit",
        CheckPoint.LABEL_TO_LABEL: "Any two labels of the same therapy",
    }


# --- which chain a scan belongs to ---------------------------------------------------------


def test_a_scan_belongs_to_its_own_chain_or_its_dins_registration() -> None:
    assert resolve_coi(WRISTBAND, {}) == (COI, None)
    assert resolve_coi(bag(), REGISTRY) == (COI, None)
    assert resolve_coi(bag(coi=COI), REGISTRY) == (COI, None)


def test_a_label_whose_chain_contradicts_its_dins_registration_names_both() -> None:
    assert resolve_coi(bag(coi=OTHER_COI), REGISTRY) == (
        None,
        f"the label contradicts itself: it carries chain of identity {OTHER_COI} but DIN "
        f"G1234 17 654321 A is registered to {COI}",
    )


def test_an_unbound_din_cannot_prove_its_owner() -> None:
    assert resolve_coi(bag(), {}) == (
        None,
        "DIN G1234 17 654321 A is not bound to any chain of identity, so its owner cannot be "
        "proved",
    )


def test_a_scan_with_neither_din_nor_chain_is_no_identity() -> None:
    assert resolve_coi(NOTHING, REGISTRY) == (
        None,
        "the scan carries neither a DIN nor a chain-of-identity identifier",
    )


# --- the decision --------------------------------------------------------------------------


def test_a_failed_first_or_second_scan_is_a_hard_stop_saying_which() -> None:
    refused(
        decide(CheckPoint.LABEL_TO_LABEL, NOTHING, WRISTBAND, REGISTRY),
        "first scan: the scan carries neither a DIN nor a chain-of-identity identifier",
    )
    refused(
        decide(CheckPoint.LABEL_TO_LABEL, WRISTBAND, NOTHING, REGISTRY),
        "second scan: the scan carries neither a DIN nor a chain-of-identity identifier",
    )


def test_at_the_bedside_the_bag_is_scanned_first() -> None:
    refused(
        decide(CheckPoint.BAG_TO_WRISTBAND, WRISTBAND, WRISTBAND, REGISTRY),
        "first scan: scan the product bag's label first",
    )


def test_at_the_bedside_the_second_scan_must_be_the_wristband() -> None:
    refused(
        decide(CheckPoint.BAG_TO_WRISTBAND, bag(), bag(OTHER_DIN), REGISTRY),
        "second scan: that is a product label, not the patient's wristband; scan the "
        "chain-of-identity barcode on the wristband",
    )


def test_the_bag_matches_the_wristband_of_its_chain_and_names_it() -> None:
    assert decide(CheckPoint.BAG_TO_WRISTBAND, bag(), WRISTBAND, REGISTRY) == Verdict(
        True, f"both belong to chain of identity {COI}", COI
    )


@pytest.mark.parametrize("checkpoint", [CheckPoint.BAG_TO_CASSETTE, CheckPoint.SPLIT_TO_PARENT])
@pytest.mark.parametrize(
    ("first", "second"),
    [(bag(), WRISTBAND), (WRISTBAND, bag()), (WRISTBAND, WRISTBAND)],
    ids=["second-without-din", "first-without-din", "neither"],
)
def test_a_cassette_or_parent_check_needs_a_din_on_both_labels(
    checkpoint: CheckPoint, first: ScannedIdentity, second: ScannedIdentity
) -> None:
    refused(
        decide(checkpoint, first, second, REGISTRY),
        f"{checkpoint.label}: both labels must carry a DIN",
    )


def test_a_bag_and_a_cassette_of_different_donations_do_not_match_even_in_one_chain() -> None:
    refused(
        decide(CheckPoint.BAG_TO_CASSETTE, bag(), bag(OTHER_DIN), REGISTRY),
        "different donations: G1234 17 654321 A and A9999 21 123456 3",
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [(SPLIT, None), (None, PARENT), (None, None)],
    ids=["parent-without-product", "split-without-product", "neither"],
)
def test_a_split_check_needs_a_product_code_on_both_labels(
    first: ProductCode | None, second: ProductCode | None
) -> None:
    refused(
        decide(CheckPoint.SPLIT_TO_PARENT, bag(product=first), bag(product=second), REGISTRY),
        "split to parent: both labels must carry a product code",
    )


def test_a_split_of_another_product_does_not_match_its_parent() -> None:
    refused(
        decide(
            CheckPoint.SPLIT_TO_PARENT, bag(product=SPLIT), bag(product=OTHER_PRODUCT), REGISTRY
        ),
        "different products: S1295 and S1296",
    )


def test_a_split_matches_its_parent_of_the_same_product_and_donation() -> None:
    verdict = decide(CheckPoint.SPLIT_TO_PARENT, bag(product=SPLIT), bag(product=PARENT), REGISTRY)
    assert verdict == Verdict(True, f"both belong to chain of identity {COI}", COI)


def test_two_labels_of_different_therapies_do_not_match() -> None:
    other_wristband = ScannedIdentity("wristband", None, None, OTHER_COI)
    refused(
        decide(CheckPoint.LABEL_TO_LABEL, bag(), other_wristband, REGISTRY),
        f"different patients' therapies: chain of identity {COI} and {OTHER_COI}",
    )
