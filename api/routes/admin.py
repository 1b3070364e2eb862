"""Administration: the audit trail, for admins only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from api.audit import audit, person_hash
from api.deps import DriverDep, SettingsDep, require
from api.security import Role, User
from graph import default_registry
from linkage import PERSON_ID_PATTERN

router = APIRouter(prefix="/audit", tags=["admin"])

Auditor = Annotated[User, require(Role.ADMIN, may_not="read the audit trail")]


class AuditEntry(BaseModel):
    """One disclosure or refusal: who, as what, which endpoint, the answer, and the person's keyed hash."""

    id: str | None = None
    username: str | None = None
    role: str | None = None
    facility: str | None = None
    method: str | None = None
    endpoint: str | None = None
    status: int | None = None
    person_hash: str | None = None
    client: str | None = None
    at: str | None = None


class AuditPage(BaseModel):
    data: list[AuditEntry]
    count: int


@router.get("", operation_id="read_audit", response_model=AuditPage, responses={403: {}})
def read_audit(request: Request, user: Auditor, driver: DriverDep, settings: SettingsDep,
               person_id: Annotated[str | None, Query(pattern=PERSON_ID_PATTERN)] = None,
               username: Annotated[str | None, Query(max_length=100)] = None,
               limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """Audit entries, newest first; `person_id` is matched through its keyed hash."""
    request.app.state.audit.flush()  # this process's latest entries; other processes ship theirs within seconds
    rows = default_registry().read(driver, "audit/query", database=settings.neo4j_database,
                                   person_hash=person_hash(person_id, settings) if person_id else None,
                                   username=username, limit=limit)
    entries = [dict(r["entry"]) for r in rows]
    audit(request, settings, user, 200, person_id)  # who read whose trail is on the trail too
    return {"data": entries, "count": len(entries)}
