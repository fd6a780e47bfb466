"""The equipment capability's errors, each naming the field and the rule."""

from __future__ import annotations

from atmpchain.errors import InvalidInput


class EquipmentNotUsable(InvalidInput):
    """A piece of equipment cannot be used in a batch step: unknown, not qualified, its
    qualification withdrawn, calibration or maintenance overdue, or of the wrong class.

    The field is always "equipment_code"; the message names the rule broken."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="equipment_code")
