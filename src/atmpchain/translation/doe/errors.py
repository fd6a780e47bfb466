"""The errors of the design-of-experiments studies, each naming the field and the rule."""

from __future__ import annotations

from atmpchain.errors import Conflict, NotFound


class StudyNotFound(NotFound):
    """No study of that id (or not on a project the person may see)."""

    def __init__(self, study_id: object) -> None:
        super().__init__(f"there is no experiment {study_id} that you may see", "study_id")


class ResultConflict(Conflict):
    """A run already has a different value for the response: correcting it needs a reason."""
