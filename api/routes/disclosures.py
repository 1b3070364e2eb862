"""Who read my record: a citizen sees every disclosure of their record and their children's, from the
audit trail, and flags one they did not expect; the flag is a task for the data protection officer (an
admin), who closes it as justified or as a breach. An admin account with a province is that province's officer
and sees the flags of its persons only; one without a province sees them all.

A disclosure is a successful read by anyone but the citizen themselves: when, the account, its role and
facility, and the route in words (a profile read, a search or a match that found the person, an export,
a FHIR read, the reviewers' desk, a station's work list, the change feed, consent at the point of care,
a break-the-glass read). The trail holds persons only
as keyed hashes, so the citizen's persons are hashed and looked up.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, status
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from api.access import adult_year, audit_disclosures
from api.audit import audit, person_hash
from api.deps import DriverDep, SettingsDep, require
from api.messages import Refusal
from api.security import Role, User
from api.settings import Settings
from graph import default_registry

router = APIRouter(tags=["portal"])
Citizen = Annotated[User, require(Role.CITIZEN, may_not="read a citizen's access log")]
Officer = Annotated[User, require(Role.ADMIN, may_not="look into flagged accesses")]
Route = Literal["profile", "search", "match", "export", "fhir", "review", "work_list", "change_feed", "consent",
                "emergency", "other"]
# Route templates by what they disclose, most specific first.
ROUTES: list[tuple[str, Route]] = [
    ("/persons/{person_id}/export", "export"), ("/fhir/Patient/{person_id}/$summary", "export"),
    ("/fhir/Patient/$match", "match"), ("/match", "match"), ("/fhir/", "fhir"),
    ("/persons/{person_id}/history", "review"), ("/persons/{person_id}/cluster", "review"),
    ("/persons/{person_id}/split", "review"), ("/review/", "review"), ("/persons/{person_id}", "profile"),
    ("/persons", "search"), ("/stations/", "work_list"), ("/events", "change_feed"), ("/consent", "consent"),
    ("/emergency", "emergency"), ("/audit", "other"),
]


def route_kind(endpoint: str | None) -> Route:
    for prefix, kind in ROUTES:
        if (endpoint or "").startswith(prefix):
            return kind
    return "other"


class Disclosure(BaseModel):
    entry_id: str
    at: str
    person_id: str = Field(description="Whose record: the citizen's own or one of their children's")
    username: str
    role: str
    facility: str | None
    facility_name: str | None
    route: Route
    endpoint: str
    flag: str | None = Field(None, description="open, justified or breach once flagged")
    finding: str | None = Field(None, description="The officer's reason, once the flag is closed")


class Disclosures(BaseModel):
    data: list[Disclosure]
    count: int
    persons: dict[str, str | None] = Field(description="The persons whose disclosures are listed, with names")


class FlagIn(BaseModel):
    note: str = Field(default="", max_length=500, description="What was unexpected, in the citizen's words")


class FlagRaised(BaseModel):
    flag_id: str
    status: str


class Flag(BaseModel):
    flag_id: str
    kind: str | None = Field(None, description="break_glass for an emergency read; none for a citizen's flag")
    entry_id: str | None
    note: str | None
    flagged_by: str
    username: str | None
    role: str | None
    facility: str | None
    facility_name: str | None
    endpoint: str | None
    province: str | None = Field(None, description="A break-the-glass read: the person's province")
    created_at: str | None
    accessed_at: str | None


class Flags(BaseModel):
    data: list[Flag]
    count: int


class FindingIn(BaseModel):
    finding: Literal["justified", "breach"]
    reason: str = Field(min_length=5, max_length=1000, description="What the officer found, as the citizen is told")


def _persons(driver: Any, settings: Settings, user: User) -> dict[str, str | None]:
    """The citizen's person and the children under 18 they read, by person id, with names."""
    assert user.person_id is not None  # a citizen account always has its person
    children = default_registry().read(driver, "portal/minor_children", database=settings.neo4j_database,
                                       person_id=user.person_id, adult_year=adult_year())
    return {user.person_id: None, **{r["person_id"]: r["name"] for r in children}}


@router.get("/me/disclosures", operation_id="my_disclosures", response_model=Disclosures, responses={403: {}})
def my_disclosures(request: Request, user: Citizen, driver: DriverDep, settings: SettingsDep,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> dict[str, Any]:
    """Every read of the citizen's record and their children's by anyone else, newest first."""
    request.app.state.audit.flush()  # this process's latest entries; other processes ship theirs within seconds
    persons = _persons(driver, settings, user)
    by_hash = {person_hash(p, settings): p for p in persons}
    rows = default_registry().read(driver, "portal/disclosures", database=settings.neo4j_database,
                                   hashes=list(by_hash), viewer=user.username, limit=limit)
    flags = {r["entry_id"]: r for r in default_registry().read(driver, "portal/my_flags",
                                                               database=settings.neo4j_database,
                                                               flagged_by=user.username)}
    data = []
    for row in rows:
        entry = row["entry"]
        flag = flags.get(entry["id"])
        data.append({"entry_id": entry["id"], "at": entry["at"], "person_id": by_hash[entry["person_hash"]],
                     "username": entry["username"], "role": entry["role"], "facility": entry.get("facility"),
                     "facility_name": entry.get("facility_name"), "route": route_kind(entry["endpoint"]),
                     "endpoint": entry["endpoint"], "flag": flag["status"] if flag else None,
                     "finding": flag["reason"] if flag else None})
    audit_disclosures(request, settings, user, persons)  # the log is about these persons: on the trail too
    return {"data": data, "count": len(data), "persons": persons}


@router.post("/me/disclosures/{entry_id}/flag", operation_id="flag_disclosure", status_code=201,
             response_model=FlagRaised, responses={403: {}, 404: {}})
def flag_disclosure(entry_id: Annotated[str, PathParam(pattern=r"^[0-9a-f]{32}$")], body: FlagIn, request: Request,
                    user: Citizen, driver: DriverDep, settings: SettingsDep) -> dict[str, Any]:
    """Flag a read of one's record (or one's child's) as unexpected: a task for the data protection
    officer. Flagging the same read again answers with the first flag."""
    persons = list(_persons(driver, settings, user))
    hashes = [person_hash(p, settings) for p in persons]
    provinces = {person_hash(r["person_id"], settings): r["province"] for r in default_registry().read(
        driver, "persons/provinces", database=settings.neo4j_database, ids=persons)}
    flag_id = f"flag-{datetime.now(UTC):%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
    rows = default_registry().write(driver, "portal/flag_access", database=settings.neo4j_database,
                                    entry_id=entry_id, hashes=hashes, provinces=provinces, flag_id=flag_id,
                                    note=body.note.strip(),
                                    flagged_by=user.username)
    if not rows:
        raise Refusal(status.HTTP_404_NOT_FOUND, "no access {entry_id} to your record or your children's",
                      entry_id=entry_id)
    audit(request, settings, user, 201, user.person_id)
    return {"flag_id": rows[0]["flag_id"], "status": rows[0]["status"]}


@router.get("/tasks/access-flags", operation_id="open_access_flags", response_model=Flags, responses={403: {}})
def open_access_flags(request: Request, user: Officer, driver: DriverDep, settings: SettingsDep,
                      limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """Accesses citizens flagged as unexpected, and break-the-glass reads, that nobody has looked into yet,
    oldest first: those of the officer's province when the account has one, else all."""
    rows = [dict(r["flag"]) for r in default_registry().read(driver, "portal/open_flags",
                                                             database=settings.neo4j_database, limit=limit,
                                                             province=user.province)]
    audit(request, settings, user, 200)
    return {"data": rows, "count": len(rows)}


@router.post("/tasks/access-flags/{flag_id}/finding", operation_id="close_access_flag", response_model=FlagRaised,
             responses={403: {}, 404: {}})
def close_access_flag(flag_id: Annotated[str, PathParam(pattern=r"^flag-\d{14}-[0-9a-f]{6}$")], body: FindingIn,
                      request: Request, user: Officer, driver: DriverDep, settings: SettingsDep) -> dict[str, Any]:
    """Close a flag: the access was justified, or it was a breach; the citizen sees the finding."""
    rows = default_registry().write(driver, "portal/close_flag", database=settings.neo4j_database, flag_id=flag_id,
                                    finding=body.finding, reason=body.reason, actor=user.username,
                                    province=user.province)
    if not rows:
        raise Refusal(status.HTTP_404_NOT_FOUND, "no open flag {flag_id}", flag_id=flag_id)
    audit(request, settings, user, 200)
    return {"flag_id": flag_id, "status": body.finding}
