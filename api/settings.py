"""One settings class for HoSo, read from the environment and a `.env` file.

The Neo4j connection uses the conventional `NEO4J_URI`, `NEO4J_USER`, `NEO4J_PASSWORD` and
`NEO4J_DATABASE` variables; everything else is prefixed `HOSO_` (for example `HOSO_DATA_DIR`).
When `NEO4J_URI` is not set, HoSo uses the Neo4j server it manages itself under the data directory.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from graph import WRITERS
from linkage import DUCKDB_MEMORY_LIMIT

MIN_SECRET_BYTES = 32  # of a signing key in production: HS256 wants a key as long as its hash


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hoso"


class Settings(BaseSettings):
    """Everything HoSo can be configured with; see README.md for the variables."""

    model_config = SettingsConfigDict(
        env_prefix="HOSO_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    environment: Literal["development", "test", "production"] = "development"
    data_dir: Path = Field(default=Path(".data"))
    cache_dir: Path = Field(default_factory=_default_cache_dir)

    neo4j_uri: str | None = Field(default=None, validation_alias=AliasChoices("NEO4J_URI", "HOSO_NEO4J_URI"))
    neo4j_user: str = Field(default="neo4j", validation_alias=AliasChoices("NEO4J_USER", "HOSO_NEO4J_USER"))
    neo4j_password: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("NEO4J_PASSWORD", "HOSO_NEO4J_PASSWORD")
    )
    neo4j_database: str = Field(
        default="neo4j", validation_alias=AliasChoices("NEO4J_DATABASE", "HOSO_NEO4J_DATABASE")
    )
    neo4j_version: str = "5.26.30"
    neo4j_heap: str = "1g"
    neo4j_pagecache: str = "512m"
    neo4j_bolt_port: int | None = Field(default=None, ge=1, le=65535)
    # Concurrent write transactions of a bulk load: one per core Neo4j has.
    neo4j_writers: int = Field(default=WRITERS, ge=1, le=64)
    # A first link into an empty graph of the managed server, of at least this many records, is written with
    # `neo4j-admin database import` (the server stopped and started around it) instead of through Bolt;
    # 0 turns that off.
    initial_import_records: int = Field(default=100_000, ge=0)
    # What DuckDB may hold while training and scoring before it spills to a temporary directory.
    duckdb_memory_limit: str = Field(default=DUCKDB_MEMORY_LIMIT, pattern=r"^\d+(\.\d+)?\s*[KMGT]i?B$")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "WARNING"

    match_threshold_upper: float = Field(default=0.95, gt=0, lt=1)
    match_threshold_lower: float = Field(default=0.50, gt=0, lt=1)
    # A reviewer's MATCH or MERGE across conflicting ids, sexes or birth years takes effect only when a
    # second reviewer makes the same override.
    review_second_reviewer: bool = False

    upload_max_mb: int = Field(default=512, gt=0)
    jobs_worker: bool = True
    # Post the change feed to registered webhooks (one process of those sharing the data directory does).
    webhooks_worker: bool = True
    webhook_poll_seconds: float = Field(default=2.0, gt=0)
    jobs_poll_seconds: float = Field(default=2.0, gt=0)
    audit_flush_seconds: float = Field(default=0.5, gt=0)
    api_threads: int = Field(default=4, ge=1, le=200)
    # `hoso serve`: worker processes (0: one per core) and how long an idle client connection stays
    # open; longer than the idle timeout of a proxy in front (60 s is common), and longer than the
    # pause of a client between requests, so a client is never sent a connection the server closed.
    api_workers: int = Field(default=0, ge=0, le=64)
    api_keep_alive_seconds: int = Field(default=75, ge=1, le=3600)
    analytics_source: Literal["auto", "projection", "graph"] = "auto"
    analytics_refresh: bool = True

    jwt_secret: SecretStr | None = None
    jwt_ttl_minutes: int = Field(default=60, gt=0)
    # How long an API process trusts what it read of an account: a deactivation, a removal, a role change
    # or a revocation takes effect within this.
    auth_cache_seconds: float = Field(default=5.0, ge=0, le=300)
    # The address clients reach the API at: the absolute URLs HoSo writes (FHIR fullUrl) start with it,
    # never with the Host a request claims.
    public_url: str = Field(default="http://localhost:8000", pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
    # Addresses of the reverse proxies whose X-Forwarded-For and X-Forwarded-Proto `hoso serve` believes;
    # none by default, so a client cannot write another address into the audit trail.
    trusted_proxies: list[str] = Field(default_factory=list)

    # Text messages to citizens (the one-time codes of self-registration, password reset and consent):
    # "file" appends them to DATA/sms/outbox.jsonl (development and tests; refused in production), "http"
    # posts them to the provider at sms_url with sms_token, "none" sends nothing (what needs a code then
    # answers 503). Unset: "file", and "none" in production.
    sms_gateway: Literal["file", "http", "none"] | None = None
    sms_url: str | None = Field(default=None, pattern=r"^https?://[^\s/?#]+(/[^\s]*)?$")
    sms_token: SecretStr | None = None
    sms_sender: str = Field(default="HoSo", min_length=1, max_length=11)
    # How long a one-time code is good for, and how many codes one personal id may be sent an hour.
    otp_ttl_seconds: int = Field(default=300, ge=30, le=3600)
    otp_per_id_hour: int = Field(default=3, ge=1, le=100)

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        if self.match_threshold_lower >= self.match_threshold_upper:
            raise ValueError(
                "HOSO_MATCH_THRESHOLD_LOWER must be below HOSO_MATCH_THRESHOLD_UPPER "
                f"(got {self.match_threshold_lower} and {self.match_threshold_upper})"
            )
        if self.neo4j_uri and self.neo4j_password is None:
            raise ValueError("NEO4J_URI is set but NEO4J_PASSWORD is not: set both, or neither")
        if self.jwt_secret is not None and not self.jwt_secret.get_secret_value().strip():
            raise ValueError("HOSO_JWT_SECRET is empty: unset it (outside production) or give 32 random bytes")
        if self.environment == "production" and self.jwt_secret is None:
            raise ValueError("HOSO_JWT_SECRET must be set in production")
        if self.environment == "production" and self.jwt_secret is not None and \
                len(self.jwt_secret.get_secret_value().encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"HOSO_JWT_SECRET must hold at least {MIN_SECRET_BYTES} bytes in production "
                             "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)")
        if self.sms_gateway == "http" and (self.sms_url is None or self.sms_token is None):
            raise ValueError("HOSO_SMS_GATEWAY=http needs HOSO_SMS_URL and HOSO_SMS_TOKEN")
        if self.environment == "production" and self.sms_gateway == "file":
            raise ValueError("HOSO_SMS_GATEWAY=file writes codes to a file: production needs http (or none)")
        return self

    @property
    def sms_mode(self) -> Literal["file", "http", "none"]:
        """The SMS gateway in use: the one set, else a file in development and none in production."""
        if self.sms_gateway is not None:
            return self.sms_gateway
        return "none" if self.environment == "production" else "file"

    @property
    def data_path(self) -> Path:
        """The data directory as an absolute path."""
        return self.data_dir.expanduser().resolve()

    @property
    def neo4j_home(self) -> Path:
        """Where the managed Neo4j server keeps its configuration, store and logs."""
        return self.data_path / "neo4j"

    @property
    def managed_neo4j(self) -> bool:
        """True when HoSo runs its own Neo4j server (no `NEO4J_URI` given)."""
        return self.neo4j_uri is None


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests clear the cache with `get_settings.cache_clear()`."""
    return Settings()
