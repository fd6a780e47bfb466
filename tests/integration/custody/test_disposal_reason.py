"""Disposal needs a reason with visible text (issue 9, item 12)."""

from __future__ import annotations

import pytest
from tests.conftest import Persona
from tests.integration.conftest import Trail
from tests.integration.custody.conftest import compound

from atmpchain.custody import service
from atmpchain.errors import InvalidInput
from atmpchain.uow import UnitOfWork


def test_refuses_disposal_whose_reason_is_a_zero_width_space(
    uow: UnitOfWork, tank: str, handler: Persona, plain_bag: str, trail: Trail
) -> None:
    service.receive(uow, actor=handler.actor, unit_scan=compound(plain_bag), from_party="Courier")
    before = trail.state()
    with pytest.raises(InvalidInput) as err:
        service.dispose(uow, actor=handler.actor, unit_scan=compound(plain_bag), reason="\u200b")
    assert err.value.field == "reason"
    assert "visible text" in err.value.message
    assert trail.state() == before
