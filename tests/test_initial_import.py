"""A first load written by `neo4j-admin database import` makes the graph the Bolt path makes.

One small world (every source, a population batch and a FHIR batch sent twice with changes, so that
records come in two batches) is linked twice into its own managed Neo4j: through Bolt, then, after the
graph is wiped, by import. The two graphs must hold the same nodes and relationships with the same
properties, up to what differs between any two runs (the moments written, review item ids, the numbers
of the change feed). An account created before the import is still there after it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver
from neo4j.time import Date, DateTime

from api.runtime import driver_for, managed_server
from api.security import Role, add_user, authenticate
from api.services import run_linking
from api.settings import Settings
from graph import Neo4jServerError, apply_migrations
from graph.bulk import ImportFiles, ImportRefused, import_database
from graph.initial import WRITTEN
from linkage.intake import synthetic_inputs
from linkage.intake.batches import ingest
from linkage.synth import SynthConfig, generate
from linkage.vocab import SourceKind

# Properties whose value is the moment of writing or a random id: compared by their type only.
VOLATILE = {"created_at", "updated_at", "golden_updated_at", "item_since", "at", "linked_at", "facts_loaded_at",
            "applied_at", "item_id", "seq", "value", "password_changed_at"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Iterator[Settings]:
    root = tmp_path_factory.mktemp("initial-import")
    local = settings.model_copy(update={"data_dir": root / "data", "neo4j_uri": None, "neo4j_password": None,
                                        "neo4j_heap": "512m", "neo4j_pagecache": "128m", "neo4j_bolt_port": None,
                                        "jobs_worker": False, "analytics_refresh": False})
    generate(SynthConfig(persons=300, seed=11), root / "synth")
    for kind, files, mapping in synthetic_inputs(root / "synth"):
        ingest(kind, files, local.data_path, mapping=mapping)
    # The same records again in a later batch, some of them changed: records that came in two batches.
    registry = (root / "synth" / "population" / "registry.csv").read_text(encoding="utf-8-sig").splitlines()
    again = [registry[0], *(line.replace(",Nữ,", ",Nữ,", 1) for line in registry[1:6])]
    again[1] = again[1].replace("Số ", "Số nhà ", 1)
    (root / "population-again.csv").write_text("\n".join(again) + "\n", encoding="utf-8")
    ingest(SourceKind.POPULATION, [root / "population-again.csv"], local.data_path)
    bundles = sorted((root / "synth" / "fhir").glob("*.ndjson"))[0].read_text(encoding="utf-8").splitlines()
    (root / "fhir-again.ndjson").write_text("\n".join(bundles[:4]) + "\n", encoding="utf-8")
    ingest(SourceKind.FHIR, [root / "fhir-again.ndjson"], local.data_path)
    managed_server(local).start()
    yield local
    managed_server(local).stop()


def _value(name: str, value: Any) -> Any:
    if name in VOLATILE:
        return type(value).__name__
    if isinstance(value, list):
        return tuple(value)
    if isinstance(value, DateTime | Date):
        return (type(value).__name__, value.iso_format())
    return value


def snapshot(driver: Driver, database: str) -> tuple[Counter[Any], Counter[Any]]:
    """Every node (labels and properties) and relationship (its ends, type and properties), comparable."""
    def node(labels: list[str], props: dict[str, Any]) -> Any:
        return tuple(sorted(labels)), tuple(sorted((k, _value(k, v)) for k, v in props.items()))

    nodes = Counter(node(r["labels"], r["props"]) for r in driver.execute_query(
        "MATCH (n) WHERE NOT n:HosoMigration RETURN labels(n) AS labels, properties(n) AS props",
        database_=database).records)
    rels = Counter((node(r["al"], r["ap"]), r["type"], node(r["bl"], r["bp"]),
                    tuple(sorted((k, _value(k, v)) for k, v in r["props"].items())))
                   for r in driver.execute_query(
        "MATCH (a)-[r]->(b) RETURN labels(a) AS al, properties(a) AS ap, type(r) AS type, properties(r) AS props, "
        "labels(b) AS bl, properties(b) AS bp", database_=database).records)
    return nodes, rels


def test_a_first_load_by_import_makes_the_graph_the_bolt_path_makes(world: Settings) -> None:
    bolt = world.model_copy(update={"initial_import_records": 0})
    imported = world.model_copy(update={"initial_import_records": 1})
    with driver_for(world) as (driver, database):
        apply_migrations(driver, database)
        add_user(driver, "import-admin", "admin password", Role.ADMIN, database=database)
        by_bolt = run_linking(bolt, driver, database)
        assert "import_import" not in by_bolt["seconds"]
        expected = snapshot(driver, database)
        feed = driver.execute_query("MATCH (e:PersonEvent) RETURN e.seq AS seq", database_=database).records
        empty_but_accounts(driver, database)  # an empty graph holding an account and the migration log
    with driver_for(world) as (driver, database):
        by_import = run_linking(imported, driver, database)
        assert by_import["seconds"]["import_import"] > 0
        got = snapshot(driver, database)
        assert authenticate(driver, "import-admin", "admin password", database=database) is not None
        seqs = sorted(r["seq"] for r in driver.execute_query("MATCH (e:PersonEvent) RETURN e.seq AS seq",
                                                              database_=database).records)
        constraints = driver.execute_query("SHOW CONSTRAINTS YIELD name RETURN count(*) AS n",
                                           database_=database).records[0]["n"]
    assert by_import["persons"] == by_bolt["persons"] and by_import["facts"] == by_bolt["facts"]
    assert by_import["review_items"] == by_bolt["review_items"]
    assert seqs == list(range(1, len(feed) + 1)), "the change feed is numbered from 1 without a gap"
    assert constraints > 20, "the migrations built the schema of the imported graph"
    assert_same(expected, got)
    BOLT_GRAPH["snapshot"] = expected


BOLT_GRAPH: dict[str, tuple[Counter[Any], Counter[Any]]] = {}


def assert_same(expected: tuple[Counter[Any], Counter[Any]], got: tuple[Counter[Any], Counter[Any]]) -> None:
    for what, want, have in (("nodes", expected[0], got[0]), ("relationships", expected[1], got[1])):
        missing, extra = want - have, have - want
        assert not missing and not extra, (
            f"{what} differ: {sum(missing.values())} only through Bolt, e.g. {list(missing)[:2]}; "
            f"{sum(extra.values())} only by import, e.g. {list(extra)[:2]}")


def empty_but_accounts(driver: Driver, database: str) -> None:
    with driver.session(database=database) as session:
        session.run("MATCH (n) WHERE NOT n:User AND NOT n:HosoMigration CALL (n) { DETACH DELETE n } "
                    "IN TRANSACTIONS OF 5000 ROWS").consume()


def test_import_files_for_a_server_hoso_does_not_run_make_the_same_graph(world: Settings, tmp_path: Path) -> None:
    """`hoso link --import-files DIR` writes the files and the command and leaves the graph alone; once
    someone imports them and starts the server, the next `hoso link` builds the schema and loads the facts
    it was left, and the graph is the Bolt path's."""
    with driver_for(world) as (driver, database):
        empty_but_accounts(driver, database)
        out = run_linking(world, driver, database, import_files=tmp_path / "import")
        assert driver.execute_query("MATCH (p:Person) RETURN count(p) AS n", database_=database).records[0]["n"] == 0
        with pytest.raises(ImportRefused, match="not empty"):
            run_linking(world, driver, database, import_files=tmp_path / "import")
    assert out["facts_later"], "the batches holding records sent twice are left to the next link"
    assert out["command"] == f"neo4j-admin database import full @{tmp_path / 'import' / 'import.args'}"
    server = managed_server(world)
    server.stop()
    try:
        server.admin("database", "import", "full", out["command"].split()[-1])
    finally:
        server.start()
    with driver_for(world) as (driver, database):
        after = run_linking(world.model_copy(update={"initial_import_records": 0}), driver, database)
        assert set(after["facts"]) and after["records_new"] == 0
        nodes, rels = snapshot(driver, database)
    # That link found no new batch: its run is recorded as any such run is, and is not part of the load.
    idle = [n for n in nodes if n[0] == ("LinkRun",) and ("batches", ()) in n[1]]
    assert len(idle) == 1
    del nodes[idle[0]]
    assert_same(BOLT_GRAPH["snapshot"], (nodes, rels))


def test_a_link_after_the_import_goes_through_bolt(world: Settings) -> None:
    """The imported graph is an ordinary one: the next batch links through Bolt against its persons."""
    root = world.data_path.parent
    bundles = sorted((root / "synth" / "fhir").glob("*.ndjson"))[0].read_text(encoding="utf-8").splitlines()
    later_bundles = [b.replace('"id": "pt', '"id": "later-pt') for b in bundles[4:9]]  # new records, known persons
    (root / "fhir-later.ndjson").write_text("\n".join(later_bundles) + "\n", encoding="utf-8")
    ingest(SourceKind.FHIR, [root / "fhir-later.ndjson"], world.data_path)
    with driver_for(world) as (driver, database):
        persons = driver.execute_query("MATCH (p:Person) RETURN count(p) AS n", database_=database).records[0]["n"]
        later = run_linking(world.model_copy(update={"initial_import_records": 1}), driver, database)
    assert "import_import" not in later["seconds"], "a graph that holds persons is never replaced"
    assert later["records_new"] == 5 and later["new_persons"] == 0, "the records met the persons they belong to"
    assert later["persons"] == persons


def test_an_import_cut_short_blocks_the_next_until_its_dump_is_dealt_with(world: Settings) -> None:
    before = world.data_path / "import" / "before"
    before.mkdir(parents=True)
    with driver_for(world) as (driver, database):
        empty_but_accounts(driver, database)
        with pytest.raises(ImportRefused, match="an import was cut short"):
            run_linking(world.model_copy(update={"initial_import_records": 1}), driver, database)
    assert before.exists(), "the dump of the database as it was is never removed by HoSo"


def test_a_failed_import_puts_the_database_back(world: Settings, tmp_path: Path) -> None:
    files = ImportFiles(tmp_path / "bad")
    files.nodes("Person", "person_id", {"status": "string"}, [{"person_id": "P1", "status": "active"}])
    files.relationships("PARENT_OF", "Person", "Person", {}, [{"start": "P1", "end": "nobody"}])  # a dangling end
    with driver_for(world) as (driver, database):
        empty_but_accounts(driver, database)
        with pytest.raises(Neo4jServerError, match="neo4j-admin database import failed"):
            import_database(managed_server(world), database, files)
        assert authenticate(driver, "import-admin", "admin password", database=database) is not None
        assert driver.execute_query("MATCH (p:Person) RETURN count(p) AS n", database_=database).records[0]["n"] == 0
    assert not (tmp_path / "bad" / "before").exists(), "the dump is gone once the database is back"


def test_the_emptiness_check_counts_every_label_an_import_writes() -> None:
    text = (Path(__file__).parent.parent / "graph" / "cypher" / "system" / "count_written_labels.cypher").read_text()
    assert set(re.findall(r"MATCH \(n:(\w+)\)", text)) == set(WRITTEN)


def test_import_files_refuse_a_value_they_cannot_hold(tmp_path: Path) -> None:
    files = ImportFiles(tmp_path)
    with pytest.raises(ImportRefused, match=re.escape("Person.record_count: a value is not a long")):
        files.nodes("Person", "person_id", {"record_count": "long"}, [{"person_id": "P1", "record_count": "two"}])
    with pytest.raises(ImportRefused, match=re.escape("holds '|'")):
        files.nodes("Person", "person_id", {"sources": "string[]"}, [{"person_id": "P1", "sources": ["a|b"]}])
    assert files.nodes("Person", "person_id", {"record_count": "number"},
                       [{"person_id": "P1", "record_count": 2}, {"person_id": "P2", "record_count": 2.5}]) == 2
    assert len(files.arguments()) == 2, "a long and a double of one property are written as two parts"
