"""Care across provinces: a clinician outside a person's province reads the record with the person's
consent at the point of care, or, in an emergency, breaks the glass.

- **Consent.** The citizen gives the clinician a code: one made in the portal (`POST /me/consent-codes`,
  eight characters, for themselves or a child under 18), or a six-digit one sent to the phone on file at
  the clinician's request (`POST /consent-requests` with the personal id; the answer is the same whether
  or not the id exists). The clinician enters it (`POST /consent`); it opens once, to that clinician
  only, for `GRANT_HOURS`, and the answer names the person to open. Every read under a grant is audited
  like any other and shows in the citizen's log.
- **Break-the-glass.** `POST /emergency` with the personal id and a stated reason gives any clinician
  the emergency summary only (allergies, chronic conditions, immunizations, and what HoSo does not hold:
  blood type and current medication), never the whole record. The read is audited under its own route,
  so it shows at once in the citizen's log, and it becomes an open task for the data protection officer.

Codes are kept as keyed hashes; a clinician may try `app.CONSENT_TRIES_PER_HOUR` codes an hour (per API
process), so guessing a code is hopeless.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query, Request, status
from pydantic import BaseModel, Field

from api.access import audit_disclosures, authorise_person, check_person_id, closed_view, closures_of
from api.audit import audit, person_hash
from api.deps import DriverDep, SettingsDep, require
from api.messages import Refusal
from api.security import Role, SlidingWindow, User, signing_key
from api.settings import Settings
from api.sms import need_sms, send_logged
from graph import PersonNotFound, default_registry, person_profile

router = APIRouter(tags=["care"])
Citizen = Annotated[User, require(Role.CITIZEN, may_not="give consent")]
Clinician = Annotated[User, require(Role.CLINICIAN, may_not="read a record by consent or in an emergency")]
GRANT_HOURS = 24
PORTAL_CODE_MINUTES = 60
SMS_CODE_MINUTES = 10
# Eight characters of an alphabet without look-alikes (0/O, 1/I/L): about 2^39 codes.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
SENT = ("Nếu số định danh có trong sổ đăng ký dân cư, một mã đồng ý đã được gửi tới số điện thoại đăng ký. "
        "If the personal id is in the population registry, a consent code was sent to the phone on file.")
PersonalId = Annotated[str, Field(pattern=r"^\d{12}$", description="The 12-digit personal id (CCCD)")]


class ConsentCodeIn(BaseModel):
    person_id: str | None = Field(None, description="A child under 18 of the citizen's; the citizen when absent")


class ConsentCode(BaseModel):
    code: str = Field(description="Eight characters, to read out to the clinician")
    person_id: str
    expires_at: str
    grant_hours: int


class ConsentRequestIn(BaseModel):
    personal_id: PersonalId


class ConsentRequested(BaseModel):
    detail: str


class ConsentIn(BaseModel):
    code: str = Field(min_length=6, max_length=12, description="The code the person gave")


class Granted(BaseModel):
    person_id: str
    expires_at: str


class EmergencyIn(BaseModel):
    personal_id: PersonalId
    reason: str = Field(min_length=20, max_length=1000, description="Why the record is needed now")


class EmergencySummary(BaseModel):
    person_id: str
    name: str | None
    birth_date: str | None
    sex: str | None
    allergies: list[str]
    chronic_conditions: list[dict[str, Any]]
    immunizations: list[dict[str, Any]]
    blood_type: None = Field(None, description="Not held by HoSo: no source reports it")
    current_medication: None = Field(None, description="Not held by HoSo: no source reports it")
    flag_id: str = Field(description="The data protection officer's task for this read")


def _code_hash(settings: Settings, code: str) -> str:
    canonical = code.upper().replace("-", "").replace(" ", "")
    return hmac.new(signing_key(settings).encode(), f"consent|{canonical}".encode(), hashlib.sha256).hexdigest()


def _new_code() -> str:
    code = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return f"{code[:4]}-{code[4:]}"


@router.post("/me/consent-codes", operation_id="create_consent_code", status_code=201, response_model=ConsentCode,
             responses={403: {}, 404: {}})
def create_consent_code(body: ConsentCodeIn, request: Request, user: Citizen, driver: DriverDep,
                        settings: SettingsDep) -> dict[str, Any]:
    """A code that lets one clinician outside the person's province read the record (the citizen's own, or
    a child's under 18) for a day; it must be entered within an hour and opens once."""
    person_id = body.person_id or user.person_id or ""
    check_person_id(person_id)
    person_id = authorise_person(request, driver, settings, user, person_id)
    code = _new_code()
    rows = default_registry().write(driver, "portal/create_consent_code", database=settings.neo4j_database,
                                    code_hash=_code_hash(settings, code), person_id=person_id, kind="portal",
                                    created_by=user.username, ttl_seconds=PORTAL_CODE_MINUTES * 60,
                                    grant_hours=GRANT_HOURS)
    audit(request, settings, user, 201, person_id)
    return {"code": code, "person_id": person_id, "expires_at": rows[0]["expires_at"], "grant_hours": GRANT_HOURS}


@router.post("/consent-requests", operation_id="request_consent", status_code=202, response_model=ConsentRequested,
             responses={403: {}, 429: {}, 503: {}})
def request_consent(body: ConsentRequestIn, request: Request, background: BackgroundTasks, user: Clinician,
                    driver: DriverDep, settings: SettingsDep) -> dict[str, Any]:
    """Ask the person for consent by a six-digit code sent to the phone on file; the answer is the same
    whether or not the personal id exists."""
    need_sms(settings)
    _tries(request, user)
    rows = default_registry().read(driver, "portal/person_by_personal_id", database=settings.neo4j_database,
                                   personal_id=body.personal_id)
    if rows and rows[0]["phones"]:
        code = f"{secrets.randbelow(10**6):06d}"
        default_registry().write(driver, "portal/create_consent_code", database=settings.neo4j_database,
                                 code_hash=_code_hash(settings, f"{body.personal_id}{code}"),
                                 person_id=rows[0]["person_id"], kind="sms", created_by=user.username,
                                 ttl_seconds=SMS_CODE_MINUTES * 60, grant_hours=GRANT_HOURS)
        where = f" ({user.facility})" if user.facility else ""
        text = (f"HoSo: nhân viên y tế {user.username}{where} xin xem hồ sơ sức khỏe của bạn. Nếu đồng ý, hãy đọc "
                f"mã {code} cho họ (hiệu lực {SMS_CODE_MINUTES} phút). Nếu không, hãy bỏ qua tin nhắn này.")
        background.add_task(send_logged, settings, rows[0]["phones"][-1], text)
    audit(request, settings, user, 202, rows[0]["person_id"] if rows else None)
    return {"detail": SENT}


def _tries(request: Request, user: User) -> None:
    tries: SlidingWindow = request.app.state.consent_tries
    if wait := tries.wait(user.username):
        raise Refusal(status.HTTP_429_TOO_MANY_REQUESTS, "too many codes tried: try again later",
                      headers={"Retry-After": str(wait)})
    tries.hit(user.username)


@router.post("/consent", operation_id="use_consent", status_code=201, response_model=Granted,
             responses={400: {}, 403: {}, 429: {}})
def use_consent(body: ConsentIn, request: Request, user: Clinician, driver: DriverDep, settings: SettingsDep,
                personal_id: Annotated[str | None, Query(pattern=r"^\d{12}$")] = None) -> dict[str, Any]:
    """Enter the person's consent code (a six-digit code sent to their phone needs `?personal_id=` too):
    the record opens to this clinician for a day."""
    _tries(request, user)
    code = body.code.strip()
    hashed = _code_hash(settings, f"{personal_id}{code}" if personal_id and code.isdigit() else code)
    grant_id = f"grant-{secrets.token_hex(8)}"
    rows = default_registry().write(driver, "portal/use_consent_code", database=settings.neo4j_database,
                                    code_hash=hashed, username=user.username, grant_id=grant_id)
    if not rows:
        audit(request, settings, user, 400)
        raise Refusal(status.HTTP_400_BAD_REQUEST, "the consent code is wrong, used or expired")
    audit(request, settings, user, 201, rows[0]["person_id"])
    return {"person_id": rows[0]["person_id"], "expires_at": rows[0]["expires_at"]}


@router.post("/emergency", operation_id="break_the_glass", response_model=EmergencySummary,
             responses={403: {}, 404: {}, 422: {}})
def break_the_glass(body: EmergencyIn, request: Request, user: Clinician, driver: DriverDep,
                    settings: SettingsDep) -> dict[str, Any]:
    """Break the glass: the emergency summary of the person with this personal id, for any clinician who
    states why; marked in the audit trail, shown in the person's log at once, and a task for the data
    protection officer."""
    rows = default_registry().read(driver, "portal/person_by_personal_id", database=settings.neo4j_database,
                                   personal_id=body.personal_id)
    if not rows:
        audit(request, settings, user, 404)
        raise Refusal(status.HTTP_404_NOT_FOUND, "no person with personal id {personal_id}",
                      personal_id=body.personal_id)
    person_id = rows[0]["person_id"]
    try:
        profile = person_profile(driver, person_id, settings.neo4j_database)
    except PersonNotFound:
        raise Refusal(status.HTTP_404_NOT_FOUND, "no person with personal id {personal_id}",
                      personal_id=body.personal_id) from None
    # A closed diagnosis group stays closed; the closure of the whole record gives way to the emergency.
    profile = closed_view(profile, closures_of(driver, settings, person_id), user.facility, emergency=True)
    flag_id = f"flag-{datetime.now(UTC):%Y%m%d%H%M%S}-{secrets.token_hex(3)}"
    default_registry().write(driver, "portal/break_glass", database=settings.neo4j_database, flag_id=flag_id,
                             username=user.username, role=user.role.value, facility=user.facility,
                             person_hash=person_hash(person_id, settings), province=rows[0]["province"],
                             reason=body.reason.strip())
    audit_disclosures(request, settings, user, [person_id])
    admin = profile["administrative"]
    history = profile["history"]
    return {"person_id": person_id, "name": admin.get("name"), "birth_date": admin.get("birth_date"),
            "sex": admin.get("sex"),
            "allergies": sorted({h.get("text") or h.get("code") or "" for h in history
                                 if h.get("category") == "allergy" and not h.get("relative")} - {""}),
            "chronic_conditions": [{"icd10": h.get("icd10"), "name": h.get("disease"), "name_vi": h.get("disease_vi")}
                                   for h in history if h.get("category") == "chronic" and not h.get("relative")],
            "immunizations": [{"vaccine": i.get("vaccine"), "name": i.get("vaccine_name"), "date": i.get("date"),
                               "dose": i.get("dose")} for i in profile["immunizations"]],
            "blood_type": None, "current_medication": None, "flag_id": flag_id}

