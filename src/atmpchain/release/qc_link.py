"""The QC results of a batch as release reads them: the qc capability's `batch_qc` turned into
release's own terms (one module, so the rest of release does not depend on qc's shapes)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from atmpchain.qc import queries as qc_queries
from atmpchain.release.domain import QcLine, QcState


@dataclass(frozen=True, slots=True)
class QcFacts:
    """The batch's specification and its results, per attribute."""

    bound: bool  # an approved specification version applies to the batch
    specification: str | None
    lines: tuple[QcLine, ...]
    unassessed_oos: tuple[str, ...]  # attributes whose OOS laboratory phase is not done
    open_oos_investigations: tuple[str, ...]
    interims: dict[str, str]  # attribute -> the "negative to date" result shown beside it


def qc_facts(session: Session, number: str) -> QcFacts:
    """The QC facts of the batch against the specification version it is (or will be) bound to."""
    qc = qc_queries.batch_qc(session, number)
    spec = qc.specification
    if spec is None:
        return QcFacts(False, None, (), (), (), {})
    lines = tuple(
        QcLine(
            attribute=line.attribute,
            state=QcState(line.state),
            release_critical=line.release_critical,
            may_follow_release=line.may_follow_release,
            reviewed=line.reviewed,
            result=line.value or "",
        )
        for line in qc.lines
    )
    return QcFacts(
        bound=True,
        specification=f"{spec.code} v{spec.version} ({spec.name})",
        lines=lines,
        unassessed_oos=tuple(
            dict.fromkeys(o.attribute for o in qc.open_oos_investigations if not o.assessed)
        ),
        open_oos_investigations=tuple(
            f"{o.attribute} (investigation {o.id}, {o.phase})"
            for o in qc.open_oos_investigations
            if o.assessed
        ),
        interims={line.attribute: line.interim for line in qc.lines if line.interim},
    )
