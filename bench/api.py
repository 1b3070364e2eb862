"""The API under load: `GET /persons/{id}` and `POST /match` with concurrent clients over real HTTP,
beside the Cypher query (and the matcher) alone.

    python -m bench.api [--clients 50] [--seconds 30] [--workers 2]

Runs against the graph and data directory of the current settings (`HOSO_DATA_DIR`): it starts
`hoso serve` as its own process, signs in a clinician of the province with the most persons (the
account is created for the benchmark), and drives it with an asyncio HTTP client. Prints requests,
throughput and p50/p90/p99 latency of each endpoint, then the same reads done directly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from typing import Any

import httpx

from api.runtime import driver_for
from api.security import Role, add_user
from api.settings import get_settings
from graph.persons import person_profile

SAMPLE = 2_000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


RESULTS: list[dict[str, Any]] = []


def row(name: str, latencies: list[float], seconds: float, errors: int = 0) -> str:
    ms = [v * 1000 for v in latencies]
    RESULTS.append({"figure": name, "requests": len(ms), "per_second": round(len(ms) / seconds, 1),
                    "p50_ms": round(percentile(ms, .5), 1), "p90_ms": round(percentile(ms, .9), 1),
                    "p99_ms": round(percentile(ms, .99), 1), "errors": errors})
    return (f"{name:38} {len(ms):8d} {len(ms) / seconds:9.1f} {percentile(ms, .5):8.1f} {percentile(ms, .9):8.1f} "
            f"{percentile(ms, .99):8.1f} {errors:7d}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fixtures() -> tuple[str, list[str], list[dict[str, Any]]]:
    """A province, persons of it, and demographics of some of their records for /match."""
    settings = get_settings()
    with driver_for(settings) as (driver, database):
        province = driver.execute_query(
            "MATCH (p:Person {status: 'active'}) WHERE p.province IS NOT NULL "
            "RETURN p.province AS province, count(*) AS n ORDER BY n DESC LIMIT 1", database_=database
        ).records[0]["province"]
        ids = [r["id"] for r in driver.execute_query(
            "MATCH (p:Person {status: 'active', province: $province}) RETURN p.person_id AS id LIMIT $n",
            {"province": province, "n": SAMPLE * 5}, database_=database).records]
        random.Random(1).shuffle(ids)
        people = driver.execute_query(
            "MATCH (p:Person {status: 'active', province: $province}) WHERE p.birth_date IS NOT NULL "
            "RETURN p.name AS name, p.birth_date AS birth_date, p.sex AS sex, p.phone AS phone, "
            "p.commune AS commune LIMIT $n", {"province": province, "n": SAMPLE}, database_=database).records
        add_user(driver, "bench-clinician", "bench password", Role.CLINICIAN, facility="bench", province=province)
    demographics = [{k: v for k, v in r.data().items() if v is not None} for r in people]
    return province, ids[:SAMPLE], demographics


async def drive(url: str, token: str, clients: int, seconds: float, make: Any) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"}, limits=limits,
                                 timeout=30) as client:
        async def worker(n: int) -> None:
            nonlocal errors
            rng = random.Random(n)
            while time.perf_counter() < deadline:
                method, path, body = make(rng)
                began = time.perf_counter()
                answer = await client.request(method, path, json=body)
                elapsed = time.perf_counter() - began
                if answer.status_code == 200:
                    latencies.append(elapsed)
                else:
                    errors += 1

        await asyncio.gather(*(worker(n) for n in range(clients)))
    return latencies, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="Print one JSON object at the end.")
    args = parser.parse_args()
    province, ids, demographics = fixtures()
    settings = get_settings()
    with driver_for(settings) as (driver, database):
        persons = driver.execute_query("MATCH (p:Person {status: 'active'}) RETURN count(p) AS n",
                                       database_=database).records[0]["n"]
        direct = []
        for person_id in ids[:500]:
            began = time.perf_counter()
            person_profile(driver, person_id, database)
            direct.append(time.perf_counter() - began)
    port = free_port()
    env = {**os.environ, "HOSO_JOBS_WORKER": "false"}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--port", str(port),
                               "--workers", str(args.workers), "--log-level", "warning"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        token = httpx.post(f"{url}/auth/token", data={"username": "bench-clinician",
                                                     "password": "bench password"}).json()["access_token"]
        print(f"persons {persons:,}; province {province}; {args.clients} clients; {args.workers} API workers; "
              f"{args.seconds:.0f} s per endpoint")
        print(f"{'figure':38} {'requests':>8} {'per s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'errors':>7}")
        print(row("profile: Cypher alone (1 client)", direct, sum(direct)))
        profile, errors = asyncio.run(drive(url, token, args.clients, args.seconds,
                                            lambda rng: ("GET", f"/persons/{rng.choice(ids)}", None)))
        print(row(f"GET /persons/{{id}} ({args.clients} clients)", profile, args.seconds, errors))
        single, errors = asyncio.run(drive(url, token, 1, min(args.seconds, 10),
                                           lambda rng: ("GET", f"/persons/{rng.choice(ids)}", None)))
        print(row("GET /persons/{id} (1 client)", single, min(args.seconds, 10), errors))
        match, errors = asyncio.run(drive(url, token, args.clients, args.seconds,
                                          lambda rng: ("POST", "/match", rng.choice(demographics))))
        print(row(f"POST /match ({args.clients} clients)", match, args.seconds, errors))
        single, errors = asyncio.run(drive(url, token, 1, min(args.seconds, 10),
                                           lambda rng: ("POST", "/match", rng.choice(demographics))))
        print(row("POST /match (1 client)", single, min(args.seconds, 10), errors))
        print(f"(median profile Cypher alone {statistics.median(direct) * 1000:.1f} ms)")
        if args.json:
            print(json.dumps({"persons": persons, "clients": args.clients, "rows": RESULTS}))
    finally:
        server.terminate()
        server.wait(30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
