"""The cleanrooms capability's errors, each naming the field and the rule."""

from __future__ import annotations

from atmpchain.errors import Conflict, NotFound


class LocationNotFound(NotFound):
    """No room or workstation has the code given."""

    def __init__(self, code: str, field: str = "location") -> None:
        super().__init__(f"no room or workstation has the code {code}", field=field)


class LocationNotUsable(Conflict):
    """A batch step cannot be signed at this room or workstation now: the message names the rule
    (room state, qualification, grade, cleaning since the previous product, another patient's
    product open, the operator's gowning qualification)."""

    def __init__(self, message: str, field: str = "location") -> None:
        super().__init__(message, field=field)
