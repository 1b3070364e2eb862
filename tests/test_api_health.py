"""The API starts against the real Neo4j, applies migrations and reports readiness."""

from __future__ import annotations

from fastapi.testclient import TestClient
from neo4j import Driver

from api.app import create_app
from api.settings import Settings


def test_health_and_ready(graph: Driver, settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").json() == {"status": "ok"}
        ready = client.get("/ready")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "neo4j": True, "pending": []}
        assert client.get("/openapi.json").json()["paths"]["/ready"]["get"]["operationId"] == "ready"
