"""The demo's release story (issue 12, item 10): the finished batch certified before all
results, its dose infused, and the late sterility result that followed."""

from __future__ import annotations

import pytest

from atmpchain.config import Settings
from atmpchain.db import Database
from atmpchain.hospital import queries as hospital_queries
from atmpchain.hospital.domain import DoseStatus
from atmpchain.manufacturing import queries as batch_queries
from atmpchain.qc import queries as qc_queries
from atmpchain.release import queries
from atmpchain.release.domain import Decision


@pytest.fixture
def database_url(demo_database_url: str) -> str:
    """The demo facility, seeded once per run (a copy per test)."""
    return demo_database_url


def test_the_demo_batch_is_certified_before_all_results_infused_and_then_fails_sterility(
    db: Database, settings: Settings
) -> None:
    with db.read_session() as session:
        completed = [b for b in batch_queries.batch_lines(session) if b.status == "completed"]
        (batch,) = completed
        decided = queries.certification_of(session, batch.number)
        trace = hospital_queries.patient_trace(session, "P-2001")
        qc = qc_queries.batch_qc(session, batch.number)
    assert decided is not None
    assert decided.decision is Decision.CERTIFIED_BEFORE_ALL_RESULTS
    assert "Sterility" in decided.pending_tests
    (dose,) = trace.doses
    assert dose.batch_number == batch.number and dose.line.status is DoseStatus.INFUSING
    sterility = next(line for line in qc.lines if line.attribute == "Sterility")
    assert sterility.state == "oos" and sterility.interim is not None
