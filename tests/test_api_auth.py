"""Accounts and tokens through the real API against the real Neo4j."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from neo4j import Driver
from pydantic import ValidationError

from api.app import create_app
from api.security import AuthError, Role, User, add_user, hash_password, issue_token, verify_password
from api.settings import Settings

HOSO = str(Path(sys.executable).with_name("hoso"))


def test_passwords_are_hashed_with_argon2() -> None:
    hashed = hash_password("correct horse battery")
    assert hashed.startswith("$argon2id$")
    assert verify_password("correct horse battery", hashed) and not verify_password("wrong", hashed)


def test_accounts_need_what_their_role_needs(graph: Driver) -> None:
    with pytest.raises(AuthError, match="at least 10"):
        add_user(graph, "short", "short", Role.ADMIN)
    with pytest.raises(AuthError, match="person-id"):
        add_user(graph, "citizen1", "long enough pw", Role.CITIZEN)
    with pytest.raises(AuthError, match="province"):
        add_user(graph, "doctor1", "long enough pw", Role.CLINICIAN)


def test_sign_in_and_use_the_token(graph: Driver, settings: Settings) -> None:
    add_user(graph, "lan", "reviewer password", Role.REVIEWER, facility="01001", province="01")
    with TestClient(create_app(settings)) as client:
        bad = client.post("/auth/token", data={"username": "lan", "password": "nope"})
        assert bad.status_code == 401
        assert bad.headers["content-type"] == "application/problem+json"
        assert bad.json()["code"] == "unauthorized"
        token = client.post("/auth/token", data={"username": "lan", "password": "reviewer password"}).json()
        assert token["token_type"] == "bearer"
        me = client.get("/auth/me", headers={"Authorization": f"Bearer {token['access_token']}"})
        assert me.status_code == 200 and me.json()["role"] == "reviewer" and me.json()["province"] == "01"
        assert client.get("/auth/me").status_code == 401
        forged = token["access_token"][:-4] + ("AAAA" if not token["access_token"].endswith("AAAA") else "BBBB")
        assert client.get("/auth/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
        assert client.get("/no/such/path").json()["code"] == "not_found"


def test_user_add_on_the_command_line(graph: Driver) -> None:
    out = subprocess.run([HOSO, "user", "add", "admin1", "--role", "admin", "--password-stdin"],
                         input="a very long password\n", capture_output=True, text=True, env=dict(os.environ),
                         check=False, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "account admin1 (admin) saved" in out.stdout
    row = graph.execute_query("MATCH (u:User {username: 'admin1'}) RETURN u.password_hash AS h, u.role AS r"
                              ).records[0]
    assert row["r"] == "admin" and row["h"].startswith("$argon2id$") and "long password" not in row["h"]


def _token(client: TestClient, username: str, password: str) -> dict[str, str]:
    answer = client.post("/auth/token", data={"username": username, "password": password})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _hoso(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HOSO, *args], capture_output=True, text=True, env=dict(os.environ), check=False,
                          timeout=120)


def test_tokens_follow_their_account_at_once(graph: Driver, settings: Settings) -> None:
    """A role change, a revocation, a deactivation and a removal take effect for tokens already issued."""
    fresh = settings.model_copy(update={"auth_cache_seconds": 0})
    add_user(graph, "mai", "clinician password", Role.CLINICIAN, province="01")
    with TestClient(create_app(fresh)) as client:
        first = _token(client, "mai", "clinician password")
        assert client.get("/auth/me", headers=first).status_code == 200
        add_user(graph, "mai", "clinician password", Role.REVIEWER, province="01")  # the role changed
        assert client.get("/auth/me", headers=first).status_code == 401
        time.sleep(1.1)  # tokens carry whole seconds: one issued in the second of the change would stand
        second = _token(client, "mai", "clinician password")
        assert client.get("/auth/me", headers=second).json()["role"] == "reviewer"
        assert _hoso("user", "revoke", "mai").returncode == 0
        assert client.get("/auth/me", headers=second).status_code == 401
        time.sleep(1.1)
        third = _token(client, "mai", "clinician password")
        listed = _hoso("user", "list", "--json")
        assert {"username": "mai", "active": True} .items() <= next(
            u for u in json.loads(listed.stdout)["data"] if u["username"] == "mai").items()
        assert _hoso("user", "deactivate", "mai").returncode == 0
        assert client.get("/auth/me", headers=third).status_code == 401
        assert client.post("/auth/token", data={"username": "mai", "password": "clinician password"}
                           ).status_code == 401
        assert _hoso("user", "remove", "mai").returncode == 0
        missing = _hoso("user", "remove", "mai")
        assert missing.returncode == 1 and missing.stderr.strip() == \
            "hoso: error: no account 'mai': `hoso user list` names them"


def test_a_token_for_an_account_that_never_existed_is_refused(graph: Driver, settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        ghost = issue_token(User(username="ghost", role=Role.ADMIN), settings)
        assert client.get("/auth/me", headers={"Authorization": f"Bearer {ghost}"}).status_code == 401


def test_sign_in_is_rate_limited_and_takes_as_long_for_unknown_names(graph: Driver, settings: Settings) -> None:
    add_user(graph, "binh", "reviewer password", Role.REVIEWER, province="01")
    with TestClient(create_app(settings)) as client:
        def timed(name: str) -> float:
            began = time.perf_counter()
            client.post("/auth/token", data={"username": name, "password": "not the password"})
            return time.perf_counter() - began

        known, unknown = min(timed("binh") for _ in range(2)), min(timed("nobody-at-all") for _ in range(2))
        assert unknown > known / 3, (known, unknown)  # both check a hash: argon2's cost, not a lookup's
        for _ in range(3):
            client.post("/auth/token", data={"username": "binh", "password": "still not it"})
        locked = client.post("/auth/token", data={"username": "binh", "password": "reviewer password"})
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
        assert locked.json()["code"] == "too_many_requests"


@pytest.mark.parametrize(("password", "why"), [
    ("          ", "5 different characters"), ("aaaaaaaaaaaa", "5 different characters"),
    ("short", "at least 10"), ("Tuyet.Nguyen", "account's name")])
def test_weak_passwords_are_refused(graph: Driver, password: str, why: str) -> None:
    with pytest.raises(AuthError, match=why):
        add_user(graph, "tuyet.nguyen", password, Role.ADMIN)


@pytest.mark.parametrize(("secret", "refused"), [("secret", True), ("x" * 31, True), ("", True), ("k" * 48, False)])
def test_production_refuses_a_short_or_empty_signing_key(secret: str, refused: bool) -> None:
    if refused:
        with pytest.raises(ValidationError, match="HOSO_JWT_SECRET"):
            Settings(environment="production", jwt_secret=secret)
    else:
        assert Settings(environment="production", jwt_secret=secret).jwt_secret is not None
