"""Linking end to end on real DuckDB and the real Neo4j: batch, incremental, rebuild, evaluation."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from neo4j import Driver

import api.app as app_module
from api.settings import Settings
from graph import Neo4jTarget
from graph.identity import GraphLinkStore, _with_derived_keys, graph_candidates, graph_population
from linkage import pipeline
from linkage.evaluation import evaluate_linkage, read_truth
from linkage.intake import synthetic_inputs
from linkage.intake.batches import ingest
from linkage.matching import ModelStore, TrainedModel
from linkage.matching.realtime import RealtimeMatcher
from linkage.matching.training import match_weights_chart
from linkage.synth import SynthConfig, generate
from linkage.vocab import SourceKind

UPPER, LOWER = 0.95, 0.5
FIRST = (SourceKind.POPULATION, SourceKind.COMMUNE831, SourceKind.IMMUNIZATION, SourceKind.FHIR)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, graph: Driver) -> dict[str, object]:
    root = tmp_path_factory.mktemp("linkage")
    synth, data = root / "synth", root / "data"
    generate(SynthConfig(persons=2500, seed=7, profile="realistic"), synth)
    for kind, files, _ in synthetic_inputs(synth, FIRST):
        ingest(kind, files, data)
    store = GraphLinkStore(graph)
    first = pipeline.link(data, store, UPPER, LOWER)
    return {"synth": synth, "data": data, "store": store, "first": first,
            "after_first": store.assignments()}


def test_first_link_forms_accurate_persons(world: dict[str, object]) -> None:
    data, store, synth = world["data"], world["store"], world["synth"]
    assert isinstance(store, GraphLinkStore) and isinstance(data, Path) and isinstance(synth, Path)
    scores = evaluate_linkage(data, store.assignments(), read_truth(synth / "truth.csv"))
    assert scores["f1"] >= 0.98, scores
    assert scores["blocking_recall"] >= 0.99, scores
    assert ModelStore(data).current().version == "v001"


def test_every_link_says_why(world: dict[str, object], graph: Driver) -> None:
    records, _, _ = graph.execute_query(
        "MATCH (:SourceRecord)-[l:LINKED_TO {state: 'POSSIBLE_MATCH'}]->(:Person) RETURN l LIMIT 20 "
        "UNION MATCH (:SourceRecord)-[l:LINKED_TO {state: 'MATCH'}]->(:Person) WHERE l.match_weight IS NOT NULL "
        "RETURN l LIMIT 20")
    assert records
    for record in records:
        link = record["l"]
        assert 0 <= link["probability"] <= 1 and link["model_version"] == "v001" and link["origin"] == "AUTO"
        assert set(json.loads(link["weights"])) >= {"given_name", "birth", "personal_id"}


def test_no_person_holds_two_valid_personal_ids(world: dict[str, object], graph: Driver) -> None:
    records, _, _ = graph.execute_query(
        "MATCH (r:SourceRecord)-[:LINKED_TO {state: 'MATCH'}]->(p:Person) WHERE r.pid_ok "
        "WITH p, count(DISTINCT r.personal_id) AS ids WHERE ids > 1 RETURN count(p) AS conflicted")
    assert records[0]["conflicted"] == 0


def test_at_most_one_match_per_record(world: dict[str, object], graph: Driver) -> None:
    records, _, _ = graph.execute_query(
        "MATCH (r:SourceRecord)-[l:LINKED_TO {state: 'MATCH'}]->() WITH r, count(l) AS n WHERE n > 1 "
        "RETURN count(r) AS doubled")
    assert records[0]["doubled"] == 0


def test_linking_again_with_nothing_new_changes_nothing(world: dict[str, object]) -> None:
    store, data = world["store"], world["data"]
    assert isinstance(store, GraphLinkStore) and isinstance(data, Path)
    summary = pipeline.link(data, store, UPPER, LOWER)
    assert summary.records_new == 0 and summary.stats["new_persons"] == 0
    assert store.assignments() == world["after_first"]


def test_a_new_batch_joins_existing_persons_without_changing_their_ids(world: dict[str, object]) -> None:
    store, data, synth = world["store"], world["data"], world["synth"]
    assert isinstance(store, GraphLinkStore) and isinstance(data, Path) and isinstance(synth, Path)
    before = store.assignments()
    ingest(SourceKind.HOSPITAL130, sorted(synth.glob("hospital130/*.xml")), data)
    summary = pipeline.link(data, store, UPPER, LOWER)
    assert summary.records_new > 0 and summary.stats["match_links"] > 0
    after = store.assignments()
    unchanged = sum(1 for uid, person in before.items() if after.get(uid) == person)
    assert unchanged == len(before)
    matched_old = {after[u] for u in after if u not in before} & set(before.values())
    assert len(matched_old) > 100  # hospital records found persons that already existed
    scores = evaluate_linkage(data, after, read_truth(synth / "truth.csv"))
    assert scores["f1"] >= 0.98, scores


def test_rebuild_keeps_ids_and_reviewers_decisions(world: dict[str, object], graph: Driver) -> None:
    store, data = world["store"], world["data"]
    assert isinstance(store, GraphLinkStore) and isinstance(data, Path)
    before = store.assignments()
    victim = sorted(before)[0]
    person = before[victim]
    graph.execute_query(
        "MATCH (r:SourceRecord {uid: $uid})-[l:LINKED_TO]->(p:Person {person_id: $pid}) "
        "SET l.state = 'NO_MATCH', l.origin = 'MANUAL'", {"uid": victim, "pid": person})
    summary = pipeline.relink(data, store, UPPER, LOWER)
    after = store.assignments()
    assert after.get(victim) != person
    kept, _, _ = graph.execute_query(
        "MATCH (:SourceRecord {uid: $uid})-[l:LINKED_TO {state: 'NO_MATCH', origin: 'MANUAL'}]->"
        "(:Person {person_id: $pid}) RETURN count(l) AS n", {"uid": victim, "pid": person})
    assert kept[0]["n"] == 1
    same = sum(1 for uid, p in before.items() if after.get(uid) == p)
    assert same >= 0.99 * len(before)
    assert summary.kind == "relink"


def test_realtime_matching_finds_the_person_through_indexes(world: dict[str, object], graph: Driver) -> None:
    store, data = world["store"], world["data"]
    assert isinstance(store, GraphLinkStore) and isinstance(data, Path)
    rows, _, _ = graph.execute_query(
        "MATCH (r:SourceRecord {source: 'population'})-[:LINKED_TO {state: 'MATCH'}]->(p:Person) "
        "WHERE r.birth_date IS NOT NULL RETURN r, p.person_id AS person_id ORDER BY r.uid LIMIT 25")
    model = ModelStore(data).current()
    population = graph_population(graph)
    counted, _, _ = graph.execute_query("MATCH (r:SourceRecord) RETURN count(r) AS n")
    assert population == counted[0]["n"] > 0
    matcher = RealtimeMatcher(model, graph_candidates(graph), population=population)
    # Scored among the graph's records: the model's prior, scaled if they outgrew its training's.
    assert matcher.scorer.settings["probability_two_random_records_match"] == pytest.approx(
        model.splink["probability_two_random_records_match"] * min(1.0, model.meta["records"] / population))
    hits = 0
    for row in rows:
        r = row["r"]
        fields = {"name_as_written": r["name"], "birth_date": date.fromisoformat(r["birth_date"]), "sex": r["sex"],
                  "commune_code": r.get("commune"), "code_list": "post2025"}
        candidates = matcher.match(fields)
        assert candidates, fields
        best = candidates[0]
        assert best.weights["given_name"] > 0 and best.weights["birth"] > 0
        hits += best.person_id == row["person_id"]
    assert hits >= 24
    # Many request threads share the matcher's few connections and get the same answers.

    queries = [{"name_as_written": row["r"]["name"], "birth_date": date.fromisoformat(row["r"]["birth_date"]),
                "sex": row["r"]["sex"]} for row in rows]
    alone = [[c.person_id for c in matcher.match(q)] for q in queries]
    with ThreadPoolExecutor(max_workers=12) as pool:
        together = list(pool.map(lambda q: [c.person_id for c in matcher.match(q)], queries * 2))
    assert together == alone * 2 and matcher._created <= matcher._size
    nobody = matcher.match({"name_as_written": "Zzyzx Qwerty", "birth_date": date(1901, 1, 1)})
    assert all(c.probability < 0.5 for c in nobody)
    # Day and month written the other way round: the candidate read from the graph carries its
    # transposed date, so the model's "day and month transposed" level applies (evidence for, not against).
    row = next(row for row in rows if 1 <= int(row["r"]["birth_date"][8:]) <= 12
               and row["r"]["birth_date"][8:] != row["r"]["birth_date"][5:7])
    born = date.fromisoformat(row["r"]["birth_date"])
    swapped = {"name_as_written": row["r"]["name"], "birth_date": date(born.year, born.day, born.month),
               "sex": row["r"]["sex"]}
    mine = next(c for c in matcher.match(swapped) if c.person_id == row["person_id"])
    assert mine.weights["birth"] > 0


def test_candidates_read_from_the_graph_get_the_keys_derived_from_what_it_keeps() -> None:
    """Birth keys for a record written before the graph kept them; the names keyed always (the graph
    keeps the names and the sex only)."""
    unnamed = {"given_key": None, "middle_key": None}
    assert _with_derived_keys({"birth_date": "1990-03-05"}) == {
        "birth_date": "1990-03-05", "birth_ym": "1990-03", "birth_dm_swap": "1990-05-03", **unnamed}
    assert _with_derived_keys({"birth_year": 1990}) == {"birth_year": 1990, **unnamed}
    stored = {"birth_date": "1990-03-05", "birth_ym": "1990-03", "birth_dm_swap": "1990-05-03"}
    assert _with_derived_keys(dict(stored)) == {**stored, **unnamed}
    named = _with_derived_keys({"family_fold": "nguyen", "middle_fold": "thi", "given_fold": "lan", "sex": "female"})
    assert (named["middle_key"], named["given_key"]) == ("female|nguyen|thi", "female|nguyen|thi|lan")
    assert _with_derived_keys({"given_fold": "lan"})["given_key"] == "|||lan"


def test_match_weight_chart_is_written_as_html(world: dict[str, object], tmp_path: Path) -> None:
    data = world["data"]
    assert isinstance(data, Path)
    chart = match_weights_chart(ModelStore(data).current(), tmp_path / "weights.html")
    html = chart.read_text()
    assert "vega" in html and "given_name" in html


def test_batches_standardised_by_worker_processes_equal_those_standardised_here(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A first link standardises its batches in one process per core: the same tables; a batch a worker
    cannot standardise is left to the caller, which sets it aside with its reason."""
    synth, data = tmp_path / "synth", tmp_path / "data"
    generate(SynthConfig(persons=300, seed=3, profile="realistic"), synth)
    ids = [ingest(kind, files, data).batch_id for kind, files, _ in synthetic_inputs(synth, FIRST)]
    monkeypatch.setattr(pipeline, "PARALLEL_RECORDS", 0)
    monkeypatch.setattr(pipeline.os, "cpu_count", lambda: 2)
    assert pipeline.standardise_ahead(data, ids[:1]) == 0  # one batch: no worker to start
    assert not pipeline._cache(data, ids[0]).exists()
    assert pipeline.standardise_ahead(data, ids) == len(ids)
    assert pipeline.standardise_ahead(data, ids) == 0  # nothing left
    by_workers = {b: pd.read_parquet(pipeline._cache(data, b)) for b in ids}
    for batch_id in ids:
        pipeline._cache(data, batch_id).unlink()
        pipeline.standardised(data, batch_id)  # here, as written when no worker runs
        pd.testing.assert_frame_equal(pd.read_parquet(pipeline._cache(data, batch_id)), by_workers[batch_id])
        pipeline._cache(data, batch_id).unlink()
    broken = ids[-1]
    (data / "batches" / broken / "records.parquet").write_bytes(b"not parquet")
    assert pipeline.standardise_ahead(data, ids) == len(ids) - 1
    refused: dict[str, str] = {}
    assert pipeline.linkable(data, ids, refused) == ids[:-1]
    assert list(refused) == [broken] and "cannot be standardised" in refused[broken]


def test_the_apis_matcher_is_rebuilt_when_the_records_grow_by_a_tenth(
        world: dict[str, object], graph: Driver, settings: Settings, neo4j_target_: Neo4jTarget,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Its prior follows the graph's records (counted at most once a second), without recompiling the
    model at every record a link adds."""
    data = world["data"]
    assert isinstance(data, Path)
    clock, count = [1000.0], [graph_population(graph)]
    monkeypatch.setattr(app_module.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(app_module, "graph_population", lambda driver, database: count[0])
    current = app_module._matcher_factory(settings.model_copy(update={"data_dir": data}), graph,
                                            neo4j_target_.database)
    first = current()
    assert first is not None and first.population == count[0]
    count[0] = int(count[0] * 1.05)
    clock[0] += 2
    assert current() is first  # a twentieth more: the same matcher
    count[0] = 3 * first.population
    assert current() is first  # counted again only after a second
    clock[0] += 2
    grown = current()
    assert grown is not None and grown is not first and grown.population == count[0]
    prior = "probability_two_random_records_match"
    assert grown.scorer.settings[prior] < first.scorer.settings[prior]


def test_a_model_is_parsed_once_while_its_file_stays_as_it_is(tmp_path: Path) -> None:
    """A server links one self-report after another: the model (its names' frequencies tens of MB at a
    million persons) is read from its file once, and again only when the file changes."""
    models = ModelStore(tmp_path)
    saved = models.save(TrainedModel(splink={"link_type": "dedupe_only", "comparisons": []},
                                     tf={"given_key": {"an": 0.1}}))
    first, again = models.current(), models.current()
    assert first.tf is again.tf and first.tf == {"given_key": {"an": 0.1}} and first.path == saved.path
    assert saved.path is not None
    edited = json.loads(saved.path.read_text(encoding="utf-8"))
    edited["tf"] = {"given_key": {"an": 0.2}}
    saved.path.write_text(json.dumps(edited), encoding="utf-8")
    later = saved.path.stat().st_mtime_ns + 1_000_000_000  # a file system's clock may not tick between writes
    os.utime(saved.path, ns=(later, later))
    assert models.current().tf == {"given_key": {"an": 0.2}}

