"""The audit trail's own errors."""

from __future__ import annotations

from atmpchain.audit.reason import VISIBLE_TEXT_RULE
from atmpchain.errors import DomainError


class ReasonRequired(DomainError):
    """A change to, or retirement of, a GMP record was attempted without a reason."""

    status = 422

    def __init__(self, action: str) -> None:
        super().__init__(
            f"a reason is required for '{action}': changes to GMP records must say why "
            f"(EU GMP Annex 11 §9), and {VISIBLE_TEXT_RULE}",
            field="reason",
        )
