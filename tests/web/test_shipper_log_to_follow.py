"""Receipt with the shipper's log "to follow" (issue 10 item 11): the dose waits on QA's hold
(a custody hold on its bag) until the log is attached, by a person or by the logger's own upload
with its API token."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.integration.hospital import conftest as hospital
from tests.integration.hospital.conftest import (
    CLEAN_LOG,
    PASSWORD,
    WARM_LOG,
    Staff,
    manufactured,
)
from tests.web.conftest import csrf_from, web_login

from atmpchain.accounts import tokens
from atmpchain.accounts.domain import Role
from atmpchain.custody import control
from atmpchain.custody.control_rules import HoldKind
from atmpchain.errors import Conflict, InvalidInput
from atmpchain.hospital import queries, receipt
from atmpchain.hospital.domain import DoseStatus
from atmpchain.uow import UnitOfWork

approved_catalogue = hospital.approved_catalogue
order = hospital.order
staff = hospital.staff


def _received_to_follow(
    uow: UnitOfWork, by: Persona, order: Callable[..., int], sequence: int = 61
) -> int:
    bag = manufactured(sequence)
    dose_id = order(hours=30, expected_din=bag.manual)
    receipt.receive_dose(
        uow,
        actor=by.actor,
        dose_id=dose_id,
        unit_scan=bag.scan,
        batch_number="LOT-9",
        from_party="World Courier",
        shipper_log=None,
        shipper_log_name="",
        log_to_follow=True,
        condition_ok=True,
        password=by.password,
    )
    return dose_id


def _holds(uow: UnitOfWork, dose_id: int) -> tuple[str | None, list[str]]:
    with uow.db.read_session() as session:
        line = queries.dose_record(session, dose_id).line
        held = [h.kind.value for h in line.holds]
    return line.hold, held


@pytest.fixture
def logger_token(uow: UnitOfWork, make_persona: Callable[..., Persona]) -> dict[str, str]:
    """The shipper's data logger (its uploader): a device account with an API token."""
    device = make_persona(Role.DEVICE, username="shipper-logger")
    admin = make_persona(Role.ADMIN, username="ada")
    new = tokens.create_api_token(uow, actor=admin.actor, user_id=device.actor.user_id, name="l")
    return {"Authorization": f"Bearer {new.token}", "Content-Type": "text/csv"}


def test_a_receipt_with_the_log_to_follow_holds_the_dose_for_qa_until_it_comes(
    uow: UnitOfWork, staff: Staff, order: Callable[..., int]
) -> None:
    dose_id = _received_to_follow(uow, staff.pharmacist, order)
    hold, kinds = _holds(uow, dose_id)
    assert hold == receipt.LOG_TO_FOLLOW and kinds == [HoldKind.QA_HOLD.value]
    # QA cannot release the product on a log nobody has seen.
    with pytest.raises(Conflict, match="still to follow"):
        receipt.decide_hold(
            uow,
            actor=staff.qa.actor,
            dose_id=dose_id,
            release=True,
            rationale="looks fine",
            password=PASSWORD,
        )
    summary = receipt.attach_shipper_log(
        uow, actor=staff.second_pharmacist.actor, dose_id=dose_id, text=CLEAN_LOG, filename="s.csv"
    )
    assert summary.clean
    assert _holds(uow, dose_id) == (None, [])
    with pytest.raises(Conflict, match="already has its shipper's log"):
        receipt.attach_shipper_log(
            uow, actor=staff.pharmacist.actor, dose_id=dose_id, text=CLEAN_LOG, filename="s.csv"
        )


def test_a_receipt_without_a_log_and_not_marked_to_follow_is_refused(
    uow: UnitOfWork, staff: Staff, order: Callable[..., int]
) -> None:
    bag = manufactured(62)
    dose_id = order(hours=30, expected_din=bag.manual)
    with pytest.raises(InvalidInput, match="to follow") as refused:
        receipt.receive_dose(
            uow,
            actor=staff.pharmacist.actor,
            dose_id=dose_id,
            unit_scan=bag.scan,
            batch_number="LOT-9",
            from_party="World Courier",
            shipper_log="",
            shipper_log_name="",
            condition_ok=True,
            password=PASSWORD,
        )
    assert refused.value.field == "shipper_log"


def test_the_logger_posts_its_own_log_with_its_token_and_a_clean_log_ends_the_hold(
    client: TestClient,
    uow: UnitOfWork,
    staff: Staff,
    order: Callable[..., int],
    logger_token: dict[str, str],
) -> None:
    dose_id = _received_to_follow(uow, staff.pharmacist, order)
    url = f"/api/hospital/doses/{dose_id}/shipper-log?filename=logger-77.csv"
    response = client.post(url, content=CLEAN_LOG.encode(), headers=logger_token)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["readings"] == 14 and body["out_of_range"] == 0 and body["on_hold"] is False
    assert _holds(uow, dose_id) == (None, [])
    with uow.db.read_session() as session:
        record = queries.dose_record(session, dose_id)
        assert [log.filename for log in record.shipper_logs] == ["logger-77.csv"]
        assert control.open_holds(session) == []
    again = client.post(url, content=CLEAN_LOG.encode(), headers=logger_token)
    assert again.status_code == 409 and again.json()["field"] == "shipper_log"


def test_a_log_with_findings_keeps_the_dose_on_hold_for_qa(
    client: TestClient,
    uow: UnitOfWork,
    staff: Staff,
    order: Callable[..., int],
    logger_token: dict[str, str],
) -> None:
    dose_id = _received_to_follow(uow, staff.pharmacist, order)
    response = client.post(
        f"/api/hospital/doses/{dose_id}/shipper-log", content=WARM_LOG, headers=logger_token
    )
    assert response.status_code == 201 and response.json()["on_hold"] is True
    hold, kinds = _holds(uow, dose_id)
    assert hold is not None and "outside the storage range" in hold
    assert receipt.LOG_TO_FOLLOW not in hold and kinds == [HoldKind.QA_HOLD.value]


def test_without_a_token_or_with_a_role_that_does_not_handle_doses_the_upload_is_refused(
    client: TestClient, uow: UnitOfWork, staff: Staff, order: Callable[..., int]
) -> None:
    dose_id = _received_to_follow(uow, staff.pharmacist, order)
    url = f"/api/hospital/doses/{dose_id}/shipper-log"
    assert client.post(url, content=CLEAN_LOG).status_code == 401
    with pytest.raises(Exception, match="may not do this"):
        receipt.attach_shipper_log(
            uow, actor=staff.nurse.actor, dose_id=dose_id, text=CLEAN_LOG, filename="x.csv"
        )
    assert _holds(uow, dose_id)[0] == receipt.LOG_TO_FOLLOW


def test_a_technician_receives_on_the_page_with_the_log_to_follow_then_attaches_it(
    client: TestClient,
    uow: UnitOfWork,
    staff: Staff,
    order: Callable[..., int],
    make_persona: Callable[..., Persona],
) -> None:
    technician = make_persona(Role.PHARMACY_TECHNICIAN, username="tess")
    bag = manufactured(63)
    dose_id = order(hours=30, expected_din=bag.manual)
    web_login(client, "tess", technician.password)
    page = client.get(f"/hospital/doses/{dose_id}").text
    assert 'data-testid="log-to-follow"' in page
    response = client.post(
        f"/hospital/doses/{dose_id}/steps/receive",
        data={
            "csrf_token": csrf_from(page),
            "unit_scan": bag.scan,
            "batch_number": "LOT-9",
            "from_party": "World Courier",
            "condition": "ok",
            "log_to_follow": "yes",
            "password": technician.password,
        },
    )
    assert response.status_code == 303, response.text
    page = client.get(f"/hospital/doses/{dose_id}").text
    assert 'data-testid="log-to-follow-panel"' in page
    assert 'data-testid="form-shipper-log"' in page
    response = client.post(
        f"/hospital/doses/{dose_id}/shipper-log",
        data={"csrf_token": csrf_from(page)},
        files={"shipper_log": ("shipper.csv", CLEAN_LOG.encode(), "text/csv")},
    )
    assert response.status_code == 303, response.text
    with uow.db.read_session() as session:
        record = queries.dose_record(session, dose_id)
    assert record.line.status is DoseStatus.RECEIVED and record.line.hold is None
    assert 'data-testid="log-to-follow-panel"' not in client.get(f"/hospital/doses/{dose_id}").text
