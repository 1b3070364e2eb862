"""The change feed for connected systems: every change of persons, numbered, oldest first.

A system stores the number of the last event it applied and asks for the events after it; replaying
`record_linked` events from 0 gives each record's person as it stands now, and `person_merged` tells
which ids now resolve to another (as FHIR Patient `link` replaced-by does on a read). Events name ids
only; a clinician's account (a facility's system) reads the events of its province's persons. An admin
registers webhooks, to which `api.webhooks` posts the same events.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from fastapi import Path as PathParam
from pydantic import AnyHttpUrl, BaseModel, Field

from api.access import audit_disclosures
from api.audit import audit
from api.deps import DriverDep, SettingsDep, require
from api.messages import Refusal
from api.security import Role, User
from graph import default_registry, feed_after, last_event

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
        raise Refusal(status.HTTP_403_FORBIDDEN, "the change feed is read by an account with a province")
    last = last_event(driver, settings.neo4j_database)
    events = [Event(**e) for e in feed_after(driver, after, limit, user.province, settings.neo4j_database)]
    audit_disclosures(request, settings, user, [p for e in events for p in (e.person_id, e.other_person_id) if p])
    return Events(data=events, last=last, next_after=events[-1].seq if events else after)


# -- webhooks ----------------------------------------------------------------------------------------
Admin = Annotated[User, require(Role.ADMIN, may_not="manage webhooks")]


class WebhookIn(BaseModel):
    url: AnyHttpUrl = Field(description="Where the events are posted (http or https)")
    province: str = Field(pattern=r"^\d{2}$", description="The province whose persons' events it receives")
    after: int | None = Field(default=None, ge=0, le=2**62, description="Start after this event (0: from the first); "
                                                              "by default, from the newest")


class Webhook(BaseModel):
    webhook_id: str
    url: str
    province: str
    after: int = Field(description="The last event delivered")
    failures: int = Field(description="Failed deliveries in a row")
    last_error: str | None = None
    created_at: str | None = None
    delivered_at: str | None = None


class NewWebhook(Webhook):
    secret: str = Field(description="The key of the X-HoSo-Signature HMAC: shown this once")


class Webhooks(BaseModel):
    data: list[Webhook]
    count: int


@router.post("/webhooks", operation_id="add_webhook", response_model=NewWebhook, status_code=201,
             responses={403: {}})
def add_webhook(body: WebhookIn, request: Request, user: Admin, driver: DriverDep,
                settings: SettingsDep) -> NewWebhook:
    """Register a connected system's address: the events of its province are posted to it, signed with
    the secret this answer holds (and no other will)."""
    secret = secrets.token_urlsafe(32)
    after = body.after if body.after is not None else last_event(driver, settings.neo4j_database)
    row = default_registry().write(driver, "webhooks/add", database=settings.neo4j_database,
                                   webhook_id=f"wh-{uuid.uuid4()}", url=str(body.url), province=body.province,
                                   secret=secret, after=after, created_by=user.username)[0]
    audit(request, settings, user, 201)
    return NewWebhook(**row["webhook"], secret=secret)


@router.get("/webhooks", operation_id="list_webhooks", response_model=Webhooks, responses={403: {}})
def list_webhooks(request: Request, user: Admin, driver: DriverDep, settings: SettingsDep) -> Webhooks:
    """The webhooks with their cursors and delivery state."""
    rows = default_registry().read(driver, "webhooks/list", database=settings.neo4j_database)
    audit(request, settings, user, 200)
    return Webhooks(data=[Webhook(**r["webhook"]) for r in rows], count=len(rows))


@router.delete("/webhooks/{webhook_id}", operation_id="remove_webhook", status_code=204,
               responses={403: {}, 404: {}})
def remove_webhook(webhook_id: Annotated[str, PathParam(pattern=r"^wh-[0-9a-f-]{36}$")], request: Request,
                   user: Admin, driver: DriverDep, settings: SettingsDep) -> Response:
    """Stop posting to a webhook."""
    removed = default_registry().write(driver, "webhooks/remove", database=settings.neo4j_database,
                                       webhook_id=webhook_id)[0]["removed"]
    audit(request, settings, user, 204 if removed else 404)
    if not removed:
        raise Refusal(status.HTTP_404_NOT_FOUND, "no webhook {webhook_id}", webhook_id=webhook_id)
    return Response(status_code=204)
