"""The clinical-trial gateway through HTTP: an anonymous sponsor's inquiry through triage,
feasibility and acceptance into a trial; bad input and oversized uploads refused naming the
field; CSRF and the per-address throttle on the public form."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi.testclient import TestClient
from tests.gateway_data import PDF, SERVICES, inquiry_fields
from tests.web.conftest import csrf_from, web_login

from atmpchain.accounts.domain import Role
from atmpchain.clock import FixedClock
from atmpchain.db import Database
from atmpchain.gateway.domain import MAX_ATTACHMENT_BYTES, MAX_INQUIRY_BODY_BYTES, sha256_hex

_REFERENCE = re.compile(r'data-testid="reference">(INQ-\d{4}-\d{4})<')
HOUR = timedelta(minutes=61)
_LINK = re.compile(r'data-testid="status-link">([^<]+)<')


def submit(
    client: TestClient,
    fields: dict[str, str] | None = None,
    files: dict[str, tuple[str, bytes, str]] | None = None,
    services: list[str] | None = None,
    token: str | None = None,
):
    page = client.get("/inquire")
    assert page.status_code == 200
    data: dict[str, object] = {
        **(fields or inquiry_fields()),
        "services": services if services is not None else SERVICES,
        "csrf_token": token if token is not None else csrf_from(page.text),
    }
    return client.post("/inquire", data=data, files=files or {"_": ("", b"", "text/plain")})


def test_anonymous_inquiry_through_triage_and_feasibility_into_a_trial(
    client: TestClient, make_persona, db: Database
) -> None:
    coordinator = make_persona(Role.TRIAL_COORDINATOR, username="tc-ann")
    sponsor = make_persona(Role.SPONSOR_GUEST, username="sponsor-lund")

    sent = submit(client, files={"synopsis": ("synopsis.pdf", PDF, "application/pdf")})
    assert sent.status_code == 201, sent.text
    reference = _REFERENCE.search(sent.text).group(1)  # type: ignore[union-attr]
    link = _LINK.search(sent.text).group(1)  # type: ignore[union-attr]
    status = client.get(link.replace("http://127.0.0.1", ""))
    assert status.status_code == 200 and "received" in status.text
    assert sha256_hex(PDF) in status.text
    assert client.get("/inquire/status/not-the-token").status_code == 404

    token = web_login(client, coordinator.actor.username, coordinator.password)
    base = f"/gateway/inquiries/{reference}"
    assert client.get(base).status_code == 200
    for path, data in (
        ("move", {"to_state": "triage", "reason": "complete enough to triage"}),
        ("assign", {"coordinator": "tc-ann"}),
        ("invite", {"sponsor_user": "sponsor-lund"}),
        ("message", {"text": "Which vector lot will you supply?"}),
    ):
        answer = client.post(f"{base}/{path}", data={**data, "csrf_token": token})
        assert answer.status_code == 303, (path, answer.text)
    assert client.get(f"/api/gateway/inquiries/{reference}").json()["inquiry"]["state"] == (
        "questions_to_sponsor"
    )
    client.post("/logout", data={"csrf_token": token})

    token = web_login(client, sponsor.actor.username, sponsor.password)
    mine = client.get("/sponsor/inquiries")
    assert reference in mine.text
    answered = client.post(
        f"/sponsor/inquiries/{reference}/answer",
        data={"text": "Lot VL-2027-03, released", "csrf_token": token},
    )
    assert answered.status_code == 303
    assert client.get(f"/sponsor/inquiries/{reference}/documents/synopsis").content == PDF
    client.post("/logout", data={"csrf_token": token})

    token = web_login(client, coordinator.actor.username, coordinator.password)
    api = {"x-csrf-token": token}
    for target in ("feasibility", "offer", "accepted"):
        moved = client.post(
            f"/api/gateway/inquiries/{reference}/move",
            json={"to_state": target, "reason": f"on to {target}"},
            headers=api,
        )
        assert moved.status_code == 200, moved.text
        if target == "feasibility":
            verdict = client.get(f"/api/gateway/inquiries/{reference}/feasibility").json()
            keys = {c["key"]: c["rating"] for c in verdict["criteria"]}
            assert keys["authorisation"] == "green" and keys["suite_days"] == "amber"
            assert keys["ln2"] == "red", "no LN2 tank is in use in this database"
    route = client.get(f"/api/gateway/inquiries/{reference}/regulatory").json()
    assert route["route"] == "clinical_trial"
    assert route["timeline"][-1]["day"] == "2027-06-19"  # 10 + 45 + 50 + 5 = 110 days after 1 March
    made = client.post(
        "/api/gateway/trials",
        json={
            "reference": reference,
            "eu_ct_number": "2027-501234-12-00",
            "code": "LU-CART-01",
            "products": "Autologous anti-CD19 CAR-T cells",
        },
        headers=api,
    )
    assert made.status_code == 201, made.text
    trials = client.get("/api/gateway/trials").json()
    assert [t["eu_ct_number"] for t in trials] == ["2027-501234-12-00"]
    assert "2027-501234-12-00" in client.get("/gateway/trials").text
    csv = client.get("/gateway/pipeline.csv")
    assert csv.headers["content-type"].startswith("text/csv") and reference in csv.text
    assert client.get("/api/gateway/pipeline").json()["acceptance_rate"] == 1.0

    with db.read_session() as session:
        from sqlalchemy import text

        actions = [
            row[0]
            for row in session.execute(
                text("SELECT action FROM audit_record WHERE record_id = :r ORDER BY seq"),
                {"r": reference},
            )
        ]
    assert actions[0] == "gateway:inquiry:submitted"
    assert actions.count("gateway:inquiry:moved") == 5
    assert "gateway:inquiry:sponsor-invited" in actions


def test_bad_input_is_refused_naming_the_field(client: TestClient, clock: FixedClock) -> None:
    for field, value, words in (
        ("contact_email", "not-an-address", "contact e-mail"),
        ("patients", "0", "number of patients"),
        ("product_class", "magic", "product class"),
        ("sponsor_name", "", "sponsor (organisation) is required"),
        ("planned_submission", "0001-01-01", "planned_submission"),
    ):
        clock.advance(HOUR)  # a fresh throttle window for each attempt
        answer = submit(client, inquiry_fields(**{field: value}))
        assert answer.status_code == 422, (field, answer.text)
        assert words in answer.text, (field, answer.text)
        assert f'id="f-{field}"' in answer.text and 'aria-invalid="true"' in answer.text
    clock.advance(HOUR)
    none = submit(client, services=[])
    assert none.status_code == 422 and "services requested" in none.text


def test_uploads_refused_by_type_and_size_naming_the_field(client: TestClient) -> None:
    exe = submit(client, files={"synopsis": ("synopsis.pdf", b"MZ\x90\x00", "application/pdf")})
    assert exe.status_code == 422 and "synopsis" in exe.text and "not a PDF" in exe.text
    big = b"%PDF-" + b"0" * MAX_ATTACHMENT_BYTES
    oversized = submit(client, files={"impd_summary": ("impd.pdf", big, "application/pdf")})
    assert oversized.status_code == 422 and "impd summary" in oversized.text
    huge = b"%PDF-" + b"0" * MAX_INQUIRY_BODY_BYTES
    refused = client.post(
        "/inquire",
        files={"synopsis": ("s.pdf", huge, "application/pdf")},
        headers={"accept": "application/json"},
    )
    assert refused.status_code == 413
    assert refused.json()["field"] == "attachments"


def test_public_form_needs_its_csrf_token_and_is_throttled(client: TestClient) -> None:
    assert submit(client, token="forged").status_code == 403
    answers = [submit(client) for _ in range(6)]
    # Five uses of the form an hour from one address, then a pause that says when to return.
    assert [a.status_code for a in answers] == [201] * 5 + [429]
    assert int(answers[-1].headers["retry-after"]) > 0
    assert "too many inquiries" in answers[-1].text


def test_the_public_form_reaches_nothing_else(client: TestClient) -> None:
    page = client.get("/inquire")
    token = csrf_from(page.text)
    # Its CSRF cookie is scoped to the form: other writes stay refused for the anonymous caller.
    for path in ("/gateway/inquiries/INQ-2026-0001/move", "/api/gateway/trials", "/logout"):
        assert client.post(path, data={"csrf_token": token}).status_code == 401, path
