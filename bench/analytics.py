"""Each analysis and the statistical report, timed on the data of the current settings.

    python -m bench.analytics [--period 2025] [--repeat 3] [--graph-reference] [--json]

Runs every catalogued analysis at the national level and for the province with the most persons,
then the statistical report, from the analytics projection (built first when there is none), and
prints the best of `--repeat` runs of each with the number of rows. `--graph-reference` also times
each once straight from the graph (the same code with the `GraphReader`; its first run also warms
Neo4j's page cache) and checks that both give the same rows.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import pandas as pd

from analytics.base import GraphReader
from analytics.projection import ProjectionReader, read_info, reader_for, refresh
from analytics.reports import CATALOGUE, run_analysis, statistical_report
from analytics.scope import Scope, parse_period, resolve_scope
from api.runtime import driver_for
from api.settings import get_settings


def _best(repeat: int, work: Callable[[], pd.DataFrame]) -> tuple[float, pd.DataFrame]:
    best, frame = float("inf"), pd.DataFrame()
    for _ in range(repeat):
        began = time.perf_counter()
        frame = work()
        best = min(best, time.perf_counter() - began)
    return best, frame


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--period", default="2025")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--graph-reference", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    period = parse_period(args.period)
    settings = get_settings()
    rows: list[dict[str, object]] = []
    with driver_for(settings) as (driver, database):
        built = None
        if read_info(settings.data_path) is None:
            built = refresh(driver, database, settings.data_path)
        info = read_info(settings.data_path)
        assert info is not None
        projected = reader_for(driver, database, settings.data_path, "projection")
        assert isinstance(projected, ProjectionReader)
        graph = GraphReader(driver, database)
        persons = info.rows["persons"]
        population = projected.frame("population", None, province=None, communes=None)
        province = str(population.groupby("province")["persons"].sum().idxmax())
        for level, unit in (("national", None), ("province", province)):
            scope = resolve_scope(driver, database, level, unit)
            for name in [*CATALOGUE, "statistical report"]:
                def work(reader: GraphReader, name: str = name, scope: Scope = scope) -> pd.DataFrame:
                    return (statistical_report(reader, scope, period) if name == "statistical report"
                            else run_analysis(reader, name, scope, period))
                seconds, frame = _best(args.repeat, lambda: work(projected))
                row: dict[str, object] = {"analysis": name, "level": level, "seconds": round(seconds, 3),
                                          "rows": len(frame)}
                if args.graph_reference:
                    graph_seconds, live = _best(1, lambda: work(graph))
                    row["graph_seconds"] = round(graph_seconds, 3)
                    row["same_rows"] = len(live) == len(frame)
                rows.append(row)
    refresh_seconds = built.seconds if built else info.seconds
    if args.json:
        print(json.dumps({"persons": persons, "refresh_seconds": refresh_seconds, "as_of": info.as_of,
                          "rows": rows}))
        return 0
    print(f"analytics on {persons:,} persons, period {period.label}, projection of {info.as_of} "
          f"(built in {refresh_seconds:.1f} s), best of {args.repeat}")
    print(f"{'analysis':28} {'level':9} {'seconds':>8} {'graph s':>8} {'rows':>6}")
    for row in rows:
        graph_text = f"{row['graph_seconds']:8.3f}" if "graph_seconds" in row else f"{'':8}"
        print(f"{row['analysis']:28} {row['level']:9} {row['seconds']:8.3f} {graph_text} {row['rows']:6}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
