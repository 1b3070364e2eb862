"""docker-compose.yml is accepted by the compose client (`make system-deps` installs one; its `config`
needs no Docker engine, so the check runs on every machine)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def compose_command() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, check=False)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_compose_file_is_valid() -> None:
    command = compose_command()
    assert command is not None, "no compose client: run `make system-deps`"
    env = dict(os.environ, NEO4J_PASSWORD="compose-check", HOSO_JWT_SECRET="compose-check")
    out = subprocess.run([*command, "-f", str(ROOT / "docker-compose.yml"), "config"],
                         capture_output=True, text=True, env=env, check=False)
    assert out.returncode == 0, out.stderr
    config = yaml.safe_load(out.stdout)
    assert config["services"]["api"]["depends_on"]["neo4j"]["condition"] == "service_healthy"
    assert "healthcheck" in config["services"]["neo4j"]


def test_compose_refuses_missing_secrets() -> None:
    command = compose_command()
    assert command is not None, "no compose client: run `make system-deps`"
    env = {k: v for k, v in os.environ.items() if k not in ("NEO4J_PASSWORD", "HOSO_JWT_SECRET")}
    out = subprocess.run([*command, "-f", str(ROOT / "docker-compose.yml"), "config"],
                         capture_output=True, text=True, env=env, check=False)
    assert out.returncode != 0
    assert "NEO4J_PASSWORD" in out.stderr
