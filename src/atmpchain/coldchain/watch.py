"""Watching for silent sensors: no reading within a sensor's allowed gap is itself an alarm."""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import select

from atmpchain.accounts.domain import Actor
from atmpchain.audit.actions import AuditAction
from atmpchain.coldchain import queries
from atmpchain.coldchain.alarms import Alarm, silent_sensor_alarm
from atmpchain.coldchain.integrity import alarm_digest, state_digest
from atmpchain.coldchain.models import ColdChainAlarm, SensorState
from atmpchain.coldchain.notify import Notifier
from atmpchain.coldchain.silence import silent_sensors
from atmpchain.uow import UnitOfWork


def check_silent_sensors(
    uow: UnitOfWork, *, actor: Actor, notifier: Notifier | None = None
) -> list[Alarm]:
    """Raise one alarm per active sensor that has gone quiet longer than its allowed gap.

    Each silence is alarmed once: the sensor's state remembers it until its next reading. Run
    periodically (the MQTT consumer does so); any actor may run it, since it only records what
    the clock and the stored readings already say.
    """
    with uow:
        session = uow.session
        now = uow.clock.now()
        catalogue = {info.id: info for info in queries.sensors(session).values()}
        states = {
            s.sensor_id: s
            for s in session.execute(
                select(SensorState)
                .where(SensorState.sensor_id.in_(sorted(catalogue)))
                .where(SensorState.silent_since.is_(None))
                .order_by(SensorState.sensor_id)
                .with_for_update()
            ).scalars()
        }
        by_code = {catalogue[i].code: s for i, s in states.items() if s.last_seen is not None}
        found = silent_sensors(
            {code: s.last_seen for code, s in by_code.items() if s.last_seen is not None},
            now,
            {
                catalogue[s.sensor_id].code: catalogue[s.sensor_id].max_silence
                for s in states.values()
            },
        )
        alarms: list[Alarm] = []
        for silent in found:
            state = by_code[silent.sensor]
            info = catalogue[state.sensor_id]
            alarm = silent_sensor_alarm(
                silent,
                unit=info.unit_code or "-",
                unit_name=info.unit_name or f"sensor {info.code} (not in a storage unit)",
                now=now,
                # The stored text keeps its times in UTC (timetext's one form); each page,
                # e-mail and log shows them in its reader's zone (issue 10).
                zone=UTC,
            )
            state.silent_since = silent.last_seen
            row = ColdChainAlarm(
                kind=alarm.kind,
                severity=alarm.severity,
                sensor_id=info.id,
                storage_unit_id=info.storage_unit_id,
                excursion_id=None,
                message=alarm.message,
                raised_at=now,
            )
            session.add(row)
            session.flush()
            uow.audit.record(
                AuditAction.SENSOR_SILENT,
                actor=actor,
                record_type="sensor",
                record_id=info.id,
                after={
                    "sensor": info.code,
                    "last_seen": silent.last_seen,
                    "silent_seconds": int(silent.silent_for.total_seconds()),
                    "max_silence_seconds": int(silent.max_gap.total_seconds()),
                    "alarm_id": row.id,
                    # What `reconcile` checks the alarm and the sensor's state against.
                    "alarm_sha256": alarm_digest(row),
                    "state_sha256": state_digest(state),
                },
            )
            alarms.append(alarm)
        if alarms and notifier is not None:
            raised = tuple(alarms)
            uow.after_commit(lambda: notifier.send(raised))
        uow.commit()
    return alarms
