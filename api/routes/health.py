"""Liveness and readiness."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.deps import DriverDep, SettingsDep
from graph import pending_migrations, verify

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "migrating", "unavailable"]
    neo4j: bool
    pending: list[str] = Field(default_factory=list, description="Schema migrations not applied yet")


@router.get("/health", operation_id="health", response_model=Health)
def health() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/ready", operation_id="ready", response_model=Readiness,
            responses={503: {"description": "Not ready", "model": Readiness}})
def ready(driver: DriverDep, settings: SettingsDep) -> JSONResponse:
    """Neo4j answers and every migration is applied."""
    try:
        verify(driver, settings.neo4j_database)
        pending = pending_migrations(driver, settings.neo4j_database)
    except Exception:
        return JSONResponse({"status": "unavailable", "neo4j": False}, status_code=503)
    if pending:
        return JSONResponse({"status": "migrating", "neo4j": True, "pending": pending}, status_code=503)
    return JSONResponse({"status": "ready", "neo4j": True, "pending": []})
