"""QA impact rules pinned one by one: which signed decision counts, and the words a pharmacist
reads when a product may or may not be issued."""

from __future__ import annotations

from datetime import UTC, datetime

from atmpchain.coldchain.impact import Impact, ImpactAssessment, latest_assessments, may_issue

AT = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PRODUCT = "A9990 26 123456 / S1234"


def assess(
    excursion: str, impact: Impact, by: str = "qa.mueller", signature: int | None = 1
) -> ImpactAssessment:
    return ImpactAssessment(excursion, PRODUCT, impact, AT, by, signature)


def test_a_signed_decision_after_an_unsigned_draft_still_counts() -> None:
    draft = assess("EXC-7", Impact.REJECT, signature=None)
    signed = assess("EXC-7", Impact.NO_IMPACT)
    assert latest_assessments([draft, signed]) == {"EXC-7": signed}
    assert may_issue(["EXC-7"], [draft, signed]).allowed


def test_of_two_equal_decisions_signed_at_the_same_instant_the_first_counts() -> None:
    first = assess("EXC-7", Impact.QUARANTINE, by="qa.mueller")
    second = assess("EXC-7", Impact.QUARANTINE, by="qa.huber")
    assert latest_assessments([first, second]) == {"EXC-7": first}


def test_one_pending_excursion_is_named_in_the_singular() -> None:
    assert may_issue(["EXC-7"], []).reason == (
        "may not be issued: QA has not yet assessed the impact of excursion EXC-7"
    )


def test_several_pending_excursions_are_named_in_the_plural_and_in_order() -> None:
    assert may_issue(["EXC-9", "EXC-7"], []).reason == (
        "may not be issued: QA has not yet assessed the impact of excursions EXC-7, EXC-9"
    )


def test_no_impact_from_one_excursion_is_said_in_the_singular() -> None:
    assert may_issue(["EXC-7"], [assess("EXC-7", Impact.NO_IMPACT)]) == (
        True,
        "QA found no impact from excursion EXC-7",
    )


def test_no_impact_from_several_excursions_is_said_in_the_plural() -> None:
    decisions = [assess("EXC-9", Impact.NO_IMPACT), assess("EXC-7", Impact.NO_IMPACT)]
    assert may_issue(["EXC-7", "EXC-9"], decisions) == (
        True,
        "QA found no impact from excursions EXC-7, EXC-9",
    )


def test_a_block_and_a_pending_excursion_are_both_named() -> None:
    assert may_issue(["EXC-7", "EXC-9"], [assess("EXC-7", Impact.QUARANTINE)]).reason == (
        "may not be issued: QA decided quarantine after excursion EXC-7 (qa.mueller, "
        "2026-01-05 09:00); QA has not yet assessed the impact of excursion EXC-9"
    )


def test_decisions_read_as_qa_says_them() -> None:
    assert [i.label for i in Impact] == ["no impact", "quarantine", "reject"]
