"""A citizen's self-report end to end: from the portal's POST to the record linked, in the graph and in the
analytics projection.

    python -m bench.self_report [--reports 6] [--json]

Runs against the graph and data directory of the current settings (`HOSO_DATA_DIR`, Neo4j started): it
starts `hoso serve` as its own process (one API worker, the job worker on), creates a citizen account for
each of `--reports` persons with a personal id (accounts of the benchmark, `bench-citizen-N`), and for each
signs in, sends `POST /persons/{id}/self-reports` (a smoker's report) and waits until the job that ingests
and links it is done. Prints the wall time of each report (the POST sent to the job done), the first
apart (the server's first link loads the model and warms its caches), and the median and the largest of
the others. A report's seconds are what the citizen's record costs: ingesting it, linking it against
the population, writing the graph, the golden record and the analytics projection.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import httpx

from api.jobs import JobState, JobStore
from api.runtime import driver_for
from api.security import Role, add_user
from api.settings import get_settings
from bench.api import served

PASSWORD = "bench citizen password"  # an account of the benchmark's own


def citizens(count: int) -> list[tuple[str, str]]:
    """(account, person id) for `count` active persons with a personal id, each given a citizen account."""
    settings = get_settings()
    with driver_for(settings) as (driver, database):
        ids = [r["id"] for r in driver.execute_query(
            "MATCH (p:Person {status: 'active'}) WHERE p.personal_id IS NOT NULL "
            "RETURN p.person_id AS id LIMIT $n", {"n": count}, database_=database).records]
        if len(ids) < count:
            raise SystemExit(f"bench: {len(ids)} persons with a personal id, {count} asked for")
        accounts = []
        for n, person_id in enumerate(ids):
            add_user(driver, f"bench-citizen-{n}", PASSWORD, Role.CITIZEN, person_id=person_id, database=database)
            accounts.append((f"bench-citizen-{n}", person_id))
    return accounts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=6)
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for one report's job")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.reports < 2:
        raise SystemExit("bench: --reports must be 2 or more (the first is reported apart)")
    settings = get_settings()
    accounts = citizens(args.reports)
    jobs = JobStore(settings.data_path)
    seconds: list[float] = []
    with served(1, jobs_worker=True) as url:
        for username, person_id in accounts:
            token = httpx.post(f"{url}/auth/token", data={"username": username, "password": PASSWORD}
                               ).json()["access_token"]
            began = time.perf_counter()
            answer = httpx.post(f"{url}/persons/{person_id}/self-reports", json={"smoking": True},
                                headers={"Authorization": f"Bearer {token}"}, timeout=30)
            if answer.status_code != 202:
                raise SystemExit(f"bench: self-report of {person_id} answered {answer.status_code}: {answer.text}")
            job_id = answer.json()["job_id"]
            while True:
                job = jobs.get(job_id)
                if job.state.final:
                    break
                if time.perf_counter() - began > args.timeout:
                    raise SystemExit(f"bench: job {job_id} not done after {args.timeout:.0f} s ({job.state.value})")
                time.sleep(0.01)
            if job.state is not JobState.DONE or job.linked != 1:
                raise SystemExit(f"bench: job {job_id} ended {job.state.value}, {job.linked} linked: {job.error}")
            seconds.append(time.perf_counter() - began)
    warm = seconds[1:]
    result = {"reports": len(seconds), "first": round(seconds[0], 2), "median": round(statistics.median(warm), 2),
              "max": round(max(warm), 2), "each": [round(s, 2) for s in seconds]}
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"self-reports end to end (POST to job done), {len(seconds)} reports: first {result['first']} s, "
          f"then median {result['median']} s, largest {result['max']} s; each: {result['each']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
