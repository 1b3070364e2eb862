"""Accounts and tokens through the real API against the real Neo4j."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from neo4j import Driver

from api.app import create_app
from api.security import AuthError, Role, add_user, hash_password, verify_password
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
