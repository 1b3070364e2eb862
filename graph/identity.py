"""The graph as the store of persons and links (implements `linkage.pipeline.LinkStore`).

Every write is `UNWIND $rows ... MERGE` in batches, keyed on ids only, so writing the same plan twice
changes nothing; batches are marked linked last, so an interrupted run is simply run again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import pandas as pd
from neo4j import Driver

from graph.queries import WRITERS, default_registry
from linkage import LinkPlan, Reviewed, birth_keys, with_name_keys

log = logging.getLogger(__name__)

BATCH = 5_000
RECORD_PROPS = [
    "source", "record_id", "batch_id", "name", "family_fold", "family_key", "middle_fold", "middle_last",
    "given_fold", "name_set", "placeholder_name", "birth_date", "birth_year", "birth_ym", "birth_dm_swap",
    "birth_precision", "sex",
    "personal_id", "pid_ok", "cmnd", "bhxh", "other_id", "other_system", "phone", "commune", "province",
    "address_key", "postcode", "household_code", "mother_pid",
]  # fmt: skip


def chunks(rows: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _clean(value: Any) -> Any:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def record_rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows for `identity/upsert_records`: the uid and the standardised identity properties."""
    rows = []
    for rec in table[["unique_id", *RECORD_PROPS]].to_dict("records"):
        props = {k: _clean(rec[k]) for k in RECORD_PROPS}
        rows.append({"uid": rec["unique_id"], "props": {k: v for k, v in props.items() if v is not None}})
    return rows


class GraphLinkStore:
    """Persons and links in Neo4j."""

    def __init__(self, driver: Driver, database: str = "neo4j", writers: int = WRITERS) -> None:
        self.driver = driver
        self.database = database
        self.writers = writers
        self.queries = default_registry()

    def _read(self, name: str, **params: Any) -> list[Any]:
        return self.queries.read(self.driver, name, database=self.database, **params)

    def _write(self, name: str, **params: Any) -> list[Any]:
        return self.queries.write(self.driver, name, database=self.database, **params)

    def linked_batches(self) -> set[str]:
        return {r["batch_id"] for r in self._read("identity/linked_batches")}

    def assignments(self, exclude_run: str | None = None) -> dict[str, str]:
        """Each record's MATCH person; `exclude_run` leaves out the automatic links a run of that id wrote
        (an attempt cut short: its re-run must plan from the state before it, as if it never started)."""
        return {r["uid"]: r["person_id"] for r in self._read("identity/match_assignments")
                if exclude_run is None or r["origin"] == "MANUAL" or r["run_id"] != exclude_run}

    def persons_of(self, uids: list[str], exclude_run: str | None = None) -> dict[str, str]:
        """Every record of the persons `uids` belong to, with its MATCH person (record uid -> person id);
        `exclude_run` as in `assignments`."""
        out: dict[str, str] = {}
        for part in chunks(uids, BATCH):
            out.update((r["uid"], r["person_id"]) for r in self._read("identity/persons_of_records", uids=list(part),
                                                                     exclude_run=exclude_run))
        return out

    def no_matches_of(self, uids: list[str]) -> list[tuple[str, str]]:
        """Reviewers' NO_MATCH decisions about `uids`: (record, person) pairs ruled out."""
        out: list[tuple[str, str]] = []
        for part in chunks(uids, BATCH):
            out.extend((r["uid"], r["person_id"]) for r in self._read("identity/no_matches_of_records",
                                                                     uids=list(part)))
        return out

    def scored_links(self) -> list[tuple[str, str, str, float]]:
        """Every automatic MATCH and POSSIBLE_MATCH link: (record uid, person, state, probability)."""
        return [(r["uid"], r["person_id"], r["state"], float(r["probability"]))
                for r in self._read("identity/scored_links")]

    def reviewed_match_pairs(self) -> list[tuple[str, str]]:
        """Pairs of records a reviewer put in one person: labelled matches to train on."""
        return [(r["uid_l"], r["uid_r"]) for r in self._read("identity/reviewed_match_pairs")]

    def reviewed(self) -> Reviewed:
        manual = {r["uid"]: r["person_id"] for r in self._read("identity/match_assignments")
                  if r["origin"] == "MANUAL"}
        no_matches = [(r["uid"], r["person_id"]) for r in self._read("identity/manual_no_matches")]
        not_dups = [(r["a"], r["b"]) for r in self._read("identity/not_duplicates")]
        return Reviewed(manual_matches=manual, no_matches=no_matches, not_duplicates=not_dups)

    def write(self, records: pd.DataFrame, plan: LinkPlan, model_version: str, run_id: str,
              batches: list[str], kind: str) -> None:
        def write(driver: Driver, name: str, rows: list[dict[str, Any]], database: str, **params: Any) -> None:
            self.queries.write_rows(driver, name, rows, database, writers=self.writers, **params)

        write(self.driver, "identity/upsert_records", record_rows(records), self.database)
        persons = sorted({link.person_id for link in plan.links} | set(plan.new_persons))
        write(self.driver, "identity/upsert_persons", [{"person_id": p} for p in persons], self.database)
        if kind == "relink":
            while self._write("identity/delete_auto_links", limit=BATCH)[0]["deleted"] >= BATCH:
                pass
            self._write("identity/clear_auto_duplicates")
        link_rows = [{"uid": link.uid, "person_id": link.person_id, "state": link.state,
                      "probability": link.probability, "match_weight": link.match_weight,
                      "weights": link.weights, "pair_uid": link.partner} for link in plan.links]
        # MATCH links first (all of them), so that a POSSIBLE_MATCH never lands before the MATCH it sits beside.
        for state_is_match in (True, False):
            part = [r for r in link_rows if (r["state"] == "MATCH") is state_is_match]
            write(self.driver, "identity/set_links", part, self.database, model_version=model_version, run_id=run_id)
        dup_rows = [{"a": a, "b": b, "probability": p, "weights": w} for a, b, p, w in plan.duplicates]
        write(self.driver, "identity/set_possible_duplicates", dup_rows, self.database, run_id=run_id)
        for retired, survivor in plan.retired:
            self._write("identity/retire_person", retired=retired, survivor=survivor,
                        reason=f"{kind} {run_id}: its records now belong to {survivor}")
        self._write("identity/record_run", run_id=run_id, kind=kind, model_version=model_version,
                    batches=batches, stats=json.dumps(plan.stats()))

    def counts(self) -> dict[str, int]:
        row = self._read("identity/person_counts")[0]
        return {"persons": row["persons"], "possible_matches": row["possible_matches"],
                "possible_duplicates": row["possible_duplicates"]}


def graph_candidates(driver: Driver, database: str = "neo4j", limit: int = 200) -> Any:
    """A candidate source for the real-time matcher: index lookups on the blocking keys."""
    queries = default_registry()
    keys = ("personal_id", "bhxh", "cmnd", "other_id", "phone", "family_key", "given_fold", "birth_year", "birth_date",
            "commune", "name_set")

    def candidates(row: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
        params = {k: _clean(row.get(k)) for k in keys}
        found = queries.read(driver, "matching/candidates", database=database, limit=limit, **params)[0]["found"]
        return [(_with_derived_keys(f["record"]), f["person_id"]) for f in found]

    return candidates


def graph_population(driver: Driver, database: str = "neo4j") -> int:
    """How many source records the graph holds: the population a real-time query is scored among."""
    return int(default_registry().read(driver, "matching/count_records", database=database)[0]["records"])


def _with_derived_keys(record: dict[str, Any]) -> dict[str, Any]:
    """A record as the model reads it: its names keyed (`linkage.standardize.table.name_key`: the graph
    keeps only the names and the sex); one written before the graph kept birth_ym and birth_dm_swap gets
    them from its full date of birth (a month-only date keeps no month there: linking its batch again
    stores it)."""
    if record.get("birth_ym") is None and record.get("birth_date"):
        record.update(birth_keys(date.fromisoformat(record["birth_date"]), "day"))
    return with_name_keys(record)
