"""The reference for graph loading: `neo4j-admin database import full` of the same graph.

    python -m bench.graph_import [--json]

Exports the graph of the current settings (every node with its labels and properties, every
relationship with its type and properties) to CSV, imports it offline into a scratch database of the
managed server's home with neo4j-admin, and prints nodes + relationships per second. The scratch
database is deleted afterwards. Values keep their types (`graph.bulk.neo4j_type`).
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from api.runtime import driver_for, managed_server
from api.settings import get_settings
from graph import plain
from graph.bulk import neo4j_type

SCRATCH = "benchimport"


def _kind(value: Any) -> str:
    return neo4j_type(value) or "string[]"  # the one value neo4j_type leaves out here: an empty list


def _text(value: Any) -> str:
    if value is None:
        return ""
    value = plain(value)
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def export(driver: Any, database: str, folder: Path) -> tuple[list[Path], list[Path], int, int]:
    """Nodes grouped by label set and relationships by type, each group one CSV with a typed header,
    written as the graph streams out (constant memory)."""
    counts = {"nodes": 0, "rels": 0}
    files: dict[str, list[Path]] = {"nodes": [], "rels": []}
    with driver.session(database=database) as session:
        for what, schema_query, stream_query in (
            ("nodes",
             "MATCH (n) WITH labels(n) AS labels, keys(n) AS ks, n UNWIND ks AS k "
             "WITH reduce(s = '', l IN labels | s + ';' + l) AS group, k, min(n[k]) AS v "
             "RETURN group, {value: v} AS wrapped, k AS key",
             "MATCH (n) RETURN reduce(s = '', l IN labels(n) | s + ';' + l) AS group, elementId(n) AS id, "
             "properties(n) AS props"),
            ("rels",
             "MATCH ()-[r]->() WITH type(r) AS group, keys(r) AS ks, r UNWIND ks AS k "
             "WITH group, k, min(r[k]) AS v RETURN group, {value: v} AS wrapped, k AS key",
             "MATCH (a)-[r]->(b) RETURN type(r) AS group, elementId(a) AS a, elementId(b) AS b, "
             "properties(r) AS props"),
        ):
            kinds: dict[str, dict[str, str]] = {}
            for record in session.run(schema_query):
                kinds.setdefault(record["group"], {})[record["key"]] = _kind(record["wrapped"]["value"])
            writers: dict[str, tuple[Any, Any, list[str]]] = {}
            try:
                for record in session.run(stream_query):
                    group = record["group"]
                    if group not in writers:
                        path = folder / f"{what}-{len(writers)}.csv"
                        handle = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed below
                        names = sorted(kinds.get(group, {}))
                        out = csv.writer(handle)
                        head = [":ID", ":LABEL"] if what == "nodes" else [":START_ID", ":END_ID", ":TYPE"]
                        out.writerow([*head, *(f"{n}:{kinds[group][n]}" for n in names)])
                        writers[group] = (handle, out, names)
                        files[what].append(path)
                    _, out, names = writers[group]
                    props = record["props"]
                    lead = [record["id"], group.strip(";")] if what == "nodes" else [record["a"], record["b"], group]
                    out.writerow([*lead, *(_text(props.get(n)) for n in names)])
                    counts[what] += 1
            finally:
                for handle, _, _ in writers.values():
                    handle.close()
    return files["nodes"], files["rels"], counts["nodes"], counts["rels"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    settings = get_settings()
    server = managed_server(settings)
    with tempfile.TemporaryDirectory(dir=settings.data_path) as tmp, driver_for(settings) as (driver, database):
        began = time.perf_counter()
        node_files, rel_files, nodes, rels = export(driver, database, Path(tmp))
        exported = time.perf_counter() - began
        began = time.perf_counter()
        server.admin("database", "import", "full", SCRATCH, "--overwrite-destination=true",
                     "--array-delimiter=;", "--skip-bad-relationships=false",
                     f"--report-file={Path(tmp) / 'import.report'}",  # not the working directory
                     *(f"--nodes={p}" for p in node_files), *(f"--relationships={p}" for p in rel_files))
        imported = time.perf_counter() - began
    for folder in (server.home / "data" / "databases" / SCRATCH, server.home / "data" / "transactions" / SCRATCH):
        shutil.rmtree(folder, ignore_errors=True)
    result = {"nodes": nodes, "relationships": rels, "export_seconds": round(exported, 1),
              "import_seconds": round(imported, 1), "import_rate": round((nodes + rels) / imported)}
    if args.json:
        print(json.dumps(result))
    else:
        print(f"neo4j-admin import: {nodes:,} nodes + {rels:,} relationships in {imported:.1f} s = "
              f"{result['import_rate']:,} per s (export to CSV took {exported:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
