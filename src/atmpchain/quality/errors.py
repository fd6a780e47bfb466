"""The quality capability's own errors, each naming the field and the rule."""

from __future__ import annotations

from atmpchain.errors import NotFound


class DeviationNotFound(NotFound):
    """No deviation has this number."""

    def __init__(self, number: str) -> None:
        super().__init__(f"there is no deviation {number}", field="number")


class CapaNotFound(NotFound):
    """The deviation has no CAPA with this position."""

    def __init__(self, number: str, position: int) -> None:
        super().__init__(f"deviation {number} has no CAPA {position}", field="capa")
