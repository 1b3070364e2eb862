"""The warm-up after a start: a link's queries on a sample of the graph, every write rolled back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import LinkedWorld
from neo4j import Driver

from api.settings import Settings
from graph import Neo4jTarget, WarmUp, apply_migrations, default_registry, warm_up, wipe_graph
from linkage.synth import SynthConfig
from linkage.vocab import SourceKind

KINDS = (SourceKind.POPULATION, SourceKind.COMMUNE831, SourceKind.HOSPITAL130)
HOSO = str(Path(sys.executable).with_name("hoso"))


def hoso(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HOSO, *args], capture_output=True, text=True, timeout=300, check=False)


def _state(driver: Driver, database: str) -> dict[str, Any]:
    """What a warm-up must leave as it was: the counts, every link and person's properties, the feed."""
    registry = default_registry()
    counts = {f"{r['kind']}:{r['name']}": r["count"] for r in registry.read(driver, "system/fingerprint",
                                                                             database=database)}
    links, _, _ = driver.execute_query(
        "MATCH (r:SourceRecord)-[l:LINKED_TO]->(p:Person) "
        "RETURN r.uid AS uid, p.person_id AS person, properties(l) AS link, properties(r) AS record "
        "ORDER BY uid, person", database_=database)
    persons, _, _ = driver.execute_query(
        "MATCH (p:Person) OPTIONAL MATCH (p)-[m:MEMBER_OF]->(h:Household) "
        "RETURN p.person_id AS id, properties(p) AS props, h.code AS household ORDER BY id", database_=database)
    feed = registry.read(driver, "system/feed_last_value", database=database)
    return {"counts": counts, "links": [r.data() for r in links], "persons": [r.data() for r in persons],
            "feed": [r.data() for r in feed]}


def test_an_empty_graph_warms_the_plans_only(graph: Driver, neo4j_target_: Neo4jTarget) -> None:
    wipe_graph(graph, neo4j_target_.database)
    apply_migrations(graph, neo4j_target_.database)
    before = _state(graph, neo4j_target_.database)
    done = warm_up(graph, neo4j_target_.database, rounds=1)
    assert done.records == 0
    assert "identity/set_links" in done.queries
    assert _state(graph, neo4j_target_.database) == before


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, graph: Driver, linked_world: LinkedWorld) -> Settings:
    return linked_world(tmp_path_factory.mktemp("warm"), SynthConfig(persons=200, seed=19), KINDS, graph,
                        jobs_worker=False, webhooks_worker=False)


def test_the_warm_up_writes_a_sample_back_and_leaves_the_graph_as_it_was(
        world: Settings, graph: Driver, neo4j_target_: Neo4jTarget) -> None:
    before = _state(graph, neo4j_target_.database)
    links = sum(1 for link in before["links"] if link["link"]["state"] == "MATCH")
    done = warm_up(graph, neo4j_target_.database, sample=150, rounds=2)
    assert isinstance(done, WarmUp)
    assert done.records == min(150, links) > 0
    assert {"identity/upsert_records", "identity/set_links", "persons/set_golden",
            "new records linked"} <= set(done.queries)
    # Every query a link runs, the small ones too: a first plan costs a batch after a start 0.1-0.4 s each.
    assert {"load/facilities", "load/vaccines", "load/diseases", "load/record_details", "load/conditions",
            "identity/set_possible_duplicates", "identity/record_run", "load/mark_batch_loaded",
            "analytics/export/facility_days", "system/await_indexes", "feed/last"} <= set(done.queries)
    assert _state(graph, neo4j_target_.database) == before  # every write rolled back, nothing made up left
    assert "warmed up on 150 records" in done.summary()


def test_hoso_neo4j_warm_up_says_what_it_did(world: Settings, graph: Driver) -> None:
    out = hoso("neo4j", "warm-up", "--records", "50", "--json")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["records"] == 50 and report["rounds"] == 3
    assert report["queries"]["identity/set_links"] > 0
    wrong = hoso("neo4j", "warm-up", "--records", "-1")
    assert wrong.returncode != 0 and "Traceback" not in wrong.stderr and "--records" in wrong.stderr
