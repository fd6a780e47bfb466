"""The demo's environmental monitoring: an EM plan for the four-room suite, a month of hourly
particle counts, alert limits set from that history, one adverse trend (three alerts in a row in
the grade C room) and, in the demo batch's open session, a plate over its action limit: an
action-level event with its deviation, blocking certification until QA assesses it.

Called by the lead's demo after the cleanrooms suite exists (`cleanrooms.suite.install_suite`)
and after demo_manufacturing, while the demo batch's session is open:

    from atmpchain.environmental_monitoring.demo import seed_em_demo
    seed_em_demo(uow, qa=qa_actor, qc=qc_actor, operator=operator_actor)

It uses the open production session (of `batch_number` when given, else the first open one:
in today's demo the demo batch B26-00002 in CR-D1); one of that session's plates is read over
its action limit (one colony at the cabinet in grade A, else the limit plus one).

Everything goes through the services, so every record has its audit row.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from atmpchain.accounts.domain import Actor
from atmpchain.environmental_monitoring import plan, results
from atmpchain.environmental_monitoring.domain import Occupancy
from atmpchain.environmental_monitoring.links import open_sessions
from atmpchain.environmental_monitoring.plan import RULES
from atmpchain.environmental_monitoring.queries import plan_points
from atmpchain.uow import UnitOfWork

#: code, name, room, workstation, sample types, typical ≥0.5 µm count per m³ in operation.
LOCATIONS: tuple[tuple[str, str, str, str | None, tuple[str, ...], int], ...] = (
    (
        "BSC1-ZONE",
        "Biosafety cabinet 1, critical zone",
        "CR-B1",
        "BSC-1",
        ("particles_0_5um", "particles_5um", "settle_plate", "glove_print"),
        300,
    ),
    (
        "B1-ROOM",
        "Grade B room, beside the cabinet",
        "CR-B1",
        None,
        ("particles_0_5um", "particles_5um", "settle_plate", "contact_plate"),
        8_000,
    ),
    (
        "AL-B1-AIR",
        "Airlock into grade B",
        "AL-B1",
        None,
        ("particles_0_5um", "particles_5um", "contact_plate"),
        20_000,
    ),
    (
        "C1-BENCH",
        "Grade C closed-processing bench",
        "CR-C1",
        None,
        ("particles_0_5um", "particles_5um", "active_air", "settle_plate"),
        150_000,
    ),
    (
        "D1-RECEIPT",
        "Grade D apheresis receipt",
        "CR-D1",
        None,
        ("particles_0_5um", "particles_5um", "active_air", "contact_plate"),
        600_000,
    ),
)
HISTORY_DAYS = 30


@dataclass(frozen=True)
class EmDemo:
    """What the demo seeded."""

    locations: tuple[str, ...]
    results: int
    trend_excursions: int
    action_excursions: tuple[int, ...]
    deviation_numbers: tuple[str, ...]


def _history_csv(now: datetime, seed: int = 13) -> str:
    """A month of hourly counts per location, in limits: the counter's export as text."""
    rng = random.Random(seed)
    lines = ["time,location,0.5um,5um"]
    start = now - timedelta(days=HISTORY_DAYS)
    hours = int((now - start).total_seconds() // 3600) - 3
    for hour in range(hours):
        moment = (start + timedelta(hours=hour)).isoformat()
        for code, _, _, _, _, typical in LOCATIONS:
            small = max(0, int(rng.gauss(typical, typical * 0.2)))
            large = min(small, max(0, int(small / 300 + rng.random() * 2)))
            lines.append(f"{moment},{code},{small},{large}")
    return "\n".join(lines) + "\n"


def seed_em_demo(
    uow: UnitOfWork,
    *,
    qa: Actor,
    qc: Actor,
    operator: Actor,
    session_id: int | None = None,
    batch_number: str | None = None,
) -> EmDemo:
    """Seed the demo's EM (see the module's docstring). The session is the demo batch's open
    session (at the biosafety cabinet): by its id, or found as the open session holding
    `batch_number`; with neither (or none open) there are no session samples and no action
    event."""
    if session_id is None:
        with uow.db.read_session() as session:
            wanted = (batch_number or "").strip().upper()
            session_id = next(
                (s.id for s in open_sessions(session) if not wanted or wanted in s.batch_numbers),
                None,
            )
    for code, name, room, workstation, types, _ in LOCATIONS:
        plan.create_location(
            uow,
            actor=qa,
            code=code,
            name=name,
            room_code=room,
            workstation_code=workstation,
            sample_types=types,
        )
    now = uow.clock.now()
    history = results.import_counter_csv(
        uow, actor=qc, filename="demo-counter-month.csv", text=_history_csv(now)
    )
    stored = history.stored
    for code, _, _, _, types, _ in LOCATIONS:
        for kind in ("particles_0_5um", "particles_5um"):
            if kind in types:
                plan.set_alert_limit(
                    uow,
                    actor=qa,
                    location=code,
                    sample_type=kind,
                    alert_limit=None,
                    from_history=True,
                    reason="alert limit from the first month of routine monitoring",
                )
    # The grade C bench climbs above its alert limit three hours running: an adverse trend.
    trend_rows = ["time,location,0.5um,5um"] + [
        f"{(now - timedelta(minutes=150 - 30 * i)).isoformat()},C1-BENCH,{260_000 + 20_000 * i},40"
        for i in range(3)
    ]
    trend = results.import_counter_csv(
        uow, actor=qc, filename="demo-counter-trend.csv", text="\n".join(trend_rows) + "\n"
    )
    stored += trend.stored
    trends = sum(1 for n in trend.excursions if "in a row" in n.description)
    actions: list[int] = []
    deviations: list[str] = []
    if session_id is not None:
        planned = plan.plan_session_samples(uow, actor=operator, session_id=session_id)
        viable = [p for p in planned if p.sample_type.viable]
        for sample in viable:
            plan.collect_sample(uow, actor=operator, code=sample.code)
        # One plate over its action limit: in grade A one colony, elsewhere the limit plus one.
        with uow.db.read_session() as session:
            grades = {(p.location_code, p.sample_type): p.grade for p in plan_points(session)}
        chosen = next(
            (s for s in viable if s.location_code == "BSC1-ZONE"),
            viable[0] if viable else None,
        )
        for sample in viable:
            count = 0
            if sample is chosen:
                grade = grades[(sample.location_code, sample.sample_type)]
                limit = RULES.limit(grade, sample.sample_type, Occupancy.IN_OPERATION)
                count = (limit.action_limit or 0) + 1
            outcome = results.read_plate(
                uow,
                actor=qc,
                sample_code=sample.code,
                cfu=count,
                organism="Micrococcus luteus" if count else None,
            )
            stored += outcome.stored
            for note in outcome.excursions:
                if note.deviation_number:
                    actions.append(note.id)
                    deviations.append(note.deviation_number)
    return EmDemo(
        locations=tuple(code for code, *_ in LOCATIONS),
        results=stored,
        trend_excursions=trends,
        action_excursions=tuple(actions),
        deviation_numbers=tuple(deviations),
    )
