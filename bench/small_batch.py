"""What a small batch costs on top of a linked population: linking, graph, golden records, analytics.

    python -m bench.small_batch [--persons 10000] [--batch 10] [--dir DIR] [--json]

Synthesises the population, ingests every source but the last `--batch` FHIR bundles, links it all
(`hoso link`) into a Neo4j of its own under DIR (default `$HOSO_DATA_DIR/bench-small-<persons>`), then
ingests those bundles as one batch of a source the model knows and links again, and prints each step of
both runs; last, a full rebuild of the analytics projection for comparison with the incremental one the
second run did.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from api.settings import get_settings
from bench.__main__ import run
from linkage.intake import synthetic_inputs
from linkage.vocab import SourceKind

STEPS = ("standardise", "train", "score", "cluster", "store", "load_facts", "golden", "analytics")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=10, help="FHIR bundles in the small batch")
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    work = (args.dir or get_settings().data_path / f"bench-small-{args.persons}").resolve()
    env = {**os.environ, "HOSO_DATA_DIR": str(work / "data"), "HOSO_LOG_LEVEL": "ERROR"}
    env.pop("NEO4J_URI", None)
    hoso = [sys.executable, "-m", "api.cli"]
    synth = work / "synth"
    if (work / "data").exists():
        raise SystemExit(f"bench: {work / 'data'} exists: remove it (or give --dir) for a run from an empty graph")
    if not (synth / "truth.csv").exists():
        run([*hoso, "synth", "--persons", str(args.persons), "--out", str(synth)], env, False)
    held = work / "small"
    held.mkdir(parents=True, exist_ok=True)
    for kind, paths, mapping in synthetic_inputs(synth):
        files = [str(p) for p in paths]
        if kind is SourceKind.FHIR:  # all but the last bundles now; those later, as the small batch
            lines = Path(paths[0]).read_text(encoding="utf-8").splitlines(keepends=True)
            (held / "first.ndjson").write_text("".join(lines[:-args.batch]), encoding="utf-8")
            (held / "small.ndjson").write_text("".join(lines[-args.batch:]), encoding="utf-8")
            files = [str(held / "first.ndjson")]
        extra = ["--mapping", str(mapping)] if mapping else []
        run([*hoso, "ingest", kind, *files, *extra, "--json"], env)
    run([*hoso, "neo4j", "start"], env, False)
    try:
        first, first_wall = run([*hoso, "link", "--json"], env)
        run([*hoso, "ingest", "fhir", str(held / "small.ndjson"), "--json"], env)
        small, small_wall = run([*hoso, "link", "--json"], env)
        full, full_wall = run([*hoso, "analytics", "refresh", "--full"], env)
    finally:
        run([*hoso, "neo4j", "stop"], env, False)
    rows: list[dict[str, Any]] = []
    for name, summary, wall in (("first link", first, first_wall), (f"{args.batch} new bundles", small, small_wall)):
        rows.append({"run": name, "records": summary["records_new"], "wall": round(wall, 1),
                     **{step: round(summary["seconds"].get(step, 0.0), 2) for step in STEPS}})
    result = {"persons": args.persons, "rows": rows, "analytics_full_refresh": round(full["seconds"], 2),
              "analytics_full_wall": round(full_wall, 1)}
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"HoSo small batch: {args.persons:,} persons, {os.cpu_count()} cores")
    print("| run | records | wall s | " + " | ".join(STEPS) + " |")
    print("|---|---:|---:|" + "---:|" * len(STEPS))
    for row in rows:
        print(f"| {row['run']} | {row['records']:,} | {row['wall']} | "
              + " | ".join(f"{row[step]}" for step in STEPS) + " |")
    print(f"analytics projection rebuilt in full for comparison: {result['analytics_full_refresh']} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
