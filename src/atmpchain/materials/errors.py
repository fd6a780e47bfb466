"""The materials capability's errors, each naming the field and the rule."""

from __future__ import annotations

from atmpchain.errors import InvalidInput


class LotNotUsable(InvalidInput):
    """A material lot cannot be used in a batch step: unknown, not released (quarantined or
    rejected), expired, of a grade the step does not allow, or without enough stock left.

    `field` is "lot_code" for the lot itself and "quantity" for a shortage; the message names
    the rule broken, for the operator at the scanner."""
