"""A citizen's own account: self-registration and password reset, each by proving to be the person the
population registry knows, then a one-time code sent to the phone on file.

The proof is the personal id, the birth date and the phone number the registry (or the person's golden
record) holds. Whatever the proof, the first step answers the same 202 with a challenge id, so the
answer never tells whether an id exists, whether the birth date or the phone was wrong, or whether the
person has an account; only a proof that holds sends a code, and a request that proved nothing gets a
challenge no code opens. Codes are six digits, kept as a keyed hash, good for `HOSO_OTP_TTL_SECONDS`
and `MAX_ATTEMPTS` tries. At most `HOSO_OTP_PER_ID_HOUR` codes an hour go to one personal id (counted
in the graph, for proofs that hold and those that do not alike), and `app.OTP_STARTS_PER_HOUR` starts of each kind
come from one client per API process. A person under 18 has no account of their own: their parents
read their record.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import uuid
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Request, status
from fastapi import Path as PathParam
from pydantic import BaseModel, BeforeValidator, Field, SecretStr, field_validator

from api.access import adult_year
from api.deps import DriverDep, SettingsDep
from api.messages import Refusal
from api.security import SlidingWindow, hash_password, password_problem, signing_key
from api.settings import Settings
from api.sms import need_sms, send_logged
from graph import default_registry
from linkage import normalise_phone

router = APIRouter(tags=["registration"])
MAX_ATTEMPTS = 5
Purpose = Literal["register", "reset"]
ChallengeId = Annotated[str, PathParam(pattern=r"^[0-9a-f]{32}$", description="From the first step's answer")]
SENT = ("Nếu thông tin khớp với sổ đăng ký dân cư, một mã xác minh đã được gửi tới số điện thoại đăng ký. "
        "If the details match the population registry, a code was sent to the phone on file.")


def _compact(value: object) -> object:
    return re.sub(r"[\s.()-]", "", value) if isinstance(value, str) else value


class ProofIn(BaseModel):
    personal_id: str = Field(pattern=r"^\d{12}$", description="The 12-digit personal id (CCCD)")
    birth_date: date
    phone: Annotated[str, BeforeValidator(_compact)] = Field(
        pattern=r"^(\+84|0)\d{9,10}$", description="The phone number on file (spaces and dots are ignored)")

    @field_validator("phone")
    @classmethod
    def _a_phone(cls, value: str) -> str:
        phone = normalise_phone(value)
        if phone is None:
            raise ValueError(f"{value[:20]!r} is not a Vietnamese phone number (as 0912345678)")
        return phone


class ChallengeSent(BaseModel):
    challenge_id: str
    expires_in: int = Field(description="Seconds the code is good for")
    detail: str


class RegisterIn(BaseModel):
    code: str = Field(pattern=r"^\d{6}$")
    username: str = Field(pattern=r"^[A-Za-z0-9._-]{3,64}$")
    password: SecretStr


class ResetIn(BaseModel):
    code: str = Field(pattern=r"^\d{6}$")
    password: SecretStr


class AccountReady(BaseModel):
    username: str
    person_id: str


def _keyed(settings: Settings, *parts: str) -> str:
    return hmac.new(signing_key(settings).encode(), "|".join(parts).encode(), hashlib.sha256).hexdigest()


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


def _start(purpose: Purpose, body: ProofIn, request: Request, background: BackgroundTasks, driver: Any,
           settings: Settings) -> dict[str, Any]:
    need_sms(settings)
    starts: SlidingWindow = request.app.state.otp_starts
    if wait := starts.wait(f"{purpose}:{_client(request)}"):
        raise Refusal(status.HTTP_429_TOO_MANY_REQUESTS, "too many codes asked for: try again later",
                      headers={"Retry-After": str(wait)})
    id_hash = _keyed(settings, "cccd", body.personal_id)
    database = settings.neo4j_database
    sent = default_registry().read(driver, "portal/recent_challenges", database=database, id_hash=id_hash)
    if sent[0]["n"] >= settings.otp_per_id_hour:
        raise Refusal(status.HTTP_429_TOO_MANY_REQUESTS, "too many codes asked for: try again later",
                      headers={"Retry-After": "3600"})
    starts.hit(f"{purpose}:{_client(request)}")
    rows = default_registry().read(driver, "portal/proof_of_person", database=database,
                                   personal_id=body.personal_id)
    found = rows[0] if rows else None
    proved = (found is not None and found["birth_date"] == body.birth_date.isoformat()
              and body.phone in {normalise_phone(p) for p in found["phones"]}
              and (found["birth_year"] or 9999) <= adult_year())
    challenge_id, code = uuid.uuid4().hex, f"{secrets.randbelow(10**6):06d}"
    person_id = found["person_id"] if proved and found is not None else None
    text = None
    if person_id is not None and purpose == "register" and found is not None and found["account"]:
        # The person has an account already: the phone's owner is told so; the answer stays the same.
        text = "HoSo: bạn đã có tài khoản. Dùng \"Quên mật khẩu\" để đặt lại mật khẩu."
        person_id = None
    elif person_id is not None and purpose == "reset" and found is not None and not found["account"]:
        text = "HoSo: số định danh này chưa có tài khoản. Hãy đăng ký tài khoản mới."
        person_id = None
    elif person_id is not None:
        minutes = settings.otp_ttl_seconds // 60
        text = f"HoSo: mã xác minh của bạn là {code}, có hiệu lực {minutes} phút. Không chia sẻ mã này với ai."
    default_registry().write(driver, "portal/create_challenge", database=database, id=challenge_id,
                             purpose=purpose, id_hash=id_hash, person_id=person_id,
                             code_hash=_keyed(settings, challenge_id, code), ttl_seconds=settings.otp_ttl_seconds)
    if text is not None:
        background.add_task(send_logged, settings, body.phone, text)  # after the answer: its timing tells nothing
    return {"challenge_id": challenge_id, "expires_in": settings.otp_ttl_seconds, "detail": SENT}


def _spend(purpose: Purpose, challenge_id: str, code: str, driver: Any, settings: Settings) -> str:
    rows = default_registry().write(driver, "portal/spend_challenge", database=settings.neo4j_database,
                                    id=challenge_id, purpose=purpose, code_hash=_keyed(settings, challenge_id, code),
                                    max_attempts=MAX_ATTEMPTS)
    if not rows or not rows[0]["ok"]:
        raise Refusal(status.HTTP_400_BAD_REQUEST, "the code is wrong or no longer valid: ask for a new one")
    person_id: str = rows[0]["person_id"]
    return person_id


def _password(password: SecretStr, username: str = "") -> str:
    problem = password_problem(password.get_secret_value(), username)
    if problem is not None:
        raise Refusal(status.HTTP_400_BAD_REQUEST, "password: {problem}", problem=problem)
    return hash_password(password.get_secret_value())


@router.post("/register", operation_id="start_registration", status_code=202, response_model=ChallengeSent,
             responses={422: {}, 429: {}, 503: {}})
def start_registration(body: ProofIn, request: Request, background: BackgroundTasks, driver: DriverDep,
                       settings: SettingsDep) -> dict[str, Any]:
    """Step 1 of self-registration: the personal id, birth date and phone on file. The answer is the same
    whether or not they match; when they do, a six-digit code goes to the phone."""
    return _start("register", body, request, background, driver, settings)


@router.post("/register/{challenge_id}", operation_id="finish_registration", status_code=201,
             response_model=AccountReady, responses={400: {}, 409: {}, 422: {}})
def finish_registration(challenge_id: ChallengeId, body: RegisterIn,
                        request: Request, driver: DriverDep, settings: SettingsDep) -> dict[str, Any]:
    """Step 2: the code, and the account's name and password. The account reads the person's record and
    their children's under 18."""
    password_hash = _password(body.password, body.username)
    if default_registry().read(driver, "users/get_user", database=settings.neo4j_database, username=body.username):
        raise Refusal(status.HTTP_409_CONFLICT, "the username {username!r} is taken: choose another",
                      username=body.username)
    person_id = _spend("register", challenge_id, body.code, driver, settings)
    created = default_registry().write(driver, "portal/create_citizen_account", database=settings.neo4j_database,
                                       username=body.username, password_hash=password_hash, person_id=person_id)
    if not created:
        raise Refusal(status.HTTP_409_CONFLICT, "the username {username!r} is taken: choose another",
                      username=body.username)
    request.app.state.audit.record({"username": body.username, "role": "citizen", "facility": None,
                                    "method": "POST", "endpoint": "/register/{challenge_id}", "status": 201,
                                    "person_hash": None, "client": _client(request)})
    return {"username": body.username, "person_id": person_id}


@router.post("/password-reset", operation_id="start_password_reset", status_code=202,
             response_model=ChallengeSent, responses={422: {}, 429: {}, 503: {}})
def start_password_reset(body: ProofIn, request: Request, background: BackgroundTasks, driver: DriverDep,
                         settings: SettingsDep) -> dict[str, Any]:
    """Step 1 of a citizen's password reset: the same proof as registration, the same answer whatever it
    is."""
    return _start("reset", body, request, background, driver, settings)


@router.post("/password-reset/{challenge_id}", operation_id="finish_password_reset", status_code=200,
             response_model=AccountReady, responses={400: {}})
def finish_password_reset(challenge_id: ChallengeId, body: ResetIn,
                          request: Request, driver: DriverDep, settings: SettingsDep) -> dict[str, Any]:
    """Step 2: the code and a new password; tokens issued before stop working. The answer names the
    account."""
    password_hash = _password(body.password)
    person_id = _spend("reset", challenge_id, body.code, driver, settings)
    rows = default_registry().write(driver, "portal/reset_citizen_password", database=settings.neo4j_database,
                                    person_id=person_id, password_hash=password_hash)
    if not rows:
        raise Refusal(status.HTTP_400_BAD_REQUEST, "the code is wrong or no longer valid: ask for a new one")
    username: str = rows[0]["username"]
    request.app.state.audit.record({"username": username, "role": "citizen", "facility": None, "method": "POST",
                                    "endpoint": "/password-reset/{challenge_id}", "status": 200,
                                    "person_hash": None, "client": _client(request)})
    return {"username": username, "person_id": person_id}
