"""The range of dates and times the application accepts from anyone (issue 9 review, item 9).

Python's datetime spans the years 1 to 9999. A time at either end with a UTC offset cannot be
converted to UTC (9999-12-31T23:00-05:00 is past the year 9999 in UTC), and the conversion
raised OverflowError: a 500 on the audit filters, /api/audit, /api/refusals and an API token's
expiry. No record of this application is dated before 1900 or after 2199, so every date and time
that comes in (web forms, JSON, query strings, command options) is held to that range first, with
a 422 naming the field and this rule. The check looks at the value as given before converting
it, so the conversion can no longer overflow. Pure: no framework.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from atmpchain.errors import InvalidInput

EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2199, 12, 31)
#: In UTC: the first moment accepted, and the first moment past the range.
EARLIEST = datetime.combine(EARLIEST_DAY, time.min, UTC)
PAST_LATEST = datetime(2200, 1, 1, tzinfo=UTC)

MOMENT_RULE = (
    f"a date and time must carry its time zone and lie between {EARLIEST_DAY:%Y-%m-%d} and "
    f"{LATEST_DAY:%Y-%m-%d} (UTC)"
)
DAY_RULE = f"a date must lie between {EARLIEST_DAY:%Y-%m-%d} and {LATEST_DAY:%Y-%m-%d}"


def moment_in_range(value: datetime) -> bool:
    """Whether an aware `value` lies within the accepted range (naive values never do)."""
    if value.tzinfo is None or value.utcoffset() is None:
        return False
    # The date as written first: within 1900..2199, converting to UTC cannot overflow.
    if not EARLIEST_DAY <= value.date() <= LATEST_DAY:
        return False
    return EARLIEST <= value.astimezone(UTC) < PAST_LATEST


def day_in_range(value: date) -> bool:
    """Whether `value` lies within the accepted range of days."""
    return EARLIEST_DAY <= value <= LATEST_DAY


def check_moment(value: datetime, field: str) -> datetime:
    """`value` as UTC, or InvalidInput naming `field` and the rule."""
    if not moment_in_range(value):
        raise InvalidInput(f"'{value.isoformat()}' is out of range: {MOMENT_RULE}", field=field)
    return value.astimezone(UTC)


def check_day(value: date, field: str) -> date:
    """`value`, or InvalidInput naming `field` and the rule."""
    if not day_in_range(value):
        raise InvalidInput(f"'{value.isoformat()}' is out of range: {DAY_RULE}", field=field)
    return value


def parse_moment(text: str, field: str) -> datetime:
    """An ISO 8601 date or time with its zone, within range, as UTC."""
    value = text.strip()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"'{value}' is not an ISO date or time such as 2026-11-27T00:00Z", field=field
        ) from None
    if moment.tzinfo is None:
        raise InvalidInput(
            f"'{value}' needs a time zone, e.g. 2026-11-27T00:00+01:00 or Z", field=field
        )
    return check_moment(moment, field)


def parse_day(text: str, field: str) -> date:
    """A date as YYYY-MM-DD, within range."""
    value = text.strip()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"'{value}' is not a date as YYYY-MM-DD", field=field) from None
    return check_day(day, field)


def day_start(day: date, zone: str, field: str) -> datetime:
    """Midnight at the start of `day` in time zone `zone`, as UTC; `day` within range."""
    check_day(day, field)
    return datetime.combine(day, time.min, ZoneInfo(zone)).astimezone(UTC)
