"""What a citizen closes and whom they let in: closures of a visit, a diagnosis group or the whole record
from clinicians outside the facility that wrote it, and read access for a named relative for a period.

A closure is honoured by the one access decision (`api.access.closed_view`), so every route that shows a
record to a clinician (the profile, the 831 and FHIR exports, FHIR reads and the patient summary) leaves
the closed parts out; linking is untouched (a closed record still links, it is only not shown). A
relative's grant lets that citizen account read the record as a relative, closures honoured, until it
expires or the citizen ends it; the citizen ends a clinician's grant by consent the same way.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request, Response, status
from fastapi import Path as PathParam
from pydantic import BaseModel, Field, model_validator

from api.access import CLOSABLE_GROUPS, adult_year, authorise_person
from api.audit import audit
from api.deps import DriverDep, SettingsDep, require
from api.messages import Refusal
from api.security import Role, User
from api.settings import Settings
from graph import PersonNotFound, default_registry, person_profile

router = APIRouter(tags=["portal"])
Citizen = Annotated[User, require(Role.CITIZEN, may_not="close or share a record")]
Scope = Literal["visit", "group", "record"]


class ClosureIn(BaseModel):
    scope: Scope
    target: str | None = Field(None, max_length=100, description="visit: its encounter id; group: "
                               + ", ".join(CLOSABLE_GROUPS) + "; record: none")
    person_id: str | None = Field(None, description="A child under 18 of the citizen's; the citizen when absent")

    @model_validator(mode="after")
    def _target_fits_scope(self) -> ClosureIn:
        if self.scope == "group" and self.target not in CLOSABLE_GROUPS:
            raise ValueError(f"target: a group is one of {', '.join(CLOSABLE_GROUPS)}")
        if self.scope == "visit" and not self.target:
            raise ValueError("target: a visit is closed by its encounter id")
        if self.scope == "record":
            self.target = None
        return self


class Closure(BaseModel):
    closure_id: str
    person_id: str
    scope: Scope
    target: str | None
    created_by: str | None
    created_at: str | None


class Closures(BaseModel):
    data: list[Closure]
    count: int
    groups: list[str] = Field(description="The diagnosis groups that can be closed")


class ClosureMade(BaseModel):
    closure_id: str


class DelegationIn(BaseModel):
    username: str = Field(pattern=r"^[A-Za-z0-9._-]{3,64}$", description="The relative's citizen account")
    days: int = Field(ge=1, le=365)
    person_id: str | None = Field(None, description="A child under 18 of the citizen's; the citizen when absent")


class Delegation(BaseModel):
    grant_id: str
    username: str
    person_id: str
    kind: str = Field("relative", description="relative: named by the citizen; consent: a clinician let in at "
                                              "the point of care")
    created_by: str | None
    created_at: str | None
    expires_at: str


class Delegations(BaseModel):
    data: list[Delegation]
    count: int


def _own(driver: Any, settings: Settings, user: User) -> list[str]:
    """The records a citizen speaks for: their own and their children's under 18."""
    assert user.person_id is not None
    children = default_registry().read(driver, "portal/minor_children", database=settings.neo4j_database,
                                       person_id=user.person_id, adult_year=adult_year())
    return [user.person_id, *(r["person_id"] for r in children)]


def _speaks_for(request: Request, driver: Any, settings: Settings, user: User, person_id: str | None) -> str:
    """The record a citizen acts on: their own, or a child's under 18 (404 for anyone else's)."""
    wanted = person_id or user.person_id or ""
    surviving = authorise_person(request, driver, settings, user, wanted)
    if surviving not in _own(driver, settings, user):  # a household's child is read, not spoken for
        raise Refusal(status.HTTP_404_NOT_FOUND, "no person {person_id} in your record or your children's",
                      person_id=wanted)
    return surviving


def _removed(request: Request, driver: Any, settings: Settings, user: User, query: str, **ids: str) -> bool:
    """Run a removal `query` (a closure, a grant) limited to the records the citizen speaks for; True, and
    audited, when it removed something."""
    rows = default_registry().write(driver, query, database=settings.neo4j_database,
                                    person_ids=_own(driver, settings, user), **ids)
    if rows:
        audit(request, settings, user, 204, user.person_id)
    return bool(rows)


@router.get("/me/closures", operation_id="my_closures", response_model=Closures, responses={403: {}})
def my_closures(request: Request, user: Citizen, driver: DriverDep, settings: SettingsDep) -> dict[str, Any]:
    """What the citizen closed, on their record and their children's."""
    rows = default_registry().read(driver, "portal/closures_of_persons", database=settings.neo4j_database,
                                   person_ids=_own(driver, settings, user))
    data = [dict(r["closure"]) | {"target": r["closure"]["target"] or None} for r in rows]
    audit(request, settings, user, 200, user.person_id)
    return {"data": data, "count": len(data), "groups": list(CLOSABLE_GROUPS)}


@router.post("/me/closures", operation_id="close_part", status_code=201, response_model=ClosureMade,
             responses={403: {}, 404: {}, 422: {}})
def close_part(body: ClosureIn, request: Request, user: Citizen, driver: DriverDep,
               settings: SettingsDep) -> dict[str, Any]:
    """Close a visit, a diagnosis group or the whole record from clinicians outside the facility that wrote
    it; closing the same thing again answers with the first closure."""
    person_id = _speaks_for(request, driver, settings, user, body.person_id)
    if body.scope == "visit":
        try:
            visits = {v["encounter_id"] for v in person_profile(driver, person_id, settings.neo4j_database)["visits"]}
        except PersonNotFound:
            visits = set()
        if body.target not in visits:
            raise Refusal(status.HTTP_404_NOT_FOUND, "no visit {visit} in this record", visit=body.target)
    rows = default_registry().write(driver, "portal/close", database=settings.neo4j_database,
                                    closure_id=f"cl-{secrets.token_hex(8)}", person_id=person_id, scope=body.scope,
                                    target=body.target, created_by=user.username)
    audit(request, settings, user, 201, person_id)
    return {"closure_id": rows[0]["closure_id"]}


@router.delete("/me/closures/{closure_id}", operation_id="reopen_part", status_code=204,
               responses={403: {}, 404: {}})
def reopen_part(closure_id: Annotated[str, PathParam(pattern=r"^cl-[0-9a-f]{16}$")], request: Request,
                user: Citizen, driver: DriverDep, settings: SettingsDep) -> Response:
    """Open again what was closed."""
    if not _removed(request, driver, settings, user, "portal/reopen", closure_id=closure_id):
        raise Refusal(status.HTTP_404_NOT_FOUND, "no closure {closure_id} of yours", closure_id=closure_id)
    return Response(status_code=204)


@router.get("/me/delegations", operation_id="my_delegations", response_model=Delegations, responses={403: {}})
def my_delegations(request: Request, user: Citizen, driver: DriverDep, settings: SettingsDep) -> dict[str, Any]:
    """Who may read the citizen's record or their children's beyond the usual, until when: relatives the
    citizen named and clinicians let in by consent."""
    rows = default_registry().read(driver, "portal/delegations", database=settings.neo4j_database,
                                   person_ids=_own(driver, settings, user))
    data = [dict(r["grant"]) for r in rows]
    audit(request, settings, user, 200, user.person_id)
    return {"data": data, "count": len(data)}


@router.post("/me/delegations", operation_id="delegate", status_code=201, response_model=Delegation,
             responses={403: {}, 404: {}})
def delegate(body: DelegationIn, request: Request, user: Citizen, driver: DriverDep,
             settings: SettingsDep) -> dict[str, Any]:
    """Let a relative's citizen account read the record (closures honoured) for a number of days."""
    person_id = _speaks_for(request, driver, settings, user, body.person_id)
    if body.username == user.username:
        raise Refusal(status.HTTP_404_NOT_FOUND, "no citizen account {username!r}", username=body.username)
    rows = default_registry().write(driver, "portal/delegate", database=settings.neo4j_database,
                                    grant_id=f"grant-{secrets.token_hex(8)}", username=body.username,
                                    person_id=person_id, days=body.days, created_by=user.username)
    if not rows:
        raise Refusal(status.HTTP_404_NOT_FOUND, "no citizen account {username!r}", username=body.username)
    audit(request, settings, user, 201, person_id)
    return {"grant_id": rows[0]["grant_id"], "username": body.username, "person_id": person_id, "kind": "relative",
            "created_by": user.username, "created_at": None, "expires_at": rows[0]["expires_at"]}


@router.delete("/me/delegations/{grant_id}", operation_id="end_delegation", status_code=204,
               responses={403: {}, 404: {}})
def end_delegation(grant_id: Annotated[str, PathParam(pattern=r"^grant-[0-9a-f]{16}$")], request: Request,
                   user: Citizen, driver: DriverDep, settings: SettingsDep) -> Response:
    """End a relative's or a consenting clinician's access before it expires."""
    if not _removed(request, driver, settings, user, "portal/revoke_delegation", grant_id=grant_id):
        raise Refusal(status.HTTP_404_NOT_FOUND, "no delegation {grant_id} of yours", grant_id=grant_id)
    return Response(status_code=204)
