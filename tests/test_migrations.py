"""Schema migrations against the real Neo4j: each runs once, in order, and edits are refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from neo4j import Driver

from graph import MigrationError, apply_migrations, default_registry, load_migrations, pending_migrations


def test_migrations_are_applied_once_and_recorded(graph: Driver) -> None:
    assert pending_migrations(graph) == []
    assert apply_migrations(graph) == []
    applied = default_registry().read(graph, "migrations/list_applied")
    assert [r["id"] for r in applied] == [m.id for m in load_migrations()]
    constraints, _, _ = graph.execute_query("SHOW CONSTRAINTS YIELD name RETURN collect(name) AS names")
    assert "migration_id" in constraints[0]["names"]


def test_an_edited_migration_is_refused(graph: Driver) -> None:
    first = load_migrations()[0]
    graph.execute_query(
        "MATCH (m:HosoMigration {id: $id}) SET m.checksum = 'edited'", {"id": first.id}
    )
    try:
        with pytest.raises(MigrationError, match="changed after it was applied"):
            apply_migrations(graph)
    finally:
        graph.execute_query(
            "MATCH (m:HosoMigration {id: $id}) SET m.checksum = $c", {"id": first.id, "c": first.checksum}
        )


def test_migration_files_must_be_numbered(tmp_path: Path) -> None:
    (tmp_path / "1_bad.cypher").write_text("CREATE INDEX a IF NOT EXISTS FOR (n:A) ON (n.x);")
    with pytest.raises(MigrationError, match="NNN_name"):
        load_migrations(tmp_path)


def test_repeated_migration_numbers_are_refused(tmp_path: Path) -> None:
    (tmp_path / "001_a.cypher").write_text("CREATE INDEX a IF NOT EXISTS FOR (n:A) ON (n.x);")
    (tmp_path / "001_b.cypher").write_text("CREATE INDEX b IF NOT EXISTS FOR (n:B) ON (n.x);")
    with pytest.raises(MigrationError, match="used twice"):
        load_migrations(tmp_path)
