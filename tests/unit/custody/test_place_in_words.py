"""Where a unit is, in the words every custody page, timeline and record uses."""

from __future__ import annotations

from atmpchain.custody.domain import PlaceKind, place_in_words


def test_each_kind_of_place_reads_as_people_say_it() -> None:
    position = ("LN2 tank 1", "Slot 3", "TANK1.R1.B2.S3")
    assert place_in_words(PlaceKind.POSITION, position=position) == (
        "in LN2 tank 1, Slot 3 (TANK1.R1.B2.S3)"
    )
    assert place_in_words(PlaceKind.PERSON, person="Nora Ward") == "with Nora Ward"
    assert place_in_words(PlaceKind.PARTY, party="Cryoport") == "with Cryoport (outside)"
    assert place_in_words(PlaceKind.DISPOSED) == "disposed of"


def test_a_person_without_a_name_on_record_is_a_question_mark() -> None:
    assert place_in_words(PlaceKind.PERSON, person=None) == "with ?"
