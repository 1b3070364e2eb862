"""The API starts against the real Neo4j, applies migrations and reports readiness."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from neo4j import Driver

from api.app import create_app
from api.settings import Settings
from graph import ConflictError, GraphError, Neo4jNotRunning, OperationError, QueryParameterError, open_driver
from graph.server import find_free_port


def test_health_and_ready(graph: Driver, settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").json() == {"status": "ok"}
        ready = client.get("/ready")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "neo4j": True, "pending": []}
        assert client.get("/openapi.json").json()["paths"]["/ready"]["get"]["operationId"] == "ready"


def test_neo4j_unreachable_answers_503_and_recovers(graph: Driver, settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        live = client.app.state.driver  # type: ignore[attr-defined]
        dead = open_driver(f"bolt://127.0.0.1:{find_free_port()}", "neo4j", "x", connection_timeout=1,
                           retry_seconds=1)
        try:
            client.app.state.driver = dead  # type: ignore[attr-defined]
            assert client.get("/ready").status_code == 503
            token = client.post("/auth/token", data={"username": "nobody", "password": "whatever pw"})
            assert token.status_code == 503
            assert token.json()["code"] == "graph_unavailable" and token.headers["Retry-After"] == "5"
        finally:
            client.app.state.driver = live  # type: ignore[attr-defined]
            dead.close()
        assert client.get("/ready").status_code == 200


@pytest.mark.parametrize(("error", "status", "code"), [
    (Neo4jNotRunning("Neo4j is not running"), 503, "graph_unavailable"),
    (ConflictError("person HS1 changed"), 409, "conflict"),
    (OperationError("record r1 is not on person HS1"), 422, "invalid_operation"),
    (QueryParameterError("query x takes ['a'], was given []"), 500, "internal_error"),
])
def test_graph_errors_answer_by_their_kind(graph: Driver, settings: Settings, error: GraphError, status: int,
                                           code: str) -> None:
    app = create_app(settings)

    def fail() -> None:
        raise error

    app.add_api_route("/test-only/fail", fail)
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/test-only/fail")
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == code
    assert ("Retry-After" in answer.headers) is (status == 503)
    if status == 500:  # HoSo's own fault: nothing of its internals in the answer
        assert "query" not in answer.json()["detail"]


def test_errors_are_said_in_vietnamese_unless_english_is_asked_for(graph: Driver, settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        bare = client.get("/persons/HS2WYNSFH8JJB")
        assert bare.status_code == 401 and bare.headers["content-language"] == "vi"
        assert bare.json() | {"detail": ""} == {"type": "urn:hoso:problem:unauthorized", "title": "unauthorized",
                                                "status": 401, "code": "unauthorized", "detail": ""}
        assert bare.json()["detail"] == "hãy đăng nhập: gửi mã bearer lấy từ POST /auth/token"
        english = client.get("/persons/HS2WYNSFH8JJB", headers={"Accept-Language": "en-US,en;q=0.8"})
        assert english.json()["detail"] == "sign in: send a bearer token from POST /auth/token"
        assert english.headers["content-language"] == "en"
        # Starlette's own errors and pydantic's validation, by their kind.
        assert client.get("/no-such-page").json()["detail"] == "Không tìm thấy"
        token = client.post("/auth/token", data={"username": "x"})
        assert token.status_code == 422 and token.json()["detail"] == "body.password: bắt buộc nhưng chưa có"
        # A FHIR client gets the same text in its OperationOutcome.
        fhir = client.get("/fhir/Patient/HS2WYNSFH8JJB")
        assert "hãy đăng nhập" in fhir.json()["issue"][0]["diagnostics"]
