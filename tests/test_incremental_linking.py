"""Incremental linking reads only what a batch meets, and decides exactly as a read of everything would.

Each batch of a synthetic world arrives and is linked on its own (the real Neo4j, real DuckDB). Before
each run, the test plans the same run the way linking did before the record index: every linked
record read back, scored against the batch, and every assignment in the graph. The run's plan and the
records it writes must be the same, link for link. Profiles unlike the default one (no ids at all,
newborns placed through their mothers, id typos) and a lost index file are part of it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from neo4j import Driver

from graph import apply_migrations, wipe_graph
from graph.identity import GraphLinkStore
from linkage import pipeline
from linkage.intake import synthetic_inputs
from linkage.intake.batches import ingest
from linkage.matching import ModelStore, RecordIndex, candidates
from linkage.mpi import LinkPlan, plan_incremental, seeded_person_ids
from linkage.standardize import LINKAGE_COLUMNS, place_newborns
from linkage.synth import SynthConfig, generate
from linkage.vocab import SourceKind

UPPER, LOWER = 0.95, 0.5


class RecordingStore(GraphLinkStore):
    """The graph store, keeping what each run wrote."""

    written: list[tuple[pd.DataFrame, LinkPlan]]

    def write(self, records: pd.DataFrame, plan: LinkPlan, *args: Any, **kwargs: Any) -> None:
        self.written.append((records, plan))
        super().write(records, plan, *args, **kwargs)


def _reference(data: Path, store: GraphLinkStore) -> tuple[pd.DataFrame, LinkPlan]:
    """The next run planned from a read of everything: every linked batch, every assignment."""
    linked = store.linked_batches()
    batches = pipeline.all_batch_ids(data)
    new_ids = [b for b in batches if b not in linked]
    old_ids = [b for b in batches if b in linked]
    existing = pipeline.load_tables(data, old_ids)
    new = pipeline.load_tables(data, new_ids)
    new = new[~new["unique_id"].isin(set(existing["unique_id"]))].reset_index(drop=True)
    everyone = pd.concat([existing, new], ignore_index=True)
    new = place_newborns(new, everyone)
    model = ModelStore(data).current()
    run_id = pipeline._run_id("link", new_ids, model.version)
    scorer = pipeline.scorer_for(model, everyone)
    plan = plan_incremental(new, existing, scorer.within(new, LOWER), scorer.between(existing, new, LOWER),
                            store.assignments(exclude_run=run_id), UPPER, LOWER, store.reviewed(),
                            make_id=seeded_person_ids(run_id))
    return new, plan


def _same_plan(got: LinkPlan, want: LinkPlan) -> None:
    assert sorted(got.new_persons) == sorted(want.new_persons)
    assert sorted(got.links) == sorted(want.links)
    assert sorted(got.duplicates) == sorted(want.duplicates)
    assert got.retired == want.retired and got.refused_conflicts == want.refused_conflicts


def _rows(table: pd.DataFrame) -> list[tuple[Any, ...]]:
    return sorted(table[LINKAGE_COLUMNS].itertuples(index=False, name=None), key=lambda row: str(row[0]))


@pytest.mark.parametrize("profile", ["realistic", "no-ids", "id-typos"])
def test_each_batch_is_planned_as_a_full_read_would_plan_it(profile: str, tmp_path: Path, graph: Driver) -> None:
    wipe_graph(graph)
    apply_migrations(graph)
    synth, data = tmp_path / "synth", tmp_path / "data"
    generate(SynthConfig(persons=1500, seed=11, profile=profile), synth)
    sources = list(synthetic_inputs(synth))
    # A model trained on every source (in a directory of its own), so that no run below retrains and
    # every run is an incremental one.
    everything = tmp_path / "everything"
    for kind, files, mapping in sources:
        ingest(kind, files, everything, mapping=mapping)
    pipeline.train_model(everything)
    shutil.copytree(everything / "models", data / "models")
    store = RecordingStore(graph)
    store.written = []
    index = RecordIndex(data)
    for step, (kind, files, mapping) in enumerate(sources):
        ingest(kind, files, data, mapping=mapping)
        if step == 3:  # the index file is lost: rebuilt from the linked batches, same decisions
            index.path.unlink()
        want_records, want_plan = _reference(data, store)
        summary = pipeline.link(data, store, UPPER, LOWER)
        assert summary.kind == "link" and summary.retrained is None, summary
        got_records, got_plan = store.written[-1]
        assert _rows(got_records) == _rows(want_records), kind
        _same_plan(got_plan, want_plan)
        assert index.batches() == [b for b in pipeline.all_batch_ids(data) if b in store.linked_batches()]
    assert index.count() == len(pipeline.load_tables(data, pipeline.all_batch_ids(data)))
    unlinked, _, _ = graph.execute_query(
        "MATCH (r:SourceRecord) WHERE NOT (r)-[:LINKED_TO {state: 'MATCH'}]->() RETURN count(r) AS n")
    assert unlinked[0]["n"] == 0


def test_the_index_keeps_the_newest_version_in_any_order_and_rebuilds_when_a_batch_leaves(tmp_path: Path) -> None:
    def table(batch: str, rows: list[tuple[str, str | None]]) -> pd.DataFrame:
        frame = pd.DataFrame({c: [None] * len(rows) for c in LINKAGE_COLUMNS})
        frame["unique_id"] = [uid for uid, _ in rows]
        frame["given_fold"] = [given for _, given in rows]
        frame["batch_id"] = batch
        frame["birth_year"] = 1990
        frame["birth_date"] = ["1990-05-01" if given == "an" else "1990-07-01" for _, given in rows]
        frame["family_key"] = "nguyen"
        frame["pid_ok"] = False
        frame["placeholder_name"] = False
        return frame

    tables = {"b1": table("b1", [("s|1", "an"), ("s|2", "binh")]), "b2": table("b2", [("s|2", "bình"), ("s|3", "an")]),
              "b0": table("b0", [("s|9", "an")])}
    ranks = {"b0": "2026-01-01|b0", "b1": "2026-01-02|b1", "b2": "2026-01-03|b2"}
    index = RecordIndex(tmp_path)
    index.sync({"b2": ranks["b2"]}, tables.__getitem__)  # the newer batch linked first
    index.sync({b: ranks[b] for b in ("b1", "b2")}, tables.__getitem__)
    assert index.count() == 3 and index.batches() == ["b1", "b2"]
    assert index.rows(["s|2"])["given_fold"].tolist() == ["bình"]  # the newest version, whatever came first
    index.add("b2", ranks["b2"], tables["b2"])  # held already: nothing changes
    assert index.count() == 3
    probe = table("new", [("s|new", "an")])
    found = index.candidates(probe)  # given_fold + birth_date is a blocking rule
    assert found["unique_id"].tolist() == ["s|1", "s|3"]  # in the batches' order, as load_tables reads them
    assert found["birth_year"].tolist() == [1990, 1990] and isinstance(found["birth_year"][0], int)
    index.sync(ranks, tables.__getitem__)  # an older batch restored: added in its place
    assert index.batches() == ["b0", "b1", "b2"] and index.count() == 4
    assert index.candidates(probe)["unique_id"].tolist() == ["s|9", "s|1", "s|3"]
    assert index.held(["s|9", "s|404"]) == {"s|9"}
    index.sync({b: ranks[b] for b in ("b0", "b2")}, tables.__getitem__)  # b1 set aside: rebuilt without it
    assert index.batches() == ["b0", "b2"] and index.held(["s|1", "s|2"]) == {"s|2"}


def test_one_record_finds_what_the_semi_joins_find(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A single record (a citizen's self-report) is looked up with its keys as constants in one scan:
    the same records, in the same order, as the semi-join per blocking rule a batch uses, whatever
    its keys (ids or none, a birth year read as a float, a missing value)."""
    generate(SynthConfig(persons=500, seed=8, profile="dense"), tmp_path / "synth")
    data = tmp_path / "data"
    for kind, files, _ in synthetic_inputs(tmp_path / "synth", [SourceKind.POPULATION, SourceKind.COMMUNE831,
                                                                 SourceKind.HOSPITAL130]):
        ingest(kind, files, data)
    ranks = pipeline.batch_ranks(data)
    index = RecordIndex(data)
    index.sync(ranks, lambda batch_id: pipeline.standardised(data, batch_id))
    table = pipeline.load_tables(data, list(ranks))
    sample = table.sample(80, random_state=3).reset_index(drop=True)
    probes = [sample.iloc[[i]] for i in range(len(sample))]
    probes += [sample.iloc[[0]].astype({"birth_year": "float64"}),  # as read through a column with gaps
               sample.iloc[[1]].assign(personal_id=None, bhxh=None, cmnd=None, phone=None, other_id=None)]
    found = 0
    for probe in probes:
        one_scan = index.candidates(probe)
        with monkeypatch.context() as patched:
            patched.setattr(candidates, "ONE_SCAN_RECORDS", 0)
            semi_joins = index.candidates(probe)
        pd.testing.assert_frame_equal(one_scan, semi_joins)
        found += len(one_scan)
    assert found > 2 * len(probes)  # each record finds itself and others


def test_a_kept_connection_sees_a_rebuild_and_a_failed_write_leaves_nothing(tmp_path: Path) -> None:
    """Within `kept_open` (how a link uses the index) one connection serves every call: a rebuild
    replaces the file under it and the next call reads the new one; a write that fails mid-way is
    rolled back, and the connection still works."""
    def table(batch: str, uids: list[str]) -> pd.DataFrame:
        frame = pd.DataFrame({c: [None] * len(uids) for c in LINKAGE_COLUMNS})
        frame["unique_id"], frame["batch_id"], frame["given_fold"] = uids, batch, "an"
        frame["family_key"], frame["birth_year"], frame["pid_ok"], frame["placeholder_name"] = "le", 1990, False, False
        return frame

    tables = {"b1": table("b1", ["s|1"]), "b2": table("b2", ["s|2", "s|3"])}
    ranks = {"b1": "2026-01-01|b1", "b2": "2026-01-02|b2"}
    index = RecordIndex(tmp_path)
    with index.kept_open():
        index.sync(ranks, tables.__getitem__)
        assert index.count() == 3
        index.sync({"b2": ranks["b2"]}, tables.__getitem__)  # b1 set aside: the file is rebuilt
        assert index.batches() == ["b2"] and index.count() == 2
        broken = table("b3", ["s|4"]).assign(birth_year="not a year")
        with pytest.raises(duckdb.Error):
            index.add("b3", "2026-01-03|b3", broken)
        assert index.batches() == ["b2"] and index.count() == 2  # nothing of b3
        index.add("b3", "2026-01-03|b3", table("b3", ["s|4"]))
        assert index.count() == 3
    assert index.batches() == ["b2", "b3"]  # written to the file, read by a connection of its own
