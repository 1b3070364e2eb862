"""The same model on Splink's Spark backend (pyspark local mode) gives the same persons as on DuckDB."""

from __future__ import annotations

from pathlib import Path

import pytest

from linkage import pipeline
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

    duck_pairs = pipeline.scorer_for(model, table).within(table, 0.5)
    spark = spark_session("local[2]", checkpoint_dir=str(tmp_path / "checkpoints"))
    try:
        spark_pairs = pipeline.scorer_for(model, table, spark).within(table, 0.5)
    finally:
        spark.stop()
    assert len(spark_pairs) == len(duck_pairs) > 100
    assert persons(spark_pairs) == persons(duck_pairs)
