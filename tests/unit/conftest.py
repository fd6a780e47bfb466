"""Shared by every unit-test folder: the Hypothesis profile of `make mutate`, and the local zone."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from hypothesis import settings

# `make mutate` (tools/mutate.py) runs the unit tests once per planted bug on a shared machine. A
# mutant must be killed by a rule, never by a deadline on a busy core nor by a lucky random
# example, so that run uses the same examples every time and no deadline; and fewer of them, so
# that a module takes minutes, not hours (the score counts what the named examples pin).
settings.register_profile("mutation", derandomize=True, deadline=None, max_examples=30)


@pytest.fixture(params=["UTC", "Europe/Vienna"])
def local_time_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run a test with the process's local zone set to UTC, then to Vienna (UTC+1/+2).

    Servers and CI run in UTC, where a conversion to "local time" (``astimezone()``) cannot be
    told from one to UTC; a record hashed or an excursion timed in local time would only show up
    on a machine elsewhere. Tests of time rules take this fixture so both zones are checked.
    """
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    try:
        yield request.param
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()
