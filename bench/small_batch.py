"""What a small batch costs on top of a linked population: linking, graph, golden records, analytics.

    python -m bench.small_batch [--persons 10000] [--profile realistic] [--batch 1000,1] [--engine duckdb]
                                [--restart warm-up,cold] [--dir DIR] [--json]

Synthesises the population, ingests every source but the last FHIR bundles (as many as the batches
add up to; a bundle is one person's record from one facility), links it all (`hoso link`) into a Neo4j
of its own under DIR (default `$HOSO_DATA_DIR/bench-small-<persons>`), then ingests each batch of
bundles in turn as a batch of a source the model knows and links it, and prints each step of every run
with the run's peak resident memory; last, a full rebuild of the analytics projection for comparison
with the incremental ones the small runs did. With `--engine spark` the small batches are linked on
Spark in local mode (the first link stays the import), and each row says the peak memory of HoSo's own
process (the driver's Python) and of Spark's JVM apart. With `--restart`, Neo4j is stopped and started
again before each small batch, as after maintenance: `warm-up` starts it as `hoso neo4j start` does (its
warm-up included, timed apart), `cold` with `--no-warm-up`; a list (`cold,warm-up`) takes turns.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from api.settings import get_settings
from bench.__main__ import hold_out, run, run_measured
from linkage.intake import synthetic_inputs
from linkage.vocab import SourceKind

STEPS = ("standardise", "train", "score", "cluster", "store", "import_files", "import_import", "import_schema",
         "load_facts", "golden", "analytics", "warm_up")


def first_load(summary: dict[str, Any]) -> dict[str, Any] | None:
    """The first link's figures when it was written by import: linking, the graph part (import files,
    the import, the schema, what followed through Bolt) and its rate against the import tool's alone."""
    if "imported" not in summary:
        return None
    seconds = summary["seconds"]
    total = summary["imported"]["nodes"] + summary["imported"]["relationships"]
    linking = sum(seconds.get(k, 0.0) for k in ("standardise", "train", "score", "cluster"))
    graph = sum(seconds.get(k, 0.0) for k in ("store", "import_files", "import_import", "import_schema",
                                               "load_facts", "golden"))
    return {"nodes_and_relationships": total, "linking": round(linking, 1), "graph": round(graph, 1),
            "total": round(linking + graph, 1), "graph_rate": round(total / graph),
            "import_rate": round(total / seconds["import_import"]),
            "share_of_import_rate": round(seconds["import_import"] / graph, 2),
            # The import files: the persons' side, then the wait for the facts' process beside it.
            "files_persons": seconds.get("import_files_persons"),
            "files_waiting_for_facts": seconds.get("import_files_waiting_for_facts")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--profile", default="realistic",
                        help="the synthesis's error profile (`hoso synth --help`); dense: Vietnam's name density")
    parser.add_argument("--batch", default="1000,1",
                        help="FHIR bundles in each small batch, linked one after the other (comma-separated)")
    parser.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                        help="where Splink scores the small batches")
    parser.add_argument("--restart", default=None,
                        help="restart Neo4j before each small batch, warming it up or not: warm-up, cold, "
                             "or both in turns (cold,warm-up)")
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    try:
        sizes = [int(size) for size in args.batch.split(",")]
    except ValueError:
        raise SystemExit(f"bench: --batch {args.batch!r}: give bundle counts, comma-separated (1000,1)") from None
    restarts = args.restart.split(",") if args.restart else []
    if unknown := [mode for mode in restarts if mode not in ("warm-up", "cold")]:
        raise SystemExit(f"bench: --restart {args.restart!r}: {unknown[0]} is neither warm-up nor cold")
    work = (args.dir or get_settings().data_path / f"bench-small-{args.persons}").resolve()
    big = args.persons >= 500_000  # the graph of a million persons wants the memory bench.__main__ gives it
    env = {**os.environ, "HOSO_DATA_DIR": str(work / "data"), "HOSO_LOG_LEVEL": "ERROR",
           "HOSO_NEO4J_HEAP": "3g" if big else "1g", "HOSO_NEO4J_PAGECACHE": "4g" if big else "1g"}
    env.pop("NEO4J_URI", None)
    hoso = [sys.executable, "-m", "api.cli"]
    synth = work / "synth"
    if (work / "data").exists():
        raise SystemExit(f"bench: {work / 'data'} exists: remove it (or give --dir) for a run from an empty graph")
    if not (synth / "truth.csv").exists():
        run([*hoso, "synth", "--persons", str(args.persons), "--profile", args.profile, "--out", str(synth)], env,
            False)
    held = work / "small"
    for kind, paths, mapping in synthetic_inputs(synth):
        files = [str(p) for p in paths]
        if kind is SourceKind.FHIR:  # all but the last bundles now; those later, as the small batches
            files = [str(hold_out(Path(paths[0]), held, sizes))]
        extra = ["--mapping", str(mapping)] if mapping else []
        run([*hoso, "ingest", kind, *files, *extra, "--json"], env)
    run([*hoso, "neo4j", "start"], env, False)
    runs: list[tuple[str, Any, float, float]] = []
    try:
        runs.append(("first link", *run_measured([*hoso, "link", "--json"], env)))
        for number, size in enumerate(sizes):
            run([*hoso, "ingest", "fhir", str(held / f"small-{number}.ndjson"), "--json"], env)
            name = f"{size:,} new bundles"
            if restarts:
                mode = restarts[number % len(restarts)]
                run([*hoso, "neo4j", "stop"], env, False)
                _, started = run([*hoso, "neo4j", "start", *(["--no-warm-up"] if mode == "cold" else [])], env,
                                 False)
                name += f", after a restart ({mode}: {started:.1f} s)"
            runs.append((name,
                         *run_measured([*hoso, "link", "--engine", args.engine, "--json"], env)))
        full, full_wall = run([*hoso, "analytics", "refresh", "--full"], env)
    finally:
        run([*hoso, "neo4j", "stop"], env, False)
    rows: list[dict[str, Any]] = []
    for name, summary, wall, peak in runs:
        rows.append({"run": name, "records": summary["records_new"], "of": summary["records_total"],
                     "wall": round(wall, 1), "peak_gb": round(peak, 2),
                     "hoso_gb": summary["peak_memory_gb"]["hoso"],
                     "spark_jvm_gb": summary["peak_memory_gb"].get("spark_jvm", 0.0),
                     **{step: round(summary["seconds"].get(step, 0.0), 2) for step in STEPS}})
    result = {"persons": args.persons, "profile": args.profile, "engine": args.engine, "restart": args.restart,
              "rows": rows,
              "first_load": first_load(runs[0][1]),
              "analytics_full_refresh": round(full["seconds"], 2),
              "analytics_full_wall": round(full_wall, 1)}
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"HoSo small batch: {args.persons:,} persons ({args.profile}), small batches on {args.engine}, "
          f"{os.cpu_count()} cores")
    print("| run | records | of | wall s | peak GB | HoSo GB | Spark JVM GB | " + " | ".join(STEPS) + " |")
    print("|---|---:|---:|---:|---:|---:|---:|" + "---:|" * len(STEPS))
    for row in rows:
        print(f"| {row['run']} | {row['records']:,} | {row['of']:,} | {row['wall']} | {row['peak_gb']} | "
              f"{row['hoso_gb']} | {row['spark_jvm_gb']} | "
              + " | ".join(f"{row[step]}" for step in STEPS) + " |")
    print(f"analytics projection rebuilt in full for comparison: {result['analytics_full_refresh']} s")
    if first := result.get("first_load"):
        print(f"first load by neo4j-admin import: {first['nodes_and_relationships']:,} nodes and relationships; "
              f"linking {first['linking']} s + graph {first['graph']} s = {first['total']} s; the graph part "
              f"{first['graph_rate']:,} per s = {first['share_of_import_rate']}× the import tool's "
              f"{first['import_rate']:,} per s in the same run; writing the import files: persons "
              f"{first['files_persons']} s, then waiting {first['files_waiting_for_facts']} s for the facts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
