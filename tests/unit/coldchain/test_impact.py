"""A product exposed to an excursion is issued only after QA signed "no impact" for each one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from atmpchain.coldchain.impact import Impact, ImpactAssessment, latest_assessments, may_issue

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PRODUCT = "A9990 26 123456 / S1234"


def assess(
    excursion: str, impact: Impact, hours: int = 0, signature: int | None = 1
) -> ImpactAssessment:
    return ImpactAssessment(
        excursion, PRODUCT, impact, AT + timedelta(hours=hours), "qa.mueller", signature
    )


def test_a_product_never_exposed_may_be_issued() -> None:
    assert may_issue([], []) == (True, "no temperature excursion affects this product")


def test_an_exposure_without_assessment_blocks_issue_as_pending_qa() -> None:
    allowed, reason = may_issue(["EXC-7"], [])
    assert not allowed
    assert reason == "may not be issued: QA has not yet assessed the impact of excursion EXC-7"


def test_no_impact_on_every_exposure_allows_issue() -> None:
    decision = may_issue(
        ["EXC-7", "EXC-9"], [assess("EXC-7", Impact.NO_IMPACT), assess("EXC-9", Impact.NO_IMPACT)]
    )
    assert decision == (True, "QA found no impact from excursions EXC-7, EXC-9")


def test_no_impact_on_one_exposure_does_not_cover_another() -> None:
    allowed, reason = may_issue(["EXC-7", "EXC-9"], [assess("EXC-7", Impact.NO_IMPACT)])
    assert not allowed
    assert "EXC-9" in reason and "EXC-7" not in reason


def test_quarantine_and_reject_block_issue_and_say_who_decided() -> None:
    allowed, reason = may_issue(
        ["EXC-7", "EXC-9"], [assess("EXC-7", Impact.QUARANTINE), assess("EXC-9", Impact.REJECT)]
    )
    assert not allowed
    assert reason == (
        "may not be issued: QA decided reject after excursion EXC-9 (qa.mueller, 2026-01-05 "
        "09:00); QA decided quarantine after excursion EXC-7 (qa.mueller, 2026-01-05 09:00)"
    )


def test_the_latest_signed_assessment_counts() -> None:
    released = [assess("EXC-7", Impact.QUARANTINE, 0), assess("EXC-7", Impact.NO_IMPACT, 5)]
    assert may_issue(["EXC-7"], released).allowed
    requarantined = [*released, assess("EXC-7", Impact.QUARANTINE, 6)]
    assert not may_issue(["EXC-7"], requarantined).allowed


def test_an_unsigned_assessment_does_not_count() -> None:
    assert not may_issue(["EXC-7"], [assess("EXC-7", Impact.NO_IMPACT, signature=None)]).allowed
    draft_over_quarantine = [
        assess("EXC-7", Impact.QUARANTINE, 0),
        assess("EXC-7", Impact.NO_IMPACT, 5, signature=None),
    ]
    assert not may_issue(["EXC-7"], draft_over_quarantine).allowed


def test_two_decisions_at_the_same_instant_resolve_to_the_stricter() -> None:
    same_time = [assess("EXC-7", Impact.NO_IMPACT), assess("EXC-7", Impact.REJECT)]
    assert latest_assessments(same_time)["EXC-7"].impact is Impact.REJECT
    assert latest_assessments(list(reversed(same_time)))["EXC-7"].impact is Impact.REJECT


def test_a_signed_quarantine_blocks_even_if_custody_no_longer_lists_the_exposure() -> None:
    assert not may_issue([], [assess("EXC-7", Impact.QUARANTINE)]).allowed


assessments = st.lists(
    st.builds(
        assess,
        excursion=st.sampled_from(["EXC-1", "EXC-2", "EXC-3"]),
        impact=st.sampled_from(Impact),
        hours=st.integers(0, 5),
        signature=st.none() | st.just(1),
    ),
    max_size=10,
)


@given(st.sets(st.sampled_from(["EXC-1", "EXC-2", "EXC-3"])), assessments)
def test_issue_is_allowed_exactly_when_every_latest_decision_is_no_impact(
    exposures: set[str], given_assessments: list[ImpactAssessment]
) -> None:
    latest = latest_assessments(given_assessments)
    expected = set(latest) >= exposures and all(
        a.impact is Impact.NO_IMPACT for a in latest.values()
    )
    allowed, reason = may_issue(exposures, given_assessments)
    assert allowed is expected
    assert reason.startswith("may not be issued") is not expected
