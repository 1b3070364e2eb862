"""The person graph on the real Neo4j: reference data, idempotent and crash-safe fact loading,
golden records with provenance, profiles."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver

from api.services import run_linking
from api.settings import Settings
from graph.load import GraphLoader, _facility, _parsed
from graph.persons import PersonNotFound, person_profile
from graph.queries import default_registry
from linkage import CodeList, load_admin_units
from linkage.intake import synthetic_inputs
from linkage.intake.batches import ingest
from linkage.synth import SynthConfig, generate
from linkage.vocab import SourceKind

KINDS = (SourceKind.POPULATION, SourceKind.COMMUNE831, SourceKind.HOSPITAL130, SourceKind.IMMUNIZATION, SourceKind.FHIR)
FACTS = "MATCH (n) WHERE n:Encounter OR n:Immunization OR n:Condition OR n:Observation RETURN count(n) AS n"
FACT_RELS = ("MATCH (:SourceRecord)-[r:HAD_ENCOUNTER|RECEIVED|REPORTED|OBSERVED]->() RETURN count(r) AS n")


def count(driver: Driver, query: str) -> int:
    return int(driver.execute_query(query).records[0]["n"])


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory, graph: Driver, settings: Settings) -> dict[str, object]:
    root = tmp_path_factory.mktemp("graph")
    generate(SynthConfig(persons=1200, seed=21), root / "synth")
    for kind, files, _ in synthetic_inputs(root / "synth", KINDS):
        ingest(kind, files, root / "data")
    local = settings.model_copy(update={"data_dir": root / "data"})
    summary = run_linking(local, graph, "neo4j")
    return {"settings": local, "summary": summary, "root": root}


def test_all_units_of_both_lists_are_loaded(linked: dict[str, object], graph: Driver) -> None:
    rows = graph.execute_query(
        "MATCH (u:AdminUnit) RETURN u.code_list AS cl, u.level AS level, count(*) AS n").records
    counts = {(r["cl"], r["level"]): r["n"] for r in rows}
    assert counts[("post2025", "province")] == 34 and counts[("post2025", "commune")] == 3321
    assert counts[("pre2025", "province")] == 63 and counts[("pre2025", "district")] > 690
    assert counts[("pre2025", "commune")] > 10_000
    # Codes were reused by the reform: commune 00008 was Liễu Giai, now Ngọc Hà.
    names = graph.execute_query(
        "MATCH (old:AdminUnit {uid: 'pre2025:commune:00008'}), (new:AdminUnit {uid: 'post2025:commune:00008'}) "
        "RETURN old.name AS old, new.name AS new, EXISTS { (old)-[:SUCCEEDED_BY]->(:AdminUnit) } AS moved").records[0]
    assert (names["old"], names["new"], names["moved"]) == ("Phường Liễu Giai", "Phường Ngọc Hà", True)
    chain = graph.execute_query(
        "MATCH (:Disease {icd10: 'E11.9'})-[:IN_GROUP]->(b)-[:IN_GROUP]->(c) RETURN b.code AS b, c.code AS c").records
    assert (chain[0]["b"], chain[0]["c"]) == ("E10-E14", "IV")


def test_facts_hang_off_records_and_reach_the_person(linked: dict[str, object], graph: Driver) -> None:
    summary = linked["summary"]
    assert isinstance(summary, dict) and summary["facts"]["encounters"] > 0
    orphan = count(graph, "MATCH (e:Encounter) WHERE NOT EXISTS { (:SourceRecord)-[:HAD_ENCOUNTER]->(e) } "
                          "RETURN count(e) AS n")
    assert orphan == 0
    reach = count(graph, "MATCH (p:Person)<-[:LINKED_TO {state: 'MATCH'}]-(:SourceRecord)-[:HAD_ENCOUNTER]->"
                         "(:Encounter)-[:DIAGNOSED {role: 'main'}]->(:Disease) RETURN count(DISTINCT p) AS n")
    assert reach > 100


def test_loading_a_batch_twice_changes_nothing(linked: dict[str, object], graph: Driver) -> None:
    settings = linked["settings"]
    assert isinstance(settings, Settings)
    before = (count(graph, FACTS), count(graph, FACT_RELS), count(graph, "MATCH ()-[r]->() RETURN count(r) AS n"))
    loader = GraphLoader(graph)
    for batch_id in sorted(loader.loaded_batches()):
        loader.load_batch(settings.data_path, batch_id)
    after = (count(graph, FACTS), count(graph, FACT_RELS), count(graph, "MATCH ()-[r]->() RETURN count(r) AS n"))
    assert after == before


def test_a_killed_load_is_completed_by_a_rerun(linked: dict[str, object], graph: Driver) -> None:
    settings = linked["settings"]
    assert isinstance(settings, Settings)
    batch = next(b for b in sorted(GraphLoader(graph).loaded_batches()) if b.startswith("hospital130"))
    complete = (count(graph, FACTS), count(graph, FACT_RELS))
    graph.execute_query(
        "MATCH (r:SourceRecord {batch_id: $b})-[:HAD_ENCOUNTER|RECEIVED|REPORTED|OBSERVED]->(f) DETACH DELETE f",
        {"b": batch})
    graph.execute_query("MATCH (b:Batch {batch_id: $b}) REMOVE b.facts_loaded_at", {"b": batch})
    emptied = count(graph, FACTS)
    assert emptied < complete[0]
    script = ("import sys; from pathlib import Path; from api.runtime import driver_for; "
              "from api.settings import get_settings; from graph.load import GraphLoader; import graph.load as gl\n"
              "gl.BATCH = 10\n"
              "s = get_settings()\n"
              "with driver_for(s) as (d, db):\n"
              f"    GraphLoader(d, db).load_batch(Path({str(settings.data_path)!r}), {batch!r})\n")
    proc = subprocess.Popen([sys.executable, "-c", script], env=dict(os.environ), cwd=Path(__file__).parent.parent)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and count(graph, FACTS) <= emptied and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    partial_facts = count(graph, FACTS)
    assert proc.returncode == -signal.SIGKILL, "the loader finished before it could be killed"
    assert emptied < partial_facts < complete[0], (emptied, partial_facts, complete)
    assert batch not in GraphLoader(graph).loaded_batches()
    summary = run_linking(settings, graph, "neo4j")  # the next run completes what was cut short
    assert summary["facts"]["records"] > 0
    assert (count(graph, FACTS), count(graph, FACT_RELS)) == complete


def test_golden_record_carries_its_sources(linked: dict[str, object], graph: Driver) -> None:
    row = graph.execute_query(
        "MATCH (p:Person)<-[:LINKED_TO {state: 'MATCH'}]-(r:SourceRecord {source: 'population'}) "
        "WITH p, r ORDER BY p.person_id LIMIT 1 RETURN p, r.uid AS uid, r.name AS name").records[0]
    person = row["p"]
    assert person["name"] == row["name"] and person["name_source"] == row["uid"]
    assert person["personal_id_source"] == row["uid"]
    assert person["record_count"] >= 1 and "population" in person["sources"]
    assert count(graph, "MATCH (p:Person) WHERE p.golden_dirty RETURN count(p) AS n") == 0


def test_profile_follows_the_831_structure(linked: dict[str, object], graph: Driver) -> None:
    pid = graph.execute_query(
        "MATCH (p:Person)<-[:LINKED_TO {state: 'MATCH'}]-(:SourceRecord)-[:HAD_ENCOUNTER]->() "
        "RETURN p.person_id AS id ORDER BY id LIMIT 1").records[0]["id"]
    profile = person_profile(graph, pid)
    assert profile["person_id"] == pid and profile["merged_from"] is None
    assert profile["administrative"]["name"] and profile["provenance"]["name"]
    assert profile["visits"] and all(v["source"] for v in profile["visits"])
    assert all(set(v) >= {"admitted_at", "facility", "diagnoses"} for v in profile["visits"])
    diagnoses = [d for v in profile["visits"] for d in v["diagnoses"]]
    # Every diagnosis has WHO's title, its chapter, and (the generator codes only shipped ones) a Vietnamese name.
    assert diagnoses and all(d["name"] and d["chapter"] and d["name_vi"] for d in diagnoses)
    with pytest.raises(PersonNotFound):
        person_profile(graph, "HS0000000000X")


def test_households_and_parents_are_derived(linked: dict[str, object], graph: Driver) -> None:
    assert count(graph, "MATCH (:Person)-[:MEMBER_OF]->(h:Household)-[:LOCATED_IN]->(:AdminUnit) "
                        "RETURN count(DISTINCT h) AS n") > 100
    assert count(graph, "MATCH (:Person)-[r:PARENT_OF]->(:Person) RETURN count(r) AS n") > 100


def test_a_station_known_only_by_its_code_is_named_after_its_commune() -> None:
    units = load_admin_units()
    commune = units.of(CodeList.PRE_2025, "commune")[0]
    station = _facility(f"T{commune.code}", units)
    assert station["fallback_name"] == f"Trạm Y tế {commune.name}" and station["level"] == "commune"
    assert station["name"] is None  # a name from a facility list, when one comes, still wins
    hospital = _facility(f"{commune.province_code}001", units)
    assert hospital["fallback_name"] is None and hospital["unit_uid"]


def _operators(plan: dict[str, object]) -> list[str]:
    children = plan.get("children") or []
    return [str(plan["operatorType"])] + [op for child in children for op in _operators(child)]  # type: ignore[attr-defined, arg-type]


def test_the_check_for_an_empty_graph_reads_the_count_store(graph: Driver, neo4j_target_: Any) -> None:
    """Every link asks whether the graph is empty (to choose a first load by import): a label named beside
    `count(n)` in one RETURN made Neo4j scan every node of the label (0.3 s at 1M persons, for one record)."""
    text = default_registry().get("system/count_written_labels").text
    with graph.session(database=neo4j_target_.database) as session:
        plan = session.run("EXPLAIN " + text).consume().plan  # type: ignore[arg-type]
    operators = _operators(plan)  # type: ignore[arg-type]
    assert not [op for op in operators if "LabelScan" in op]
    assert sum(op.startswith("NodeCountFromCountStore") for op in operators) == text.count("MATCH (n:")


def test_a_payload_orjson_refuses_is_read_as_the_standard_library_reads_it() -> None:
    """Payloads are parsed by orjson; NaN and integers beyond 64 bits, which it refuses, still load."""
    parsed = _parsed('{"weight_g": NaN, "n": 123456789012345678901234567890, "name": "Nguyễn"}')
    assert parsed["n"] == 123456789012345678901234567890 and parsed["name"] == "Nguyễn"
    assert parsed["weight_g"] != parsed["weight_g"]  # NaN
    assert _parsed('{"a": [1, 2.5, null, true]}') == {"a": [1, 2.5, None, True]}
