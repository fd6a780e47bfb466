"""What the audit trail records of an issued DIN, so that `audit reconcile` can compare the
`issued_din` table with it (issue 9 #17, re-test).

An issued DIN is never re-used or changed; a row edited outside the application (its sequence,
its FIN, who issued it, its purpose) would let a DIN be issued twice or hide who issued it.
`values` is written into the `identity:din:issued` record and computed again from the row by
the reconcile walk; records written before this held only the DIN, its check character and the
purpose as typed, and what they hold is compared.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from atmpchain.identity.din import Din


def din_values(
    din: Din, *, issued_at: datetime, issued_by_id: int | None, purpose: str | None
) -> dict[str, Any]:
    """The values of one issued DIN as the audit record holds them."""
    return {
        "din": din.encode(),
        "check_character": din.check_character,
        "fin": din.fin,
        "year": din.year,
        "sequence": int(din.sequence),
        "issued_at": issued_at,
        "issued_by_id": issued_by_id,
        "purpose": purpose,
    }


def row_values(
    din: str,
    fin: str,
    year: str,
    sequence: int,
    issued_at: datetime,
    issued_by_id: int | None,
    purpose: str | None,
) -> dict[str, Any]:
    """The same values read back from an `issued_din` row (its DIN's check character
    recomputed; a DIN that no longer parses keeps the stored text)."""
    try:
        check: str | None = Din.parse(din).check_character
    except ValueError:
        check = None
    return {
        "din": din,
        "check_character": check,
        "fin": fin,
        "year": year,
        "sequence": sequence,
        "issued_at": issued_at,
        "issued_by_id": issued_by_id,
        "purpose": purpose,
    }


def recorded_purpose(after: dict[str, Any]) -> str | None:
    """The purpose as stored, from a record that may hold it as typed (before 0017)."""
    raw = after.get("purpose")
    return (str(raw).strip() or None) if raw is not None else None
