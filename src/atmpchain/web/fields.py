"""Bounded date and time types for every route that accepts one (issue 9 review, item 9).

`BoundedDatetime` is pydantic's AwareDatetime held to atmpchain.moments' range; `BoundedDate` a
date held to the same years. Out of range is a 422 naming the field and the rule, never the 500 an
overflowing conversion to UTC gave.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime
from pydantic_core import PydanticCustomError

from atmpchain.moments import DAY_RULE, MOMENT_RULE, day_in_range, moment_in_range


def _bounded_moment(value: datetime) -> datetime:
    if not moment_in_range(value):
        raise PydanticCustomError("moment_range", MOMENT_RULE)
    return value.astimezone(UTC)


def _bounded_day(value: date) -> date:
    if not day_in_range(value):
        raise PydanticCustomError("date_range", DAY_RULE)
    return value


#: An aware date and time within 1900..2199, converted to UTC.
BoundedDatetime = Annotated[AwareDatetime, AfterValidator(_bounded_moment)]
#: A date within 1900..2199.
BoundedDate = Annotated[date, AfterValidator(_bounded_day)]
