"""The OpenAPI document tells the truth about error answers; a 405 says what is allowed."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from tests.conftest import Persona
from tests.web.conftest import web_login

from atmpchain.web.errors import ErrorOut

ERROR_BODY = {"$ref": "#/components/schemas/ErrorOut"}


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, operations in document["paths"].items()
        if path.startswith("/api/")
        for method, operation in operations.items()
    ]


def test_every_api_operation_documents_its_error_answers_with_one_body(
    client: TestClient,
) -> None:
    document = client.get("/openapi.json").json()
    operations = _operations(document)
    assert len(operations) > 50
    for method, path, operation in operations:
        for status in ("400", "401", "403", "404", "409", "413", "422"):
            answer = operation["responses"].get(status)
            assert answer is not None, (method, path, status)
            assert answer["content"]["application/json"]["schema"] == ERROR_BODY
    schema = document["components"]["schemas"]["ErrorOut"]
    assert schema["properties"]["detail"]["type"] == "string"
    assert schema["properties"]["errors"]["type"] == "array"
    # FastAPI's own 422 body (detail: array) is never sent, so it is not documented either.
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_a_422_answer_has_the_documented_body_naming_each_field_and_rule(
    client: TestClient, qa: Persona
) -> None:
    csrf = web_login(client, "qa", qa.password)
    response = client.post(
        "/api/custody/sites", json={"code": "", "extra": 1}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 422
    body = ErrorOut.model_validate(response.json())
    assert isinstance(response.json()["detail"], str)
    assert {p.field for p in body.errors} == {"code", "name", "extra"}
    assert all(p.rule for p in body.errors) and body.error == "InvalidRequest"


def test_401_403_404_and_409_answers_have_the_documented_body(
    client: TestClient, qa: Persona
) -> None:
    assert ErrorOut.model_validate(client.get("/api/me").json()).error == "NotAuthenticated"
    csrf = web_login(client, "qa", qa.password)
    headers = {"X-CSRF-Token": csrf}
    forbidden = client.post("/api/users/1/tokens", json={"name": "probe"}, headers=headers)
    assert forbidden.status_code == 403
    assert ErrorOut.model_validate(forbidden.json()).error == "PermissionDenied"
    missing = client.get("/api/custody/units/999")
    assert missing.status_code == 404 and ErrorOut.model_validate(missing.json())
    site = {"code": "HOSP", "name": "Hospital"}
    assert client.post("/api/custody/sites", json=site, headers=headers).status_code == 201
    again = client.post("/api/custody/sites", json=site, headers=headers)
    assert again.status_code == 409 and ErrorOut.model_validate(again.json()).field == "code"


def test_a_405_names_every_method_the_path_accepts(client: TestClient, qa: Persona) -> None:
    # /login is two routes (GET and POST): Starlette alone would name only the first.
    wrong = client.put("/login")
    assert wrong.status_code == 405 and wrong.headers["allow"] == "GET, POST"
    web_login(client, "qa", qa.password)
    api = client.get("/api/custody/sites")
    assert api.status_code == 405 and api.headers["allow"] == "POST"
    body = ErrorOut.model_validate(api.json())
    assert "use POST" in body.detail
