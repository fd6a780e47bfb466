"""The custody capability's errors: each names the unit, where it is, and what to do."""

from __future__ import annotations

from atmpchain.errors import Conflict


class CustodyRuleError(Conflict):
    """The unit is not where the movement needs it to be; nothing was moved."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="unit_scan")


class UnitMoved(Conflict):
    """Someone else moved the unit since it was scanned here; nothing was moved."""

    def __init__(self, unit: str, by: str, at: str, detail: str = "") -> None:
        message = f"unit {unit} was moved by {by} at {at}"
        if detail:
            message += f" ({detail})"
        super().__init__(message + "; scan again", field="unit_scan")
        self.unit = unit


class UnitControlled(Conflict):
    """Another capability's record controls the unit's movements; nothing was moved."""

    def __init__(self, unit: str, controller: str, page: str, rule: str) -> None:
        super().__init__(
            f"unit {unit} belongs to {controller}: {rule}. Use the page of {controller}: {page}",
            field="unit_scan",
        )
        self.unit = unit
        self.controller = controller
        self.page = page


class UnitOnHold(Conflict):
    """The unit may not be handed on while a hold is active; nothing was moved."""

    def __init__(self, unit: str, holds: list[str]) -> None:
        super().__init__(
            f"unit {unit} may not be handed on: " + "; ".join(holds), field="unit_scan"
        )
        self.unit = unit
        self.holds = holds
