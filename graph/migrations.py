"""Schema migrations: `graph/cypher/schema/NNN_name.cypher`, applied once each, in order.

Each file holds constraint and index statements (`IF NOT EXISTS`) separated by `;`. The runner
records every applied migration as `(:HosoMigration {id, checksum, applied_at})`, so each runs once;
a migration whose text changed after it was applied is refused rather than silently re-run.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from neo4j import Driver

from graph.errors import MigrationError
from graph.queries import CYPHER_DIR, SCHEMA_AREA, default_registry, run_schema_statement, split_statements

log = logging.getLogger(__name__)
_NAME = re.compile(r"^(?P<num>\d{3})_[a-z0-9_]+$")


@dataclass(frozen=True)
class Migration:
    """One schema file: its id (`NNN_name`), its statements and the checksum of its text."""

    id: str
    statements: tuple[str, ...]
    checksum: str


def load_migrations(schema_dir: Path = CYPHER_DIR / SCHEMA_AREA) -> list[Migration]:
    """All schema migrations in order; refuses badly named files and repeated numbers."""
    migrations: list[Migration] = []
    seen: set[str] = set()
    for path in sorted(schema_dir.glob("*.cypher")):
        match = _NAME.match(path.stem)
        if match is None:
            raise MigrationError(f"{path.name}: schema files are named NNN_name.cypher")
        if match.group("num") in seen:
            raise MigrationError(f"{path.name}: migration number {match.group('num')} is used twice")
        seen.add(match.group("num"))
        text = path.read_text(encoding="utf-8")
        statements = tuple(split_statements(text))
        if not statements:
            raise MigrationError(f"{path.name}: holds no statement")
        checksum = hashlib.sha256(text.encode()).hexdigest()
        migrations.append(Migration(id=path.stem, statements=statements, checksum=checksum))
    return migrations


def apply_migrations(driver: Driver, database: str = "neo4j", await_seconds: int = 300) -> list[str]:
    """Apply every migration not yet recorded in the graph and wait up to `await_seconds` for the indexes
    to come online; returns the ids applied now."""
    registry = default_registry()
    migrations = load_migrations()
    with driver.session(database=database) as session:
        applied = {r["id"]: r["checksum"] for r in registry.run(session, "migrations/list_applied")}
        done: list[str] = []
        for migration in migrations:
            if migration.id in applied:
                if applied[migration.id] != migration.checksum:
                    raise MigrationError(
                        f"migration {migration.id} changed after it was applied: "
                        "add a new migration instead of editing an applied one"
                    )
                continue
            for statement in migration.statements:
                try:
                    run_schema_statement(session, statement)
                except Exception as exc:
                    raise MigrationError(f"migration {migration.id} failed: {exc}") from exc
            registry.run(session, "migrations/record_applied", id=migration.id, checksum=migration.checksum)
            log.info("applied migration %s", migration.id)
            done.append(migration.id)
        registry.run(session, "system/await_indexes", seconds=await_seconds)
    return done


def pending_migrations(driver: Driver, database: str = "neo4j") -> list[str]:
    """Ids of migrations not yet applied (used by the readiness check)."""
    with driver.session(database=database) as session:
        applied = {r["id"] for r in default_registry().run(session, "migrations/list_applied")}
    return [m.id for m in load_migrations() if m.id not in applied]


def wipe_graph(driver: Driver, database: str = "neo4j", batch: int = 10_000) -> int:
    """Delete every node and relationship, in batches; returns the number of nodes deleted.

    Constraints and indexes stay; the migration log goes with the nodes, and re-applying the
    (idempotent) migrations records them again.
    """
    registry = default_registry()
    total = 0
    while True:
        deleted = registry.write(driver, "system/wipe_batch", database=database, limit=batch)[0]["deleted"]
        total += int(deleted)
        if deleted < batch:
            return total
