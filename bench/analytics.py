"""Each analysis and the statistical report, timed on the graph of the current settings.

    python -m bench.analytics [--period 2025] [--repeat 3] [--json]

Runs every catalogued analysis at the national level and for the province with the most persons,
then the statistical report, and prints the best of `--repeat` runs of each (the first run also
warms Neo4j's page cache), with the number of rows.
"""

from __future__ import annotations

import argparse
import json
import time

from analytics.base import GraphReader
from analytics.reports import CATALOGUE, run_analysis, statistical_report
from analytics.scope import parse_period, resolve_scope
from api.runtime import driver_for
from api.settings import get_settings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--period", default="2025")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    period = parse_period(args.period)
    rows: list[dict[str, object]] = []
    with driver_for(get_settings()) as (driver, database):
        reader = GraphReader(driver, database)
        persons = driver.execute_query("MATCH (p:Person {status: 'active'}) RETURN count(p) AS n",
                                       database_=database).records[0]["n"]
        province = driver.execute_query(
            "MATCH (p:Person {status: 'active'}) WHERE p.province IS NOT NULL RETURN p.province AS p, count(*) AS n "
            "ORDER BY n DESC LIMIT 1", database_=database).records[0]["p"]
        for level, unit in (("national", None), ("province", province)):
            scope = resolve_scope(driver, database, level, unit)
            for name in [*CATALOGUE, "statistical report"]:
                best, count = float("inf"), 0
                for _ in range(args.repeat):
                    began = time.perf_counter()
                    count = len(statistical_report(reader, scope, period) if name == "statistical report"
                                else run_analysis(reader, name, scope, period))
                    best = min(best, time.perf_counter() - began)
                rows.append({"analysis": name, "level": level, "seconds": round(best, 3), "rows": count})
    if args.json:
        print(json.dumps({"persons": persons, "rows": rows}))
        return 0
    print(f"analytics on {persons:,} persons, period {period.label} (best of {args.repeat})")
    print(f"{'analysis':28} {'level':9} {'seconds':>8} {'rows':>6}")
    for row in rows:
        print(f"{row['analysis']:28} {row['level']:9} {row['seconds']:8.3f} {row['rows']:6}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
