"""Accounts, passwords and tokens: argon2 password hashes (pwdlib), JWT bearer tokens (PyJWT).

Roles: citizen (their own record and their children's), clinician (persons of their province),
reviewer (the review endpoints), epidemiologist (aggregates only), admin (users, audit).
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
from neo4j import Driver
from pwdlib import PasswordHash
from pydantic import BaseModel

from api.settings import Settings
from graph import default_registry

_hasher = PasswordHash.recommended()
ALGORITHM = "HS256"


class Role(StrEnum):
    CITIZEN = "citizen"
    CLINICIAN = "clinician"
    REVIEWER = "reviewer"
    EPIDEMIOLOGIST = "epidemiologist"
    ADMIN = "admin"


class User(BaseModel):
    """An authenticated account as the API sees it."""

    username: str
    role: Role
    facility: str | None = None
    province: str | None = None
    person_id: str | None = None


class AuthError(Exception):
    """Bad credentials or token: the caller must sign in again."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return bool(_hasher.verify(password, password_hash))


def signing_key(settings: Settings) -> str:
    """The JWT signing key: `HOSO_JWT_SECRET`, or outside production one generated once and kept
    (mode 600) in the data directory."""
    if settings.jwt_secret is not None:
        return settings.jwt_secret.get_secret_value()
    if settings.environment == "production":
        raise AuthError("HOSO_JWT_SECRET must be set in production")
    return _stored_key(settings.data_dir)


@lru_cache
def _stored_key(data_dir: Path) -> str:
    """The generated key kept in the data directory, created (mode 600) the first time (cached: every
    request needs it twice, to check its token and to key the audit hash)."""
    path = data_dir.expanduser().resolve() / "jwt-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return Path(path).read_text().strip()
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def issue_token(user: User, settings: Settings) -> str:
    now = datetime.now(UTC)
    claims: dict[str, Any] = {"sub": user.username, "role": user.role.value, "facility": user.facility,
                              "province": user.province, "person_id": user.person_id, "iat": now,
                              "exp": now + timedelta(minutes=settings.jwt_ttl_minutes)}
    return jwt.encode(claims, signing_key(settings), algorithm=ALGORITHM)


def decode_token(token: str, settings: Settings) -> User:
    try:
        claims = jwt.decode(token, signing_key(settings), algorithms=[ALGORITHM], options={"require": ["exp", "sub"]})
        return User(username=claims["sub"], role=Role(claims["role"]), facility=claims.get("facility"),
                    province=claims.get("province"), person_id=claims.get("person_id"))
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise AuthError(f"invalid token: {exc}") from exc


def add_user(driver: Driver, username: str, password: str, role: Role, facility: str | None = None,
             province: str | None = None, person_id: str | None = None, database: str = "neo4j") -> None:
    """Create or update an account; staff roles other than admin need a province."""
    if len(password) < 10:
        raise AuthError("a password needs at least 10 characters")
    if role is Role.CITIZEN and not person_id:
        raise AuthError("a citizen account needs --person-id")
    if role is Role.CLINICIAN and not province:
        raise AuthError("a clinician account needs --province")
    default_registry().write(driver, "users/upsert_user", database=database, username=username,
                             password_hash=hash_password(password), role=role.value, facility=facility,
                             province=province, person_id=person_id)


def authenticate(driver: Driver, username: str, password: str, database: str = "neo4j") -> User:
    rows = default_registry().read(driver, "users/get_user", database=database, username=username)
    if not rows or not rows[0]["user"]["active"] or not verify_password(password, rows[0]["user"]["password_hash"]):
        raise AuthError("wrong username or password")
    found = rows[0]["user"]
    return User(username=found["username"], role=Role(found["role"]), facility=found["facility"],
                province=found["province"], person_id=found["person_id"])
