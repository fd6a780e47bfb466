"""One clock for people (issue 10, ADR 0020): a time inside a message is written once, in UTC,
in one form ("2026-01-05 07:00 UTC"), and every adapter that shows the message to a person
rewrites it into that person's zone with the zone's name ("2026-01-05 08:00 CET").

Messages are made where no reader is known (a rule in a domain module, an alarm raised by the
telemetry thread, a stored flag); the page, the PDF and the e-mail know the reader. Machine
exports (CSV, JSON, the API) keep the UTC form, which names its zone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

#: The one form of a time in a message: date, hours, minutes (seconds optional), then "UTC".
_STAMP = re.compile(r"\b(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2})(:\d{2})? UTC\b")


def stamp(moment: datetime, seconds: bool = False) -> str:
    """A time for a message: '2026-01-05 07:00 UTC' (an aware time, shown in UTC)."""
    if moment.tzinfo is None:
        raise ValueError("a time in a message must be aware (the clock gives UTC)")
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M{':%S' if seconds else ''}} UTC"


def localize(text: str, zone: str) -> str:
    """The text with each UTC time in it written in `zone`, with the zone's abbreviation."""
    if "UTC" not in text or zone == "UTC":
        return text
    tz = ZoneInfo(zone)

    def local(match: re.Match[str]) -> str:
        seconds = match.group(3) or ""
        moment = datetime.fromisoformat(f"{match.group(1)}T{match.group(2)}{seconds}+00:00")
        shown = moment.astimezone(tz)
        return f"{shown:%Y-%m-%d %H:%M}{shown.strftime(':%S') if seconds else ''} {shown.tzname()}"

    return _STAMP.sub(local, text)
