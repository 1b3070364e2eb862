"""What citizens do beyond reading: ask for a correction (a task for staff) and report their own health
information (a record of the citizen source, ingested and linked like any other); and the staff side."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi import Path as PathParam
from neo4j import Driver
from pydantic import BaseModel, Field, SecretStr, model_validator

from api.access import authorise_person, check_person_id
from api.audit import audit
from api.deps import CurrentUser, DriverDep, SettingsDep, require
from api.jobs import JobStore
from api.messages import Refusal
from api.security import AuthError, Role, SlidingWindow, User, add_user
from api.settings import Settings
from graph import PersonNotFound, default_registry, person_profile
from linkage import Moment, SourceKind, normalise_phone

router = APIRouter(tags=["portal"])


class CorrectionIn(BaseModel):
    field: Literal["phone", "address"]
    value: str = Field(min_length=3, max_length=300)
    note: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _a_phone_is_a_phone(self) -> CorrectionIn:
        """A new phone must be a Vietnamese number; it is kept in its 10-digit form."""
        if self.field == "phone":
            phone = normalise_phone(self.value)
            if phone is None:
                raise ValueError(f"value: {self.value[:40]!r} is not a Vietnamese phone number (as 0912345678)")
            self.value = phone
        return self


class BloodPressure(BaseModel):
    systolic: int = Field(ge=50, le=300)
    diastolic: int = Field(ge=30, le=200)
    measured_at: Moment | None = None


class SelfReportIn(BaseModel):
    smoking: bool | None = None
    allergies: list[Annotated[str, Field(min_length=2, max_length=100)]] = Field(default_factory=list, max_length=20)
    blood_pressure: BloodPressure | None = None


class CorrectionCreated(BaseModel):
    task_id: str
    status: Literal["open"]


class SelfReportQueued(BaseModel):
    job_id: str
    state: str


def _citizen(request: Request, driver: Driver, settings: Settings, user: User, person_id: str) -> None:
    check_person_id(person_id)
    if user.role is not Role.CITIZEN:
        audit(request, settings, user, 403, person_id)
        raise Refusal(status.HTTP_403_FORBIDDEN, "only the citizen (or their parent) can ask this")
    authorise_person(request, driver, settings, user, person_id)


@router.post("/persons/{person_id}/corrections", operation_id="request_correction", status_code=201,
             response_model=CorrectionCreated,
             responses={400: {}, 403: {}, 404: {}})
def request_correction(person_id: str, body: CorrectionIn, request: Request, user: CurrentUser, driver: DriverDep,
                       settings: SettingsDep) -> dict[str, Any]:
    """Ask staff to correct the phone or address of one's own record (or one's child's)."""
    _citizen(request, driver, settings, user, person_id)
    task_id = f"corr-{datetime.now(UTC):%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
    rows = default_registry().write(driver, "tasks/create_correction", database=settings.neo4j_database,
                                    task_id=task_id, person_id=person_id, field=body.field, value=body.value,
                                    note=body.note, requested_by=user.username)
    if not rows:
        raise Refusal(status.HTTP_404_NOT_FOUND, "no person {person_id}", person_id=person_id)
    audit(request, settings, user, 201, person_id)
    return {"task_id": task_id, "status": "open"}


@router.post("/persons/{person_id}/self-reports", operation_id="self_report", status_code=202,
             response_model=SelfReportQueued,
             responses={400: {}, 403: {}, 404: {}})
def self_report(person_id: str, body: SelfReportIn, request: Request, user: CurrentUser, driver: DriverDep,
                settings: SettingsDep) -> dict[str, Any]:
    """Report smoking, allergies or a blood pressure reading; it becomes a record of the citizen source,
    marked as reported by the citizen, ingested and linked by the job worker."""
    _citizen(request, driver, settings, user, person_id)
    reports: SlidingWindow = request.app.state.self_reports
    if wait := reports.wait(user.username):
        raise Refusal(status.HTTP_429_TOO_MANY_REQUESTS, "at most {limit} reports an hour: try again later",
                      limit=reports.limit, headers={"Retry-After": str(wait)})
    if body.smoking is None and not body.allergies and body.blood_pressure is None:
        raise Refusal(status.HTTP_400_BAD_REQUEST, "nothing to report: give smoking, allergies or a reading")
    try:
        profile = person_profile(driver, person_id, settings.neo4j_database)
    except PersonNotFound as exc:
        raise Refusal(status.HTTP_404_NOT_FOUND, "no person {person_id}", person_id=person_id) from exc
    now = datetime.now(UTC)
    conditions: list[dict[str, Any]] = [{"category": "allergy", "code": "other", "text": a,
                                         "recorded_on": date.today().isoformat()} for a in body.allergies]
    if body.smoking:
        conditions.append({"category": "risk_factor", "code": "smoking", "text": "self-reported",
                           "recorded_on": date.today().isoformat()})
    observations = []
    if body.blood_pressure is not None:
        when = (body.blood_pressure.measured_at or now).isoformat()
        observations = [{"code": "systolic_bp", "value": body.blood_pressure.systolic, "unit": "mm[Hg]",
                         "observed_at": when, "device": "self-reported"},
                        {"code": "diastolic_bp", "value": body.blood_pressure.diastolic, "unit": "mm[Hg]",
                         "observed_at": when, "device": "self-reported"}]
    job = _queue_citizen_record(request, settings, user, profile, f"{person_id}-{now:%Y%m%d%H%M%S%f}",
                                "hoso-portal", "self-report.jsonl",
                                {"conditions": conditions, "observations": observations})
    reports.hit(user.username)
    audit(request, settings, user, 202, person_id)
    return {"job_id": job.job_id, "state": job.state.value}


def _queue_citizen_record(request: Request, settings: Settings, user: User, profile: dict[str, Any], record_id: str,
                          system: str, filename: str, facts: dict[str, Any]) -> Any:
    """A record of the citizen source for a person, carrying the person's golden identity (so that it links
    to them) and `facts`, queued as a job that ingests and links it."""
    admin = profile["administrative"]
    identifiers = [{"kind": "personal_id", "value": admin["personal_id"]}] if admin.get("personal_id") else []
    record = {"record_id": record_id, "source_system": system, "name_as_written": admin.get("name"),
              "birth_date": admin.get("birth_date"), "birth_precision": "day" if admin.get("birth_date") else None,
              "sex": admin.get("sex"), "identifiers": identifiers, "recorded_at": datetime.now(UTC).isoformat(),
              **facts}
    line = json.dumps({k: v for k, v in record.items() if v is not None}, ensure_ascii=False).encode("utf-8")
    job = JobStore(settings.data_path).create(SourceKind.CITIZEN, filename, iter([line + b"\n"]), user.username,
                                              settings.upload_max_mb << 20)
    worker = getattr(request.app.state, "jobs", None)
    if worker is not None:
        worker.notify()
    return job


Admin = Annotated[User, require(Role.ADMIN, may_not="manage HoSo")]


class CorrectionTask(BaseModel):
    task_id: str
    field: str
    value: str
    note: str | None = None
    requested_by: str
    created_at: str | None
    person_id: str | None
    current: str | None = Field(description="The value the person's record holds now")


class CorrectionTasks(BaseModel):
    data: list[CorrectionTask]
    count: int


class Account(BaseModel):
    """An account, never its password hash; `linked_person` says whether a citizen's person is set."""

    username: str
    role: str
    facility: str | None
    province: str | None
    linked_person: bool
    active: bool | None
    created_at: str | None


class Accounts(BaseModel):
    data: list[Account]
    count: int



@router.get("/tasks/corrections", operation_id="open_corrections", response_model=CorrectionTasks,
            responses={403: {}})
def open_corrections(request: Request, user: Admin, driver: DriverDep, settings: SettingsDep,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """Open correction requests from citizens, oldest first."""
    rows = [r.data() for r in default_registry().read(driver, "tasks/open_corrections",
                                                      database=settings.neo4j_database, limit=limit)]
    audit(request, settings, user, 200)
    return {"data": rows, "count": len(rows)}


class CorrectionDecisionIn(BaseModel):
    accept: bool = Field(description="true: the record takes the value; false: the request is refused")
    reason: str = Field(min_length=5, max_length=500, description="Why, as the citizen may be told")


class CorrectionDecided(BaseModel):
    task_id: str
    status: Literal["accepted", "rejected"]
    job_id: str | None = Field(None, description="The job that brings an accepted value into the record")


@router.post("/tasks/corrections/{task_id}/decision", operation_id="decide_correction", status_code=200,
             response_model=CorrectionDecided, responses={403: {}, 404: {}, 409: {}})
def decide_correction(task_id: Annotated[str, PathParam(pattern=r"^corr-\d{14}-[0-9a-f]{6}$")],
                      body: CorrectionDecisionIn, request: Request, user: Admin, driver: DriverDep,
                      settings: SettingsDep) -> dict[str, Any]:
    """Accept or refuse a citizen's correction. An accepted value enters the record as a record of the
    citizen source (`hoso-corrections`), newest of the person's records, so the golden record takes it
    with its provenance once the job has linked it; the request keeps who decided, when and why."""
    decision = "accepted" if body.accept else "rejected"
    rows = default_registry().write(driver, "tasks/decide_correction", database=settings.neo4j_database,
                                    task_id=task_id, status=decision, actor=user.username, reason=body.reason)
    if not rows:
        known = default_registry().read(driver, "tasks/correction_status", database=settings.neo4j_database,
                                        task_id=task_id)
        if not known:
            raise Refusal(status.HTTP_404_NOT_FOUND, "no correction request {task_id}", task_id=task_id)
        raise Refusal(status.HTTP_409_CONFLICT, "the request {task_id} is {state} already", task_id=task_id,
                      state=known[0]["status"])
    field, value, person_id = rows[0]["field"], rows[0]["value"], rows[0]["person_id"]
    job_id = None
    if body.accept:
        profile = person_profile(driver, person_id, settings.neo4j_database)
        facts = {"phones": [value]} if field == "phone" else {"addresses": [{"use": "current", "text": value}]}
        job_id = _queue_citizen_record(request, settings, user, profile, f"{person_id}-{task_id}", "hoso-corrections",
                                       "correction.jsonl", facts).job_id
    audit(request, settings, user, 200, person_id)
    return {"task_id": task_id, "status": decision, "job_id": job_id}


@router.get("/users", operation_id="list_users", response_model=Accounts, responses={403: {}})
def list_users(request: Request, user: Admin, driver: DriverDep, settings: SettingsDep) -> dict[str, Any]:
    """The accounts (never their password hashes)."""
    rows = [r.data() for r in default_registry().read(driver, "users/list_users", database=settings.neo4j_database)]
    audit(request, settings, user, 200)
    return {"data": rows, "count": len(rows)}


class AccountIn(BaseModel):
    role: Role
    password: SecretStr = Field(description="At least 10 characters, 5 of them different")
    province: str | None = Field(None, pattern=r"^\d{2}$", description="Staff: the post-2025 province code")
    facility: str | None = Field(None, pattern=r"^[0-9A-Za-z]{3,10}$", description="Staff: the facility code")
    person_id: str | None = Field(None, description="Citizen: their person id")


class AccountSaved(BaseModel):
    username: str
    role: str


UserName = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9._-]{3,64}$", description="The account's name")]


@router.put("/users/{username}", operation_id="save_user", response_model=AccountSaved,
            responses={400: {}, 403: {}, 422: {}})
def save_user(username: UserName, body: AccountIn, request: Request, user: Admin, driver: DriverDep,
              settings: SettingsDep) -> dict[str, Any]:
    """Create an account, or update it (a new password, role or unit): as `hoso user add`. Tokens the
    account held before stop working."""
    try:
        add_user(driver, username, body.password.get_secret_value(), body.role, body.facility, body.province,
                 body.person_id, settings.neo4j_database)
    except AuthError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc).replace("--person-id", "person_id")
                            .replace("--province", "province")) from exc
    audit(request, settings, user, 200)
    return {"username": username, "role": body.role.value}


@router.post("/users/{username}/deactivate", operation_id="deactivate_user", response_model=AccountSaved,
             responses={403: {}, 404: {}})
def deactivate_user(username: UserName, request: Request, user: Admin, driver: DriverDep,
                    settings: SettingsDep) -> dict[str, Any]:
    """Stop an account: it cannot sign in, and its tokens stop working within seconds (as
    `hoso user deactivate`)."""
    rows = default_registry().write(driver, "users/deactivate_user", database=settings.neo4j_database,
                                    username=username)
    if not rows:
        raise Refusal(status.HTTP_404_NOT_FOUND, "no account {username!r}", username=username)
    audit(request, settings, user, 200)
    return {"username": username, "role": rows[0]["role"]}
