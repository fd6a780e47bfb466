"""The manufacturing capability's errors, each naming the field and the rule broken."""

from __future__ import annotations

from atmpchain.errors import Conflict, InvalidInput, NotFound


class MbrFormatError(InvalidInput):
    """A master batch record definition or file breaks the format or its own logic."""


class BatchRuleError(InvalidInput):
    """An entry in a batch breaks a rule of the master batch record or of GMP."""


class DeviationRequired(InvalidInput):
    """A value out of range or a hold time exceeded: sign-off needs a deviation linked to it."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "deviation")


class BatchStateError(Conflict):
    """The batch or MBR version is not in a state that allows the action."""


class MbrNotFound(NotFound):
    """No master batch record of that code (and version)."""

    def __init__(self, code: str, version: int | None = None) -> None:
        what = f"{code} version {version}" if version is not None else code
        super().__init__(f"master batch record {what} does not exist", "mbr")


class BatchNotFound(NotFound):
    """No batch of that number."""

    def __init__(self, number: str) -> None:
        super().__init__(f"batch {number} does not exist", "batch_number")
