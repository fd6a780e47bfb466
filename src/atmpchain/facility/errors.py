"""The facility's own errors."""

from __future__ import annotations

from atmpchain.errors import Conflict
from atmpchain.facility.domain import not_set_up_message


class FacilityNotSetUp(Conflict):
    """An identifier was asked for while the facility has no FIN: the installation's state, not
    the input, is wrong, and the message says who must act."""

    def __init__(self) -> None:
        super().__init__(not_set_up_message(), field="facility_fin")
