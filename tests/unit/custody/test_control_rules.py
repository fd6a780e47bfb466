"""The pure rules of controls and holds: who may move a controlled unit, what stops a hand-on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.custody.control_rules import (
    ActiveControl,
    ActiveHold,
    Controller,
    HoldKind,
    check_hand_on,
    check_move,
)
from atmpchain.custody.errors import UnitControlled, UnitOnHold
from atmpchain.errors import InvalidInput

NOW = datetime(2026, 1, 5, 7, tzinfo=UTC)
UNIT = "B1234 26 000001 / S1295V00"
DOSE = Controller("hospital.dose", "3")


def _control(key: Controller = DOSE) -> ActiveControl:
    return ActiveControl(1, 7, key, "dose D000003", "/hospital/doses/3", NOW)


def _hold(kind: HoldKind, reason: str, waits_for: str) -> ActiveHold:
    return ActiveHold(1, 7, "coldchain.excursion", "12", kind, reason, waits_for, None, NOW)


def test_refuses_a_plain_move_of_a_controlled_unit_naming_the_controller_and_its_page() -> None:
    with pytest.raises(UnitControlled) as refused:
        check_move(UNIT, _control(), None)
    assert refused.value.field == "unit_scan"
    assert "belongs to dose D000003" in refused.value.message
    assert "Use the page of dose D000003: /hospital/doses/3" in refused.value.message
    assert refused.value.page == "/hospital/doses/3"


def test_the_controllers_own_step_moves_its_unit() -> None:
    check_move(UNIT, _control(), Controller("hospital.dose", "3"))


def test_refuses_a_step_of_another_record_of_the_same_capability() -> None:
    with pytest.raises(UnitControlled, match="another record"):
        check_move(UNIT, _control(), Controller("hospital.dose", "4"))


def test_an_uncontrolled_unit_moves_plainly_and_by_a_records_first_step() -> None:
    check_move(UNIT, None, None)
    check_move(UNIT, None, DOSE)


names = st.from_regex(r"[a-z]{1,8}\.[a-z]{1,8}", fullmatch=True)
references = st.from_regex(r"[A-Z0-9][A-Z0-9-]{0,10}", fullmatch=True)
controllers = st.builds(Controller, names, references)


@given(controllers, st.none() | controllers)
def test_a_controlled_unit_moves_exactly_when_the_step_names_its_controller(
    owner: Controller, via: Controller | None
) -> None:
    try:
        check_move(UNIT, _control(owner), via)
    except UnitControlled:
        assert via != owner
    else:
        assert via == owner


def test_refuses_a_hand_on_while_any_hold_is_active_naming_each_and_what_it_waits_for() -> None:
    holds = [
        _hold(
            HoldKind.PENDING_ASSESSMENT,
            "exposed to excursion #12 on LN2 tank A (LN2A)",
            "QA impact assessment of excursion #12 on LN2 tank A (LN2A)",
        ),
        _hold(HoldKind.QA_HOLD, "on hold for QA since receipt: warm log", "QA's release"),
    ]
    with pytest.raises(UnitOnHold) as refused:
        check_hand_on(UNIT, holds)
    message = refused.value.message
    assert "waiting for QA impact assessment of excursion #12 on LN2 tank A (LN2A)" in message
    assert "on hold for QA since receipt: warm log: waiting for QA's release" in message
    check_hand_on(UNIT, [])


@pytest.mark.parametrize("name", ["Hospital.Dose", "hospital", "hospital..dose", "x" * 41 + ".y"])
def test_refuses_a_capability_name_that_is_not_dotted_lower_case_words(name: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        Controller(name, "3")
    assert refused.value.field == "capability"


def test_every_hold_kind_has_a_label_for_the_pages() -> None:
    assert {kind.label for kind in HoldKind} >= {"quarantined", "on hold for QA", "rejected"}
    assert HoldKind.PENDING_ASSESSMENT.label == "pending impact assessment"
