"""Environmental monitoring on the database (SQLite and PostgreSQL): limits from the data, the
session plan, collection, plate reading, counter import, excursions with their deviations,
trends, and the release link that blocks certification until QA has assessed an action event."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from tests.em_support import Suite

from atmpchain.accounts.domain import Role
from atmpchain.cleanrooms.sessions import close_session
from atmpchain.cleanrooms.status import record_cleaning
from atmpchain.environmental_monitoring import assessment, plan, queries, results
from atmpchain.environmental_monitoring.domain import Grade, Level, load_em_rules
from atmpchain.environmental_monitoring.models import EmExcursion, EmGradeLimit, EmResult
from atmpchain.errors import Conflict, InvalidInput, PermissionDenied
from atmpchain.quality.models import Deviation, DeviationBatch
from atmpchain.release.em_link import em_facts


def _count(suite: Suite, model: type) -> int:
    with suite.uow.db.read_session() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_limits_per_grade_and_sample_type_are_seeded_from_the_data(em_suite: Suite) -> None:
    rules = load_em_rules()
    with em_suite.uow.db.read_session() as session:
        rows = {
            (r.grade, r.sample_type, r.occupancy): (r.action_limit, r.source, r.status)
            for r in session.execute(select(EmGradeLimit)).scalars()
        }
    assert rows == {
        (r.grade, r.sample_type, r.occupancy): (r.action_limit, r.source, r.status)
        for r in rules.limits
    }
    assert len(rows) == 44


def test_a_location_takes_its_grade_from_the_room_or_workstation(em_suite: Suite) -> None:
    with em_suite.uow.db.read_session() as session:
        points = {(p.location_code, p.grade) for p in queries.plan_points(session)}
    assert ("BSC1-CENTRE", Grade.A) in points
    assert ("B1-FLOOR", Grade.B) in points
    assert ("C1-AIR", Grade.C) in points


def test_glove_prints_are_refused_in_grade_c(em_suite: Suite) -> None:
    with pytest.raises(InvalidInput, match="glove print samples are not taken in grade C") as e:
        plan.create_location(
            em_suite.uow,
            actor=em_suite.crew.qa.actor,
            code="C1-GLOVE",
            name="x",
            room_code="CR-C1",
            sample_types=["glove_print"],
        )
    assert e.value.field == "sample_types"


def test_alert_limit_must_be_below_the_action_limit_and_only_qa_sets_it(em_suite: Suite) -> None:
    with pytest.raises(InvalidInput, match=r"alert limit \(5\) must be below the action limit"):
        plan.set_alert_limit(
            em_suite.uow,
            actor=em_suite.crew.qa.actor,
            location="B1-FLOOR",
            sample_type="settle_plate",
            alert_limit=5,
            reason="too high",
        )
    with pytest.raises(PermissionDenied):
        plan.set_alert_limit(
            em_suite.uow,
            actor=em_suite.crew.qc.actor,
            location="B1-FLOOR",
            sample_type="settle_plate",
            alert_limit=1,
            reason="x",
        )


def test_a_grade_a_b_session_gets_every_sample_and_labels_scan(em_suite: Suite) -> None:
    session_id = em_suite.open_session("BSC-1", "B26-0001")
    planned = plan.plan_session_samples(
        em_suite.uow, actor=em_suite.crew.operator.actor, session_id=session_id
    )
    kinds = sorted((p.location_code, p.sample_type.value) for p in planned)
    assert kinds == [
        ("B1-FLOOR", "contact_plate"),
        ("B1-FLOOR", "settle_plate"),
        ("BSC1-CENTRE", "glove_print"),
        ("BSC1-CENTRE", "particles_0_5um"),
        ("BSC1-CENTRE", "particles_5um"),
        ("BSC1-CENTRE", "settle_plate"),
    ]
    assert all(p.code.startswith("EM") and len(p.code) == 10 for p in planned)
    with pytest.raises(Conflict, match="already planned"):
        plan.plan_session_samples(
            em_suite.uow, actor=em_suite.crew.operator.actor, session_id=session_id
        )
    code = planned[0].code
    assert (
        plan.collect_sample(
            em_suite.uow, actor=em_suite.crew.operator.actor, code=f" {code.lower()} "
        )
        == code
    )
    with pytest.raises(Conflict, match="already collected"):
        plan.collect_sample(em_suite.uow, actor=em_suite.crew.operator.actor, code=code)


def test_routine_grade_c_samples_only_when_due(em_suite: Suite) -> None:
    operator = em_suite.crew.operator.actor
    first = em_suite.open_session("CR-C1", "B26-0002")
    planned = plan.plan_session_samples(em_suite.uow, actor=operator, session_id=first)
    assert {p.sample_type.value for p in planned} == {
        "active_air",
        "particles_0_5um",
        "particles_5um",
    }
    air = next(p for p in planned if p.sample_type.value == "active_air")
    plan.collect_sample(em_suite.uow, actor=operator, code=air.code)
    em_suite.clock.advance(timedelta(days=3))
    results.read_plate(em_suite.uow, actor=em_suite.crew.qc.actor, sample_code=air.code, cfu=3)

    def next_session(batch: str) -> set[str]:
        close_session(em_suite.uow, actor=operator, location="CR-C1", reason="batch step done")
        record_cleaning(
            em_suite.uow,
            actor=operator,
            location="CR-C1",
            agent="Sporicidal disinfectant",
            agent_lot="DIS-2026-02",
            contact_minutes=10,
            line_clearance="room empty",
        )
        em_suite.clock.advance(timedelta(minutes=30))
        session_id = em_suite.open_session("CR-C1", batch, patient=batch)
        return {
            p.sample_type.value
            for p in plan.plan_session_samples(em_suite.uow, actor=operator, session_id=session_id)
        }

    # Active air taken 3 days ago, weekly in grade C: not due; the particles never taken are.
    assert next_session("B26-0012") == {"particles_0_5um", "particles_5um"}
    em_suite.clock.advance(timedelta(days=5))
    assert next_session("B26-0022") == {"active_air", "particles_0_5um", "particles_5um"}


def test_a_colony_in_grade_a_is_an_action_event_with_a_deviation_on_the_batch(
    em_suite: Suite,
) -> None:
    session_id = em_suite.open_session("BSC-1", "B26-0003")
    planned = plan.plan_session_samples(
        em_suite.uow, actor=em_suite.crew.operator.actor, session_id=session_id
    )
    plate = next(
        p
        for p in planned
        if p.location_code == "BSC1-CENTRE" and p.sample_type.value == "settle_plate"
    )
    em_suite.clock.advance(timedelta(hours=4))
    plan.collect_sample(em_suite.uow, actor=em_suite.crew.operator.actor, code=plate.code)
    em_suite.clock.advance(timedelta(days=5))
    with pytest.raises(PermissionDenied):
        results.read_plate(
            em_suite.uow, actor=em_suite.crew.operator.actor, sample_code=plate.code, cfu=1
        )
    outcome = results.read_plate(
        em_suite.uow,
        actor=em_suite.crew.qc.actor,
        sample_code=plate.code,
        cfu=1,
        organism="Micrococcus luteus",
    )
    assert outcome.level is Level.ACTION
    [note] = outcome.excursions
    assert note.batch_numbers == ("B26-0003",)
    assert note.deviation_number is not None
    assert "any growth in grade A is action level" in note.description
    with em_suite.uow.db.read_session() as session:
        deviation = session.execute(
            select(Deviation).where(Deviation.number == note.deviation_number)
        ).scalar_one()
        assert "room CR-B1, workstation BSC-1" in deviation.description
        assert f"Production session: {session_id}" in deviation.description
        assert (
            session.execute(
                select(DeviationBatch.batch_number).where(
                    DeviationBatch.deviation_id == deviation.id
                )
            ).scalar_one()
            == "B26-0003"
        )
    with pytest.raises(Conflict, match="already been read"):
        results.read_plate(
            em_suite.uow, actor=em_suite.crew.qc.actor, sample_code=plate.code, cfu=0
        )


def test_an_action_event_blocks_certification_until_qa_has_assessed_it(em_suite: Suite) -> None:
    session_id = em_suite.open_session("BSC-1", "B26-0004")
    planned = plan.plan_session_samples(
        em_suite.uow, actor=em_suite.crew.operator.actor, session_id=session_id
    )
    em_suite.clock.advance(timedelta(hours=1))
    for p in planned:
        if p.sample_type.viable:
            plan.collect_sample(em_suite.uow, actor=em_suite.crew.operator.actor, code=p.code)
    em_suite.clock.advance(timedelta(days=5))
    floor = next(
        p
        for p in planned
        if p.location_code == "B1-FLOOR" and p.sample_type.value == "settle_plate"
    )
    glove = next(p for p in planned if p.sample_type.value == "glove_print")
    results.read_plate(em_suite.uow, actor=em_suite.crew.qc.actor, sample_code=floor.code, cfu=0)
    results.read_plate(
        em_suite.uow,
        actor=em_suite.crew.qc.actor,
        sample_code=glove.code,
        cfu=2,
        organism="Staphylococcus epidermidis",
    )
    with em_suite.uow.db.read_session() as session:
        em = queries.em_for_batch(session, "b26-0004", now=em_suite.clock.now())
    assert em.blocks_certification
    [event] = em.unassessed_action_events
    assert event.location_code == "BSC1-CENTRE" and event.deviation_number
    [one] = em.sessions
    assert one.session_id == session_id
    assert {r.sample_code for r in one.results} == {floor.code, glove.code}
    assert set(one.pending_samples) == {p.code for p in planned} - {floor.code, glove.code}

    with pytest.raises(PermissionDenied):
        assessment.assess_impact(
            em_suite.uow,
            actor=em_suite.crew.qc.actor,
            excursion_id=event.id,
            batch_number="B26-0004",
            impact="no_impact",
            rationale="x",
            password=em_suite.crew.qc.password,
        )
    with pytest.raises(InvalidInput, match="was not open in the session") as caught:
        assessment.assess_impact(
            em_suite.uow,
            actor=em_suite.crew.qa.actor,
            excursion_id=event.id,
            batch_number="B26-9999",
            impact="no_impact",
            rationale="x",
            password=em_suite.crew.qa.password,
        )
    assert caught.value.field == "batch_number"
    assessment.assess_impact(
        em_suite.uow,
        actor=em_suite.crew.qa.actor,
        excursion_id=event.id,
        batch_number="B26-0004",
        impact="impact_acceptable",
        rationale="Glove changed at once; the product was closed in its bag; sterility pending.",
        password=em_suite.crew.qa.password,
    )
    with em_suite.uow.db.read_session() as session:
        em = queries.em_for_batch(session, "B26-0004", now=em_suite.clock.now())
    assert not em.blocks_certification
    assert em.excursions[0].assessments[0].impact == "impact_acceptable"


def test_an_alert_is_notified_without_a_deviation(em_suite: Suite) -> None:
    session_id = em_suite.open_session("BSC-1", "B26-0005")
    planned = plan.plan_session_samples(
        em_suite.uow, actor=em_suite.crew.operator.actor, session_id=session_id
    )
    floor = next(
        p
        for p in planned
        if p.location_code == "B1-FLOOR" and p.sample_type.value == "settle_plate"
    )
    plan.collect_sample(em_suite.uow, actor=em_suite.crew.operator.actor, code=floor.code)
    em_suite.clock.advance(timedelta(days=5))
    deviations = _count(em_suite, Deviation)
    outcome = results.read_plate(
        em_suite.uow, actor=em_suite.crew.qc.actor, sample_code=floor.code, cfu=3
    )
    assert outcome.level is Level.ALERT
    [note] = outcome.excursions
    assert note.deviation_number is None and note.level is Level.ALERT
    assert _count(em_suite, Deviation) == deviations
    with em_suite.uow.db.read_session() as session:
        assert not queries.em_for_batch(session, "B26-0005").blocks_certification


COUNTER_CSV = """time,location,0.5um,5um,volume_l
{t0},C1-AIR,1000,10,28.3
{t1},C1-AIR,1000,10
{t2},NOWHERE,1,0,28.3
{t3},B1-FLOOR,1,0,28.3
{t4},C1-AIR,200000,500,28.3
"""


def test_counter_import_keeps_good_rows_and_names_bad_ones(em_suite: Suite) -> None:
    em_suite.open_session("CR-C1", "B26-0006")
    now = em_suite.clock.now()
    em_suite.clock.advance(timedelta(hours=2))
    text = COUNTER_CSV.format(
        **{f"t{i}": (now + timedelta(minutes=10 * i)).isoformat() for i in range(5)}
    )
    outcome = results.import_counter_csv(
        em_suite.uow, actor=em_suite.crew.qc.actor, filename="counter.csv", text=text
    )
    assert outcome.stored == 4  # two rows kept, two sizes each
    assert [(e.row, e.field) for e in outcome.errors] == [
        (3, "row"),
        (4, "location"),
        (5, "location"),
    ]
    assert "takes no particle counts at B1-FLOOR" in outcome.errors[2].rule
    # 200000 in 28.3 L is 7,067,138 per m³: over grade C's 3,520,000 in operation.
    assert outcome.level is Level.ACTION
    [note] = outcome.excursions
    assert note.location_code == "C1-AIR" and note.batch_numbers == ("B26-0006",)
    assert note.deviation_number is not None
    assert _count(em_suite, EmResult) == 4


def _climbing_counts(suite: Suite) -> list[dict[str, object]]:
    """Five counts at C1-AIR, the last four over an alert limit of 300,000 (set here)."""
    plan.set_alert_limit(
        suite.uow,
        actor=suite.crew.qa.actor,
        location="C1-AIR",
        sample_type="particles_0_5um",
        alert_limit=300_000,
        reason="from the qualification",
    )
    start = suite.clock.now()
    suite.clock.advance(timedelta(hours=1))
    return [
        {
            "location": "C1-AIR",
            "time": (start + timedelta(minutes=i)).isoformat(),
            "0.5um": value,
            "5um": 0,
        }
        for i, value in enumerate([1000, 400_000, 400_000, 400_000, 400_000])
    ]


def test_telemetry_is_refused_to_people_without_the_readings_permission(em_suite: Suite) -> None:
    messages = _climbing_counts(em_suite)
    with pytest.raises(PermissionDenied):
        results.record_telemetry(em_suite.uow, actor=em_suite.crew.qc.actor, messages=messages)
    assert _count(em_suite, EmResult) == 0


def test_telemetry_trends_fire_once_and_store_every_reading(
    em_suite: Suite,
    make_persona,  # type: ignore[no-untyped-def]
) -> None:
    counter = make_persona(Role.DEVICE, username="counter-1")
    messages: list[object] = [
        *_climbing_counts(em_suite),
        {"location": "C1-AIR", "time": "nonsense", "0.5um": 1, "5um": 0},
    ]
    outcome = results.record_telemetry(em_suite.uow, actor=counter.actor, messages=messages)
    assert outcome.stored == 10
    assert [e.row for e in outcome.errors] == [6]
    trends = [n for n in outcome.excursions if "in a row" in n.description]
    alerts = [n for n in outcome.excursions if "above the alert limit" in n.description]
    assert len(alerts) == 4
    assert len(trends) == 1
    with em_suite.uow.db.read_session() as session:
        kinds = (
            session.execute(
                select(EmExcursion.trend_rule).where(EmExcursion.trend_rule.is_not(None))
            )
            .scalars()
            .all()
        )
    assert kinds == ["consecutive-alerts"]


def test_the_release_review_lists_an_unassessed_action_event_as_blocking_until_qa_assesses(
    em_suite: Suite,
) -> None:
    # The release capability reads the same EM records (issue 13 item 8): the action event of the
    # batch's session blocks certification until QA has assessed it; then it is a line to read.
    session_id = em_suite.open_session("BSC-1", "B26-0006")
    planned = plan.plan_session_samples(
        em_suite.uow, actor=em_suite.crew.operator.actor, session_id=session_id
    )
    em_suite.clock.advance(timedelta(hours=1))
    glove = next(p for p in planned if p.sample_type.value == "glove_print")
    plan.collect_sample(em_suite.uow, actor=em_suite.crew.operator.actor, code=glove.code)
    em_suite.clock.advance(timedelta(days=5))
    results.read_plate(em_suite.uow, actor=em_suite.crew.qc.actor, sample_code=glove.code, cfu=1)
    with em_suite.uow.db.read_session() as session:
        facts = em_facts(session, "B26-0006")
    assert facts.sessions == 1
    [blocking] = facts.blocking
    assert "BSC1-CENTRE" in blocking and "not assessed by QA" in blocking
    # The samples not read yet are listed to look at, without blocking.
    assert any("EM samples not read yet" in p for p in facts.problems)
    with em_suite.uow.db.read_session() as session:
        [event] = queries.em_for_batch(session, "B26-0006").unassessed_action_events
    assessment.assess_impact(
        em_suite.uow,
        actor=em_suite.crew.qa.actor,
        excursion_id=event.id,
        batch_number="B26-0006",
        impact="impact_acceptable",
        rationale="One colony on the left glove; changed at once; the product stayed closed.",
        password=em_suite.crew.qa.password,
    )
    with em_suite.uow.db.read_session() as session:
        after = em_facts(session, "B26-0006")
    assert after.blocking == ()
    assert any("BSC1-CENTRE" in p and "action" in p for p in after.problems)


def test_a_batch_that_joins_the_session_after_an_action_event_is_assessed_for_it_too(
    em_suite: Suite,
) -> None:
    # The event came before batch B26-0008 was in the session; its release review still lists
    # it (same session, no cleaning between), so QA must be able to assess it for that batch.
    session_id = em_suite.open_session("BSC-1", "B26-0007")
    planned = plan.plan_session_samples(
        em_suite.uow, actor=em_suite.crew.operator.actor, session_id=session_id
    )
    glove = next(p for p in planned if p.sample_type.value == "glove_print")
    plan.collect_sample(em_suite.uow, actor=em_suite.crew.operator.actor, code=glove.code)
    em_suite.clock.advance(timedelta(days=5))
    results.read_plate(em_suite.uow, actor=em_suite.crew.qc.actor, sample_code=glove.code, cfu=1)
    em_suite.clock.advance(timedelta(hours=1))
    assert em_suite.open_session("BSC-1", "B26-0008") == session_id
    with em_suite.uow.db.read_session() as session:
        [event] = queries.em_for_batch(session, "B26-0008").unassessed_action_events
    assert "B26-0008" not in event.batch_numbers
    assessment.assess_impact(
        em_suite.uow,
        actor=em_suite.crew.qa.actor,
        excursion_id=event.id,
        batch_number="B26-0008",
        impact="no_impact",
        rationale="B26-0008 entered the cabinet after the glove was changed and it was cleaned.",
        password=em_suite.crew.qa.password,
    )
    with em_suite.uow.db.read_session() as session:
        assert not queries.em_for_batch(session, "B26-0008").blocks_certification
        # The first batch still waits for its own assessment.
        assert queries.em_for_batch(session, "B26-0007").blocks_certification
