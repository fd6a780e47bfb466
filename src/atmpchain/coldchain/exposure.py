"""Which product units an excursion reached: the exposure rule, pure.

A product unit was exposed to an excursion when it was inside the storage unit at some moment
between the excursion's own start and its end, whatever time the readings that show the
excursion arrived at. Before issue 9 (#5) the products were collected up to the time the
readings were *processed*: a logger file uploaded 29 hours late attached every unit received
since, and each was then blocked as "pending QA assessment".

Times, from the readings and the custody events:

- the excursion runs from its first reading out of range (`start`, inside) to its first reading
  back in range (`end`, outside: the product was back in range then). While it is still going
  on, what is known runs to its latest reading out of range (`latest`, inside); the window grows
  as later readings arrive, and a unit put in after the latest reading is judged when the next
  reading says whether the excursion still went on.
- a unit is inside from the custody event that put it in a position of the storage unit
  (`arrived`, inside) until its next custody event (`left`, outside: it was taken out then). A
  unit scanned in and out at the same instant counts as inside at that instant: when the record
  cannot tell, exposure is reported rather than missed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ExposureWindow:
    """The span of an excursion that exposed products, from its readings."""

    start: datetime
    end: datetime | None  # the first reading back in range; None while it goes on
    latest: datetime  # the latest reading out of range

    @property
    def last_moment(self) -> datetime:
        """The latest time a stay may begin at and still be looked at (the end is excluded by
        `was_exposed`, the latest reading of an excursion going on is included)."""
        return self.end if self.end is not None else self.latest


class StayLike(Protocol):
    """A product unit's time in the storage unit (custody's `Stay`)."""

    @property
    def product_unit_id(self) -> int: ...

    @property
    def arrived_at(self) -> datetime: ...

    @property
    def left_at(self) -> datetime | None: ...


def was_exposed(arrived: datetime, left: datetime | None, window: ExposureWindow) -> bool:
    """Whether a unit inside from `arrived` until `left` (None: still inside) was inside at some
    moment of the excursion."""
    # Taken out at or before the first reading out of range: gone before the excursion began.
    if left is not None and left <= window.start and not (left == arrived == window.start):
        return False
    if window.end is not None:
        # Put in at or after the first reading back in range: the excursion was over.
        return arrived < window.end
    return arrived <= window.latest


def exposed_products(stays: Iterable[StayLike], window: ExposureWindow) -> set[int]:
    """The product units of `stays` that were inside during the excursion."""
    return {s.product_unit_id for s in stays if was_exposed(s.arrived_at, s.left_at, window)}
