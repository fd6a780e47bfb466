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
