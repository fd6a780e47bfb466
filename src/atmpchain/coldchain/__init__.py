"""Cold chain: temperature readings, excursions, silent sensors, alarms and QA impact (issue 4).

This package holds the pure rules only (no database, broker or web); parsers return refused
readings as `ReadingError` values and raise nothing for bad input.
"""

from atmpchain.coldchain.alarms import (
    DEFAULT_SEVERITY,
    Alarm,
    AlarmKind,
    Severity,
    excursion_alarm,
    readings_refused_alarm,
    silent_sensor_alarm,
)
from atmpchain.coldchain.dedupe import (
    BatchSort,
    DuplicateConflict,
    ReadingKey,
    classify_batch,
    reading_key,
)
from atmpchain.coldchain.domain import (
    DEFAULT_LIMITS,
    Direction,
    Reading,
    ReadingError,
    ReadingLimits,
    ReadingSource,
    TemperatureRange,
    describe_duration,
    format_celsius,
)
from atmpchain.coldchain.excursions import (
    DetectorState,
    EventKind,
    Excursion,
    ExcursionDetector,
    ExcursionEvent,
    FeedResult,
    detect_excursions,
)
from atmpchain.coldchain.impact import (
    Impact,
    ImpactAssessment,
    IssueDecision,
    latest_assessments,
    may_issue,
)
from atmpchain.coldchain.logger_csv import DEFAULT_CSV_FORMAT, CsvFormat, parse_logger_csv
from atmpchain.coldchain.parsers import (
    DEFAULT_FIELDS,
    JsonFields,
    ParseResult,
    decode_json,
    parse_http_readings,
    parse_mqtt_payload,
)
from atmpchain.coldchain.silence import SilentSensor, silent_sensors
from atmpchain.coldchain.topics import TopicPattern, match_topic, topic_pattern_problem

__all__ = [
    "DEFAULT_CSV_FORMAT",
    "DEFAULT_FIELDS",
    "DEFAULT_LIMITS",
    "DEFAULT_SEVERITY",
    "Alarm",
    "AlarmKind",
    "BatchSort",
    "CsvFormat",
    "DetectorState",
    "Direction",
    "DuplicateConflict",
    "EventKind",
    "Excursion",
    "ExcursionDetector",
    "ExcursionEvent",
    "FeedResult",
    "Impact",
    "ImpactAssessment",
    "IssueDecision",
    "JsonFields",
    "ParseResult",
    "Reading",
    "ReadingError",
    "ReadingKey",
    "ReadingLimits",
    "ReadingSource",
    "Severity",
    "SilentSensor",
    "TemperatureRange",
    "TopicPattern",
    "classify_batch",
    "decode_json",
    "describe_duration",
    "detect_excursions",
    "excursion_alarm",
    "format_celsius",
    "latest_assessments",
    "match_topic",
    "may_issue",
    "parse_http_readings",
    "parse_logger_csv",
    "parse_mqtt_payload",
    "reading_key",
    "readings_refused_alarm",
    "silent_sensor_alarm",
    "silent_sensors",
    "topic_pattern_problem",
]
