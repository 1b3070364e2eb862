"""The Cypher file loader: headers, parameter checks, and the shipped queries."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from neo4j import Driver
from neo4j.exceptions import Neo4jError

from graph import QueryFileError, QueryParameterError, QueryRegistry, default_registry
from graph.queries import split_statements, used_parameters


def write(root: Path, name: str, text: str) -> Path:
    path = root / f"{name}.cypher"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_used_parameters_ignore_comments_and_strings() -> None:
    text = "// $header\nMATCH (p {id: $id}) /* $block */\nRETURN '$quoted', \"$dq\", $limit, $`odd name`"
    assert used_parameters(text) == {"id", "limit", "odd name"}


def test_split_statements_keeps_semicolons_inside_strings() -> None:
    text = "// two\nCREATE INDEX a IF NOT EXISTS FOR (n:A) ON (n.x);\nRETURN 'a;b';\n// trailing comment\n"
    assert split_statements(text) == [
        "// two\nCREATE INDEX a IF NOT EXISTS FOR (n:A) ON (n.x)",
        "RETURN 'a;b'",
    ]


def test_registry_loads_a_well_formed_file(tmp_path: Path) -> None:
    write(tmp_path, "persons/get_person",
          "// Get one person.\n// params: $person_id\nMATCH (p {id: $person_id}) RETURN p")
    write(tmp_path, "system/count", "// Count.\n// params: none\nMATCH (n) RETURN count(n)")
    registry = QueryRegistry(tmp_path)
    query = registry.get("persons/get_person")
    assert query.description == "Get one person."
    assert query.params == {"person_id"}
    assert registry.get("system/count").params == frozenset()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("MATCH (n) RETURN n", "must open with"),
        ("// What.\nMATCH (n) RETURN n", "must open with"),
        ("// What.\n// params: $a\nMATCH (n {a: $a, b: $b}) RETURN n", "undeclared: ['b']"),
        ("// What.\n// params: $a, $c\nMATCH (n {a: $a}) RETURN n", "unused: ['c']"),
        ("// What.\n// params: a\nMATCH (n {a: $a}) RETURN n", "bad parameter"),
        ("// What.\n// params: none\n// only comments\n", "holds no query"),
    ],
)
def test_registry_refuses_bad_files_at_load(tmp_path: Path, text: str, message: str) -> None:
    write(tmp_path, "area/bad", text)
    with pytest.raises(QueryFileError, match=re.escape(message)):
        QueryRegistry(tmp_path)


def test_schema_files_are_left_to_the_migration_runner(tmp_path: Path) -> None:
    write(tmp_path, "schema/001_x", "CREATE INDEX a IF NOT EXISTS FOR (n:A) ON (n.x);")
    assert "schema/001_x" not in QueryRegistry(tmp_path)


def test_every_shipped_query_loads_and_is_documented() -> None:
    registry = default_registry()
    assert "system/ping" in registry
    for query in registry.queries.values():
        assert query.description, query.name
        assert query.path.read_text().startswith("//")


def test_calling_with_wrong_parameters_is_refused(graph) -> None:  # type: ignore[no-untyped-def]
    registry = default_registry()
    with pytest.raises(QueryParameterError, match="takes \\['limit'\\], was given \\['limt'\\]"):
        registry.write(graph, "system/wipe_batch", limt=5)
    assert registry.read(graph, "system/ping")[0]["ok"] == 1


def test_an_error_while_a_query_runs_names_its_file(graph: Driver) -> None:
    registry = default_registry()
    with pytest.raises(Neo4jError) as read:
        registry.read(graph, "identity/delete_auto_links", limit="not a number")
    with pytest.raises(Neo4jError) as write:
        registry.write(graph, "identity/delete_auto_links", limit=-1)
    for raised in (read.value, write.value):
        assert any("identity/delete_auto_links" in note and "delete_auto_links.cypher" in note
                   for note in raised.__notes__), raised.__notes__
