"""The release review's environmental monitoring (issue 13 item 8, issue 12 item 4): what the EM
records say about the sessions a batch was open in, as review lines.

Every excursion in the batch's sessions (alert, action or adverse trend) is listed with its
deviation; an action-level event that QA has not yet assessed for this batch blocks certification.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from atmpchain.environmental_monitoring import queries as em_queries
from atmpchain.timetext import stamp


@dataclass(frozen=True, slots=True)
class EmFacts:
    """The batch's EM as the review reads it."""

    sessions: int
    results: int
    #: To look at: excursions (assessed, or below action level) and sessions whose EM samples
    #: are not all read yet (plates take days to incubate: a QP may certify before them).
    problems: tuple[str, ...]
    blocking: tuple[str, ...]  # action-level events still waiting for QA's assessment


def _describe(excursion: em_queries.ExcursionView) -> str:
    where = excursion.location_code
    deviation = f", deviation {excursion.deviation_number}" if excursion.deviation_number else ""
    return f"{excursion.level.value} at {where} ({excursion.description}{deviation})"


def em_facts(session: Session, batch_number: str) -> EmFacts:
    """Read the batch's sessions and their EM excursions through the EM capability's queries."""
    found = em_queries.em_for_batch(session, batch_number)
    waiting = {e.id for e in found.unassessed_action_events}
    blocking = tuple(
        f"not assessed by QA for this batch: {_describe(e)}" for e in found.unassessed_action_events
    )
    problems = [_describe(e) for e in found.excursions if e.id not in waiting]
    for one in found.sessions:
        where = one.workstation_code or one.room_code
        opened = stamp(one.opened_at)
        if not one.results and not one.pending_samples:
            problems.append(f"session in {where} opened {opened}: no EM sample planned or read")
        elif one.pending_samples:
            problems.append(
                f"session in {where} opened {opened}: {len(one.pending_samples)} EM samples "
                f"not read yet ({', '.join(one.pending_samples[:5])}"
                f"{', ...' if len(one.pending_samples) > 5 else ''})"
            )
    return EmFacts(
        sessions=len(found.sessions),
        results=sum(len(s.results) for s in found.sessions),
        problems=tuple(problems),
        blocking=blocking,
    )
