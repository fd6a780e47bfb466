"""Registering temperature sensors: which storage unit a probe watches and how it is judged."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from atmpchain.accounts.domain import Actor, Permission, Role
from atmpchain.accounts.models import User
from atmpchain.audit.actions import AuditAction
from atmpchain.coldchain.excursions import DetectorState
from atmpchain.coldchain.integrity import state_digest
from atmpchain.coldchain.models import Sensor, SensorState
from atmpchain.coldchain.state import dump_state
from atmpchain.custody.models import StorageUnit
from atmpchain.errors import Conflict, InvalidInput, NotFound
from atmpchain.uow import UnitOfWork

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def register_sensor(
    uow: UnitOfWork,
    *,
    actor: Actor,
    code: str,
    name: str,
    storage_unit: str | None = None,
    device: str | None = None,
    grace_seconds: int = 300,
    max_silence_seconds: int = 900,
) -> int:
    """Register a sensor (optionally installed in a storage unit and bound to a device
    account); returns its id. Its silence is counted from now."""
    actor.require(Permission.MANAGE_SENSORS)
    sensor_code = code.strip()
    if not _CODE.match(sensor_code):
        # The code is also an MQTT topic level, so no '/', '+' or '#'.
        raise InvalidInput(
            f"sensor code '{code}' must be 1 to 64 letters, digits, '.', '_' or '-'", "code"
        )
    label = " ".join(name.split())
    if not 1 <= len(label) <= 200:
        raise InvalidInput("the sensor's name must have 1 to 200 characters", "name")
    if grace_seconds < 0:
        raise InvalidInput("the grace period cannot be negative", "grace_seconds")
    if max_silence_seconds <= 0:
        raise InvalidInput("the allowed silence must be at least one second", "max_silence")
    with uow:
        unit_id: int | None = None
        if storage_unit is not None:
            unit_id = uow.session.execute(
                select(StorageUnit.id).where(StorageUnit.code == storage_unit.strip().upper())
            ).scalar_one_or_none()
            if unit_id is None:
                raise NotFound(f"there is no storage unit '{storage_unit}'", "storage_unit")
        device_id: int | None = None
        if device is not None:
            user = uow.session.execute(
                select(User).where(User.username == device.strip().lower())
            ).scalar_one_or_none()
            if user is None:
                raise NotFound(f"there is no user '{device}'", "device")
            if Role.DEVICE not in user.role_set:
                raise InvalidInput(f"'{user.username}' is not a device account", "device")
            device_id = user.id
        now = uow.clock.now()
        sensor = Sensor(
            code=sensor_code,
            name=label,
            storage_unit_id=unit_id,
            device_user_id=device_id,
            grace_seconds=grace_seconds,
            max_silence_seconds=max_silence_seconds,
            active=True,
            created_at=now,
            created_by_id=actor.user_id,
        )
        uow.session.add(sensor)
        try:
            uow.session.flush()
        except IntegrityError:
            raise Conflict(f"a sensor with code {sensor_code} exists already", "code") from None
        # last_seen starts at registration, so a probe that never reports is flagged too.
        state = SensorState(
            sensor_id=sensor.id,
            detector_json=dump_state(DetectorState()),
            last_seen=now,
            silent_since=None,
        )
        uow.session.add(state)
        uow.audit.record(
            AuditAction.SENSOR_REGISTERED,
            actor=actor,
            record_type="sensor",
            record_id=sensor.id,
            after={
                "code": sensor_code,
                "name": label,
                "storage_unit": storage_unit,
                "device": device,
                "grace_seconds": grace_seconds,
                "max_silence_seconds": max_silence_seconds,
                # What `reconcile` checks the detector's state against until the first batch.
                "state_sha256": state_digest(state),
            },
        )
        uow.commit()
    return sensor.id
