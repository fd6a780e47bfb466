"""The release capability's errors, each naming the field and the rule broken."""

from __future__ import annotations

from atmpchain.errors import Conflict, InvalidInput, NotFound


class ReleaseRuleError(InvalidInput):
    """A certification or an out-of-specification supply step breaks a rule of Part IV."""


class CertificationBlocked(Conflict):
    """The batch cannot be certified now: the message lists every condition that blocks it."""

    def __init__(self, number: str, reasons: tuple[str, ...]) -> None:
        listed = "; ".join(reasons)
        super().__init__(f"batch {number} cannot be certified: {listed}", "batch_number")
        self.reasons = reasons


class ReleaseStateError(Conflict):
    """The batch or the supply record is not in a state that allows the action."""


class SupplyNotFound(NotFound):
    """No out-of-specification supply record of that number."""

    def __init__(self, number: str) -> None:
        super().__init__(f"out-of-specification supply {number} does not exist", "supply")
