"""Retention of batch records, pure (domain file "Retention"; Reg. 1394/2007 Art. 15).

- Investigational batch documentation: 5 years after the end (or formal stop) of the last trial
  that used the batch; unknown until that end is recorded.
- Commercial batch documentation: the longer of 1 year after batch expiry and 5 years after
  certification; unknown until both are known.
- Traceability data (product, starting and raw materials, recipient): 30 years after expiry.
A batch record may be deleted only after the later of its documentation and traceability dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


def add_years(day: date, years: int) -> date:
    """The same calendar day `years` later; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@dataclass(frozen=True, slots=True)
class Retention:
    """How long a batch record is kept, and why; None while a date it depends on is unknown."""

    record_until: date | None
    traceability_until: date | None
    rule: str

    @property
    def keep_until(self) -> date | None:
        """The day after which the record may go: the later date; None while either is open."""
        if self.record_until is None or self.traceability_until is None:
            return None
        return max(self.record_until, self.traceability_until)

    def deletable_on(self, today: date) -> bool:
        """Never before both periods have ended (and never while one is still open)."""
        keep = self.keep_until
        return keep is not None and today > keep


def retention(
    *,
    investigational: bool,
    expiry: date | None,
    trial_end: date | None = None,
    certified_on: date | None = None,
) -> Retention:
    """The retention dates of a batch record from what is known about the batch."""
    traceability = add_years(expiry, 30) if expiry else None
    if investigational:
        record = add_years(trial_end, 5) if trial_end else None
        rule = "investigational: 5 years after the end of the last trial using the batch"
    else:
        record = (
            max(add_years(expiry, 1), add_years(certified_on, 5))
            if expiry and certified_on
            else None
        )
        rule = "commercial: the longer of expiry + 1 year and certification + 5 years"
    return Retention(record, traceability, rule + "; traceability data 30 years after expiry")
