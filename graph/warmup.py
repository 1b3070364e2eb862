"""Warm a Neo4j that has just started up on the work a link does, so that the first batch after a
restart costs what the next ones do.

After a start, a batch of 1,000 records at a million persons took 18.6 s in HoSo's process where the
next batch, of other persons, took 7.6: the server's Java code (the Cypher planner, the runtime's
operators, the transaction machinery) runs interpreted until the JVM has compiled it, and every query
is planned afresh. Planning alone (`EXPLAIN`) left 11 s; only work on real rows warms the runtime.
Community Neo4j has no warm-up of its own (the page cache's is Enterprise's), so HoSo runs one: a
sample of linked records and their persons, read by the queries a link reads them with and written
back unchanged (and a few made-up records created and linked) by the queries a link writes with, each
write in a transaction that is rolled back. The graph is left as it was; the query plans (cached by
query text and parameter types) and the compiled code stay. Every query a link of a batch runs is in
it, the small ones too (a first plan costs 0.1-0.4 s however few rows it reads), and the managed server
plans a query once whatever the length of its lists (`internal.cypher.use_parameter_size`, see
`graph.server`): the sample's thousand rows warm the plan that one possible match or 5,000 visits use.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from neo4j import Driver, Transaction
from neo4j.exceptions import DriverError, Neo4jError

from graph.load import disease_row
from graph.queries import default_registry

log = logging.getLogger(__name__)

SAMPLE = 1_000  # records: the size of batch the ten-second target names
ROUNDS = 3  # the JVM compiles a method after it has run many times: one pass leaves set_links at 5× its warm cost
TIMEOUT = 30.0  # seconds a warm-up transaction may take before the server ends it
# Queries a link runs that only read, with the sample they read (records' uids or persons' ids).
_READS_BY_RECORD = ("identity/persons_of_records", "identity/no_matches_of_records")
_READS_BY_PERSON = ("persons/records_for_golden", *(f"analytics/export/{part}" for part in (
    "persons", "memberships", "encounters", "chronic", "risk_factors", "immunizations", "addresses")))
_READS: dict[str, dict[str, Any]] = {
    "migrations/list_applied": {}, "system/count_written_labels": {}, "system/feed_last_value": {},
    "identity/linked_batches": {}, "identity/person_counts": {}, "persons/dirty_ids": {},
    "feed/after": {"after": 0, "limit": SAMPLE, "province": None}, "feed/last": {},
    "load/reference_loaded": {}, "load/loaded_batches": {}, "analytics/disease_count": {},
    "system/await_indexes": {"seconds": 20},  # indexes still populating: the warm-up stops, the server is up
    "analytics/touched": {"batches": [""]}}  # no such batch: its plan, not a batch's persons
_READS_BY_FACILITY = ("analytics/export/facilities", "analytics/export/facility_days")
_FACTS = ("encounters", "immunizations", "observations", "conditions")  # `load/<kind>`, from `system/warm_up_facts`
_MADE_UP = "hoso-warm-up-"  # the uid and person id prefix of the records the warm-up creates (rolled back)


@dataclass
class WarmUp:
    """What a warm-up did: the linked records it sampled, its rounds and how long each query took (seconds,
    summed over the rounds)."""

    records: int = 0
    rounds: int = 0
    seconds: float = 0.0
    queries: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        return (f"warmed up on {self.records:,} records in {self.seconds:.1f} s "
                f"({self.rounds} rounds of {len(self.queries)} queries, every write rolled back)")


def warm_up(driver: Driver, database: str = "neo4j", sample: int = SAMPLE, rounds: int = ROUNDS) -> WarmUp:
    """Run the link's reads and writes on `sample` linked records of the graph, `rounds` times, rolling
    every write back; an empty graph warms the plans only. Reads nothing into HoSo beyond the sample."""
    registry = default_registry()
    began = time.perf_counter()
    done = WarmUp(rounds=rounds)
    with driver.session(database=database, bookmark_manager=None) as session:
        @contextmanager
        def rolled_back(name: str) -> Iterator[Transaction]:
            t = time.perf_counter()
            tx = session.begin_transaction(timeout=TIMEOUT)
            try:
                yield tx
            finally:
                tx.rollback()
                done.queries[name] = done.queries.get(name, 0.0) + time.perf_counter() - t

        with rolled_back("system/warm_up_sample") as tx:
            rows = registry.run(tx, "system/warm_up_sample", limit=sample)
            facts = registry.run(tx, "system/warm_up_facts", limit=sample)[0]
        done.records = len(rows)
        uids = [row["uid"] for row in rows]
        ids = sorted({row["person_id"] for row in rows})
        records = [{"uid": row["uid"], "props": {k: v for k, v in row["record"].items() if k != "uid"}}
                   for row in rows]
        persons = {row["person_id"]: {k: v for k, v in row["person"].items() if k != "person_id"} for row in rows}
        links = [{"uid": row["uid"], "person_id": row["person_id"], "state": "MATCH",
                  "probability": row["probability"], "match_weight": row["match_weight"],
                  "weights": row["weights"], "pair_uid": row["pair_uid"]} for row in rows]
        made_up = [{"uid": f"{_MADE_UP}{n}", "props": row["props"]} for n, row in enumerate(records)]
        facilities = sorted({f for kind in ("encounters", "immunizations") for row in facts[kind]
                             if (f := row["facility"]) is not None})
        codes = sorted({d["code"] for row in facts["encounters"] for d in row["diagnoses"] if d["code"]}
                       | {row["icd10"] for row in facts["conditions"] if row["icd10"]})
        # Written back as they are: a facility's and a vaccine's missing fields keep the graph's values.
        reference: dict[str, list[dict[str, Any]]] = {
            "load/facilities": [{"code": f, "name": None, "fallback_name": None, "level": None, "ownership": None,
                                 "unit_uid": None} for f in facilities],
            "load/vaccines": [{"code": v, "name": None} for v in sorted({row["vaccine"]
                                                                         for row in facts["immunizations"]})],
            "load/diseases": [row for code in codes if (row := disease_row(code)) is not None],
            "load/record_details": records}
        duplicates = [{"a": a, "b": b, "probability": 0.5, "weights": None}
                      for a, b in zip(ids[::2], ids[1::2], strict=False)]
        batch = f"{_MADE_UP}batch"
        for _ in range(rounds):
            for name, params in _READS.items():
                with rolled_back(name) as tx:
                    registry.run(tx, name, **params)
            for name in _READS_BY_RECORD:
                with rolled_back(name) as tx:
                    registry.run(tx, name, uids=uids, **({"exclude_run": ""} if "persons_of" in name else {}))
            for name in _READS_BY_PERSON:
                with rolled_back(name) as tx:
                    registry.run(tx, name, ids=ids)
            for name in _READS_BY_FACILITY:  # one facility: its days are read from all its visits
                with rolled_back(name) as tx:
                    registry.run(tx, name, facilities=facilities[:1])
            # Each write as a link runs it (the first statement of its transaction), on the records as they are.
            with rolled_back("identity/upsert_records") as tx:
                registry.run(tx, "identity/upsert_records", rows=records)
            with rolled_back("identity/set_links") as tx:
                registry.run(tx, "identity/set_links", rows=links, model_version="warm-up", run_id="warm-up")
            with rolled_back("persons/set_golden") as tx:
                registry.run(tx, "persons/set_golden", rows=[{"person_id": k, "props": v} for k, v in persons.items()])
            for name in ("persons/derive_households", "persons/derive_parents"):
                with rolled_back(name) as tx:
                    registry.run(tx, name, ids=ids)
            for kind in _FACTS:
                with rolled_back(f"load/{kind}") as tx:
                    registry.run(tx, f"load/{kind}", rows=facts[kind])
            for name, written in reference.items():
                with rolled_back(name) as tx:
                    registry.run(tx, name, rows=written)
            with rolled_back("identity/set_possible_duplicates") as tx:
                registry.run(tx, "identity/set_possible_duplicates", run_id="warm-up", rows=duplicates)
            with rolled_back("load/mark_batch_loaded") as tx:
                registry.run(tx, "load/mark_batch_loaded", batch_id=batch, counts="{}")
            with rolled_back("identity/record_run") as tx:
                registry.run(tx, "identity/record_run", run_id="warm-up", kind="link", model_version="warm-up",
                             batches=[batch], stats="{}")
            # New records and a new person, linked, their change-feed events numbered: what a batch creates.
            with rolled_back("new records linked") as tx:
                registry.run(tx, "identity/upsert_records", rows=made_up)
                registry.run(tx, "identity/upsert_persons", rows=[{"person_id": f"{_MADE_UP}person"}])
                registry.run(tx, "identity/set_links", model_version="warm-up", run_id="warm-up", rows=[
                    link | {"uid": new["uid"]} for link, new in zip(links, made_up, strict=True)])
                registry.sequence_feed(tx)
    done.seconds = time.perf_counter() - began
    log.info("%s", done.summary())
    return done


def warm_up_if_possible(driver: Driver, database: str = "neo4j") -> WarmUp | None:
    """`warm_up` after a start that HoSo made (a restart, an import, a backup): the work that restarted
    the server is done, so a warm-up the server stops is logged, never raised."""
    try:
        return warm_up(driver, database)
    except (Neo4jError, DriverError) as exc:
        log.warning("the warm-up stopped (%s): the server is up, its first batch will be slower", exc)
        return None
