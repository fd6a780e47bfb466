"""The EM suite fixture (built in tests/em_support.py, shared with the web tests)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tests.conftest import Persona
from tests.em_support import Suite, build_em_suite

from atmpchain.clock import FixedClock
from atmpchain.uow import UnitOfWork

__all__ = ["Suite"]


@pytest.fixture
def em_suite(uow: UnitOfWork, clock: FixedClock, make_persona: Callable[..., Persona]) -> Suite:
    return build_em_suite(uow, clock, make_persona)
