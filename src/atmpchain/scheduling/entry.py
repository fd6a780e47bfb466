"""Planning data as people type it: weekdays ("Mon-Fri"), shifts ("Mon-Fri 07:00-15:30"),
qualifications with their validity ("grade B gowning: 2026-01-01 to 2026-12-31"), and the
JSON spec a resource row keeps. Pure; bad input raises `InvalidInput` naming the field and
the rule, so a form, the API and the CLI say the same thing.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from atmpchain.errors import InvalidInput

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_TIME = re.compile(r"^([01]?\d|2[0-4]):([0-5]\d)$")
_SHIFT = re.compile(
    r"^(?P<days>[A-Za-z ,\-]+?)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})$"
)
_QUAL = re.compile(
    r"^(?P<name>[^:]+?)\s*:\s*(?P<start>\d{4}-\d{2}-\d{2})\s+(?:to\s+)?(?P<end>\d{4}-\d{2}-\d{2})$"
)


def _day(name: str, field: str) -> int:
    for i, d in enumerate(DAYS):
        if name.strip().lower()[:3] == d.lower() and name.strip():
            return i
    raise InvalidInput(f"'{name.strip()}' is not a weekday (Mon, Tue, ... Sun)", field=field)


def parse_weekdays(text: str, field: str = "weekdays") -> list[int]:
    """'Mon-Fri', 'Mon, Wed, Fri' or 'Sat-Sun' as weekday numbers (0 = Monday)."""
    days: set[int] = set()
    for part in (p for p in text.split(",") if p.strip()):
        if "-" in part:
            a, _, b = part.partition("-")
            first, last = _day(a, field), _day(b, field)
            if last < first:
                raise InvalidInput(f"'{part.strip()}' runs backwards (write Mon-Fri)", field=field)
            days.update(range(first, last + 1))
        else:
            days.add(_day(part, field))
    if not days:
        raise InvalidInput("name at least one weekday, e.g. Mon-Fri", field=field)
    return sorted(days)


def weekdays_text(days: list[int] | tuple[int, ...]) -> str:
    """Weekday numbers back as text ('Mon-Fri', 'Mon, Wed')."""
    ordered = sorted(set(days))
    runs: list[list[int]] = []
    for d in ordered:
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    return ", ".join(DAYS[r[0]] if len(r) == 1 else f"{DAYS[r[0]]}-{DAYS[r[-1]]}" for r in runs)


def parse_time(text: str, field: str) -> int:
    """'07:30' as the minute of the day (24:00 is the day's end)."""
    m = _TIME.match(text.strip())
    minute = int(m.group(1)) * 60 + int(m.group(2)) if m else -1
    if not 0 <= minute <= 1440:
        raise InvalidInput(f"'{text.strip()}' is not a time of day as HH:MM", field=field)
    return minute


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_shifts(text: str, field: str = "shifts") -> list[dict[str, Any]]:
    """Shifts, one a line (or separated by ';'): 'Mon-Fri 07:00-15:30'."""
    shifts: list[dict[str, Any]] = []
    for line in (x.strip() for x in re.split(r"[;\n]", text) if x.strip()):
        m = _SHIFT.match(line)
        if m is None:
            raise InvalidInput(
                f"'{line}' is not a shift such as 'Mon-Fri 07:00-15:30'", field=field
            )
        start, end = parse_time(m["start"], field), parse_time(m["end"], field)
        if end <= start:
            raise InvalidInput(
                f"'{line}': a shift ends after it starts on the same day"
                " (write a night shift as two shifts, before and after midnight)",
                field=field,
            )
        shifts.append({"weekdays": parse_weekdays(m["days"], field), "start": start, "end": end})
    return shifts


def shifts_text(shifts: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{weekdays_text(s['weekdays'])} {_clock(s['start'])}-{_clock(s['end'])}" for s in shifts
    )


def parse_qualifications(text: str, field: str = "qualifications") -> list[dict[str, str]]:
    """Qualifications, one a line: 'grade B gowning: 2026-01-01 to 2026-12-31' (valid on both
    days and every day between: gowning, media fill, process training, QP)."""
    quals: list[dict[str, str]] = []
    for line in (x.strip() for x in text.splitlines() if x.strip()):
        m = _QUAL.match(line)
        if m is None:
            raise InvalidInput(
                f"'{line}' is not a qualification such as"
                " 'grade B gowning: 2026-01-01 to 2026-12-31'",
                field=field,
            )
        try:
            start, end = date.fromisoformat(m["start"]), date.fromisoformat(m["end"])
        except ValueError:
            raise InvalidInput(f"'{line}': a date is not a real day", field=field) from None
        if end < start:
            raise InvalidInput(f"'{line}': valid until a day before it is valid from", field=field)
        name = " ".join(m["name"].split())
        if len(name) > 80:
            raise InvalidInput(
                f"'{name}': a qualification's name has at most 80 characters", field=field
            )
        quals.append(
            {"name": name, "valid_from": start.isoformat(), "valid_until": end.isoformat()}
        )
    return quals


def qualifications_text(quals: list[dict[str, str]]) -> str:
    return "\n".join(f"{q['name']}: {q['valid_from']} to {q['valid_until']}" for q in quals)


def _whole(value: Any, field: str, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidInput(f"a whole number from {low} to {high}", field=field)
    return value


def check_spec(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """The JSON spec of a resource of `kind`, checked field by field (a person's shifts and
    qualifications, a QC bench's intake minute and weekdays); other kinds keep none."""
    if kind == "person":
        shifts = spec.get("shifts", [])
        quals = spec.get("qualifications", [])
        if not isinstance(shifts, list) or not isinstance(quals, list):
            raise InvalidInput("shifts and qualifications are lists", field="spec")
        out_shifts = []
        for i, s in enumerate(shifts):
            f = f"shifts[{i}]"
            if not isinstance(s, dict):
                raise InvalidInput("a shift has weekdays, start and end", field=f)
            days = s.get("weekdays")
            if not isinstance(days, list) or not days:
                raise InvalidInput("weekdays: a list of 0 (Monday) to 6", field=f"{f}.weekdays")
            for d in days:
                _whole(d, f"{f}.weekdays", 0, 6)
            start = _whole(s.get("start"), f"{f}.start", 0, 1439)
            end = _whole(s.get("end"), f"{f}.end", 1, 1440)
            if end <= start:
                raise InvalidInput("a shift ends after it starts", field=f"{f}.end")
            out_shifts.append({"weekdays": sorted(set(days)), "start": start, "end": end})
        out_quals = []
        for i, q in enumerate(quals):
            f = f"qualifications[{i}]"
            if (
                not isinstance(q, dict)
                or not isinstance(q.get("name"), str)
                or not q["name"].strip()
            ):
                raise InvalidInput("a qualification has a name", field=f"{f}.name")
            try:
                start_day = date.fromisoformat(str(q.get("valid_from")))
                end_day = date.fromisoformat(str(q.get("valid_until")))
            except ValueError:
                raise InvalidInput(
                    "valid_from and valid_until are days as YYYY-MM-DD", field=f
                ) from None
            if end_day < start_day:
                raise InvalidInput("valid until a day before valid from", field=f"{f}.valid_until")
            out_quals.append(
                {
                    "name": " ".join(q["name"].split()),
                    "valid_from": start_day.isoformat(),
                    "valid_until": end_day.isoformat(),
                }
            )
        return {"shifts": out_shifts, "qualifications": out_quals}
    if kind == "qc_lab":
        intake = _whole(spec.get("intake", 540), "intake", 0, 1439)
        days = spec.get("weekdays", [0, 1, 2, 3, 4])
        if not isinstance(days, list) or not days:
            raise InvalidInput("weekdays: a list of 0 (Monday) to 6", field="weekdays")
        for d in days:
            _whole(d, "weekdays", 0, 6)
        return {"intake": intake, "weekdays": sorted(set(days))}
    return {}
