"""One bad input never stops linking for anyone: it is quarantined with a reason naming the field, and
the next good batch still links (real DuckDB, the real Neo4j, the whole run of `hoso link`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from neo4j import Driver

from api.services import run_linking
from api.settings import Settings
from linkage.intake import synthetic_inputs
from linkage.intake.batches import ingest
from linkage.synth import SynthConfig, generate
from linkage.vocab import SourceKind

HOSO = str(Path(sys.executable).with_name("hoso"))
HEADER = "so_dinh_danh,ho_ten,ngay_sinh,gioi_tinh,dia_chi_thuong_tru\n"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, graph: Driver, settings: Settings) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("poison")
    generate(SynthConfig(persons=300, seed=19, profile="realistic"), root / "synth")
    return {"root": root, "settings": settings.model_copy(update={"data_dir": root / "data"})}


def _persons(graph: Driver) -> int:
    return int(graph.execute_query("MATCH (p:Person) RETURN count(p) AS n").records[0]["n"])


def _population(path: Path, *rows: str) -> Path:
    path.write_text(HEADER + "".join(f"{row}\n" for row in rows), encoding="utf-8")
    return path


def test_a_batch_that_accepted_nothing_links_and_the_next_good_batch_too(world: dict[str, Any],
                                                                         graph: Driver) -> None:
    settings, root = world["settings"], world["root"]
    empty = ingest(SourceKind.POPULATION, [_population(root / "header-only.csv")], settings.data_path)
    assert empty.accepted == 0
    assert run_linking(settings, graph, "neo4j")["records_new"] == 0
    for kind, files, mapping in synthetic_inputs(root / "synth", [SourceKind.POPULATION]):
        ingest(kind, files, settings.data_path, mapping=mapping)
    summary = run_linking(settings, graph, "neo4j")
    assert summary["records_new"] > 250 and _persons(graph) > 250


@pytest.mark.parametrize(("row", "reason"), [
    ("079192000001," + "A" * 10_000 + ",1992-03-04,Nam,Hà Nội", "name_as_written: String should have at most 200"),
    ("079192000002,Nguyễn\x00Văn An,1992-03-04,Nam,Hà Nội", "name_as_written: contains a control character"),
    ("079192000003,Trần Thị Bình,1992-03-04,Nữ,Số 1\x1b[31m Hà Nội", "contains a control character"),
    ("079192000004,Lê Văn Cường,1992-03-04,Nam," + "x" * 1_001, "String should have at most 1000"),
])
def test_a_value_the_graph_or_an_export_cannot_hold_is_quarantined_and_the_rest_links(
        world: dict[str, Any], graph: Driver, row: str, reason: str) -> None:
    settings, root = world["settings"], world["root"]
    good = "079192000099,Phạm Văn Dũng,1991-02-03,Nam,Hà Nội"
    path = _population(root / f"bad-{row[:12]}.csv", row, good)
    summary = ingest(SourceKind.POPULATION, [path], settings.data_path)
    assert (summary.accepted, summary.quarantined) == (1, 1)
    assert any(reason in key for key in summary.reasons), summary.reasons
    run_linking(settings, graph, "neo4j")
    linked = graph.execute_query("MATCH (r:SourceRecord {uid: 'population|079192000099'})-[:LINKED_TO]->(p:Person) "
                                 "RETURN count(p) AS n").records[0]["n"]
    assert linked == 1


def test_a_time_beyond_eighteen_hours_of_offset_is_quarantined_and_facts_still_load(world: dict[str, Any],
                                                                                    graph: Driver) -> None:
    settings, root = world["settings"], world["root"]
    base = {"record_id": "self-1", "name_as_written": "Phạm Văn Dũng", "birth_date": "1991-02-03",
            "identifiers": [{"kind": "personal_id", "value": "079192000099"}]}
    reading = {"code": "8480-6", "value": 120, "unit": "mm[Hg]", "device": "self-reported"}
    lines = [base | {"observations": [reading | {"observed_at": "2026-01-02T08:00:00-23:59"}]},
             base | {"record_id": "self-2", "observations": [reading | {"observed_at": "2026-01-02T08:00:00+07:00"}]}]
    path = root / "self-reports.jsonl"
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    summary = ingest(SourceKind.CITIZEN, [path], settings.data_path)
    assert (summary.accepted, summary.quarantined) == (1, 1)
    assert any("observations.N.observed_at" in key and "18 hours" in key for key in summary.reasons), summary.reasons
    out = run_linking(settings, graph, "neo4j")
    assert out["facts"], out
    observations = graph.execute_query(
        "MATCH (:SourceRecord {uid: 'citizen|self-2'})-[:OBSERVED]->(o:Observation) RETURN count(o) AS n")
    assert observations.records[0]["n"] == 1


def test_a_first_batch_too_small_to_train_on_links_with_the_baseline_model(tmp_path: Path, graph: Driver,
                                                                            settings: Settings) -> None:
    local = settings.model_copy(update={"data_dir": tmp_path / "data"})
    ingest(SourceKind.POPULATION, [_population(tmp_path / "one.csv", "079192000123,Võ Thị Em,1993-04-05,Nữ,Huế")],
           local.data_path)
    summary = run_linking(local, graph, "neo4j")
    assert summary["records_new"] == 1 and summary["new_persons"] == 1
    model = json.loads(next((local.data_path / "models").glob("model-v*.json")).read_text())
    assert model["hoso"]["from_baseline"] == ["all"]


def test_a_batch_that_cannot_be_linked_is_set_aside_and_the_others_link(tmp_path: Path, graph: Driver,
                                                                         settings: Settings) -> None:
    local = settings.model_copy(update={"data_dir": tmp_path / "data"})
    generate(SynthConfig(persons=200, seed=41, profile="realistic"), tmp_path / "synth")
    kind, files, _ = next(synthetic_inputs(tmp_path / "synth", [SourceKind.POPULATION]))
    good = ingest(kind, files, local.data_path)
    broken = ingest(SourceKind.POPULATION, [_population(tmp_path / "broken.csv",
                                                        "079192009999,Trần Thị Bình,1991-02-03,Nữ,Huế")],
                    local.data_path)
    (local.data_path / "batches" / broken.batch_id / "records.parquet").write_bytes(b"not parquet at all")
    summary = run_linking(local, graph, "neo4j")
    assert summary["records_new"] == good.accepted and list(summary["set_aside"]) == [broken.batch_id]
    assert good.batch_id in summary["batches"]
    env = dict(os.environ, HOSO_DATA_DIR=str(local.data_path))
    listed = subprocess.run([HOSO, "batch", "list"], capture_output=True, text=True, env=env, check=False)
    assert f"{broken.batch_id}" in listed.stdout and "set aside: cannot be standardised" in listed.stdout
    restored = subprocess.run([HOSO, "batch", "restore", broken.batch_id], capture_output=True, text=True, env=env,
                              check=False)
    assert restored.returncode == 0, restored.stderr
    again = subprocess.run([HOSO, "batch", "restore", broken.batch_id], capture_output=True, text=True, env=env,
                           check=False)
    assert again.returncode == 1 and again.stderr.strip() == f"hoso: error: batch {broken.batch_id} is not set aside"
    assert list(run_linking(local, graph, "neo4j")["set_aside"]) == [broken.batch_id]  # still broken: aside again
