"""The QC results of a batch as release reads them: the qc capability's `batch_qc` turned into
release's own terms (one module, so the rest of release does not depend on qc's shapes)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from atmpchain.release.domain import QcLine


@dataclass(frozen=True, slots=True)
class QcFacts:
    """The batch's specification and its results, per attribute."""

    bound: bool
    specification: str | None
    lines: tuple[QcLine, ...]
    unassessed_oos: tuple[str, ...]
    open_oos_investigations: tuple[str, ...]


def qc_facts(session: Session, number: str) -> QcFacts:
    """The QC facts of the batch (until the qc capability is merged: none bound)."""
    return QcFacts(False, None, (), (), ())
