"""The API under load: `GET /persons/{id}` and `POST /match` with concurrent clients over real HTTP
(driven by wrk), beside the Cypher query (and the matcher) alone.

    python -m bench.api [--clients 50] [--seconds 30] [--workers 2] [--think-ms 1000 250]

Runs against the graph and data directory of the current settings (`HOSO_DATA_DIR`): it starts
`hoso serve` as its own process, signs in a clinician of the province with the most persons (the
account is created for the benchmark), and drives it with wrk. Prints requests,
throughput and p50/p90/p99 latency of each endpoint, then the same reads done directly.

Two load shapes: closed loop (each client sends its next request the moment the last is answered:
the server's saturation throughput, where latency is queueing, 50 / throughput by Little's law) and
paced (each client thinks between requests, as a clinician's screen or a hospital system does).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from api.routes.persons import MatchRequest
from api.runtime import driver_for
from api.security import Role, add_user
from api.settings import get_settings
from graph.identity import graph_candidates, graph_population
from graph.persons import person_profile
from linkage.matching import ModelStore
from linkage.matching.realtime import RealtimeMatcher

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


@contextmanager
def served(workers: int, jobs_worker: bool) -> Iterator[str]:
    """`hoso serve` as a process of its own on a free port, once it answers `/ready`: its URL."""
    port = free_port()
    env = {**os.environ, "HOSO_JOBS_WORKER": "true" if jobs_worker else "false"}
    server = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port),  # as `hoso serve`
                               "--workers", str(workers), "--log-level", "warning"], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(30)


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


WRK_SCRIPT = r"""
-- Requests drawn at random from a file (paths for GET, JSON bodies for POST), one per line.
local lines = {}
for line in io.lines(os.getenv("HOSO_WRK_REQUESTS")) do lines[#lines + 1] = line end
local method = os.getenv("HOSO_WRK_METHOD")
local headers = {["Authorization"] = "Bearer " .. os.getenv("HOSO_WRK_TOKEN"), ["Content-Type"] = "application/json"}
-- Paced clients: each waits a think time (exponential, mean HOSO_WRK_THINK_MS) before its next request.
local think = tonumber(os.getenv("HOSO_WRK_THINK_MS") or "0")
if think > 0 then
  delay = function() return math.floor(-math.log(1 - math.random()) * think) end
end
local threads = 0
setup = function(thread) threads = threads + 1; thread:set("id", threads) end
init = function(args) math.randomseed(os.time() * 1000 + (tonumber(wrk.thread:get("id")) or 0)) end
request = function()
  local line = lines[math.random(#lines)]
  if method == "GET" then return wrk.format("GET", line, headers) end
  return wrk.format("POST", os.getenv("HOSO_WRK_PATH"), headers, line)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('HOSO {"requests": %d, "duration_us": %d, "errors": %d, "p50_us": %d, "p90_us": %d, ' ..
                         '"p99_us": %d, "error_kinds": {"status": %d, "connect": %d, "read": %d, "write": %d, ' ..
                         '"timeout": %d}}\n', summary.requests, summary.duration,
                         e.status + e.connect + e.read + e.write + e.timeout,
                         latency:percentile(50), latency:percentile(90), latency:percentile(99),
                         e.status, e.connect, e.read, e.write, e.timeout))
end
"""


def load(url: str, token: str, clients: int, seconds: float, method: str, path: str, lines: list[str],
         name: str, think_ms: float = 0) -> str:
    """Drive the server with `wrk` (a C load generator: `clients` open connections, each sending its
    next request as soon as the last is answered, or after a think time of `think_ms` on average)
    and record the figures as one row."""
    if shutil.which("wrk") is None:
        raise SystemExit("bench.api needs wrk, the HTTP load generator (Debian package wrk; .ci/system-deps)")
    with tempfile.TemporaryDirectory() as tmp:
        script, requests = Path(tmp) / "hoso.lua", Path(tmp) / "requests.txt"
        script.write_text(WRK_SCRIPT)
        requests.write_text("\n".join(lines) + "\n")
        env = {**os.environ, "HOSO_WRK_REQUESTS": str(requests), "HOSO_WRK_METHOD": method,
               "HOSO_WRK_PATH": path, "HOSO_WRK_TOKEN": token, "HOSO_WRK_THINK_MS": str(think_ms)}
        out = subprocess.run(["wrk", "-t", str(min(2, clients)), "-c", str(clients), "-d", f"{seconds:.0f}s",
                              "--timeout", "30s", "-s", str(script), url], env=env, capture_output=True, text=True,
                             check=False)
    if out.returncode != 0 or "HOSO " not in out.stdout:
        raise SystemExit(f"wrk failed ({out.returncode}): {out.stdout[-400:]} {out.stderr[-400:]}")
    marked = next(line for line in out.stdout.splitlines() if line.startswith("HOSO "))
    figures = json.loads(marked.removeprefix("HOSO "))
    duration = figures["duration_us"] / 1e6
    ok = figures["requests"] - figures["errors"]
    RESULTS.append({"figure": name, "requests": ok, "per_second": round(ok / duration, 1),
                    "p50_ms": round(figures["p50_us"] / 1000, 1), "p90_ms": round(figures["p90_us"] / 1000, 1),
                    "p99_ms": round(figures["p99_us"] / 1000, 1), "errors": figures["errors"],
                    "error_kinds": {k: v for k, v in figures["error_kinds"].items() if v}})
    r = RESULTS[-1]
    return (f"{name:38} {ok:8d} {r['per_second']:9.1f} {r['p50_ms']:8.1f} {r['p90_ms']:8.1f} {r['p99_ms']:8.1f} "
            f"{r['errors']:7d}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--think-ms", type=float, nargs="*", default=[1000, 250],
                        help="Also run the clients paced: each waits this long on average between requests "
                             "(50 clients at 1000 ms offer ~50 requests/s; at 250 ms ~200).")
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
        matcher = RealtimeMatcher(ModelStore(settings.data_path).current(), graph_candidates(driver, database),
                                  population=graph_population(driver, database))
        lookups, matches = [], []
        for body in demographics[:300]:
            fields = MatchRequest(**body).fields()
            began = time.perf_counter()
            matcher.candidates(matcher.standardise(fields))
            lookups.append(time.perf_counter() - began)
            began = time.perf_counter()
            matcher.match(fields)
            matches.append(time.perf_counter() - began)
    with served(args.workers, jobs_worker=False) as url:
        token = httpx.post(f"{url}/auth/token", data={"username": "bench-clinician",
                                                     "password": "bench password"}).json()["access_token"]
        print(f"persons {persons:,}; province {province}; {args.clients} clients; {args.workers} API workers; "
              f"{args.seconds:.0f} s per endpoint")
        print(f"{'figure':38} {'requests':>8} {'per s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'errors':>7}")
        print(row("profile: Cypher alone (1 client)", direct, sum(direct)))
        paths = [f"/persons/{person_id}" for person_id in ids]
        bodies = [json.dumps(d, ensure_ascii=False) for d in demographics]
        for label, method, path, lines in (("GET /persons/{id}", "GET", "", paths),
                                           ("POST /match", "POST", "/match", bodies)):
            print(load(url, token, args.clients, args.seconds, method, path, lines,
                       f"{label} ({args.clients} clients)"))
            print(load(url, token, 1, min(args.seconds, 10), method, path, lines, f"{label} (1 client)"))
            for think in args.think_ms:
                print(load(url, token, args.clients, args.seconds, method, path, lines,
                           f"{label} ({args.clients} clients, {think:.0f} ms think)", think))
        print(row("match: candidate Cypher alone (1 client)", lookups, sum(lookups)))
        print(row("match: matcher alone (1 client)", matches, sum(matches)))
        print(f"(median profile Cypher alone {statistics.median(direct) * 1000:.1f} ms)")
        if args.json:
            print(json.dumps({"persons": persons, "clients": args.clients, "rows": RESULTS}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
