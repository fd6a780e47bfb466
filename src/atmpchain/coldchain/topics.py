"""MQTT topic filters: which topics a subscription receives, and what its wildcards captured.

Follows MQTT 3.1.1 §4.7 (also MQTT 5): levels split on '/', '+' matches exactly one level, '#'
matches the rest (including nothing: 'a/#' matches 'a'), and a filter starting with a wildcard
does not match topics starting with '$' (broker-internal topics such as '$SYS/...').
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True, slots=True)
class TopicPattern:
    """A validated MQTT topic filter, e.g. 'atmpchain/sensors/+/temperature'."""

    text: str
    # Which '+' carries the sensor code (0 = the first); None when the filter has no '+', so the
    # sensor code must come from the payload.
    sensor_wildcard: int | None = 0

    def __post_init__(self) -> None:
        problem = topic_pattern_problem(self.text)
        if problem is not None:
            raise ValueError(f"MQTT topic pattern {self.text!r}: {problem}")
        pluses = self.text.split("/").count("+")
        if self.sensor_wildcard is not None and pluses == 0:
            # No '+' at all: the sensor code cannot come from the topic.
            object.__setattr__(self, "sensor_wildcard", None)
        elif self.sensor_wildcard is not None and not 0 <= self.sensor_wildcard < pluses:
            raise ValueError(
                f"MQTT topic pattern {self.text!r} has {pluses} '+' wildcard(s); "
                f"there is no wildcard number {self.sensor_wildcard + 1} to carry the sensor code"
            )

    def match(self, topic: str) -> tuple[str, ...] | None:
        """The levels each '+' matched (in order), or None when the topic does not match."""
        return match_topic(self.text, topic)

    def sensor_in(self, topic: str) -> str | None:
        """The sensor code the topic carries, or None (no match, or no '+' for it)."""
        captured = self.match(topic)
        if captured is None or self.sensor_wildcard is None:
            return None
        return captured[self.sensor_wildcard]


def topic_pattern_problem(pattern: str) -> str | None:
    """Why a topic filter is invalid, or None when it is valid."""
    if not pattern:
        return "it is empty"
    if "\x00" in pattern:
        return "it contains a NUL character"
    levels = pattern.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            return "'#' must be a whole level and the last one"
        if "+" in level and level != "+":
            return "'+' must be a whole level"
    return None


@lru_cache(maxsize=65_536)
def match_topic(pattern: str, topic: str) -> tuple[str, ...] | None:
    """Whether `topic` matches the filter `pattern`; if so the levels its '+' wildcards matched.

    An invalid filter, or a topic name containing a wildcard (topic names may not), matches
    nothing rather than raising: a message on a strange topic is simply not ours. Cached: a
    stream comes on a few thousand topics (one a sensor), asked about for every message.
    """
    if topic_pattern_problem(pattern) is not None or not topic or "+" in topic or "#" in topic:
        return None
    wanted = pattern.split("/")
    levels = topic.split("/")
    if topic.startswith("$") and wanted[0] in ("+", "#"):
        return None
    captured: list[str] = []
    for index, part in enumerate(wanted):
        if part == "#":
            return tuple(captured)
        if index >= len(levels):
            return None
        if part == "+":
            captured.append(levels[index])
        elif part != levels[index]:
            return None
    return tuple(captured) if len(levels) == len(wanted) else None
