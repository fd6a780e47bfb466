"""The errors of pre-GMP translation, each naming the field and the rule."""

from __future__ import annotations

from atmpchain.errors import Conflict, InvalidInput, NotFound


class ProjectNotFound(NotFound):
    """No project of that id (or not one the person may see: a researcher sees their own)."""

    def __init__(self, project: object) -> None:
        super().__init__(
            f"there is no translation project {project} that you may see", "project_id"
        )


class DefinitionNotFound(NotFound):
    """The project has no process definition (of that version)."""

    def __init__(self, project: object, version: int | None) -> None:
        which = f"version {version}" if version is not None else "yet"
        super().__init__(f"project {project} has no process definition {which}", "version")


class RecordNotFound(NotFound):
    """A gap, FMEA, failure mode or document that does not exist in the project."""


class TranslationStateError(Conflict):
    """The record is not in a state that allows the action (e.g. an approved FMEA)."""


class TransferRefused(InvalidInput):
    """The definition cannot become a master batch record yet; the message lists why."""
