"""Settings come from the environment and refuse inconsistent or unsafe values."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from api.settings import Settings


def test_neo4j_variables_use_their_conventional_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEO4J_URI", "bolt://db.example:7687")
    monkeypatch.setenv("NEO4J_PASSWORD", "s3cret-value")
    settings = Settings()
    assert settings.neo4j_uri == "bolt://db.example:7687"
    assert settings.neo4j_password is not None
    assert settings.neo4j_password.get_secret_value() == "s3cret-value"
    assert "s3cret-value" not in repr(settings)
    assert not settings.managed_neo4j


def test_uri_without_password_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEO4J_URI", "bolt://db.example:7687")
    monkeypatch.delenv("NEO4J_PASSWORD", raising=False)
    with pytest.raises(ValidationError, match="NEO4J_PASSWORD is not"):
        Settings()


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ValidationError, match="must be below"):
        Settings(match_threshold_lower=0.9, match_threshold_upper=0.8)


def test_production_needs_a_jwt_secret() -> None:
    with pytest.raises(ValidationError, match="HOSO_JWT_SECRET"):
        Settings(environment="production")


def test_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HOSO_DATA_DIR", raising=False)
    (tmp_path / ".env").write_text("HOSO_DATA_DIR=/srv/hoso\nHOSO_MATCH_THRESHOLD_UPPER=0.97\n")
    settings = Settings()
    assert settings.data_dir == Path("/srv/hoso")
    assert settings.match_threshold_upper == 0.97


def test_every_tunable_is_a_setting_read_from_the_env_file_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("HOSO_DUCKDB_MEMORY_LIMIT", "HOSO_LOG_LEVEL", "HOSO_NEO4J_WRITERS"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / ".env").write_text("HOSO_DUCKDB_MEMORY_LIMIT=3GB\nHOSO_LOG_LEVEL=info\nHOSO_NEO4J_WRITERS=4\n")
    settings = Settings()
    assert (settings.duckdb_memory_limit, settings.log_level, settings.neo4j_writers) == ("3GB", "INFO", 4)


def test_a_memory_limit_duckdb_would_not_read_is_refused() -> None:
    with pytest.raises(ValidationError, match="duckdb_memory_limit"):
        Settings(duckdb_memory_limit="lots")


def test_every_setting_is_documented() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for name, field in Settings.model_fields.items():
        aliases = getattr(field.validation_alias, "choices", None) or [f"HOSO_{name.upper()}"]
        assert any(f"`{alias}`" in readme for alias in aliases), f"{aliases[0]} is not in the README's settings table"
