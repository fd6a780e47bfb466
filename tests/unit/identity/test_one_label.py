"""One label answers each identity question once (issue 9 item 1).

`=+02000=A99992600000100=A99992600000200` (one Data Matrix carrying two DINs) used to be
accepted, and the bedside check said MATCH or STOP depending on which DIN came first.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.identity import (
    ChainOfIdentityIdentifier,
    CompoundMessage,
    Din,
    DonationIdentification,
    IdentityFormatError,
    parse_scan,
)
from atmpchain.identity.chain import CheckPoint, decide, identity_of
from atmpchain.identity.one_label import KINDS
from atmpchain.identity.registry import SimpleStructure

REPORTED = "=+02000=A99992600000100=A99992600000200"
DIN_1 = "=A99992600000100"
DIN_2 = "=A99992600000200"
COI_1 = "&/CHA99992600000A"
COI_2 = "&/CHA99992600000B"
PRODUCT_1 = "=<S1295V00"
PRODUCT_2 = "=<S1296V00"
EXPIRY_005 = "&>0260412359"
EXPIRY_005_OTHER = "&>0260422359"
EXPIRY_004 = "=>026041"
# ST-012 Fig. 2 with the DIN, product code and expiry date it was built from.
SEC_DATA = "&,4PL001499Z549917123456A00T041600320171231"
SEC_DIN = "=Z54991712345600"
SEC_PRODUCT = "=<T0416003"
SEC_EXPIRY = "=>017365"


def _message(*parts: str) -> str:
    return f"=+{len(parts):02d}000" + "".join(parts)


def test_refuses_the_reported_data_matrix_with_two_dins_naming_both() -> None:
    with pytest.raises(IdentityFormatError) as caught:
        parse_scan(REPORTED)
    error = caught.value
    assert error.structure == "Compound Message (023)"
    assert error.position == 24  # where the second DIN starts
    assert "two different DINs, A9999 26 000001 8 and A9999 26 000002 6" in error.rule
    assert "contradicts itself" in error.rule


@pytest.mark.parametrize(
    ("parts", "kind"),
    [
        ((DIN_2, DIN_1), "DINs"),
        ((DIN_1, COI_1, COI_2), "chain-of-identity identifiers"),
        ((DIN_1, PRODUCT_1, PRODUCT_2), "product codes"),
        ((DIN_1, EXPIRY_005, EXPIRY_005_OTHER), "expiry dates"),
        # 004 and 005 answer the same question: two expiry dates even on the same day.
        ((DIN_1, EXPIRY_004, EXPIRY_005), "expiry dates"),
    ],
)
def test_refuses_two_different_values_of_one_kind(parts: tuple[str, ...], kind: str) -> None:
    with pytest.raises(IdentityFormatError, match=f"two different {kind}"):
        parse_scan(_message(*parts))


@pytest.mark.parametrize("repeated", [DIN_1, COI_1, PRODUCT_1, EXPIRY_005])
def test_refuses_an_identical_repeat_because_the_standard_provides_for_none(
    repeated: str,
) -> None:
    with pytest.raises(IdentityFormatError, match="appears twice") as caught:
        parse_scan(_message(DIN_2 if repeated != DIN_1 else PRODUCT_1, repeated, repeated))
    assert "ST-001 §2.4.23" in caught.value.rule


def test_refuses_a_compound_message_built_in_code_with_two_dins() -> None:
    one = DonationIdentification(Din("A9999", "26", "000001"))
    two = DonationIdentification(Din("A9999", "26", "000002"))
    with pytest.raises(IdentityFormatError, match="two different DINs"):
        CompoundMessage("000", (one, two))


def test_accepts_an_sec_that_agrees_with_the_label_it_is_on() -> None:
    message = parse_scan(_message(SEC_DIN, SEC_PRODUCT, SEC_EXPIRY, SEC_DATA))
    assert isinstance(message, CompoundMessage)
    assert identity_of("", message).din == Din("Z5499", "17", "123456")


@pytest.mark.parametrize(
    ("parts", "words"),
    [
        ((DIN_1, SEC_DATA), "unique donation number Z549917123456 is not the label's DIN"),
        ((SEC_DIN, "=<T0417003", SEC_DATA), "product number 00T0416 is not 00T0417"),
        ((SEC_DIN, "=<T0416004", SEC_DATA), "split number 003 is not 004"),
        ((SEC_DIN, "=>017364", SEC_DATA), "expiry date (2017-12-31) is not"),
    ],
)
def test_refuses_an_sec_that_contradicts_the_rest_of_the_label(
    parts: tuple[str, ...], words: str
) -> None:
    with pytest.raises(IdentityFormatError) as caught:
        parse_scan(_message(*parts))
    assert "Single European Code contradicts the rest of the label" in caught.value.rule
    assert words in caught.value.rule
    assert caught.value.position == 8 + sum(len(p) for p in parts[:-1])


@st.composite
def contradicting_messages(draw: st.DrawFn) -> tuple[str, str]:
    """A correct label's structures plus two different values of one kind, anywhere in it;
    returns the scanned text and the kind repeated."""
    base: CompoundMessage = draw(st.from_type(CompoundMessage))
    kind = draw(st.sampled_from(sorted(set(KINDS.values()))))
    classes = sorted((c for c, k in KINDS.items() if k == kind), key=lambda c: c.__name__)
    first: SimpleStructure = draw(st.from_type(draw(st.sampled_from(classes))))
    second: SimpleStructure = draw(
        st.from_type(draw(st.sampled_from(classes))).filter(lambda v: v != first)
    )
    parts = [s for s in base.structures if KINDS[type(s)] != kind]
    parts.insert(draw(st.integers(0, len(parts))), first)
    parts.insert(draw(st.integers(0, len(parts))), second)
    return _message(*(p.encode() for p in parts)), kind


@given(contradicting_messages())
def test_any_message_with_two_different_values_of_one_kind_is_refused(
    case: tuple[str, str],
) -> None:
    text, kind = case
    with pytest.raises(IdentityFormatError) as caught:
        parse_scan(text)
    assert f"two different {kind}s" in caught.value.rule


@given(st.from_type(CompoundMessage), st.data())
def test_the_order_of_structures_never_changes_a_match_or_stop_decision(
    message: CompoundMessage, data: st.DataObject
) -> None:
    reordered = CompoundMessage(
        message.reference, tuple(data.draw(st.permutations(message.structures)))
    )
    bag, again = identity_of("", message), identity_of("", reordered)
    assert (bag.din, bag.product, bag.coi) == (again.din, again.product, again.coi)
    wristband = identity_of("", ChainOfIdentityIdentifier("A9999", "26", "00000A"))
    owner = data.draw(st.sampled_from(["CHA999926000001", wristband.coi]))
    registry = {bag.din.encode(): owner} if bag.din else {}
    for checkpoint in CheckPoint:
        assert decide(checkpoint, bag, wristband, registry) == decide(
            checkpoint, again, wristband, registry
        )
