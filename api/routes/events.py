"""The change feed for connected systems: every change of persons, numbered, oldest first.

A system stores the number of the last event it applied and asks for the events after it; replaying
`record_linked` events from 0 gives each record's person as it stands now, and `person_merged` tells
which ids now resolve to another (as FHIR Patient `link` replaced-by does on a read). Events name ids
only; a clinician's account (a facility's system) reads the events of its province's persons.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel, Field

from api.access import audit_disclosures
from api.audit import audit
from api.deps import DriverDep, SettingsDep, require
from api.security import Role, User
from graph import feed_after, last_event

router = APIRouter(tags=["events"])
Follower = Annotated[User, require(Role.CLINICIAN, may_not="follow the change feed")]


class Event(BaseModel):
    seq: int = Field(description="The event's number: ask for the events after the last one applied")
    type: Literal["person_created", "record_linked", "person_merged", "person_restored", "golden_changed"]
    person_id: str
    other_person_id: str | None = Field(default=None, description="record_linked: the person the record left; "
                                                                  "person_merged: the surviving person")
    uid: str | None = Field(default=None, description="record_linked: the record")
    at: str


class Events(BaseModel):
    data: list[Event]
    last: int = Field(description="The number of the newest event there is")
    next_after: int = Field(description="The `after` of the next page")


@router.get("/events", operation_id="read_change_feed", response_model=Events, responses={403: {}})
def read_events(request: Request, user: Follower, driver: DriverDep, settings: SettingsDep,
                after: Annotated[int, Query(ge=0, le=2**62)] = 0,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Events:
    """The events numbered after `after`, oldest first (of the account's province)."""
    if user.province is None:
        audit(request, settings, user, 403)
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the change feed is read by an account with a province")
    last = last_event(driver, settings.neo4j_database)
    events = [Event(**e) for e in feed_after(driver, after, limit, user.province, settings.neo4j_database)]
    audit_disclosures(request, settings, user, [p for e in events for p in (e.person_id, e.other_person_id) if p])
    return Events(data=events, last=last, next_after=events[-1].seq if events else after)
