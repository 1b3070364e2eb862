"""The audit trail: every read of a person's record and every decision, refused ones included.

Entries name the account, role, endpoint (its route template, never the concrete URL), status and
client; the person appears only as a keyed hash (HMAC-SHA256 with the signing key), so the log can
be searched by person without holding ids in clear.
"""

from __future__ import annotations

import hashlib
import hmac

from fastapi import Request
from neo4j import Driver

from api.security import User, signing_key
from api.settings import Settings
from graph.queries import default_registry


def person_hash(person_id: str, settings: Settings) -> str:
    return hmac.new(signing_key(settings).encode(), person_id.encode(), hashlib.sha256).hexdigest()[:32]


def audit(request: Request, driver: Driver, settings: Settings, user: User, status: int,
          person_id: str | None = None) -> None:
    route = request.scope.get("route")
    endpoint = getattr(route, "path", "?")
    default_registry().write(
        driver, "audit/record", database=settings.neo4j_database, username=user.username, role=user.role.value,
        method=request.method, endpoint=endpoint, status=status,
        person_hash=person_hash(person_id, settings) if person_id else None,
        client=request.client.host if request.client else None)
