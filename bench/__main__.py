"""`hoso bench` / `make bench`: every benchmark on one synthetic population, printed as one table.

    python -m bench [--persons 100000] [--no-reference] [--dir DIR]

Synthesises the population, ingests every source, links and loads it (`hoso link`) into a Neo4j of its
own under DIR (default `$HOSO_DATA_DIR/bench-<persons>`), then measures the API under 50 clients and
every analysis on that graph, and last links 1,000 new records and then one (FHIR bundles held out of
the first load) end to end, with each run's peak memory. The linking reference (bare Splink with the
same settings on the same prepared table) runs on its own copy of the population unless
`--no-reference`. Prints: figure, value, unit, target and, where a reference was measured in the same
run, the ratio to it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from api.settings import get_settings
from linkage.intake import synthetic_inputs
from linkage.vocab import SourceKind

SMALL_BATCHES = [1000, 1]  # FHIR bundles held out of the first load and linked after it, one batch each


def run(args: list[str], env: dict[str, str], want_json: bool = True) -> tuple[Any, float]:
    """Run a command; its JSON (the last line that is an object), or its output, and its wall seconds."""
    out, seconds, _ = run_measured(args, env, want_json)
    return out, seconds


def run_measured(args: list[str], env: dict[str, str], want_json: bool = True) -> tuple[Any, float, float]:
    """`run`, and the command's peak resident memory in GB (its own and its children's that it waited for)."""
    with tempfile.TemporaryFile("w+") as stdout, tempfile.TemporaryFile("w+") as stderr:
        began = time.perf_counter()
        child = subprocess.Popen(args, env=env, stdout=stdout, stderr=stderr, text=True)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - began
        child.returncode = os.waitstatus_to_exitcode(status)
        stdout.seek(0)
        stderr.seek(0)
        output, errors = stdout.read(), stderr.read()
    if child.returncode != 0:
        raise SystemExit(f"bench: {' '.join(args[:4])} failed:\n{errors[-3000:]}")
    peak_gb = usage.ru_maxrss / 1024 / 1024  # kilobytes on Linux
    if not want_json:
        return output, seconds, peak_gb
    last = [line for line in output.splitlines() if line.startswith("{")][-1]
    return json.loads(last), seconds, peak_gb


def hold_out(bundles: Path, held: Path, sizes: list[int]) -> Path:
    """Split a synthetic FHIR file: the last bundles into `held/small-<n>.ndjson`, one file of `sizes[n]`
    bundles each, and the others into `held/first.ndjson`, which is returned."""
    held.mkdir(parents=True, exist_ok=True)
    lines = bundles.read_text(encoding="utf-8").splitlines(keepends=True)
    if sum(sizes) >= len(lines):
        raise SystemExit(f"bench: {bundles} has {len(lines)} bundles, too few to hold out {sum(sizes)}")
    (held / "first.ndjson").write_text("".join(lines[:-sum(sizes)]), encoding="utf-8")
    end = len(lines)
    for number, size in reversed(list(enumerate(sizes))):
        (held / f"small-{number}.ndjson").write_text("".join(lines[end - size:end]), encoding="utf-8")
        end -= size
    return held / "first.ndjson"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--no-reference", action="store_true", help="Skip bare Splink (halves the time).")
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--seconds", type=float, default=20, help="Load-test duration per endpoint.")
    args = parser.parse_args()
    work = (args.dir or get_settings().data_path / f"bench-{args.persons}").resolve()
    big = args.persons >= 500_000
    env = {**os.environ, "HOSO_DATA_DIR": str(work / "data"), "HOSO_LOG_LEVEL": "ERROR",
           "HOSO_NEO4J_HEAP": "3g" if big else "1g", "HOSO_NEO4J_PAGECACHE": "4g" if big else "1g"}
    env.pop("NEO4J_URI", None)
    hoso = [sys.executable, "-m", "api.cli"]
    table: list[tuple[str, float, str, str, str]] = []
    synth = work / "synth"
    if not (synth / "truth.csv").exists():
        _, seconds = run([*hoso, "synth", "--persons", str(args.persons), "--out", str(synth)], env, False)
        table.append(("synthesis", seconds, "s", "", ""))
    records = 0
    began = time.perf_counter()
    held = work / "small"
    for kind, paths, mapping in synthetic_inputs(synth):
        files = [str(p) for p in paths]
        if kind is SourceKind.FHIR:  # the last 1,001 bundles come later, as a batch of 1,000 and one of 1
            files = [str(hold_out(Path(paths[0]), held, SMALL_BATCHES))]
        extra = ["--mapping", str(mapping)] if mapping else []
        summary, _ = run([*hoso, "ingest", kind, *files, *extra, "--json"], env)
        records += summary["accepted"]
    ingest_seconds = time.perf_counter() - began
    table.append(("ingest, all sources", ingest_seconds, "s", "", ""))
    table.append(("ingest rate", records / ingest_seconds, "records/s", "", ""))
    run([*hoso, "neo4j", "start"], env, False)
    linked, _ = run([*hoso, "link", "--json"], env)
    seconds = linked["seconds"]
    linking = sum(seconds.get(k, 0) for k in ("standardise", "train", "score", "cluster"))
    table.append(("linking (standardise+train+score+cluster)", linking, "s", "< 300 s for 1M records", ""))
    load = sum(seconds.get(k, 0) for k in ("store", "import_files", "import_import", "import_schema", "load_facts",
                                            "golden"))
    counts, _ = run([sys.executable, "-c", "import json; from api.settings import get_settings; "
                     "from api.runtime import driver_for\nwith driver_for(get_settings()) as (d, db):\n"
                     " n = d.execute_query('MATCH (n) RETURN count(n) AS n').records[0]['n']\n"
                     " r = d.execute_query('MATCH ()-[r]->() RETURN count(r) AS n').records[0]['n']\n"
                     " print(json.dumps({'nodes': n, 'rels': r}))"], env)
    table.append(("graph: nodes + relationships", counts["nodes"] + counts["rels"], "", "", ""))
    imported = "import_import" in seconds
    how = "by neo4j-admin import (files+import+schema)" if imported else "through Bolt (store+facts+golden)"
    table.append((f"graph load {how}", load, "s", "", ""))
    table.append(("first load: linking + graph", linking + load, "s", "≤ 600 s", ""))
    table.append(("analytics projection rebuilt after the link run", seconds.get("analytics", 0), "s", "", ""))
    rate = (counts["nodes"] + counts["rels"]) / load
    reference, _ = run([sys.executable, "-m", "bench.graph_import", "--json"], env)
    tool_rate = (counts["nodes"] + counts["rels"]) / seconds["import_import"] if imported else reference["import_rate"]
    table.append(("graph load rate, the whole graph part", rate, "per s", "≥ 0.8× the import tool's",
                  f"{rate / tool_rate:.2f}× neo4j-admin import in the same run"))
    table.append(("neo4j-admin database import, same graph (exported and imported again)", reference["import_rate"],
                  "per s", "", ""))
    quality, _ = run([*hoso, "evaluate", "--truth", str(synth / "truth.csv"), "--json"], env)
    table += [("F1", quality["f1"], "", "≥ 0.99", ""),
              ("blocking recall", quality["blocking_recall"], "", "≥ 0.998", ""),
              ("review items / records", quality["review_items"] / max(records, 1), "", "< 0.02", ""),
              ("persons", quality["persons"], "", "", "")]
    if not args.no_reference:
        ref, _ = run([sys.executable, "-m", "bench.linkage", "--persons", str(args.persons), "--json"], env)
        table.append(("linking, reference run", ref["hoso linking total"], "s", "", ""))
        table.append(("bare Splink, same table and settings", ref["bare splink (train+predict+cluster)"], "s", "", ""))
        table.append(("linking / bare Splink", ref["ratio hoso/bare (same table)"], "x", "≤ 1.3", "bare Splink"))
    api, _ = run([sys.executable, "-m", "bench.api", "--seconds", str(args.seconds), "--json"], env)
    rows = {r["figure"]: r for r in api["rows"]}
    cypher = rows["profile: Cypher alone (1 client)"]
    profile = rows["GET /persons/{id} (50 clients)"]
    match = rows["POST /match (50 clients)"]
    table += [("profile read, Cypher alone p99", cypher["p99_ms"], "ms", "< 20 ms", ""),
              ("GET /persons/{id}, 50 clients, p99", profile["p99_ms"], "ms", "< 30 ms",
               f"{profile['p99_ms'] / max(cypher['p99_ms'], 0.001):.1f}× Cypher alone"),
              ("POST /match, 50 clients, p90", match["p90_ms"], "ms", "< 80 ms", ""),
              ("POST /match, 1 client, p90", rows["POST /match (1 client)"]["p90_ms"], "ms", "< 50 ms", "")]
    profile50, _ = run([sys.executable, "-m", "bench.profile", "--json"], env)
    table.append(("profile read, person with 50 records, p99", profile50["person with 50 records"]["p99_ms"], "ms",
                  "< 20 ms", ""))
    analytics, _ = run([sys.executable, "-m", "bench.analytics", "--json", "--repeat", "2", "--graph-reference"],
                       env)
    slowest = max(analytics["rows"], key=lambda r: r["seconds"])
    table.append(("slowest analysis (from the projection)", slowest["seconds"], "s", "< 2 s",
                  f"{slowest['analysis']} ({slowest['level']}); {slowest['graph_seconds']:.2f} s from the graph"))
    table.append(("analyses under 2 s", sum(r["seconds"] < 2 for r in analytics["rows"]), "",
                  f"all {len(analytics['rows'])}", ""))
    for number, size in enumerate(SMALL_BATCHES):
        run([*hoso, "ingest", "fhir", str(held / f"small-{number}.ndjson"), "--json"], env)
        small, wall, peak = run_measured([*hoso, "link", "--json"], env)
        steps = small["seconds"]
        inside = steps.get("total", sum(v for k, v in steps.items() if k != "total"))
        table.append((f"{size:,} new records linked end to end (hoso link)", wall, "s",
                      "≤ 10 s at 1M" if size > 1 else "≤ 1 s at 1M",
                      f"{inside:.2f} s in the process; link {steps.get('link', 0):.2f}, graph "
                      f"{steps.get('load_facts', 0) + steps.get('golden', 0):.2f}, analytics "
                      f"{steps.get('analytics', 0):.2f}"))
        table.append((f"{size:,} new records: peak memory", peak, "GB", "≤ 1 GB", ""))
    run([*hoso, "neo4j", "stop"], env, False)
    print(f"HoSo benchmark: {args.persons:,} persons, {records:,} records, {os.cpu_count()} cores, "
          f"{time.strftime('%Y-%m-%d')}")
    print(f"| {'figure':45} | {'value':>12} | {'unit':9} | {'target':22} | reference |")
    print(f"|{'-' * 47}|{'-' * 14}|{'-' * 11}|{'-' * 24}|-----------|")
    for name, value, unit, target, ref in table:
        text = f"{value:,.4f}" if isinstance(value, float) and value < 10 else f"{value:,.1f}"
        print(f"| {name:45} | {text:>12} | {unit:9} | {target:22} | {ref} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
