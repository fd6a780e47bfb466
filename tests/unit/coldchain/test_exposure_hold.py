"""The custody hold an excursion exposure implies mirrors the issue rule, decision by decision."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from atmpchain.coldchain.assessment import exposure_hold
from atmpchain.coldchain.impact import Impact, ImpactAssessment, may_issue
from atmpchain.custody.control_rules import HoldKind, HoldSpec

REFERENCE = "#12 on LN2 vapour tank A (LN2A)"


@given(st.none() | st.sampled_from(Impact))
def test_an_exposure_is_held_exactly_when_the_issue_rule_blocks_it(impact: Impact | None) -> None:
    assessments = (
        []
        if impact is None
        else [
            ImpactAssessment(
                REFERENCE, "B1234 S1295V00", impact, datetime(2026, 1, 5, tzinfo=UTC), "QA", 1
            )
        ]
    )
    held = exposure_hold(REFERENCE, impact)
    assert (held is None) == may_issue([REFERENCE], assessments).allowed


def test_the_pending_hold_says_what_it_waits_for() -> None:
    assert exposure_hold(REFERENCE, None) == HoldSpec(
        HoldKind.PENDING_ASSESSMENT,
        f"exposed to excursion {REFERENCE}",
        f"QA impact assessment of excursion {REFERENCE}",
    )
