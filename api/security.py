"""Accounts, passwords and tokens: argon2 password hashes (pwdlib), JWT bearer tokens (PyJWT).

Roles: citizen (their own record and their children's), clinician (persons of their province),
reviewer (the review endpoints), epidemiologist (aggregates only), admin (users, audit).
"""

from __future__ import annotations

import os
import secrets
import threading
import time
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


def decode_token(token: str, settings: Settings) -> tuple[User, int]:
    """The user a token was issued to and when (seconds since the epoch); AuthError for a bad token."""
    try:
        claims = jwt.decode(token, signing_key(settings), algorithms=[ALGORITHM],
                            options={"require": ["exp", "sub", "iat"]})
        return User(username=claims["sub"], role=Role(claims["role"]), facility=claims.get("facility"),
                    province=claims.get("province"), person_id=claims.get("person_id")), int(claims["iat"])
    except (jwt.PyJWTError, KeyError, ValueError, TypeError) as exc:
        raise AuthError(f"invalid token: {exc}") from exc


class Accounts:
    """The accounts as each request checks them: a token is good only while its account exists, is
    active, has the role, province, facility and person the token names, and has not revoked tokens
    issued before it. Accounts are read from the graph at most once per `ttl` seconds each, so a
    deactivation or a role change takes effect within that."""

    def __init__(self, driver: Driver, database: str, ttl: float) -> None:
        self.driver, self.database, self.ttl = driver, database, ttl
        self._seen: dict[str, tuple[float, dict[str, Any] | None]] = {}
        self._lock = threading.Lock()

    def _account(self, username: str) -> dict[str, Any] | None:
        now = time.monotonic()
        with self._lock:
            held = self._seen.get(username)
        if held is not None and now - held[0] < self.ttl:
            return held[1]
        rows = default_registry().read(self.driver, "users/get_user", database=self.database, username=username)
        account = dict(rows[0]["user"]) if rows else None
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen[username] = (now, account)
        return account

    def check(self, user: User, issued_at: int) -> None:
        """AuthError unless the token of `user`, issued at `issued_at`, still stands for its account."""
        account = self._account(user.username)
        if account is None or not account.get("active"):
            raise AuthError("the account does not exist or is deactivated")
        if (account["role"], account["province"], account["facility"], account["person_id"]) != (
                user.role.value, user.province, user.facility, user.person_id):
            raise AuthError("the account changed since the token was issued")
        if issued_at < (account.get("tokens_valid_after") or 0):
            raise AuthError("the token was revoked")


class SlidingWindow:
    """Events counted per key over the last `window` seconds: `wait` says how long until a key is under
    `limit` again (0 when it is). Counted in each API process (a few per machine): limits hold per process."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._events: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def wait(self, key: str) -> int:
        now = time.monotonic()
        with self._lock:
            recent = [t for t in self._events.get(key, []) if now - t < self.window]
            if recent:
                self._events[key] = recent
            else:
                self._events.pop(key, None)
            return int(self.window - (now - recent[-self.limit])) + 1 if len(recent) >= self.limit else 0

    def hit(self, key: str) -> None:
        with self._lock:
            if len(self._events) > 100_000:
                self._events.clear()
            self._events.setdefault(key, []).append(time.monotonic())

    def clear(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)


class SignInLimiter:
    """Failed sign-ins: past 5 for one account, or 20 from one client, within 5 minutes, sign-ins are
    refused until the oldest leaves the window. Guessing passwords then costs hours per account; a lock
    lasts minutes, so locking someone out costs the locker as much."""

    def __init__(self) -> None:
        self.accounts = SlidingWindow(limit=5, window=300.0)
        self.clients = SlidingWindow(limit=20, window=300.0)

    def wait_seconds(self, username: str, client: str) -> int:
        """0 when a sign-in may be tried now, else how many seconds until it may."""
        return max(self.accounts.wait(username.lower()), self.clients.wait(client))

    def failed(self, username: str, client: str) -> None:
        self.accounts.hit(username.lower())
        self.clients.hit(client)

    def succeeded(self, username: str) -> None:
        self.accounts.clear(username.lower())


def password_problem(password: str, username: str = "") -> str | None:
    """Why a password is too weak (None when it is not): at least 10 characters, 5 of them different
    and not spaces, and not the account's name."""
    if len(password) < 10:
        return "a password needs at least 10 characters"
    if len(set(password) - {" "}) < 5:
        return "a password needs at least 5 different characters other than spaces"
    if username and password.strip().lower() == username.lower():
        return "a password must not be the account's name"
    return None


def add_user(driver: Driver, username: str, password: str, role: Role, facility: str | None = None,
             province: str | None = None, person_id: str | None = None, database: str = "neo4j") -> None:
    """Create or update an account; staff roles other than admin need a province. Tokens the account
    held before stop working."""
    problem = password_problem(password, username)
    if problem is not None:
        raise AuthError(problem)
    if role is Role.CITIZEN and not person_id:
        raise AuthError("a citizen account needs --person-id")
    if person_id is not None and not default_registry().read(driver, "persons/viewer_relation", database=database,
                                                             viewer="", person_id=person_id, adult_year=0):
        raise AuthError(f"no person {person_id!r}: a clinician's search (GET /persons) finds a person's id")
    if role is Role.CLINICIAN and not province:
        raise AuthError("a clinician account needs --province")
    default_registry().write(driver, "users/upsert_user", database=database, username=username,
                             password_hash=hash_password(password), role=role.value, facility=facility,
                             province=province, person_id=person_id)


@lru_cache(maxsize=1)
def _absent_hash() -> str:
    """A hash checked when the account does not exist, so that an unknown name takes as long as a wrong
    password (the time would otherwise tell which accounts exist)."""
    return hash_password(secrets.token_urlsafe(16))


def authenticate(driver: Driver, username: str, password: str, database: str = "neo4j") -> User:
    rows = default_registry().read(driver, "users/get_user", database=database, username=username)
    stored = rows[0]["user"]["password_hash"] if rows else _absent_hash()
    if not verify_password(password, stored) or not rows or not rows[0]["user"]["active"]:
        raise AuthError("wrong username or password")
    found = rows[0]["user"]
    return User(username=found["username"], role=Role(found["role"]), facility=found["facility"],
                province=found["province"], person_id=found["person_id"])
