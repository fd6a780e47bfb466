"""Time in the planner: whole minutes from the horizon's day 0 (midnight, facility wall clock),
and the interval arithmetic every calendar is turned into (ADR 0031). Pure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

DAY = 1440
HOUR = 60

#: (start, end) minute pairs, end exclusive.
Span = tuple[int, int]


def merge(spans: Iterable[Span]) -> list[Span]:
    """Sorted, non-overlapping union."""
    out: list[Span] = []
    for a, b in sorted(s for s in spans if s[1] > s[0]):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def subtract(spans: Iterable[Span], holes: Iterable[Span]) -> list[Span]:
    """`spans` without `holes`."""
    result = merge(spans)
    for ha, hb in merge(holes):
        nxt: list[Span] = []
        for a, b in result:
            if hb <= a or ha >= b:
                nxt.append((a, b))
                continue
            if a < ha:
                nxt.append((a, ha))
            if hb < b:
                nxt.append((hb, b))
        result = nxt
    return result


def starts_within(spans: Iterable[Span], length: int) -> list[Span]:
    """The start minutes (inclusive ranges) at which `length` minutes fit inside one span."""
    return [(a, b - length) for a, b in merge(spans) if b - a >= length]


def overlaps(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def merge_starts(ranges: Iterable[Span]) -> list[Span]:
    """Union of inclusive start ranges."""
    return [(a, b - 1) for a, b in merge((a, b + 1) for a, b in ranges)]


def intersect_starts(x: Sequence[Span], y: Sequence[Span]) -> list[Span]:
    """Intersection of two lists of inclusive start ranges."""
    out: list[Span] = []
    for a, b in x:
        for c, d in y:
            lo, hi = max(a, c), min(b, d)
            if lo <= hi:
                out.append((lo, hi))
    return merge_starts(out)


def days_used(start: int, end: int) -> range:
    """The day indexes a busy span [start, end) touches."""
    return range(start // DAY, (end - 1) // DAY + 1)


def day_label(minute: int) -> str:
    """'day 3 08:00' for people reading an explanation."""
    d, m = divmod(minute, DAY)
    return f"day {d} {m // 60:02d}:{m % 60:02d}"
