"""Profile reads of a person with 50 source records, on the graph of the current settings.

    python -m bench.profile [--reads 2000] [--json]

Gives one person (the first active person of the most populous province) 50 source records in all
by writing extra hospital records with one visit each through HoSo's own loaders (records, MATCH
links, encounters; the records are marked `bench` and removed at the end), then times
`graph.persons.person_profile` for that person and for random ordinary persons.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import UTC, datetime, timedelta

from api.runtime import driver_for
from api.settings import get_settings
from graph.persons import person_profile
from graph.queries import default_registry

TARGET_RECORDS = 50


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reads", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    queries = default_registry()
    with driver_for(get_settings()) as (driver, database):
        person = driver.execute_query(
            "MATCH (p:Person {status: 'active'})<-[:LINKED_TO {state: 'MATCH'}]-(r) "
            "WITH p, count(r) AS n WHERE n >= 2 RETURN p.person_id AS id, n LIMIT 1", database_=database).records[0]
        extra = TARGET_RECORDS - person["n"]
        base = datetime(2025, 1, 1, tzinfo=UTC)
        uids = [f"bench|{person['id']}-{i}" for i in range(extra)]
        queries.write(driver, "identity/upsert_records", database=database,
                      rows=[{"uid": uid, "props": {"source": "bench", "record_id": uid.split("|")[1]}} for uid in uids])
        queries.write(driver, "identity/set_links", database=database, model_version="bench", run_id="bench",
                      rows=[{"uid": uid, "person_id": person["id"], "state": "MATCH", "probability": 1.0,
                             "match_weight": 20.0, "weights": "{}"} for uid in uids])
        queries.write(driver, "load/encounters", database=database, rows=[
            {"uid": uid, "key": f"{uid}|e", "encounter_id": "e", "facility": None, "visit_type": "outpatient",
             "admitted_at": (base + timedelta(days=i)).isoformat(), "discharged_at": None, "outcome": "recovered",
             "reason": None, "diagnoses": [{"code": "J06.9", "role": "main"}]} for i, uid in enumerate(uids)])
        try:
            profile = person_profile(driver, person["id"], database)
            assert len(profile["records"]) == TARGET_RECORDS, len(profile["records"])
            others = [r["id"] for r in driver.execute_query(
                "MATCH (p:Person {status: 'active'}) RETURN p.person_id AS id LIMIT 20000", database_=database).records]
            rng = random.Random(3)
            results = {}
            for name, pick in (("person with 50 records", lambda: person["id"]),
                               ("random person", lambda: rng.choice(others))):
                timings = []
                for _ in range(args.reads):
                    began = time.perf_counter()
                    person_profile(driver, pick(), database)
                    timings.append((time.perf_counter() - began) * 1000)
                results[name] = {"p50_ms": round(percentile(timings, .5), 2),
                                 "p99_ms": round(percentile(timings, .99), 2)}
            persons = driver.execute_query("MATCH (p:Person {status: 'active'}) RETURN count(p) AS n",
                                           database_=database).records[0]["n"]
        finally:
            driver.execute_query("MATCH (r:SourceRecord {source: 'bench'}) OPTIONAL MATCH (r)-[:HAD_ENCOUNTER]->(e) "
                                 "DETACH DELETE r, e", database_=database)
    if args.json:
        print(json.dumps({"persons": persons, **results}))
    else:
        print(f"profile reads on {persons:,} persons, {args.reads} reads each")
        for name, figures in results.items():
            print(f"{name:24} p50 {figures['p50_ms']:6.2f} ms  p99 {figures['p99_ms']:6.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
