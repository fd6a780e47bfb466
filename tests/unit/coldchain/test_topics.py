"""MQTT topic filters match as MQTT 3.1.1 §4.7 says, and '+' hands over the sensor code."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atmpchain.coldchain.topics import TopicPattern, match_topic, topic_pattern_problem

PATTERN = "atmpchain/sensors/+/temperature"

level = st.text(
    alphabet=st.characters(blacklist_characters="/+#\x00", blacklist_categories=["Cs"]),
    min_size=1,
    max_size=8,
).filter(lambda s: not s.startswith("$"))
topics = st.lists(level, min_size=1, max_size=6).map("/".join)


@pytest.mark.parametrize(
    ("pattern", "topic", "captured"),
    [
        (PATTERN, "atmpchain/sensors/F-01/temperature", ("F-01",)),
        (PATTERN, "atmpchain/sensors/F-01/humidity", None),
        (PATTERN, "atmpchain/sensors/F-01/temperature/extra", None),
        (PATTERN, "atmpchain/sensors/temperature", None),
        ("atmpchain/#", "atmpchain", ()),
        ("atmpchain/#", "atmpchain/a/b/c", ()),
        ("atmpchain/+/+", "atmpchain/site1/F-01", ("site1", "F-01")),
        ("+/sensors", "/sensors", ("",)),
        ("#", "$SYS/broker/load", None),
        ("+/broker", "$SYS/broker", None),
        ("$SYS/#", "$SYS/broker/load", ()),
        (PATTERN, "atmpchain/sensors/+/temperature", None),
        ("atmpchain/sensors", "Atmpchain/sensors", None),
    ],
)
def test_topic_matches_as_mqtt_defines(
    pattern: str, topic: str, captured: tuple[str, ...] | None
) -> None:
    assert match_topic(pattern, topic) == captured


@pytest.mark.parametrize("pattern", ["", "a/#/b", "a/b#", "a/+b", "sensors/f+/t", "a\x00b"])
def test_invalid_filters_are_refused_at_configuration(pattern: str) -> None:
    assert topic_pattern_problem(pattern) is not None
    assert match_topic(pattern, "a/b") is None
    with pytest.raises(ValueError, match="MQTT topic pattern"):
        TopicPattern(pattern)


def test_sensor_code_comes_from_the_chosen_wildcard() -> None:
    pattern = TopicPattern("site/+/sensors/+/temperature", sensor_wildcard=1)
    assert pattern.sensor_in("site/vienna/sensors/F-01/temperature") == "F-01"
    assert pattern.sensor_in("site/vienna/sensors/F-01/humidity") is None


def test_refuses_a_sensor_wildcard_the_pattern_does_not_have() -> None:
    with pytest.raises(ValueError, match="no wildcard number 2"):
        TopicPattern("atmpchain/+/temperature", sensor_wildcard=1)


def test_pattern_without_plus_gives_no_sensor() -> None:
    pattern = TopicPattern("atmpchain/readings")
    assert pattern.sensor_wildcard is None
    assert pattern.sensor_in("atmpchain/readings") is None


@given(topics)
def test_a_topic_without_wildcards_matches_itself_only(topic: str) -> None:
    assert match_topic(topic, topic) == ()
    assert match_topic(topic, topic + "/x") is None


@given(topics)
def test_hash_matches_every_ordinary_topic(topic: str) -> None:
    assert match_topic("#", topic) == ()


@given(st.lists(level, min_size=1, max_size=6), st.data())
def test_plus_captures_exactly_the_level_it_replaces(
    levels: list[str], data: st.DataObject
) -> None:
    index = data.draw(st.integers(0, len(levels) - 1))
    pattern = "/".join("+" if i == index else part for i, part in enumerate(levels))
    assert match_topic(pattern, "/".join(levels)) == (levels[index],)
