"""The permission matrix: every role against every permission-protected service function.

For each role, each protected call must go through exactly when ROLE_PERMISSIONS grants the
permission it needs, and otherwise be refused with PermissionDenied having written nothing (no
audit record, no row in any table, nothing exported). One database per role keeps this fast; the
mismatches are collected so that one run names every wrong cell of the matrix at once.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select
from tests.conftest import Persona
from tests.integration.conftest import Trail

from atmpchain.access.service import approve_access
from atmpchain.accounts import tokens, users
from atmpchain.accounts.audit_export import export_audit_trail
from atmpchain.accounts.domain import ROLE_PERMISSIONS, SYSTEM_ACTOR, Permission, Role
from atmpchain.audit.queries import AuditFilter
from atmpchain.coldchain.acknowledge import acknowledge_alarm
from atmpchain.coldchain.alarms import AlarmKind, Severity
from atmpchain.coldchain.assessment import assess_impact
from atmpchain.coldchain.domain import Direction, Reading, ReadingSource
from atmpchain.coldchain.impact import Impact
from atmpchain.coldchain.ingest import store_readings
from atmpchain.coldchain.models import ColdChainAlarm, Excursion, ExcursionProduct, Sensor
from atmpchain.coldchain.sensors import register_sensor
from atmpchain.custody import service as custody_service
from atmpchain.custody import storage
from atmpchain.custody.domain import StorageKind, StorageStatus
from atmpchain.custody.models import ProductUnit, StorageUnit
from atmpchain.errors import PermissionDenied
from atmpchain.facility import service as facility_service
from atmpchain.identity import printing
from atmpchain.identity import service as identity_service
from atmpchain.identity.chain import CheckPoint
from atmpchain.identity.labels import LabelKind
from atmpchain.identity.printing import LabelRequest
from atmpchain.signatures.domain import Meaning
from atmpchain.signatures.service import apply_signature
from atmpchain.uow import UnitOfWork

Call = tuple[Permission, Callable[[], Any]]


def _excursion_in_tank(uow: UnitOfWork, unit_scan: str) -> tuple[int, int]:
    """An ended excursion of tank TANK with the unit scanned inside (written directly)."""
    with uow:
        session = uow.session
        now = uow.clock.now()
        excursion = Excursion(
            sensor_id=session.execute(
                select(Sensor.id).where(Sensor.code == "MATRIX-T")
            ).scalar_one(),
            storage_unit_id=session.execute(
                select(StorageUnit.id).where(StorageUnit.code == "TANK")
            ).scalar_one(),
            start_at=now,
            end_at=now,
            last_out_at=now,
            peak=Decimal("-120"),
            peak_at=now,
            direction=Direction.ABOVE,
            readings=3,
            limit_low=None,
            limit_high=Decimal("-150"),
            detected_at=now,
        )
        session.add(excursion)
        session.flush()
        unit_id = session.execute(
            select(ProductUnit.id).where(ProductUnit.din == unit_scan[1:14])
        ).scalar_one()
        session.add(ExcursionProduct(excursion_id=excursion.id, product_unit_id=unit_id))
        uow.commit()
        return excursion.id, unit_id


def _open_alarm(uow: UnitOfWork) -> int:
    """An open alarm about tank TANK (written directly, as the detector would)."""
    with uow:
        alarm = ColdChainAlarm(
            kind=AlarmKind.EXCURSION_STARTED,
            severity=Severity.CRITICAL,
            sensor_id=None,
            storage_unit_id=None,
            excursion_id=None,
            message="Tank is warming",
            raised_at=uow.clock.now(),
        )
        uow.session.add(alarm)
        uow.session.flush()
        alarm_id = alarm.id
        uow.commit()
        return alarm_id


def _protected_calls(
    uow: UnitOfWork, acting: Persona, make_persona: Callable[..., Persona], export_out: io.StringIO
) -> dict[str, Call]:
    """Each protected service function, ready to call as `acting`, on its own target."""
    setup_admin = make_persona(Role.ADMIN, username="setup-admin")
    target = make_persona(Role.OPERATOR, username="target", full_name="Tara Target")
    leaver = make_persona(Role.OPERATOR, username="leaver")
    returner = make_persona(Role.OPERATOR, username="returner")
    approvee = make_persona(Role.NURSE, username="approvee")
    logger = make_persona(Role.DEVICE, username="logger")
    users.deactivate_user(uow, actor=setup_admin.actor, user_id=returner.user_id, reason="leave")
    token = tokens.create_api_token(
        uow, actor=setup_admin.actor, user_id=logger.user_id, name="to revoke"
    )
    setup_operator = make_persona(Role.OPERATOR, username="setup-operator")
    register_sensor(uow, actor=setup_admin.actor, code="MATRIX-T", name="Matrix probe")
    chain = identity_service.create_chain(
        uow, actor=setup_operator.actor, patient_ref="P-1", therapy="CAR-T"
    )
    bound_din = identity_service.issue_din(uow, actor=setup_operator.actor)
    identity_service.bind_donation(
        uow, actor=setup_operator.actor, coi_identifier=chain, din_text=bound_din.eye_readable()
    )
    spare_din = identity_service.issue_din(uow, actor=setup_operator.actor)
    setup_qa = make_persona(Role.QA, username="setup-qa")
    storage.create_site(uow, actor=setup_qa.actor, code="HOSP", name="Hospital")
    storage.create_room(uow, actor=setup_qa.actor, site_code="HOSP", code="CRYO", name="Cryo")
    storage.create_storage_unit(
        uow,
        actor=setup_qa.actor,
        site_code="HOSP",
        room_code="CRYO",
        code="TANK",
        name="Tank",
        kind=StorageKind.LN2_VAPOUR,
        layout=(1, 1, 4),
    )
    storage.change_storage_status(
        uow, actor=setup_qa.actor, code="TANK", status=StorageStatus.IN_USE, reason="released"
    )
    # One unit stored (retrieved, then put away again), one stored to dispose of, and one
    # arriving: the acting person receives it and then hands it to a courier.
    stored, to_dispose = (
        "=" + identity_service.issue_din(uow, actor=setup_operator.actor).encode() + "00"
        for _ in range(2)
    )
    for scan, slot in ((stored, "S1"), (to_dispose, "S2")):
        custody_service.receive(
            uow,
            actor=setup_operator.actor,
            unit_scan=scan,
            product_code="S1295V00",
            from_party="Courier",
        )
        custody_service.put_away(
            uow, actor=setup_operator.actor, unit_scan=scan, location_scan=f"LOC:TANK.R1.B1.{slot}"
        )
    incoming = "=" + identity_service.issue_din(uow, actor=setup_operator.actor).encode() + "00"
    excursion_id, exposed_id = _excursion_in_tank(uow, stored)
    alarm_id = _open_alarm(uow)
    actor = acting.actor

    def sign() -> None:
        with uow:
            apply_signature(
                uow,
                actor=actor,
                password=acting.password,
                record_type="matrix_check",
                record_id=1,
                content={"checked": True},
                meaning=Meaning.REVIEWED,
            )
            uow.commit()

    return {
        "create_user": (
            Permission.MANAGE_USERS,
            lambda: users.create_user(
                uow,
                actor=actor,
                username="newcomer",
                full_name="New Comer",
                roles=[Role.RESEARCHER],
                password="Initial-Pass-2026",
            ),
        ),
        "change_roles": (
            Permission.MANAGE_USERS,
            lambda: users.change_roles(
                uow,
                actor=actor,
                user_id=target.user_id,
                roles=[Role.OPERATOR, Role.QC_ANALYST],
                reason="cross-trained",
            ),
        ),
        "update_details": (
            Permission.MANAGE_USERS,
            lambda: users.update_details(
                uow,
                actor=actor,
                user_id=target.user_id,
                full_name="Tara Target-Smith",
                email=None,
                time_zone=None,
                reason="name change",
            ),
        ),
        "deactivate_user": (
            Permission.MANAGE_USERS,
            lambda: users.deactivate_user(uow, actor=actor, user_id=leaver.user_id, reason="left"),
        ),
        "reactivate_user": (
            Permission.MANAGE_USERS,
            lambda: users.reactivate_user(
                uow, actor=actor, user_id=returner.user_id, reason="back"
            ),
        ),
        "reset_password": (
            Permission.MANAGE_USERS,
            lambda: users.reset_password(
                uow,
                actor=actor,
                user_id=target.user_id,
                new_password="Temporary-Pass-77",
                reason="forgotten",
            ),
        ),
        "unlock_user": (
            Permission.MANAGE_USERS,
            lambda: users.unlock_user(uow, actor=actor, user_id=target.user_id, reason="verified"),
        ),
        "create_api_token": (
            Permission.MANAGE_API_TOKENS,
            lambda: tokens.create_api_token(
                uow, actor=actor, user_id=logger.user_id, name="second logger"
            ),
        ),
        "revoke_api_token": (
            Permission.MANAGE_API_TOKENS,
            lambda: tokens.revoke_api_token(
                uow, actor=actor, token_id=token.token_id, reason="replaced"
            ),
        ),
        "approve_access": (
            Permission.APPROVE_USER_ACCESS,
            lambda: approve_access(
                uow, actor=actor, user_id=approvee.user_id, password=acting.password
            ),
        ),
        "apply_signature": (Permission.SIGN_RECORDS, sign),
        "assess_impact": (
            Permission.ASSESS_IMPACT,
            lambda: assess_impact(
                uow,
                actor=actor,
                excursion_id=excursion_id,
                product_unit_id=exposed_id,
                impact=Impact.NO_IMPACT,
                rationale="within the stability data",
                password=acting.password,
            ),
        ),
        "acknowledge_alarm": (
            Permission.ACKNOWLEDGE_ALARMS,
            lambda: acknowledge_alarm(
                uow, actor=actor, alarm_id=alarm_id, comment="called technician, tank refilled"
            ),
        ),
        "register_sensor": (
            Permission.MANAGE_SENSORS,
            lambda: register_sensor(uow, actor=actor, code="MATRIX-2", name="Second probe"),
        ),
        "store_readings": (
            Permission.RECORD_READINGS,
            lambda: store_readings(
                uow,
                actor=actor,
                source=ReadingSource.CSV,
                readings=[Reading("MATRIX-T", uow.clock.now(), Decimal("5"))],
            ),
        ),
        "issue_din": (
            Permission.ISSUE_IDENTIFIERS,
            lambda: identity_service.issue_din(uow, actor=actor),
        ),
        "create_chain": (
            Permission.ISSUE_IDENTIFIERS,
            lambda: identity_service.create_chain(
                uow, actor=actor, patient_ref="P-2", therapy="CAR-T"
            ),
        ),
        "bind_donation": (
            Permission.ISSUE_IDENTIFIERS,
            lambda: identity_service.bind_donation(
                uow, actor=actor, coi_identifier=chain, din_text=spare_din.eye_readable()
            ),
        ),
        "check_identity": (
            Permission.CHECK_IDENTITY,
            lambda: identity_service.check_identity(
                uow,
                actor=actor,
                checkpoint=CheckPoint.BAG_TO_WRISTBAND,
                first_scan="=" + bound_din.encode() + "00",
                second_scan="&/" + chain,
            ),
        ),
        "print_label": (
            Permission.PRINT_LABELS,
            lambda: printing.print_label(
                uow,
                actor=actor,
                request=LabelRequest(kind=LabelKind.VIAL, din=bound_din.eye_readable()),
            ),
        ),
        "create_site": (
            Permission.MANAGE_STORAGE,
            lambda: storage.create_site(uow, actor=actor, code="LAB", name="Lab"),
        ),
        "create_room": (
            Permission.MANAGE_STORAGE,
            lambda: storage.create_room(
                uow, actor=actor, site_code="HOSP", code="PREP", name="Preparation"
            ),
        ),
        "create_storage_unit": (
            Permission.MANAGE_STORAGE,
            lambda: storage.create_storage_unit(
                uow,
                actor=actor,
                site_code="HOSP",
                room_code="CRYO",
                code="FRIDGE",
                name="Fridge",
                kind=StorageKind.REFRIGERATOR,
                layout=(2,),
            ),
        ),
        "change_storage_status": (
            Permission.MANAGE_STORAGE,
            lambda: storage.change_storage_status(
                uow, actor=actor, code="FRIDGE", status=StorageStatus.IN_USE, reason="released"
            ),
        ),
        "receive": (
            Permission.MOVE_PRODUCT,
            lambda: custody_service.receive(
                uow,
                actor=actor,
                unit_scan=incoming,
                product_code="S1295V00",
                from_party="Courier",
            ),
        ),
        "retrieve": (
            Permission.MOVE_PRODUCT,
            lambda: custody_service.retrieve(
                uow, actor=actor, unit_scan=stored, location_scan="LOC:TANK"
            ),
        ),
        "put_away": (
            Permission.MOVE_PRODUCT,
            lambda: custody_service.put_away(
                uow, actor=actor, unit_scan=stored, location_scan="LOC:TANK.R1.B1.S3"
            ),
        ),
        "transfer": (
            Permission.MOVE_PRODUCT,
            lambda: custody_service.transfer(
                uow, actor=actor, unit_scan=incoming, to_party="World Courier"
            ),
        ),
        "dispose": (
            Permission.MOVE_PRODUCT,
            lambda: custody_service.dispose(
                uow, actor=actor, unit_scan=to_dispose, reason="damaged"
            ),
        ),
        "change_facility": (
            Permission.MANAGE_FACILITY,
            lambda: facility_service.change_facility(
                uow, actor=actor, name="Matrix Hospital", fin="A9999", reason="registration"
            ),
        ),
        "export_trail": (
            Permission.EXPORT_AUDIT_TRAIL,
            lambda: export_audit_trail(
                uow, actor=actor, out=export_out, fmt="jsonl", flt=AuditFilter()
            ),
        ),
    }


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_each_role_may_call_exactly_what_the_permission_table_grants(
    role: Role, uow: UnitOfWork, make_persona: Callable[..., Persona], trail: Trail
) -> None:
    acting = make_persona(role, username=f"acting-{role.value.replace('_', '-')}")
    export_out = io.StringIO()
    calls = _protected_calls(uow, acting, make_persona, export_out)
    wrong: list[str] = []
    for name, (permission, call) in calls.items():
        allowed = role in ROLE_PERMISSIONS[permission]
        before = trail.state()
        try:
            call()
        except PermissionDenied as refusal:
            if allowed:
                wrong.append(f"{name}: refused, but {role.value} holds {permission.value}")
            elif trail.state() != before:
                wrong.append(f"{name}: refused, but something was written")
            elif permission.value not in refusal.message:
                wrong.append(f"{name}: the refusal does not name {permission.value}")
        else:
            if not allowed:
                wrong.append(f"{name}: allowed, but {role.value} lacks {permission.value}")
            elif trail.head() == before.head:
                wrong.append(f"{name}: allowed, but left no audit record")
        if name == "export_trail" and not allowed and export_out.getvalue():
            wrong.append("export_trail: refused, but records were written out")
    assert wrong == []


def test_the_matrix_covers_every_permission_a_trust_core_service_checks() -> None:
    checked = {
        Permission.MANAGE_USERS,
        Permission.MANAGE_API_TOKENS,
        Permission.APPROVE_USER_ACCESS,
        Permission.SIGN_RECORDS,
        Permission.EXPORT_AUDIT_TRAIL,
        Permission.ISSUE_IDENTIFIERS,
        Permission.CHECK_IDENTITY,
        Permission.PRINT_LABELS,
        Permission.MANAGE_STORAGE,
        Permission.MOVE_PRODUCT,
        Permission.MANAGE_SENSORS,
        Permission.RECORD_READINGS,
        Permission.ASSESS_IMPACT,
        Permission.ACKNOWLEDGE_ALARMS,
        Permission.MANAGE_FACILITY,
        # The hospital's services: tests/integration/hospital/test_hospital_permissions.py.
        Permission.PROPOSE_CATALOGUE_CHANGE,
        Permission.APPROVE_CATALOGUE_CHANGE,
        Permission.ORDER_DOSE,
        Permission.APPROVE_DOSE_ORDER,
        Permission.HANDLE_DOSE,
        Permission.PREPARE_DOSE,
        Permission.DECIDE_RECEIPT,
        Permission.ADMINISTER_DOSE,
        Permission.OVERRIDE_INFUSION_LIMIT,
        # Deviations and CAPA: tests/integration/quality/test_quality_permissions.py.
        Permission.RAISE_DEVIATION,
        Permission.INVESTIGATE_DEVIATION,
        Permission.RECORD_CAPA_DONE,
        Permission.CLOSE_DEVIATION,
        # Materials and equipment: tests/integration/test_materials_equipment_permissions.py.
        Permission.MANAGE_MATERIALS,
        Permission.RECEIVE_MATERIALS,
        Permission.RELEASE_MATERIALS,
        Permission.MANAGE_EQUIPMENT,
        Permission.SERVICE_EQUIPMENT,
        Permission.QUALIFY_EQUIPMENT,
        # Manufacturing: every route for every role in tests/web/test_manufacturing_permissions.py.
        Permission.AUTHOR_MBR,
        Permission.APPROVE_MBR,
        Permission.EXECUTE_BATCH,
        Permission.VERIFY_BATCH_STEP,
        Permission.REJECT_BATCH,
        Permission.RECORD_RETENTION,
        # Cleanrooms: every service for every role in
        # tests/integration/cleanrooms/test_cleanrooms_permissions.py.
        Permission.MANAGE_CLEANROOMS,
        Permission.QUALIFY_ROOMS,
        Permission.OPERATE_ROOMS,
        Permission.RECORD_GOWNING,
        # Environmental monitoring: every write for every role in tests/web/test_em_web.py.
        Permission.MANAGE_EM_PLAN,
        Permission.COLLECT_EM_SAMPLES,
        Permission.RECORD_EM_RESULTS,
        Permission.ASSESS_EM_IMPACT,
        # The clinical-trial gateway: tests/integration/gateway/test_gateway_permissions.py.
        Permission.TRIAGE_INQUIRIES,
        Permission.FOLLOW_OWN_INQUIRIES,
        Permission.MANAGE_TRIALS,
        # Read by every gateway route for every role: tests/web/test_gateway_isolation.py.
        Permission.VIEW_INQUIRIES,
        # Quality control: every write for every role in tests/integration/qc/test_qc_permissions.py
        # (acknowledging a notice: tests/web/test_qc_web.py).
        Permission.AUTHOR_SPECIFICATION,
        Permission.APPROVE_SPECIFICATION,
        Permission.TAKE_SAMPLE,
        Permission.ENTER_RESULT,
        Permission.REVIEW_RESULT,
        Permission.INVESTIGATE_OOS,
        Permission.INVALIDATE_RESULT,
        Permission.CONCLUDE_OOS,
        Permission.ACKNOWLEDGE_QC_NOTICE,
        # QP release: every route for every role in tests/web/test_release_permissions.py.
        Permission.CERTIFY_BATCH,
        Permission.REQUEST_OOS_SUPPLY,
        Permission.MANAGE_OOS_SUPPLY,
        # Translation: every route for every role in tests/web/test_translation_permissions.py;
        # experiments and cost models in tests/web/test_translation_doe_web.py.
        Permission.MANAGE_TRANSLATION,
        Permission.EDIT_TRANSLATION,
        Permission.APPROVE_TRANSLATION,
        Permission.TRANSFER_TRANSLATION,
        Permission.RUN_EXPERIMENTS,
        Permission.MODEL_COSTS,
        # Scheduling: every write for every role in
        # tests/integration/scheduling/test_scheduling_permissions.py (routes: test_scheduling_web).
        Permission.MANAGE_SCHEDULE_RESOURCES,
        Permission.PLAN_SCHEDULE,
    }
    # The rest are checked by the web layer when it shows pages (tests/web covers them).
    assert set(Permission) - checked == {
        Permission.VIEW_DASHBOARD,
        Permission.READ_AUDIT_TRAIL,
        Permission.VERIFY_AUDIT_TRAIL,
        Permission.VIEW_CUSTODY,
        Permission.VIEW_TEMPERATURES,
        Permission.VIEW_DOSES,
        Permission.TRACE_PATIENTS,
        Permission.VIEW_DEVIATIONS,
        Permission.VIEW_MATERIALS,
        Permission.VIEW_EQUIPMENT,
        Permission.VIEW_BATCHES,
        Permission.TRACE_GENEALOGY,
        Permission.VIEW_CLEANROOMS,
        Permission.VIEW_EM,
        Permission.VIEW_QC,
        Permission.VIEW_RELEASE,
        Permission.VIEW_TRANSLATION,
        Permission.VIEW_ALL_TRANSLATION,
        Permission.VIEW_SCHEDULE,
    }


def test_only_the_installation_itself_may_create_a_user_without_a_role(
    uow: UnitOfWork, trail: Trail
) -> None:
    # The first admin is created by the system actor, which holds no role at all.
    user_id = users.create_user(
        uow,
        actor=SYSTEM_ACTOR,
        username="first-admin",
        full_name="First Admin",
        roles=[Role.ADMIN],
        password="Initial-Pass-2026",
    )
    (created,) = trail.records("accounts:user:created")
    assert created.record_id == str(user_id)
    assert created.actor_id is None
    assert created.actor_username == "system"
