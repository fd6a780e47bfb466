"""Planning data as people type it: shifts, weekdays and qualifications read from text, written
back the same way, and every mistake named by its field."""

from __future__ import annotations

import pytest

from atmpchain.errors import InvalidInput
from atmpchain.scheduling.entry import (
    check_spec,
    parse_qualifications,
    parse_shifts,
    parse_weekdays,
    qualifications_text,
    shifts_text,
    weekdays_text,
)


def test_shifts_read_from_text_and_written_back() -> None:
    shifts = parse_shifts("Mon-Fri 07:00-15:30; Sat 08:00-12:00")
    assert shifts == [
        {"weekdays": [0, 1, 2, 3, 4], "start": 420, "end": 930},
        {"weekdays": [5], "start": 480, "end": 720},
    ]
    assert shifts_text(shifts) == "Mon-Fri 07:00-15:30\nSat 08:00-12:00"
    assert parse_shifts(shifts_text(shifts)) == shifts
    assert parse_weekdays("mon, wed,Fri") == [0, 2, 4]
    assert weekdays_text([0, 1, 2, 4, 5]) == "Mon-Wed, Fri-Sat"


def test_qualifications_keep_their_validity_days() -> None:
    quals = parse_qualifications(
        "grade B gowning: 2026-01-01 to 2026-12-31\nmedia fill: 2026-01-01 2026-06-30"
    )
    assert quals[0] == {
        "name": "grade B gowning",
        "valid_from": "2026-01-01",
        "valid_until": "2026-12-31",
    }
    assert parse_qualifications(qualifications_text(quals)) == quals


@pytest.mark.parametrize(
    ("call", "field", "words"),
    [
        (lambda: parse_shifts("Mon-Fri 7 to 3"), "shifts", "is not a shift"),
        (lambda: parse_shifts("Mon 22:00-06:00"), "shifts", "night shift"),
        (lambda: parse_shifts("Mon 25:00-26:00"), "shifts", "not a time"),
        (lambda: parse_weekdays("Fri-Mon"), "weekdays", "backwards"),
        (lambda: parse_weekdays("Funday"), "weekdays", "not a weekday"),
        (lambda: parse_qualifications("gowning 2026-01-01"), "qualifications", "such as"),
        (
            lambda: parse_qualifications("gowning: 2026-02-30 to 2026-03-01"),
            "qualifications",
            "not a real day",
        ),
        (
            lambda: parse_qualifications("gowning: 2026-05-01 to 2026-03-01"),
            "qualifications",
            "valid until a day before",
        ),
        (
            lambda: check_spec("person", {"shifts": [{"weekdays": [0], "start": 600, "end": 500}]}),
            "shifts[0].end",
            "ends after",
        ),
        (lambda: check_spec("qc_lab", {"intake": 2000}), "intake", "whole number"),
    ],
)
def test_mistakes_are_named_by_field(call: object, field: str, words: str) -> None:
    with pytest.raises(InvalidInput, match=words) as error:
        call()  # type: ignore[operator]
    assert error.value.field == field
