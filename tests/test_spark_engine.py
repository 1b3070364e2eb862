"""The same model on Splink's Spark backend (pyspark local mode) gives the same persons as on DuckDB,
and `hoso link --engine spark` runs as a Spark application under `spark-submit`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from neo4j import Driver

import api.spark_app
from graph import Neo4jTarget
from linkage import pipeline, similarity_jar_location
from linkage.intake import synthetic_inputs
from linkage.intake.batches import ingest
from linkage.matching.engines import spark_session
from linkage.mpi.plan import plan_incremental
from linkage.synth import SynthConfig, generate
from linkage.vocab import SourceKind


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_spark_and_duckdb_form_the_same_persons(tmp_path: Path) -> None:
    generate(SynthConfig(persons=800, seed=11), tmp_path / "s")
    kinds = (SourceKind.POPULATION, SourceKind.COMMUNE831, SourceKind.HOSPITAL130)
    for kind, files, _ in synthetic_inputs(tmp_path / "s", kinds):
        ingest(kind, files, tmp_path / "d")
    model = pipeline.train_model(tmp_path / "d")
    table = pipeline.load_tables(tmp_path / "d", pipeline.all_batch_ids(tmp_path / "d"))
    empty = table.iloc[0:0]

    def persons(pairs):  # type: ignore[no-untyped-def]
        plan = plan_incremental(table, empty, pairs, pairs.iloc[0:0], {}, 0.95, 0.5)
        groups: dict[str, set[str]] = {}
        for link in plan.links:
            if link.state == "MATCH":
                groups.setdefault(link.person_id, set()).add(link.uid)
        return {frozenset(g) for g in groups.values()}

    old, new = table.iloc[: len(table) // 2], table.iloc[len(table) // 2:]  # a batch against those linked
    duck_pairs = pipeline.scorer_for(model, table).within(table, 0.5)
    duck_between = pipeline.scorer_for(model, table).between(old, new, 0.5)
    spark = spark_session("local[2]", checkpoint_dir=str(tmp_path / "checkpoints"))
    try:
        spark_pairs = pipeline.scorer_for(model, table, spark).within(table, 0.5)
        spark_between = pipeline.scorer_for(model, table, spark).between(old, new, 0.5)
    finally:
        spark.stop()
    assert len(spark_pairs) == len(duck_pairs) > 100
    assert persons(spark_pairs) == persons(duck_pairs)

    def pairs(scored):  # type: ignore[no-untyped-def]
        return {(left, right, round(p, 6)) for left, right, p
                in zip(scored["unique_id_l"], scored["unique_id_r"], scored["match_probability"], strict=True)}

    assert len(spark_between) > 50 and pairs(spark_between) == pairs(duck_between)


def test_hoso_link_runs_as_a_spark_application(graph: Driver, neo4j_target_: Neo4jTarget, tmp_path: Path) -> None:
    """The deployment docs/operations.md gives: `spark-submit --master URL $(hoso spark-app) link --engine
    spark`. The master is spark-submit's (no --master to HoSo), and the batch links on it."""
    generate(SynthConfig(persons=300, seed=5), tmp_path / "synth")
    data = tmp_path / "data"
    env = dict(os.environ, HOSO_DATA_DIR=str(data), NEO4J_URI=neo4j_target_.uri,
               NEO4J_PASSWORD=neo4j_target_.password, PYSPARK_PYTHON=sys.executable,
               PYSPARK_DRIVER_PYTHON=sys.executable)
    inputs = list(synthetic_inputs(tmp_path / "synth", [SourceKind.POPULATION, SourceKind.COMMUNE831,
                                                         SourceKind.HOSPITAL130]))
    for kind, files, _ in inputs[:2]:
        ingest(kind, files, data)
    hoso = Path(sys.executable).with_name("hoso")
    first = subprocess.run([hoso, "link", "--json"], env=env, capture_output=True, text=True, timeout=300,
                           check=False)
    assert first.returncode == 0, first.stderr
    kind, files, _ = inputs[2]
    ingest(kind, files, data)
    spark_submit = [Path(sys.executable).with_name("spark-submit"), "--master", "local[1]",
                    "--conf", "spark.log.level=WARN"]
    jars, jar, app = subprocess.run([hoso, "spark-app"], capture_output=True, text=True, check=True).stdout.split()
    assert (jars, jar, app) == ("--jars", similarity_jar_location(), api.spark_app.__file__)
    link = ["link", "--engine", "spark", "--json"]
    without_jar = subprocess.run([*spark_submit, app, *link], env=env, capture_output=True, text=True, timeout=300,
                                 check=False)
    assert without_jar.returncode != 0
    # spark-submit hands HoSo's stderr to its stdout; Spark's own log goes to its stderr
    said = [line for line in without_jar.stdout.splitlines() if line.startswith("hoso")]
    assert said == [f"hoso: error: spark-submit needs Splink's string-similarity jar: add --jars {jar}"]
    out = subprocess.run([*spark_submit, jars, jar, app, *link], env=env, capture_output=True, text=True,
                         timeout=600, check=False)
    assert out.returncode == 0, out.stderr[-3000:]
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    assert summary["engine"] == {"name": "spark", "master": "local[1]"}
    assert summary["records_new"] > 100 and summary["batches"]
    assert summary["pairs_scored"] > summary["records_new"] // 2  # the hospital's patients met those linked
    assert summary["peak_memory_gb"]["hoso"] > 0 and summary["peak_memory_gb"]["spark_jvm"] > 0
    evaluated = subprocess.run([hoso, "evaluate", "--truth", str(tmp_path / "synth" / "truth.csv"), "--json"],
                               env=env, capture_output=True, text=True, timeout=300, check=False)
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["f1"] >= 0.99  # the hospital's patients joined their persons
